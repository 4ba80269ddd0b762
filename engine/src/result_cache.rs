//! A shared, in-process cache of backend query results.
//!
//! Dashboards refresh the same queries over and over; a backend should answer each once per
//! freshness window. The key is the *analyzed* plan — the client's query with its bound values,
//! the workflow views it reads inlined (so publishing a new version changes the key), and the
//! tenant's entitlement filter (so tenants never share entries they should not) — plus the
//! tenant id. Concurrent identical queries wait for one backend run (no stampede). Live tables
//! are never cached, results above a row limit are not kept, and entries expire after a TTL.
//!
//! With Redis configured ([`ResultCache::with_shared_tier`]) a miss in this process looks in
//! Redis before running the backend, and a fresh result is written there (Arrow IPC bytes under
//! a hash of the key), so several FlowForge processes answer a dashboard's queries once between
//! them. Redis failures never fail a query: they are logged and the backend answers.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::remote::redis::RedisStore;

/// Prefix of the shared tier's keys; the number changes when the stored format does.
const SHARED_KEY_PREFIX: &str = "flowforge:result:v1:";
/// Largest encoded result written to the shared tier.
const SHARED_MAX_BYTES: usize = 16 * 1024 * 1024;

/// One cached result.
#[derive(Debug)]
struct CachedResult {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// Why a result was not cached.
#[derive(Debug, Clone)]
enum Uncached {
    /// More rows than the cache keeps; the query must run uncached.
    TooLarge,
    /// The backend failed; the error goes to every waiting caller.
    Failed(Arc<EngineError>),
}

/// The cache of backend results shared by all sessions of a server.
#[derive(Debug, Clone)]
pub struct ResultCache {
    entries: Cache<String, Arc<CachedResult>>,
    max_rows: usize,
    ttl: Duration,
    shared: Option<Arc<RedisStore>>,
}

impl ResultCache {
    /// A cache keeping results of at most `max_rows` rows for `ttl`, up to `max_bytes` in all.
    pub fn new(ttl: Duration, max_rows: usize, max_bytes: u64) -> Self {
        let entries = Cache::builder()
            .time_to_live(ttl)
            .max_capacity(max_bytes)
            .weigher(|_key: &String, value: &Arc<CachedResult>| {
                let bytes: usize = value
                    .batches
                    .iter()
                    .map(RecordBatch::get_array_memory_size)
                    .sum();
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .build();
        ResultCache {
            entries,
            max_rows,
            ttl,
            shared: None,
        }
    }

    /// Shares results with other FlowForge processes through `store` (Redis).
    pub fn with_shared_tier(mut self, store: Arc<RedisStore>) -> Self {
        self.shared = Some(store);
        self
    }

    /// The result for `key`: from the cache, or from `run` (once, however many callers ask at
    /// the same time). `Ok(None)` when the result is too large to keep: run it uncached.
    pub(crate) async fn get_or_run<F>(
        &self,
        key: String,
        run: F,
    ) -> Result<Option<SendableRecordBatchStream>, EngineError>
    where
        F: std::future::Future<Output = Result<SendableRecordBatchStream, EngineError>>,
    {
        let max_rows = self.max_rows;
        let shared = self.shared.clone();
        let ttl = self.ttl;
        let shared_key = format!("{SHARED_KEY_PREFIX}{}", hex::encode(Sha256::digest(&key)));
        let loaded = self
            .entries
            .try_get_with(key, async move {
                if let Some(store) = &shared {
                    if let Some(found) = read_shared(store, &shared_key).await {
                        return Ok(Arc::new(found));
                    }
                }
                let stream = run.await.map_err(|e| Uncached::Failed(Arc::new(e)))?;
                let schema = stream.schema();
                let mut rows = 0usize;
                let mut batches = Vec::new();
                let mut stream = stream;
                while let Some(batch) = stream.next().await {
                    let batch = batch
                        .map_err(|e| Uncached::Failed(Arc::new(EngineError::DataFusion(e))))?;
                    rows += batch.num_rows();
                    if rows > max_rows {
                        return Err(Uncached::TooLarge);
                    }
                    batches.push(batch);
                }
                let result = CachedResult { schema, batches };
                if let Some(store) = &shared {
                    write_shared(store, &shared_key, &result, ttl).await;
                }
                Ok(Arc::new(result))
            })
            .await;
        match loaded {
            Ok(result) => {
                let batches: Vec<RecordBatch> = result.batches.clone();
                let stream = futures::stream::iter(batches.into_iter().map(Ok)).boxed();
                Ok(Some(Box::pin(RecordBatchStreamAdapter::new(
                    Arc::clone(&result.schema),
                    stream.into_stream(),
                ))))
            }
            Err(reason) => match reason.as_ref() {
                Uncached::TooLarge => Ok(None),
                Uncached::Failed(error) => Err(EngineError::Backend {
                    backend: "cache".into(),
                    message: error.to_string(),
                    unreachable: matches!(error.sqlstate(), "08006"),
                }),
            },
        }
    }
}

/// The result stored in the shared tier at `key`, if it is there and readable.
async fn read_shared(store: &RedisStore, key: &str) -> Option<CachedResult> {
    let bytes = match store.get_bytes(key).await {
        Ok(found) => found?,
        Err(error) => {
            tracing::warn!(%error, "shared result cache unavailable; asking the backend");
            return None;
        }
    };
    match decode(&bytes) {
        Ok(result) => Some(result),
        Err(error) => {
            tracing::warn!(%error, "unreadable shared cache entry ignored");
            None
        }
    }
}

/// Writes `result` to the shared tier unless it is too large; failures are only logged.
async fn write_shared(store: &RedisStore, key: &str, result: &CachedResult, ttl: Duration) {
    let bytes = match encode(result) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "result not shared: cannot encode it");
            return;
        }
    };
    if bytes.len() > SHARED_MAX_BYTES {
        return;
    }
    if let Err(error) = store.set_bytes(key, &bytes, ttl).await {
        tracing::warn!(%error, "result not shared: Redis refused it");
    }
}

/// A result as Arrow IPC stream bytes (schema first, then every batch).
fn encode(result: &CachedResult) -> Result<Vec<u8>, ArrowError> {
    let mut writer = StreamWriter::try_new(Vec::new(), &result.schema)?;
    for batch in &result.batches {
        writer.write(batch)?;
    }
    writer.into_inner()
}

/// The inverse of [`encode`].
fn decode(bytes: &[u8]) -> Result<CachedResult, ArrowError> {
    let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    Ok(CachedResult { schema, batches })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn shared_entries_round_trip_through_ipc_bytes() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("symbol", DataType::Utf8, false),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec!["AAPL", "MSFT"])),
                Arc::new(Int64Array::from(vec![Some(1), None])),
            ],
        )
        .unwrap();
        let result = CachedResult {
            schema,
            batches: vec![batch.clone(), batch],
        };
        let back = decode(&encode(&result).unwrap()).unwrap();
        assert_eq!(back.schema, result.schema);
        assert_eq!(back.batches, result.batches);
        assert!(decode(b"not arrow").is_err());
    }
}
