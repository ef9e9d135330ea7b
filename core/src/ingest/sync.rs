//! `bugdash sync`: incremental, resumable sync of one project from JIRA into the store.
//!
//! Each run asks for the project's issues updated since the watermark minus an overlap,
//! written in epoch milliseconds so the bound does not depend on the time zone of the JIRA
//! account. Every page is followed by a checkpoint (the query and the cursor of the next
//! page), saved only once that page and every page before it are written, so a process
//! killed at any moment resumes after written pages only: a page is never lost, and
//! writing one twice changes nothing because issues are upserted by id. Where the store
//! writes one page at a time (SQLite), page and checkpoint go in one transaction; where it
//! writes several side by side (PostgreSQL), pages written after the last checkpoint are
//! simply written again on resume (see `PageWrites`).
//!
//! A census, run on `--full` syncs and whenever the last one is older than the configured
//! interval, compares the ids JIRA holds with the ids stored: stored issues JIRA no longer
//! returns are looked up one by one (gone: marked removed; found under another key or
//! project: a move, stored as an update), and ids JIRA holds that the store lacks are
//! fetched. The listing of JIRA's ids is read once every page of the reading is asked for,
//! behind the last of them, while pages read ahead are still being written (see
//! `Listing`); the comparison waits for the writes.
//!
//! Pages are fetched ahead of the writes (see `ingest::pages`), up to
//! [`SyncRequest::read_ahead`] issues, and taken strictly in order.
//!
//! Offset paging over a result set ordered by `updated` skips an issue whenever an issue
//! already read is updated or deleted before the last page: the run notices (an id seen
//! twice, or a changed total) and reads the query again, and the watermark only advances
//! after a reading in which nothing moved.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::pages::{Pages, ReadThrough};
use super::{Progress, ProgressSink};
use crate::config::SyncSettings;
use crate::jira::client::{updated_since_jql, Cursor, JiraClient};
use crate::model::{Issue, Timestamp};
use crate::store::{Store, SyncRun, SyncState, WriteStats};
use crate::{Error, Result};

/// What to sync.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRequest {
    /// Project key.
    pub project: String,
    /// Read every issue again and run a census, ignoring the watermark.
    pub full: bool,
    /// How far before the watermark an incremental run starts again.
    pub overlap: Duration,
    /// How old the last census may be before a run makes a new one.
    pub census_every: Duration,
    /// Issues that may be fetched ahead of the writes (Data Center; see
    /// `ingest::pages`). More lets a sync from a fast JIRA finish reading, and start its
    /// census, sooner, and holds more issues in memory.
    pub read_ahead: usize,
}

