//! Accounts, sessions, API tokens and login throttling: every rule of who may do what,
//! for all frontends.
//!
//! - **Accounts** have an email (unique without regard to case), a name, a department, a
//!   role ([`Role::User`] or [`Role::Admin`]) and an active flag. Passwords are 8 to 128
//!   characters, not common ([`validate_password`]), hashed with Argon2id on a bounded
//!   blocking pool.
//! - **Sessions** are rows in the store keyed by the SHA-256 of a random 256-bit token that
//!   only the client holds. A session ends at its absolute timeout, after its idle timeout,
//!   or when revoked (logout, revocation, a disabled account, a new password). The store is
//!   authoritative; sessions are cached where every instance sees a revocation at once:
//!   Redis, or in process when no Redis is configured. `last_seen_at` is written at most
//!   once a minute per session, so the idle timeout is exact to a minute.
//! - **API tokens** are short-lived HS256 JWTs (audience `bugdash`) naming their session,
//!   so revoking the session revokes its tokens. Only HS256 is accepted; expiry and
//!   not-before are checked against [`Auth`]'s clock.
//! - **Logins** are throttled per client address and per email, answer the same
//!   [`Error::LoginRefused`] in similar time whether or not the account exists, and are
//!   refused with [`Error::Capacity`] when `MAX_CONCURRENT_USERS` distinct users have live
//!   sessions, unless the account is an admin or already has a session.
//!
//! Deviations from and additions to the agreed API: `Auth::with_clock` builds an `Auth`
//! on a controllable [`Clock`]; [`Auth::sessions_of`] lists the caller's sessions marking
//! the current one ([`Auth::sessions`] marks none); [`Auth::validate_password`] is also a
//! free function; [`Authenticated::csrf_matches`] compares a CSRF token in constant time;
//! setting a password ends the account's sessions; `authenticate` and `authenticate_bearer`
//! answer `Ok(None)` for a refused credential and keep `Err` for failures of the store;
//! admins count towards `MAX_CONCURRENT_USERS` but are never refused by it; the core error
//! gains [`Error::Internal`] for our own faults.
//!
//! Several instances sharing a database must share Redis too: without it each caches
//! sessions in process, and one would honour a session another revoked for up to the cache's
//! minute.
//!
//! The capacity cap is counted in the statement that inserts the session (under an advisory
//! lock on PostgreSQL), so logins racing for the last place never both take it.

mod clock;
mod password;
mod session;
mod token;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::{Cache, Quota, RateDecision, SharedCache};
use crate::config::{AuthSettings, RateLimitSettings, Settings};
use crate::model::Timestamp;
use crate::secret::Secret;
use crate::store::accounts::{AccountRecord, NewAccountRecord};
use crate::store::Store;
use crate::{Error, Result};

pub use self::clock::{Clock, ManualClock, SystemClock};
pub use self::password::{validate_password, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
pub use self::session::{CACHE_TTL, LOCAL_CACHE_TTL};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads analyses and manages their own sessions.
    User,
    /// Also manages accounts and syncs.
    Admin,
}

impl Role {
    /// `user` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;

    fn from_str(text: &str) -> Result<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            _ => Err(Error::invalid("role", format!("must be user or admin, not {text:?}"))),
        }
    }
}

/// An account as shown to callers (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Account id.
    pub id: i64,
    /// Email, as given at creation.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Department, when given.
    pub department: Option<String>,
    /// Role.
    pub role: Role,
    /// False when disabled: a disabled account cannot sign in and has no sessions.
    pub active: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

impl From<AccountRecord> for Account {
    fn from(r: AccountRecord) -> Account {
        Account {
            id: r.id,
            email: r.email,
            name: r.name,
            department: r.department,
            role: r.role,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

/// What a new account needs.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Email (unique without regard to case).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Role.
    pub role: Role,
    /// Password, checked by [`validate_password`].
    pub password: Secret,
}

/// A session as shown to its owner (never with its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Public id, used to revoke it.
    pub id: i64,
    /// The account signed in.
    pub account_id: i64,
    /// When it started.
    pub created_at: Timestamp,
    /// Last use (to the minute).
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Client address at login.
    pub client_addr: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// True for the session making the request.
    pub current: bool,
}

/// Who is asking, as far as the frontend knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address (the proxy's view when the proxy is trusted).
    pub addr: Option<std::net::IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// A started session: the token goes into the cookie, the CSRF token to the page.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    /// Session token (256 random bits, hex); stored only as a hash.
    pub token: Secret,
    /// Token to send as `X-CSRF-Token` with cookie-authenticated writes.
    pub csrf_token: String,
    /// The account signed in.
    pub account: Account,
    /// The new session.
    pub session: SessionInfo,
}

