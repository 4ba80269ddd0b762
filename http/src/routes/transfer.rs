//! Export and import: a workflow as a portable JSON document. Importing creates a new
//! workflow with a new id and new node ids (edges rewired by the engine's model), so an
//! import never collides with the workflow it came from, even in the same tenant.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{CatalogError, NewWorkflow};
use flowforge_engine::compile;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::workflows::{WorkflowBody, WorkflowPath};
use crate::audit;
use crate::auth::{Principal, Writer};
use crate::definition::{self, RegistryTables};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The export document format this server writes and reads.
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// What kind of document an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ExportKind {
    /// A single workflow.
    #[serde(rename = "flowforge.workflow")]
    Workflow,
}

/// A portable workflow document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowExport {
    /// Always `flowforge.workflow`.
    pub kind: ExportKind,
    /// Document format version; this server reads and writes 1.
    #[serde(deserialize_with = "crate::lenient::u32")]
    #[schema(minimum = 1, maximum = 1)]
    pub format_version: u32,
    /// When it was exported.
    #[serde(default)]
    pub exported_at: Option<DateTime<Utc>>,
    /// The workflow.
    pub workflow: ExportedWorkflow,
}

/// The workflow inside an export document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportedWorkflow {
    /// Id in the source installation (informational; imports get a new one).
    #[serde(default)]
    pub source_id: Option<String>,
    /// Version exported (informational).
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    pub source_version: Option<u32>,
    /// Display name.
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: String,
    /// Preferred SQL view name; a free variant is chosen on import when it is taken.
    #[serde(default)]
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,62}$")]
    pub view_name: Option<String>,
    /// Free-text description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: String,
    /// The node graph.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
}

/// The outcome of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedBody {
    /// The new workflow.
    pub workflow: WorkflowBody,
    /// Old node id → new node id.
    pub node_ids: BTreeMap<String, String>,
}

/// Exports a workflow as a portable document.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/export", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The export document", body = WorkflowExport),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<Json<WorkflowExport>, ApiError> {
    let stored = state
        .catalog
        .get_workflow(&principal.tenant_id, &path.id)
        .await?;
    // Normalized like every saved definition; a definition the engine cannot read is exported
    // as stored so nothing is lost.
    let definition = definition::parse(stored.definition.clone())
        .map(|w| w.to_value())
        .unwrap_or(stored.definition);
    audit::record(
        &state,
        &principal,
        "workflow.export",
        "workflow",
        &stored.id,
        json!({"version": stored.current_version}),
    )
    .await?;
    Ok(Json(WorkflowExport {
        kind: ExportKind::Workflow,
        format_version: EXPORT_FORMAT_VERSION,
        exported_at: Some(Utc::now()),
        workflow: ExportedWorkflow {
            source_id: Some(stored.id),
            source_version: Some(stored.current_version),
            name: stored.name,
            view_name: Some(stored.view_name),
            description: stored.description,
            definition,
        },
    }))
}

/// Imports an export document as a new workflow with new workflow and node ids.
#[utoipa::path(post, path = "/api/v1/workflows/import", tag = "workflows",
    request_body = WorkflowExport,
    responses(
        (status = 201, description = "Imported", body = ImportedBody),
        (status = 403, description = "Viewers cannot import", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No free view name could be found", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unsupported format version, invalid name, or a definition that does not compile", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiJson(document): ApiJson<WorkflowExport>,
) -> Result<(StatusCode, Json<ImportedBody>), ApiError> {
    if document.format_version != EXPORT_FORMAT_VERSION {
        return Err(ApiError::InvalidInput(format!(
            "export format_version {} is not supported (this server reads {EXPORT_FORMAT_VERSION})",
            document.format_version
        )));
    }
    let source = document.workflow;
    let workflow = definition::parse(source.definition)?;
    let tables = RegistryTables::load(state.catalog.as_ref()).await?;
    compile::validate(&workflow, &tables)?;
    let (fresh, node_ids) = workflow.with_fresh_node_ids();
    let preferred = match source.view_name {
        Some(v) => {
            flowforge_catalog::validate_view_name(&v)?;
            v
        }
        None => flowforge_catalog::derive_view_name(&source.name)?,
    };
    let view_name = free_view_name(&state, &principal.tenant_id, &preferred).await?;
    let created = state
        .catalog
        .create_workflow(NewWorkflow {
            tenant_id: principal.tenant_id.clone(),
            name: source.name,
            view_name: Some(view_name),
            description: source.description,
            definition: fresh.to_value(),
            created_by: principal.user_id.clone(),
        })
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.import",
        "workflow",
        &created.id,
        json!({"source_id": source.source_id, "view_name": created.view_name}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportedBody {
            workflow: created.into(),
            node_ids,
        }),
    ))
}

/// `preferred`, or `preferred_2`, `preferred_3`, ... whichever is free in the tenant.
async fn free_view_name(
    state: &AppState,
    tenant_id: &str,
    preferred: &str,
) -> Result<String, ApiError> {
    const ATTEMPTS: usize = 100;
    for n in 1..=ATTEMPTS {
        let candidate = if n == 1 {
            preferred.to_string()
        } else {
            let suffix = format!("_{n}");
            let keep = flowforge_catalog::view_name::MAX_VIEW_NAME_LEN.saturating_sub(suffix.len());
            let base: String = preferred.chars().take(keep).collect();
            format!("{base}{suffix}")
        };
        match state
            .catalog
            .get_workflow_by_view_name(tenant_id, &candidate)
            .await
        {
            Err(CatalogError::NotFound { .. }) => return Ok(candidate),
            Ok(_) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict(format!(
        "view name `{preferred}` and its next {ATTEMPTS} variants are taken"
    )))
}
