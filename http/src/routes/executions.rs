//! Subgraph runs: `POST` accepts a run of some nodes of a saved or draft workflow and answers
//! at once (202); the nodes run in the background through the node-query path and
//! `GET /api/v1/executions/{id}` reports progress, row counts and errors.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Principal;
use crate::executions::{Execution, ExecutionStatus};
use crate::extract::{ApiObject, ApiPath};
use crate::node_source;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Most nodes one run may ask for.
const MAX_NODES: usize = 100;

/// What to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExecution {
    /// A saved workflow of your tenant (give this or `definition`).
    #[serde(default)]
    pub workflow_id: Option<String>,
    /// A draft definition (analysts and admins).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    /// Nodes to run (1-100); each runs with its upstream subgraph.
    #[schema(min_items = 1, max_items = 100)]
    pub node_ids: Vec<String>,
}

/// Path of a single execution.
#[derive(Debug, Deserialize)]
pub struct ExecutionPath {
    /// Execution id.
    pub id: String,
}

/// Starts a background run of some nodes.
#[utoipa::path(post, path = "/api/v1/executions", tag = "execution",
    request_body = CreateExecution,
    responses(
        (status = 202, description = "Accepted; poll GET /api/v1/executions/{id}", body = Execution),
        (status = 400, description = "A body that is not a JSON object of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Viewers cannot run drafts", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither or both of workflow_id and definition, no nodes, too many, or a node not in the workflow", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiObject(body): ApiObject<CreateExecution>,
) -> Result<(StatusCode, Json<Execution>), ApiError> {
    if body.node_ids.is_empty() || body.node_ids.len() > MAX_NODES {
        return Err(ApiError::InvalidInput(format!(
            "give between 1 and {MAX_NODES} node ids"
        )));
    }
    let source =
        node_source::resolve(&state, &principal, body.workflow_id, body.definition).await?;
    if let Some(missing) = body
        .node_ids
        .iter()
        .find(|id| source.workflow.node(id).is_none())
    {
        return Err(ApiError::InvalidInput(format!(
            "node '{missing}' does not exist in the workflow"
        )));
    }
    let queued = state
        .queries
        .executions
        .queue(
            &principal.tenant_id,
            source.workflow_id.clone(),
            &body.node_ids,
        )
        .await;
    let id = queued.id.clone();
    audit::record(
        &state,
        &principal,
        "execution.create",
        "execution",
        &id,
        json!({"workflow_id": source.workflow_id, "node_ids": body.node_ids}),
    )
    .await?;
    let workflow = Arc::new(source.workflow);
    let task_state = state.clone();
    tokio::spawn(async move {
        let queries = &task_state.queries;
        queries
            .executions
            .update(&id, |run| {
                run.status = ExecutionStatus::Running;
                run.started_at = Some(Utc::now());
            })
            .await;
        let mut failed = false;
        for (index, node_id) in body.node_ids.iter().enumerate() {
            queries
                .executions
                .update(&id, |run| {
                    run.nodes[index].status = ExecutionStatus::Running;
                })
                .await;
            let outcome = queries
                .run(&principal, &workflow, node_id, Vec::new(), 0, None)
                .await;
            failed |= outcome.is_err();
            queries
                .executions
                .update(&id, move |run| {
                    let node = &mut run.nodes[index];
                    match outcome {
                        Ok(result) => {
                            node.status = ExecutionStatus::Succeeded;
                            node.row_count = Some(result.rows.len());
                            node.truncated = Some(result.truncated);
                        }
                        Err(error) => {
                            node.status = ExecutionStatus::Failed;
                            node.error_code = Some(error.code().to_string());
                            node.error = Some(error.problem().detail);
                        }
                    }
                })
                .await;
        }
        queries
            .executions
            .update(&id, |run| {
                run.status = if failed {
                    ExecutionStatus::Failed
                } else {
                    ExecutionStatus::Succeeded
                };
                run.finished_at = Some(Utc::now());
            })
            .await;
    });
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// A run's status and per-node outcomes.
#[utoipa::path(get, path = "/api/v1/executions/{id}", tag = "execution",
    params(("id" = String, Path, description = "Execution id")),
    responses(
        (status = 200, description = "The run", body = Execution),
        (status = 404, description = "No such run in your tenant (runs are kept for an hour)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<ExecutionPath>,
) -> Result<Json<Execution>, ApiError> {
    state
        .queries
        .executions
        .get(&principal.tenant_id, &path.id)
        .await
        .map(Json)
        .ok_or(ApiError::NotFound {
            kind: "execution",
            id: path.id,
        })
}
