//! ClickHouse over its HTTP interface, results as Arrow.
//!
//! Each query is one `POST` with the SQL as body and `default_format=ArrowStream`; the response
//! body is read as an Arrow IPC stream while it arrives, so batches flow to the client without
//! buffering the result or converting rows. Every query carries a `query_id`, the configured
//! `max_execution_time` and result-size limits; dropping the stream before its end (client
//! cancel, statement timeout, disconnect) sends `KILL QUERY` for that id.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result as DFResult;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::TryStreamExt;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader as AsyncStreamReader, SyncIoBridge};
use url::Url;

use super::{backend_error, conform, stream_when_started, RemoteBackend, Started};
use crate::dialect::SqlDialect;
use crate::error::EngineError;

/// The backend's name in logs, errors and EXPLAIN.
const NAME: &str = "clickhouse";
/// Batches buffered between the HTTP reader and the consumer.
const CHANNEL_DEPTH: usize = 4;

/// Where and how to reach ClickHouse.
#[derive(Debug, Clone)]
pub struct ClickHouseConfig {
    /// The HTTP endpoint (`http://host:8123`); user and password may be in the URL.
    pub url: Url,
    /// The database unqualified table names resolve in.
    pub database: String,
    /// `max_execution_time`: the longest a query may run on ClickHouse.
    pub max_execution_time: Duration,
    /// `max_result_rows`: ClickHouse refuses larger results (0 = no limit).
    pub max_result_rows: u64,
}

/// A ClickHouse server reached over HTTP.
#[derive(Debug, Clone)]
pub struct ClickHouseBackend {
    client: reqwest::Client,
    config: ClickHouseConfig,
}

impl ClickHouseBackend {
    /// A backend for `config`; nothing is contacted until the first query.
    pub fn new(config: ClickHouseConfig) -> Result<Self, EngineError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| EngineError::Backend {
                backend: NAME.into(),
                message: format!("cannot build the HTTP client: {e}"),
                unreachable: true,
            })?;
        Ok(ClickHouseBackend { client, config })
    }

    /// Checks that the server answers (`GET /ping`), for readiness checks and start-up logs.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let mut url = self.config.url.clone();
        url.set_path("/ping");
        let response = self
            .client
            .get(url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(EngineError::Backend {
                backend: NAME.into(),
                message: format!("ping answered {}", response.status()),
                unreachable: true,
            })
        }
    }

    /// A guard that kills `query_id` unless the query finished.
    fn kill_guard(&self, query_id: &str) -> KillOnDrop {
        let mut url = self.config.url.clone();
        url.set_query(None);
        KillOnDrop {
            client: self.client.clone(),
            url,
            query_id: query_id.to_string(),
            done: false,
        }
    }

    /// The URL of a query with its settings, without credentials in the query string.
    fn query_url(&self, query_id: &str) -> Url {
        let mut url = self.config.url.clone();
        url.query_pairs_mut()
            .append_pair("database", &self.config.database)
            .append_pair("default_format", "ArrowStream")
            .append_pair("query_id", query_id)
            .append_pair("output_format_arrow_string_as_string", "1")
            // SQL's bare UNION means UNION DISTINCT; ClickHouse wants to be told.
            .append_pair("union_default_mode", "DISTINCT")
            .append_pair("readonly", "2")
            .append_pair(
                "max_execution_time",
                &self.config.max_execution_time.as_secs().max(1).to_string(),
            );
        if self.config.max_result_rows > 0 {
            url.query_pairs_mut()
                .append_pair("max_result_rows", &self.config.max_result_rows.to_string())
                .append_pair("result_overflow_mode", "throw");
        }
        url
    }
}

/// A new query id: `flowforge-<process id>-<uuid>`, so ClickHouse's query log tells which
/// proxy instance sent a query.
fn query_id() -> String {
    format!("flowforge-{}-{}", std::process::id(), uuid::Uuid::new_v4())
}

/// A failed HTTP exchange as a backend error (SQLSTATE 08006): ClickHouse could not be reached,
/// or the connection broke before its answer arrived (server killed or restarted mid-query).
fn unreachable(error: &reqwest::Error) -> EngineError {
    let what = if error.is_connect() {
        "cannot reach ClickHouse"
    } else if error.is_timeout() {
        "ClickHouse did not answer in time"
    } else {
        "connection to ClickHouse lost during the query"
    };
    EngineError::Backend {
        backend: NAME.into(),
        message: format!("{what}: {}", causes(error)),
        unreachable: true,
    }
}

