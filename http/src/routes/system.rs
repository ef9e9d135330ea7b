//! How the service is doing: `GET /metrics` for Prometheus, `GET /readyz` for a load
//! balancer and `GET /api/system/status` for an admin.
//!
//! **Who may read them.** `/metrics` is public, as Prometheus scrapes it without a
//! session: it holds counts per route template and status and no account, project or
//! path. An operator who does not want it seen from outside denies it at the proxy (the
//! nginx site of `deploy/` does). `/readyz` is public and says only what is not ready.
//! `/api/system/status` is for admins: it names the cache's last error, the job messages
//! and the JIRA address.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bugdash::analytics::RecorderStats;
use bugdash::auth::SystemClock;
use bugdash::cache::{Cache, CacheStatus};
use bugdash::jobs::{instance_name, job_status, JobContext};
use bugdash::store::analytics::JobOutcome;
use bugdash::store::Backend;
use serde::Serialize;

use crate::error::{ApiResult, ErrorReport};
use crate::extract::{origin_of, AdminUser};
use crate::state::AppState;

/// How long the JIRA reachability check waits for a connection.
const JIRA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The Prometheus text exposition content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The jobs of this service as [`bugdash::jobs`] runs them, on the state's store, accounts,
/// settings and metrics.
pub fn job_context(state: &AppState) -> JobContext {
    JobContext {
        store: state.store.clone(),
        auth: state.auth.clone(),
        settings: state.settings.clone(),
        clock: std::sync::Arc::new(SystemClock),
        metrics: state.metrics.clone(),
        instance: instance_name(),
    }
}

/// Every metric in the Prometheus text format; the gauges owned elsewhere (signed-in
/// users, the event buffer) are read just before.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.auth.live_users().await {
        Ok(users) => state.metrics.set_active_users(users),
        Err(error) => tracing::warn!("metrics: signed-in users unknown: {error}"),
    }
    if let Some(recorder) = &state.recorder {
        state.metrics.set_event_buffer(recorder.stats());
    }
    let content_type = HeaderValue::from_static(PROMETHEUS_TEXT);
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render()).into_response()
}

/// `GET /readyz` answer.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
}

/// 200 when the database answers and the cache is not degraded; 503 naming what is not
/// ready otherwise. A degraded cache makes an instance unready, because its sessions and
/// rate limits would no longer be shared with the other instances.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut missing = Vec::new();
    if database_error(&state).await.is_some() {
        missing.push("the database does not answer");
    }
    if cache_status(&state).await.degraded {
        missing.push("the cache is degraded");
    }
    if missing.is_empty() {
        return Json(Readiness { status: "ready" }).into_response();
    }
    let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
    response.extensions_mut().insert(ErrorReport {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "not_ready",
        category: "limit",
        message: format!("not ready: {}", missing.join("; ")),
        cause: None,
    });
    response
}

/// Why a cheap database query failed, if it did.
async fn database_error(state: &AppState) -> Option<String> {
    state.store.job_runs(None, 1).await.err().map(|error| error.to_string())
}

/// The cache's status after one read, so a Redis that went away shows as degraded.
async fn cache_status(state: &AppState) -> CacheStatus {
    let _ = state.cache.get("readyz").await;
    state.cache.status()
}

/// `GET /api/system/status` answer.
#[derive(Debug, Serialize)]
pub struct SystemStatus {
    /// `ok`, or `degraded` when any part below is not healthy.
    pub status: &'static str,
    /// What is degraded, in words; empty when `ok`.
    pub problems: Vec<String>,
    /// The service's version.
    pub version: &'static str,
    /// Seconds since this instance started.
    pub uptime_seconds: u64,
    /// The database.
    pub database: DatabaseStatus,
    /// The cache, and whether it is degraded.
    pub cache: CacheStatus,
    /// JIRA.
    pub jira: JiraStatus,
    /// Each job's latest run.
    pub jobs: Vec<JobHealth>,
    /// Distinct users with live sessions.
    pub live_users: u64,
    /// Reports in the in-process analysis cache.
    pub cached_analyses: usize,
    /// The usage recorder's counters (none when recording is off).
    pub event_buffer: Option<RecorderStats>,
}

