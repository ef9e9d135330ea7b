//! [`AccountStore`] on SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use super::accounts::{
    email_key, failed, role, AccountRecord, AccountStore, NewAccountRecord, SessionCap,
    SessionRecord, ACCOUNT_COLUMNS, SESSION_COLUMNS,
};
use super::SqliteStore;
use crate::auth::Role;
use crate::model::Timestamp;
use crate::Result;

fn account(row: &SqliteRow) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        department: row.get(3),
        role: role(row.get(4))?,
        active: row.get(5),
        password_hash: row.get(6),
        created_at: Timestamp::from_millis(row.get(7)),
    })
}

fn session(row: &SqliteRow) -> SessionRecord {
    SessionRecord {
        id: row.get(0),
        account_id: row.get(1),
        token_hash: row.get(2),
        csrf_token: row.get(3),
        created_at: Timestamp::from_millis(row.get(4)),
        last_seen_at: Timestamp::from_millis(row.get(5)),
        expires_at: Timestamp::from_millis(row.get(6)),
        client_addr: row.get(7),
        user_agent: row.get(8),
        revoked_at: row.get::<Option<i64>, _>(9).map(Timestamp::from_millis),
    }
}

/// Live: not revoked, not expired at `?2`, used after `?3`; `?1` is the account.
const LIVE: &str = "revoked_at IS NULL AND expires_at > ?2 AND last_seen_at > ?3";

#[async_trait]
impl AccountStore for SqliteStore {
    async fn insert_account(&self, new: &NewAccountRecord<'_>) -> Result<AccountRecord> {
        let sql = format!(
            "INSERT INTO accounts (email, email_key, name, department, role, password_hash, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {ACCOUNT_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(new.email)
            .bind(email_key(new.email))
            .bind(new.name)
            .bind(new.department)
            .bind(new.role.as_str())
            .bind(new.password_hash)
            .bind(new.created_at.millis())
            .fetch_one(self.pool())
            .await
            .map_err(failed("create an account"))?;
        account(&row)
    }

    async fn account_records(&self) -> Result<Vec<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(failed("list accounts"))?;
        rows.iter().map(account).collect()
    }

