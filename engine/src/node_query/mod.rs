//! Running one workflow node for one tenant: the single path behind previews, widget data and
//! embeds.
//!
//! [`run_node_query`] compiles the node against the session's entitlement-filtered tables,
//! narrows its output with [`NodeFilter`]s, pages it and runs it through
//! [`TenantSession::execute`] — the same path a pgwire query takes — then collects a
//! JSON-friendly [`NodeResult`]. [`QueryLimits`] bound rows, time and result size; exceeding
//! them is a [`NodeQueryError`], never a panic. [`preview_key`] addresses a result by content.

mod filters;
mod json;
mod preview_key;
#[cfg(test)]
mod tests;

use std::time::Duration;

use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::compile::compile_node;
use crate::error::EngineError;
use crate::session::TenantSession;
use crate::workflow::Workflow;

pub use filters::NodeFilter;
pub use json::pg_type_name;
pub use preview_key::{preview_key, strip_ui_fields, UI_ONLY_NODE_KEYS};

/// Bounds on one node query, so a preview or a dashboard can never run away with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most rows one request may ask for.
    pub max_rows: usize,
    /// Wall-clock budget for planning, running and collecting.
    pub timeout: Duration,
    /// Most bytes the collected result may take (JSON-encoded size estimate).
    pub max_bytes: usize,
}

impl Default for QueryLimits {
    /// The interactive limits: 1000 rows, 3 seconds, 100 MB.
    fn default() -> Self {
        QueryLimits {
            max_rows: 1000,
            timeout: Duration::from_secs(3),
            max_bytes: 100 * 1024 * 1024,
        }
    }
}

/// What to run: a node of a workflow, narrowed and paged.
#[derive(Debug, Clone)]
pub struct NodeQuery<'a> {
    /// The workflow holding the node (saved or draft).
    pub workflow: &'a Workflow,
    /// The node whose output is wanted.
    pub node_id: &'a str,
    /// Filters on the node's output columns, all of which must hold.
    pub filters: Vec<NodeFilter>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows wanted; `None` means as many as [`QueryLimits::max_rows`] allows.
    pub limit: Option<usize>,
}

/// One output column: its name and PostgreSQL type name (`int8`, `float8`, `timestamp`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultColumn {
    /// Column name.
    pub name: String,
    /// PostgreSQL type name, as the pgwire door would describe the column.
    #[serde(rename = "type")]
    pub pg_type: String,
}

/// A node's rows, ready to be sent as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeResult {
    /// Columns in output order.
    pub columns: Vec<ResultColumn>,
    /// Rows, each an array in column order: numbers as numbers, timestamps as ISO-8601 text,
    /// NULL as `null`.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows exist past this page.
    pub truncated: bool,
}

/// Why a node query did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum NodeQueryError {
    /// The workflow or node is invalid, or planning or running failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A filter names a column the node does not output.
    #[error("column \"{column}\" is not an output of node '{node}'")]
    UnknownFilterColumn {
        /// The node queried.
        node: String,
        /// The column named by the filter.
        column: String,
    },
    /// A filter value does not fit its column's type.
    #[error("filter on column \"{column}\": {message}")]
    InvalidFilter {
        /// The filtered column.
        column: String,
        /// What is wrong with the value.
        message: String,
    },
    /// More rows were asked for than the limits allow.
    #[error("limit {requested} exceeds the maximum of {max} rows")]
    TooManyRows {
        /// Rows asked for.
        requested: usize,
        /// The maximum.
        max: usize,
    },
    /// The query ran past its time budget and was cancelled.
    #[error("the query did not finish within {} ms and was cancelled", .0.as_millis())]
    Timeout(Duration),
    /// The result grew past the byte budget (or the engine ran out of memory for it).
    #[error("the result exceeds the limit of {limit_bytes} bytes")]
    TooLarge {
        /// The byte budget.
        limit_bytes: usize,
    },
}

/// The columns a node outputs, without running it (checks entitlements like a run would).
pub fn node_output_columns(
    session: &TenantSession,
    workflow: &Workflow,
    node_id: &str,
) -> Result<Vec<ResultColumn>, NodeQueryError> {
    let plan = compile_node(workflow, node_id, session.table_resolver().as_ref())?;
    Ok(result_columns(&plan))
}

/// Runs `query` for the session's tenant within `limits`.
pub async fn run_node_query(
    session: &TenantSession,
    query: &NodeQuery<'_>,
    limits: &QueryLimits,
) -> Result<NodeResult, NodeQueryError> {
    let limit = match query.limit {
        Some(requested) if requested > limits.max_rows => {
            return Err(NodeQueryError::TooManyRows {
                requested,
                max: limits.max_rows,
            })
        }
        Some(requested) => requested,
        None => limits.max_rows,
    };
    let run = async {
        let plan = plan_query(session, query, limit)?;
        collect(session, plan, limit, limits.max_bytes).await
    };
    match tokio::time::timeout(limits.timeout, run).await {
        Ok(result) => result,
        Err(_) => Err(NodeQueryError::Timeout(limits.timeout)),
    }
}

/// The node's plan with the filters on top, paged; one extra row tells whether more exist.
fn plan_query(
    session: &TenantSession,
    query: &NodeQuery<'_>,
    limit: usize,
) -> Result<LogicalPlan, NodeQueryError> {
    let plan = compile_node(
        query.workflow,
        query.node_id,
        session.table_resolver().as_ref(),
    )?;
    let mut builder = LogicalPlanBuilder::from(plan);
    if let Some(predicate) = filters::predicate(builder.schema(), query.node_id, &query.filters)? {
        builder = builder.filter(predicate).map_err(EngineError::from)?;
    }
    let fetch = limit.saturating_add(1);
    Ok(builder
        .limit(query.offset, Some(fetch))
        .and_then(LogicalPlanBuilder::build)
        .map_err(EngineError::from)?)
}

fn result_columns(plan: &LogicalPlan) -> Vec<ResultColumn> {
    plan.schema()
        .fields()
        .iter()
        .map(|field| ResultColumn {
            name: field.name().clone(),
            pg_type: pg_type_name(field.data_type()),
        })
        .collect()
}

async fn collect(
    session: &TenantSession,
    plan: LogicalPlan,
    limit: usize,
    max_bytes: usize,
) -> Result<NodeResult, NodeQueryError> {
    let columns = result_columns(&plan);
    let too_large = || NodeQueryError::TooLarge {
        limit_bytes: max_bytes,
    };
    let mut stream = session
        .execute(plan)
        .await
        .map_err(|e| exhausted(e, max_bytes))?;
    let mut rows = Vec::new();
    let mut bytes = 0usize;
    let mut truncated = false;
    while let Some(batch) = stream.next().await {
        let batch = batch
            .map_err(EngineError::from)
            .map_err(|e| exhausted(e, max_bytes))?;
        for row in json::batch_rows(&batch)? {
            if rows.len() == limit {
                truncated = true;
                break;
            }
            bytes = bytes.saturating_add(json::estimated_size(&row));
            if bytes > max_bytes {
                return Err(too_large());
            }
            rows.push(row);
        }
        if truncated {
            break;
        }
    }
    Ok(NodeResult {
        columns,
        rows,
        truncated,
    })
}

/// DataFusion running out of memory is the result being too large, not an internal error.
fn exhausted(error: EngineError, max_bytes: usize) -> NodeQueryError {
    match &error {
        EngineError::DataFusion(df)
            if matches!(
                df.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ) =>
        {
            NodeQueryError::TooLarge {
                limit_bytes: max_bytes,
            }
        }
        _ => NodeQueryError::Engine(error),
    }
}
