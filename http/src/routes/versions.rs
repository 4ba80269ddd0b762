//! A workflow's version history and rolling back to an earlier version (which records a new
//! version with the old definition, so history is never rewritten).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::WorkflowVersion;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::workflows::{WorkflowBody, WorkflowPath};
use crate::audit;
use crate::auth::{Principal, Writer};
use crate::extract::ApiPath;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// One recorded version of a workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionBody {
    /// Version number, from 1.
    pub version: u32,
    /// The definition at that version.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Why (rollbacks name the version they restored).
    pub note: String,
}

impl From<WorkflowVersion> for VersionBody {
    fn from(v: WorkflowVersion) -> Self {
        VersionBody {
            version: v.version,
            definition: v.definition,
            created_by: v.created_by,
            created_at: v.created_at,
            note: v.note,
        }
    }
}

/// Path of one version.
#[derive(Debug, Deserialize)]
pub struct VersionPath {
    /// Workflow id.
    pub id: String,
    /// Version number.
    pub version: u32,
}

/// All versions of a workflow, oldest first.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/versions", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The versions, oldest first", body = Vec<VersionBody>),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<Json<Vec<VersionBody>>, ApiError> {
    let versions = state
        .catalog
        .list_workflow_versions(&principal.tenant_id, &path.id)
        .await?;
    Ok(Json(versions.into_iter().map(VersionBody::from).collect()))
}

/// One version of a workflow.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/versions/{version}", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id"),
           ("version" = u32, Path, description = "Version number", minimum = 1)),
    responses(
        (status = 200, description = "The version", body = VersionBody),
        (status = 404, description = "No such workflow or version in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<VersionPath>,
) -> Result<Json<VersionBody>, ApiError> {
    let version = state
        .catalog
        .get_workflow_version(&principal.tenant_id, &path.id, path.version)
        .await?;
    Ok(Json(version.into()))
}

/// Restores an earlier version's definition as a new version.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/versions/{version}/rollback", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id"),
           ("version" = u32, Path, description = "Version to restore", minimum = 1)),
    responses(
        (status = 200, description = "The workflow at its new version", body = WorkflowBody),
        (status = 403, description = "Viewers cannot roll back", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow or version in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn rollback(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<VersionPath>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let workflow = state
        .catalog
        .rollback_workflow(
            &principal.tenant_id,
            &path.id,
            path.version,
            &principal.user_id,
        )
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.rollback",
        "workflow",
        &workflow.id,
        json!({"restored_version": path.version, "version": workflow.current_version}),
    )
    .await?;
    Ok(Json(workflow.into()))
}
