//! `bugdash sync`: incremental, resumable sync of one project from JIRA into the store.
//!
//! Each run asks for the project's issues updated since the watermark minus an overlap,
//! written in epoch milliseconds so the bound does not depend on the time zone of the JIRA
//! account. Every page is written together with a checkpoint (the query and the cursor of
//! the next page) in one transaction, so a process killed at any moment resumes from the
//! last written page: a page is never lost, and writing one twice changes nothing because
//! issues are upserted by id.
//!
//! A census, run on `--full` syncs and whenever the last one is older than the configured
//! interval, compares the ids JIRA holds with the ids stored: stored issues JIRA no longer
//! returns are looked up one by one (gone: marked removed; found under another key or
//! project: a move, stored as an update), and ids JIRA holds that the store lacks are
//! fetched.
//!
//! Pages are fetched ahead of the writes (see [`super::pages`]) but written strictly in
//! order, so the checkpoint saved with a page covers only that page and those before it.
//!
//! Offset paging over a result set ordered by `updated` skips an issue whenever an issue
//! already read is updated or deleted before the last page: the run notices (an id seen
//! twice, or a changed total) and reads the query again, and the watermark only advances
//! after a reading in which nothing moved.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::pages::Pages;
use super::{Progress, ProgressSink};
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
    fn observe(&mut self, issues: &[Issue], total: Option<u64>) {
        for id in issues.iter().filter_map(|issue| issue.id) {
            self.shifted |= !self.seen.insert(id);
        }
        match (self.first_total, total) {
            (None, Some(total)) => self.first_total = Some(total),
            (Some(first), Some(total)) => self.shifted |= first != total,
            _ => {}
        }
    }
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
    let mut pass = Pass::default();
    let mut may_restart_cursor = report.resumed;
    let mut pages = Pages::new(client, &checkpoint.jql);
    loop {
        // The pages after this one are already being fetched while it is written.
        let page = match pages.page(&checkpoint.cursor).await {
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
            Err(error) => return Err(error),
        };
        may_restart_cursor = false;
        report.pages += 1;
        report.received += page.issues.len() as u64;
        pass.observe(&page.issues, page.total);
        checkpoint.max_updated = checkpoint.max_updated.max(latest_update(&page.issues));
        let mut finished = false;
        match page.next {
            Some(next) => checkpoint.cursor = next,
            None if pass.shifted && report.restarts < MAX_RESTARTS => {
                // Issues read earlier changed while the pages were read, so offsets moved
                // and an issue may have been skipped: read the query once more.
                checkpoint.cursor = client.first_cursor().await?;
                report.restarts += 1;
                pass = Pass::default();
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
        // The count goes into the same transaction as the page, so a killed run neither
        // loses nor repeats it.
        state.issues_written += page.issues.len() as u64;
        let stats = store.save_page(&page.issues, &state).await?;
        add(&mut report.written, stats);
        let total = page.total;
        progress.update(&Progress { stage: "syncing", done: report.received, total });
        if finished {
            report.unsettled = pass.shifted;
            break;
        }
    }
    report.watermark = state.watermark;
    if census_owed {
        census(store, client, project, report).await?;
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
async fn census(
    store: &dyn Store,
    client: &JiraClient,
    project: &str,
    report: &mut SyncReport,
) -> Result<()> {
    report.census = true;
    let jql = updated_since_jql(project, Timestamp::from_millis(0), Duration::ZERO);
    let in_jira: BTreeSet<i64> =
        client.search_ids(&jql).await?.into_iter().map(|id| id as i64).collect();
    let stored: BTreeSet<i64> = store.issue_ids(project).await?.into_iter().collect();

    let mut gone = Vec::new();
    for id in stored.iter().filter(|id| **id > 0 && !in_jira.contains(id)) {
        match client.issue(&id.to_string()).await? {
            None => gone.push(*id),
            Some(moved) => {
                add(&mut report.written, store.upsert_issues(&[moved]).await?);
                report.moved += 1;
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
