//! `bugdash import`: issues from files (every format the readers know) into the store.
//!
//! Files are read one after another on a blocking thread, each streamed record by record
//! ([`crate::jira::stream_path`]); the issues of the requested project go in batches of
//! [`BATCH`] through a channel of [`BATCHES_QUEUED`] batches to the store, which writes one
//! batch while the next is parsed. Memory is bounded by the batches in the channel and in
//! the writer, whatever the size of the files.
//!
//! The same issue met twice (in two files, or twice in one) is one row: the store keeps the
//! copy updated last, also across batches and runs (see [`Store::upsert_issues`]).
//!
//! **Bad input.** Every file is opened before anything is written, so a missing or
//! unreadable file fails the import with nothing written. A malformed issue further in
//! (bad JSON, an unreadable date, a CSV row of the wrong width) stops the import at that
//! issue with an error naming the file, the line and the column or record. The batches
//! written before it stay written, each one complete (a batch is one transaction); the run
//! is recorded `failed` with the error and the number of issues written. Nothing stored is
//! lost or duplicated, since writes are upserts by issue id where the newer copy wins, so
//! running the import again once the file is fixed writes only what was missing.
//!
//! **The run record.** An import into a project the store already holds is recorded from
//! its start, failed or not. A project new to the store gets its run once its first batch
//! is written (or, for files without a single issue, when the import succeeds), because a
//! run belongs to a project and recording it would create the project: an import that
//! fails before writing anything (files holding no issue of the project, a first batch
//! the reader or the store refuses whole) then leaves neither a run nor an empty project
//! behind. A first batch refused after part of it was stored (a store writes a batch in
//! several transactions) is recorded as a failed run, since the project now holds issues.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Progress, ProgressSink};
use crate::jira::{stream_path, ReadOptions};
use crate::model::Issue;
use crate::store::{Store, SyncRun, WriteStats};
use crate::{Error, Result};

/// Issues written per store batch: large enough for bulk speed (PostgreSQL writes it as
/// three transactions of 1,000 at once), small enough that a failure loses little work.
pub const BATCH: usize = 3_000;

/// Batches read ahead of the store; with the one being written and the one being filled,
/// at most this plus two batches of issues are in memory.
pub const BATCHES_QUEUED: usize = 2;

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// Files to read.
    pub files: Vec<PathBuf>,
    /// Project the issues belong to; issues of other projects in the files are skipped.
    pub project: String,
    /// Reader options (column mapping).
    pub options: ReadOptions,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Issues of the project read from the files; an issue found twice counts twice (the
    /// store writes it once).
    pub read: u64,
    /// Issues skipped because they belong to other projects, by project.
    pub other_projects: BTreeMap<String, u64>,
    /// Writes by kind; an issue older than the stored copy counts as unchanged.
    pub written: WriteStats,
    /// Id of the recorded run (every successful import records one).
    pub run_id: i64,
    /// Where the time went.
    pub stages: StageTimes,
}

/// Where an import's wall-clock time went, stage by stage: the reading thread and the
/// writer run side by side, so which of them waited tells which one bounds the import.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    /// Time the reading thread spent reading and parsing the files.
    pub reading: Duration,
    /// Time the reading thread waited for room in the channel: the writer was behind.
    pub reader_blocked: Duration,
    /// Time the writer spent in the store.
    pub writing: Duration,
    /// Time the writer waited for a batch: the reading was behind.
    pub writer_starved: Duration,
}

/// Reads every file, keeps the issues of the requested project and upserts them in
/// batches while reading, recording the run; see the module documentation for what a
/// fault in the middle of a file leaves behind.
pub async fn import_files(
    store: &dyn Store,
    request: &ImportRequest,
    progress: &dyn ProgressSink,
) -> Result<ImportReport> {
    check_files(&request.files)?;
    let mut run = RunRecord { store, project: &request.project, id: None };
    if store_holds(store, &request.project).await? {
        run.id().await?;
    }
    let mut report = ImportReport::default();

    let (sender, receiver) = mpsc::channel(BATCHES_QUEUED);
    let reading = {
        let request = request.clone();
        tokio::task::spawn_blocking(move || read_files(&request, &sender))
    };
    let written = write_batches(&mut run, receiver, &mut report, progress).await;
    let read = match reading.await {
        Ok(read) => read,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    };
    // A writer failure ends the reading, which then reports only that it was cut short.
    let outcome = match (written, read) {
        (Err(fault), _) => Err(fault),
        (Ok(()), Err(fault)) => Err(fault),
        (Ok(()), Ok(counts)) => {
            (report.read, report.other_projects) = (counts.kept, counts.other_projects);
            report.stages.reading = counts.reading;
            report.stages.reader_blocked = counts.blocked;
            tracing::debug!(stages = ?report.stages, "import stage times");
            no_issue_of_project(&request.project, &report)
        }
    };
    // A project new to the store whose import failed before writing has nothing to
    // record the run against (see the module documentation). A store writes a batch in
    // several transactions, so part of a refused first batch may be stored: the project
    // it created then gets the failed run.
    let record =
        run.id.is_some() || outcome.is_ok() || store_holds(store, &request.project).await?;
    if record {
        report.run_id = run.id().await?;
        finish_run(store, request, &report, &outcome).await?;
    }
    outcome.map(|()| report)
}

