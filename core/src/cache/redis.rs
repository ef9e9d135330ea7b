//! The Redis cache: values with `SET … PX`, rate limits by one Lua script per request, on
//! a connection manager that reconnects by itself.
//!
//! Every key carries a prefix (`bugdash:` by default) so that BugDash can share a Redis
//! database with other applications, and tests can share one server without meeting.
//! Calls time out after [`TIMEOUT`]: a slow Redis must not hold requests, as the shared
//! cache answers in process instead.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::{Cache, Quota, RateDecision};
use crate::secret::Secret;
use crate::{Error, Result};

/// How long a Redis call (connecting included) may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_millis(1_000);

/// GCRA on Redis's own clock, so every instance agrees on time. Arguments: the emission
/// interval and the burst tolerance in microseconds (in milliseconds an interval rounds to
/// zero above 60,000 requests a minute, and the script divided by it). Returns allowed (0 or
/// 1), the wait in microseconds when refused, and the requests still allowed at once.
/// Microseconds since the epoch stay well inside the 2^53 a Lua number holds exactly.
const GCRA_SCRIPT: &str = r"
local interval = math.max(tonumber(ARGV[1]), 1)
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local ahead = tat + interval - now
if ahead > tolerance then
  return {0, ahead - tolerance, 0}
end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.max(math.ceil(ahead / 1000), 1))
return {1, 0, math.floor((tolerance - ahead) / interval)}
";

/// A [`Cache`] in Redis.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
    gcra: Script,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn failed(operation: &str) -> impl FnOnce(redis::RedisError) -> Error + '_ {
    move |source| Error::Cache { operation: operation.to_owned(), source: Box::new(source) }
}

impl RedisCache {
    /// A cache on the Redis server at `url`, with keys under `prefix`. Connects lazily: a
    /// server that is down now makes calls fail (and reconnect later), not this.
    pub fn new(url: &Secret, prefix: &str) -> Result<Self> {
        // The driver's error may quote the URL, and with it a password: keep it out.
        let client = redis::Client::open(url.expose()).map_err(|_| {
            Error::Config("REDIS_URL is not a valid redis:// or rediss:// URL".into())
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(failed("set up the Redis connection"))?;
        Ok(RedisCache { connection, prefix: prefix.to_owned(), gcra: Script::new(GCRA_SCRIPT) })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Sends `PING`; an error says why Redis cannot be used.
    pub async fn ping(&self) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: String =
            redis::cmd("PING").query_async(&mut connection).await.map_err(failed("answer PING"))?;
        Ok(())
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut connection = self.connection.clone();
        connection.get(self.key(key)).await.map_err(failed("read a value"))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        let mut connection = self.connection.clone();
        let millis = (ttl.as_millis() as u64).max(1);
        connection.pset_ex(self.key(key), value, millis).await.map_err(failed("store a value"))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let mut connection = self.connection.clone();
        let _: u64 = connection.del(self.key(key)).await.map_err(failed("delete a value"))?;
        Ok(())
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision> {
        let mut connection = self.connection.clone();
        let (allowed, wait, remaining): (u8, u64, u32) = self
            .gcra
            .key(self.key(key))
            .arg(quota.interval().as_micros() as u64)
            .arg(quota.tolerance().as_micros() as u64)
            .invoke_async(&mut connection)
            .await
            .map_err(failed("count a request against a rate limit"))?;
        Ok(RateDecision {
            allowed: allowed == 1,
            retry_after: Duration::from_micros(wait),
            remaining,
        })
    }
}
