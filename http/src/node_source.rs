//! Where a preview or execution finds its workflow: a saved workflow of the caller's tenant, or
//! a draft definition straight from the canvas (analysts and admins only, since a draft may
//! read any serving table the tenant is entitled to).

use flowforge_engine::node_query::strip_ui_fields;
use flowforge_engine::workflow::Workflow;
use serde_json::Value;

use crate::auth::Principal;
use crate::definition;
use crate::problem::ApiError;
use crate::state::AppState;

/// The workflow to run, its raw definition (for content addressing) and its saved id.
pub struct Source {
    /// The parsed workflow.
    pub workflow: Workflow,
    /// The definition as given or stored.
    pub raw: Value,
    /// The saved workflow's id, when it is one.
    pub workflow_id: Option<String>,
}

/// Reads the workflow named by exactly one of `workflow_id` and `definition`.
pub async fn resolve(
    state: &AppState,
    principal: &Principal,
    workflow_id: Option<String>,
    definition: Option<Value>,
) -> Result<Source, ApiError> {
    match (workflow_id, definition) {
        (Some(id), None) => {
            let stored = state
                .catalog
                .get_workflow(&principal.tenant_id, &id)
                .await?;
            let workflow = definition::parse(stored.definition.clone())?;
            Ok(Source {
                workflow,
                raw: stored.definition,
                workflow_id: Some(id),
            })
        }
        (None, Some(raw)) => {
            principal.require_writer()?;
            let workflow = definition::parse(strip_ui_fields(&raw))?;
            Ok(Source {
                workflow,
                raw,
                workflow_id: None,
            })
        }
        (Some(_), Some(_)) => Err(ApiError::InvalidInput(
            "give either `workflow_id` or `definition`, not both".into(),
        )),
        (None, None) => Err(ApiError::InvalidInput(
            "give `workflow_id` (a saved workflow) or `definition` (a draft)".into(),
        )),
    }
}