impl SyncRequest {
    /// A sync of `project` with the configured overlap, census interval and read-ahead.
    pub fn new(project: impl Into<String>, full: bool, settings: &SyncSettings) -> SyncRequest {
        SyncRequest {
            project: project.into(),
            full,
            overlap: Duration::from_secs(u64::from(settings.overlap_minutes) * 60),
            census_every: Duration::from_secs(u64::from(settings.census_hours) * 3600),
            read_ahead: settings.read_ahead as usize,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Id of the recorded run.
    pub run_id: i64,
    /// True when the run carried on from a checkpoint left by an interrupted run.
    pub resumed: bool,
    /// Search pages read.
    pub pages: u64,
    /// Issues received from JIRA.
    pub received: u64,
    /// Writes by kind.
    pub written: WriteStats,
    /// True when a census ran.
    pub census: bool,
    /// Issues found gone by the census and marked removed.
    pub removed: u64,
    /// Issues the census found under another key or project.
    pub moved: u64,
    /// Issues the census found missing from the store and fetched.
    pub recovered: u64,
    /// JIRA API calls made.
    pub api_calls: u64,
    /// The watermark after the run.
    pub watermark: Option<Timestamp>,
    /// Times the run read its query again from the first page: a saved cursor JIRA no
    /// longer accepted, or issues that changed while the pages were read.
    pub restarts: u32,
    /// True when issues were still changing under the last reading; the watermark was then
    /// left where it was, so the next sync reads the same span again.
    pub unsettled: bool,
}

/// How often one run reads its query again from the first page (an expired cursor, or
/// issues that moved while the pages were read) before it settles for what it has.
const MAX_RESTARTS: u32 = 3;

/// What one reading of the query saw, to tell whether the result set moved under it.
///
/// Pages are ordered by `updated`: an issue updated after it was read moves to the end and
/// comes back a second time, and an issue deleted or moved away after it was read shrinks
/// the total. Either shifts the offsets of the pages still to come by one, which can skip
/// an issue; a second reading picks it up.
#[derive(Debug, Default)]
struct Pass {
    seen: std::collections::HashSet<u64>,
    first_total: Option<u64>,
    shifted: bool,
}

impl Pass {
    /// Notes a page's issues and total; true when the page holds an issue this reading
    /// had already seen.
    fn observe(&mut self, issues: &[Issue], total: Option<u64>) -> bool {
        let mut repeated = false;
        for id in issues.iter().filter_map(|issue| issue.id) {
            repeated |= !self.seen.insert(id);
        }
        self.shifted |= repeated;
        match (self.first_total, total) {
            (None, Some(total)) => self.first_total = Some(total),
            (Some(first), Some(total)) => self.shifted |= first != total,
            _ => {}
        }
        repeated
    }
}

/// What writing a page did.
struct Written {
    stats: WriteStats,
    issues: u64,
    total: Option<u64>,
    /// False for a page written after one that failed: its checkpoint was not saved.
    checkpointed: bool,
}

/// The pages being written, oldest first, up to [`Store::page_writes_in_flight`] at once.
///
/// Writes run side by side, but each page's checkpoint is saved only once every page
/// before it is written and checkpointed, so a process killed at any moment leaves a
/// checkpoint covering written pages only (pages written after it are written again on
/// resume, which changes nothing). With several in flight, issues go in through
/// [`Store::upsert_issues`], whose commits need not reach the disk at once: the durable
/// commit of a later checkpoint makes them durable too, since a database's log reaches the
/// disk in order.
///
/// Everything a page's write waits for (its database work, the checkpoint of the page
/// before) happens inside its own future, and the futures are polled whenever the sync
/// waits on this: a write waiting for another that is not polled would hold its
/// connection and locks for ever.
///
/// When a write fails, the writes after it are still awaited and counted (their issues
/// are stored, without a checkpoint) before the failure is returned.
struct PageWrites<'a> {
    store: &'a dyn Store,
    progress: &'a dyn ProgressSink,
    in_flight: usize,
    running: FuturesOrdered<BoxFuture<'a, Result<Written>>>,
    /// Fires when the newest page pushed has been written and checkpointed.
    last_checkpoint: Option<oneshot::Receiver<()>>,
    done: u64,
}

impl<'a> PageWrites<'a> {
    fn new(store: &'a dyn Store, progress: &'a dyn ProgressSink) -> Self {
        PageWrites {
            store,
            progress,
            in_flight: store.page_writes_in_flight().max(1),
            running: FuturesOrdered::new(),
            last_checkpoint: None,
            done: 0,
        }
    }

    /// Starts writing a page, once fewer than the allowed number are being written.
    async fn push(
        &mut self,
        issues: Vec<Issue>,
        state: SyncState,
        total: Option<u64>,
        report: &mut SyncReport,
    ) -> Result<()> {
        while self.running.len() >= self.in_flight {
            self.complete_oldest(report).await?;
        }
        let store = self.store;
        let alone = self.in_flight == 1;
        let previous = self.last_checkpoint.take();
        let (checkpointed, next) = oneshot::channel();
        self.last_checkpoint = Some(next);
        self.running.push_back(Box::pin(async move {
            let issues_count = issues.len() as u64;
            if alone {
                let stats = store.save_page(&issues, &state).await?;
                return Ok(Written { stats, issues: issues_count, total, checkpointed: true });
            }
            let stats = store.upsert_issues(&issues).await?;
            // A closed channel means the page before failed: a checkpoint saved now would
            // cover a page that is not written, so none is, and none after it either.
            let before_written = match previous {
                Some(previous) => previous.await.is_ok(),
                None => true,
            };
            if before_written {
                store.save_sync_state(&state).await?;
                // The next page's write may have been dropped already; it needs no word.
                checkpointed.send(()).ok();
            }
            Ok(Written { stats, issues: issues_count, total, checkpointed: before_written })
        }));
        Ok(())
    }

