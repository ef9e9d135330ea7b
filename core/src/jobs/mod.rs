//! Background jobs and their scheduler: expired-session cleanup (hourly), analytics rollup
//! (daily: yesterday, once it is over; the reports compute today from its events), retention purge (daily, also creating the coming
//! months' event partitions), incremental sync of every project (every
//! `SYNC_INTERVAL_MINUTES`, when JIRA is configured) and the usage report emailed to
//! admins (weekly, when SMTP is configured).
//!
//! **Once across instances.** Every instance runs a [`Scheduler`]; a due run happens once.
//! Each job has a *slot* per period (the hour, day, interval or ISO week). An instance
//! takes the job's lock first (a PostgreSQL advisory lock on a dedicated connection, or the
//! SQLite store's file lock: [`Store::lock_sync`] under the name `job:<job>`, which no
//! project key can take), then claims the slot by inserting its `job_runs` row; the row is
//! unique per job and slot, so an instance that finds the slot claimed skips it, whether
//! the other run is going on or long finished. The lock keeps two runs of a job (such as a
//! scheduled one and one started by hand) from overlapping.
//!
//! Every run is recorded (start, end, duration, outcome, message, and the lock it holds)
//! and shown by `bugdash jobs list`; [`run_job`] runs any job at once
//! (`bugdash jobs run NAME`).
//!
//! **Runs whose process died.** A process killed in the middle of a run cannot record its
//! end, so its row stays `running`. The lock it held dies with it, and that tells a lost run
//! from a live one: a `running` run whose lock can be taken has no process left. Such a
//! run is marked [`JobOutcome::Abandoned`] by whoever finds it: the instance about to run
//! the same job (which holds the lock already), a scheduler starting, and every listing of
//! the jobs. An abandoned run gives its slot back, so the period's run happens after all.
//! On PostgreSQL the lock is freed when the server sees the dead process's connection
//! close, at once when the process is killed but only after the TCP keepalive times out
//! when its machine vanishes from the network.

mod email;

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Duration as Days, Timelike};
use serde::{Deserialize, Serialize};

use crate::analytics::report;
use crate::analytics::rollup::rollup_day;
use crate::auth::{Auth, Clock};
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::model::Timestamp;
use crate::store::analytics::{JobOutcome, JobRun};
use crate::store::Store;
use crate::{Error, Result};

pub use email::send_usage_report;

/// A job the scheduler knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// Deletes ended sessions, hourly.
    SessionCleanup,
    /// Rolls up yesterday and today so far, daily.
    AnalyticsRollup,
    /// Drops raw events past retention and prepares partitions, daily.
    RetentionPurge,
    /// Incremental sync of every project, every `SYNC_INTERVAL_MINUTES`.
    Sync,
    /// Emails the last 7 days' usage report to admins, weekly.
    UsageReport,
}

impl Job {
    /// Every job, in the order they are listed.
    pub const ALL: [Job; 5] = [
        Job::SessionCleanup,
        Job::AnalyticsRollup,
        Job::RetentionPurge,
        Job::Sync,
        Job::UsageReport,
    ];

    /// The job's name, such as `session-cleanup`.
    pub fn name(self) -> &'static str {
        match self {
            Job::SessionCleanup => "session-cleanup",
            Job::AnalyticsRollup => "analytics-rollup",
            Job::RetentionPurge => "retention-purge",
            Job::Sync => "sync",
            Job::UsageReport => "usage-report",
        }
    }

    /// How often it runs, in words.
    pub fn schedule(self) -> &'static str {
        match self {
            Job::SessionCleanup => "hourly",
            Job::AnalyticsRollup | Job::RetentionPurge => "daily",
            Job::Sync => "every SYNC_INTERVAL_MINUTES",
            Job::UsageReport => "weekly (first check of each ISO week)",
        }
    }

    /// The slot a scheduled run at `now` belongs to: runs of one slot happen once.
    pub fn slot(self, now: Timestamp, settings: &Settings) -> String {
        let at = now.to_datetime();
        match self {
            Job::SessionCleanup => format!("{}T{:02}", at.date_naive(), at.hour()),
            Job::AnalyticsRollup | Job::RetentionPurge => at.date_naive().to_string(),
            Job::Sync => {
                let minutes = i64::from(settings.analytics.sync_interval_minutes.max(1));
                format!("interval-{}", now.millis().div_euclid(minutes * 60_000))
            }
            Job::UsageReport => {
                let week = at.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
        }
    }
}

