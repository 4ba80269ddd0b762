//! Recording changes in the catalog's audit log: who (actor and tenant) did what to which
//! resource; the catalog stamps the time.

use flowforge_catalog::NewAuditEntry;
use serde_json::Value;

use crate::auth::Principal;
use crate::problem::ApiError;
use crate::state::AppState;

/// Appends an audit entry for an action `principal` just performed. `detail` is merged with
/// the actor's email and authentication method.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    action: &str,
    resource_type: &str,
    resource_id: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let mut detail = match detail {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("value".to_string(), other)]),
    };
    detail.insert("actor_email".into(), Value::String(principal.email.clone()));
    detail.insert(
        "auth_method".into(),
        serde_json::to_value(principal.method).unwrap_or(Value::Null),
    );
    state
        .catalog
        .append_audit(NewAuditEntry {
            tenant_id: principal.tenant_id.clone(),
            actor: principal.user_id.clone(),
            action: action.to_string(),
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            detail: Value::Object(detail),
        })
        .await?;
    Ok(())
}
