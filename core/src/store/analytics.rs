//! Usage events, daily rollups, job runs and the audit log in the store: the
//! [`AnalyticsStore`] trait, implemented for PostgreSQL in `postgres_analytics` and for
//! SQLite in `sqlite_analytics`.
//!
//! On PostgreSQL raw events live in monthly partitions (`analytics_events_yYYYYmMM`),
//! created ahead by [`AnalyticsStore::prepare_event_partitions`] and on demand by
//! [`AnalyticsStore::insert_event_rows`] for the months of a batch; purging drops whole
//! partitions. On SQLite they are one plain table. What to compute lives in
//! [`crate::analytics`]; this layer only reads and writes rows. Instants are epoch
//! milliseconds, days ISO dates.

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::analytics::report::EndpointStats;
use crate::analytics::rollup::DayRollup;
use crate::analytics::{Event, EventRows};
use crate::model::Timestamp;
use crate::Result;

/// Which events to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Earliest instant, included.
    pub from: Timestamp,
    /// Latest instant, excluded.
    pub to: Timestamp,
    /// Only this account's events.
    pub account_id: Option<i64>,
    /// At most this many, the latest kept when there are more.
    pub limit: Option<u32>,
}

impl EventQuery {
    /// Every event in `[from, to)`.
    pub fn between(from: Timestamp, to: Timestamp) -> EventQuery {
        EventQuery { from, to, account_id: None, limit: None }
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    /// Monthly partitions dropped whole (PostgreSQL only).
    pub partitions_dropped: Vec<String>,
    /// Rows deleted one by one (the partial month on PostgreSQL, all on SQLite).
    pub rows_deleted: u64,
}

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOutcome {
    /// Still running; or its process died while it ran and no one has noticed yet (see
    /// [`JobOutcome::Abandoned`]).
    Running,
    /// Done.
    Succeeded,
    /// Failed; the message says why.
    Failed,
    /// Not needed or not possible (such as email without SMTP); the message says why.
    Skipped,
    /// Its process ended before the run did (killed, crashed, machine lost): it was found
    /// `running` with the lock it held free. Its end and outcome are unknown; the message
    /// says which instance lost it and who found it.
    Abandoned,
}

impl JobOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Running => "running",
            JobOutcome::Succeeded => "succeeded",
            JobOutcome::Failed => "failed",
            JobOutcome::Skipped => "skipped",
            JobOutcome::Abandoned => "abandoned",
        }
    }

    pub(crate) fn parse(text: &str) -> JobOutcome {
        match text {
            "succeeded" => JobOutcome::Succeeded,
            "failed" => JobOutcome::Failed,
            "skipped" => JobOutcome::Skipped,
            "abandoned" => JobOutcome::Abandoned,
            _ => JobOutcome::Running,
        }
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    /// Run id.
    pub id: i64,
    /// Job name, such as `analytics-rollup`.
    pub job: String,
    /// The slot it ran for (such as `2026-12-04` for a daily job), or `manual-…`.
    pub slot: String,
    /// The instance that ran it (host and process).
    pub instance: String,
    /// The lock it held while it ran, such as `job:sync` (see
    /// [`Store::lock_sync`](super::Store::lock_sync)); a `running` run whose lock is free
    /// has lost its process.
    pub lock: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// How it ended.
    pub outcome: JobOutcome,
    /// What it did or why it failed, in words.
    pub message: Option<String>,
}

/// An admin action to put on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When.
    pub at: Timestamp,
    /// The admin's account id (none for the CLI).
    pub actor_id: Option<i64>,
    /// Who, in words (an email, or `cli` for the command line).
    pub actor: String,
    /// What, such as `set_role`.
    pub action: String,
    /// On what, such as `account 12` or `setting MAX_CONCURRENT_USERS`.
    pub target: String,
    /// The value before, as JSON text.
    pub old_value: Option<String>,
    /// The value after, as JSON text.
    pub new_value: Option<String>,
}

/// An admin action on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Entry id.
    pub id: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