/// The database part of the status.
#[derive(Debug, Serialize)]
pub struct DatabaseStatus {
    /// `sqlite` or `postgres`.
    pub backend: Backend,
    /// Whether a query just answered.
    pub reachable: bool,
    /// Why not.
    pub error: Option<String>,
}

/// The JIRA part of the status.
#[derive(Debug, Serialize)]
pub struct JiraStatus {
    /// Whether `JIRA_URL` is set.
    pub configured: bool,
    /// Whether a TCP connection to its host opened within two seconds (none when not
    /// configured). It does not sign in: credentials are checked by the syncs.
    pub reachable: Option<bool>,
}

/// One job's health.
#[derive(Debug, Serialize)]
pub struct JobHealth {
    /// Job name.
    pub job: String,
    /// When its latest run started (none: never ran).
    pub last_run: Option<String>,
    /// How that run ended.
    pub outcome: Option<JobOutcome>,
    /// What it said.
    pub message: Option<String>,
    /// False when the latest run failed or was abandoned.
    pub healthy: bool,
}

/// Database, cache, JIRA, jobs, version and uptime, with what is degraded said plainly.
pub async fn status(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<SystemStatus>> {
    let mut problems = Vec::new();
    let error = database_error(&state).await;
    if let Some(error) = &error {
        problems.push(format!("database: {error}"));
    }
    let database =
        DatabaseStatus { backend: state.store.backend(), reachable: error.is_none(), error };
    let cache = cache_status(&state).await;
    if cache.degraded {
        problems.push("cache: Redis fails; sessions and limits are held per instance".into());
    }
    let jira = jira_status(state.settings.jira.url.as_deref()).await;
    if jira.reachable == Some(false) {
        problems.push("jira: no connection to the JIRA host".into());
    }
    let jobs = jobs_health(&state).await;
    for job in jobs.iter().filter(|job| !job.healthy) {
        problems.push(format!("job {}: the latest run failed", job.job));
    }
    Ok(Json(SystemStatus {
        status: if problems.is_empty() { "ok" } else { "degraded" },
        problems,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        database,
        cache,
        jira,
        jobs,
        live_users: state.auth.live_users().await.unwrap_or(0),
        cached_analyses: state.analyses.len(),
        event_buffer: state.recorder.as_ref().map(|recorder| recorder.stats()),
    }))
}

async fn jobs_health(state: &AppState) -> Vec<JobHealth> {
    let Ok(jobs) = job_status(state.store.as_ref()).await else { return Vec::new() };
    jobs.into_iter()
        .map(|job| {
            let run = job.last_run;
            let outcome = run.as_ref().map(|run| run.outcome);
            JobHealth {
                job: job.job,
                last_run: run.as_ref().map(|run| run.started_at.to_string()),
                message: run.and_then(|run| run.message),
                // A run whose process died is as much a missed run as a failed one.
                healthy: !matches!(outcome, Some(JobOutcome::Failed | JobOutcome::Abandoned)),
                outcome,
            }
        })
        .collect()
}

/// Whether JIRA's host takes a TCP connection: cheap, and enough to tell a network or
/// DNS fault from a credential one.
async fn jira_status(url: Option<&str>) -> JiraStatus {
    let Some(url) = url else { return JiraStatus { configured: false, reachable: None } };
    let reachable = match host_and_port(url) {
        Some((host, port)) => {
            let connect = tokio::net::TcpStream::connect((host.as_str(), port));
            matches!(tokio::time::timeout(JIRA_CONNECT_TIMEOUT, connect).await, Ok(Ok(_)))
        }
        None => false,
    };
    JiraStatus { configured: true, reachable: Some(reachable) }
}

/// The host and port of an `http` or `https` URL.
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let origin = origin_of(url)?;
    let (scheme, authority) = origin.split_once("://")?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let default = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()?),
        _ => (authority, default),
    };
    Some((host.trim_matches(['[', ']']).to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_urls_give_host_and_port() {
        assert_eq!(
            host_and_port("https://jira.example.com/x"),
            Some(("jira.example.com".into(), 443))
        );
        assert_eq!(host_and_port("http://127.0.0.1:8080"), Some(("127.0.0.1".into(), 8080)));
        assert_eq!(host_and_port("http://[::1]:9"), Some(("::1".into(), 9)));
        assert_eq!(host_and_port("jira"), None);
    }
}