/// True when the store holds `project`, with or without issues.
async fn store_holds(store: &dyn Store, project: &str) -> Result<bool> {
    let found = store.project_versions(&[project.to_owned()]).await?;
    Ok(found.iter().any(|p| p.key.eq_ignore_ascii_case(project)))
}

/// The import's run, recorded when first asked for its id.
struct RunRecord<'a> {
    store: &'a dyn Store,
    project: &'a str,
    id: Option<i64>,
}

impl RunRecord<'_> {
    /// The run's id, recording its start (and creating the project) on the first call.
    async fn id(&mut self) -> Result<i64> {
        match self.id {
            Some(id) => Ok(id),
            None => {
                let id = self.store.start_run(self.project, "import").await?;
                Ok(*self.id.insert(id))
            }
        }
    }
}

/// Refuses files that cannot be opened, before anything is written.
fn check_files(files: &[PathBuf]) -> Result<()> {
    for path in files {
        std::fs::File::open(path).map_err(|source| Error::Io { path: path.clone(), source })?;
    }
    Ok(())
}

/// What the reading thread counted.
#[derive(Debug, Default)]
struct ReadCounts {
    kept: u64,
    other_projects: BTreeMap<String, u64>,
    /// Time spent reading, waits for the writer excluded.
    reading: Duration,
    /// Time spent waiting for room in the channel.
    blocked: Duration,
}

/// Streams every file in order, sending the project's issues in batches.
fn read_files(request: &ImportRequest, sender: &mpsc::Sender<Vec<Issue>>) -> Result<ReadCounts> {
    let began = Instant::now();
    let mut counts = ReadCounts::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut blocked = Duration::ZERO;
    let mut send = |batch: Vec<Issue>| {
        let waiting = Instant::now();
        let sent = sender.blocking_send(batch).map_err(|_| {
            // The writer has stopped and returns its own error; this one is not shown.
            Error::Store {
                operation: "keep writing the import".into(),
                source: "the writer stopped".into(),
            }
        });
        blocked += waiting.elapsed();
        sent
    };
    for path in &request.files {
        stream_path(path, &request.options, &mut |issue| {
            if !issue.project.eq_ignore_ascii_case(&request.project) {
                *counts.other_projects.entry(issue.project.to_string()).or_insert(0) += 1;
                return Ok(());
            }
            counts.kept += 1;
            batch.push(issue);
            if batch.len() == BATCH {
                send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
            }
            Ok(())
        })?;
    }
    if !batch.is_empty() {
        send(batch)?;
    }
    counts.blocked = blocked;
    counts.reading = began.elapsed().saturating_sub(blocked);
    Ok(counts)
}

/// Fails when the files hold issues, none of them of `project`.
fn no_issue_of_project(project: &str, report: &ImportReport) -> Result<()> {
    if report.read > 0 || report.other_projects.is_empty() {
        return Ok(());
    }
    let found: Vec<&str> = report.other_projects.keys().map(String::as_str).collect();
    Err(Error::invalid(
        "--project",
        format!("the files hold no issue of {project}; they hold {}", found.join(", ")),
    ))
}

/// Writes the batches as they come until the reader is done or a write fails, recording
/// the run once the first one is written.
async fn write_batches(
    run: &mut RunRecord<'_>,
    mut receiver: mpsc::Receiver<Vec<Issue>>,
    report: &mut ImportReport,
    progress: &dyn ProgressSink,
) -> Result<()> {
    let mut done = 0;
    let mut waiting = Instant::now();
    while let Some(batch) = receiver.recv().await {
        let writing = Instant::now();
        report.stages.writer_starved += writing - waiting;
        report.written += run.store.upsert_issues(&batch).await?;
        // After the write: a first batch refused before any of it was stored leaves no
        // project behind for the run to belong to.
        run.id().await?;
        done += batch.len() as u64;
        let written = Some(report.written);
        progress.update(&Progress { stage: "importing", done, total: None, written });
        waiting = Instant::now();
        report.stages.writing += waiting - writing;
    }
    Ok(())
}

async fn finish_run(
    store: &dyn Store,
    request: &ImportRequest,
    report: &ImportReport,
    outcome: &Result<()>,
) -> Result<()> {
    let run = SyncRun {
        id: report.run_id,
        project: request.project.clone(),
        kind: "import".into(),
        started_at: crate::Timestamp::from_millis(0),
        finished_at: Some(crate::Timestamp::from(chrono::Utc::now())),
        outcome: if outcome.is_ok() { "succeeded" } else { "failed" }.into(),
        api_calls: 0,
        issues_written: report.written.inserted + report.written.updated,
        errors: outcome.as_ref().err().map(|e| vec![e.to_string()]).unwrap_or_default(),
    };
    store.finish_run(&run).await
}
