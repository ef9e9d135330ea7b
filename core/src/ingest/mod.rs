//! Getting issues into the store: imports from files and incremental syncs from JIRA.
//!
//! Both write through [`crate::store::Store`] in batches, upserting by issue id, so running
//! either twice changes nothing, and both record a run with its counts.

pub mod import;
mod pages;
pub mod sync;

use crate::store::WriteStats;

/// A progress event of a long ingest, for frontends to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What is happening, such as `importing` or `syncing`.
    pub stage: &'static str,
    /// Units done so far (issues).
    pub done: u64,
    /// Units expected in all, when known.
    pub total: Option<u64>,
    /// What the store did with the issues done so far, when the stage counts it: issues
    /// done are not issues written, since an unchanged issue is not rewritten.
    pub written: Option<WriteStats>,
}

/// Receives progress events; frontends draw bars or log lines from them.
pub trait ProgressSink: Send + Sync {
    /// Called after each batch or page.
    fn update(&self, progress: &Progress);
}

/// Discards progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn update(&self, _progress: &Progress) {}
}
