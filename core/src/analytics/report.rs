//! The admin API's questions about usage, answered from raw events, daily rollups and the
//! live sessions of the account store. Every answer is a serde type the frontends render.
//!
//! Ranges of days read the stored rollups; a day in the range without one (today, or a day
//! the rollup job has not reached yet) is computed from its events on the fly and not
//! stored. Weekly and monthly figures add the daily ones up, except user counts, which
//! cannot be added (the same person is active on several days): a week or month reports
//! the most active users of any one of its days (`peak_daily_active_users`).
//!
//! Latency percentiles are computed by the database ([`AnalyticsStore::endpoint_stats`]), so a
//! report over months reads one row per endpoint, not the months' events. One user's
//! activity reads that user's raw events, at most the requested number.
//!
//! [`AnalyticsStore::endpoint_stats`]: crate::store::analytics::AnalyticsStore::endpoint_stats

use std::collections::BTreeMap;

use chrono::{Datelike, Duration as Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::rollup::{self, day_start, DayRollup};
use super::Event;
use crate::config::AuthSettings;
use crate::model::Timestamp;
use crate::store::analytics::{EventQuery, JiraCallCount};
use crate::store::Store;
use crate::{Error, Result};

/// Who is on the platform now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Realtime {
    /// When it was measured.
    pub at: Timestamp,
    /// Distinct accounts with an event in the last 5 minutes.
    pub active_users_5m: u64,
    /// Distinct accounts with an event in the last 15 minutes.
    pub active_users_15m: u64,
    /// Live sessions (not revoked, expired or idle).
    pub current_sessions: u64,
    /// Distinct accounts with a live session: what `MAX_CONCURRENT_USERS` caps.
    pub signed_in_users: u64,
    /// `MAX_CONCURRENT_USERS`.
    pub max_concurrent_users: u64,
    /// `signed_in_users` as a share of the cap, 0 to 1 (admins may push it past 1).
    pub capacity_used: f64,
}

/// Real-time figures at `now`. Sessions are read per account from the account store, one
/// query per account: fine for the hundreds of accounts BugDash is built for.
pub async fn realtime(store: &dyn Store, auth: &AuthSettings, now: Timestamp) -> Result<Realtime> {
    let minutes = |m: i64| Timestamp::from_millis(now.millis() - m * 60_000);
    let recent = store.events(&EventQuery::between(minutes(15), now.plus_millis(1))).await?;
    let active = |since: Timestamp| {
        let users = recent.iter().filter(|e| e.at >= since).filter_map(|e| e.account_id);
        users.collect::<std::collections::BTreeSet<_>>().len() as u64
    };
    let idle_since = minutes(i64::from(auth.idle_timeout_minutes));
    let (mut sessions, mut users) = (0u64, 0u64);
    for account in store.account_records().await? {
        let live = store.live_sessions(account.id, now, idle_since).await?;
        sessions += live.len() as u64;
        users += u64::from(!live.is_empty());
    }
    let cap = u64::from(auth.max_concurrent_users);
    Ok(Realtime {
        at: now,
        active_users_5m: active(minutes(5)),
        active_users_15m: active(minutes(15)),
        current_sessions: sessions,
        signed_in_users: users,
        max_concurrent_users: cap,
        capacity_used: if cap == 0 { 0.0 } else { users as f64 / cap as f64 },
    })
}

trait PlusMillis {
    fn plus_millis(self, millis: i64) -> Timestamp;
}

impl PlusMillis for Timestamp {
    fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp::from_millis(self.millis() + millis)
    }
}