impl std::str::FromStr for Job {
    type Err = Error;

    fn from_str(text: &str) -> Result<Job> {
        Job::ALL.into_iter().find(|job| job.name() == text.trim()).ok_or_else(|| {
            let names: Vec<&str> = Job::ALL.iter().map(|job| job.name()).collect();
            Error::invalid("job", format!("{text:?} is not a job; jobs: {}", names.join(", ")))
        })
    }
}

/// What jobs need.
#[derive(Clone)]
pub struct JobContext {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Accounts and sessions (session cleanup).
    pub auth: Auth,
    /// Settings (retention, sync interval, JIRA, SMTP).
    pub settings: Arc<Settings>,
    /// The clock slots and records are read from.
    pub clock: Arc<dyn Clock>,
    /// Where job and sync figures go.
    pub metrics: Arc<Metrics>,
    /// This instance's name in `job_runs` (host and process id).
    pub instance: String,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext").field("instance", &self.instance).finish_non_exhaustive()
    }
}

/// A name for this process in `job_runs`: the host name (from `HOSTNAME`) and process id.
pub fn instance_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{}", std::process::id())
}

/// The lock a run of `job` holds, on [`Store::lock_sync`]: no project key can take it.
pub fn job_lock(job: Job) -> String {
    format!("job:{}", job.name())
}

/// What a job did: its outcome and a message in words.
type Done = (JobOutcome, String);

/// Runs the job's work, without lock or record.
async fn perform(job: Job, ctx: &JobContext) -> Result<Done> {
    match job {
        Job::SessionCleanup => {
            let deleted = ctx.auth.cleanup_expired().await?;
            Ok((JobOutcome::Succeeded, format!("deleted {deleted} ended sessions")))
        }
        Job::AnalyticsRollup => {
            // Only a day that is over: a stored rollup stands for its day, so one of today
            // would hide the rest of today's events from every report until tomorrow's run.
            let today = ctx.clock.now().date();
            let yesterday = rollup_day(ctx.store.as_ref(), today - Days::days(1)).await?;
            let message = format!("rolled up {} ({} events)", yesterday.day, yesterday.events);
            Ok((JobOutcome::Succeeded, message))
        }
        Job::RetentionPurge => purge(ctx).await,
        Job::Sync => sync_all(ctx).await,
        Job::UsageReport => {
            let report = report::usage_report(ctx.store.as_ref(), 7, ctx.clock.now()).await?;
            send_usage_report(ctx.store.as_ref(), &ctx.settings.smtp, &report).await
        }
    }
}

async fn purge(ctx: &JobContext) -> Result<Done> {
    let now = ctx.clock.now();
    let created = ctx.store.prepare_event_partitions(now, 3).await?;
    let days = i64::from(ctx.settings.analytics.retention_days);
    let cutoff = report_day_start(now.plus_days(-days));
    let purged = ctx.store.purge_events(cutoff).await?;
    let message = format!(
        "events before {cutoff} removed: {} partitions dropped, {} rows deleted; {} \
         partitions created ahead",
        purged.partitions_dropped.len(),
        purged.rows_deleted,
        created.len()
    );
    Ok((JobOutcome::Succeeded, message))
}

/// The start of the UTC day of `at`: retention counts whole days.
fn report_day_start(at: Timestamp) -> Timestamp {
    crate::analytics::rollup::day_start(at.date())
}

async fn sync_all(ctx: &JobContext) -> Result<Done> {
    use crate::ingest::sync::{sync_project, SyncRequest};
    use crate::ingest::NoProgress;
    use crate::jira::client::JiraClient;

    let settings = &ctx.settings;
    if settings.jira.url.is_none() {
        return Ok((JobOutcome::Skipped, "JIRA_URL is not set; nothing to sync".into()));
    }
    let client = JiraClient::new(settings.jira.client_config()?)?;
    let (mut synced, mut busy, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for project in ctx.store.projects().await? {
        let request = SyncRequest::new(project.key.clone(), false, &settings.sync);
        match sync_project(ctx.store.as_ref(), &client, &request, &NoProgress).await {
            Ok(report) => {
                let written = report.written.inserted + report.written.updated;
                ctx.metrics.observe_sync("succeeded", written);
                synced.push(format!("{} ({} received)", project.key, report.received));
            }
            Err(Error::Busy(_)) => busy.push(project.key),
            Err(error) => {
                ctx.metrics.observe_sync("failed", 0);
                tracing::error!(project = %project.key, "scheduled sync failed: {error}");
                failed.push(format!("{}: {error}", project.key));
            }
        }
    }
    ctx.metrics.add_jira_calls(&client.stats());
    crate::analytics::store_jira_calls(ctx.store.as_ref(), &client.stats()).await;
    let mut message = format!("synced {}", synced.join(", "));
    if !busy.is_empty() {
        message.push_str(&format!("; already syncing: {}", busy.join(", ")));
    }
    if failed.is_empty() {
        Ok((JobOutcome::Succeeded, message))
    } else {
        Ok((JobOutcome::Failed, format!("{message}; failed: {}", failed.join("; "))))
    }
}

/// How a scheduled attempt went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Attempt {
    /// This instance ran it; the recorded run.
    Ran(JobRun),
    /// Another instance holds the job's lock (running it now).
    Locked,
    /// The slot's run is on record already.
    AlreadyDone,
}

