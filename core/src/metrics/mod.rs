//! The service's Prometheus metrics: one [`Metrics`] registry per process, written in the
//! text exposition format (version 0.0.4) by [`Metrics::render`].
//!
//! Counters and histograms are kept here, updated by the frontends (requests) and the jobs
//! (syncs, job runs); gauges that belong to other parts (active users, the event buffer,
//! JIRA calls, cache and rate-limit figures) are set from their owners' snapshots just
//! before rendering, so this module depends on nothing that changes often.
//!
//! Label values are escaped as the format requires. `endpoint` labels must be route
//! templates (such as `/api/projects/{key}/analysis`), never raw paths, so that the number
//! of series stays bounded; the registry does not check that.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::analytics::RecorderStats;
use crate::jira::client::{ApiStats, CallOutcome};

/// Upper bounds of the request duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 12] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, value: f64) {
        for (bucket, bound) in self.buckets.iter_mut().zip(DURATION_BUCKETS) {
            *bucket += u64::from(value <= bound);
        }
        self.count += 1;
        self.sum += value;
    }
}

#[derive(Debug, Default)]
struct State {
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<(String, String), Histogram>,
    jira_calls: BTreeMap<(String, String), u64>,
    jira_retries: u64,
    job_runs: BTreeMap<(String, String), u64>,
    job_last_duration: BTreeMap<String, f64>,
    job_last_success: BTreeMap<String, f64>,
    sync_runs: BTreeMap<String, u64>,
    sync_issues_written: u64,
    cache: BTreeMap<String, u64>,
    rate_limited: BTreeMap<String, u64>,
    active_users: u64,
    events: RecorderStats,
}

/// The registry; share it in an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves counts that are still the best there are.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request answered with `status` after `seconds`.
    pub fn observe_request(&self, method: &str, endpoint: &str, status: u16, seconds: f64) {
        let mut state = self.state();
        *state.requests.entry((method.into(), endpoint.into(), status)).or_default() += 1;
        state.durations.entry((method.into(), endpoint.into())).or_default().observe(seconds);
    }

    /// Adds a JIRA client's calls (a snapshot taken since the last one it reported).
    pub fn add_jira_calls(&self, stats: &ApiStats) {
        let mut state = self.state();
        for ((endpoint, outcome), count) in &stats.calls {
            let status = match outcome {
                CallOutcome::Status(status) => status.to_string(),
                CallOutcome::NoAnswer => "none".into(),
            };
            *state.jira_calls.entry((endpoint.clone(), status)).or_default() += count;
        }
        state.jira_retries += stats.retries;
    }

    /// Counts a finished job run with its outcome (`succeeded`, `failed`, `skipped`) and
    /// duration; `unix_seconds` is when it ended.
    pub fn observe_job(&self, job: &str, outcome: &str, seconds: f64, unix_seconds: f64) {
        let mut state = self.state();
        *state.job_runs.entry((job.into(), outcome.into())).or_default() += 1;
        state.job_last_duration.insert(job.into(), seconds);
        if outcome == "succeeded" {
            state.job_last_success.insert(job.into(), unix_seconds);
        }
    }

    /// Counts a sync run with its outcome and the issues it wrote.
    pub fn observe_sync(&self, outcome: &str, issues_written: u64) {
        let mut state = self.state();
        *state.sync_runs.entry(outcome.into()).or_default() += 1;
        state.sync_issues_written += issues_written;
    }

    /// Counts a cache lookup: `hit` or `miss`.
    pub fn observe_cache(&self, result: &str) {
        *self.state().cache.entry(result.into()).or_default() += 1;
    }

    /// Counts a request refused by a rate limit of `kind` (`login`, `api`).
    pub fn observe_rate_limited(&self, kind: &str) {
        *self.state().rate_limited.entry(kind.into()).or_default() += 1;
    }

    /// Sets the distinct users with a live session.
    pub fn set_active_users(&self, users: u64) {
        self.state().active_users = users;
    }

    /// Sets the event recorder's counters.
    pub fn set_event_buffer(&self, stats: RecorderStats) {
        self.state().events = stats;
    }

    /// Everything in the text exposition format.
    pub fn render(&self) -> String {
        let state = self.state();
        let mut out = String::with_capacity(4096);
        write_requests(&mut out, &state);
        write_jira(&mut out, &state);
        write_jobs(&mut out, &state);
        write_misc(&mut out, &state);
        out
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A float as the format wants it (`+Inf`, no exponent surprises for plain values).
fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

fn write_requests(out: &mut String, state: &State) {
    header(out, "bugdash_requests_total", "counter", "HTTP requests answered.");
    for ((method, endpoint, status), count) in &state.requests {
        let _ = writeln!(
            out,
            "bugdash_requests_total{{method=\"{}\",endpoint=\"{}\",status=\"{status}\"}} {count}",
            escape(method),
            escape(endpoint)
        );
    }
    let name = "bugdash_request_duration_seconds";
    header(out, name, "histogram", "Time to answer HTTP requests.");
    for ((method, endpoint), histogram) in &state.durations {
        let labels = format!("method=\"{}\",endpoint=\"{}\"", escape(method), escape(endpoint));
        for (bound, count) in DURATION_BUCKETS.iter().zip(histogram.buckets) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{}\"}} {count}", number(*bound));
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", histogram.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", number(histogram.sum));
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", histogram.count);
    }
}

