//! The cache and rate limiter every instance of the service shares: Redis when configured,
//! in-process otherwise, behind one [`Cache`] trait.
//!
//! [`SharedCache`] is what the service holds. With Redis configured it uses Redis, and when
//! Redis fails it answers the same call in process instead, so rate limits keep holding
//! (per instance rather than shared, but never unlimited); it logs the outage once, shows
//! it in [`SharedCache::status`], and tries Redis again after a short back-off.
//!
//! Rate limits follow the generic cell rate algorithm (GCRA): a key may make `per_minute`
//! requests a minute on average and `burst` at once after being idle. The state of a key
//! is one instant, the theoretical arrival time; in Redis it is updated by one Lua script,
//! so concurrent instances never both take the last place.
//!
//! ```
//! use bugdash::cache::{Cache, MemoryCache, Quota};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let cache = MemoryCache::default();
//! let quota = Quota { per_minute: 5, burst: 3 };
//! for _ in 0..3 {
//!     assert!(cache.rate_limit("login:10.0.0.1", quota).await.unwrap().allowed);
//! }
//! let refused = cache.rate_limit("login:10.0.0.1", quota).await.unwrap();
//! assert!(!refused.allowed);
//! // One request every 12 s at 5 a minute: the next place frees up within 12 s.
//! assert!((11..=12).contains(&refused.retry_after.as_secs()));
//! # });
//! ```

mod memory;
mod redis;
mod shared;

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::Result;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;
pub use self::shared::{open, open_with_prefix, SharedCache};

/// A rate: `per_minute` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests per minute on average (at least 1).
    pub per_minute: u32,
    /// Requests allowed at once after an idle period (at least 1).
    pub burst: u32,
}

impl Quota {
    /// Time between two requests at the steady rate.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }

    /// How far ahead of now the theoretical arrival time may run: `burst` intervals.
    pub fn tolerance(&self) -> Duration {
        self.interval() * self.burst.max(1)
    }
}

/// The answer of a rate limiter to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateDecision {
    /// Whether the request may go ahead (it was counted when it may).
    pub allowed: bool,
    /// When refused, how long until a request would be allowed; zero when allowed.
    pub retry_after: Duration,
    /// Requests that could still go ahead at once after this one.
    pub remaining: u32,
}

/// Where the cache lives and whether it is degraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheStatus {
    /// `redis` when Redis is configured, else `memory`.
    pub backend: &'static str,
    /// True while Redis is configured but failing, and calls are answered in process.
    pub degraded: bool,
    /// The last Redis failure, in words (never holding the URL or its password).
    pub last_error: Option<String>,
}

/// A byte cache with expiry, and a rate limiter.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value under `key`, unless missing or expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Stores `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()>;

    /// Removes `key` (no error when missing).
    async fn delete(&self, key: &str) -> Result<()>;

    /// Counts one request against `key` when `quota` allows it.
    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision>;
}

/// One GCRA step from the stored theoretical arrival time `tat` (milliseconds on any clock
/// that `now` also uses): the decision and the new arrival time to store when allowed.
pub(crate) fn gcra(tat: Option<u64>, now: u64, quota: Quota) -> (RateDecision, u64) {
    let interval = quota.interval().as_millis() as u64;
    let tolerance = quota.tolerance().as_millis() as u64;
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let ahead = new_tat - now;
    if ahead > tolerance {
        let decision = RateDecision {
            allowed: false,
            retry_after: Duration::from_millis(ahead - tolerance),
            remaining: 0,
        };
        return (decision, tat);
    }
    let remaining = ((tolerance - ahead) / interval.max(1)) as u32;
    (RateDecision { allowed: true, retry_after: Duration::ZERO, remaining }, new_tat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_allows_the_burst_then_refuses_until_one_interval_passes() {
        let quota = Quota { per_minute: 6, burst: 3 };
        let (mut tat, now) = (None, 1_000_000);
        let mut remaining = vec![];
        for _ in 0..3 {
            let (decision, next) = gcra(tat, now, quota);
            assert!(decision.allowed);
            remaining.push(decision.remaining);
            tat = Some(next);
        }
        assert_eq!(remaining, [2, 1, 0]);

        let (refused, _) = gcra(tat, now, quota);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(10));
        let (later, _) = gcra(tat, now + 10_000, quota);
        assert!(later.allowed);
    }
}
