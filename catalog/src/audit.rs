//! The audit log: an append-only record of who changed what in a tenant.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Largest number of entries one audit query returns.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// UUID.
    pub id: String,
    /// Tenant the action happened in.
    pub tenant_id: String,
    /// User id or API key id that acted.
    pub actor: String,
    /// What happened, e.g. `workflow.publish`.
    pub action: String,
    /// Kind of thing acted on, e.g. `workflow`.
    pub resource_type: String,
    /// Id of the thing acted on.
    pub resource_id: String,
    /// Extra structured context.
    pub detail: Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Input for appending an audit entry; id and timestamp are assigned by the store.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// Tenant the action happened in (must exist).
    pub tenant_id: String,
    /// User id or API key id that acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Kind of thing acted on.
    pub resource_type: String,
    /// Id of the thing acted on.
    pub resource_id: String,
    /// Extra structured context.
    pub detail: Value,
}
