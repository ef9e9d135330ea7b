//! The SQLite store, the embedded default: one file, WAL journal, foreign keys on.
//!
//! A batch of issues travels as one JSON array that SQLite unpacks with `jsonb_each`, so a
//! batch costs a handful of statements whatever its size (SQLite's own counterpart of
//! PostgreSQL's UNNEST). `jsonb_each` hands each row over in SQLite's binary JSON, so each
//! `->>` finds its field directly; `json_each` rendered every row back to text, which each
//! `->>` parsed again, and that took about a fifth of SQLite's time in an import. Issues
//! whose content hash did not change are not rewritten. An issue's lists are JSON text in
//! its own row, replaced with it.
//! Write transactions start with `BEGIN IMMEDIATE`, so a second writer waits for the
//! busy timeout instead of failing halfway through.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use super::file_lock::{self, MemoryLocks};
use super::rows::{self, failed, IssueJson, IssueRow, Prepared};
use super::{
    Backend, Missing, ProjectInfo, ProjectVersion, SchemaMigration, Store, SyncLock, SyncRun,
    SyncState, WriteStats,
};
use crate::model::{Issue, Timestamp};
use crate::{Error, Result};

/// Issues written per transaction by [`Store::upsert_issues`] unless configured otherwise:
/// the import's batch, so that a batch of `bugdash import` is one transaction.
pub const DEFAULT_BATCH_SIZE: usize = crate::ingest::import::BATCH;

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL pages written before a commit copies them into the database file (SQLite's
/// default is 1,000). A checkpoint copies each page changed since the last one once: at
/// the default, a sync of 100k issues checkpointed after nearly every page of 1,000 issues
/// and rewrote the same table and index pages each time; at 10,000 (up to 40 MB of WAL,
/// a file SQLite reuses rather than shrinks) the sync into SQLite took 5.2-5.5 s instead of
/// 5.6-6.4 s. Every connection to the file sets it, since the one that commits checkpoints.
pub(super) const WAL_CHECKPOINT_PAGES: u32 = 10_000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A store in an SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    batch_size: usize,
    /// The database file, where sync locks are taken; `None` for an in-memory database.
    file: Option<PathBuf>,
    /// Sync locks of an in-memory database, which no other process can open.
    memory_locks: MemoryLocks,
    /// The usage events' own connection; `None` for an in-memory database, whose events
    /// go through the pool.
    pub(super) events: Option<super::sqlite_events::EventWriter>,
}

/// JSON text of rows for `json_each`.
fn json<T: Serialize + ?Sized>(rows: &T) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| Error::store("encode rows for SQLite", e))
}