    /// Waits for every page being written.
    async fn finish(&mut self, report: &mut SyncReport) -> Result<()> {
        while !self.running.is_empty() {
            self.complete_oldest(report).await?;
        }
        Ok(())
    }

    /// Waits for `work` while the pages keep being written.
    async fn while_waiting<T>(
        &mut self,
        work: impl std::future::Future<Output = T>,
        report: &mut SyncReport,
    ) -> Result<T> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                Some(written) = self.running.next() => self.take(written, report).await?,
                value = &mut work => return Ok(value),
            }
        }
    }

    async fn complete_oldest(&mut self, report: &mut SyncReport) -> Result<()> {
        match self.running.next().await {
            Some(written) => self.take(written, report).await,
            None => Ok(()),
        }
    }

    /// Counts a finished write; on a failure, first waits for and counts those after it.
    async fn take(&mut self, written: Result<Written>, report: &mut SyncReport) -> Result<()> {
        let written = match written {
            Ok(written) => written,
            Err(failure) => {
                while let Some(later) = self.running.next().await {
                    if let Ok(later) = later {
                        add(&mut report.written, later.stats);
                    }
                }
                return Err(failure);
            }
        };
        add(&mut report.written, written.stats);
        if written.checkpointed {
            self.done += written.issues;
            let progress =
                Progress { stage: "syncing", done: self.done, total: written.total, written: None };
            self.progress.update(&progress);
        }
        Ok(())
    }
}

/// The ids JIRA holds for a project, read in the background once every page of a
/// reading of the query is asked for, while the pages read ahead are still being written;
/// dropping it stops the reading.
///
/// Its requests queue behind the last pages, not earlier: an issue deleted or moved away
/// while the pages are read must be missing from it, for the census to look the issue up
/// and find it gone. What changes while the last pages are answered may be missed, as
/// anything changed after the census is, and the next census finds it: up to twice the
/// client's in-flight bound of pages can be in line ahead of the listing (two latencies),
/// and a page whose request is retried queues again behind the listing after its wait
/// (seconds, when JIRA asks it to). Nothing is wrongly removed: every disagreement is
/// looked up on its own. A reading that starts again drops its listing and
/// makes a new one; a listing that began before a page asked for later (offsets planned
/// again) is read again when the census needs it.
struct Listing {
    /// The fetches the pages had started when the listing began, and the ids.
    task: tokio::task::JoinHandle<Result<(Option<u64>, Vec<u64>)>>,
}

impl Listing {
    /// A listing read as soon as `read` says every page of the reading is asked for.
    fn after(read: ReadThrough, client: &JiraClient, project: &str) -> Listing {
        let client = client.clone();
        let jql = census_jql(project);
        let task = tokio::spawn(async move {
            let began_after = read.wait().await;
            let ids = client.search_ids(&jql).await?;
            Ok((began_after, ids))
        });
        Listing { task }
    }

