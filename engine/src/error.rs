//! Errors at the engine's boundary.
//!
//! Workflow problems are collected as [`WorkflowIssue`]s that name the node and the field, so the
//! canvas can point at them and the CLI can print them; everything else is an [`EngineError`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem found in a workflow, located by node and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowIssue {
    /// The node the problem is in, if it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The config field (a path such as `conditions[0].column`), if one is at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, in words a user understands.
    pub message: String,
}

impl WorkflowIssue {
    /// An issue about the workflow as a whole.
    pub fn workflow(message: impl Into<String>) -> Self {
        WorkflowIssue {
            node: None,
            field: None,
            message: message.into(),
        }
    }

    /// An issue about a node.
    pub fn node(node: impl Into<String>, message: impl Into<String>) -> Self {
        WorkflowIssue {
            node: Some(node.into()),
            field: None,
            message: message.into(),
        }
    }

    /// An issue about one field of a node's config.
    pub fn field(
        node: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        WorkflowIssue {
            node: Some(node.into()),
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for WorkflowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.node, &self.field) {
            (Some(node), Some(field)) => {
                write!(f, "node '{node}', field '{field}': {}", self.message)
            }
            (Some(node), None) => write!(f, "node '{node}': {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Errors the engine returns to its doors (CLI, pgwire, HTTP).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The workflow JSON could not be read at all.
    #[error("invalid workflow JSON: {0}")]
    WorkflowJson(String),
    /// The workflow is well-formed JSON but invalid; every problem found is listed.
    #[error("invalid workflow:\n{}", issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    InvalidWorkflow {
        /// The problems, each naming node and field.
        issues: Vec<WorkflowIssue>,
    },
    /// A node id that the workflow does not contain.
    #[error("node '{0}' does not exist in the workflow")]
    UnknownNode(String),
    /// Sample data could not be generated or written.
    #[error("sample data: {0}")]
    SampleData(String),
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A planning or execution failure inside DataFusion.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A statement that would write (DML, DDL, COPY FROM, GRANT, ...): FlowForge serves read-only.
    #[error("cannot execute {statement} in a read-only transaction")]
    ReadOnly {
        /// The kind of statement, as PostgreSQL names it (`INSERT`, `CREATE TABLE`, ...).
        statement: String,
    },
    /// SQL that does not parse.
    #[error("syntax error: {message}")]
    Syntax {
        /// The parser's explanation.
        message: String,
        /// 1-based character position in the statement text, when known.
        position: Option<usize>,
    },
    /// A table or view the caller cannot see (missing, another tenant's, or a schema its role lacks).
    #[error("relation \"{name}\" does not exist")]
    UnknownRelation {
        /// The name as written in the query.
        name: String,
    },
    /// A column that no relation in scope provides.
    #[error("column \"{name}\" does not exist")]
    UnknownColumn {
        /// The column name as written in the query.
        name: String,
    },
    /// Any other reason a query could not be planned.
    #[error("{0}")]
    Plan(String),
    /// Valid SQL that FlowForge does not support in this place.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A parameter value or type that does not fit the statement.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A view definition that cannot be published.
    #[error("invalid view \"{name}\": {reason}")]
    InvalidView {
        /// The view name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plan that would read market data without the tenant's entitlement filter. Never expected:
    /// views are filtered by construction, so this signals a bug, and the query is refused.
    #[error("internal error: tenant access check failed for table {table}: {reason}")]
    AclViolation {
        /// The raw table that was reached.
        table: String,
        /// How the check failed.
        reason: String,
    },
    /// The client cancelled the statement.
    #[error("canceling statement due to user request")]
    Cancelled,
    /// A backend (ClickHouse, PostgreSQL/Materialize) refused or failed the query.
    #[error("{backend}: {message}")]
    Backend {
        /// Which backend (`clickhouse`, `postgres`).
        backend: String,
        /// The backend's own message (its exception code included).
        message: String,
        /// The backend could not be reached or the connection broke mid-query.
        unreachable: bool,
    },
}

impl EngineError {
    /// An [`EngineError::InvalidWorkflow`] with a single issue.
    pub fn invalid(issue: WorkflowIssue) -> Self {
        EngineError::InvalidWorkflow {
            issues: vec![issue],
        }
    }

    /// The PostgreSQL SQLSTATE a client should see for this error, so pgwire clients can react
    /// (retry, report a syntax error, ...) the way they would against PostgreSQL.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            EngineError::WorkflowJson(_) => "22P02",
            EngineError::InvalidWorkflow { .. } => "42P17",
            EngineError::UnknownNode(_) => "42704",
            EngineError::SampleData(_) => "58000",
            EngineError::Io(_) => "58030",
            EngineError::DataFusion(e) => datafusion_sqlstate(e),
            EngineError::ReadOnly { .. } => "25006",
            EngineError::Syntax { .. } => "42601",
            EngineError::UnknownRelation { .. } => "42P01",
            EngineError::UnknownColumn { .. } => "42703",
            EngineError::Plan(_) => "42000",
            EngineError::Unsupported(_) => "0A000",
            EngineError::InvalidParameter(_) => "22023",
            EngineError::InvalidView { .. } => "42P17",
            EngineError::AclViolation { .. } => "XX000",
            EngineError::Cancelled => "57014",
            EngineError::Backend {
                unreachable: true, ..
            } => "08006",
            EngineError::Backend { .. } => "XX000",
        }
    }
}

/// SQLSTATE for a DataFusion error, judged by its innermost cause.
fn datafusion_sqlstate(error: &datafusion::error::DataFusionError) -> &'static str {
    use datafusion::arrow::error::ArrowError;
    use datafusion::error::DataFusionError as E;
    match error.find_root() {
        E::External(inner) => match inner.downcast_ref::<EngineError>() {
            Some(engine) => engine.sqlstate(),
            None => "XX000",
        },
        E::ResourcesExhausted(_) => "53000",
        E::NotImplemented(_) => "0A000",
        E::Plan(_) | E::SchemaError(..) => "42000",
        E::SQL(..) => "42601",
        E::IoError(_) | E::ObjectStore(_) => "58030",
        E::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::DivideByZero => "22012",
            ArrowError::ArithmeticOverflow(_) => "22003",
            ArrowError::CastError(_) | ArrowError::ParseError(_) => "22P02",
            _ => "XX000",
        },
        _ => "XX000",
    }
}

/// Result alias for engine operations.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