impl SqliteStore {
    /// Opens (creating when missing, with its folder) the database at `url`
    /// (`sqlite:path`, `sqlite://path` or `sqlite::memory:`), without migrating it.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_if(url, Missing::Create).await
    }

    /// As [`SqliteStore::connect`], creating the file only when `missing` says so.
    pub(super) async fn connect_if(url: &str, missing: Missing) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("cannot read SQLite URL {url:?}: {e}")))?;
        Self::connect_with(options, missing).await
    }

    /// Opens (creating when missing, with its folder) the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::connect_with(SqliteConnectOptions::new().filename(path), Missing::Create).await
    }

    async fn connect_with(options: SqliteConnectOptions, missing: Missing) -> Result<Self> {
        let file = options.get_filename().to_path_buf();
        // sqlx names an in-memory database `file:sqlx-in-memory-<n>`, not `:memory:`.
        let name = file.to_string_lossy();
        let in_memory =
            name.is_empty() || name.contains(":memory:") || name.starts_with("file:sqlx-in-memory");
        let create = missing == Missing::Create || in_memory;
        if !create && !file.is_file() {
            return Err(Error::Config(format!("no SQLite database at {}", file.display())));
        }
        if let Some(folder) =
            file.parent().filter(|p| create && !in_memory && !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder)
                .map_err(|source| Error::Io { path: folder.to_path_buf(), source })?;
        }
        let options = options
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(failed("open the SQLite database"))?;
        // SQLite itself says whether the database is a file: a URL can also ask for memory
        // with `?mode=memory`, which the name does not show.
        let opened: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&pool)
                .await
                .map_err(failed("open the SQLite database"))?;
        let in_memory = in_memory || opened.is_empty();
        // The absolute path, so a later change of working folder cannot move the locks.
        let file = (!in_memory).then(|| std::fs::canonicalize(&file).unwrap_or(file));
        let events =
            file.as_deref().map(|file| super::sqlite_events::EventWriter::new(file, BUSY_TIMEOUT));
        Ok(SqliteStore {
            pool,
            batch_size: DEFAULT_BATCH_SIZE,
            file,
            memory_locks: MemoryLocks::default(),
            events,
        })
    }

    /// Sets how many issues [`Store::upsert_issues`] writes per transaction (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The connection pool, for callers that need plain SQL (tests, administration).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        if let Some(events) = self.events.clone() {
            // Waits for a batch being written, which may wait for SQLite's write lock.
            let _ = tokio::task::spawn_blocking(move || events.close()).await;
        }
        self.pool.close().await;
    }

    /// Versions of the migrations applied so far; none before the first.
    async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let recorded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master \
             WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
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

    pub(super) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed("begin a write transaction"))
    }

    /// Writes issues in one transaction per batch; with `state`, the whole input and the
    /// state share one transaction instead.
    async fn write(&self, issues: &[Issue], state: Option<&SyncState>) -> Result<WriteStats> {
        let prepared = rows::prepare(issues)?;
        let now = rows::now();
        let mut stats = WriteStats::default();
        let chunk = if state.is_some() { prepared.len().max(1) } else { self.batch_size };
        for batch in prepared.chunks(chunk) {
            let mut tx = self.begin_write().await?;
            for part in batch.chunks(self.batch_size) {
                stats += write_batch(&mut tx, part, now).await?;
            }
            if let Some(state) = state {
                save_state(&mut tx, state).await?;
            }
            tx.commit().await.map_err(failed("commit issues"))?;
        }
        if let (true, Some(state)) = (prepared.is_empty(), state) {
            let mut tx = self.begin_write().await?;
            save_state(&mut tx, state).await?;
            tx.commit().await.map_err(failed("commit the sync state"))?;
        }
        Ok(stats)
    }
}

const UPSERT_ISSUES: &str = "\
    INSERT INTO issues (id, key, project, issue_type, status, status_category, priority, \
    resolution, created, updated, resolved, environment, assignee, reporter, summary, \
    description, comments, history_source, history_complete, reopen_count, content_hash, \
    stored_at, components, labels, fix_versions, affects_versions, status_changes) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, \
    value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, \
    value->>14, value->>15, value->16, value->>17, value->>18, value->>19, value->>20, ?2, \
    value->21, value->22, value->23, value->24, value->25 \
    FROM jsonb_each(?1) WHERE true \
    ON CONFLICT (id) DO UPDATE SET key = excluded.key, project = excluded.project, \
    issue_type = excluded.issue_type, status = excluded.status, \
    status_category = excluded.status_category, priority = excluded.priority, \
    resolution = excluded.resolution, created = excluded.created, \
    updated = excluded.updated, resolved = excluded.resolved, \
    environment = excluded.environment, assignee = excluded.assignee, \
    reporter = excluded.reporter, summary = excluded.summary, \
    description = excluded.description, comments = excluded.comments, \
    history_source = excluded.history_source, history_complete = excluded.history_complete, \
    reopen_count = excluded.reopen_count, removed = 0, removed_at = NULL, \
    content_hash = excluded.content_hash, stored_at = excluded.stored_at, \
    components = excluded.components, labels = excluded.labels, \
    fix_versions = excluded.fix_versions, affects_versions = excluded.affects_versions, \
    status_changes = excluded.status_changes \
    WHERE (issues.content_hash <> excluded.content_hash OR issues.removed) \
    AND (issues.updated IS NULL OR excluded.updated >= issues.updated)";

const SELECT_ISSUES: &str = "\
    SELECT id, key, project, issue_type, status, status_category, priority, resolution, \
    created, updated, resolved, environment, assignee, reporter, summary, description, \
    comments, history_source, history_complete, reopen_count, components, labels, \
    fix_versions, affects_versions, status_changes FROM issues \
    WHERE removed = 0 AND id > ?1 \
    AND (json_array_length(?2) = 0 OR project IN (SELECT value FROM json_each(?2))) \
    ORDER BY id LIMIT ?3";

