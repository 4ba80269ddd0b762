//! Redis: latest-quote point lookups and the result cache's shared tier.
//!
//! Production keeps the latest top-of-book quote of each symbol in a Redis hash
//! (`<prefix><SYMBOL>` with fields `bid`, `ask`, `bid_size`, `ask_size`, `event_time`), written by
//! the data pipeline. [`RedisQuotes`] serves those hashes as the `live_quotes` serving table:
//! the symbol filters of a scan (the tenant's entitlement filter is always one) become pipelined
//! `HGETALL`s, one round trip for the whole scan; only a scan without any symbol filter walks the
//! keys with `SCAN`. [`RedisStore`] is also the byte store behind the result cache's second tier
//! (see [`crate::result_cache`]). FlowForge never writes serving data to Redis.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::ExecutionPlan;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{RemoteExec, StartRemote};
use crate::error::EngineError;
use crate::serving_tables::serving_table;
use crate::tables::ServingData;

/// The serving table Redis answers.
pub const QUOTES_TABLE: &str = "live_quotes";

/// A lazily connected, self-reconnecting Redis connection shared by every session.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
    label: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.label)
            .finish()
    }
}

fn redis_error(error: redis::RedisError) -> EngineError {
    let unreachable = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal();
    EngineError::Backend {
        backend: "redis".into(),
        message: error.to_string(),
        unreachable,
    }
}

impl RedisStore {
    /// A store for `url`; nothing is connected until first use, so a Redis that starts after
    /// FlowForge is picked up.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, EngineError> {
        let client = redis::Client::open(url).map_err(|e| EngineError::Backend {
            backend: "redis".into(),
            message: format!("invalid Redis URL: {e}"),
            unreachable: false,
        })?;
        let info = client.get_connection_info();
        let label = info.addr().to_string();
        Ok(RedisStore {
            client,
            connection: OnceCell::new(),
            timeout,
            label,
        })
    }

    /// Host and port, for logs (never the password).
    pub fn server(&self) -> &str {
        &self.label
    }

    async fn connection(&self) -> Result<ConnectionManager, EngineError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        self.connection
            .get_or_try_init(|| async {
                self.client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(redis_error)
            })
            .await
            .cloned()
    }

    /// `PING`, for health checks.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let mut connection = self.connection().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    /// The bytes stored at `key`, if any.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, EngineError> {
        let mut connection = self.connection().await?;
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(redis_error)
    }

    /// Stores `value` at `key` for `ttl` (at least a second).
    pub async fn set_bytes(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), EngineError> {
        let mut connection = self.connection().await?;
        let seconds = ttl.as_secs().max(1);
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(seconds)
            .query_async(&mut connection)
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    /// Counts one hit in the fixed window `key` and returns the window's count so far: `INCR`
    /// and `EXPIRE` in one transaction, so a window key never outlives `ttl` past its last hit
    /// (at least a second).
    pub async fn incr_window(&self, key: &str, ttl: Duration) -> Result<u64, EngineError> {
        let mut connection = self.connection().await?;
        let seconds = ttl.as_secs().max(1);
        let (count, _): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(key)
            .cmd("EXPIRE")
            .arg(key)
            .arg(seconds)
            .query_async(&mut connection)
            .await
            .map_err(redis_error)?;
        Ok(count)
    }

    /// `HGETALL` of every key in one pipelined round trip; missing keys give empty maps.
    async fn hashes(&self, keys: &[String]) -> Result<Vec<HashMap<String, String>>, EngineError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("HGETALL").arg(key);
        }
        pipe.query_async(&mut connection).await.map_err(redis_error)
    }

    /// Every key matching `pattern`, walked with `SCAN` (never `KEYS`, which blocks Redis).
    async fn scan_keys(&self, pattern: &str) -> Result<Vec<String>, EngineError> {
        let mut connection = self.connection().await?;
        let mut cursor: u64 = 0;
        let mut keys = BTreeSet::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(keys.into_iter().collect())
    }
}

/// Serves `live_quotes` from Redis (other tables are not Redis's).
#[derive(Debug, Clone)]
pub struct RedisData {
    store: Arc<RedisStore>,
    prefix: String,
}

impl RedisData {
    /// Quotes under `prefix` in `store`.
    pub fn new(store: Arc<RedisStore>, prefix: &str) -> Self {
        RedisData {
            store,
            prefix: prefix.to_string(),
        }
    }
}

impl ServingData for RedisData {
    fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>> {
        (table == QUOTES_TABLE).then(|| {
            Arc::new(RedisQuotes {
                store: Arc::clone(&self.store),
                prefix: self.prefix.clone(),
            }) as Arc<dyn TableProvider>
        })
    }