    /// The ids, read again now unless the listing began after the last of the
    /// `fetches_started` page fetches was asked for.
    async fn ids(
        mut self,
        fetches_started: u64,
        client: &JiraClient,
        project: &str,
    ) -> Result<Vec<u64>> {
        let listed = match (&mut self.task).await {
            Ok(listed) => listed?,
            Err(fault) => {
                return Err(crate::jira::client::JiraError::Network {
                    endpoint: "the census's id search".to_owned(),
                    detail: format!("the listing task failed: {fault}"),
                }
                .into())
            }
        };
        match listed {
            (Some(began_after), ids) if began_after == fetches_started => Ok(ids),
            _ => client.search_ids(&census_jql(project)).await,
        }
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every issue of the project.
fn census_jql(project: &str) -> String {
    updated_since_jql(project, Timestamp::from_millis(0), Duration::ZERO)
}

fn is_bad_request(error: &crate::Error) -> bool {
    matches!(error, crate::Error::Jira(crate::jira::client::JiraError::BadRequest { .. }))
}

/// The checkpoint of an unfinished run, stored as JSON in the sync state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    jql: String,
    cursor: Cursor,
    full: bool,
    /// Latest `updated` among the issues written so far by this run.
    max_updated: Option<Timestamp>,
}

/// Syncs one project: pages since the watermark (or everything with `full`), then a census
/// when one is due. Records the run, successful or not.
///
/// Holds the project's sync lock throughout, and fails with [`Error::Busy`] when another
/// sync of the project holds it: two at once would take over each other's checkpoint and
/// read everything twice.
pub async fn sync_project(
    store: &dyn Store,
    client: &JiraClient,
    request: &SyncRequest,
    progress: &dyn ProgressSink,
) -> Result<SyncReport> {
    let Some(lock) = store.lock_sync(&request.project).await? else {
        return Err(Error::Busy(format!("sync of {}", request.project)));
    };
    sync_project_holding(store, client, request, progress, lock).await
}

/// [`sync_project`] with the project's sync lock already taken by the caller (a service
/// that must answer at once whether the sync starts takes it first, then hands it over);
/// releases it when done.
pub async fn sync_project_holding(
    store: &dyn Store,
    client: &JiraClient,
    request: &SyncRequest,
    progress: &dyn ProgressSink,
    lock: crate::store::SyncLock,
) -> Result<SyncReport> {
    debug_assert_eq!(lock.project(), request.project, "the lock of another project");
    let outcome = sync_locked(store, client, request, progress).await;
    // Released before returning, so that a sync started right after this one returns
    // finds the lock free even where dropping it would free it only a moment later.
    lock.release().await;
    outcome
}

/// [`sync_project`] once the lock is held.
async fn sync_locked(
    store: &dyn Store,
    client: &JiraClient,
    request: &SyncRequest,
    progress: &dyn ProgressSink,
) -> Result<SyncReport> {
    store.upsert_project(&request.project, None).await?;
    close_interrupted_runs(store, &request.project).await?;
    let kind = if request.full { "full-sync" } else { "sync" };
    let run_id = store.start_run(&request.project, kind).await?;
    let started = now();
    let calls_before = client.stats().total();
    let mut report = SyncReport { run_id, ..SyncReport::default() };
    let outcome = run(store, client, request, progress, &mut report).await;
    report.api_calls = client.stats().total().saturating_sub(calls_before);
    let run = SyncRun {
        id: run_id,
        project: request.project.clone(),
        kind: kind.into(),
        started_at: started,
        finished_at: Some(now()),
        outcome: if outcome.is_ok() { "succeeded" } else { "failed" }.into(),
        api_calls: report.api_calls,
        issues_written: report.written.inserted + report.written.updated,
        errors: outcome.as_ref().err().map(|e| vec![e.to_string()]).unwrap_or_default(),
    };
    store.finish_run(&run).await?;
    outcome.map(|()| report)
}

async fn run(
    store: &dyn Store,
    client: &JiraClient,
    request: &SyncRequest,
    progress: &dyn ProgressSink,
    report: &mut SyncReport,
) -> Result<()> {
    let project = &request.project;
    let mut state = store.sync_state(project).await?.unwrap_or_else(|| fresh_state(project));
    let mut checkpoint = match resumable(&state, request) {
        Some(checkpoint) => {
            report.resumed = true;
            checkpoint
        }
        None => first_checkpoint(client, request, &state).await?,
    };
    // A census that is due is owed until it completes: the state written with the last
    // page clears the time of the previous one, so a run killed during the census leaves
    // the next run a census to make.
    let census_owed = census_due(&state, request);
    let mut listing: Option<Listing> = None;
    let mut pass = Pass::default();
    let mut may_restart_cursor = report.resumed;
    let mut pages = Pages::new(client, &checkpoint.jql, request.read_ahead);
    let mut writes = PageWrites::new(store, progress);
    loop {
        // The pages after this one are already being fetched, and those before it may
        // still be being written, while it is waited for.
        let page = match writes.while_waiting(pages.page(&checkpoint.cursor), report).await? {
            Ok(page) => page,
            Err(error) if may_restart_cursor && is_bad_request(&error) => {
                // The saved cursor is no longer valid (Cloud page tokens expire): the
                // query starts again from its first page, which is safe because writes
                // are upserts.
                may_restart_cursor = false;
                checkpoint.cursor = client.first_cursor().await?;
                report.restarts += 1;
                continue;
            }
            Err(error) => {
                // The pages read before the one that failed are written and checkpointed,
                // so that the next run carries on after them. JIRA's fault stopped the
                // run, so it is the one reported.
                if let Err(fault) = writes.finish(report).await {
                    tracing::warn!(error = %fault, "a page read before JIRA failed was not written");
                }
                return Err(error);
            }
        };
        may_restart_cursor = false;
        if census_owed && listing.is_none() {
            // Waits in the background until every page of this reading is asked for.
            listing = Some(Listing::after(pages.read_through(), client, project));
        }
        report.pages += 1;
        report.received += page.issues.len() as u64;
        let repeated = pass.observe(&page.issues, page.total);
        checkpoint.max_updated = checkpoint.max_updated.max(latest_update(&page.issues));
        let mut finished = false;
        let end_of_reading = page.next.is_none();
        match page.next {
            Some(next) => checkpoint.cursor = next,
            None if pass.shifted && report.restarts < MAX_RESTARTS => {
                // Issues read earlier changed while the pages were read, so offsets moved
                // and an issue may have been skipped: read the query once more.
                writes.finish(report).await?;
                checkpoint.cursor = client.first_cursor().await?;
                report.restarts += 1;
                pass = Pass::default();
                // A listing read now would hold issues the new reading may find gone.
                listing = None;
            }
            None => finished = true,
        }
        state.checkpoint = if finished { None } else { Some(to_json(&checkpoint)?) };
        if finished && !pass.shifted {
            state.watermark = state.watermark.max(checkpoint.max_updated);
        }
        if finished && census_owed {
            state.last_census = None;
        }
        // The count is saved with the page's checkpoint, so a killed run neither loses nor
        // repeats it.
        state.issues_written += page.issues.len() as u64;
        if repeated {
            // An issue read a second time goes in after its first copy is written, so
            // that pages written side by side never hold the same issue.
            writes.finish(report).await?;
        }
        writes.push(page.issues, state.clone(), page.total, report).await?;
        if end_of_reading {
            // A new reading starts over from the first page, whose issues may be among
            // those still being written.
            writes.finish(report).await?;
        }
        if finished {
            report.unsettled = pass.shifted;
            break;
        }
    }
    report.watermark = state.watermark;
    if census_owed {
        let listing =
            listing.unwrap_or_else(|| Listing::after(pages.read_through(), client, project));
        // Every page is written: the stored ids are read while the listing finishes.
        let (in_jira, stored) = tokio::join!(
            listing.ids(pages.fetches_started(), client, project),
            store.issue_ids(project)
        );
        census(store, client, project, in_jira?, stored?, report).await?;
        state.last_census = Some(now());
    }
    store.save_sync_state(&state).await
}

/// Sync runs still marked running belong to processes that died (killed, machine lost),
/// because this run holds the sync lock that a live one would hold; this run is about to
/// carry on their work, so they are closed as interrupted. Imports do not take the lock,
/// so their runs are left alone.
async fn close_interrupted_runs(store: &dyn Store, project: &str) -> Result<()> {
    for mut run in store.runs(Some(project), 50).await? {
        let sync = run.kind == "sync" || run.kind == "full-sync";
        if sync && run.outcome == "running" && run.finished_at.is_none() {
            run.outcome = "interrupted".into();
            run.finished_at = Some(now());
            run.errors.push("the process ended before the run finished".into());
            store.finish_run(&run).await?;
        }
    }
    Ok(())
}

fn fresh_state(project: &str) -> SyncState {
    SyncState {
        project: project.to_owned(),
        watermark: None,
        checkpoint: None,
        issues_written: 0,
        last_census: None,
    }
}

/// The checkpoint to carry on from, when the last run was interrupted and this run asks
/// for no more than that run did (a full run is not resumed from an incremental one).
fn resumable(state: &SyncState, request: &SyncRequest) -> Option<Checkpoint> {
    let checkpoint: Checkpoint = serde_json::from_value(state.checkpoint.clone()?).ok()?;
    (checkpoint.full || !request.full).then_some(checkpoint)
}

async fn first_checkpoint(
    client: &JiraClient,
    request: &SyncRequest,
    state: &SyncState,
) -> Result<Checkpoint> {
    let jql = match state.watermark {
        Some(watermark) if !request.full => {
            updated_since_jql(&request.project, watermark, request.overlap)
        }
        _ => updated_since_jql(&request.project, Timestamp::from_millis(0), Duration::ZERO),
    };
    let cursor = client.first_cursor().await?;
    Ok(Checkpoint { jql, cursor, full: request.full, max_updated: None })
}

fn census_due(state: &SyncState, request: &SyncRequest) -> bool {
    let every = i64::try_from(request.census_every.as_millis()).unwrap_or(i64::MAX);
    match state.last_census {
        _ if request.full => true,
        None => true,
        Some(last) => now().millis().saturating_sub(last.millis()) >= every,
    }
}

/// Compares the ids JIRA holds for the project with the ids stored, both ways.
///
/// JIRA may change while the listing is read: every id on which the listing and the
/// store disagree is looked up on its own, and the answer decides. A stored issue missing
/// from the listing that is still in the project is neither removed nor moved.
async fn census(
    store: &dyn Store,
    client: &JiraClient,
    project: &str,
    in_jira: Vec<u64>,
    stored: Vec<i64>,
    report: &mut SyncReport,
) -> Result<()> {
    report.census = true;
    let in_jira: BTreeSet<i64> = in_jira.into_iter().map(|id| id as i64).collect();
    let stored: BTreeSet<i64> = stored.into_iter().collect();

    let mut gone = Vec::new();
    for id in stored.iter().filter(|id| **id > 0 && !in_jira.contains(id)) {
        match client.issue(&id.to_string()).await? {
            None => gone.push(*id),
            Some(issue) => {
                let moved = !issue.project.eq_ignore_ascii_case(project);
                add(&mut report.written, store.upsert_issues(&[issue]).await?);
                report.moved += u64::from(moved);
            }
        }
    }
    report.removed = store.mark_removed(&gone).await?;

    for id in in_jira.iter().filter(|id| !stored.contains(id)) {
        if let Some(issue) = client.issue(&id.to_string()).await? {
            add(&mut report.written, store.upsert_issues(&[issue]).await?);
            report.recovered += 1;
        }
    }
    Ok(())
}

fn latest_update(issues: &[Issue]) -> Option<Timestamp> {
    issues.iter().filter_map(|issue| issue.updated).max()
}

fn add(total: &mut WriteStats, stats: WriteStats) {
    total.inserted += stats.inserted;
    total.updated += stats.updated;
    total.unchanged += stats.unchanged;
}

fn to_json(checkpoint: &Checkpoint) -> Result<serde_json::Value> {
    serde_json::to_value(checkpoint).map_err(|error| {
        crate::Error::Config(format!("cannot record the sync checkpoint: {error}"))
    })
}

fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}