/// Writes one batch inside the caller's transaction.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[Prepared<'_>],
    now: Timestamp,
) -> Result<WriteStats> {
    ensure_projects(conn, &rows::batch_projects(batch)).await?;
    let existing = existing(conn, batch).await?;
    let plan = rows::plan(batch, &existing);
    let changed: Vec<usize> = plan.changed().collect();
    if !changed.is_empty() {
        let issue_rows: Vec<IssueJson<'_>> =
            changed.iter().map(|&i| IssueJson::new(&batch[i])).collect();
        sqlx::query(UPSERT_ISSUES)
            .bind(json(&issue_rows)?)
            .bind(now.millis())
            .execute(&mut *conn)
            .await
            .map_err(failed("write issues"))?;
        bump_projects(conn, &plan.touched(), now).await?;
    }
    Ok(plan.stats())
}

async fn ensure_projects(conn: &mut SqliteConnection, keys: &[&str]) -> Result<()> {
    sqlx::query(
        "INSERT INTO projects (key) SELECT value FROM json_each(?1) WHERE true \
         ON CONFLICT DO NOTHING",
    )
    .bind(json(keys)?)
    .execute(conn)
    .await
    .map_err(failed("create projects"))?;
    Ok(())
}

/// What is stored for the ids of a batch.
async fn existing(
    conn: &mut SqliteConnection,
    batch: &[Prepared<'_>],
) -> Result<HashMap<i64, rows::Existing>> {
    let ids: Vec<i64> = batch.iter().map(|p| p.id).collect();
    let found: Vec<rows::ExistingRow> = sqlx::query_as(
        "SELECT id, content_hash, removed, project, updated FROM issues \
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(json(&ids)?)
    .fetch_all(conn)
    .await
    .map_err(failed("read stored issues"))?;
    Ok(rows::existing_by_id(found))
}

async fn bump_projects(conn: &mut SqliteConnection, keys: &[&str], now: Timestamp) -> Result<()> {
    sqlx::query(
        "UPDATE projects SET data_version = data_version + 1, updated_at = ?2 \
         WHERE key IN (SELECT value FROM json_each(?1))",
    )
    .bind(json(keys)?)
    .bind(now.millis())
    .execute(conn)
    .await
    .map_err(failed("update project versions"))?;
    Ok(())
}

async fn save_state(conn: &mut SqliteConnection, state: &SyncState) -> Result<()> {
    ensure_projects(&mut *conn, &[state.project.as_str()]).await?;
    let (project, watermark, checkpoint, issues_written, last_census) = rows::state_values(state)?;
    sqlx::query(
        "INSERT INTO sync_state (project, watermark, checkpoint, issues_written, last_census) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (project) DO UPDATE SET \
         watermark = excluded.watermark, checkpoint = excluded.checkpoint, \
         issues_written = excluded.issues_written, last_census = excluded.last_census",
    )
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

impl SqliteStore {
    /// One page of issues after `after_id`.
    async fn issue_page(&self, projects: &str, after_id: i64) -> Result<Vec<Issue>> {
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
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> Result<Vec<SchemaMigration>> {
        let pending = rows::pending(&MIGRATOR, &self.applied_migrations().await?);
        MIGRATOR.run(&self.pool).await.map_err(|e| Error::store("apply SQLite migrations", e))?;
        Ok(pending)
    }

    async fn upsert_project(&self, key: &str, name: Option<&str>) -> Result<()> {
        sqlx::query(
            "INSERT INTO projects (key, name) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET name = COALESCE(excluded.name, projects.name)",
        )
        .bind(key)
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(failed("save a project"))?;
        Ok(())
    }

    async fn projects(&self) -> Result<Vec<ProjectInfo>> {
        let found: Vec<rows::ProjectRow> = sqlx::query_as(
            "SELECT p.key, p.name, p.data_version, p.updated_at, COALESCE(c.live, 0), \
             COALESCE(c.removed, 0), s.project, s.watermark, s.checkpoint, \
             COALESCE(s.issues_written, 0), s.last_census FROM projects p \
             LEFT JOIN (SELECT project, sum(removed = 0) AS live, sum(removed) AS removed \
             FROM issues GROUP BY project) c ON c.project = p.key \
             LEFT JOIN sync_state s ON s.project = p.key ORDER BY p.key",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(failed("list projects"))?;
        found.into_iter().map(rows::project_from_row).collect()
    }

    async fn project_versions(&self, keys: &[String]) -> Result<Vec<ProjectVersion>> {
        let found: Vec<(String, i64, bool)> = sqlx::query_as(
            "SELECT p.key, p.data_version, EXISTS (SELECT 1 FROM issues i \
             WHERE i.project = p.key AND i.removed = 0) FROM projects p \
             WHERE json_array_length(?1) = 0 OR p.key IN (SELECT value FROM json_each(?1)) \
             ORDER BY p.key",
        )
        .bind(json(keys)?)
        .fetch_all(&self.pool)
        .await
        .map_err(failed("read project versions"))?;
        Ok(found
            .into_iter()
            .map(|(key, data_version, has_issues)| ProjectVersion { key, data_version, has_issues })
            .collect())
    }

    async fn upsert_issues(&self, issues: &[Issue]) -> Result<WriteStats> {
        self.write(issues, None).await
    }

    async fn save_page(&self, issues: &[Issue], state: &SyncState) -> Result<WriteStats> {
        self.write(issues, Some(state)).await
    }

    async fn issues(&self, projects: &[String]) -> Result<Vec<Issue>> {
        let projects = json(projects)?;
        rows::read_pages(|after_id| self.issue_page(&projects, after_id)).await
    }

    async fn issue_ids(&self, project: &str) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM issues WHERE project = ?1 AND removed = 0 ORDER BY id")
            .bind(project)
            .fetch_all(&self.pool)
            .await
            .map_err(failed("list issue ids"))
    }

    async fn mark_removed(&self, ids: &[i64]) -> Result<u64> {
        let now = rows::now();
        let mut tx = self.begin_write().await?;
        let projects: Vec<String> = sqlx::query_scalar(
            "UPDATE issues SET removed = 1, removed_at = ?2 \
             WHERE id IN (SELECT value FROM json_each(?1)) AND removed = 0 RETURNING project",
        )
        .bind(json(ids)?)
        .bind(now.millis())
        .fetch_all(&mut *tx)
        .await
        .map_err(failed("mark issues removed"))?;
        bump_projects(&mut tx, &rows::distinct(&projects), now).await?;
        tx.commit().await.map_err(failed("commit removals"))?;
        Ok(projects.len() as u64)
    }

    async fn sync_state(&self, project: &str) -> Result<Option<SyncState>> {
        let found: Option<rows::StateRow> = sqlx::query_as(
            "SELECT project, watermark, checkpoint, issues_written, last_census \
             FROM sync_state WHERE project = ?1",
        )
        .bind(project)
        .fetch_optional(&self.pool)
        .await
        .map_err(failed("read the sync state"))?;
        found.map(rows::state_from_row).transpose()
    }

    async fn save_sync_state(&self, state: &SyncState) -> Result<()> {
        let mut tx = self.begin_write().await?;
        save_state(&mut tx, state).await?;
        tx.commit().await.map_err(failed("commit the sync state"))
    }

    async fn start_run(&self, project: &str, kind: &str) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        ensure_projects(&mut tx, &[project]).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_runs (project, kind, started_at, outcome) \
             VALUES (?1, ?2, ?3, 'running') RETURNING id",
        )
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
        let (finished_at, api_calls, issues_written, errors) = rows::run_end_values(run)?;
        let done = sqlx::query(
            "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, api_calls = ?4, \
             issues_written = ?5, errors = ?6 WHERE id = ?1",
        )
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
        let found: Vec<rows::RunRow> = sqlx::query_as(
            "SELECT id, project, kind, started_at, finished_at, outcome, api_calls, \
             issues_written, errors FROM sync_runs \
             WHERE ?1 IS NULL OR project = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .bind(project)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(failed("list runs"))?;
        found.into_iter().map(rows::run_from_row).collect()
    }
    async fn lock_sync(&self, project: &str) -> Result<Option<SyncLock>> {
        match &self.file {
            Some(file) => file_lock::lock_beside(file, project),
            None => Ok(self.memory_locks.lock(project)),
        }
    }
}
