//! Analyses of stored projects, and a cache of their results keyed by what they depend on.
//!
//! A stored analysis depends on the project's issues (summed up by the store's
//! `data_version`, which changes on every write) and on the parameters. The cache keys on
//! both, so a sync or import made by any instance invalidates every instance's entries on
//! the next request, with no message between them.
//!
//! A cached answer costs one read of the projects table (the data versions), which
//! [`Store::project_versions`] keeps independent of the number of issues. A cache made with
//! [`AnalysisCache::with_version_memo`] also keeps those versions for a short while, so
//! that under load one read serves every request of that while; a write is then seen
//! within that while (plus one database round trip) rather than on the very next request.
//!
//! The issues an analysis reads are kept too, by the same data versions, up to a number
//! of issues ([`DEFAULT_CACHED_ISSUES`]): a new option set, or an issue list drilled down
//! from a report, filters issues already in memory instead of reading the project again
//! (at 100,000 issues in SQLite that read is about 1.5 s; the analysis about 50 ms).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::analysis::{self, Params, Report};
use crate::model::Issue;
use crate::store::{ProjectVersion, Store};
use crate::{Error, Result};

/// Issues kept in memory at most, over all cached project reads (a few hundred bytes each
/// beyond their text). A read larger than this alone is used and not kept.
pub const DEFAULT_CACHED_ISSUES: usize = 1_000_000;

/// The project name that selects every stored project together.
pub const ALL_PROJECTS: &str = "ALL";

/// Prepares `params` for stored issues: the store already selects the projects, so the
/// project filter is dropped (leaving it out makes the report equal to one made from the
/// same data in files), and the deployment's environment (`JIRA_ENVIRONMENT`) is the
/// default environment filter.
pub fn params_for_store(params: &mut Params, default_environment: Option<&str>) {
    params.filters.projects.clear();
    if params.filters.environment.is_none() {
        params.filters.environment = default_environment.map(str::to_owned);
    }
}

/// The data versions of the projects `project` names: one key, or every project for
/// [`ALL_PROJECTS`]; `None` when that is no stored issue at all (an unknown key, or an
/// empty store).
pub async fn select_projects(
    store: &dyn Store,
    project: &str,
) -> Result<Option<Vec<ProjectVersion>>> {
    let keys =
        if project.eq_ignore_ascii_case(ALL_PROJECTS) { Vec::new() } else { vec![project.into()] };
    let found = store.project_versions(&keys).await?;
    Ok(found.iter().any(|p| p.has_issues).then_some(found))
}

/// The issues of `projects` (every project's when `all`).
pub async fn stored_issues(
    store: &dyn Store,
    projects: &[ProjectVersion],
    all: bool,
) -> Result<Vec<Issue>> {
    let keys: Vec<String> =
        if all { Vec::new() } else { projects.iter().map(|p| p.key.clone()).collect() };
    store.issues(&keys).await
}

/// A finished analysis: the report and its JSON exactly as `bugdash analyze --format json`
/// prints it (pretty, with a final newline).
#[derive(Debug)]
pub struct CachedReport {
    /// The report.
    pub report: Report,
    /// Its JSON text.
    pub json: Arc<[u8]>,
}

impl CachedReport {
    /// Renders `report` once.
    pub fn new(report: Report) -> Result<CachedReport> {
        let mut json = serde_json::to_vec_pretty(&report)
            .map_err(|e| Error::invalid("report", format!("cannot be written as JSON: {e}")))?;
        json.push(b'\n');
        Ok(CachedReport { report, json: json.into() })
    }
}

type Slot = Arc<tokio::sync::OnceCell<Arc<CachedReport>>>;

/// A bounded, least-recently-used cache of analyses. Concurrent requests for the same key
/// wait for one computation rather than each running it.
#[derive(Debug)]
pub struct AnalysisCache {
    capacity: usize,
    entries: Mutex<Entries>,
    versions: Option<VersionMemo>,
    issues: IssueCache,
}

#[derive(Debug, Default)]
struct Entries {
    clock: u64,
    slots: HashMap<String, (Slot, u64)>,
}

