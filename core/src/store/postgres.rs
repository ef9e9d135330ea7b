//! The PostgreSQL store, for production.
//!
//! A batch of issues travels as one array per column and is unnested by the server, so a
//! batch costs a handful of statements whatever its size; issues not stored yet go in by
//! binary `COPY` (see `pg_copy`). Issues whose content hash did not change are not
//! rewritten at all. An issue's lists are JSON text in its own row (see
//! `rows::ListsJson`), so they are replaced with it. A bulk write
//! keeps three batches in flight on three connections, because the server, not BugDash, is
//! the bottleneck of an import: a second backend process uses a second core, and a third
//! keeps both busy while one batch waits on a round trip (import of 600,000 REST issues:
//! 43.5k issues/s with two, 45.3k with three).

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use super::pg_copy::BinaryRows;
use super::rows::{self, failed, history_source_name, IssueRow, Prepared};
use super::{
    stable_hash, Backend, LockHolder, ProjectInfo, ProjectVersion, SchemaMigration, Store,
    SyncLock, SyncRun, SyncState, WriteStats,
};
use crate::model::{Issue, StatusCategory, Timestamp};
use crate::{Error, Result};

/// Issues written per transaction by [`Store::upsert_issues`] unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;

/// Batches a bulk write keeps in flight, each on a connection of its own.
const BATCHES_IN_FLIGHT: usize = 3;
const _: () = assert!(BATCHES_IN_FLIGHT == 3, "write_batches joins three batches by name");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    batch_size: usize,
    /// Whether the server can compress large values with LZ4 (built `--with-lz4`).
    lz4: bool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://…`) without migrating it.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("cannot read the PostgreSQL URL: {e}")))?;
        Self::connect_with(options).await
    }

    /// Connects with the given options without migrating the database.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .map_err(failed("connect to PostgreSQL"))?;
        let lz4: bool = sqlx::query_scalar(
            "SELECT COALESCE(bool_or('lz4' = ANY (enumvals)), false) FROM pg_settings \
             WHERE name = 'default_toast_compression'",
        )
        .fetch_one(&pool)
        .await
        .map_err(failed("read the server's compression methods"))?;
        Ok(PostgresStore { pool, batch_size: DEFAULT_BATCH_SIZE, lz4 })
    }

    /// Sets how many issues [`Store::upsert_issues`] writes per transaction (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The connection pool, for callers that need plain SQL (tests, administration).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Versions of the migrations applied so far; none before the first.
    async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let recorded: bool =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .map_err(failed("read the applied migrations"))?;
        if !recorded {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
            .map_err(failed("read the applied migrations"))
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The advisory lock key of a project's sync lock: the same in every process and release,
/// and prefixed so it cannot meet a key another application sharing the database hashes.
fn sync_lock_key(project: &str) -> i64 {
    stable_hash(format!("bugdash-sync:{project}").as_bytes()) as i64
}

/// A session-level advisory lock on a connection of its own, taken out of the pool so the
/// lock never goes back into it with a connection. The server releases the lock when the
/// session ends, which dropping the connection or the death of the process brings about.
///
/// Session locks need a session per client: behind a pooler in transaction mode (such as
/// PgBouncer's) they are not reliable; the database URL must reach the server directly.
struct AdvisoryLock {
    connection: PgConnection,
    key: i64,
}

#[async_trait]
impl LockHolder for AdvisoryLock {
    async fn release(mut self: Box<Self>) {
        // Closing alone would let the server release the lock a moment after we return;
        // unlocking first is a round trip that ends with the lock free. Failures need no
        // handling: a broken connection ends the session, and the lock with it.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.connection)
            .await;
        let _ = sqlx::Connection::close(self.connection).await;
    }
}

/// Milliseconds since the epoch as a timestamptz; exact, because `to_timestamp` rounds to
/// the microsecond and a double holds every millisecond of the next 100,000 years.
macro_rules! ts {
    ($param:literal) => {
        concat!("to_timestamp(", $param, "::float8 / 1000)")
    };
}

/// A timestamptz column as milliseconds since the epoch (`extract` is exact numeric).
macro_rules! millis {
    ($column:literal) => {
        concat!("(extract(epoch FROM ", $column, ") * 1000)::int8")
    };
}

const UPSERT_ISSUES: &str = concat!(
    "INSERT INTO issues (id, key, project, issue_type, status, status_category, priority, ",
    "resolution, created, updated, resolved, environment, assignee, reporter, summary, ",
    "description, comments, history_source, history_complete, reopen_count, content_hash, ",
    "stored_at, components, labels, fix_versions, affects_versions, status_changes) ",
    "SELECT t.id, t.key, t.project, t.issue_type, t.status, t.status_category, t.priority, ",
    "t.resolution, ",
    ts!("t.created"),
    ", ",
    ts!("t.updated"),
    ", ",
    ts!("t.resolved"),
    ", t.environment, t.assignee, t.reporter, t.summary, t.description, t.comments, ",
    "t.history_source, t.history_complete, t.reopen_count, t.content_hash, ",
    ts!("$21"),
    ", t.components, t.labels, t.fix_versions, t.affects_versions, t.status_changes",
    " FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], ",
    "$7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::text[], $13::text[], ",
    "$14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bool[], ",
    "$20::int8[], $22::int8[], $23::text[], $24::text[], $25::text[], $26::text[], ",
    "$27::text[]) AS t(id, key, project, issue_type, status, status_category, ",
    "priority, resolution, created, updated, resolved, environment, assignee, reporter, ",
    "summary, description, comments, history_source, history_complete, reopen_count, ",
    "content_hash, components, labels, fix_versions, affects_versions, status_changes) ",
    "ON CONFLICT (id) DO UPDATE SET key = EXCLUDED.key, project = EXCLUDED.project, ",
    "issue_type = EXCLUDED.issue_type, status = EXCLUDED.status, ",
    "status_category = EXCLUDED.status_category, priority = EXCLUDED.priority, ",
    "resolution = EXCLUDED.resolution, created = EXCLUDED.created, ",
    "updated = EXCLUDED.updated, resolved = EXCLUDED.resolved, ",
    "environment = EXCLUDED.environment, assignee = EXCLUDED.assignee, ",
    "reporter = EXCLUDED.reporter, summary = EXCLUDED.summary, ",
    "description = EXCLUDED.description, comments = EXCLUDED.comments, ",
    "history_source = EXCLUDED.history_source, history_complete = EXCLUDED.history_complete, ",
    "reopen_count = EXCLUDED.reopen_count, removed = false, removed_at = NULL, ",
    "content_hash = EXCLUDED.content_hash, stored_at = EXCLUDED.stored_at, ",
    "components = EXCLUDED.components, labels = EXCLUDED.labels, ",
    "fix_versions = EXCLUDED.fix_versions, affects_versions = EXCLUDED.affects_versions, ",
    "status_changes = EXCLUDED.status_changes ",
    "WHERE (issues.content_hash <> EXCLUDED.content_hash OR issues.removed) ",
    // A writer in another transaction may have stored a newer copy since the plan.
    "AND (issues.updated IS NULL OR EXCLUDED.updated >= issues.updated)"
);

const SELECT_ISSUES: &str = concat!(
    "SELECT id, key, project, issue_type, status, status_category, priority, resolution, ",
    millis!("created"),
    " AS created, ",
    millis!("updated"),
    " AS updated, ",
    millis!("resolved"),
    " AS resolved, environment, assignee, reporter, summary, description, ",
    "comments::text AS comments, history_source, history_complete, reopen_count, ",
    "components, labels, fix_versions, affects_versions, status_changes FROM issues ",
    "WHERE NOT removed AND id > $1 AND (cardinality($2::text[]) = 0 OR project = ANY($2)) ",
    "ORDER BY id LIMIT $3"
);

impl PostgresStore {
    /// Writes issues in one transaction per batch, [`BATCHES_IN_FLIGHT`] batches at a
    /// time. `prepare` left one copy per id, so batches in flight never touch the same
    /// issue; they meet only on their projects' rows, locked briefly at the end.
    async fn write_batches(&self, issues: &[Issue]) -> Result<WriteStats> {
        let prepared = rows::prepare(issues)?;
        let now = rows::now();
        let mut stats = WriteStats::default();
        for group in prepared.chunks(self.batch_size * BATCHES_IN_FLIGHT) {
            let (first, rest) = group.split_at(group.len().min(self.batch_size));
            let (second, third) = rest.split_at(rest.len().min(self.batch_size));
            // All three run to their end even when one fails: a batch dropped in the middle
            // of a `COPY` would leave its connection with a reply unread (see `Finished`).
            // Spelled out for [`BATCHES_IN_FLIGHT`] = 3: `futures_util`'s `join_all` over
            // the same three futures measured a quarter slower (600k issues, 32.5k against
            // 42.5k issues/s).
            let (a, b, c) = tokio::join!(
                self.commit_batch(first, now),
                self.commit_batch(second, now),
                self.commit_batch(third, now)
            );
            stats += a?;
            stats += b?;
            stats += c?;
        }
        Ok(stats)
    }

    /// Writes one batch in a transaction of its own.
    ///
    /// The commit does not wait for the WAL flush (`synchronous_commit = off`): a server
    /// crash can lose the last few batches acknowledged, never part of one, and because
    /// WAL is flushed in order, any later durable commit (such as a sync state) makes them
    /// durable too. Writing the same issues again repairs the loss, so an import can be
    /// rerun; [`Store::save_page`] keeps the default, as its checkpoint is a promise.
    ///
    /// An issue row with a long description or many comments is compressed as it is
    /// stored; where the server has LZ4, bulk writes use it rather than the default pglz,
    /// which took a fifth of the server's time in an import of the ZooKeeper issues.
    /// Reading decompresses either, whichever wrote the row.
    async fn commit_batch(&self, batch: &[Prepared<'_>], now: Timestamp) -> Result<WriteStats> {
        if batch.is_empty() {
            return Ok(WriteStats::default());
        }
        let mut conn = Finished::acquire(&self.pool).await?;
        let mut tx = conn.begin().await.map_err(failed("begin a transaction"))?;
        sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), \
             set_config('default_toast_compression', $1, true)",
        )
        .bind(if self.lz4 { "lz4" } else { "pglz" })
        .execute(&mut *tx)
        .await
        .map_err(failed("begin a bulk write"))?;
        let stats = write_batch(&mut tx, batch, now, self.batch_size).await?;
        tx.commit().await.map_err(failed("commit issues"))?;
        conn.finished();
        Ok(stats)
    }

    /// Writes a page of a sync and its state in one transaction.
    async fn write_page(&self, issues: &[Issue], state: &SyncState) -> Result<WriteStats> {
        let prepared = rows::prepare(issues)?;
        let mut conn = Finished::acquire(&self.pool).await?;
        let mut tx = conn.begin().await.map_err(failed("begin a transaction"))?;
        if self.lz4 {
            sqlx::query("SET LOCAL default_toast_compression = lz4")
                .execute(&mut *tx)
                .await
                .map_err(failed("begin writing a page"))?;
        }
        let stats = write_batch(&mut tx, &prepared, rows::now(), self.batch_size).await?;
        save_state(&mut tx, state).await?;
        tx.commit().await.map_err(failed("commit a page"))?;
        conn.finished();
        Ok(stats)
    }
}

