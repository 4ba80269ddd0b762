//! Prepared statements: what a Parse message (or one statement of a simple query) becomes.
//!
//! A statement is either a session command the connection answers itself, or a query planned
//! by the tenant session. Planning happens once, at Parse, so Describe can report the parameter
//! types (declared by the client, else inferred from the query, else `text`) and the result
//! columns before anything runs.

use std::sync::Arc;

use arrow::datatypes::DataType;
use async_trait::async_trait;
use datafusion::logical_expr::LogicalPlan;
use flowforge_engine::session::parameter_types;
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::stmt::QueryParser;
use pgwire::api::{ClientInfo, Type};
use pgwire::error::PgWireResult;

use crate::command::{parse_command, SessionCommand};
use crate::connection::{connection, Connection};
use crate::pg_error;
use crate::split::{split_statements, SqlStatement};
use crate::types::{param_data_type, pg_type, result_pg_type, PgType};

/// A parsed statement, stored under its name until closed.
#[derive(Debug, Clone)]
pub(crate) enum Prepared {
    /// A session command; `columns` names the result columns (`SHOW`), empty otherwise.
    Command {
        /// The command.
        command: SessionCommand,
        /// Result column names, all of type `text`.
        columns: Vec<String>,
    },
    /// A planned query.
    Query(Arc<PreparedQuery>),
}

/// A query planned by the tenant session, waiting for parameter values.
#[derive(Debug)]
pub(crate) struct PreparedQuery {
    /// The statement as the client wrote it (for logs).
    pub sql: String,
    /// The plan, with placeholders for `$1..$n`.
    pub plan: LogicalPlan,
    /// Result columns: PostgreSQL names and types.
    pub columns: Vec<(String, PgType)>,
    /// The type each parameter is decoded as.
    pub param_types: Vec<DataType>,
    /// The types the client declared in Parse, where it declared one.
    pub declared: Vec<Option<Type>>,
    /// How many parameters the plan itself binds (the client may declare more).
    pub plan_params: usize,
}

impl Prepared {
    /// The statement in a few words, for logs.
    pub(crate) fn summary(&self) -> String {
        match self {
            Prepared::Command { command, .. } => format!("{command:?}"),
            Prepared::Query(query) => query.sql.chars().take(200).collect(),
        }
    }

    /// Number of parameters a Bind must supply.
    pub(crate) fn param_count(&self) -> usize {
        match self {
            Prepared::Command { .. } => 0,
            Prepared::Query(query) => query.param_types.len(),
        }
    }

    /// Number of result columns.
    pub(crate) fn column_count(&self) -> usize {
        match self {
            Prepared::Command { columns, .. } => columns.len(),
            Prepared::Query(query) => query.columns.len(),
        }
    }

    /// The parameter types announced in a ParameterDescription.
    pub(crate) fn param_pg_types(&self) -> Vec<Type> {
        match self {
            Prepared::Command { .. } => Vec::new(),
            Prepared::Query(query) => query.param_types.iter().map(|t| pg_type(t).ty).collect(),
        }
    }

    /// The result columns as a RowDescription describes them, in `format` (text when unset).
    pub(crate) fn fields(&self, format: Option<&Format>) -> Vec<FieldInfo> {
        let field_format = |i: usize| format.map_or(FieldFormat::Text, |f| f.format_for(i));
        match self {
            Prepared::Command { columns, .. } => columns
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    FieldInfo::new(name.clone(), None, None, Type::TEXT, field_format(i))
                        .with_type_size(-1)
                })
                .collect(),
            Prepared::Query(query) => query
                .columns
                .iter()
                .enumerate()
                .map(|(i, (name, pg))| {
                    FieldInfo::new(name.clone(), None, None, pg.ty.clone(), field_format(i))
                        .with_type_size(pg.typlen)
                        .with_type_modifier(pg.typmod)
                })
                .collect(),
        }
    }
}

/// Result columns of a session command.
fn command_columns(command: &SessionCommand, conn: &Connection) -> Vec<String> {
    match command {
        SessionCommand::Show(None) => vec!["name".into(), "setting".into(), "description".into()],
        SessionCommand::Show(Some(name)) => vec![conn
            .settings()
            .show(name)
            .map(|(canonical, _)| canonical)
            .unwrap_or_else(|_| name.clone())],
        _ => Vec::new(),
    }
}

/// Turns one statement into a [`Prepared`]: a session command, or a query planned with the
/// declared parameter types. `None` for a statement with nothing in it.
pub(crate) async fn prepare(
    conn: &Connection,
    statement: &SqlStatement,
    declared: &[Option<Type>],
    offset: usize,
) -> PgWireResult<Option<Prepared>> {
    match parse_command(&statement.tokens) {
        Ok(Some(command)) => {
            let columns = command_columns(&command, conn);
            return Ok(Some(Prepared::Command { command, columns }));
        }
        Ok(None) => {}
        Err(e) => return Err(pg_error::error("42601", e.to_string())),
    }
    let declared_types: Vec<DataType> = declared
        .iter()
        .map(|t| {
            t.as_ref()
                .and_then(|t| param_data_type(t.oid()))
                .unwrap_or(DataType::Null)
        })
        .collect();
    let planned = conn
        .session
        .plan_sql(&statement.text, &declared_types)
        .await
        .and_then(|planned| planned.into_query())
        .map_err(|e| pg_error::engine(&e, offset))?;
    let Some((plan, output_names)) = planned else {
        return Ok(None);
    };
    let inferred = parameter_types(&plan);
    let count = inferred.len().max(declared.len());
    let param_types = (0..count)
        .map(|i| {
            declared_types
                .get(i)
                .filter(|t| **t != DataType::Null)
                .cloned()
                .or_else(|| inferred.get(i).cloned().flatten())
                .unwrap_or(DataType::Utf8)
        })
        .collect();
    let columns = plan
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let name = output_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| field.name().clone());
            (name, result_pg_type(field))
        })
        .collect();
    Ok(Some(Prepared::Query(Arc::new(PreparedQuery {
        sql: statement.text.clone(),
        plan,
        columns,
        param_types,
        declared: (0..count)
            .map(|i| declared.get(i).cloned().flatten())
            .collect(),
        plan_params: inferred.len(),
    }))))
}

/// Parses the SQL of Parse messages.
#[derive(Debug, Default)]
pub(crate) struct StatementParser;

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let conn = connection(client)?;
        let mut statements = split_statements(sql);
        if statements.len() > 1 {
            return Err(pg_error::error(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let Some(statement) = statements.pop() else {
            return Ok(None);
        };
        prepare(&conn, &statement, types, 0).await
    }

    fn get_parameter_types(&self, statement: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(statement.param_pg_types())
    }

    fn get_result_schema(
        &self,
        statement: &Prepared,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(statement.fields(format))
    }
}
