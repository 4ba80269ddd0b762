//! The preview cache: node results by content address, for five minutes.
//!
//! Keys come from [`flowforge_engine::node_query::preview_key`], so moving a node on the canvas
//! still hits while editing anything upstream misses. The first tier is in-process (moka,
//! bounded by estimated JSON size); with Redis configured a local miss looks in Redis, and every
//! fresh result is written there, so several FlowForge processes share previews. Redis failures
//! never fail a preview: they are logged and the preview runs.

use std::sync::Arc;
use std::time::Duration;

use flowforge_engine::node_query::NodeResult;
use flowforge_engine::remote::redis::RedisStore;
use moka::future::Cache;

/// How long a preview stays cached.
pub const PREVIEW_TTL: Duration = Duration::from_secs(5 * 60);
/// Prefix of the shared tier's keys; the number changes when the stored format does.
const SHARED_KEY_PREFIX: &str = "flowforge:preview:v1:";
/// Largest encoded result written to the shared tier.
const SHARED_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Default in-process capacity, in estimated bytes.
const DEFAULT_CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Where a cached preview was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheTier {
    /// In this process.
    Local,
    /// In Redis, shared with other processes.
    Shared,
}

/// Node results by content address.
#[derive(Debug, Clone)]
pub struct PreviewCache {
    local: Cache<String, Arc<NodeResult>>,
    shared: Option<Arc<RedisStore>>,
    ttl: Duration,
}

impl PreviewCache {
    /// A cache keeping previews for [`PREVIEW_TTL`], in process and, when given, in Redis.
    pub fn new(shared: Option<Arc<RedisStore>>) -> Self {
        Self::with_limits(PREVIEW_TTL, DEFAULT_CAPACITY_BYTES, shared)
    }

    /// A cache with an explicit TTL and in-process capacity (estimated bytes).
    pub fn with_limits(
        ttl: Duration,
        capacity_bytes: u64,
        shared: Option<Arc<RedisStore>>,
    ) -> Self {
        let local = Cache::builder()
            .time_to_live(ttl)
            .max_capacity(capacity_bytes)
            .weigher(|_key: &String, value: &Arc<NodeResult>| {
                u32::try_from(estimated_bytes(value)).unwrap_or(u32::MAX)
            })
            .build();
        PreviewCache { local, shared, ttl }
    }

    /// The cached result for `key`, and where it was found.
    pub async fn get(&self, key: &str) -> Option<(Arc<NodeResult>, CacheTier)> {
        if let Some(found) = self.local.get(key).await {
            return Some((found, CacheTier::Local));
        }
        let store = self.shared.as_ref()?;
        let bytes = match store.get_bytes(&shared_key(key)).await {
            Ok(found) => found?,
            Err(error) => {
                tracing::warn!(%error, "shared preview cache unavailable; treating as a miss");
                return None;
            }
        };
        match serde_json::from_slice::<NodeResult>(&bytes) {
            Ok(result) => {
                let result = Arc::new(result);
                self.local
                    .insert(key.to_string(), Arc::clone(&result))
                    .await;
                Some((result, CacheTier::Shared))
            }
            Err(error) => {
                tracing::warn!(%error, "unreadable shared preview ignored");
                None
            }
        }
    }

    /// Keeps `result` under `key` in process and, when configured, in Redis.
    pub async fn insert(&self, key: &str, result: Arc<NodeResult>) {
        self.local
            .insert(key.to_string(), Arc::clone(&result))
            .await;
        let Some(store) = &self.shared else {
            return;
        };
        let bytes = match serde_json::to_vec(result.as_ref()) {
            Ok(bytes) if bytes.len() <= SHARED_MAX_BYTES => bytes,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "preview not shared: cannot encode it");
                return;
            }
        };
        if let Err(error) = store.set_bytes(&shared_key(key), &bytes, self.ttl).await {
            tracing::warn!(%error, "preview not shared: Redis refused it");
        }
    }
}

fn shared_key(key: &str) -> String {
    format!("{SHARED_KEY_PREFIX}{key}")
}

/// A rough size of a result, for the in-process capacity bound.
fn estimated_bytes(result: &NodeResult) -> usize {
    let cells = result.rows.iter().map(Vec::len).sum::<usize>();
    let text: usize = result
        .rows
        .iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::len))
        .sum();
    64 + cells * 16 + text
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowforge_engine::node_query::ResultColumn;
    use serde_json::json;

    fn result(rows: usize) -> Arc<NodeResult> {
        Arc::new(NodeResult {
            columns: vec![ResultColumn {
                name: "symbol".into(),
                pg_type: "text".into(),
            }],
            rows: (0..rows).map(|i| vec![json!(format!("S{i}"))]).collect(),
            truncated: false,
        })
    }

    #[tokio::test]
    async fn local_tier_hits_until_expiry() {
        let cache = PreviewCache::with_limits(Duration::from_millis(300), 1 << 20, None);
        assert!(cache.get("k").await.is_none());
        cache.insert("k", result(3)).await;
        let (found, tier) = cache.get("k").await.unwrap();
        assert_eq!((found.rows.len(), tier), (3, CacheTier::Local));
        assert!(cache.get("other").await.is_none());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(cache.get("k").await.is_none(), "expired");
    }

    #[tokio::test]
    async fn unreachable_redis_is_a_miss_not_an_error() {
        // A port nothing listens on: connections are refused at once.
        let store = RedisStore::new("redis://127.0.0.1:1", Duration::from_millis(200)).unwrap();
        let cache = PreviewCache::new(Some(Arc::new(store)));
        assert!(cache.get("k").await.is_none());
        cache.insert("k", result(1)).await;
        assert_eq!(cache.get("k").await.unwrap().1, CacheTier::Local);
    }

    #[tokio::test]
    async fn redis_tier_is_shared_between_caches() {
        let url = crate::test_redis::url();
        let store = Arc::new(RedisStore::new(&url, Duration::from_secs(2)).unwrap());
        let key = format!("test-{}", uuid_like());
        let writer = PreviewCache::new(Some(Arc::clone(&store)));
        let reader = PreviewCache::new(Some(store));
        assert!(reader.get(&key).await.is_none());
        writer.insert(&key, result(2)).await;
        let (found, tier) = reader.get(&key).await.unwrap();
        assert_eq!(tier, CacheTier::Shared);
        assert_eq!(found, result(2));
        assert_eq!(reader.get(&key).await.unwrap().1, CacheTier::Local);
    }

    fn uuid_like() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{nanos:x}-{}", std::process::id())
    }
}