/// The rollups of `from..=to`: stored ones, and the missing days computed from events.
pub async fn days(store: &dyn Store, from: NaiveDate, to: NaiveDate) -> Result<Vec<DayRollup>> {
    if from > to {
        return Err(Error::invalid("days", format!("the range {from} to {to} is backwards")));
    }
    let stored = store.rollups(from, to).await?;
    let mut by_day: BTreeMap<NaiveDate, DayRollup> =
        stored.into_iter().map(|r| (r.day, r)).collect();
    let accounts = store.account_records().await?;
    let mut day = from;
    while day <= to {
        if let std::collections::btree_map::Entry::Vacant(missing) = by_day.entry(day) {
            let start = day_start(day);
            let events = store.events(&EventQuery::between(start, start.plus_days(1))).await?;
            let created = accounts.iter().filter(|a| a.created_at.date() == day).count();
            missing.insert(rollup::compute(day, &events, created as u64));
        }
        day += Days::days(1);
    }
    Ok(by_day.into_values().collect())
}

/// How long a trend point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// A UTC day.
    Day,
    /// A week starting on Monday.
    Week,
    /// A calendar month.
    Month,
}

impl std::str::FromStr for Period {
    type Err = Error;

    fn from_str(text: &str) -> Result<Period> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Ok(Period::Day),
            "week" | "weekly" => Ok(Period::Week),
            "month" | "monthly" => Ok(Period::Month),
            _ => Err(Error::invalid("period", format!("must be day, week or month, not {text:?}"))),
        }
    }
}

/// Usage in one day, week or month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// First day of the period.
    pub start: NaiveDate,
    /// Events.
    pub events: u64,
    /// Most active users of any one day of the period (the day's count for a day).
    pub peak_daily_active_users: u64,
    /// Accounts created.
    pub new_users: u64,
    /// Sessions (a session spanning midnight counts on both days).
    pub sessions: u64,
    /// Analyses.
    pub analyses: u64,
    /// Mean session span over the period's sessions, in seconds.
    pub avg_session_seconds: f64,
    /// Highest peak of concurrent users on any day of the period.
    pub peak_concurrent_users: u64,
}

/// The first day of the period holding `day`.
pub fn period_start(day: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Day => day,
        Period::Week => day - Days::days(i64::from(day.weekday().num_days_from_monday())),
        Period::Month => day.with_day(1).unwrap_or(day),
    }
}

/// Usage per period over `from..=to`, oldest first.
pub async fn trends(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
    period: Period,
) -> Result<Vec<TrendPoint>> {
    Ok(group_trends(&days(store, from, to).await?, period))
}

/// Daily rollups grouped into periods, pure.
pub fn group_trends(days: &[DayRollup], period: Period) -> Vec<TrendPoint> {
    let mut points: BTreeMap<NaiveDate, (TrendPoint, f64)> = BTreeMap::new();
    for day in days {
        let start = period_start(day.day, period);
        let (point, seconds) = points.entry(start).or_insert_with(|| {
            let point = TrendPoint {
                start,
                events: 0,
                peak_daily_active_users: 0,
                new_users: 0,
                sessions: 0,
                analyses: 0,
                avg_session_seconds: 0.0,
                peak_concurrent_users: 0,
            };
            (point, 0.0)
        });
        point.events += day.events;
        point.peak_daily_active_users = point.peak_daily_active_users.max(day.active_users);
        point.new_users += day.new_users;
        point.sessions += day.sessions;
        point.analyses += day.analyses;
        point.peak_concurrent_users = point.peak_concurrent_users.max(day.peak_concurrent_users);
        *seconds += day.avg_session_seconds * day.sessions as f64;
    }
    let points = points.into_values();
    points
        .map(|(mut point, seconds)| {
            if point.sessions > 0 {
                point.avg_session_seconds = seconds / point.sessions as f64;
            }
            point
        })
        .collect()
}

/// A project's use over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectUsage {
    /// Project key.
    pub project: String,
    /// Analyses.
    pub analyses: u64,
    /// Events naming it.
    pub events: u64,
    /// Most distinct users on one day.
    pub peak_daily_users: u64,
}

/// A feature's use over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureUsage {
    /// The action's stored name.
    pub action: String,
    /// Events.
    pub events: u64,
    /// Most distinct users on one day.
    pub peak_daily_users: u64,
}

