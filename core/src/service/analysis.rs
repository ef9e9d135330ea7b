//! Analyses of stored projects, and a cache of their results keyed by what they depend on.
//!
//! A stored analysis depends on the project's issues (summed up by the store's
//! `data_version`, which changes on every write) and on the parameters. The cache keys on
//! both, so a sync or import made by any instance invalidates every instance's entries on
//! the next request, with no message between them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::analysis::{self, Params, Report};
use crate::model::Issue;
use crate::store::{ProjectInfo, Store};
use crate::{Error, Result};

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

/// The store's projects `project` names: one key, or every project for [`ALL_PROJECTS`];
/// `None` when that is no stored issue at all (an unknown key, or an empty store).
pub async fn select_projects(store: &dyn Store, project: &str) -> Result<Option<Vec<ProjectInfo>>> {
    let projects = store.projects().await?;
    let found: Vec<ProjectInfo> = if project.eq_ignore_ascii_case(ALL_PROJECTS) {
        projects
    } else {
        projects.into_iter().filter(|p| p.key == project).collect()
    };
    let issues: u64 = found.iter().map(|p| p.issues).sum();
    Ok((issues > 0).then_some(found))
}

/// The issues of `projects` (every project's when `all`).
pub async fn stored_issues(
    store: &dyn Store,
    projects: &[ProjectInfo],
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
}

#[derive(Debug, Default)]
struct Entries {
    clock: u64,
    slots: HashMap<String, (Slot, u64)>,
}

impl AnalysisCache {
    /// A cache holding at most `capacity` reports (at least one).
    pub fn new(capacity: usize) -> AnalysisCache {
        AnalysisCache { capacity: capacity.max(1), entries: Mutex::new(Entries::default()) }
    }

    /// The key of an analysis of `projects` (with their data versions) with `params`.
    pub fn key(project: &str, projects: &[ProjectInfo], params: &Params) -> String {
        let versions: Vec<String> =
            projects.iter().map(|p| format!("{}:{}", p.key, p.data_version)).collect();
        let params = serde_json::to_string(params).unwrap_or_default();
        format!("{project}|{}|{params}", versions.join(","))
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
    let Some(projects) = select_projects(store, project).await? else { return Ok(None) };
    let all = project.eq_ignore_ascii_case(ALL_PROJECTS);
    let key = AnalysisCache::key(project, &projects, &params);
    let report = cache
        .get_or_compute(&key, || async move {
            let issues = stored_issues(store, &projects, all).await?;
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
