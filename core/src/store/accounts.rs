//! Accounts, sessions and generated secrets in the store: the [`AccountStore`] trait,
//! implemented for PostgreSQL in `postgres_accounts` and for SQLite in `sqlite_accounts`.
//!
//! The rules (who may sign in, timeouts, caps) live in [`crate::auth`]; this layer only
//! reads and writes rows. Emails are unique without regard to case through a lower-cased
//! copy (`email_key`), the same on both backends. Instants are epoch milliseconds.

use async_trait::async_trait;

use crate::auth::Role;
use crate::model::Timestamp;
use crate::Result;

/// An account row, with its password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Account id.
    pub id: i64,
    /// Email as given.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Department, when given.
    pub department: Option<String>,
    /// Role.
    pub role: Role,
    /// False when disabled.
    pub active: bool,
    /// PHC string of the Argon2id hash.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: Timestamp,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// What a new account row holds.
#[derive(Clone)]
pub struct NewAccountRecord<'a> {
    /// Email as given (stored as is, compared lower-cased).
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Department.
    pub department: Option<&'a str>,
    /// Role.
    pub role: Role,
    /// PHC string of the password hash.
    pub password_hash: &'a str,
    /// Creation instant.
    pub created_at: Timestamp,
}

/// A session row.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id of the session (not its token).
    pub id: i64,
    /// The account signed in.
    pub account_id: i64,
    /// SHA-256 of the session token, hex.
    pub token_hash: String,
    /// The CSRF token handed out at login.
    pub csrf_token: String,
    /// When the session started.
    pub created_at: Timestamp,
    /// Last use, refreshed at most once a minute.
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Client address at login.
    pub client_addr: Option<String>,
    /// User agent at login.
    pub user_agent: Option<String>,
    /// When it was revoked (logout, disable, revocation).
    pub revoked_at: Option<Timestamp>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// The cap of distinct accounts with live sessions a new session must fit under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCap {
    /// Accounts with live sessions at most.
    pub users: u64,
    /// The instant sessions are judged live at.
    pub now: Timestamp,
    /// Sessions unused since before this are idle, so not live.
    pub idle_since: Timestamp,
}

/// Storage of accounts, sessions and generated secrets; part of every
/// [`Store`](super::Store).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Inserts an account; [`crate::Error::Conflict`] when the email is taken, whatever
    /// its case.
    async fn insert_account(&self, account: &NewAccountRecord<'_>) -> Result<AccountRecord>;

    /// Every account, ordered by id.
    async fn account_records(&self) -> Result<Vec<AccountRecord>>;

    /// The account with this id.
    async fn account_record(&self, id: i64) -> Result<Option<AccountRecord>>;

    /// The account with this email, compared without regard to case.
    async fn account_record_by_email(&self, email: &str) -> Result<Option<AccountRecord>>;

    /// Replaces the password hash; false when no such account.
    async fn update_password_hash(&self, id: i64, password_hash: &str) -> Result<bool>;

    /// Changes the role; false when no such account.
    async fn update_role(&self, id: i64, role: Role) -> Result<bool>;

    /// Enables or disables; false when no such account.
    async fn update_active(&self, id: i64, active: bool) -> Result<bool>;

    /// Inserts a session (its `id` is ignored) and returns it with its id; with a `cap`,
    /// only when its account already has a live session or fewer than `cap.users`
    /// accounts have one, else `None`. The count and the insert are one step, so logins
    /// racing for the last place never both take it.
    async fn insert_session(
        &self,
        session: &SessionRecord,
        cap: Option<&SessionCap>,
    ) -> Result<Option<SessionRecord>>;

    /// The session with this token hash, revoked or not.
    async fn session_by_token_hash(&self, token_hash: &str) -> Result<Option<SessionRecord>>;

    /// The session with this id, revoked or not.
    async fn session_record(&self, id: i64) -> Result<Option<SessionRecord>>;

    /// Sets a session's last use.
    async fn touch_session(&self, id: i64, at: Timestamp) -> Result<()>;

    /// An account's sessions that are not revoked, not expired at `now` and used since
    /// `idle_since`, newest first.
    async fn live_sessions(
        &self,
        account_id: i64,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<Vec<SessionRecord>>;

    /// Revokes the given sessions that are not yet revoked; returns those it revoked.
    /// `account_id` restricts it to one account's sessions; `session_id` to one session.
    async fn revoke_sessions(
        &self,
        account_id: Option<i64>,
        session_id: Option<i64>,
        at: Timestamp,
    ) -> Result<Vec<SessionRecord>>;

    /// Deletes sessions revoked, expired at `now`, or unused since `idle_since`; returns
    /// how many.
    async fn delete_dead_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<u64>;

    /// Distinct accounts with a live session (as [`AccountStore::live_sessions`]), and the
    /// earliest instant one of those sessions ends by itself.
    async fn live_users(
        &self,
        now: Timestamp,
        idle_since: Timestamp,
        idle: std::time::Duration,
    ) -> Result<(u64, Option<Timestamp>)>;

    /// The stored secret called `name`, storing `candidate` first when there is none; every
    /// instance racing here gets the same value.
    async fn stored_secret(&self, name: &str, candidate: &str) -> Result<String>;
}

/// The form emails are compared in: lower-cased.
pub(crate) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Columns of an account row, in the order the backends read them.
pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, email, name, department, role, active, password_hash, created_at";

/// Columns of a session row, in the order the backends read them.
pub(crate) const SESSION_COLUMNS: &str = "id, account_id, token_hash, csrf_token, created_at, \
     last_seen_at, expires_at, client_addr, user_agent, revoked_at";

/// Maps a driver error to [`crate::Error::Store`], and a unique violation on the email to
/// [`crate::Error::Conflict`].
pub(crate) fn failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> crate::Error {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            crate::Error::Conflict { message: "an account with this email already exists".into() }
        }
        _ => crate::Error::store(operation, error),
    }
}

/// A role from its stored name.
pub(crate) fn role(text: &str) -> Result<Role> {
    text.parse()
}
