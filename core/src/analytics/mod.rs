//! Usage analytics: what people do with BugDash, recorded as [`Event`]s.
//!
//! Frontends call [`Recorder::record`] for every authenticated request and feature use. The
//! call never waits for the database: events go into a bounded in-memory buffer, copied as
//! they arrive into the batch being filled ([`EventRows`]), which a background task writes
//! to the store one transaction per batch (when a batch is full, or every flush interval).
//! [`Recorder::record_ref`] takes an event whose texts are borrowed, so that a request
//! records without allocating.
//! [`Recorder::flush`] writes everything recorded so far, and [`Recorder::shutdown`] does
//! the same and stops the task; a service calls it on SIGTERM
//! before it exits, so in normal operation no event is lost.
//!
//! **Full buffer policy.** When the buffer holds [`RecorderConfig::capacity`] events the
//! newest event is dropped and counted in [`RecorderStats::dropped`]; requests are never
//! slowed down to wait for the database. A batch the store refuses is tried once more after
//! a short pause; when that fails too, its events are counted in [`RecorderStats::failed`]
//! and discarded, so that a database outage cannot grow the memory of the service.
//!
//! Rollups per day ([`rollup`]) and the queries of the admin API ([`report`]) read what the
//! recorder wrote.

pub mod report;
pub mod rollup;
mod rows;

pub use rows::{EventRef, EventRows, FiltersRef, RowRef};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::model::Timestamp;
use crate::store::Store;
use crate::{Error, Result};

/// Adds the calls a JIRA client made to today's (UTC) counts on record, for the admins'
/// view of JIRA use across instances. Called once at the end of every sync, whatever its
/// outcome; a store failure is logged and never fails the sync it follows.
pub async fn store_jira_calls(store: &dyn Store, stats: &crate::jira::client::ApiStats) {
    let counts = crate::store::analytics::JiraCallCount::from_stats(stats);
    if counts.is_empty() {
        return;
    }
    let today = chrono::Utc::now().date_naive();
    if let Err(error) = store.add_jira_calls(today, &counts).await {
        tracing::warn!("could not record the JIRA calls of a sync: {error}");
    }
}

/// What a person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Signed in.
    Login,
    /// Signed out.
    Logout,
    /// Asked for the analysis of a project.
    AnalyzeProject,
    /// Looked at trends.
    ViewTrends,
    /// Looked at insights.
    ViewInsights,
    /// Looked at the risk of areas.
    ViewAreas,
    /// Looked at a forecast.
    ViewForecast,
    /// Changed the filters of an analysis.
    ApplyFilters,
    /// Downloaded data (CSV, JSON).
    ExportData,
    /// Listed or read issues.
    ViewIssues,
    /// Listed projects.
    ViewProjects,
    /// Started a sync.
    StartSync,
    /// Changed an account or a setting as an admin.
    AdminAction,
    /// Any other authenticated API request.
    ApiCall,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 14] = [
        Action::Login,
        Action::Logout,
        Action::AnalyzeProject,
        Action::ViewTrends,
        Action::ViewInsights,
        Action::ViewAreas,
        Action::ViewForecast,
        Action::ApplyFilters,
        Action::ExportData,
        Action::ViewIssues,
        Action::ViewProjects,
        Action::StartSync,
        Action::AdminAction,
        Action::ApiCall,
    ];

    /// The stored name, such as `analyze_project`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::Logout => "logout",
            Action::AnalyzeProject => "analyze_project",
            Action::ViewTrends => "view_trends",
            Action::ViewInsights => "view_insights",
            Action::ViewAreas => "view_areas",
            Action::ViewForecast => "view_forecast",
            Action::ApplyFilters => "apply_filters",
            Action::ExportData => "export_data",
            Action::ViewIssues => "view_issues",
            Action::ViewProjects => "view_projects",
            Action::StartSync => "start_sync",
            Action::AdminAction => "admin_action",
            Action::ApiCall => "api_call",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = Error;

    fn from_str(text: &str) -> Result<Action> {
        Action::ALL.into_iter().find(|action| action.as_str() == text).ok_or_else(|| {
            Error::invalid("action", format!("{text:?} is not a known analytics action"))
        })
    }
}

