//! FlowForge's query core.
//!
//! A workflow is a DAG of canvas nodes. This crate validates it, propagates a typed schema through
//! every node, compiles any node to a DataFusion [`LogicalPlan`](datafusion::logical_expr::LogicalPlan)
//! and unparses that plan to one SQL statement per backend dialect. It also generates the sample
//! market data and runs plans in-process over Parquet. It knows nothing about HTTP or pgwire: the
//! `proxy` and `http` crates are doors onto it.

pub mod compile;
pub mod dialect;
pub mod embedded;
pub mod error;
pub mod formula;
pub mod node_query;
pub mod remote;
pub mod result_cache;
pub mod sample_data;
pub mod serving_tables;
pub mod session;
mod sql_ast;
pub mod tables;
pub mod types;
pub mod views;
pub mod workflow;

pub use error::{EngineError, Result, WorkflowIssue};
pub use types::{Column, ColumnType, FilterOperator, Schema};
