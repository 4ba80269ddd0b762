//! The simple and extended query protocols over tenant sessions.
//!
//! Both protocols share one path: a statement is prepared (session command or planned query),
//! started (parameters bound, the plan executed or the command applied), and its rows streamed
//! to the client batch by batch while racing CancelRequests and `statement_timeout`. pgwire's
//! defaults are kept for Describe, Close, Flush and Sync; Parse, Bind and Execute are
//! overridden to validate messages the way PostgreSQL does, remember statement names for
//! `DEALLOCATE`/`DISCARD`, and stream portals (including `max_rows` suspension) without
//! collecting rows in memory.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use flowforge_engine::session::bind;
use futures::sink::{Sink, SinkExt};
use futures::StreamExt;
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, QueryResponse, Response, SendableRowStream, Tag};
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, Type, DEFAULT_NAME};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::{DataRow, FieldDescription, RowDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Execute, Parse, ParseComplete, PortalSuspended,
};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, NoticeResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::PgWireBackendMessage;

use crate::cancel::Interrupts;
use crate::command::SessionCommand;
use crate::connection::{connection, Connection};
use crate::encode::RowEncoder;
use crate::params;
use crate::pg_error;
use crate::rows::ResultRows;
use crate::split::split_statements;
use crate::statement::{prepare, Prepared, StatementParser};

/// Names of the statements a connection prepared, for `DEALLOCATE ALL` and `DISCARD ALL`
/// (pgwire's statement store cannot list them).
#[derive(Default)]
struct StatementNames(Mutex<BTreeSet<String>>);

