//! The audit log (admin only): the tenant's most recent recorded changes.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{AuditEntry, MAX_AUDIT_PAGE};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Admin;
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Entries returned when no limit is given.
pub const DEFAULT_AUDIT_LIMIT: usize = 100;

/// One recorded action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryBody {
    /// Id (UUID).
    pub id: String,
    /// User or key id that acted.
    pub actor: String,
    /// What happened, e.g. `workflow.publish`.
    pub action: String,
    /// Kind of resource, e.g. `workflow`.
    pub resource_type: String,
    /// Its id.
    pub resource_id: String,
    /// Context (actor email, versions, names).
    #[schema(value_type = Object)]
    pub detail: Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        AuditEntryBody {
            id: e.id,
            actor: e.actor,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            detail: e.detail,
            at: e.at,
        }
    }
}

/// How many entries to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Newest entries to return, 1-1000. [default: 100]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The tenant's most recent audit entries, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Newest first", body = Vec<AuditEntryBody>),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntryBody>>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_AUDIT_LIMIT);
    if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query_parameter",
            format!("limit must be between 1 and {MAX_AUDIT_PAGE}"),
        ));
    }
    let entries = state
        .catalog
        .list_audit(&principal.tenant_id, limit)
        .await?;
    Ok(Json(
        entries.into_iter().map(AuditEntryBody::from).collect(),
    ))
}