/// A pooled connection that goes back to the pool only when the work on it finished, and is
/// closed otherwise (an error, or the future holding it dropped midway).
///
/// A `COPY` cut short after its data went out leaves the server's reply to it unread, and
/// sqlx's check of a returned connection does not notice: the next statement on it would
/// read the reply meant for the one before. Closing costs a new connection after a failure,
/// which is rare; returning a connection in that state would corrupt later work.
struct Finished {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    finished: bool,
}

impl Finished {
    async fn acquire(pool: &PgPool) -> Result<Finished> {
        let conn = pool.acquire().await.map_err(failed("connect for a write"))?;
        Ok(Finished { conn, finished: false })
    }

    /// Begins a transaction on the connection.
    async fn begin(
        &mut self,
    ) -> std::result::Result<sqlx::Transaction<'_, sqlx::Postgres>, sqlx::Error> {
        sqlx::Connection::begin(&mut *self.conn).await
    }

    /// Marks the work done: the connection may go back to the pool.
    fn finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for Finished {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.close_on_drop();
        }
    }
}

/// Writes `batch` inside the caller's transaction, `statement_rows` issues per statement.
async fn write_batch(
    conn: &mut PgConnection,
    batch: &[Prepared<'_>],
    now: Timestamp,
    statement_rows: usize,
) -> Result<WriteStats> {
    let mut stats = WriteStats::default();
    for part in batch.chunks(statement_rows) {
        ensure_projects(conn, &rows::batch_projects(part)).await?;
        let existing = existing(conn, part).await?;
        let plan = rows::plan(part, &existing);
        if !plan.inserted.is_empty() || !plan.updated.is_empty() {
            // The plan was made from what was stored when the batch began; a writer in
            // another transaction may have stored a "new" issue since, and then the new
            // ones go through the upsert too.
            let mut upsert = plan.updated.clone();
            if !copy_new_issue_rows(conn, part, &plan.inserted, now).await? {
                upsert.extend_from_slice(&plan.inserted);
            }
            if !upsert.is_empty() {
                upsert_issue_rows(conn, part, &upsert, now).await?;
            }
            bump_projects(conn, &plan.touched(), now).await?;
        }
        stats += plan.stats();
    }
    Ok(stats)
}

async fn ensure_projects(conn: &mut PgConnection, keys: &[&str]) -> Result<()> {
    sqlx::query("INSERT INTO projects (key) SELECT UNNEST($1::text[]) ON CONFLICT DO NOTHING")
        .bind(keys)
        .execute(conn)
        .await
        .map_err(failed("create projects"))?;
    Ok(())
}

/// What is stored for the ids of a batch.
async fn existing(
    conn: &mut PgConnection,
    batch: &[Prepared<'_>],
) -> Result<HashMap<i64, rows::Existing>> {
    let ids: Vec<i64> = batch.iter().map(|p| p.id).collect();
    let sql = concat!(
        "SELECT id, content_hash, removed, project, ",
        millis!("updated"),
        " FROM issues WHERE id = ANY($1) FOR UPDATE"
    );
    let found: Vec<rows::ExistingRow> = sqlx::query_as(sql)
        .bind(&ids)
        .fetch_all(conn)
        .await
        .map_err(failed("read stored issues"))?;
    Ok(rows::existing_by_id(found))
}

/// Inserts the issue rows at `positions`, none of them stored when the batch read what
/// was, with binary `COPY`: on an import into an empty store it took about a third off
/// the server's time per issue row against the upsert, which pays for a speculative
/// insertion, unnesting 21 arrays and `RETURNING`. Another writer may have stored one of
/// them since; then nothing of the `COPY` stays (it runs under a savepoint) and the
/// answer is `false`, for the caller to upsert them instead.
async fn copy_new_issue_rows(
    conn: &mut PgConnection,
    batch: &[Prepared<'_>],
    positions: &[usize],
    now: Timestamp,
) -> Result<bool> {
    if positions.is_empty() {
        return Ok(true);
    }
    let mut body = BinaryRows::with_capacity(positions.len() * 1024);
    for &position in positions {
        let prepared = &batch[position];
        let issue = &*prepared.issue;
        let lists = rows::ListsJson::new(issue);
        body.row(27).int8(prepared.id);
        body.text(&issue.key)?
            .text(&issue.project)?
            .text(&issue.issue_type)?
            .text(&issue.status)?;
        body.opt_text(issue.status_category.map(StatusCategory::as_str))?;
        body.opt_text(issue.priority.as_deref())?.opt_text(issue.resolution.as_deref())?;
        body.opt_timestamptz("created time", issue.created.map(Timestamp::millis))?;
        body.opt_timestamptz("updated time", issue.updated.map(Timestamp::millis))?;
        body.opt_timestamptz("resolved time", issue.resolved.map(Timestamp::millis))?;
        body.opt_text(issue.environment.as_deref())?;
        body.opt_text(issue.assignee.as_deref())?.opt_text(issue.reporter.as_deref())?;
        body.text(&issue.summary)?.opt_text(issue.description.as_deref())?;
        body.text(&lists.comments)?.text(history_source_name(issue.history_source))?;
        body.boolean(issue.history_complete).opt_int8(issue.reopen_count.map(i64::from));
        body.int8(prepared.hash).timestamptz("storage time", now.millis())?;
        body.text(&lists.components)?.text(&lists.labels)?.text(&lists.fix_versions)?;
        body.text(&lists.affects_versions)?.text(&lists.status_changes)?;
    }
    sqlx::query("SAVEPOINT new_issue_rows")
        .execute(&mut *conn)
        .await
        .map_err(failed("write new issues"))?;
    let sql = "COPY issues (id, key, project, issue_type, status, status_category, priority, \
               resolution, created, updated, resolved, environment, assignee, reporter, summary, \
               description, comments, history_source, history_complete, reopen_count, \
               content_hash, stored_at, components, labels, fix_versions, affects_versions, \
               status_changes) FROM STDIN (FORMAT binary)";
    match copy_raw(conn, sql, body).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT new_issue_rows")
                .execute(&mut *conn)
                .await
                .map_err(failed("write new issues"))?;
            Ok(true)
        }
        Err(sqlx::Error::Database(fault)) if fault.is_unique_violation() => {
            sqlx::query("ROLLBACK TO SAVEPOINT new_issue_rows")
                .execute(&mut *conn)
                .await
                .map_err(failed("write new issues"))?;
            Ok(false)
        }
        Err(fault) => Err(failed("write new issues")(fault)),
    }
}

async fn upsert_issue_rows(
    conn: &mut PgConnection,
    batch: &[Prepared<'_>],
    positions: &[usize],
    now: Timestamp,
) -> Result<()> {
    let issues: Vec<(&Prepared<'_>, &Issue)> =
        positions.iter().map(|&i| (&batch[i], &*batch[i].issue)).collect();
    let text = |f: fn(&Issue) -> &str| issues.iter().map(|(_, i)| f(i)).collect::<Vec<_>>();
    let opt = |f: fn(&Issue) -> Option<&str>| issues.iter().map(|(_, i)| f(i)).collect::<Vec<_>>();
    let instant = |f: fn(&Issue) -> Option<Timestamp>| {
        issues.iter().map(|(_, i)| f(i).map(Timestamp::millis)).collect::<Vec<_>>()
    };
    let reopens: Vec<Option<i64>> =
        issues.iter().map(|(_, i)| i.reopen_count.map(i64::from)).collect();
    let lists: Vec<rows::ListsJson> = issues.iter().map(|(_, i)| rows::ListsJson::new(i)).collect();
    let list = |f: fn(&rows::ListsJson) -> &str| lists.iter().map(f).collect::<Vec<_>>();
    sqlx::query(UPSERT_ISSUES)
        .bind(issues.iter().map(|(p, _)| p.id).collect::<Vec<_>>())
        .bind(text(|i| &i.key))
        .bind(text(|i| &i.project))
        .bind(text(|i| &i.issue_type))
        .bind(text(|i| &i.status))
        .bind(opt(|i| i.status_category.map(StatusCategory::as_str)))
        .bind(opt(|i| i.priority.as_deref()))
        .bind(opt(|i| i.resolution.as_deref()))
        .bind(instant(|i| i.created))
        .bind(instant(|i| i.updated))
        .bind(instant(|i| i.resolved))
        .bind(opt(|i| i.environment.as_deref()))
        .bind(opt(|i| i.assignee.as_deref()))
        .bind(opt(|i| i.reporter.as_deref()))
        .bind(text(|i| &i.summary))
        .bind(opt(|i| i.description.as_deref()))
        .bind(list(|l| &l.comments))
        .bind(text(|i| history_source_name(i.history_source)))
        .bind(issues.iter().map(|(_, i)| i.history_complete).collect::<Vec<_>>())
        .bind(reopens)
        .bind(now.millis())
        .bind(issues.iter().map(|(p, _)| p.hash).collect::<Vec<_>>())
        .bind(list(|l| &l.components))
        .bind(list(|l| &l.labels))
        .bind(list(|l| &l.fix_versions))
        .bind(list(|l| &l.affects_versions))
        .bind(list(|l| &l.status_changes))
        .execute(conn)
        .await
        .map_err(failed("write issues"))?;
    Ok(())
}

/// Runs one `COPY ... FROM STDIN` with `body`, giving back sqlx's own error. A failure the
/// server reports leaves the connection ready for the next statement (`finish` reads the
/// server's error and then its ready message).
async fn copy_raw(
    conn: &mut PgConnection,
    sql: &str,
    body: BinaryRows,
) -> std::result::Result<(), sqlx::Error> {
    let mut copy = conn.copy_in_raw(sql).await?;
    copy.send(body.finish()).await?;
    copy.finish().await?;
    Ok(())
}

async fn bump_projects(conn: &mut PgConnection, keys: &[&str], now: Timestamp) -> Result<()> {
    let sql = concat!(
        "UPDATE projects SET data_version = data_version + 1, updated_at = ",
        ts!("$2"),
        " WHERE key = ANY($1)"
    );
    sqlx::query(sql)
        .bind(keys)
        .bind(now.millis())
        .execute(conn)
        .await
        .map_err(failed("update project versions"))?;
    Ok(())
}

async fn save_state(conn: &mut PgConnection, state: &SyncState) -> Result<()> {
    ensure_projects(&mut *conn, &[state.project.as_str()]).await?;
    let (project, watermark, checkpoint, issues_written, last_census) = rows::state_values(state)?;
    let sql = concat!(
        "INSERT INTO sync_state (project, watermark, checkpoint, issues_written, last_census) ",
        "VALUES ($1, ",
        ts!("$2"),
        ", $3::jsonb, $4, ",
        ts!("$5"),
        ") ON CONFLICT (project) DO UPDATE SET watermark = EXCLUDED.watermark, ",
        "checkpoint = EXCLUDED.checkpoint, issues_written = EXCLUDED.issues_written, ",
        "last_census = EXCLUDED.last_census"
    );
    sqlx::query(sql)
        .bind(project)
        .bind(watermark)
        .bind(checkpoint)
        .bind(issues_written)
        .bind(last_census)
        .execute(conn)
        .await
        .map_err(failed("save the sync state"))?;
    Ok(())
}

impl PostgresStore {
    /// One page of issues after `after_id`.
    async fn issue_page(&self, projects: &[String], after_id: i64) -> Result<Vec<Issue>> {
        let found: Vec<IssueRow> = sqlx::query_as(SELECT_ISSUES)
            .bind(after_id)
            .bind(projects)
            .bind(rows::READ_PAGE)
            .fetch_all(&self.pool)
            .await
            .map_err(failed("read issues"))?;
        rows::page(found)
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> Result<Vec<SchemaMigration>> {
        let pending = rows::pending(&MIGRATOR, &self.applied_migrations().await?);
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| Error::store("apply PostgreSQL migrations", e))?;
        Ok(pending)
    }

    async fn upsert_project(&self, key: &str, name: Option<&str>) -> Result<()> {
        sqlx::query(
            "INSERT INTO projects (key, name) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET name = COALESCE(EXCLUDED.name, projects.name)",
        )
        .bind(key)
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(failed("save a project"))?;
        Ok(())
    }

    async fn projects(&self) -> Result<Vec<ProjectInfo>> {
        let sql = concat!(
            "SELECT p.key, p.name, p.data_version, ",
            millis!("p.updated_at"),
            ", COALESCE(c.live, 0), COALESCE(c.removed, 0), s.project, ",
            millis!("s.watermark"),
            ", s.checkpoint::text, COALESCE(s.issues_written, 0), ",
            millis!("s.last_census"),
            " FROM projects p LEFT JOIN (SELECT project, ",
            "count(*) FILTER (WHERE NOT removed) AS live, ",
            "count(*) FILTER (WHERE removed) AS removed FROM issues GROUP BY project) c ",
            "ON c.project = p.key LEFT JOIN sync_state s ON s.project = p.key ORDER BY p.key"
        );
        let found: Vec<rows::ProjectRow> =
            sqlx::query_as(sql).fetch_all(&self.pool).await.map_err(failed("list projects"))?;
        found.into_iter().map(rows::project_from_row).collect()
    }

    async fn project_versions(&self, keys: &[String]) -> Result<Vec<ProjectVersion>> {
        let found: Vec<(String, i64, bool)> = sqlx::query_as(
            "SELECT p.key, p.data_version, EXISTS (SELECT 1 FROM issues i \
             WHERE i.project = p.key AND NOT i.removed) FROM projects p \
             WHERE cardinality($1::text[]) = 0 OR p.key = ANY($1) ORDER BY p.key",
        )
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .map_err(failed("read project versions"))?;
        Ok(found
            .into_iter()
            .map(|(key, data_version, has_issues)| ProjectVersion { key, data_version, has_issues })
            .collect())
    }

    async fn upsert_issues(&self, issues: &[Issue]) -> Result<WriteStats> {
        self.write_batches(issues).await
    }

    async fn save_page(&self, issues: &[Issue], state: &SyncState) -> Result<WriteStats> {
        self.write_page(issues, state).await
    }

    /// As many pages as `BATCHES_IN_FLIGHT` batches of an import: a sync of 100k issues
    /// from a Data Center fake wrote them at 22k issues/s one page at a time.
    fn page_writes_in_flight(&self) -> usize {
        BATCHES_IN_FLIGHT
    }

    async fn issues(&self, projects: &[String]) -> Result<Vec<Issue>> {
        rows::read_pages(|after_id| self.issue_page(projects, after_id)).await
    }

    async fn issue_ids(&self, project: &str) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM issues WHERE project = $1 AND NOT removed ORDER BY id")
            .bind(project)
            .fetch_all(&self.pool)
            .await
            .map_err(failed("list issue ids"))
    }

    async fn mark_removed(&self, ids: &[i64]) -> Result<u64> {
        let now = rows::now();
        let mut tx = self.pool.begin().await.map_err(failed("begin a transaction"))?;
        let sql = concat!(
            "UPDATE issues SET removed = true, removed_at = ",
            ts!("$2"),
            " WHERE id = ANY($1) AND NOT removed RETURNING project"
        );
        let projects: Vec<String> = sqlx::query_scalar(sql)
            .bind(ids)
            .bind(now.millis())
            .fetch_all(&mut *tx)
            .await
            .map_err(failed("mark issues removed"))?;
        bump_projects(&mut tx, &rows::distinct(&projects), now).await?;
        tx.commit().await.map_err(failed("commit removals"))?;
        Ok(projects.len() as u64)
    }

    async fn sync_state(&self, project: &str) -> Result<Option<SyncState>> {
        let sql = concat!(
            "SELECT project, ",
            millis!("watermark"),
            ", checkpoint::text, issues_written, ",
            millis!("last_census"),
            " FROM sync_state WHERE project = $1"
        );
        let found: Option<rows::StateRow> = sqlx::query_as(sql)
            .bind(project)
            .fetch_optional(&self.pool)
            .await
            .map_err(failed("read the sync state"))?;
        found.map(rows::state_from_row).transpose()
    }

    async fn save_sync_state(&self, state: &SyncState) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(failed("begin a transaction"))?;
        save_state(&mut tx, state).await?;
        tx.commit().await.map_err(failed("commit the sync state"))
    }

    async fn start_run(&self, project: &str, kind: &str) -> Result<i64> {
        let mut tx = self.pool.begin().await.map_err(failed("begin a transaction"))?;
        ensure_projects(&mut tx, &[project]).await?;
        let sql = concat!(
            "INSERT INTO sync_runs (project, kind, started_at, outcome) VALUES ($1, $2, ",
            ts!("$3"),
            ", 'running') RETURNING id"
        );
        let id: i64 = sqlx::query_scalar(sql)
            .bind(project)
            .bind(kind)
            .bind(rows::now().millis())
            .fetch_one(&mut *tx)
            .await
            .map_err(failed("record the start of a run"))?;
        tx.commit().await.map_err(failed("commit the start of a run"))?;
        Ok(id)
    }

    async fn finish_run(&self, run: &SyncRun) -> Result<()> {
        let sql = concat!(
            "UPDATE sync_runs SET finished_at = ",
            ts!("$2"),
            ", outcome = $3, api_calls = $4, issues_written = $5, errors = $6::jsonb ",
            "WHERE id = $1"
        );
        let (finished_at, api_calls, issues_written, errors) = rows::run_end_values(run)?;
        let done = sqlx::query(sql)
            .bind(run.id)
            .bind(finished_at)
            .bind(&run.outcome)
            .bind(api_calls)
            .bind(issues_written)
            .bind(errors)
            .execute(&self.pool)
            .await
            .map_err(failed("record the end of a run"))?;
        rows::run_found(done.rows_affected(), run)
    }

    async fn runs(&self, project: Option<&str>, limit: u32) -> Result<Vec<SyncRun>> {
        let sql = concat!(
            "SELECT id, project, kind, ",
            millis!("started_at"),
            ", ",
            millis!("finished_at"),
            ", outcome, api_calls, issues_written, errors::text FROM sync_runs ",
            "WHERE $1::text IS NULL OR project = $1 ORDER BY id DESC LIMIT $2"
        );
        let found: Vec<rows::RunRow> = sqlx::query_as(sql)
            .bind(project)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(failed("list runs"))?;
        found.into_iter().map(rows::run_from_row).collect()
    }

    async fn lock_sync(&self, project: &str) -> Result<Option<SyncLock>> {
        let key = sync_lock_key(project);
        let mut connection = self.pool.acquire().await.map_err(failed("connect to PostgreSQL"))?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *connection)
            .await
            .map_err(failed("take the sync lock"))?;
        if !locked {
            return Ok(None);
        }
        let holder = AdvisoryLock { connection: connection.detach(), key };
        Ok(Some(SyncLock::new(project, Box::new(holder))))
    }
}
