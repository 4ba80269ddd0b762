//! Fixed-window rate limiting for embeds (and any other per-key budget).
//!
//! Each key may make `limit` requests per window of `window` length, windows aligned to the Unix
//! epoch so every process agrees on them. With Redis configured the count lives in Redis
//! (`INCR` + `EXPIRE` on `flowforge:ratelimit:<key>:<window>`), so servers sharing a Redis
//! share the budget; otherwise, or whenever Redis fails (logged), it lives in this process.
//! Keys must not be secrets: callers pass an API key's id, never the key itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flowforge_engine::remote::redis::RedisStore;
use moka::future::Cache;

/// Prefix of the Redis counters.
const KEY_PREFIX: &str = "flowforge:ratelimit:";

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the budget.
    Allowed {
        /// Requests left in this window.
        remaining: u64,
    },
    /// Over the budget until the window ends.
    Limited {
        /// Time until the next window starts (at least a second, as `Retry-After` counts).
        retry_after: Duration,
    },
}

/// A fixed-window limiter over string keys.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: u64,
    window: Duration,
    shared: Option<Arc<RedisStore>>,
    local: Cache<String, Arc<AtomicU64>>,
}

impl RateLimiter {
    /// `limit` requests per `window` (whole seconds, at least one) per key; counted in Redis
    /// when `shared` is given.
    pub fn new(limit: u64, window: Duration, shared: Option<Arc<RedisStore>>) -> Self {
        let window = Duration::from_secs(window.as_secs().max(1));
        let local = Cache::builder()
            .time_to_live(window * 2)
            .max_capacity(100_000)
            .build();
        RateLimiter {
            limit,
            window,
            shared,
            local,
        }
    }

    /// The configured requests per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Counts one request for `key` now.
    pub async fn check(&self, key: &str) -> RateDecision {
        self.check_at(key, SystemTime::now()).await
    }

    async fn check_at(&self, key: &str, now: SystemTime) -> RateDecision {
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let window_secs = self.window.as_secs();
        let index = since_epoch.as_secs() / window_secs;
        let count = self.count(key, index).await;
        if count <= self.limit {
            return RateDecision::Allowed {
                remaining: self.limit - count,
            };
        }
        let ends = Duration::from_secs((index + 1) * window_secs);
        let retry_after = ends.saturating_sub(since_epoch);
        RateDecision::Limited {
            retry_after: Duration::from_secs(retry_after.as_secs_f64().ceil().max(1.0) as u64),
        }
    }

    /// This request's position in window `index` of `key`.
    async fn count(&self, key: &str, index: u64) -> u64 {
        let window_key = format!("{key}:{index}");
        if let Some(store) = &self.shared {
            match store
                .incr_window(&format!("{KEY_PREFIX}{window_key}"), self.window)
                .await
            {
                Ok(count) => return count,
                Err(error) => {
                    tracing::warn!(%error, "rate limit counter unavailable in Redis; counting in process")
                }
            }
        }
        let counter = self
            .local
            .get_with(window_key, async { Arc::new(AtomicU64::new(0)) })
            .await;
        counter.fetch_add(1, Ordering::SeqCst) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    async fn run(limiter: &RateLimiter, key: &str, now: SystemTime, times: usize) -> Vec<bool> {
        let mut allowed = Vec::new();
        for _ in 0..times {
            allowed.push(matches!(
                limiter.check_at(key, now).await,
                RateDecision::Allowed { .. }
            ));
        }
        allowed
    }

    #[tokio::test]
    async fn in_process_windows_reset_and_keys_are_independent() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60), None);
        assert_eq!(
            run(&limiter, "a", at(6_000), 4).await,
            [true, true, true, false]
        );
        assert_eq!(run(&limiter, "b", at(6_001), 1).await, [true]);
        match limiter.check_at("a", at(6_030)).await {
            RateDecision::Limited { retry_after } => assert_eq!(retry_after.as_secs(), 30),
            other => panic!("expected Limited, got {other:?}"),
        }
        assert_eq!(
            run(&limiter, "a", at(6_060), 1).await,
            [true],
            "next window"
        );
    }

    #[tokio::test]
    async fn remaining_counts_down() {
        let limiter = RateLimiter::new(2, Duration::from_secs(10), None);
        assert_eq!(
            limiter.check_at("k", at(100)).await,
            RateDecision::Allowed { remaining: 1 }
        );
        assert_eq!(
            limiter.check_at("k", at(101)).await,
            RateDecision::Allowed { remaining: 0 }
        );
    }

    #[tokio::test]
    async fn unreachable_redis_falls_back_to_process_counting() {
        let store = RedisStore::new("redis://127.0.0.1:1", Duration::from_millis(200)).unwrap();
        let limiter = RateLimiter::new(2, Duration::from_secs(60), Some(Arc::new(store)));
        assert_eq!(run(&limiter, "k", at(600), 3).await, [true, true, false]);
    }

    #[tokio::test]
    async fn limiters_sharing_redis_share_the_window() {
        let url = crate::test_redis::url();
        let store = Arc::new(RedisStore::new(&url, Duration::from_secs(2)).unwrap());
        let one = RateLimiter::new(3, Duration::from_secs(60), Some(Arc::clone(&store)));
        let two = RateLimiter::new(3, Duration::from_secs(60), Some(store));
        let key = format!("test-{}", std::process::id());
        // A window far from now and unique to this run, so reruns start from zero.
        let now = at(60 * (u64::from(std::process::id()) + 1_000_000_000));
        assert_eq!(run(&one, &key, now, 2).await, [true, true]);
        assert_eq!(run(&two, &key, now, 2).await, [true, false]);
        assert_eq!(run(&one, &key, now, 1).await, [false]);
    }
}