/// A request's verified identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// The account.
    pub account: Account,
    /// The session, marked current.
    pub session: SessionInfo,
    /// The session's CSRF token.
    pub csrf_token: String,
}

impl Authenticated {
    /// Whether `token` is this session's CSRF token, compared in constant time.
    pub fn csrf_matches(&self, token: &str) -> bool {
        let (a, b) = (self.csrf_token.as_bytes(), token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// True for an admin.
    pub fn is_admin(&self) -> bool {
        self.account.role == Role::Admin
    }
}

/// Accounts, sessions, tokens and limits; cheap to clone (one shared inner state).
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    cache: Arc<SharedCache>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
    limits: RateLimitSettings,
    hasher: password::Hasher,
    /// Hash of a password nobody has, verified when the account is missing so that a
    /// failed login takes as long either way.
    dummy_hash: String,
    jwt: token::Keys,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

impl Auth {
    /// Builds the service on the system clock; reads or creates the stored JWT key when
    /// `JWT_SECRET_KEY` is unset.
    pub async fn new(
        store: Arc<dyn Store>,
        cache: Arc<SharedCache>,
        settings: &Settings,
    ) -> Result<Auth> {
        Auth::with_clock(store, cache, settings, Arc::new(SystemClock)).await
    }

    /// As [`Auth::new`], reading time from `clock`.
    pub async fn with_clock(
        store: Arc<dyn Store>,
        cache: Arc<SharedCache>,
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Auth> {
        let hasher = password::Hasher::new()?;
        let dummy = Secret::new(token::random_hex(16));
        let dummy_hash = hasher.hash(&dummy).await?;
        let jwt = token::Keys::load(store.as_ref(), settings.auth.jwt_secret.as_ref()).await?;
        let inner = Inner {
            store,
            cache,
            clock,
            settings: settings.auth.clone(),
            limits: settings.limits.clone(),
            hasher,
            dummy_hash,
            jwt,
        };
        Ok(Auth { inner: Arc::new(inner) })
    }

    /// The cache this service uses (for its status).
    pub fn cache(&self) -> &Arc<SharedCache> {
        &self.inner.cache
    }

    /// Checks a new password; see [`validate_password`].
    pub async fn validate_password(&self, password: &Secret) -> Result<()> {
        validate_password(password)
    }

    /// Creates an account after checking its fields and password.
    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        let email = check_email(&new.email)?;
        let name = check_text("name", &new.name, true)?;
        let department = match new.department.as_deref() {
            Some(text) => Some(check_text("department", text, false)?).filter(|d| !d.is_empty()),
            None => None,
        };
        validate_password(&new.password)?;
        let password_hash = self.inner.hasher.hash(&new.password).await?;
        let record = NewAccountRecord {
            email,
            name,
            department,
            role: new.role,
            password_hash: &password_hash,
            created_at: self.now(),
        };
        let account = self.inner.store.insert_account(&record).await?;
        tracing::info!(account = account.id, role = account.role.as_str(), "account created");
        Ok(account.into())
    }

    /// Every account, ordered by id.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let records = self.inner.store.account_records().await?;
        Ok(records.into_iter().map(Account::from).collect())
    }

    /// The account with this id.
    pub async fn account(&self, id: i64) -> Result<Option<Account>> {
        Ok(self.inner.store.account_record(id).await?.map(Account::from))
    }

    /// The account with this email, compared without regard to case.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>> {
        Ok(self.inner.store.account_record_by_email(email.trim()).await?.map(Account::from))
    }

    /// Sets a new password (checked like a new account's) and ends the account's
    /// sessions, so whoever knew the old one is out.
    pub async fn set_password(&self, id: i64, password: Secret) -> Result<()> {
        validate_password(&password)?;
        let hash = self.inner.hasher.hash(&password).await?;
        if !self.inner.store.update_password_hash(id, &hash).await? {
            return Err(not_found(id));
        }
        self.end_sessions(id).await?;
        tracing::info!(account = id, "password changed");
        Ok(())
    }

