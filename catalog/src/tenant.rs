//! Tenants and their users: who can log in, into which tenant, with which role.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Role, ScramVerifier};

/// An isolated customer of FlowForge; every other row belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    /// UUID.
    pub id: String,
    /// Short stable handle such as `tenant-a`.
    pub slug: String,
    /// Display name such as `Tenant A Capital`.
    pub name: String,
    /// When the tenant was created.
    pub created_at: DateTime<Utc>,
}

/// A person who logs in with email and password (HTTP) or email and SCRAM (pgwire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// UUID.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Login name, unique across all tenants, stored lowercased.
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// Input for creating a user. The password is hashed before storage and never kept.
#[derive(Clone)]
pub struct NewUser {
    /// Owning tenant (must exist).
    pub tenant_id: String,
    /// Login email; normalised to lowercase.
    pub email: String,
    /// Role granted.
    pub role: Role,
    /// Plain-text password, at least [`crate::MIN_PASSWORD_LEN`] characters.
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A user together with the stored one-way forms of their password, for authentication code.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
    /// SCRAM-SHA-256 verifier for pgwire.
    pub scram: ScramVerifier,
}
