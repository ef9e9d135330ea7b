//! Logins, sessions and their cache.
//!
//! A cached session (key `session:<token hash>`, and `session-id:<id>` for bearer tokens)
//! holds the session row and its account, for at most [`CACHE_TTL`] in Redis, where every
//! change deletes it for all instances at once. Without Redis the cache lives in this
//! process and cannot hear of changes made by another process (`bugdash users disable`, a
//! second instance), so entries last only [`LOCAL_CACHE_TTL`]: such a change is seen within
//! a second. A cached entry that would refuse the request (idle, say) is checked against the
//! store before refusing, as another instance may have refreshed the row.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{millis, token, Account, Auth, Authenticated, Client, LoginOutcome, SessionInfo};
use crate::cache::{Cache, Quota};
use crate::model::Timestamp;
use crate::secret::Secret;
use crate::store::accounts::{SessionCap, SessionRecord};
use crate::{Error, Result};

/// How long a session stays cached in Redis before it is read from the store again.
pub const CACHE_TTL: Duration = Duration::from_secs(60);

/// How long a session stays cached in process when there is no Redis: the longest another
/// process's disable, revocation or role change can go unseen here.
pub const LOCAL_CACHE_TTL: Duration = Duration::from_secs(1);

/// `last_seen_at` is written when it is at least this old.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A session and its account, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    id: i64,
    token_hash: String,
    csrf_token: String,
    created_at: Timestamp,
    last_seen_at: Timestamp,
    expires_at: Timestamp,
    client_addr: Option<String>,
    user_agent: Option<String>,
    revoked: bool,
    account: Account,
}

impl Cached {
    fn new(session: SessionRecord, account: Account) -> Cached {
        Cached {
            id: session.id,
            token_hash: session.token_hash,
            csrf_token: session.csrf_token,
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            client_addr: session.client_addr,
            user_agent: session.user_agent,
            revoked: session.revoked_at.is_some(),
            account,
        }
    }

    fn authenticated(&self) -> Authenticated {
        let session = SessionInfo {
            id: self.id,
            account_id: self.account.id,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            client_addr: self.client_addr.clone(),
            user_agent: self.user_agent.clone(),
            current: true,
        };
        Authenticated {
            account: self.account.clone(),
            session,
            csrf_token: self.csrf_token.clone(),
        }
    }
}

fn info(session: &SessionRecord, current: bool) -> SessionInfo {
    SessionInfo {
        id: session.id,
        account_id: session.account_id,
        created_at: session.created_at,
        last_seen_at: session.last_seen_at,
        expires_at: session.expires_at,
        client_addr: session.client_addr.clone(),
        user_agent: session.user_agent.clone(),
        current,
    }
}

fn hash_key(token_hash: &str) -> String {
    format!("session:{token_hash}")
}

fn id_key(id: i64) -> String {
    format!("session-id:{id}")
}

/// How a session is looked up.
#[derive(Clone, Copy)]
pub(super) enum Lookup<'a> {
    TokenHash(&'a str),
    Id(i64),
}

impl Lookup<'_> {
    fn key(&self) -> String {
        match self {
            Lookup::TokenHash(hash) => hash_key(hash),
            Lookup::Id(id) => id_key(*id),
        }
    }
}

impl Auth {
    fn idle(&self) -> Duration {
        Duration::from_secs(u64::from(self.inner.settings.idle_timeout_minutes) * 60)
    }

