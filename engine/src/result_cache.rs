//! A shared, in-process cache of backend query results.
//!
//! Dashboards refresh the same queries over and over; a backend should answer each once per
//! freshness window. The key is the *analyzed* plan — the client's query with its bound values,
//! the workflow views it reads inlined (so publishing a new version changes the key), and the
//! tenant's entitlement filter (so tenants never share entries they should not) — plus the
//! tenant id. Concurrent identical queries wait for one backend run (no stampede). Live tables
//! are never cached, results above a row limit are not kept, and entries expire after a TTL.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use moka::future::Cache;

use crate::error::EngineError;

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
        ResultCache { entries, max_rows }
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
        let loaded = self
            .entries
            .try_get_with(key, async move {
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
                Ok(Arc::new(CachedResult { schema, batches }))
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
