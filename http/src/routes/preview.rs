//! Canvas previews: a node's first rows, content-addressed and cached for five minutes.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use flowforge_engine::node_query::{preview_key, NodeResult};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::extract::ApiObject;
use crate::node_source;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Default rows of a preview.
const DEFAULT_LIMIT: usize = 100;

/// What to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// A saved workflow of your tenant (give this or `definition`).
    #[serde(default)]
    pub workflow_id: Option<String>,
    /// A draft definition from the canvas (analysts and admins); canvas-only keys such as
    /// `selected` or `measured` are ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    /// The node whose output to show.
    pub node_id: String,
    /// Rows to skip.
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    pub offset: Option<u32>,
    /// Rows wanted (default 100, at most 1000).
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    #[schema(minimum = 0, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Whether the preview came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Served from the cache.
    Hit,
    /// Run now (and cached for five minutes).
    Miss,
}

/// A node's rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewBody {
    /// Output columns: `name` and PostgreSQL `type`.
    #[schema(value_type = Vec<Object>)]
    pub columns: Vec<flowforge_engine::node_query::ResultColumn>,
    /// Rows as arrays in column order.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<Value>>,
    /// Whether more rows exist past this page.
    pub truncated: bool,
    /// `hit` or `miss`.
    pub cache: CacheOutcome,
    /// The content address of this preview.
    pub key: String,
}

fn body(result: &NodeResult, cache: CacheOutcome, key: String) -> PreviewBody {
    PreviewBody {
        columns: result.columns.clone(),
        rows: result.rows.clone(),
        truncated: result.truncated,
        cache,
        key,
    }
}

/// Previews a node of a saved or draft workflow.
#[utoipa::path(post, path = "/api/v1/preview", tag = "execution",
    request_body = PreviewRequest,
    responses(
        (status = 200, description = "The node's rows and whether they came from the cache", body = PreviewBody),
        (status = 400, description = "A body that is not a JSON object of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Viewers cannot preview drafts", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workflow in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The result is larger than 100 MB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither or both of workflow_id and definition, an invalid workflow or node, or more than 1000 rows asked for", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The query took longer than 3 seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    principal: Principal,
    ApiObject(request): ApiObject<PreviewRequest>,
) -> Result<Json<PreviewBody>, ApiError> {
    let limit = request.limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    let offset = request.offset.unwrap_or(0) as usize;
    let queries = &state.queries;
    if limit > queries.limits.max_rows {
        return Err(ApiError::RowLimitExceeded(format!(
            "limit {limit} exceeds the maximum of {} rows",
            queries.limits.max_rows
        )));
    }
    let source =
        node_source::resolve(&state, &principal, request.workflow_id, request.definition).await?;
    let mut entitlements = principal.entitlements.clone();
    entitlements.sort();
    let scope = format!("{}\n{}", principal.tenant_id, entitlements.join(","));
    let key = preview_key(&scope, &source.raw, &request.node_id, offset, limit)?;
    if let Some((found, _)) = queries.previews.get(&key).await {
        return Ok(Json(body(&found, CacheOutcome::Hit, key)));
    }
    let result = queries
        .run(
            &principal,
            &source.workflow,
            &request.node_id,
            Vec::new(),
            offset,
            Some(limit),
        )
        .await?;
    let result = Arc::new(result);
    queries.previews.insert(&key, Arc::clone(&result)).await;
    Ok(Json(body(&result, CacheOutcome::Miss, key)))
}