/// One request or feature use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened.
    pub at: Timestamp,
    /// The account, when signed in.
    pub account_id: Option<i64>,
    /// The session, when signed in.
    pub session_id: Option<i64>,
    /// The account's department at the time.
    pub department: Option<String>,
    /// What was done.
    pub action: Action,
    /// The project it concerned.
    pub project: Option<String>,
    /// Filters applied, as given.
    pub filters: Option<serde_json::Value>,
    /// HTTP method, for requests.
    pub method: Option<String>,
    /// Route template (such as `/api/projects/{key}/analysis`), never the raw path.
    pub endpoint: Option<String>,
    /// HTTP status answered.
    pub status: Option<u16>,
    /// Time to answer, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Client address.
    pub client_addr: Option<String>,
}

impl Event {
    /// An event of `action` at `at` with nothing else known; set the rest with struct
    /// update syntax or the fields.
    pub fn new(action: Action, at: Timestamp) -> Event {
        Event {
            at,
            account_id: None,
            session_id: None,
            department: None,
            action,
            project: None,
            filters: None,
            method: None,
            endpoint: None,
            status: None,
            latency_ms: None,
            client_addr: None,
        }
    }
}

/// How a [`Recorder`] buffers and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Events the buffer holds; past that the newest are dropped and counted.
    pub capacity: usize,
    /// Events written per batch at most; a full batch is written at once.
    pub batch_size: usize,
    /// How long a partial batch waits before it is written.
    pub flush_interval: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig { capacity: 50_000, batch_size: 500, flush_interval: Duration::from_secs(2) }
    }
}

/// What a recorder has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecorderStats {
    /// Events accepted into the buffer.
    pub recorded: u64,
    /// Events written to the store.
    pub written: u64,
    /// Events dropped because the buffer was full or the recorder stopped.
    pub dropped: u64,
    /// Events discarded because the store refused their batch twice.
    pub failed: u64,
    /// Batches written.
    pub batches: u64,
    /// Write attempts the store refused.
    pub failures: u64,
    /// Events in the buffer now.
    pub buffered: u64,
}

#[derive(Debug, Default)]
struct Counters {
    recorded: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    batches: AtomicU64,
    failures: AtomicU64,
}

enum Command {
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// What the request side and the writer share.
#[derive(Debug, Default)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Rung when the buffer reaches a batch, so that the writer is woken once per batch
    /// rather than once per event.
    batch_ready: Notify,
    counters: Counters,
}

/// The recorded events not yet written, copied as they arrive (see [`EventRows`]).
#[derive(Debug, Default)]
struct Buffer {
    /// Full batches in the order recorded.
    full: std::collections::VecDeque<EventRows>,
    /// The batch being filled, after every full one.
    filling: EventRows,
    /// Events in `full` and `filling`.
    events: usize,
    /// Written batches, emptied, whose memory the next batches reuse.
    spare: Vec<EventRows>,
    closed: bool,
}

/// Emptied batches kept for reuse; more are freed.
const SPARE_BATCHES: usize = 4;

/// An emptied batch larger than this (bytes) is freed rather than kept, so that a batch of
/// unusually long events (long query strings) does not stay allocated four times over.
const SPARE_BATCH_BYTES: usize = 1 << 20;

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        // A panic while holding this lock leaves a list of events, valid as it is.
        self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The buffered, batched event writer; cheap to clone, clones share the buffer.
///
/// A clone is one reference count: the service's state holds a recorder and is cloned
/// several times per request, and each reference count more (the command channel's
/// sender counts twice) was an atomic operation contended between the cores on every
/// request, a measurable share of the recording's cost at 20,000 requests a second.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<RecorderInner>,
}

struct RecorderInner {
    shared: Arc<Shared>,
    config: RecorderConfig,
    commands: mpsc::UnboundedSender<Command>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("stats", &self.stats()).finish()
    }
}

