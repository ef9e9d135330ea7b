//! Where BugDash keeps issues between runs: one [`Store`] trait, implemented for
//! PostgreSQL (production) and SQLite (the embedded default), each with its own migrations.
//!
//! Issues are keyed by JIRA's numeric id, which survives moves between projects; the key
//! and project are ordinary columns. An issue's lists (components, labels, versions,
//! status history) are JSON text in its own row, so they are replaced with it. Issues read from files
//! without a JIRA id get a stable negative id derived from their key (see
//! [`storage_id`]), so they can never collide with a real one.

pub mod accounts;
pub mod analytics;
mod file_lock;
mod pg_copy;
pub mod postgres;
mod postgres_accounts;
mod postgres_analytics;
mod rows;
pub mod sqlite;
mod sqlite_accounts;
mod sqlite_analytics;
mod sqlite_events;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::{Issue, Timestamp};
use crate::{Error, Result};

pub use accounts::{AccountStore, SessionCap};
pub use analytics::AnalyticsStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A project known to the store, with what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    /// Project key, such as `ZOOKEEPER`.
    pub key: String,
    /// Display name, when known.
    pub name: Option<String>,
    /// Issues stored (not counting issues marked removed).
    pub issues: u64,
    /// Issues marked removed by a census.
    pub removed: u64,
    /// Increases on every write to the project's issues; caches key on it.
    pub data_version: i64,
    /// When the project's issues last changed.
    pub updated_at: Option<Timestamp>,
    /// Sync state, when the project was ever synced.
    pub sync: Option<SyncState>,
}

/// A project's data version alone: what a cache key needs, read without counting issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectVersion {
    /// Project key.
    pub key: String,
    /// As [`ProjectInfo::data_version`].
    pub data_version: i64,
    /// True when the project holds at least one issue not marked removed.
    pub has_issues: bool,
}

/// What an incremental sync needs to carry on where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// Project key.
    pub project: String,
    /// Latest `updated` instant fully synced; the next run asks from here minus an overlap.
    pub watermark: Option<Timestamp>,
    /// Cursor of an unfinished run (page token or offset, and the bound it was started
    /// with), as JSON; `None` when the last run finished.
    pub checkpoint: Option<serde_json::Value>,
    /// Issues received and upserted (changed or not) by all syncs; each page counts once,
    /// also across interrupted runs.
    pub issues_written: u64,
    /// When the last census (ids only) ran.
    pub last_census: Option<Timestamp>,
}

/// How a write went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Issues that were not stored before.
    pub inserted: u64,
    /// Issues stored before whose content changed.
    pub updated: u64,
    /// Issues stored before and identical, or stored with a later `updated`: an older copy
    /// never overwrites a newer one.
    pub unchanged: u64,
}

impl std::ops::AddAssign for WriteStats {
    fn add_assign(&mut self, other: WriteStats) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// A change of the database schema, one file of a backend's migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaMigration {
    /// The timestamp its file name starts with, such as `20250101000000`; migrations
    /// apply in this order.
    pub version: i64,
    /// What it changes, from the rest of its file name, such as `store`.
    pub description: String,
}

/// One run of a sync or import, for the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRun {
    /// Run id.
    pub id: i64,
    /// Project key.
    pub project: String,
    /// `sync`, `full-sync` or `import`.
    pub kind: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended; absent while running (or when the process died).
    pub finished_at: Option<Timestamp>,
    /// `running`, `succeeded` or `failed`.
    pub outcome: String,
    /// JIRA API calls made.
    pub api_calls: u64,
    /// Issues written.
    pub issues_written: u64,
    /// Errors met, in words.
    pub errors: Vec<String>,
}

