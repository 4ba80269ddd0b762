//! PostgreSQL-wire backends: Materialize for live views (PostgreSQL stands in for it in tests).
//!
//! A query runs as `COPY (<sql>) TO STDOUT (FORMAT csv)` on its own connection, and the CSV
//! stream is parsed into Arrow batches of the expected schema as it arrives — no row-by-row
//! decoding of the result in the proxy, and nothing buffered. `statement_timeout` bounds it on
//! the server; dropping the stream early sends the server a cancel request.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::csv::ReaderBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio_postgres::error::Severity;
use tokio_postgres::{CancelToken, NoTls};
use tokio_util::io::{StreamReader as AsyncStreamReader, SyncIoBridge};

use super::{backend_error, conform, stream_when_started, RemoteBackend, Started};
use crate::dialect::SqlDialect;
use crate::error::EngineError;

/// Rows per Arrow batch parsed from the CSV stream.
const BATCH_ROWS: usize = 8192;

/// Where and how to reach a PostgreSQL-wire backend.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// A libpq-style URL (`postgres://user:pass@host:port/db`).
    pub url: String,
    /// The schema unqualified table names resolve in.
    pub schema: String,
    /// `statement_timeout` for each query.
    pub statement_timeout: Duration,
    /// The name in logs, errors and EXPLAIN (`materialize`, `postgres`).
    pub label: String,
}

/// A PostgreSQL-wire backend.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    config: PostgresConfig,
}

impl PostgresBackend {
    /// A backend for `config`; nothing is contacted until the first query.
    pub fn new(config: PostgresConfig) -> Self {
        PostgresBackend { config }
    }

    /// Checks that the server answers, for readiness checks and start-up logs.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let (client, _cancel) = self.connect().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| self.error(&e))?;
        Ok(())
    }

    async fn connect(&self) -> Result<(tokio_postgres::Client, CancelToken), EngineError> {
        let (client, connection) = tokio_postgres::connect(&self.config.url, NoTls)
            .await
            .map_err(|e| self.error(&e))?;
        let label = self.config.label.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(backend = %label, %error, "backend connection ended");
            }
        });
        let cancel = client.cancel_token();
        Ok((client, cancel))
    }

    fn error(&self, error: &tokio_postgres::Error) -> EngineError {
        let (message, unreachable) = describe(error);
        EngineError::Backend {
            backend: self.config.label.clone(),
            message,
            unreachable,
        }
    }
}

/// The message of a tokio-postgres error, and whether the connection is gone with it (SQLSTATE
/// 08006 rather than XX000). tokio-postgres' own text is only its kind ("db error", "error
/// connecting to server"): the server's message and the causes are spelled out here.
fn describe(error: &tokio_postgres::Error) -> (String, bool) {
    match error.as_db_error() {
        Some(db) => {
            // A FATAL error ends the server session (pg_terminate_backend, shutdown, ...).
            let fatal = matches!(
                db.parsed_severity(),
                Some(Severity::Fatal | Severity::Panic)
            );
            (
                format!("{} ({})", db.message(), db.code().code()),
                fatal || error.is_closed(),
            )
        }
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            (message, true)
        }
    }
}

/// An error of the COPY stream as read by the CSV reader. The server's own errors (its session
/// terminated, a statement timeout, a row that fails) travel through the reader inside the I/O
/// error and keep their message and classification; anything else is a broken stream.
fn stream_error(label: &str, error: ArrowError) -> DataFusionError {
    if let ArrowError::IoError(_, io) = &error {
        if let Some(pg) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<tokio_postgres::Error>())
        {
            let (message, unreachable) = describe(pg);
            return backend_error(label, message, unreachable);
        }
    }
    backend_error(label, format!("result stream broke: {error}"), true)
}

/// Sends the server a cancel request when dropped before the result ended.
struct CancelOnDrop {
    token: Option<CancelToken>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let (Some(token), Ok(runtime)) = (self.token.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(async move {
            if let Err(error) = token.cancel_query(NoTls).await {
                tracing::warn!(%error, "cannot cancel backend query");
            }
        });
    }
}