/// The causes of a reqwest error, outermost first (`client error (SendRequest): connection
/// closed before message completed`). reqwest's own text is only "error sending request for
/// url (...)": it hides why behind the query URL.
fn causes(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// Sends `KILL QUERY` for `query_id` when dropped before [`KillOnDrop::finished`].
struct KillOnDrop {
    client: reqwest::Client,
    url: Url,
    query_id: String,
    done: bool,
}

impl KillOnDrop {
    fn finished(&mut self) {
        self.done = true;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let request = self.client.post(self.url.clone()).body(format!(
            "KILL QUERY WHERE query_id = '{}' ASYNC",
            self.query_id.replace('\'', "")
        ));
        let query_id = self.query_id.clone();
        runtime.spawn(async move {
            match request.send().await {
                Ok(_) => tracing::info!(%query_id, "ClickHouse query killed"),
                Err(error) => {
                    let error = causes(&error);
                    tracing::warn!(%query_id, %error, "cannot kill ClickHouse query")
                }
            }
        });
    }
}

/// ClickHouse exception codes that mean "the SQL FlowForge wrote is not valid here": the
/// query can still be answered by planning it locally.
const REJECTED_SQL_CODES: &[&str] = &[
    "1",   // UNSUPPORTED_METHOD
    "36",  // BAD_ARGUMENTS
    "43",  // ILLEGAL_TYPE_OF_ARGUMENT
    "46",  // UNKNOWN_FUNCTION
    "47",  // UNKNOWN_IDENTIFIER
    "48",  // NOT_IMPLEMENTED
    "53",  // TYPE_MISMATCH
    "62",  // SYNTAX_ERROR
    "179", // MULTIPLE_EXPRESSIONS_FOR_ALIAS
    "184", // ILLEGAL_AGGREGATION
    "215", // NOT_AN_AGGREGATE
    "352", // AMBIGUOUS_COLUMN_NAME
    "386", // NO_COMMON_TYPE
];

#[async_trait::async_trait]
impl RemoteBackend for ClickHouseBackend {
    async fn start(&self, sql: String, schema: SchemaRef) -> Result<Started, EngineError> {
        let query_id = query_id();
        let guard = self.kill_guard(&query_id);
        tracing::debug!(%query_id, %sql, "ClickHouse query");
        let response = self
            .client
            .post(self.query_url(&query_id))
            .body(sql)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !response.status().is_success() {
            let mut guard = guard;
            guard.finished();
            let code = response
                .headers()
                .get("X-ClickHouse-Exception-Code")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response.text().await.unwrap_or_default();
            let message = body.trim().to_string();
            if code
                .as_deref()
                .is_some_and(|c| REJECTED_SQL_CODES.contains(&c))
            {
                return Ok(Started::Rejected(message));
            }
            return Err(EngineError::Backend {
                backend: NAME.into(),
                message,
                unreachable: false,
            });
        }
        let stream: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&schema),
            read_arrow(response, guard),
        ));
        Ok(Started::Running(conform(stream, schema)))
    }

    fn name(&self) -> &str {
        NAME
    }

    fn dialect(&self) -> SqlDialect {
        SqlDialect::ClickHouse
    }

    fn execute(&self, sql: String, schema: SchemaRef) -> SendableRecordBatchStream {
        stream_when_started(self.clone(), sql, schema)
    }
}

/// Reads the response body as an Arrow IPC stream on a blocking thread, batch by batch.
fn read_arrow(
    response: reqwest::Response,
    guard: KillOnDrop,
) -> impl futures::Stream<Item = DFResult<RecordBatch>> {
    let (sender, receiver) = mpsc::channel::<DFResult<RecordBatch>>(CHANNEL_DEPTH);
    let body = response
        .bytes_stream()
        .map_err(|e| io::Error::other(causes(&e)));
    let reader = SyncIoBridge::new(AsyncStreamReader::new(body));
    tokio::task::spawn_blocking(move || {
        let batches = match StreamReader::try_new(reader, None) {
            Ok(batches) => batches,
            Err(error) => {
                // A body that ended cleanly before any message is an empty result. Anything
                // else — a connection that broke before the schema arrived included, whatever
                // its message says (`unexpected EOF during chunk size line`, ...) — is a broken
                // stream, never an empty result.
                let empty = matches!(
                    &error,
                    ArrowError::IpcError(message) if message.contains("found empty stream")
                );
                if !empty {
                    let _ = sender.blocking_send(Err(backend_error(
                        NAME,
                        format!("unreadable result: {error}"),
                        true,
                    )));
                }
                return;
            }
        };
        for batch in batches {
            let item =
                batch.map_err(|e| backend_error(NAME, format!("result stream broke: {e}"), true));
            let failed = item.is_err();
            if sender.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    futures::stream::unfold((receiver, guard), |(mut receiver, mut guard)| async move {
        match receiver.recv().await {
            Some(item) => Some((item, (receiver, guard))),
            None => {
                guard.finished();
                None
            }
        }
    })
}