impl AnalysisCache {
    /// A cache holding at most `capacity` reports (at least one), which reads the data
    /// versions from the store on every request: a write is seen on the very next one.
    pub fn new(capacity: usize) -> AnalysisCache {
        AnalysisCache {
            capacity: capacity.max(1),
            entries: Mutex::new(Entries::default()),
            versions: None,
            issues: IssueCache::new(DEFAULT_CACHED_ISSUES),
        }
    }

    /// This cache, keeping at most `issues` issues in memory (0 keeps none).
    pub fn with_issue_capacity(self, issues: usize) -> AnalysisCache {
        AnalysisCache { issues: IssueCache::new(issues), ..self }
    }

    /// The stored issues of `project` (a key or [`ALL_PROJECTS`]), read once per data
    /// version and shared; `None` when the store holds none. The data versions are read
    /// afresh (never remembered), so a write is seen on the very next call.
    pub async fn issues(
        &self,
        store: &dyn Store,
        project: &str,
    ) -> Result<Option<Arc<Vec<Issue>>>> {
        let Some(projects) = select_projects(store, project).await? else { return Ok(None) };
        Ok(Some(self.issues.get(store, project, &projects).await?))
    }

    /// Issues read from the store and kept now, over all projects.
    pub fn cached_issues(&self) -> usize {
        self.issues.lock().total
    }

    /// As [`AnalysisCache::new`], but a read of the data versions serves every request
    /// for the same projects that starts within `max_age` of it (requests arriving while
    /// it runs wait for it rather than read again). A write, made by this or any other
    /// instance, is seen by every request that starts later than `max_age` plus one
    /// database round trip after it; a zero `max_age` is the same as no memo.
    pub fn with_version_memo(capacity: usize, max_age: Duration) -> AnalysisCache {
        let versions = (!max_age.is_zero()).then(|| VersionMemo::new(max_age));
        AnalysisCache { versions, ..AnalysisCache::new(capacity) }
    }

    /// The key of an analysis of `projects` (with their data versions) with `params`.
    pub fn key(project: &str, projects: &[ProjectVersion], params: &Params) -> String {
        use std::fmt::Write;
        let params = serde_json::to_string(params).unwrap_or_default();
        let mut key = String::with_capacity(project.len() + params.len() + 32 * projects.len());
        key.push_str(project);
        for (n, p) in projects.iter().enumerate() {
            let separator = if n == 0 { '|' } else { ',' };
            // Writing to a String cannot fail.
            let _ = write!(key, "{separator}{}:{}", p.key, p.data_version);
        }
        if projects.is_empty() {
            key.push('|');
        }
        key.push('|');
        key.push_str(&params);
        key
    }

    /// The data versions of the projects `project` names, as [`select_projects`] reads
    /// them, through the memo when this cache has one.
    pub async fn project_versions(
        &self,
        store: &dyn Store,
        project: &str,
    ) -> Result<Option<Arc<Vec<ProjectVersion>>>> {
        match &self.versions {
            Some(memo) => memo.get(store, project).await,
            None => Ok(select_projects(store, project).await?.map(Arc::new)),
        }
    }

    /// Reports cached now.
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding this lock leaves only bookkeeping half-done; the map
        // itself stays valid.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn slot(&self, key: &str) -> Slot {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if let Some((slot, used)) = entries.slots.get_mut(key) {
            *used = now;
            return slot.clone();
        }
        if entries.slots.len() >= self.capacity {
            let oldest = entries.slots.iter().min_by_key(|(_, (_, used))| *used);
            if let Some(oldest) = oldest.map(|(key, _)| key.clone()) {
                entries.slots.remove(&oldest);
            }
        }
        let slot = Slot::default();
        entries.slots.insert(key.to_owned(), (slot.clone(), now));
        slot
    }

    /// The report cached for `key`, if it is ready.
    pub fn cached(&self, key: &str) -> Option<Arc<CachedReport>> {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let (slot, used) = entries.slots.get_mut(key)?;
        let report = slot.get()?.clone();
        *used = now;
        Some(report)
    }

    /// The cached report for `key`, or the one `compute` makes (which is then cached; a
    /// failure is not).
    pub async fn get_or_compute<F, Fut>(&self, key: &str, compute: F) -> Result<Arc<CachedReport>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<CachedReport>>,
    {
        let slot = self.slot(key);
        let report = slot.get_or_try_init(|| async { compute().await.map(Arc::new) }).await?;
        Ok(report.clone())
    }
}