    fn name(&self) -> &str {
        "redis"
    }
}

/// The `live_quotes` table over Redis hashes.
#[derive(Debug)]
pub struct RedisQuotes {
    store: Arc<RedisStore>,
    prefix: String,
}

fn quotes_schema() -> DFResult<SchemaRef> {
    serving_table(QUOTES_TABLE)
        .map(|t| t.schema)
        .ok_or_else(|| DataFusionError::Internal(format!("no serving table {QUOTES_TABLE}")))
}

/// The symbols `filter` restricts `symbol` to, when it is `symbol = 'X'`, `symbol IN (...)` or
/// an `OR` of those; `None` when the filter says something else.
fn symbols_of(filter: &Expr) -> Option<BTreeSet<String>> {
    fn is_symbol(expr: &Expr) -> bool {
        matches!(expr.clone().unalias(), Expr::Column(c) if c.name == "symbol")
    }
    fn text(expr: &Expr) -> Option<String> {
        match expr {
            Expr::Literal(ScalarValue::Utf8(Some(s)), _)
            | Expr::Literal(ScalarValue::Utf8View(Some(s)), _)
            | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _) => Some(s.clone()),
            Expr::Cast(cast) => text(&cast.expr),
            Expr::TryCast(cast) => text(&cast.expr),
            _ => None,
        }
    }
    match filter {
        Expr::BinaryExpr(binary) if binary.op == Operator::Eq => {
            if is_symbol(&binary.left) {
                text(&binary.right).map(|s| BTreeSet::from([s]))
            } else if is_symbol(&binary.right) {
                text(&binary.left).map(|s| BTreeSet::from([s]))
            } else {
                None
            }
        }
        Expr::BinaryExpr(binary) if binary.op == Operator::Or => {
            let mut left = symbols_of(&binary.left)?;
            left.extend(symbols_of(&binary.right)?);
            Some(left)
        }
        Expr::InList(list) if !list.negated && is_symbol(&list.expr) => {
            list.list.iter().map(text).collect()
        }
        _ => None,
    }
}