#[async_trait]
impl RemoteBackend for PostgresBackend {
    fn name(&self) -> &str {
        &self.config.label
    }

    fn dialect(&self) -> SqlDialect {
        SqlDialect::Postgres
    }

    fn execute(&self, sql: String, schema: SchemaRef) -> SendableRecordBatchStream {
        stream_when_started(self.clone(), sql, schema)
    }

    async fn start(&self, sql: String, schema: SchemaRef) -> Result<Started, EngineError> {
        let (client, cancel) = self.connect().await?;
        let setup = format!(
            "SET search_path TO {}; SET statement_timeout = {}",
            quote_identifier(&self.config.schema),
            self.config.statement_timeout.as_millis()
        );
        client
            .batch_execute(&setup)
            .await
            .map_err(|e| self.error(&e))?;
        let copy = format!("COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '\\N')");
        tracing::debug!(backend = %self.config.label, %sql, "backend query");
        let stream = match client.copy_out(copy.as_str()).await {
            Ok(stream) => stream,
            Err(error) => {
                let rejected = error
                    .as_db_error()
                    .is_some_and(|db| db.code().code().starts_with("42"));
                if rejected {
                    return Ok(Started::Rejected(self.error(&error).to_string()));
                }
                return Err(self.error(&error));
            }
        };
        let guard = CancelOnDrop {
            token: Some(cancel),
        };
        let label = self.config.label.clone();
        // The error itself goes into the I/O error, for `stream_error` to find.
        let body = Box::pin(stream.map_err(io::Error::other));
        let reader = SyncIoBridge::new(AsyncStreamReader::new(body));
        let (sender, receiver) = mpsc::channel::<DFResult<RecordBatch>>(4);
        // PostgreSQL writes booleans as `t`/`f`, which the CSV reader does not take; read them
        // as text and let `conform` cast them.
        let csv_schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    datafusion::arrow::datatypes::DataType::Boolean => f
                        .as_ref()
                        .clone()
                        .with_data_type(datafusion::arrow::datatypes::DataType::Utf8),
                    _ => f.as_ref().clone(),
                })
                .collect::<Vec<_>>(),
        ));
        let reader_label = label.clone();
        tokio::task::spawn_blocking(move || {
            // The client must outlive the COPY stream it serves.
            let _client = client;
            let csv = ReaderBuilder::new(csv_schema)
                .with_header(false)
                .with_null_regex(regex_null())
                .with_batch_size(BATCH_ROWS)
                .build(reader);
            let batches = match csv {
                Ok(batches) => batches,
                Err(error) => {
                    let _ = sender.blocking_send(Err(backend_error(
                        &reader_label,
                        format!("unreadable result: {error}"),
                        true,
                    )));
                    return;
                }
            };
            for batch in batches {
                let item = batch.map_err(|e| stream_error(&reader_label, e));
                let failed = item.is_err();
                if sender.blocking_send(item).is_err() || failed {
                    return;
                }
            }
        });
        let batches = futures::stream::unfold(
            (receiver, Some(guard)),
            |(mut receiver, mut guard)| async move {
                match receiver.recv().await {
                    Some(item) => Some((item, (receiver, guard))),
                    None => {
                        // Finished: nothing to cancel.
                        if let Some(mut finished) = guard.take() {
                            finished.token = None;
                        }
                        None
                    }
                }
            },
        )
        .boxed();
        let stream: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&schema), batches));
        Ok(Started::Running(conform(stream, schema)))
    }
}

/// The CSV NULL marker (`\N`) as arrow-csv's null pattern.
fn regex_null() -> regex::Regex {
    regex::Regex::new(r"^\\N$").unwrap_or_else(|_| unreachable!("constant pattern"))
}

/// A PostgreSQL identifier, quoted.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
