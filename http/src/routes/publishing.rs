//! Publishing: a published workflow's outputs are SQL views for the tenant's pgwire sessions
//! (opened from the catalog's published set); unpublishing removes them for new sessions.

use axum::extract::State;
use axum::Json;
use flowforge_engine::views::workflow_views;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::workflows::{WorkflowBody, WorkflowPath};
use crate::audit;
use crate::auth::Writer;
use crate::definition::{self, RegistryTables};
use crate::extract::ApiPath;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A published workflow and the views SQL clients now query.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedBody {
    /// The workflow.
    pub workflow: WorkflowBody,
    /// View names, one per output node.
    pub views: Vec<String>,
}

/// Publishes a workflow as SQL views.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/publish", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "Published; the views SQL clients see", body = PublishedBody),
        (status = 403, description = "Viewers cannot publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The workflow does not compile into views", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<Json<PublishedBody>, ApiError> {
    let stored = state
        .catalog
        .get_workflow(&principal.tenant_id, &path.id)
        .await?;
    let workflow = definition::parse(stored.definition.clone())?;
    let tables = RegistryTables::load(state.catalog.as_ref()).await?;
    let views = workflow_views(
        &workflow,
        &stored.view_name,
        Some(&stored.description),
        &tables,
    )?;
    let views: Vec<String> = views.into_iter().map(|v| v.name).collect();
    let published = state
        .catalog
        .set_workflow_published(&principal.tenant_id, &path.id, true)
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.publish",
        "workflow",
        &published.id,
        json!({"views": views, "version": published.current_version}),
    )
    .await?;
    Ok(Json(PublishedBody {
        workflow: published.into(),
        views,
    }))
}

/// Withdraws a workflow's views.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/unpublish", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "Unpublished", body = WorkflowBody),
        (status = 403, description = "Viewers cannot unpublish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn unpublish(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let workflow = state
        .catalog
        .set_workflow_published(&principal.tenant_id, &path.id, false)
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.unpublish",
        "workflow",
        &workflow.id,
        json!({"view_name": workflow.view_name}),
    )
    .await?;
    Ok(Json(workflow.into()))
}
