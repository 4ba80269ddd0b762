//! User and API-key roles, and the permissions each one grants.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// What a user or API key may do inside its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users, keys, entitlements and everything an analyst can do.
    Admin,
    /// Builds and publishes workflows and queries market tables directly.
    Analyst,
    /// Reads published workflow views and dashboards only.
    Viewer,
}

impl Role {
    /// Whether this role may create, edit, publish or delete workflows.
    pub fn can_write_workflows(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// Whether this role may query the raw serving tables (`fct_trades`, ...) rather than
    /// only published workflow views.
    pub fn can_read_market_tables(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// Whether this role may administer the tenant (users, API keys, entitlements).
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    /// The lowercase name stored in the catalog and shown in APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "viewer" => Ok(Role::Viewer),
            other => Err(CatalogError::InvalidInput(format!(
                "unknown role `{other}` (expected admin, analyst or viewer)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_the_role_ladder() {
        assert!(Role::Admin.can_write_workflows() && Role::Admin.is_admin());
        assert!(Role::Analyst.can_write_workflows() && !Role::Analyst.is_admin());
        assert!(Role::Analyst.can_read_market_tables());
        assert!(!Role::Viewer.can_write_workflows());
        assert!(!Role::Viewer.can_read_market_tables());
        assert!(!Role::Viewer.is_admin());
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_rejected() {
        for role in [Role::Admin, Role::Analyst, Role::Viewer] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!(matches!(
            "root".parse::<Role>(),
            Err(CatalogError::InvalidInput(_))
        ));
    }
}
