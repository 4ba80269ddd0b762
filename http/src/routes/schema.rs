//! Schema browsing and propagation for the canvas: the serving tables (from the catalog's
//! registry, with columns from the engine), and per-node output schemas of a draft workflow.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use flowforge_catalog::{Backend, Freshness};
use flowforge_engine::compile::propagate_schemas;
use flowforge_engine::serving_tables::serving_table;
use flowforge_engine::{Column, ColumnType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::definition::{self, RegistryTables};
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem, ProblemIssue};
use crate::state::AppState;

/// A serving table a Data Source node can read.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableBody {
    /// Table name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Backend serving it.
    #[schema(value_type = String, example = "embedded")]
    pub backend: Backend,
    /// Freshness class.
    #[schema(value_type = String, example = "analytical")]
    pub freshness: Freshness,
}

/// A column of a table or node output.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColumnBody {
    /// Column name.
    pub name: String,
    /// Logical type.
    #[serde(rename = "type")]
    #[schema(value_type = ColumnTypeDoc)]
    pub ty: ColumnType,
    /// Whether it may hold NULL.
    pub nullable: bool,
}

/// Logical column types.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnTypeDoc {
    /// UTF-8 text.
    String,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Fixed-point decimal.
    Decimal,
    /// Boolean.
    Bool,
    /// Calendar date.
    Date,
    /// Timestamp (microseconds).
    Timestamp,
}

impl From<Column> for ColumnBody {
    fn from(c: Column) -> Self {
        ColumnBody {
            name: c.name,
            ty: c.ty,
            nullable: c.nullable,
        }
    }
}

/// Path of one table.
#[derive(Debug, Deserialize)]
pub struct TablePath {
    /// Table name.
    pub name: String,
}

/// A draft workflow to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PropagateRequest {
    /// The draft node graph.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
}

/// Every node's output schema and every problem found.
#[derive(Debug, Serialize, ToSchema)]
pub struct PropagateBody {
    /// Output columns per node id (nodes that compiled).
    pub schemas: BTreeMap<String, Vec<ColumnBody>>,
    /// Problems, each by node and field.
    pub issues: Vec<ProblemIssue>,
}

/// The serving tables workflows can read.
#[utoipa::path(get, path = "/api/v1/schema/tables", tag = "schema",
    responses((status = 200, description = "Enabled serving tables", body = Vec<TableBody>)),
    security(("bearer" = [])))]
pub async fn tables(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Json<Vec<TableBody>>, ApiError> {
    let tables = state.catalog.list_serving_tables().await?;
    Ok(Json(
        tables
            .into_iter()
            .filter(|t| t.enabled && serving_table(&t.name).is_some())
            .map(|t| TableBody {
                name: t.name,
                description: t.description,
                backend: t.backend,
                freshness: t.freshness,
            })
            .collect(),
    ))
}

/// A serving table's columns.
#[utoipa::path(get, path = "/api/v1/schema/tables/{name}/columns", tag = "schema",
    params(("name" = String, Path, description = "Table name")),
    responses(
        (status = 200, description = "The columns, in order", body = Vec<ColumnBody>),
        (status = 404, description = "No such enabled table", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn columns(
    State(state): State<AppState>,
    _principal: Principal,
    ApiPath(path): ApiPath<TablePath>,
) -> Result<Json<Vec<ColumnBody>>, ApiError> {
    let not_found = || ApiError::NotFound {
        kind: "table",
        id: path.name.clone(),
    };
    let registered = state
        .catalog
        .list_serving_tables()
        .await?
        .into_iter()
        .any(|t| t.enabled && t.name == path.name);
    let table = serving_table(&path.name)
        .filter(|_| registered)
        .ok_or_else(not_found)?;
    let schema = flowforge_engine::Schema::from_arrow(&table.schema)
        .map_err(|e| ApiError::Internal(format!("table {}: {e}", path.name)))?;
    Ok(Json(
        schema.columns.into_iter().map(ColumnBody::from).collect(),
    ))
}

/// Output schema of every node of a draft workflow, with its problems (for the canvas, on
/// every edit). A definition that cannot be read at all is a 422 listing each issue.
#[utoipa::path(post, path = "/api/v1/schema/propagate", tag = "schema",
    request_body = PropagateRequest,
    responses(
        (status = 200, description = "Per-node schemas and issues", body = PropagateBody),
        (status = 422, description = "The definition cannot be read (errors by node and field)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn propagate(
    State(state): State<AppState>,
    _principal: Principal,
    ApiJson(body): ApiJson<PropagateRequest>,
) -> Result<Json<PropagateBody>, ApiError> {
    let workflow = definition::parse(body.definition)?;
    let tables = RegistryTables::load(state.catalog.as_ref()).await?;
    let report = propagate_schemas(&workflow, &tables);
    Ok(Json(PropagateBody {
        schemas: report
            .schemas
            .into_iter()
            .map(|(node, schema)| {
                (
                    node,
                    schema.columns.into_iter().map(ColumnBody::from).collect(),
                )
            })
            .collect(),
        issues: report.issues.into_iter().map(ProblemIssue::from).collect(),
    }))
}
