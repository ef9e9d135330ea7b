//! Syncs started by the service in the background: at most one per project at a time in
//! this process (and, through the store's sync lock, across every instance), with what
//! they did for the status page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::config::Settings;
use crate::ingest::sync::{sync_project_holding, SyncRequest};
use crate::ingest::NoProgress;
use crate::jira::client::JiraClient;
use crate::model::Timestamp;
use crate::store::{Store, SyncRun};
use crate::{Error, Result};

/// A sync running in this process.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningSync {
    /// Project key.
    pub project: String,
    /// Whether it reads everything again.
    pub full: bool,
    /// When it started.
    pub started_at: Timestamp,
}

/// Running syncs of this process and the latest recorded runs of every instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    /// Syncs running in this process.
    pub running: Vec<RunningSync>,
    /// The latest runs, newest first, as the store recorded them.
    pub recent: Vec<SyncRun>,
}

/// Starts and tracks background syncs.
#[derive(Debug, Default)]
pub struct SyncRunner {
    running: Mutex<HashMap<String, RunningSync>>,
}

impl SyncRunner {
    /// An idle runner.
    pub fn new() -> Arc<SyncRunner> {
        Arc::new(SyncRunner::default())
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunningSync>> {
        // The map stays valid whatever a panicking holder left half-done.
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a sync of `project` in the background and returns at once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when JIRA is not configured; [`Error::Busy`] when a sync of the
    /// project runs in this process or holds the lock in another.
    pub async fn start(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        settings: &Settings,
        project: &str,
        full: bool,
    ) -> Result<RunningSync> {
        let client = JiraClient::new(settings.jira.client_config()?)?;
        let busy = || Error::Busy(format!("sync of {project}"));
        let started = RunningSync {
            project: project.to_owned(),
            full,
            started_at: Timestamp::from(chrono::Utc::now()),
        };
        {
            let mut running = self.running();
            if running.contains_key(project) {
                return Err(busy());
            }
            running.insert(project.to_owned(), started.clone());
        }
        // Taken here and handed to the background task, so the answer is final: no other
        // instance can take the lock between this check and the sync.
        let lock = match store.lock_sync(project).await {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                self.running().remove(project);
                return Err(busy());
            }
            Err(error) => {
                self.running().remove(project);
                return Err(error);
            }
        };
        let request = SyncRequest::new(project.to_owned(), full, &settings.sync);
        let runner = Arc::clone(self);
        tokio::spawn(async move {
            let outcome =
                sync_project_holding(store.as_ref(), &client, &request, &NoProgress, lock).await;
            crate::analytics::store_jira_calls(store.as_ref(), &client.stats()).await;
            match outcome {
                Ok(report) => tracing::info!(
                    project = %request.project,
                    received = report.received,
                    "background sync finished"
                ),
                Err(error) => tracing::error!(
                    project = %request.project,
                    "background sync failed: {error}"
                ),
            }
            runner.running().remove(&request.project);
        });
        Ok(started)
    }

    /// The running syncs and the latest `limit` recorded runs.
    pub async fn status(&self, store: &dyn Store, limit: u32) -> Result<SyncStatus> {
        let mut running: Vec<RunningSync> = self.running().values().cloned().collect();
        running.sort_by(|a, b| a.project.cmp(&b.project));
        Ok(SyncStatus { running, recent: store.runs(None, limit).await? })
    }
}