/// A department's use over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentUsage {
    /// Department (`none` for accounts without one).
    pub department: String,
    /// Events.
    pub events: u64,
    /// Analyses.
    pub analyses: u64,
    /// Most distinct users on one day.
    pub peak_daily_users: u64,
}

/// Projects by analyses (then events, then key), most analysed first.
pub fn top_projects(days: &[DayRollup]) -> Vec<ProjectUsage> {
    let mut map: BTreeMap<String, ProjectUsage> = BTreeMap::new();
    for p in days.iter().flat_map(|d| &d.projects) {
        let entry = map.entry(p.project.clone()).or_insert_with(|| ProjectUsage {
            project: p.project.clone(),
            analyses: 0,
            events: 0,
            peak_daily_users: 0,
        });
        entry.analyses += p.analyses;
        entry.events += p.events;
        entry.peak_daily_users = entry.peak_daily_users.max(p.users);
    }
    let mut out: Vec<ProjectUsage> = map.into_values().collect();
    out.sort_by(|a, b| b.analyses.cmp(&a.analyses).then(b.events.cmp(&a.events)));
    out
}

/// Features by events, most used first.
pub fn feature_usage(days: &[DayRollup]) -> Vec<FeatureUsage> {
    let mut map: BTreeMap<String, FeatureUsage> = BTreeMap::new();
    for f in days.iter().flat_map(|d| &d.features) {
        let entry = map.entry(f.action.clone()).or_insert_with(|| FeatureUsage {
            action: f.action.clone(),
            events: 0,
            peak_daily_users: 0,
        });
        entry.events += f.events;
        entry.peak_daily_users = entry.peak_daily_users.max(f.users);
    }
    let mut out: Vec<FeatureUsage> = map.into_values().collect();
    out.sort_by_key(|usage| std::cmp::Reverse(usage.events));
    out
}

/// Departments by events, most active first.
pub fn department_breakdown(days: &[DayRollup]) -> Vec<DepartmentUsage> {
    let mut map: BTreeMap<String, DepartmentUsage> = BTreeMap::new();
    for d in days.iter().flat_map(|d| &d.departments) {
        let entry = map.entry(d.department.clone()).or_insert_with(|| DepartmentUsage {
            department: d.department.clone(),
            events: 0,
            analyses: 0,
            peak_daily_users: 0,
        });
        entry.events += d.events;
        entry.analyses += d.analyses;
        entry.peak_daily_users = entry.peak_daily_users.max(d.users);
    }
    let mut out: Vec<DepartmentUsage> = map.into_values().collect();
    out.sort_by_key(|usage| std::cmp::Reverse(usage.events));
    out
}

