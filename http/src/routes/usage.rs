//! Usage analytics over HTTP: the admin usage API under `/api/admin/usage/`, the audit log,
//! the jobs, and `/api/usage/me` where anyone reads their own activity. Each handler is
//! one call of [`bugdash::analytics::report`] or [`bugdash::jobs`].
//!
//! The account changes of the admin API are wrapped here so that each lands in the audit
//! log with its old and new value (a password change is logged without either).
//!
//! JIRA API calls by endpoint and status come from the counts every sync stores at its end
//! (CLI, admin-started and scheduled alike), summed over all instances per day.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bugdash::analytics::report::{self, Period};
use bugdash::analytics::Event;
use bugdash::auth::{Account, Clock, SystemClock};
use bugdash::jobs::{job_status, run_job, Job, JobStatus};
use bugdash::model::Timestamp;
use bugdash::store::analytics::{AuditEntry, JiraCallCount, JobRun, NewAuditEntry};
use serde::Serialize;

use super::admin::{self, NewUser, UserChange};
use super::system::job_context;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AdminUser, ApiJson, ApiPath, CurrentUser, QueryPairs};
use crate::state::AppState;

/// Days covered when `days` is not given.
const DEFAULT_DAYS: u32 = 30;
/// Events or entries listed when `limit` is not given.
const DEFAULT_LIMIT: u32 = 500;
/// Most events or entries one request lists.
const MAX_LIMIT: u32 = 10_000;
const DAY_MILLIS: i64 = 86_400_000;

/// The query parameters of a usage request, checked against what the route takes.
#[derive(Debug, Default)]
struct UsageQuery {
    days: Option<u32>,
    limit: Option<u32>,
    period: Option<Period>,
    csv: bool,
}

impl UsageQuery {
    fn parse(pairs: &[(String, String)], allowed: &[&str]) -> ApiResult<UsageQuery> {
        let mut query = UsageQuery::default();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                let known = allowed.join(", ");
                let message = format!("unknown parameter; this route takes: {known}");
                return Err(bugdash::Error::invalid(name, message).into());
            }
            match name.as_str() {
                "days" => query.days = Some(number(name, value, 1, 3660)?),
                "limit" => query.limit = Some(number(name, value, 1, MAX_LIMIT)?),
                "period" => query.period = Some(value.parse()?),
                _ => query.csv = format(value)?,
            }
        }
        Ok(query)
    }

    /// The first and last day of the `days` ending today, as timestamps `[from, to)`.
    fn range(&self, now: Timestamp) -> (Timestamp, Timestamp) {
        let days = i64::from(self.days.unwrap_or(DEFAULT_DAYS));
        let today = Timestamp::from_millis(now.millis() - now.millis().rem_euclid(DAY_MILLIS));
        let from = Timestamp::from_millis(today.millis() - (days - 1) * DAY_MILLIS);
        (from, Timestamp::from_millis(today.millis() + DAY_MILLIS))
    }

    fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }
}

fn number(name: &str, value: &str, min: u32, max: u32) -> ApiResult<u32> {
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => {
            let message = format!("must be a whole number from {min} to {max}, not {value:?}");
            Err(bugdash::Error::invalid(name, message).into())
        }
    }
}