impl StatementNames {
    fn of<C: ClientInfo + ?Sized>(client: &C) -> Arc<StatementNames> {
        client
            .session_extensions()
            .get_or_insert_with(StatementNames::default)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Answers queries for every connection of a server.
pub(crate) struct QueryHandler {
    parser: Arc<StatementParser>,
    max_result_rows: Option<u64>,
}

impl QueryHandler {
    /// A handler refusing results longer than `max_result_rows`.
    pub(crate) fn new(max_result_rows: Option<u64>) -> Self {
        QueryHandler {
            parser: Arc::new(StatementParser),
            max_result_rows,
        }
    }

    /// Starts a prepared statement: applies a session command, or binds the parameters and
    /// executes the plan. Rows are not produced yet: a query's response carries a lazy stream.
    async fn start<C>(
        &self,
        client: &mut C,
        conn: &Connection,
        statement: &Prepared,
        portal: Option<&Portal<Prepared>>,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let aborted = client.transaction_status() == TransactionStatus::Error;
        match statement {
            Prepared::Command { command, .. } => {
                if aborted && !command.allowed_in_failed_transaction() {
                    return Err(aborted_transaction());
                }
                let response = run_command(client, conn, command).await;
                conn.sync_parameters();
                response
            }
            Prepared::Query(query) => {
                if aborted {
                    return Err(aborted_transaction());
                }
                let mut values = Vec::with_capacity(query.param_types.len());
                if let Some(portal) = portal {
                    for (i, data_type) in query.param_types.iter().enumerate() {
                        let bytes = portal.parameters.get(i).and_then(|p| p.as_deref());
                        let binary = portal.parameter_format.is_binary(i);
                        let declared = query.declared.get(i).and_then(Option::as_ref);
                        let value = params::decode(i, bytes, binary, data_type, declared)
                            .map_err(|e| pg_error::param(&e))?;
                        values.push(value);
                    }
                }
                values.truncate(query.plan_params);
                let plan = bind(query.plan.clone(), values).map_err(|e| pg_error::engine(&e, 0))?;
                let batches = conn
                    .session
                    .execute(plan)
                    .await
                    .map_err(|e| pg_error::engine(&e, 0))?;
                let format = portal.map(|p| &p.result_column_format);
                let fields = statement.fields(format);
                let formats = fields.iter().map(FieldInfo::format).collect();
                let wire_types: Vec<Type> = fields.iter().map(|f| f.datatype().clone()).collect();
                let encoder = RowEncoder::new(formats, conn.settings().encode_context())
                    .with_wire_types(&wire_types);
                let rows = ResultRows::new(batches, encoder, self.max_result_rows);
                Ok(Response::Query(QueryResponse::new(
                    Arc::new(fields),
                    rows.into_stream(),
                )))
            }
        }
    }

    /// Runs (or resumes) a portal: up to `max_rows` rows (0: all), then PortalSuspended or
    /// CommandComplete. A failed or interrupted portal is closed for good.
    async fn execute_portal<C>(
        &self,
        client: &mut C,
        conn: &Connection,
        portal: &Arc<Portal<Prepared>>,
        max_rows: usize,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut interrupts = Interrupts::start(&conn.cancel, conn.settings().statement_timeout());
        let state = portal.state();
        let mut state = state.lock().await;
        if matches!(*state, PortalExecutionState::Initial) {
            let response = tokio::select! {
                response = ExtendedQueryHandler::do_query(self, client, portal, max_rows) => response?,
                why = interrupts.wait() => return Err(pg_error::interrupted(why)),
            };
            match response {
                Response::Query(query) => *state = PortalExecutionState::Suspended(query),
                other => return send_non_query(client, other).await,
            }
        }
        let outcome = match &mut *state {
            PortalExecutionState::Suspended(query) => {
                let command = query.command_tag().to_owned();
                pump(client, query.data_rows(), max_rows, &mut interrupts)
                    .await
                    .map(|(sent, more)| (result_tag(&command, sent), more))
            }
            _ => Ok((result_tag("SELECT", 0), false)),
        };
        match outcome {
            Ok((_, true)) => {
                client
                    .feed(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                    .await?;
                Ok(())
            }
            Ok((tag, false)) => {
                *state = PortalExecutionState::Finished;
                complete(client, tag).await
            }
            Err(e) => {
                *state = PortalExecutionState::Finished;
                Err(e)
            }
        }
    }

    /// One statement of a simple query, from text to CommandComplete.
    async fn run_simple<C>(
        &self,
        client: &mut C,
        conn: &Connection,
        statement: &crate::split::SqlStatement,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut interrupts = Interrupts::start(&conn.cancel, conn.settings().statement_timeout());
        let started = tokio::select! {
            response = async {
                match prepare(conn, statement, &[], statement.offset).await? {
                    Some(prepared) => self.start(client, conn, &prepared, None).await,
                    None => Ok(Response::EmptyQuery),
                }
            } => response?,
            why = interrupts.wait() => return Err(pg_error::interrupted(why)),
        };
        send_response(client, started, &mut interrupts).await
    }
}

/// The error for statements in a transaction that already failed.
fn aborted_transaction() -> PgWireError {
    pg_error::error(
        "25P02",
        "current transaction is aborted, commands ignored until end of transaction block",
    )
}

/// Applies a session command and returns its response (rows for `SHOW`).
async fn run_command<C>(
    client: &mut C,
    conn: &Connection,
    command: &SessionCommand,
) -> PgWireResult<Response>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let status = client.transaction_status();
    let tag = |name: &str| Ok(Response::Execution(Tag::new(name)));
    match command {
        SessionCommand::Set { name, value } => {
            let reported = conn
                .settings()
                .set(name, value.as_deref())
                .map_err(|e| pg_error::setting(&e))?;
            report(client, reported.into_iter().collect()).await?;
            tag("SET")
        }
        SessionCommand::SetTransaction => tag("SET"),
        SessionCommand::SetRole { role } => match role {
            Some(role) if !role.eq_ignore_ascii_case(&conn.login) => Err(pg_error::error(
                "42501",
                format!("permission denied to set role \"{role}\""),
            )),
            _ => tag("SET"),
        },
        SessionCommand::Reset(Some(name)) => {
            let reported = conn
                .settings()
                .set(name, None)
                .map_err(|e| pg_error::setting(&e))?;
            report(client, reported.into_iter().collect()).await?;
            tag("RESET")
        }
        SessionCommand::Reset(None) => {
            let reported = conn.settings().reset_all();
            report(client, reported).await?;
            tag("RESET")
        }
        SessionCommand::Show(name) => {
            let rows = match name {
                Some(name) => {
                    let (_, value) = conn
                        .settings()
                        .show(name)
                        .map_err(|e| pg_error::setting(&e))?;
                    vec![vec![value]]
                }
                None => conn
                    .settings()
                    .all()
                    .into_iter()
                    .map(|(name, value, description)| vec![name, value, description])
                    .collect(),
            };
            let columns = match name {
                Some(name) => vec![conn
                    .settings()
                    .show(name)
                    .map(|(canonical, _)| canonical)
                    .unwrap_or_else(|_| name.clone())],
                None => vec!["name".into(), "setting".into(), "description".into()],
            };
            let statement = Prepared::Command {
                command: command.clone(),
                columns,
            };
            let mut response = QueryResponse::new(
                Arc::new(statement.fields(None)),
                futures::stream::iter(text_rows(rows).into_iter().map(Ok)),
            );
            response.set_command_tag("SHOW");
            Ok(Response::Query(response))
        }
        SessionCommand::Begin => {
            if status == TransactionStatus::Idle {
                client.set_transaction_status(TransactionStatus::Transaction);
            } else {
                warn(
                    client,
                    "25001",
                    "there is already a transaction in progress",
                )
                .await?;
            }
            tag("BEGIN")
        }
        SessionCommand::Commit | SessionCommand::Rollback => {
            let name = match (command, status) {
                (SessionCommand::Commit, TransactionStatus::Transaction) => "COMMIT",
                (SessionCommand::Commit, TransactionStatus::Idle) => {
                    warn(client, "25P01", "there is no transaction in progress").await?;
                    "COMMIT"
                }
                (_, TransactionStatus::Idle) => {
                    warn(client, "25P01", "there is no transaction in progress").await?;
                    "ROLLBACK"
                }
                _ => "ROLLBACK",
            };
            client.set_transaction_status(TransactionStatus::Idle);
            tag(name)
        }
        SessionCommand::Savepoint | SessionCommand::Release | SessionCommand::RollbackTo => {
            let (name, what) = match command {
                SessionCommand::Savepoint => ("SAVEPOINT", "SAVEPOINT"),
                SessionCommand::Release => ("RELEASE", "RELEASE SAVEPOINT"),
                _ => ("ROLLBACK", "ROLLBACK TO SAVEPOINT"),
            };
            if status == TransactionStatus::Idle {
                return Err(pg_error::error(
                    "25P01",
                    format!("{what} can only be used in transaction blocks"),
                ));
            }
            client.set_transaction_status(TransactionStatus::Transaction);
            tag(name)
        }
        SessionCommand::Discard(target) => {
            if target == "ALL" {
                if status != TransactionStatus::Idle {
                    return Err(pg_error::error(
                        "25001",
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                let reported = conn.settings().reset_all();
                report(client, reported).await?;
                deallocate_all(client);
                client.portal_store().clear_portals();
            }
            tag(&format!("DISCARD {target}"))
        }
        SessionCommand::Deallocate(Some(name)) => {
            if client.portal_store().get_statement(name).is_none() {
                return Err(pg_error::error(
                    "26000",
                    format!("prepared statement \"{name}\" does not exist"),
                ));
            }
            client.portal_store().rm_statement(name);
            StatementNames::of(client).lock().remove(name);
            tag("DEALLOCATE")
        }
        SessionCommand::Deallocate(None) => {
            deallocate_all(client);
            tag("DEALLOCATE ALL")
        }
    }
}

fn deallocate_all<C>(client: &C)
where
    C: ClientInfo + ClientPortalStore,
    C::PortalStore: PortalStore,
{
    let names = std::mem::take(&mut *StatementNames::of(client).lock());
    for name in names {
        client.portal_store().rm_statement(&name);
    }
}

/// Tells the client about changed parameters it tracks.
async fn report<C>(client: &mut C, changes: Vec<(String, String)>) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for (name, value) in changes {
        client
            .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                name, value,
            )))
            .await?;
    }
    Ok(())
}

async fn warn<C>(client: &mut C, code: &str, message: &str) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let mut info = ErrorInfo::new("WARNING".into(), code.into(), message.into());
    info.severity_nonlocalized = Some("WARNING".into());
    client
        .feed(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
            info,
        )))
        .await?;
    Ok(())
}