/// The store all frontends use.
#[async_trait]
pub trait Store: AccountStore + AnalyticsStore + Send + Sync {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Applies pending migrations; returns those this call applied, oldest first (none
    /// when the schema was already up to date).
    async fn migrate(&self) -> Result<Vec<SchemaMigration>>;

    /// Creates the project if it is new, or updates its name.
    async fn upsert_project(&self, key: &str, name: Option<&str>) -> Result<()>;

    /// Every project with its counts and sync state, ordered by key.
    async fn projects(&self) -> Result<Vec<ProjectInfo>>;

    /// The data versions of the projects named by `keys` (of every project when `keys` is
    /// empty), ordered by key; unknown keys are left out. Unlike [`Store::projects`] it
    /// counts nothing: it reads one row per project and, to tell whether the project holds
    /// issues, the first live issue found through the (project, id) index, so its cost
    /// does not grow with the number of issues (except for a project whose issues are
    /// nearly all marked removed, whose removed issues are skipped one by one).
    async fn project_versions(&self, keys: &[String]) -> Result<Vec<ProjectVersion>>;

    /// Writes issues by id in batches, one transaction per batch; duplicates inside
    /// `issues` keep the copy updated last (the later one when equally recent) and count
    /// once. Projects named by the issues are created when missing. An issue identical to
    /// the stored one, or older (by `updated`) than it, is not rewritten; a known id with a new key or project is an update
    /// (the issue moved). NUL characters are removed from all text (PostgreSQL cannot
    /// store them). A removed issue written again is no longer removed.
    async fn upsert_issues(&self, issues: &[Issue]) -> Result<WriteStats>;

    /// Writes one page of a sync and its checkpoint in one transaction, so a process killed
    /// at any moment leaves either both or neither; otherwise as [`Store::upsert_issues`].
    async fn save_page(&self, issues: &[Issue], state: &SyncState) -> Result<WriteStats>;

    /// How many pages a sync may have being written at once. With one (the default), each
    /// page goes in with its checkpoint through [`Store::save_page`]. With more, each page's
    /// issues go in through [`Store::upsert_issues`] while later pages are written beside
    /// them, and the page's checkpoint through [`Store::save_sync_state`] once it and every
    /// page before it are written, so a checkpoint still covers only written pages. A store
    /// that cannot write side by side (one writer at a time) gains nothing from more.
    fn page_writes_in_flight(&self) -> usize {
        1
    }

    /// Issues of the given projects (all projects when empty), not counting removed ones,
    /// ordered by id.
    async fn issues(&self, projects: &[String]) -> Result<Vec<Issue>>;

    /// Storage ids of a project's issues that are not marked removed.
    async fn issue_ids(&self, project: &str) -> Result<Vec<i64>>;

    /// Marks the given issues removed (a census no longer finds them); returns how many
    /// changed.
    async fn mark_removed(&self, ids: &[i64]) -> Result<u64>;

    /// The project's sync state, if it was ever synced.
    async fn sync_state(&self, project: &str) -> Result<Option<SyncState>>;

    /// Saves the project's sync state, creating the project when missing.
    async fn save_sync_state(&self, state: &SyncState) -> Result<()>;

    /// Records the start of a run (outcome `running`); returns its id. The project is
    /// created when missing.
    async fn start_run(&self, project: &str, kind: &str) -> Result<i64>;

    /// Records the end of a run: its end, outcome, counts and errors; `run.id` names the
    /// run (the start and project recorded by [`Store::start_run`] stay).
    async fn finish_run(&self, run: &SyncRun) -> Result<()>;

    /// The latest runs of a project (all projects when `None`), newest first.
    async fn runs(&self, project: Option<&str>, limit: u32) -> Result<Vec<SyncRun>>;

    /// Takes the project's sync lock without waiting: `None` when another holder (this or
    /// another process, on this or another machine sharing the database) has it. The lock
    /// dies with its holder: a process that ends in any way, killed included, leaves it
    /// free.
    async fn lock_sync(&self, project: &str) -> Result<Option<SyncLock>>;
}

/// A project's sync lock, held while this value lives; see [`Store::lock_sync`].
///
/// Dropping it releases the lock, but PostgreSQL may take a moment to notice;
/// [`SyncLock::release`] waits until the database has let go, so that a sync started right
/// after finds the lock free.
#[must_use = "the lock is released as soon as it is dropped"]
pub struct SyncLock {
    project: String,
    holder: Box<dyn LockHolder>,
}

impl SyncLock {
    pub(crate) fn new(project: &str, holder: Box<dyn LockHolder>) -> Self {
        SyncLock { project: project.to_owned(), holder }
    }

    /// The project the lock is for.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// Releases the lock and returns once the database has released it.
    pub async fn release(self) {
        self.holder.release().await;
    }
}

impl std::fmt::Debug for SyncLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncLock").field("project", &self.project).finish_non_exhaustive()
    }
}

/// What holds a backend's sync lock. Dropping it must release the lock without awaiting
/// anything; [`LockHolder::release`] may await until the database confirms.
#[async_trait]
pub(crate) trait LockHolder: Send + Sync {
    /// Releases the lock and waits until the database has seen it.
    async fn release(self: Box<Self>);
}

/// FNV-1a over `bytes`: a hash that never changes between builds, platforms or releases,
/// because ids derived from it are stored or shared between processes.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The id an issue is stored under: JIRA's id, or for issues read from files without one a
/// negative number derived from the key (FNV-1a, 63 bits), stable across runs.
pub fn storage_id(issue: &Issue) -> i64 {
    match issue.id {
        Some(id) => id as i64,
        None => -((stable_hash(issue.key.as_bytes()) >> 1) as i64) - 1,
    }
}

/// Opens the store at `url`, choosing the backend by its scheme (`postgres://`,
/// `postgresql://` or `sqlite:`), and applies pending migrations. An SQLite file and its
/// folder are created when missing.
///
/// ```no_run
/// # async fn demo() -> bugdash::Result<()> {
/// let store = bugdash::store::open("sqlite:/tmp/bugdash-demo/store.db").await?;
/// println!("{} projects", store.projects().await?.len());
/// # Ok(())
/// # }
/// ```
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let store = connect_to(url, Missing::Create).await?;
    store.migrate().await?;
    Ok(store)
}

/// As [`open`], but creates nothing: an SQLite file that does not exist is refused with
/// [`Error::Config`], and its folder is left as it is. For callers that only read or
/// change what a store already holds, where a missing file means a mistyped path.
pub async fn open_existing(url: &str) -> Result<Arc<dyn Store>> {
    let store = connect_to(url, Missing::Refuse).await?;
    store.migrate().await?;
    Ok(store)
}

/// As [`open`] without migrating, for callers that apply the migrations themselves to
/// report them ([`Store::migrate`] says which it applied).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    connect_to(url, Missing::Create).await
}

/// What opening a store does when its SQLite file is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create the file and its folder: the caller fills a store.
    Create,
    /// Fail, creating nothing: the caller reads or changes what a store already holds,
    /// so a missing file means a mistyped path.
    Refuse,
}

async fn connect_to(url: &str, missing: Missing) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect_if(url, missing).await?))
    } else {
        let scheme = url.split_once(':').map_or("none", |(scheme, _)| scheme);
        Err(Error::Config(format!(
            "database URL scheme {scheme:?} is not supported; use postgres://, postgresql:// \
             or sqlite:"
        )))
    }
}