/// Runs `job` for `slot` once across instances: lock, mark the job's lost runs abandoned,
/// claim, run, record.
pub async fn run_in_slot(job: Job, slot: &str, ctx: &JobContext) -> Result<Attempt> {
    let lock_name = job_lock(job);
    let Some(lock) = ctx.store.lock_sync(&lock_name).await? else {
        return Ok(Attempt::Locked);
    };
    let outcome = claim_and_run(job, slot, &lock_name, ctx).await;
    lock.release().await;
    outcome
}

async fn claim_and_run(job: Job, slot: &str, lock: &str, ctx: &JobContext) -> Result<Attempt> {
    let started = ctx.clock.now();
    // Holding the lock, every run of the job still `running` is a lost one.
    let running = ctx.store.running_job_runs().await?;
    let lost: Vec<JobRun> = running.into_iter().filter(|run| run.lock == lock).collect();
    abandon(ctx.store.as_ref(), &lost, &ctx.instance, started).await?;
    let store = ctx.store.as_ref();
    let claimed = store.claim_job_run(job.name(), slot, &ctx.instance, lock, started).await?;
    let Some(id) = claimed else {
        return Ok(Attempt::AlreadyDone);
    };
    let wall = std::time::Instant::now();
    let (outcome, message) = match perform(job, ctx).await {
        Ok(done) => done,
        Err(error) => (JobOutcome::Failed, error.to_string()),
    };
    let finished = ctx.clock.now().max(started);
    ctx.store.finish_job_run(id, outcome, Some(&message), finished).await?;
    let seconds = wall.elapsed().as_secs_f64();
    let unix = finished.millis() as f64 / 1000.0;
    ctx.metrics.observe_job(job.name(), outcome.as_str(), seconds, unix);
    match outcome {
        JobOutcome::Failed => tracing::error!(job = job.name(), slot, "job failed: {message}"),
        JobOutcome::Skipped => tracing::info!(job = job.name(), slot, "job skipped: {message}"),
        _ => tracing::info!(job = job.name(), slot, seconds, "job done: {message}"),
    }
    let runs = ctx.store.job_runs(Some(job.name()), 20).await?;
    let run = runs.into_iter().find(|run| run.id == id);
    run.map(Attempt::Ran).ok_or_else(|| Error::Internal(format!("job run {id} vanished")))
}

/// Runs `job` now, by hand, whatever its schedule; [`Error::Busy`] when it is running.
pub async fn run_job(job: Job, ctx: &JobContext) -> Result<JobRun> {
    let slot = format!("manual-{}-{}", ctx.clock.now().millis(), ctx.instance);
    match run_in_slot(job, &slot, ctx).await? {
        Attempt::Ran(run) => Ok(run),
        Attempt::Locked | Attempt::AlreadyDone => Err(Error::Busy(format!("{} job", job.name()))),
    }
}

/// One job's latest run, for `bugdash jobs list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// Job name.
    pub job: String,
    /// When it runs.
    pub schedule: String,
    /// Its latest run, if any.
    pub last_run: Option<JobRun>,
}

/// Marks abandoned every run still `running` whose lock is free, as `finder` sees it at
/// `now`; returns the runs so marked. A run whose lock is held (by its own process, still
/// working) is left alone.
pub async fn abandon_lost_runs(
    store: &dyn Store,
    finder: &str,
    now: Timestamp,
) -> Result<Vec<JobRun>> {
    let running = store.running_job_runs().await?;
    let mut locks: Vec<&str> = running.iter().map(|run| run.lock.as_str()).collect();
    locks.sort_unstable();
    locks.dedup();
    let mut abandoned = Vec::new();
    for name in locks {
        let Some(lock) = store.lock_sync(name).await? else { continue };
        let lost: Vec<JobRun> = running.iter().filter(|run| run.lock == name).cloned().collect();
        let marked = abandon(store, &lost, finder, now).await;
        lock.release().await;
        abandoned.extend(marked?);
    }
    Ok(abandoned)
}