fn format(value: &str) -> ApiResult<bool> {
    match value {
        "json" => Ok(false),
        "csv" => Ok(true),
        _ => {
            Err(bugdash::Error::invalid("format", format!("must be json or csv, not {value:?}"))
                .into())
        }
    }
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// The usage answers that cover a range of days.
#[derive(Debug, Serialize)]
pub struct Ranged<T> {
    /// First day covered, UTC.
    pub from: String,
    /// Last day covered (today, so far).
    pub to: String,
    /// The figures.
    pub items: T,
}

fn ranged<T>(from: Timestamp, to: Timestamp, items: T) -> Json<Ranged<T>> {
    let last = Timestamp::from_millis(to.millis() - 1);
    Json(Ranged { from: from.date().to_string(), to: last.date().to_string(), items })
}

/// Active users in the last 5 and 15 minutes, live sessions and capacity used.
pub async fn realtime(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> ApiResult<Json<report::Realtime>> {
    Ok(Json(report::realtime(state.store.as_ref(), &state.settings.auth, now()).await?))
}

/// Usage per day, week or month (`?period=day|week|month&days=N`).
pub async fn trends(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<report::TrendPoint>>>> {
    let query = UsageQuery::parse(&pairs, &["period", "days"])?;
    let (from, to) = query.range(now());
    let last = Timestamp::from_millis(to.millis() - 1).date();
    let period = query.period.unwrap_or(Period::Day);
    let points = report::trends(state.store.as_ref(), from.date(), last, period).await?;
    Ok(ranged(from, to, points))
}

async fn rollups(
    state: &AppState,
    pairs: &[(String, String)],
) -> ApiResult<(Timestamp, Timestamp, Vec<bugdash::analytics::rollup::DayRollup>)> {
    let query = UsageQuery::parse(pairs, &["days"])?;
    let (from, to) = query.range(now());
    let last = Timestamp::from_millis(to.millis() - 1).date();
    Ok((from, to, report::days(state.store.as_ref(), from.date(), last).await?))
}

/// Projects, most analysed first (`?days=N`).
pub async fn projects(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<report::ProjectUsage>>>> {
    let (from, to, days) = rollups(&state, &pairs).await?;
    Ok(ranged(from, to, report::top_projects(&days)))
}

/// Features, most used first (`?days=N`).
pub async fn features(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<report::FeatureUsage>>>> {
    let (from, to, days) = rollups(&state, &pairs).await?;
    Ok(ranged(from, to, report::feature_usage(&days)))
}

/// Departments, most active first (`?days=N`).
pub async fn departments(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<report::DepartmentUsage>>>> {
    let (from, to, days) = rollups(&state, &pairs).await?;
    Ok(ranged(from, to, report::department_breakdown(&days)))
}

/// Latency p50/p95/p99 and error rate per endpoint (`?days=N`).
pub async fn endpoints(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<report::EndpointStats>>>> {
    let query = UsageQuery::parse(&pairs, &["days"])?;
    let (from, to) = query.range(now());
    let stats = report::endpoint_stats(state.store.as_ref(), from, to).await?;
    Ok(ranged(from, to, stats))
}

/// Calls made to JIRA by every instance's syncs over `?days=N`, by endpoint and status
/// (status 0: no answer).
pub async fn jira_calls(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<JiraCallCount>>>> {
    let query = UsageQuery::parse(&pairs, &["days"])?;
    let (from, to) = query.range(now());
    let last = Timestamp::from_millis(to.millis() - 1).date();
    let calls = state.store.jira_calls(from.date(), last).await?;
    Ok(ranged(from, to, calls))
}

/// One account's events, oldest first (`?days=N&limit=N`).
pub async fn user_activity(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<Event>>>> {
    if state.auth.account(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("there is no account {id}")));
    }
    activity(&state, &admin.who.account, id, &pairs).await
}

/// The caller's own events, oldest first (`?days=N&limit=N`).
pub async fn my_activity(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Ranged<Vec<Event>>>> {
    activity(&state, &user.who.account, user.who.account.id, &pairs).await
}

async fn activity(
    state: &AppState,
    viewer: &Account,
    id: i64,
    pairs: &[(String, String)],
) -> ApiResult<Json<Ranged<Vec<Event>>>> {
    let query = UsageQuery::parse(pairs, &["days", "limit"])?;
    let (from, to) = query.range(now());
    let store = state.store.as_ref();
    let events = report::activity_visible_to(store, viewer, id, from, to, query.limit()).await?;
    Ok(ranged(from, to, events))
}

/// The usage report over `?days=N` (default 7), as JSON or with `format=csv` its days as
/// CSV.
pub async fn usage_report(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Response> {
    let query = UsageQuery::parse(&pairs, &["days", "format"])?;
    let days = query.days.unwrap_or(7);
    let report = report::usage_report(state.store.as_ref(), days, now()).await?;
    if !query.csv {
        return Ok(Json(report).into_response());
    }
    let csv = HeaderValue::from_static("text/csv; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, csv)], report.days_csv()?).into_response())
}

/// `GET /api/admin/audit` answer.
#[derive(Debug, Serialize)]
pub struct AuditLog {
    /// The latest entries, newest first.
    pub entries: Vec<AuditEntry>,
}

/// The latest admin actions (`?limit=N`).
pub async fn audit_log(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<AuditLog>> {
    let query = UsageQuery::parse(&pairs, &["limit"])?;
    Ok(Json(AuditLog { entries: state.store.audit_log(query.limit()).await? }))
}

/// `GET /api/admin/jobs` answer.
#[derive(Debug, Serialize)]
pub struct JobList {
    /// Every job with its schedule and latest run.
    pub jobs: Vec<JobStatus>,
}

/// Every job with its schedule and latest run.
pub async fn jobs(State(state): State<AppState>, _admin: AdminUser) -> ApiResult<Json<JobList>> {
    Ok(Json(JobList { jobs: job_status(state.store.as_ref()).await? }))
}

/// Runs a job now and answers its run; 409 while it runs elsewhere.
pub async fn run(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<JobRun>> {
    let job: Job = name.parse()?;
    audit(&state, &admin.who.account, "run_job", format!("job {}", job.name()), None, None).await?;
    Ok(Json(run_job(job, &job_context(&state)).await?))
}

/// Creates an account, as [`admin::create_user`] does, and puts it in the audit log.
pub async fn create_user(
    State(state): State<AppState>,
    admin: AdminUser,
    body: ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    let actor = admin.0.who.account.clone();
    let (status, Json(account)) = admin::create_user(State(state.clone()), admin, body).await?;
    let target = format!("account {}", account.id);
    let new = Some(json_text(&account));
    audit(&state, &actor, "create_account", target, None, new).await?;
    Ok((status, Json(account)))
}

/// Changes an account, as [`admin::update_user`] does, and puts each change in the audit
/// log with the value before and after.
pub async fn update_user(
    State(state): State<AppState>,
    admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<Account>> {
    let actor = admin.0.who.account.clone();
    let before = state.auth.account(id).await?;
    let password_changed = change.password.is_some();
    let call = admin::update_user(State(state.clone()), admin, ApiPath(id), ApiJson(change));
    let Json(after) = call.await?;
    let Some(before) = before else { return Ok(Json(after)) };
    let target = format!("account {id}");
    if before.role != after.role {
        let (old, new) = (json_text(&before.role), json_text(&after.role));
        audit(&state, &actor, "set_role", target.clone(), Some(old), Some(new)).await?;
    }
    if before.active != after.active {
        let (old, new) = (json_text(&before.active), json_text(&after.active));
        audit(&state, &actor, "set_active", target.clone(), Some(old), Some(new)).await?;
    }
    if password_changed {
        audit(&state, &actor, "set_password", target, None, None).await?;
    }
    Ok(Json(after))
}

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

async fn audit(
    state: &AppState,
    actor: &Account,
    action: &str,
    target: String,
    old_value: Option<String>,
    new_value: Option<String>,
) -> ApiResult<()> {
    let entry = NewAuditEntry {
        at: now(),
        actor_id: Some(actor.id),
        actor: actor.email.clone(),
        action: action.to_owned(),
        target,
        old_value,
        new_value,
    };
    state.store.insert_audit(&entry).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn unknown_and_out_of_range_parameters_are_refused_by_name() {
        let unknown = UsageQuery::parse(&pairs(&[("dayz", "3")]), &["days"]).unwrap_err();
        let zero = UsageQuery::parse(&pairs(&[("days", "0")]), &["days"]).unwrap_err();

        assert!(unknown.to_string().contains("dayz"), "{unknown}");
        assert!(zero.to_string().contains("days"), "{zero}");
    }

    #[test]
    fn a_range_of_days_ends_with_today() {
        let query = UsageQuery { days: Some(2), ..UsageQuery::default() };
        let noon = Timestamp::from_millis(10 * DAY_MILLIS + DAY_MILLIS / 2);

        let (from, to) = query.range(noon);

        assert_eq!((from.millis(), to.millis()), (9 * DAY_MILLIS, 11 * DAY_MILLIS));
    }
}