/// One account's latest events in `[from, to)`, oldest first, at most `limit`.
pub async fn user_activity(
    store: &dyn Store,
    account_id: i64,
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<Event>> {
    let query = EventQuery { from, to, account_id: Some(account_id), limit: Some(limit) };
    store.events(&query).await
}

/// One account's activity as `viewer` may see it: users see only their own, admins
/// anyone's; [`Error::Forbidden`] otherwise.
pub async fn activity_visible_to(
    store: &dyn Store,
    viewer: &crate::auth::Account,
    account_id: i64,
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<Event>> {
    if viewer.id != account_id && viewer.role != crate::auth::Role::Admin {
        return Err(Error::Forbidden);
    }
    user_activity(store, account_id, from, to, limit).await
}

/// Latency and errors of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// HTTP method.
    pub method: String,
    /// Route template.
    pub endpoint: String,
    /// Requests answered.
    pub requests: u64,
    /// Answers with status 500 or above (our failures; 4xx are the caller's).
    pub errors: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// Median latency, ms (nearest rank).
    pub p50_ms: f64,
    /// 95th percentile latency, ms (nearest rank).
    pub p95_ms: f64,
    /// 99th percentile latency, ms (nearest rank).
    pub p99_ms: f64,
}

/// Latency percentiles and error rate per endpoint over `[from, to)`, busiest first.
pub async fn endpoint_stats(
    store: &dyn Store,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<EndpointStats>> {
    let mut stats = store.endpoint_stats(from, to).await?;
    sort_busiest_first(&mut stats);
    Ok(stats)
}

impl EndpointStats {
    /// The figures of one method and route, with the error rate they give.
    pub fn new(
        method: String,
        endpoint: String,
        requests: u64,
        errors: u64,
        [p50_ms, p95_ms, p99_ms]: [f64; 3],
    ) -> EndpointStats {
        let error_rate = if requests == 0 { 0.0 } else { errors as f64 / requests as f64 };
        EndpointStats { method, endpoint, requests, errors, error_rate, p50_ms, p95_ms, p99_ms }
    }
}

/// What [`endpoint_stats`] gives for `events`, computed in memory: the definition the
/// stores' queries must agree with (a missing method counts as `GET`; events without an
/// endpoint or a status are not requests; percentiles are nearest-rank over the events
/// that have a latency).
pub fn endpoint_stats_of(events: &[Event]) -> Vec<EndpointStats> {
    #[derive(Default)]
    struct Tally {
        latencies: Vec<f64>,
        requests: u64,
        errors: u64,
    }
    let mut map: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for event in events {
        let (Some(endpoint), Some(status)) = (&event.endpoint, event.status) else { continue };
        let method = event.method.clone().unwrap_or_else(|| "GET".into());
        let tally = map.entry((method, endpoint.clone())).or_default();
        tally.latencies.extend(event.latency_ms);
        tally.requests += 1;
        tally.errors += u64::from(status >= 500);
    }
    let mut out: Vec<EndpointStats> = map
        .into_iter()
        .map(|((method, endpoint), mut tally)| {
            tally.latencies.sort_by(f64::total_cmp);
            let percentiles = [0.50, 0.95, 0.99].map(|q| nearest_rank(&tally.latencies, q));
            EndpointStats::new(method, endpoint, tally.requests, tally.errors, percentiles)
        })
        .collect();
    sort_busiest_first(&mut out);
    out
}

fn sort_busiest_first(stats: &mut [EndpointStats]) {
    stats.sort_by(|a, b| {
        b.requests.cmp(&a.requests).then(a.endpoint.cmp(&b.endpoint)).then(a.method.cmp(&b.method))
    });
}

/// The nearest-rank percentile of sorted values (0 when there are none).
pub fn nearest_rank(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Usage over the last N days: what the weekly email and `bugdash report usage` show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// First day covered.
    pub from: NaiveDate,
    /// Last day covered (today, so far).
    pub to: NaiveDate,
    /// Totals over the range.
    pub totals: TrendPoint,
    /// Each day.
    pub days: Vec<TrendPoint>,
    /// Projects, most analysed first.
    pub projects: Vec<ProjectUsage>,
    /// Features, most used first.
    pub features: Vec<FeatureUsage>,
    /// Departments, most active first.
    pub departments: Vec<DepartmentUsage>,
    /// Endpoints, busiest first.
    pub endpoints: Vec<EndpointStats>,
    /// Calls made to JIRA by the syncs of every instance, by endpoint and status.
    pub jira_calls: Vec<JiraCallCount>,
}

/// The usage report of the `days` days ending today (at `now`), at least 1 and at most
/// 3,660.
pub async fn usage_report(
    store: &dyn Store,
    days_back: u32,
    now: Timestamp,
) -> Result<UsageReport> {
    if !(1..=3660).contains(&days_back) {
        return Err(Error::invalid("days", format!("must be 1 to 3660, not {days_back}")));
    }
    let to = now.date();
    let from = to - Days::days(i64::from(days_back) - 1);
    let rollups = days(store, from, to).await?;
    let daily = group_trends(&rollups, Period::Day);
    let mut totals = group_trends(&rollups, Period::Month);
    let totals = merge_points(from, &mut totals);
    let endpoints = endpoint_stats(store, day_start(from), day_start(to).plus_days(1)).await?;
    let jira_calls = store.jira_calls(from, to).await?;
    Ok(UsageReport {
        from,
        to,
        totals,
        days: daily,
        projects: top_projects(&rollups),
        features: feature_usage(&rollups),
        departments: department_breakdown(&rollups),
        endpoints,
        jira_calls,
    })
}

fn merge_points(start: NaiveDate, points: &mut [TrendPoint]) -> TrendPoint {
    let mut total = TrendPoint {
        start,
        events: 0,
        peak_daily_active_users: 0,
        new_users: 0,
        sessions: 0,
        analyses: 0,
        avg_session_seconds: 0.0,
        peak_concurrent_users: 0,
    };
    let mut seconds = 0.0;
    for p in points.iter() {
        total.events += p.events;
        total.peak_daily_active_users =
            total.peak_daily_active_users.max(p.peak_daily_active_users);
        total.new_users += p.new_users;
        total.sessions += p.sessions;
        total.analyses += p.analyses;
        total.peak_concurrent_users = total.peak_concurrent_users.max(p.peak_concurrent_users);
        seconds += p.avg_session_seconds * p.sessions as f64;
    }
    if total.sessions > 0 {
        total.avg_session_seconds = seconds / total.sessions as f64;
    }
    total
}

impl UsageReport {
    /// The daily rows as CSV, with a header; the other sections are in the JSON form.
    pub fn days_csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = [
            "day",
            "events",
            "active_users",
            "new_users",
            "sessions",
            "analyses",
            "avg_session_seconds",
            "peak_concurrent_users",
        ];
        let fail = |e: csv::Error| Error::Internal(format!("cannot write CSV: {e}"));
        writer.write_record(header).map_err(fail)?;
        for d in &self.days {
            writer
                .write_record([
                    d.start.to_string(),
                    d.events.to_string(),
                    d.peak_daily_active_users.to_string(),
                    d.new_users.to_string(),
                    d.sessions.to_string(),
                    d.analyses.to_string(),
                    format!("{:.1}", d.avg_session_seconds),
                    d.peak_concurrent_users.to_string(),
                ])
                .map_err(fail)?;
        }
        let bytes =
            writer.into_inner().map_err(|e| Error::Internal(format!("cannot write CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Internal(format!("CSV is not UTF-8: {e}")))
    }

    /// A plain-text summary for the weekly email.
    pub fn summary_text(&self) -> String {
        let t = &self.totals;
        let mut lines = vec![
            format!("BugDash usage from {} to {}", self.from, self.to),
            String::new(),
            format!("Events            {}", t.events),
            format!("Peak daily users  {}", t.peak_daily_active_users),
            format!("New users         {}", t.new_users),
            format!("Sessions          {}", t.sessions),
            format!("Analyses          {}", t.analyses),
            format!("Avg session       {:.0} s", t.avg_session_seconds),
            format!("Peak concurrent   {}", t.peak_concurrent_users),
            String::new(),
            "Most analysed projects:".into(),
        ];
        for p in self.projects.iter().take(10) {
            lines.push(format!("  {:<20} {} analyses", p.project, p.analyses));
        }
        lines.push(String::new());
        lines.push("Features:".into());
        for f in self.features.iter().take(10) {
            lines.push(format!("  {:<20} {} uses", f.action, f.events));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_stored_values() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();

        assert_eq!(nearest_rank(&values, 0.50), 50.0);
        assert_eq!(nearest_rank(&values, 0.95), 95.0);
        assert_eq!(nearest_rank(&values, 0.99), 99.0);
        assert_eq!(nearest_rank(&[], 0.5), 0.0);
    }

    #[test]
    fn weeks_start_on_monday() {
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();

        assert_eq!(
            period_start(thursday, Period::Week),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(
            period_start(thursday, Period::Month),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
    }
}