/// Marks `runs` abandoned; the caller holds their lock. Returns those it marked.
async fn abandon(
    store: &dyn Store,
    runs: &[JobRun],
    finder: &str,
    now: Timestamp,
) -> Result<Vec<JobRun>> {
    let mut marked = Vec::new();
    for run in runs {
        let message = format!(
            "abandoned: the process of instance {} ended before the run did (its lock {} was \
             free when {finder} looked at {now})",
            run.instance, run.lock
        );
        if !store.abandon_job_run(run.id, &message).await? {
            continue;
        }
        tracing::warn!(job = %run.job, slot = %run.slot, instance = %run.instance, "{message}");
        let outcome = JobOutcome::Abandoned;
        marked.push(JobRun { outcome, message: Some(message), ..run.clone() });
    }
    Ok(marked)
}

/// Every job with its latest run, after marking lost runs abandoned (see the module
/// documentation).
pub async fn job_status(store: &dyn Store) -> Result<Vec<JobStatus>> {
    abandon_lost_runs(store, &instance_name(), crate::auth::SystemClock.now()).await?;
    let mut out = Vec::new();
    for job in Job::ALL {
        let last_run = store.job_runs(Some(job.name()), 1).await?.into_iter().next();
        out.push(JobStatus { job: job.name().into(), schedule: job.schedule().into(), last_run });
    }
    Ok(out)
}

/// Runs the jobs due at each tick, in a Tokio task.
#[derive(Debug)]
pub struct Scheduler {
    ctx: JobContext,
    jobs: Vec<Job>,
    /// The slot each job last ran or was found done in, so a tick in the same slot costs
    /// no database round trip.
    settled: std::sync::Mutex<std::collections::HashMap<Job, String>>,
}

impl Scheduler {
    /// A scheduler for every job.
    pub fn new(ctx: JobContext) -> Scheduler {
        Scheduler { ctx, jobs: Job::ALL.to_vec(), settled: Default::default() }
    }

    /// A scheduler for the given jobs only.
    pub fn with_jobs(ctx: JobContext, jobs: &[Job]) -> Scheduler {
        Scheduler { ctx, jobs: jobs.to_vec(), settled: Default::default() }
    }

    /// Runs every job whose current slot has no run on record, one after another; what
    /// each attempt did, in job order (jobs this scheduler already saw settled in their
    /// current slot are left out). A failing job does not stop the others.
    pub async fn run_due(&self) -> Vec<(Job, Result<Attempt>)> {
        let now = self.ctx.clock.now();
        let mut out = Vec::with_capacity(self.jobs.len());
        for &job in &self.jobs {
            let slot = job.slot(now, &self.ctx.settings);
            if self.settled().get(&job) == Some(&slot) {
                continue;
            }
            let attempt = run_in_slot(job, &slot, &self.ctx).await;
            if matches!(attempt, Ok(Attempt::Ran(_) | Attempt::AlreadyDone)) {
                self.settled().insert(job, slot);
            }
            out.push((job, attempt));
        }
        out
    }

    fn settled(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Job, String>> {
        // A poisoned map only costs a needless look at the database.
        self.settled.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks abandoned the runs that lost their process (see the module documentation);
    /// the scheduler does so when it starts.
    pub async fn abandon_lost_runs(&self) -> Result<Vec<JobRun>> {
        let now = self.ctx.clock.now();
        abandon_lost_runs(self.ctx.store.as_ref(), &self.ctx.instance, now).await
    }

    /// Starts checking every `tick` in the background, after marking lost runs abandoned;
    /// abort the handle to stop.
    pub fn spawn(self, tick: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            if let Err(error) = self.abandon_lost_runs().await {
                let error: &dyn std::error::Error = &error;
                tracing::error!(error, "scheduler could not look for abandoned job runs");
            }
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                for (job, attempt) in self.run_due().await {
                    if let Err(error) = attempt {
                        let error: &dyn std::error::Error = &error;
                        tracing::error!(job = job.name(), error, "scheduler could not run a job");
                    }
                }
            }
        })
    }
}
