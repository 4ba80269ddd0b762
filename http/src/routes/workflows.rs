//! Workflow CRUD: list (paged), get, create, update (each accepted update is a new version),
//! delete. Definitions are validated by the engine before they are stored.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{NewWorkflow, Workflow, WorkflowUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{Principal, Writer};
use crate::definition;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::{self, PageInfo, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A workflow with its definition.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowBody {
    /// Id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// SQL name of the published view.
    pub view_name: String,
    /// Free-text description.
    pub description: String,
    /// The node graph.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
    /// Latest version number (from 1).
    pub current_version: u32,
    /// Whether SQL clients see it as a view.
    pub published: bool,
    /// Creator's user id.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change (including publish/unpublish).
    pub updated_at: DateTime<Utc>,
}

impl From<Workflow> for WorkflowBody {
    fn from(w: Workflow) -> Self {
        WorkflowBody {
            id: w.id,
            name: w.name,
            view_name: w.view_name,
            description: w.description,
            definition: w.definition,
            current_version: w.current_version,
            published: w.published,
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A workflow in a list (without its definition).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowSummary {
    /// Id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// SQL name of the published view.
    pub view_name: String,
    /// Free-text description.
    pub description: String,
    /// Latest version number.
    pub current_version: u32,
    /// Whether SQL clients see it as a view.
    pub published: bool,
    /// Creator's user id.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Workflow> for WorkflowSummary {
    fn from(w: Workflow) -> Self {
        WorkflowSummary {
            id: w.id,
            name: w.name,
            view_name: w.view_name,
            description: w.description,
            current_version: w.current_version,
            published: w.published,
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// One page of the tenant's workflows, ordered by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowPage {
    /// The workflows of this page.
    pub items: Vec<WorkflowSummary>,
    /// Where the page sits.
    #[serde(flatten)]
    pub page: PageInfo,
}

/// A new workflow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflow {
    /// Display name (1-200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: String,
    /// SQL view name; derived from the name when absent.
    #[serde(default)]
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,62}$")]
    pub view_name: Option<String>,
    /// Free-text description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: String,
    /// The node graph; it must compile.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
}

/// Changes to a workflow; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflow {
    /// New display name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: Option<String>,
    /// New SQL view name.
    #[serde(default)]
    #[schema(pattern = r"^[a-z][a-z0-9_]{0,62}$")]
    pub view_name: Option<String>,
    /// New description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// New node graph; it must compile.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::WorkflowDefinition>)]
    pub definition: Option<Value>,
    /// Version note, e.g. "added VWAP column".
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
    /// Refuse (409) unless the workflow is still at this version.
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    pub expected_version: Option<u32>,
}

/// Path of a single workflow.
#[derive(Debug, Deserialize)]
pub struct WorkflowPath {
    /// Workflow id.
    pub id: String,
}

/// Lists the tenant's workflows.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of workflows", body = WorkflowPage),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<WorkflowPage>, ApiError> {
    let page = query.page()?;
    let all = state.catalog.list_workflows(&principal.tenant_id).await?;
    let (items, page) = pagination::slice(all, page);
    Ok(Json(WorkflowPage {
        items: items.into_iter().map(WorkflowSummary::from).collect(),
        page,
    }))
}

/// Creates a workflow (version 1, unpublished).
#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows",
    request_body = CreateWorkflow,
    responses(
        (status = 201, description = "Created", body = WorkflowBody),
        (status = 403, description = "Viewers cannot create workflows", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The view name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or a definition that does not compile (errors by node and field)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiJson(body): ApiJson<CreateWorkflow>,
) -> Result<(StatusCode, Json<WorkflowBody>), ApiError> {
    if let Some(view_name) = &body.view_name {
        flowforge_catalog::validate_view_name(view_name)?;
    }
    let (_, definition) = definition::validated(state.catalog.as_ref(), body.definition).await?;
    let workflow = state
        .catalog
        .create_workflow(NewWorkflow {
            tenant_id: principal.tenant_id.clone(),
            name: body.name,
            view_name: body.view_name,
            description: body.description,
            definition,
            created_by: principal.user_id.clone(),
        })
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.create",
        "workflow",
        &workflow.id,
        json!({"name": workflow.name, "view_name": workflow.view_name}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(workflow.into())))
}

/// One workflow with its definition.
#[utoipa::path(get, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 200, description = "The workflow", body = WorkflowBody),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<Json<WorkflowBody>, ApiError> {
    let workflow = state
        .catalog
        .get_workflow(&principal.tenant_id, &path.id)
        .await?;
    Ok(Json(workflow.into()))
}

/// Changes a workflow; every accepted change is recorded as a new version.
#[utoipa::path(patch, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    request_body = UpdateWorkflow,
    responses(
        (status = 200, description = "The workflow at its new version", body = WorkflowBody),
        (status = 403, description = "Viewers cannot change workflows", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "expected_version is stale, or the view name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing to change, an invalid value, or a definition that does not compile", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WorkflowPath>,
    ApiJson(body): ApiJson<UpdateWorkflow>,
) -> Result<Json<WorkflowBody>, ApiError> {
    // 404 before 422: another tenant's id must not reveal whether the definition was valid.
    state
        .catalog
        .get_workflow(&principal.tenant_id, &path.id)
        .await?;
    if let Some(view_name) = &body.view_name {
        flowforge_catalog::validate_view_name(view_name)?;
    }
    let definition = match body.definition {
        Some(d) => Some(definition::validated(state.catalog.as_ref(), d).await?.1),
        None => None,
    };
    let changed: Vec<&str> = [
        ("name", body.name.is_some()),
        ("view_name", body.view_name.is_some()),
        ("description", body.description.is_some()),
        ("definition", definition.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    let workflow = state
        .catalog
        .update_workflow(
            &principal.tenant_id,
            &path.id,
            WorkflowUpdate {
                name: body.name,
                view_name: body.view_name,
                description: body.description,
                definition,
                updated_by: principal.user_id.clone(),
                note: body.note,
                expected_version: body.expected_version,
            },
        )
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.update",
        "workflow",
        &workflow.id,
        json!({"version": workflow.current_version, "changed": changed}),
    )
    .await?;
    Ok(Json(workflow.into()))
}

/// Deletes a workflow and its versions (widgets pointing at it show an error state).
#[utoipa::path(delete, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path, description = "Workflow id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Viewers cannot delete workflows", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WorkflowPath>,
) -> Result<StatusCode, ApiError> {
    let workflow = state
        .catalog
        .get_workflow(&principal.tenant_id, &path.id)
        .await?;
    state
        .catalog
        .delete_workflow(&principal.tenant_id, &path.id)
        .await?;
    audit::record(
        &state,
        &principal,
        "workflow.delete",
        "workflow",
        &path.id,
        json!({"name": workflow.name, "view_name": workflow.view_name}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