/// Rows of text values (the same bytes in text and binary format).
fn text_rows(rows: Vec<Vec<String>>) -> Vec<DataRow> {
    rows.into_iter()
        .map(|values| {
            let mut data = bytes::BytesMut::new();
            for value in &values {
                data.extend_from_slice(&(value.len() as i32).to_be_bytes());
                data.extend_from_slice(value.as_bytes());
            }
            DataRow::new(data, values.len() as i16)
        })
        .collect()
}

/// Sends a simple-query response: RowDescription, the rows, CommandComplete.
async fn send_response<C>(
    client: &mut C,
    response: Response,
    interrupts: &mut Interrupts,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match response {
        Response::Query(mut query) => {
            let description = RowDescription::new(
                query
                    .row_schema
                    .iter()
                    .map(FieldDescription::from)
                    .collect(),
            );
            client
                .feed(PgWireBackendMessage::RowDescription(description))
                .await?;
            let (sent, _) = pump(client, query.data_rows(), 0, interrupts).await?;
            complete(client, result_tag(query.command_tag(), sent)).await
        }
        other => send_non_query(client, other).await,
    }
}

/// Sends the response of a statement that returns no rows.
async fn send_non_query<C>(client: &mut C, response: Response) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match response {
        Response::EmptyQuery => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
            Ok(())
        }
        Response::Execution(tag)
        | Response::TransactionStart(tag)
        | Response::TransactionEnd(tag) => complete(client, tag).await,
        Response::Error(info) => Err(PgWireError::UserError(info)),
        Response::Query(_) => Err(pg_error::error("XX000", "unexpected result set")),
        Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {
            Err(pg_error::error("0A000", "COPY is not supported"))
        }
    }
}