/// Analyses the stored issues of `project` (a key or [`ALL_PROJECTS`]) with `params`
/// (already prepared by [`params_for_store`]), through `cache`; `None` when the store
/// holds no issue of `project`. The analysis itself runs on the blocking pool, so it never
/// stalls other requests.
pub async fn analyze_stored(
    store: &dyn Store,
    cache: &AnalysisCache,
    project: &str,
    params: Params,
) -> Result<Option<Arc<CachedReport>>> {
    let Some(projects) = cache.project_versions(store, project).await? else {
        return Ok(None);
    };
    let mut key = AnalysisCache::key(project, &projects, &params);
    if let Some(report) = cache.cached(&key) {
        return Ok(Some(report));
    }
    let mut projects = projects;
    if cache.versions.is_some() {
        // A remembered version may be a little old: the report about to be made from the
        // issues as they are now must not be filed under it.
        let Some(fresh) = select_projects(store, project).await? else { return Ok(None) };
        projects = Arc::new(fresh);
        key = AnalysisCache::key(project, &projects, &params);
    }
    let report = cache
        .get_or_compute(&key, || async move {
            let issues = cache.issues.get(store, project, &projects).await?;
            let analysis = tokio::task::spawn_blocking(move || {
                CachedReport::new(analysis::analyze(&issues, &params)?)
            });
            match analysis.await {
                Ok(report) => report,
                // The analysis panicked: a fault of ours, carried on as the panic it is.
                Err(failed) => std::panic::resume_unwind(failed.into_panic()),
            }
        })
        .await?;
    Ok(Some(report))
}

type IssueSlot = Arc<tokio::sync::OnceCell<Arc<Vec<Issue>>>>;

/// Issues read from the store, by project name and data versions, least recently used
/// dropped first when the issues kept exceed the capacity. Requests for a read in progress
/// wait for it rather than read again.
#[derive(Debug)]
struct IssueCache {
    capacity: usize,
    entries: Mutex<IssueEntries>,
}

#[derive(Debug, Default)]
struct IssueEntries {
    clock: u64,
    /// Weight of the finished reads.
    total: usize,
    /// Slot, last use, weight: its issues, at least 1 (0 while the read runs).
    reads: HashMap<String, (IssueSlot, u64, usize)>,
}

