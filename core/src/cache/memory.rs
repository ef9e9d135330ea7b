//! The in-process cache: values and rate-limit states in bounded maps behind a mutex.
//!
//! Bounded so that a flood of distinct keys (client addresses, unknown emails) cannot grow
//! memory without end: when a map is full, expired entries go first, then the entries
//! closest to expiry. Evicting a rate-limit state forgets that key's recent requests, so
//! the bound is set far above what a company's users produce.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{gcra, Cache, Quota, RateDecision};
use crate::Result;

/// Entries each map holds at most unless configured otherwise.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// An in-process [`Cache`].
#[derive(Debug)]
pub struct MemoryCache {
    capacity: usize,
    epoch: Instant,
    values: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    /// Theoretical arrival time per key, in milliseconds since `epoch`.
    rates: Mutex<HashMap<String, u64>>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new(DEFAULT_CAPACITY)
    }
}

impl MemoryCache {
    /// A cache of at most `capacity` values and `capacity` rate-limit keys.
    pub fn new(capacity: usize) -> Self {
        MemoryCache {
            capacity: capacity.max(1),
            epoch: Instant::now(),
            values: Mutex::default(),
            rates: Mutex::default(),
        }
    }

    fn now_millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Makes room for one more entry; `time_left` gives an entry's remaining lifetime in
/// milliseconds (0 when expired). Expired entries go first, then a tenth of the map more
/// among those that expire soonest, so that eviction does not run on every insert.
fn make_room<V>(map: &mut HashMap<String, V>, capacity: usize, time_left: impl Fn(&V) -> u128) {
    if map.len() < capacity {
        return;
    }
    map.retain(|_, value| time_left(value) > 0);
    if map.len() < capacity {
        return;
    }
    let mut lives: Vec<u128> = map.values().map(&time_left).collect();
    let cut = (map.len() - capacity + capacity / 10).min(lives.len() - 1);
    let (_, bound, _) = lives.select_nth_unstable(cut);
    let bound = *bound;
    map.retain(|_, value| time_left(value) > bound);
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        match values.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Ok(Some(value.clone())),
            Some(_) => {
                values.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if !values.contains_key(key) {
            let now = Instant::now();
            make_room(&mut values, self.capacity, |(_, expires)| {
                expires.saturating_duration_since(now).as_millis()
            });
        }
        values.insert(key.to_owned(), (value.to_vec(), Instant::now() + ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.values.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        Ok(())
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision> {
        let now = self.now_millis();
        let mut rates = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        if !rates.contains_key(key) {
            // A state whose arrival time has passed is the same as no state.
            make_room(&mut rates, self.capacity, |tat| u128::from(tat.saturating_sub(now)));
        }
        let (decision, tat) = gcra(rates.get(key).copied(), now, quota);
        rates.insert(key.to_owned(), tat);
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_expire_and_the_maps_stay_bounded() {
        let cache = MemoryCache::new(10);
        cache.set("gone", b"x", Duration::ZERO).await.unwrap();
        assert_eq!(cache.get("gone").await.unwrap(), None);
        for i in 0..50 {
            cache.set(&format!("k{i}"), b"v", Duration::from_secs(60 + i)).await.unwrap();
        }
        assert!(cache.values.lock().unwrap().len() <= 10);
        assert_eq!(cache.get("k49").await.unwrap().as_deref(), Some(&b"v"[..]));

        let quota = Quota { per_minute: 1, burst: 1 };
        for i in 0..50 {
            cache.rate_limit(&format!("r{i}"), quota).await.unwrap();
        }
        assert!(cache.rates.lock().unwrap().len() <= 10);
    }
}