    /// Changes an account's role; its live sessions see the new role on their next request.
    pub async fn set_role(&self, id: i64, role: Role) -> Result<()> {
        if role != Role::Admin {
            self.keep_an_admin(id, "demoted").await?;
        }
        if !self.inner.store.update_role(id, role).await? {
            return Err(not_found(id));
        }
        self.forget_cached_sessions(id).await?;
        tracing::info!(account = id, role = role.as_str(), "role changed");
        Ok(())
    }

    /// Enables or disables an account; disabling ends its sessions at once.
    pub async fn set_active(&self, id: i64, active: bool) -> Result<()> {
        if !active {
            self.keep_an_admin(id, "disabled").await?;
        }
        if !self.inner.store.update_active(id, active).await? {
            return Err(not_found(id));
        }
        if active {
            self.forget_cached_sessions(id).await?;
        } else {
            self.end_sessions(id).await?;
        }
        tracing::info!(
            account = id,
            active,
            "account {}",
            if active { "enabled" } else { "disabled" }
        );
        Ok(())
    }

    /// Refuses to take away the last active admin: nobody could then manage accounts
    /// through the service. Two admins removing each other at the same instant can still
    /// both succeed (the check and the change are not one transaction); the CLI, which
    /// needs no account, repairs that.
    async fn keep_an_admin(&self, id: i64, change: &str) -> Result<()> {
        let accounts = self.inner.store.account_records().await?;
        let is_active_admin = |a: &AccountRecord| a.role == Role::Admin && a.active;
        let target_is_one = accounts.iter().any(|a| a.id == id && is_active_admin(a));
        let admins = accounts.iter().filter(|a| is_active_admin(a)).count();
        if target_is_one && admins == 1 {
            return Err(Error::Conflict {
                message: format!(
                    "account {id} is the only active admin and cannot be {change}; make \
                     another account admin first"
                ),
            });
        }
        Ok(())
    }

    /// Counts one API request of `account_id` against the API quota.
    pub async fn rate_limit_api(&self, account_id: i64) -> Result<RateDecision> {
        let limits = &self.inner.limits;
        let quota = Quota { per_minute: limits.api_per_minute, burst: limits.api_burst };
        self.inner.cache.rate_limit(&format!("rate:api:{account_id}"), quota).await
    }

    fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }
}

fn not_found(id: i64) -> Error {
    Error::NotFound { what: format!("account {id}") }
}

/// A plausible email: one `@` with text on both sides, a dot in the domain, no spaces,
/// at most 254 characters. Deliverability is not checked.
fn check_email(email: &str) -> Result<&str> {
    let email = email.trim();
    let bad = |why: &str| Err(Error::invalid("email", format!("{email:?} {why}")));
    if email.is_empty() || email.chars().count() > 254 {
        return bad("must be 1 to 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad("is not an email address (no @)");
    };
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !plausible {
        return bad("is not an email address");
    }
    Ok(email)
}

/// A name or department: trimmed, at most 200 characters, no control characters.
fn check_text<'a>(field: &str, text: &'a str, required: bool) -> Result<&'a str> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if text.chars().count() > 200 || text.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be at most 200 characters, without control characters",
        ));
    }
    Ok(text)
}

/// Milliseconds of a duration, as timestamps count.
fn millis(duration: Duration) -> i64 {
    duration.as_millis() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_shape_only() {
        assert_eq!(check_email("  Ann.Lee@Example.com ").unwrap(), "Ann.Lee@Example.com");
        for bad in ["", "ann", "ann@", "@example.com", "ann@example", "a b@example.com", "a@b@c.d"]
        {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_read_their_names_only() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!("user".parse::<Role>().unwrap(), Role::User);
        assert!("root".parse::<Role>().unwrap_err().to_string().contains("root"));
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let at = Timestamp::from_millis(0);
        let account = Account {
            id: 1,
            email: "a@b.c".into(),
            name: "A".into(),
            department: None,
            role: Role::User,
            active: true,
            created_at: at,
        };
        let session = SessionInfo {
            id: 1,
            account_id: 1,
            created_at: at,
            last_seen_at: at,
            expires_at: at,
            client_addr: None,
            user_agent: None,
            current: true,
        };
        let who = Authenticated { account, session, csrf_token: "abc123".into() };
        assert!(who.csrf_matches("abc123"));
        assert!(!who.csrf_matches("abc124") && !who.csrf_matches("abc12") && !who.csrf_matches(""));
    }
}
