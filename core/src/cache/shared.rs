//! [`SharedCache`]: Redis when configured, in process otherwise, and in process for the
//! calls Redis fails.
//!
//! Two kinds of use. Plain [`Cache`] calls (analysis results, rate limits) fall back to
//! the in-process cache when Redis fails: a result computed twice or a limit counted per
//! instance for a while is acceptable, an unlimited one is not. The `coherent_*` calls are
//! for values every instance must see alike, such as sessions: they never fall back, so an
//! instance never serves a session that another instance revoked. When Redis fails they
//! miss (the caller reads the database) and deletes that failed are sent again once Redis
//! answers.
//!
//! Known shortcoming: a delete that failed is sent again on this instance's next
//! successful Redis call. If Redis kept its data through the outage (a network fault rather
//! than a restart), another instance may read the stale entry before that, for at most the
//! entry's time to live (one minute for sessions). A background task resending pending
//! deletes as soon as Redis answers would shorten that window; a revocation counter in
//! the database checked with every cached read would close it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Cache, CacheStatus, MemoryCache, Quota, RateDecision, RedisCache};
use crate::config::CacheSettings;
use crate::Result;

/// How long Redis is left alone after a failure before it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Deletes kept for sending once Redis answers again, at most.
const MAX_PENDING_DELETES: usize = 10_000;

/// Opens the cache the settings select, with keys under `bugdash:` in Redis. A configured
/// Redis that does not answer yet is not an error: calls are answered in process until it
/// does, and [`SharedCache::status`] says so.
pub async fn open(settings: &CacheSettings) -> Result<Arc<SharedCache>> {
    open_with_prefix(settings, "bugdash:").await
}

/// As [`open`], with Redis keys under `prefix` (tests give each run a prefix of its own).
pub async fn open_with_prefix(settings: &CacheSettings, prefix: &str) -> Result<Arc<SharedCache>> {
    let cache = match &settings.redis_url {
        None => SharedCache::memory(),
        Some(url) => {
            let redis = RedisCache::new(url, prefix)?;
            let outcome = redis.ping().await;
            let cache = SharedCache::with_redis(redis);
            cache.record(&outcome);
            cache
        }
    };
    Ok(Arc::new(cache))
}

#[derive(Debug, Default)]
struct Health {
    degraded: bool,
    last_error: Option<String>,
    retry_at: Option<Instant>,
    pending_deletes: Vec<String>,
}

/// The cache the service holds; see the module documentation.
#[derive(Debug)]
pub struct SharedCache {
    redis: Option<RedisCache>,
    memory: MemoryCache,
    health: Mutex<Health>,
}

impl SharedCache {
    /// An in-process cache only (no Redis configured).
    pub fn memory() -> Self {
        SharedCache { redis: None, memory: MemoryCache::default(), health: Mutex::default() }
    }

    /// A cache on Redis, answering in process while Redis fails.
    pub fn with_redis(redis: RedisCache) -> Self {
        SharedCache { redis: Some(redis), memory: MemoryCache::default(), health: Mutex::default() }
    }