/// The CommandComplete tag of a result: `SELECT n` carries its row count, `SHOW` does not.
fn result_tag(command: &str, rows: usize) -> Tag {
    if command == "SELECT" {
        Tag::new(command).with_rows(rows)
    } else {
        Tag::new(command)
    }
}

/// Checks a Bind message against its statement the way PostgreSQL does, before anything is
/// decoded (a mismatch would otherwise index past the format codes).
fn check_bind(message: &Bind, params: usize, columns: usize, statement: &str) -> PgWireResult<()> {
    if message.parameters.len() != params {
        return Err(pg_error::error(
            "08P01",
            format!(
                "bind message supplies {} parameters, but prepared statement \"{statement}\" requires {params}",
                message.parameters.len()
            ),
        ));
    }
    let formats = message.parameter_format_codes.len();
    if formats > 1 && formats != params {
        return Err(pg_error::error(
            "08P01",
            format!("bind message has {formats} parameter formats but {params} parameters"),
        ));
    }
    let results = message.result_column_format_codes.len();
    if results > 1 && results != columns {
        return Err(pg_error::error(
            "08P01",
            format!("bind message has {results} result formats but query has {columns} columns"),
        ));
    }
    let codes = message
        .parameter_format_codes
        .iter()
        .chain(&message.result_column_format_codes);
    for code in codes {
        if *code != 0 && *code != 1 {
            return Err(pg_error::error(
                "22023",
                format!("unsupported format code: {code}"),
            ));
        }
    }
    Ok(())
}

async fn complete<C>(client: &mut C, tag: Tag) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::CommandComplete(
            CommandComplete::from(tag),
        ))
        .await?;
    Ok(())
}

/// Streams up to `max_rows` rows (0: all) to the client, stopping early on a cancel or timeout.
/// Returns the number sent and whether rows remain.
async fn pump<C>(
    client: &mut C,
    rows: &mut SendableRowStream,
    max_rows: usize,
    interrupts: &mut Interrupts,
) -> PgWireResult<(usize, bool)>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let interrupted = interrupts.wait();
    tokio::pin!(interrupted);
    let mut sent = 0;
    loop {
        if max_rows > 0 && sent == max_rows {
            return Ok((sent, true));
        }
        let next = tokio::select! {
            biased;
            why = &mut interrupted => return Err(pg_error::interrupted(why)),
            row = rows.next() => row,
        };
        match next {
            None => return Ok((sent, false)),
            Some(row) => {
                client.feed(PgWireBackendMessage::DataRow(row?)).await?;
                sent += 1;
            }
        }
    }
}

