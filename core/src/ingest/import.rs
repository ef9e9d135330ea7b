//! `bugdash import`: issues from files (every format the readers know) into the store.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Progress, ProgressSink};
use crate::jira::{read_path, ReadOptions};
use crate::model::{dedupe_issues, Issue};
use crate::store::{Store, SyncRun, WriteStats};
use crate::{Error, Result};

/// Issues written per store batch: large enough for bulk speed, small enough that a
/// failure loses little work.
pub const BATCH: usize = 2_000;

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
    /// Issues read from the files (after merging duplicates).
    pub read: u64,
    /// Issues skipped because they belong to other projects, by project.
    pub other_projects: BTreeMap<String, u64>,
    /// Writes by kind.
    pub written: WriteStats,
    /// Id of the recorded run.
    pub run_id: i64,
}

/// Reads every file, keeps the issues of the requested project and upserts them in
/// batches, recording the run. A file that cannot be read fails the import before anything
/// is written, so an import is all or nothing at the file level.
pub async fn import_files(
    store: &dyn Store,
    request: &ImportRequest,
    progress: &dyn ProgressSink,
) -> Result<ImportReport> {
    let issues = read_files(request)?;
    let (issues, other_projects) = keep_project(issues, &request.project)?;
    let run_id = store.start_run(&request.project, "import").await?;
    let mut report =
        ImportReport { read: issues.len() as u64, other_projects, run_id, ..Default::default() };
    let outcome = write_batches(store, &issues, &mut report.written, progress).await;
    let run = SyncRun {
        id: run_id,
        project: request.project.clone(),
        kind: "import".into(),
        started_at: crate::Timestamp::from_millis(0),
        finished_at: Some(now()),
        outcome: if outcome.is_ok() { "succeeded" } else { "failed" }.into(),
        api_calls: 0,
        issues_written: report.written.inserted + report.written.updated,
        errors: outcome.as_ref().err().map(|e| vec![e.to_string()]).unwrap_or_default(),
    };
    store.finish_run(&run).await?;
    outcome.map(|()| report)
}

fn read_files(request: &ImportRequest) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    for path in &request.files {
        issues.append(&mut read_path(path, &request.options)?);
    }
    Ok(dedupe_issues(issues).0)
}

/// Splits off issues of other projects; fails when none belong to `project`.
fn keep_project(issues: Vec<Issue>, project: &str) -> Result<(Vec<Issue>, BTreeMap<String, u64>)> {
    let mut others = BTreeMap::new();
    let mut kept = Vec::with_capacity(issues.len());
    for issue in issues {
        if issue.project.eq_ignore_ascii_case(project) {
            kept.push(issue);
        } else {
            *others.entry(issue.project.to_string()).or_insert(0) += 1;
        }
    }
    if kept.is_empty() && !others.is_empty() {
        let found: Vec<&str> = others.keys().map(String::as_str).collect();
        return Err(Error::invalid(
            "--project",
            format!("the files hold no issue of {project}; they hold {}", found.join(", ")),
        ));
    }
    Ok((kept, others))
}

async fn write_batches(
    store: &dyn Store,
    issues: &[Issue],
    totals: &mut WriteStats,
    progress: &dyn ProgressSink,
) -> Result<()> {
    let total = Some(issues.len() as u64);
    for (index, batch) in issues.chunks(BATCH).enumerate() {
        let stats = store.upsert_issues(batch).await?;
        totals.inserted += stats.inserted;
        totals.updated += stats.updated;
        totals.unchanged += stats.unchanged;
        let done = (index * BATCH + batch.len()) as u64;
        progress.update(&Progress { stage: "writing", done, total });
    }
    Ok(())
}

fn now() -> crate::Timestamp {
    crate::Timestamp::from(chrono::Utc::now())
}