    async fn account_record(&self, id: i64) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(failed("read an account"))?;
        row.as_ref().map(account).transpose()
    }

    async fn account_record_by_email(&self, email: &str) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email_key = ?1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email_key(email))
            .fetch_optional(self.pool())
            .await
            .map_err(failed("read an account"))?;
        row.as_ref().map(account).transpose()
    }

    async fn update_password_hash(&self, id: i64, password_hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE accounts SET password_hash = ?2 WHERE id = ?1")
            .bind(id)
            .bind(password_hash)
            .execute(self.pool())
            .await
            .map_err(failed("change a password"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_role(&self, id: i64, role: Role) -> Result<bool> {
        let done = sqlx::query("UPDATE accounts SET role = ?2 WHERE id = ?1")
            .bind(id)
            .bind(role.as_str())
            .execute(self.pool())
            .await
            .map_err(failed("change a role"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_active(&self, id: i64, active: bool) -> Result<bool> {
        let done = sqlx::query("UPDATE accounts SET active = ?2 WHERE id = ?1")
            .bind(id)
            .bind(active)
            .execute(self.pool())
            .await
            .map_err(failed("enable or disable an account"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_session(
        &self,
        s: &SessionRecord,
        cap: Option<&SessionCap>,
    ) -> Result<Option<SessionRecord>> {
        // The cap's users, now and idle_since are ?9, ?10 and ?11; a NULL cap admits all.
        let sql = format!(
            "INSERT INTO sessions (account_id, token_hash, csrf_token, created_at, last_seen_at, \
             expires_at, client_addr, user_agent) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
             WHERE ?9 IS NULL \
             OR EXISTS (SELECT 1 FROM sessions WHERE account_id = ?1 AND revoked_at IS NULL \
             AND expires_at > ?10 AND last_seen_at > ?11) \
             OR (SELECT COUNT(DISTINCT l.account_id) FROM sessions l \
             JOIN accounts a ON a.id = l.account_id WHERE a.active AND l.revoked_at IS NULL \
             AND l.expires_at > ?10 AND l.last_seen_at > ?11) < ?9 \
             RETURNING {SESSION_COLUMNS}"
        );
        let query = sqlx::query(AssertSqlSafe(sql))
            .bind(s.account_id)
            .bind(&s.token_hash)
            .bind(&s.csrf_token)
            .bind(s.created_at.millis())
            .bind(s.last_seen_at.millis())
            .bind(s.expires_at.millis())
            .bind(&s.client_addr)
            .bind(&s.user_agent)
            .bind(cap.map(|cap| cap.users.min(i64::MAX as u64) as i64))
            .bind(cap.map(|cap| cap.now.millis()))
            .bind(cap.map(|cap| cap.idle_since.millis()));
        // One statement holds SQLite's write lock from its count to its insert.
        let row = query.fetch_optional(self.pool()).await.map_err(failed("start a session"))?;
        Ok(row.as_ref().map(session))
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(failed("read a session"))?;
        Ok(row.as_ref().map(session))
    }

    async fn session_record(&self, id: i64) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(failed("read a session"))?;
        Ok(row.as_ref().map(session))
    }

    async fn touch_session(&self, id: i64, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?2) WHERE id = ?1")
            .bind(id)
            .bind(at.millis())
            .execute(self.pool())
            .await
            .map_err(failed("note a session's use"))?;
        Ok(())
    }

    async fn live_sessions(
        &self,
        account_id: i64,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = ?1 AND {LIVE} \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(now.millis())
            .bind(idle_since.millis())
            .fetch_all(self.pool())
            .await
            .map_err(failed("list sessions"))?;
        Ok(rows.iter().map(session).collect())
    }

    async fn revoke_sessions(
        &self,
        account_id: Option<i64>,
        session_id: Option<i64>,
        at: Timestamp,
    ) -> Result<Vec<SessionRecord>> {
        let sql = format!(
            "UPDATE sessions SET revoked_at = ?1 WHERE revoked_at IS NULL \
             AND (?2 IS NULL OR account_id = ?2) AND (?3 IS NULL OR id = ?3) \
             RETURNING {SESSION_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(at.millis())
            .bind(account_id)
            .bind(session_id)
            .fetch_all(self.pool())
            .await
            .map_err(failed("revoke sessions"))?;
        Ok(rows.iter().map(session).collect())
    }

    async fn delete_dead_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= ?1 \
             OR last_seen_at <= ?2",
        )
        .bind(now.millis())
        .bind(idle_since.millis())
        .execute(self.pool())
        .await
        .map_err(failed("delete ended sessions"))?;
        Ok(done.rows_affected())
    }

    async fn live_users(
        &self,
        now: Timestamp,
        idle_since: Timestamp,
        idle: std::time::Duration,
    ) -> Result<(u64, Option<Timestamp>)> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT s.account_id), MIN(MIN(s.expires_at, s.last_seen_at + ?3)) \
             FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE a.active AND s.revoked_at IS NULL AND s.expires_at > ?1 \
             AND s.last_seen_at > ?2",
        )
        .bind(now.millis())
        .bind(idle_since.millis())
        .bind(idle.as_millis() as i64)
        .fetch_one(self.pool())
        .await
        .map_err(failed("count signed-in users"))?;
        let users: i64 = row.get(0);
        let next_end: Option<i64> = row.get(1);
        Ok((users as u64, next_end.map(Timestamp::from_millis)))
    }

    async fn stored_secret(&self, name: &str, candidate: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO generated_secrets (name, value, created_at) VALUES (?1, ?2, \
             ?3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(Timestamp::from(chrono::Utc::now()).millis())
        .execute(self.pool())
        .await
        .map_err(failed("store a generated secret"))?;
        sqlx::query_scalar("SELECT value FROM generated_secrets WHERE name = ?1")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .map_err(failed("read a generated secret"))
    }
}
