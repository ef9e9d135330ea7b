//! The cache and rate limiter on a real Redis (the server named by
//! `BUGDASH_TEST_REDIS_URL`, default 127.0.0.1:6379) and in process, and the fallback
//! when Redis is unreachable. Each test keeps its Redis keys under a random prefix of its
//! own and never flushes anything.

use std::sync::Arc;
use std::time::Duration;

use bugdash::cache::{self, Cache, MemoryCache, Quota, SharedCache};
use bugdash::config::CacheSettings;
use bugdash::secret::Secret;

/// The Redis server of the tests.
pub fn redis_url() -> String {
    std::env::var("BUGDASH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("bugdash-test:{:016x}:", rand::random::<u64>())
}

/// A shared cache on the test Redis under `prefix`; panics, never skips, when Redis is
/// missing.
pub async fn redis_cache(prefix: &str) -> Arc<SharedCache> {
    let settings = CacheSettings { redis_url: Some(Secret::new(redis_url())) };
    let cache = cache::open_with_prefix(&settings, prefix).await.expect("open the Redis cache");
    let status = cache.status();
    assert!(
        !status.degraded,
        "the Redis test server at {} does not answer ({:?}); the Redis suite never skips: \
         start redis-server on 127.0.0.1:6379 or set BUGDASH_TEST_REDIS_URL",
        redis_url(),
        status.last_error
    );
    cache
}

/// A shared cache configured with a Redis on a port where nothing listens.
pub async fn unreachable_redis_cache() -> Arc<SharedCache> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    let url = format!("redis://127.0.0.1:{port}/0");
    let settings = CacheSettings { redis_url: Some(Secret::new(url)) };
    cache::open_with_prefix(&settings, &unique_prefix()).await.expect("open with Redis down")
}

async fn values_round_trip_and_expire(cache: &dyn Cache) {
    cache.set("answer", b"42", Duration::from_secs(60)).await.unwrap();
    cache.set("brief", b"x", Duration::from_millis(1)).await.unwrap();

    assert_eq!(cache.get("answer").await.unwrap().as_deref(), Some(&b"42"[..]));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(cache.get("brief").await.unwrap(), None);
    cache.delete("answer").await.unwrap();
    assert_eq!(cache.get("answer").await.unwrap(), None);
    assert_eq!(cache.get("never-set").await.unwrap(), None);
}

#[tokio::test]
async fn memory_values_round_trip_and_expire() {
    values_round_trip_and_expire(&MemoryCache::default()).await;
}

#[tokio::test]
async fn redis_values_round_trip_and_expire() {
    let cache = redis_cache(&unique_prefix()).await;
    values_round_trip_and_expire(cache.as_ref()).await;
    assert_eq!(cache.status().backend, "redis");
}

async fn burst_then_refusal(cache: &dyn Cache) {
    let quota = Quota { per_minute: 5, burst: 3 };
    let mut allowed = vec![];
    for _ in 0..3 {
        allowed.push(cache.rate_limit("login:ann", quota).await.unwrap());
    }
    let refused = cache.rate_limit("login:ann", quota).await.unwrap();
    let other_key = cache.rate_limit("login:bob", quota).await.unwrap();

    assert!(allowed.iter().all(|d| d.allowed));
    assert_eq!(allowed.iter().map(|d| d.remaining).collect::<Vec<_>>(), [2, 1, 0]);
    assert!(!refused.allowed);
    assert!(
        refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_secs(12),
        "{:?}",
        refused.retry_after
    );
    assert!(other_key.allowed);
}

#[tokio::test]
async fn memory_rate_limit_allows_the_burst_then_refuses_with_a_wait() {
    burst_then_refusal(&MemoryCache::default()).await;
}

#[tokio::test]
async fn redis_rate_limit_allows_the_burst_then_refuses_with_a_wait() {
    burst_then_refusal(redis_cache(&unique_prefix()).await.as_ref()).await;
}

#[tokio::test]
async fn two_instances_on_one_redis_share_their_limits() {
    let prefix = unique_prefix();
    let (first, second) = (redis_cache(&prefix).await, redis_cache(&prefix).await);
    let quota = Quota { per_minute: 60, burst: 4 };

    for cache in [&first, &second, &first, &second] {
        assert!(cache.rate_limit("api:7", quota).await.unwrap().allowed);
    }
    let fifth = second.rate_limit("api:7", quota).await.unwrap();

    assert!(!fifth.allowed);
}

#[tokio::test]
async fn with_redis_down_limits_still_hold_in_process_and_the_status_says_so() {
    let cache = unreachable_redis_cache().await;
    let quota = Quota { per_minute: 5, burst: 2 };

    let decisions = [
        cache.rate_limit("login:x", quota).await.unwrap(),
        cache.rate_limit("login:x", quota).await.unwrap(),
        cache.rate_limit("login:x", quota).await.unwrap(),
    ];
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();

    assert_eq!(decisions.map(|d| d.allowed), [true, true, false]);
    let status = cache.status();
    assert_eq!(status.backend, "redis");
    assert!(status.degraded && status.last_error.is_some(), "{status:?}");
    assert!(!status.last_error.unwrap_or_default().contains("redis://"));
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(cache.coherent_get("k").await, None, "sessions never come from process memory");
}

#[tokio::test]
async fn without_redis_the_cache_is_in_process_and_not_degraded() {
    let cache = cache::open(&CacheSettings::default()).await.unwrap();

    cache.coherent_set("s", b"1", Duration::from_secs(5)).await;

    assert_eq!(cache.coherent_get("s").await.as_deref(), Some(&b"1"[..]));
    let status = cache.status();
    assert_eq!((status.backend, status.degraded), ("memory", false));
}

/// Above 60,000 requests a minute the interval was zero milliseconds, the Redis script
/// divided by it and every call failed, leaving the cache degraded.
#[tokio::test]
async fn redis_limits_above_sixty_thousand_a_minute_still_count() {
    let cache = redis_cache(&unique_prefix()).await;
    let quota = Quota { per_minute: 100_000, burst: 3 };

    let decisions = [
        cache.rate_limit("api:fast", quota).await.unwrap(),
        cache.rate_limit("api:fast", quota).await.unwrap(),
    ];

    assert!(decisions.iter().all(|d| d.allowed), "{decisions:?}");
    assert!(!cache.status().degraded, "{:?}", cache.status());
    assert!(decisions[1].remaining < 3, "{decisions:?}");
}