    /// True when Redis is configured (whether or not it answers now).
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Which backend is configured, and whether it is degraded now.
    pub fn status(&self) -> CacheStatus {
        let health = self.health();
        CacheStatus {
            backend: if self.redis.is_some() { "redis" } else { "memory" },
            degraded: self.redis.is_some() && health.degraded,
            last_error: health.last_error.clone(),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Redis, unless it is not configured or failed less than [`RETRY_AFTER`] ago.
    fn usable_redis(&self) -> Option<&RedisCache> {
        let redis = self.redis.as_ref()?;
        let health = self.health();
        match health.retry_at {
            Some(at) if Instant::now() < at => None,
            _ => Some(redis),
        }
    }

    /// Notes how a Redis call went: the first failure of an outage is logged, and so is
    /// the recovery.
    fn record<T>(&self, outcome: &Result<T>) {
        let mut health = self.health();
        match outcome {
            Ok(_) if health.degraded => {
                health.degraded = false;
                health.retry_at = None;
                tracing::info!("Redis answers again; the cache and rate limits are shared again");
            }
            Ok(_) => {}
            Err(error) => {
                let words = chain(error);
                if !health.degraded {
                    tracing::warn!(
                        error = %words,
                        "Redis failed; caching and rate limits continue in process"
                    );
                }
                health.degraded = true;
                health.last_error = Some(words);
                health.retry_at = Some(Instant::now() + RETRY_AFTER);
            }
        }
    }

    /// Runs `call` on Redis when usable: `None` when Redis is not configured, in back-off,
    /// or the call failed.
    async fn on_redis<'a, T, F, Fut>(&'a self, call: F) -> Option<T>
    where
        F: FnOnce(&'a RedisCache) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let redis = self.usable_redis()?;
        let outcome = call(redis).await;
        self.record(&outcome);
        if outcome.is_ok() {
            self.send_pending_deletes(redis).await;
        }
        outcome.ok()
    }

    async fn send_pending_deletes(&self, redis: &RedisCache) {
        let pending = std::mem::take(&mut self.health().pending_deletes);
        for (at, key) in pending.iter().enumerate() {
            if let Err(error) = redis.delete(key).await {
                self.record::<()>(&Err(error));
                self.queue_deletes(&pending[at..]);
                return;
            }
        }
    }

    fn queue_deletes(&self, keys: &[String]) {
        let mut health = self.health();
        health.pending_deletes.extend_from_slice(keys);
        let excess = health.pending_deletes.len().saturating_sub(MAX_PENDING_DELETES);
        if excess > 0 {
            // Past this many, the entries' own expiry is what ends them.
            tracing::error!(dropped = excess, "too many Redis deletes pending; oldest dropped");
            health.pending_deletes.drain(..excess);
        }
    }

    /// A value every instance sees alike: from Redis when configured (a miss while Redis
    /// fails), else from the in-process cache.
    pub async fn coherent_get(&self, key: &str) -> Option<Vec<u8>> {
        if self.redis.is_none() {
            return self.memory.get(key).await.ok().flatten();
        }
        self.on_redis(|redis| redis.get(key)).await.flatten()
    }

    /// Stores a value every instance sees alike; skipped while Redis fails.
    pub async fn coherent_set(&self, key: &str, value: &[u8], ttl: Duration) {
        if self.redis.is_none() {
            let _ = self.memory.set(key, value, ttl).await;
            return;
        }
        let _ = self.on_redis(|redis| redis.set(key, value, ttl)).await;
    }

    /// Deletes a value every instance sees alike; while Redis fails, the delete is kept and
    /// sent once Redis answers again.
    pub async fn coherent_delete(&self, key: &str) {
        if self.redis.is_none() {
            let _ = self.memory.delete(key).await;
            return;
        }
        if self.on_redis(|redis| redis.delete(key)).await.is_none() {
            self.queue_deletes(&[key.to_owned()]);
        }
    }
}

/// An error and its causes on one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        words.push_str(": ");
        words.push_str(&inner.to_string());
        cause = inner.source();
    }
    words
}

#[async_trait]
impl Cache for SharedCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self.on_redis(|redis| redis.get(key)).await {
            Some(value) => Ok(value),
            None => self.memory.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        match self.on_redis(|redis| redis.set(key, value, ttl)).await {
            Some(()) => Ok(()),
            None => self.memory.set(key, value, ttl).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        // Both: a value may have been stored in process during an outage.
        self.memory.delete(key).await?;
        if self.redis.is_some() && self.on_redis(|redis| redis.delete(key)).await.is_none() {
            self.queue_deletes(&[key.to_owned()]);
        }
        Ok(())
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision> {
        match self.on_redis(|redis| redis.rate_limit(key, quota)).await {
            Some(decision) => Ok(decision),
            None => self.memory.rate_limit(key, quota).await,
        }
    }
}