impl IssueCache {
    fn new(capacity: usize) -> IssueCache {
        IssueCache { capacity, entries: Mutex::new(IssueEntries::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IssueEntries> {
        // A panic while holding this lock leaves only counts half-done; the map stays valid.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn key(project: &str, projects: &[ProjectVersion]) -> String {
        let mut key = project.to_owned();
        for p in projects {
            key.push_str(&format!("|{}:{}", p.key, p.data_version));
        }
        key
    }

    fn slot(&self, key: &str) -> IssueSlot {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        let (slot, used, _) = entries.reads.entry(key.to_owned()).or_default();
        *used = now;
        slot.clone()
    }

    /// Notes that the read of `key` holds `count` issues, then drops the least recently
    /// used finished reads until the rest fit; a read too large to fit alone is dropped
    /// too (its callers keep their copy).
    fn settle(&self, key: &str, count: usize) {
        let mut entries = self.lock();
        // An empty read weighs one, so that stale ones are dropped in their turn too.
        let weight = count.max(1);
        let Some(entry) = entries.reads.get_mut(key) else { return };
        if entry.2 == 0 {
            entry.2 = weight;
            entries.total += weight;
        }
        while entries.total > self.capacity {
            let oldest = entries
                .reads
                .iter()
                .filter(|(_, (_, _, count))| *count > 0)
                .min_by_key(|(_, (_, used, _))| *used)
                .map(|(key, _)| key.clone());
            let Some(oldest) = oldest else { break };
            if let Some((_, _, count)) = entries.reads.remove(&oldest) {
                entries.total -= count;
            }
        }
    }

    async fn get(
        &self,
        store: &dyn Store,
        project: &str,
        projects: &[ProjectVersion],
    ) -> Result<Arc<Vec<Issue>>> {
        let key = IssueCache::key(project, projects);
        let slot = self.slot(&key);
        let all = project.eq_ignore_ascii_case(ALL_PROJECTS);
        let read = slot
            .get_or_try_init(|| async { stored_issues(store, projects, all).await.map(Arc::new) });
        match read.await {
            Ok(issues) => {
                let issues = issues.clone();
                self.settle(&key, issues.len());
                Ok(issues)
            }
            Err(error) => {
                // A failed read is not kept: the next request tries again.
                let mut entries = self.lock();
                if entries.reads.get(&key).is_some_and(|(_, _, count)| *count == 0) {
                    entries.reads.remove(&key);
                }
                Err(error)
            }
        }
    }
}

type VersionSlot = Arc<tokio::sync::OnceCell<Option<Arc<Vec<ProjectVersion>>>>>;

/// Data versions read lately, by the project name they were read for.
#[derive(Debug)]
struct VersionMemo {
    max_age: Duration,
    reads: Mutex<HashMap<String, (Instant, VersionSlot)>>,
}

/// Reads remembered before expired ones are swept (names are few: project keys and `ALL`,
/// plus whatever unknown keys clients ask for).
const REMEMBERED_READS: usize = 1024;

impl VersionMemo {
    fn new(max_age: Duration) -> VersionMemo {
        VersionMemo { max_age, reads: Mutex::new(HashMap::new()) }
    }

    /// The read to share: the latest one for `project` when it started within `max_age`,
    /// else a new one. Its age counts from its start, so what it returns is never older
    /// than `max_age` plus the read itself.
    fn slot(&self, project: &str) -> VersionSlot {
        // A panic while holding this lock leaves at worst a read to redo.
        let mut reads = self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if let Some((started, slot)) = reads.get(project) {
            if now.duration_since(*started) < self.max_age {
                return slot.clone();
            }
        }
        if reads.len() >= REMEMBERED_READS {
            reads.retain(|_, (started, _)| now.duration_since(*started) < self.max_age);
        }
        let slot = VersionSlot::default();
        reads.insert(project.to_owned(), (now, slot.clone()));
        slot
    }

    async fn get(
        &self,
        store: &dyn Store,
        project: &str,
    ) -> Result<Option<Arc<Vec<ProjectVersion>>>> {
        let slot = self.slot(project);
        let read = slot
            .get_or_try_init::<Error, _, _>(|| async {
                let found = select_projects(store, project).await?;
                Ok(found.map(Arc::new))
            })
            .await?;
        Ok(read.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use crate::store::SqliteStore;

    fn bug(id: u64) -> Issue {
        let day = 86_400_000;
        Issue {
            id: Some(id),
            key: format!("DEMO-{id}").into(),
            project: "DEMO".into(),
            issue_type: "Bug".into(),
            status: "Open".into(),
            summary: "a bug".into(),
            created: Some(Timestamp::from_millis(1_700_000_000_000 + id as i64 * day)),
            ..Issue::default()
        }
    }

    async fn store_with(issues: &[Issue]) -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = SqliteStore::open(&dir.path().join("store.db")).await.expect("open");
        store.migrate().await.expect("migrate");
        store.upsert_issues(issues).await.expect("write");
        (store, dir)
    }

    fn window_all() -> Params {
        Params { window: analysis::Window::All, ..Params::default() }
    }

    async fn issues_in(store: &SqliteStore, cache: &AnalysisCache, params: Params) -> u64 {
        let report = analyze_stored(store, cache, "DEMO", params).await.expect("analysis");
        report.expect("a report").report.data.issues
    }

    #[tokio::test]
    async fn without_a_memo_a_write_is_seen_on_the_next_request() {
        let (store, _dir) = store_with(&[bug(1), bug(2)]).await;
        let cache = AnalysisCache::new(8);

        let before = issues_in(&store, &cache, Params::default()).await;
        store.upsert_issues(&[bug(3)]).await.expect("write");
        let after = issues_in(&store, &cache, Params::default()).await;

        assert_eq!((before, after), (2, 3));
    }

    #[tokio::test]
    async fn a_remembered_version_serves_hits_but_never_files_a_new_report() {
        let (store, _dir) = store_with(&[bug(1), bug(2)]).await;
        let cache = AnalysisCache::with_version_memo(8, Duration::from_secs(3600));

        let before = issues_in(&store, &cache, Params::default()).await;
        store.upsert_issues(&[bug(3)]).await.expect("write");
        let remembered = issues_in(&store, &cache, Params::default()).await;
        let fresh = issues_in(&store, &cache, window_all()).await;
        let versions = select_projects(&store, "DEMO").await.expect("read").expect("issues");
        let stale = vec![ProjectVersion { data_version: 1, ..versions[0].clone() }];

        assert_eq!((before, remembered, fresh), (2, 2, 3));
        assert_eq!(versions[0].data_version, 2);
        let filed = |projects| cache.cached(&AnalysisCache::key("DEMO", projects, &window_all()));
        assert!(filed(&versions).is_some(), "the new report is filed under the new version");
        assert!(filed(&stale).is_none(), "and never under the remembered one");
    }

    #[tokio::test]
    async fn unknown_and_empty_projects_have_no_analysis() {
        let (store, _dir) = store_with(&[]).await;
        store.upsert_project("EMPTY", None).await.expect("an empty project");
        let cache = AnalysisCache::with_version_memo(8, Duration::from_secs(3600));

        let empty = analyze_stored(&store, &cache, "EMPTY", Params::default()).await;
        let unknown = analyze_stored(&store, &cache, "NOPE", Params::default()).await;
        let all = analyze_stored(&store, &cache, ALL_PROJECTS, Params::default()).await;

        assert!(empty.expect("no error").is_none());
        assert!(unknown.expect("no error").is_none());
        assert!(all.expect("no error").is_none());
    }

    fn other(id: u64) -> Issue {
        Issue { key: format!("OTHER-{id}").into(), project: "OTHER".into(), ..bug(id) }
    }

    #[tokio::test]
    async fn issues_are_read_once_per_data_version_and_a_write_is_seen_next_time() {
        let (store, _dir) = store_with(&[bug(1), bug(2)]).await;
        let cache = AnalysisCache::with_version_memo(8, Duration::from_secs(3600));

        let first = cache.issues(&store, "DEMO").await.expect("read").expect("issues");
        let again = cache.issues(&store, "DEMO").await.expect("read").expect("issues");
        store.upsert_issues(&[bug(3)]).await.expect("write");
        let after = cache.issues(&store, "DEMO").await.expect("read").expect("issues");
        let unknown = cache.issues(&store, "NOPE").await.expect("read");

        assert!(Arc::ptr_eq(&first, &again), "the second call shares the first read");
        assert_eq!((first.len(), after.len()), (2, 3), "the write is seen at once");
        assert!(unknown.is_none());
        let analysed = issues_in(&store, &cache, Params::default()).await;
        assert_eq!(analysed, 3, "the analysis reads the same cache");
    }

    #[tokio::test]
    async fn kept_issues_stay_within_the_capacity_least_recently_used_first_out() {
        let (store, _dir) = store_with(&[bug(1), bug(2), other(3), other(4)]).await;
        let cache = AnalysisCache::new(8).with_issue_capacity(3);

        let demo = cache.issues(&store, "DEMO").await.expect("read").expect("issues");
        assert_eq!(cache.cached_issues(), 2);
        let others = cache.issues(&store, "OTHER").await.expect("read").expect("issues");
        assert_eq!(cache.cached_issues(), 2, "DEMO's two made room for OTHER's two");
        let all = cache.issues(&store, ALL_PROJECTS).await.expect("read").expect("issues");
        assert_eq!(all.len(), 4);
        assert_eq!(cache.cached_issues(), 0, "a read larger than the capacity is not kept");
        let others_again = cache.issues(&store, "OTHER").await.expect("read").expect("issues");
        let demo_again = cache.issues(&store, "DEMO").await.expect("read").expect("issues");

        assert_eq!((demo.len(), others.len()), (2, 2));
        assert!(!Arc::ptr_eq(&demo, &demo_again), "DEMO was read again");
        assert!(!Arc::ptr_eq(&others, &others_again), "so was OTHER, dropped for ALL");
        assert_eq!(cache.cached_issues(), 2);
    }
}