impl Recorder {
    /// Starts the background writer over `store`; needs a Tokio runtime.
    pub fn start(store: Arc<dyn Store>, config: RecorderConfig) -> Recorder {
        let config = RecorderConfig {
            capacity: config.capacity.max(1),
            batch_size: config.batch_size.max(1),
            ..config
        };
        let (commands, command_receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let writer = Writer { store, config, shared: Arc::clone(&shared) };
        let task = tokio::spawn(writer.run(command_receiver));
        let task = Mutex::new(Some(task));
        Recorder { inner: Arc::new(RecorderInner { shared, config, commands, task }) }
    }

    /// Buffers `event` for writing; never waits for the database (only, briefly, for
    /// another request putting its event in the buffer). When the buffer is full or the
    /// recorder stopped, the event is dropped and counted.
    pub fn record(&self, event: Event) {
        self.record_ref(&event.as_ref());
    }

    /// Buffers a copy of `event`, as [`Recorder::record`] does.
    pub fn record_ref(&self, event: &EventRef<'_>) {
        let counters = &self.inner.shared.counters;
        let batch_size = self.inner.config.batch_size;
        let mut guard = self.inner.shared.lock();
        if guard.closed || guard.events >= self.inner.config.capacity {
            drop(guard);
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Filled in place: moving the batch out and back cost more than copying the event.
        let buffer = &mut *guard;
        buffer.filling.push_ref(event);
        buffer.events += 1;
        let batch_ready = buffer.filling.len() >= batch_size;
        if batch_ready {
            let fresh = buffer.spare.pop().unwrap_or_default();
            let full = std::mem::replace(&mut buffer.filling, fresh);
            buffer.full.push_back(full);
        }
        drop(guard);
        counters.recorded.fetch_add(1, Ordering::Relaxed);
        if batch_ready {
            self.inner.shared.batch_ready.notify_one();
        }
    }

    /// Writes every event recorded before the call, and returns when they are stored (or
    /// counted as failed).
    pub async fn flush(&self) -> Result<()> {
        let (done, wait) = oneshot::channel();
        self.inner
            .commands
            .send(Command::Flush(done))
            .map_err(|_| Error::Internal("the analytics recorder has stopped".into()))?;
        wait.await.map_err(|_| Error::Internal("the analytics writer died".into()))
    }

    /// Writes everything buffered and stops the writer; later events are dropped and
    /// counted. Calling it again does nothing.
    pub async fn shutdown(&self) -> Result<()> {
        let (done, wait) = oneshot::channel();
        if self.inner.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        let task = self.inner.task.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(task) = task {
            task.await.map_err(|e| Error::Internal(format!("the analytics writer died: {e}")))?;
        }
        Ok(())
    }

    /// The counters so far.
    pub fn stats(&self) -> RecorderStats {
        let c = &self.inner.shared.counters;
        let buffered = self.inner.shared.lock().events;
        RecorderStats {
            recorded: c.recorded.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            buffered: buffered as u64,
        }
    }
}

/// The background half of a [`Recorder`].
struct Writer {
    store: Arc<dyn Store>,
    config: RecorderConfig,
    shared: Arc<Shared>,
}

/// Pause before a refused batch is tried again.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

impl Writer {
    async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut tick = tokio::time::interval(self.config.flush_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.shared.batch_ready.notified() => self.write_buffered(false).await,
                _ = tick.tick() => self.write_buffered(true).await,
                command = commands.recv() => match command {
                    // Events recorded before the command are in the buffer already.
                    Some(Command::Flush(done)) => {
                        self.write_buffered(true).await;
                        let _ = done.send(());
                    }
                    Some(Command::Shutdown(done)) => {
                        self.shared.lock().closed = true;
                        self.write_buffered(true).await;
                        let _ = done.send(());
                        return;
                    }
                    None => break,
                },
            }
        }
        self.shared.lock().closed = true;
        self.write_buffered(true).await;
    }

    /// Writes the buffered events in batches: all of them when `partial`, else only full
    /// batches (a partial one waits for more events or the next tick).
    async fn write_buffered(&self, partial: bool) {
        loop {
            let mut batch = {
                let mut guard = self.shared.lock();
                let buffer = &mut *guard;
                let batch = match buffer.full.pop_front() {
                    Some(full) => full,
                    None if partial && !buffer.filling.is_empty() => {
                        let fresh = buffer.spare.pop().unwrap_or_default();
                        std::mem::replace(&mut buffer.filling, fresh)
                    }
                    None => return,
                };
                buffer.events -= batch.len();
                batch
            };
            self.write(&batch).await;
            batch.clear();
            let mut buffer = self.shared.lock();
            if buffer.spare.len() < SPARE_BATCHES && batch.capacity() <= SPARE_BATCH_BYTES {
                buffer.spare.push(batch);
            }
        }
    }

    async fn write(&self, batch: &EventRows) {
        let counters = &self.shared.counters;
        let mut outcome = self.store.insert_event_rows(batch).await;
        if let Err(error) = &outcome {
            counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %error, events = batch.len(), "analytics batch refused; retrying");
            tokio::time::sleep(RETRY_PAUSE).await;
            outcome = self.store.insert_event_rows(batch).await;
        }
        let count = batch.len() as u64;
        match outcome {
            Ok(()) => {
                counters.written.fetch_add(count, Ordering::Relaxed);
                counters.batches.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                counters.failed.fetch_add(count, Ordering::Relaxed);
                let error: &dyn std::error::Error = &error;
                tracing::error!(error, events = count, "analytics batch lost after a retry");
            }
        }
    }
}