    fn lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.inner.settings.session_timeout_hours) * 3600)
    }

    /// The instant before which an unused session has gone idle.
    fn idle_since(&self, now: Timestamp) -> Timestamp {
        Timestamp::from_millis(now.millis() - millis(self.idle()))
    }

    /// Signs in: throttled per client address and per email; the same
    /// [`Error::LoginRefused`] for a wrong password, an unknown or a disabled account.
    pub async fn login(
        &self,
        email: &str,
        password: &Secret,
        client: &Client,
    ) -> Result<LoginOutcome> {
        let email = email.trim();
        self.throttle_login(email, client).await?;

        let record = self.inner.store.account_record_by_email(email).await?;
        let hash = record.as_ref().map_or(&self.inner.dummy_hash, |r| &r.password_hash);
        let matches = self.inner.hasher.verify(password, hash).await?;
        let account = match record {
            Some(record) if matches && record.active => Account::from(record),
            _ => {
                tracing::warn!(addr = ?client.addr, "login refused");
                return Err(Error::LoginRefused);
            }
        };

        self.start_session(account, client, self.now()).await
    }

    async fn throttle_login(&self, email: &str, client: &Client) -> Result<()> {
        let limits = &self.inner.limits;
        let quota = Quota { per_minute: limits.login_per_minute, burst: limits.login_burst };
        // Hashed: bounded in length, and no email stored in the cache.
        let account_key = token::sha256_hex(&email.to_lowercase());
        let mut keys = vec![format!("rate:login:account:{account_key}")];
        if let Some(addr) = client.addr {
            keys.push(format!("rate:login:addr:{addr}"));
        }
        for key in keys {
            let decision = self.inner.cache.rate_limit(&key, quota).await?;
            if !decision.allowed {
                tracing::warn!(addr = ?client.addr, "login throttled");
                return Err(Error::RateLimited { retry_after: decision.retry_after });
            }
        }
        Ok(())
    }

    /// The wait to announce when the cap of users with live sessions is reached: until
    /// the first of their sessions ends by itself, at least a second, at most the idle
    /// timeout.
    async fn capacity_refusal(&self, now: Timestamp) -> Error {
        let idle_since = self.idle_since(now);
        let (users, next_end) =
            match self.inner.store.live_users(now, idle_since, self.idle()).await {
                Ok(found) => found,
                Err(error) => return error,
            };
        let wait = next_end.map_or(self.idle(), |end| {
            Duration::from_millis(end.millis().saturating_sub(now.millis()).max(0) as u64)
        });
        tracing::warn!(users, "login refused: the cap of concurrent users is reached");
        Error::Capacity { retry_after: wait.clamp(Duration::from_secs(1), self.idle()) }
    }

    async fn start_session(
        &self,
        account: Account,
        client: &Client,
        now: Timestamp,
    ) -> Result<LoginOutcome> {
        let token = token::random_hex(32);
        let expires_at = Timestamp::from_millis(now.millis() + millis(self.lifetime()));
        let record = SessionRecord {
            id: 0,
            account_id: account.id,
            token_hash: token::sha256_hex(&token),
            csrf_token: token::random_hex(32),
            created_at: now,
            last_seen_at: now,
            expires_at,
            client_addr: client.addr.map(|a| a.to_string()),
            user_agent: client.user_agent.as_ref().map(|ua| ua.chars().take(512).collect()),
            revoked_at: None,
        };
        // Admins count towards the cap but are never refused by it; a user who already
        // has a live session takes no new place.
        let cap = SessionCap {
            users: u64::from(self.inner.settings.max_concurrent_users),
            now,
            idle_since: self.idle_since(now),
        };
        let cap = (account.role != super::Role::Admin).then_some(&cap);
        let Some(record) = self.inner.store.insert_session(&record, cap).await? else {
            return Err(self.capacity_refusal(now).await);
        };
        tracing::info!(account = account.id, session = record.id, "session started");
        Ok(LoginOutcome {
            token: Secret::new(token),
            csrf_token: record.csrf_token.clone(),
            session: info(&record, true),
            account,
        })
    }

    /// The identity behind a session token (the cookie's value): `None` when the token is
    /// unknown, or its session revoked, expired, idle, or its account disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Authenticated>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token::sha256_hex(token);
        self.authenticate_session(Lookup::TokenHash(&hash)).await
    }

    /// The identity behind a session found by token hash or id, as [`Auth::authenticate`].
    pub(super) async fn authenticate_session(
        &self,
        lookup: Lookup<'_>,
    ) -> Result<Option<Authenticated>> {
        let now = self.now();
        let cache = &self.inner.cache;
        let cached = cache.coherent_get(&lookup.key()).await;
        let cached = cached.and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok());
        let mut session = match cached {
            Some(cached) if self.is_live(&cached, now) => cached,
            _ => match self.load(lookup).await? {
                Some(loaded) if self.is_live(&loaded, now) => loaded,
                _ => return Ok(None),
            },
        };
        if now.millis() - session.last_seen_at.millis() >= millis(TOUCH_EVERY) {
            self.inner.store.touch_session(session.id, now).await?;
            session.last_seen_at = now;
            self.remember(&lookup, &session).await;
        }
        Ok(Some(session.authenticated()))
    }

    fn is_live(&self, session: &Cached, now: Timestamp) -> bool {
        !session.revoked
            && session.account.active
            && now < session.expires_at
            && session.last_seen_at > self.idle_since(now)
    }

    /// Reads a session and its account from the store and caches them.
    async fn load(&self, lookup: Lookup<'_>) -> Result<Option<Cached>> {
        let store = &self.inner.store;
        let record = match lookup {
            Lookup::TokenHash(hash) => store.session_by_token_hash(hash).await?,
            Lookup::Id(id) => store.session_record(id).await?,
        };
        let Some(record) = record else { return Ok(None) };
        let Some(account) = store.account_record(record.account_id).await? else {
            return Ok(None);
        };
        let cached = Cached::new(record, account.into());
        self.remember(&lookup, &cached).await;
        Ok(Some(cached))
    }

    async fn remember(&self, lookup: &Lookup<'_>, session: &Cached) {
        if let Ok(bytes) = serde_json::to_vec(session) {
            let ttl = if self.inner.cache.is_shared() { CACHE_TTL } else { LOCAL_CACHE_TTL };
            self.inner.cache.coherent_set(&lookup.key(), &bytes, ttl).await;
        }
    }

    async fn forget(&self, session: &SessionRecord) {
        self.inner.cache.coherent_delete(&hash_key(&session.token_hash)).await;
        self.inner.cache.coherent_delete(&id_key(session.id)).await;
    }

    /// Ends the session of this token (no error when it is unknown or already ended).
    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = token::sha256_hex(token);
        let Some(session) = self.inner.store.session_by_token_hash(&hash).await? else {
            return Ok(());
        };
        self.revoke(Some(session.account_id), Some(session.id)).await?;
        tracing::info!(account = session.account_id, session = session.id, "signed out");
        Ok(())
    }

    async fn revoke(&self, account_id: Option<i64>, session_id: Option<i64>) -> Result<usize> {
        let revoked = self.inner.store.revoke_sessions(account_id, session_id, self.now()).await?;
        for session in &revoked {
            self.forget(session).await;
        }
        Ok(revoked.len())
    }

    /// Ends every session of an account.
    pub(super) async fn end_sessions(&self, account_id: i64) -> Result<()> {
        let ended = self.revoke(Some(account_id), None).await?;
        if ended > 0 {
            tracing::info!(account = account_id, sessions = ended, "sessions ended");
        }
        Ok(())
    }

    /// Drops an account's live sessions from the cache, so the next request reads the
    /// account again.
    pub(super) async fn forget_cached_sessions(&self, account_id: i64) -> Result<()> {
        let now = self.now();
        let sessions =
            self.inner.store.live_sessions(account_id, now, self.idle_since(now)).await?;
        for session in &sessions {
            self.forget(session).await;
        }
        Ok(())
    }

    /// An account's live sessions, newest first, none marked current.
    pub async fn sessions(&self, account_id: i64) -> Result<Vec<SessionInfo>> {
        let now = self.now();
        let sessions =
            self.inner.store.live_sessions(account_id, now, self.idle_since(now)).await?;
        Ok(sessions.iter().map(|s| info(s, false)).collect())
    }

    /// The caller's live sessions, newest first, the one making the request marked current.
    pub async fn sessions_of(&self, who: &Authenticated) -> Result<Vec<SessionInfo>> {
        let mut sessions = self.sessions(who.account.id).await?;
        for session in &mut sessions {
            session.current = session.id == who.session.id;
        }
        Ok(sessions)
    }

    /// Ends one session of an account; false when the account has no such live session.
    pub async fn revoke_session(&self, account_id: i64, session_id: i64) -> Result<bool> {
        let ended = self.revoke(Some(account_id), Some(session_id)).await? > 0;
        if ended {
            tracing::info!(account = account_id, session = session_id, "session revoked");
        }
        Ok(ended)
    }

    /// Deletes sessions that ended (revoked, expired or idle); returns how many.
    pub async fn cleanup_expired(&self) -> Result<u64> {
        let now = self.now();
        self.inner.store.delete_dead_sessions(now, self.idle_since(now)).await
    }

    /// Distinct users with a live session now.
    pub async fn live_users(&self) -> Result<u64> {
        let now = self.now();
        let (users, _) =
            self.inner.store.live_users(now, self.idle_since(now), self.idle()).await?;
        Ok(users)
    }
}