fn log_statement(conn: &Connection, sql: &str, started: Instant, error: Option<&PgWireError>) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let statement: String = sql.chars().take(200).collect();
    match error {
        None => tracing::debug!(
            user = %conn.login,
            tenant = %conn.identity.tenant_slug,
            elapsed_ms,
            statement,
            "statement done"
        ),
        Some(error) => {
            let (code, message) = pg_error::describe(error);
            tracing::info!(
                user = %conn.login,
                tenant = %conn.identity.tenant_slug,
                elapsed_ms,
                statement,
                code,
                message,
                "statement failed"
            );
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for QueryHandler {
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let conn = connection(client)?;
        client.set_state(PgWireConnectionState::QueryInProgress);
        let statements = split_statements(&query.query);
        if statements.is_empty() {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
        }
        for statement in &statements {
            let started = Instant::now();
            let result = self.run_simple(client, &conn, statement).await;
            log_statement(&conn, &statement.text, started, result.as_ref().err());
            // The first failure ends the query string, as in PostgreSQL; the server loop sends
            // the ErrorResponse and ReadyForQuery.
            result?;
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        let status = client.transaction_status();
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    /// Prepares and starts every statement of `query` in order, stopping at the first failure
    /// (reported as the last response). Row streams are lazy: they run as they are consumed.
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = connection(client)?;
        let mut responses = Vec::new();
        for statement in split_statements(query) {
            let started = async {
                match prepare(&conn, &statement, &[], statement.offset).await? {
                    Some(prepared) => self.start(client, &conn, &prepared, None).await,
                    None => Ok(Response::EmptyQuery),
                }
            }
            .await;
            match started {
                Ok(response) => responses.push(response),
                Err(error) => {
                    responses.push(Response::Error(Box::new(ErrorInfo::from(error))));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for QueryHandler {
    type Statement = Prepared;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<StatementParser> {
        Arc::clone(&self.parser)
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message
            .name
            .clone()
            .unwrap_or_else(|| DEFAULT_NAME.to_owned());
        let parser = self.query_parser();
        match StoredStatement::parse(client, &message, parser).await? {
            Some(statement) => client.portal_store().put_statement(Arc::new(statement)),
            None => client.portal_store().put_empty_statement(&name),
        }
        if message.name.is_some() {
            StatementNames::of(client).lock().insert(name);
        }
        client
            .send(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statement_name = message.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal_name = message.portal_name.as_deref().unwrap_or(DEFAULT_NAME);
        let shown_name = message.statement_name.as_deref().unwrap_or("");
        let (params, columns) = match client.portal_store().get_statement(statement_name) {
            Some(Entry::Value(statement)) => (
                statement.statement.param_count(),
                statement.statement.column_count(),
            ),
            Some(Entry::Empty) => (0, 0),
            None => {
                return Err(pg_error::error(
                    "26000",
                    format!("prepared statement \"{shown_name}\" does not exist"),
                ))
            }
        };
        check_bind(&message, params, columns, shown_name)?;
        match client.portal_store().get_statement(statement_name) {
            Some(Entry::Value(statement)) => {
                let portal = Portal::try_new(&message, statement)?;
                client.portal_store().put_portal(Arc::new(portal));
            }
            _ => client.portal_store().put_empty_portal(portal_name),
        }
        client
            .send(PgWireBackendMessage::BindComplete(BindComplete::new()))
            .await?;
        Ok(())
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let conn = connection(client)?;
        let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(portal_name) {
            Some(Entry::Value(portal)) => portal,
            Some(Entry::Empty) => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
                return Ok(());
            }
            None => {
                return Err(pg_error::error(
                    "34000",
                    format!(
                        "portal \"{}\" does not exist",
                        message.name.as_deref().unwrap_or("")
                    ),
                ))
            }
        };
        client.set_state(PgWireConnectionState::QueryInProgress);
        let started = Instant::now();
        let max_rows = usize::try_from(message.max_rows).unwrap_or(0);
        let result = self.execute_portal(client, &conn, &portal, max_rows).await;
        log_statement(
            &conn,
            &portal.statement.statement.summary(),
            started,
            result.as_ref().err(),
        );
        client.set_state(PgWireConnectionState::ReadyForQuery);
        result
    }

    /// Starts the portal's statement (binds its parameters, runs a command or executes a
    /// plan); the response's rows are produced as they are read.
    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let conn = connection(client)?;
        self.start(client, &conn, &portal.statement.statement, Some(portal))
            .await
    }
}