/// Storage of usage events, rollups, job runs and the audit log; part of every
/// [`Store`](super::Store).
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Writes a batch of events in one transaction, all or none (creating the monthly
    /// partitions they need).
    async fn insert_event_rows(&self, rows: &EventRows) -> Result<()>;

    /// Writes events as one batch; see [`AnalyticsStore::insert_event_rows`].
    async fn insert_events(&self, events: &[Event]) -> Result<()> {
        self.insert_event_rows(&EventRows::from_events(events)).await
    }

    /// Creates the partitions of the month of `around` and of `months_ahead` months after
    /// it when missing; returns the names created (always empty on SQLite).
    async fn prepare_event_partitions(
        &self,
        around: Timestamp,
        months_ahead: u32,
    ) -> Result<Vec<String>>;

    /// Names of the event partitions, oldest first (always empty on SQLite).
    async fn event_partitions(&self) -> Result<Vec<String>>;

    /// Events as `query` selects, oldest first.
    async fn events(&self, query: &EventQuery) -> Result<Vec<Event>>;

    /// Requests, server errors (status 500 and above) and nearest-rank latency percentiles
    /// (p50, p95, p99 over the events that have a latency) per method and route template,
    /// of the events in `[from, to)` that have an endpoint and a status; a missing method
    /// counts as `GET`. Computed by the database: no event is read into memory. In no
    /// particular order; [`crate::analytics::report::endpoint_stats_of`] is the definition.
    async fn endpoint_stats(&self, from: Timestamp, to: Timestamp) -> Result<Vec<EndpointStats>>;

    /// Removes events before `before`: whole partitions where they lie entirely before it,
    /// single rows elsewhere. Rollups stay.
    async fn purge_events(&self, before: Timestamp) -> Result<PurgeReport>;

    /// Replaces the stored rollup of `rollup.day` (all four tables) in one transaction.
    async fn replace_rollup(&self, rollup: &DayRollup) -> Result<()>;

    /// Stored rollups of the days `from..=to`, oldest first.
    async fn rollups(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<DayRollup>>;

    /// Claims the run of `job` for `slot` by `instance`, which holds `lock` until the run
    /// ends: its id when this caller got it, `None` when a run for that slot is on record
    /// already (another instance took it). An abandoned run does not count.
    async fn claim_job_run(
        &self,
        job: &str,
        slot: &str,
        instance: &str,
        lock: &str,
        at: Timestamp,
    ) -> Result<Option<i64>>;

    /// Records the end of a run.
    async fn finish_job_run(
        &self,
        id: i64,
        outcome: JobOutcome,
        message: Option<&str>,
        at: Timestamp,
    ) -> Result<()>;

    /// The latest runs of `job` (of every job when `None`), newest first.
    async fn job_runs(&self, job: Option<&str>, limit: u32) -> Result<Vec<JobRun>>;

    /// Every run still `running`, oldest first.
    async fn running_job_runs(&self) -> Result<Vec<JobRun>>;

    /// Marks run `id` abandoned with `message`, when it is still `running`; true when it
    /// was. Its end and duration stay unknown. Only a caller holding the run's lock may
    /// call this, or a live run could be marked.
    async fn abandon_job_run(&self, id: i64, message: &str) -> Result<bool>;

    /// Puts an admin action on record.
    async fn insert_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry>;

    /// The latest admin actions, newest first.
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Adds the calls of `counts` to those on record for `day`, in one transaction.
    async fn add_jira_calls(&self, day: NaiveDate, counts: &[JiraCallCount]) -> Result<()>;

    /// Calls to JIRA on record for the days `from..=to`, summed over the days, by endpoint
    /// and status.
    async fn jira_calls(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<JiraCallCount>>;
}

/// Calls made to one JIRA endpoint that got one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraCallCount {
    /// Endpoint template, such as `/rest/api/3/search/jql`.
    pub endpoint: String,
    /// HTTP status; 0 when no answer came (connection fault or timeout).
    pub status: u16,
    /// Number of requests.
    pub calls: u64,
}

impl JiraCallCount {
    /// The counts of a client's [`ApiStats`](crate::jira::client::ApiStats) snapshot.
    pub fn from_stats(stats: &crate::jira::client::ApiStats) -> Vec<JiraCallCount> {
        use crate::jira::client::CallOutcome;
        let counts = stats.calls.iter().map(|((endpoint, outcome), calls)| JiraCallCount {
            endpoint: endpoint.clone(),
            status: match outcome {
                CallOutcome::Status(status) => *status,
                CallOutcome::NoAnswer => 0,
            },
            calls: *calls,
        });
        counts.collect()
    }
}

/// Columns of an event row, in the order the backends read them.
pub(crate) const EVENT_COLUMNS: &str = "occurred_at, account_id, session_id, department, \
     action, project, filters, method, endpoint, status, latency_ms, client_addr";

/// Columns of a job run row, in the order the backends read them.
pub(crate) const JOB_RUN_COLUMNS: &str =
    "id, job, slot, instance, started_at, finished_at, duration_ms, outcome, message, lock_name";

/// Columns of an audit row, in the order the backends read them.
pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, actor_id, actor, action, target, old_value, new_value";

/// The first day of the month `months` months after the month of `day`.
pub(crate) fn month_start(day: NaiveDate, months: u32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 + months as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1).unwrap_or(day)
}

/// The name of the partition holding the month that starts on `month`.
pub(crate) fn partition_name(month: NaiveDate) -> String {
    format!("analytics_events_y{:04}m{:02}", month.year(), month.month())
}

/// The month a partition name stands for.
pub(crate) fn partition_month(name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix("analytics_events_y")?;
    let (year, month) = rest.split_once('m')?;
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// Maps a driver error to [`crate::Error::Store`].
pub(crate) fn failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> crate::Error {
    move |error| crate::Error::store(operation, error)
}

/// A stored count as the unsigned number it is (a negative one, which no query makes, as 0).
pub(crate) fn count(stored: i64) -> u64 {
    u64::try_from(stored).unwrap_or(0)
}

/// Reads stored filter JSON; text that is not JSON is kept as a string.
pub(crate) fn filters_from_text(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_the_year_and_names_read_back() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();

        let later = month_start(day, 3);

        assert_eq!(later, NaiveDate::from_ymd_opt(2027, 2, 1).unwrap());
        assert_eq!(partition_name(later), "analytics_events_y2027m02");
        assert_eq!(partition_month("analytics_events_y2027m02"), Some(later));
    }
}