fn write_jira(out: &mut String, state: &State) {
    header(out, "bugdash_jira_api_calls_total", "counter", "Requests sent to JIRA.");
    for ((endpoint, status), count) in &state.jira_calls {
        let _ = writeln!(
            out,
            "bugdash_jira_api_calls_total{{endpoint=\"{}\",status=\"{}\"}} {count}",
            escape(endpoint),
            escape(status)
        );
    }
    header(out, "bugdash_jira_api_retries_total", "counter", "JIRA requests that were retries.");
    let _ = writeln!(out, "bugdash_jira_api_retries_total {}", state.jira_retries);
    header(out, "bugdash_sync_runs_total", "counter", "Project syncs by outcome.");
    for (outcome, count) in &state.sync_runs {
        let _ = writeln!(out, "bugdash_sync_runs_total{{outcome=\"{}\"}} {count}", escape(outcome));
    }
    let name = "bugdash_sync_issues_written_total";
    header(out, name, "counter", "Issues written by syncs.");
    let _ = writeln!(out, "{name} {}", state.sync_issues_written);
}

fn write_jobs(out: &mut String, state: &State) {
    header(out, "bugdash_job_runs_total", "counter", "Scheduled job runs by outcome.");
    for ((job, outcome), count) in &state.job_runs {
        let _ = writeln!(
            out,
            "bugdash_job_runs_total{{job=\"{}\",outcome=\"{}\"}} {count}",
            escape(job),
            escape(outcome)
        );
    }
    let name = "bugdash_job_last_duration_seconds";
    header(out, name, "gauge", "Duration of each job's latest run in this instance.");
    for (job, seconds) in &state.job_last_duration {
        let _ = writeln!(out, "{name}{{job=\"{}\"}} {}", escape(job), number(*seconds));
    }
    let name = "bugdash_job_last_success_timestamp_seconds";
    header(out, name, "gauge", "When each job last succeeded in this instance.");
    for (job, at) in &state.job_last_success {
        let _ = writeln!(out, "{name}{{job=\"{}\"}} {}", escape(job), number(*at));
    }
}

fn write_misc(out: &mut String, state: &State) {
    header(out, "bugdash_cache_requests_total", "counter", "Analysis cache lookups.");
    for (result, count) in &state.cache {
        let _ =
            writeln!(out, "bugdash_cache_requests_total{{result=\"{}\"}} {count}", escape(result));
    }
    let name = "bugdash_rate_limited_total";
    header(out, name, "counter", "Requests refused by a rate limit.");
    for (kind, count) in &state.rate_limited {
        let _ = writeln!(out, "{name}{{kind=\"{}\"}} {count}", escape(kind));
    }
    header(out, "bugdash_active_users", "gauge", "Distinct users with a live session.");
    let _ = writeln!(out, "bugdash_active_users {}", state.active_users);
    let e = &state.events;
    let counters = [
        ("recorded", "Usage events accepted into the buffer.", e.recorded),
        ("written", "Usage events written to the store.", e.written),
        ("dropped", "Usage events dropped: buffer full or recorder stopped.", e.dropped),
        ("failed", "Usage events lost: the store refused their batch twice.", e.failed),
        ("batches", "Usage event batches written.", e.batches),
    ];
    for (what, help, value) in counters {
        let name = format!("bugdash_events_{what}_total");
        header(out, &name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    }
    header(out, "bugdash_events_buffered", "gauge", "Usage events waiting in the buffer.");
    let _ = writeln!(out, "bugdash_events_buffered {}", e.buffered);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_buckets_are_cumulative() {
        let metrics = Metrics::new();

        metrics.observe_request("GET", "/api/x\"y", 200, 0.02);
        metrics.observe_request("GET", "/api/x\"y", 200, 3.0);
        let text = metrics.render();

        assert!(text.contains(r#"endpoint="/api/x\"y",status="200"} 2"#), "{text}");
        assert!(text.contains(r#"le="0.025"} 1"#), "{text}");
        assert!(text.contains(r#"le="5"} 2"#), "{text}");
        assert!(text.contains(r#"le="+Inf"} 2"#), "{text}");
    }
}