#[async_trait]
impl TableProvider for RedisQuotes {
    fn schema(&self) -> SchemaRef {
        quotes_schema().unwrap_or_else(|_| Arc::new(datafusion::arrow::datatypes::Schema::empty()))
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DFResult<Vec<TableProviderFilterPushDown>> {
        // Symbol filters pick the keys; DataFusion re-applies every filter to what comes back.
        Ok(filters
            .iter()
            .map(|f| match symbols_of(f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let mut symbols: Option<BTreeSet<String>> = None;
        for found in filters.iter().filter_map(symbols_of) {
            symbols = Some(match symbols {
                None => found,
                Some(current) => current.intersection(&found).cloned().collect(),
            });
        }
        let schema = quotes_schema()?;
        let projected = match projection {
            Some(columns) => Arc::new(schema.project(columns)?),
            None => Arc::clone(&schema),
        };
        let statement = lookup_statement(&self.prefix, symbols.as_ref());
        let (store, prefix) = (Arc::clone(&self.store), self.prefix.clone());
        let projection = projection.cloned();
        let stream_schema = Arc::clone(&projected);
        let start: StartRemote = Arc::new(move || {
            let fetch = lookup(
                Arc::clone(&store),
                prefix.clone(),
                symbols.clone(),
                projection.clone(),
                limit,
            );
            let stream = futures::stream::once(async move {
                fetch
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            });
            Box::pin(RecordBatchStreamAdapter::new(
                Arc::clone(&stream_schema),
                stream,
            ))
        });
        Ok(Arc::new(RemoteExec::with_start(
            "redis".to_string(),
            statement,
            projected,
            start,
        )))
    }
}

/// The Redis commands a scan sends, as EXPLAIN shows them.
fn lookup_statement(prefix: &str, symbols: Option<&BTreeSet<String>>) -> String {
    match symbols {
        Some(symbols) => {
            let keys: Vec<String> = symbols.iter().map(|s| format!("{prefix}{s}")).collect();
            format!("HGETALL {} (pipelined)", keys.join(" | "))
        }
        None => format!("SCAN MATCH {prefix}* then HGETALL each"),
    }
}

/// Builds the full `live_quotes` batch from hashes read at `keys`; keys without a hash (no quote
/// yet) are skipped, malformed fields are an error naming the key.
fn quotes_batch(
    schema: SchemaRef,
    prefix: &str,
    keys: &[String],
    hashes: Vec<HashMap<String, String>>,
) -> Result<RecordBatch, EngineError> {
    let malformed = |key: &str, field: &str, value: Option<&String>| EngineError::Backend {
        backend: "redis".into(),
        message: match value {
            Some(v) => format!("live_quotes: field `{field}` of `{key}` is not valid: {v:?}"),
            None => format!("live_quotes: hash `{key}` has no field `{field}`"),
        },
        unreachable: false,
    };
    let mut symbols = Vec::new();
    let mut bids = Vec::new();
    let mut asks = Vec::new();
    let mut bid_sizes = Vec::new();
    let mut ask_sizes = Vec::new();
    let mut times = Vec::new();
    for (key, hash) in keys.iter().zip(hashes) {
        if hash.is_empty() {
            continue;
        }
        let float = |field: &str| {
            let value = hash.get(field);
            value
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| malformed(key, field, value))
        };
        let int = |field: &str| {
            let value = hash.get(field);
            value
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| malformed(key, field, value))
        };
        symbols.push(key.strip_prefix(prefix).unwrap_or(key).to_string());
        bids.push(float("bid")?);
        asks.push(float("ask")?);
        bid_sizes.push(int("bid_size")?);
        ask_sizes.push(int("ask_size")?);
        times.push(int("event_time")?);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(symbols)),
        Arc::new(Float64Array::from(bids)),
        Arc::new(Float64Array::from(asks)),
        Arc::new(Int64Array::from(bid_sizes)),
        Arc::new(Int64Array::from(ask_sizes)),
        Arc::new(TimestampMicrosecondArray::from(times)),
    ];
    RecordBatch::try_new(schema, columns).map_err(|e| EngineError::Backend {
        backend: "redis".into(),
        message: format!("live_quotes: {e}"),
        unreachable: false,
    })
}

async fn lookup(
    store: Arc<RedisStore>,
    prefix: String,
    symbols: Option<BTreeSet<String>>,
    projection: Option<Vec<usize>>,
    limit: Option<usize>,
) -> Result<RecordBatch, EngineError> {
    let keys: Vec<String> = match symbols {
        Some(symbols) => symbols.iter().map(|s| format!("{prefix}{s}")).collect(),
        None => store.scan_keys(&format!("{prefix}*")).await?,
    };
    let hashes = store.hashes(&keys).await?;
    let schema = quotes_schema().map_err(EngineError::DataFusion)?;
    let mut batch = quotes_batch(schema, &prefix, &keys, hashes)?;
    if let Some(columns) = &projection {
        batch = batch.project(columns).map_err(|e| EngineError::Backend {
            backend: "redis".into(),
            message: format!("live_quotes: {e}"),
            unreachable: false,
        })?;
    }
    if let Some(limit) = limit {
        batch = batch.slice(0, limit.min(batch.num_rows()));
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn symbol_filters_pick_the_keys() {
        let eq = col("symbol").eq(lit("AAPL"));
        assert_eq!(symbols_of(&eq), Some(BTreeSet::from(["AAPL".to_string()])));
        let list = col("symbol").in_list(vec![lit("MSFT"), lit("JPM")], false);
        assert_eq!(
            symbols_of(&list),
            Some(BTreeSet::from(["JPM".to_string(), "MSFT".to_string()]))
        );
        let either = eq.clone().or(col("symbol").eq(lit("GS")));
        assert_eq!(symbols_of(&either).map(|s| s.len()), Some(2));
        assert_eq!(symbols_of(&col("bid").gt(lit(1.0))), None);
        assert_eq!(
            symbols_of(&col("symbol").in_list(vec![lit("A")], true)),
            None
        );
        assert_eq!(symbols_of(&eq.and(col("bid").gt(lit(1.0)))), None);
    }

    #[test]
    fn malformed_hashes_are_errors_naming_the_key() {
        let schema = quotes_schema().unwrap();
        let keys = vec!["quote:AAPL".to_string(), "quote:MSFT".to_string()];
        let good: HashMap<String, String> = [
            ("bid", "1.5"),
            ("ask", "1.6"),
            ("bid_size", "10"),
            ("ask_size", "20"),
            ("event_time", "1700000000000000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let batch = quotes_batch(
            Arc::clone(&schema),
            "quote:",
            &keys,
            vec![good.clone(), HashMap::new()],
        )
        .unwrap();
        assert_eq!(batch.num_rows(), 1, "a symbol without a hash has no row");
        let mut bad = good;
        bad.insert("bid".into(), "n/a".into());
        let error = quotes_batch(schema, "quote:", &keys, vec![bad, HashMap::new()]).unwrap_err();
        assert!(error.to_string().contains("quote:AAPL"), "{error}");
    }
}
