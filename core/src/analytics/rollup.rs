//! Daily rollups: the figures of one UTC day computed from its raw events, kept after
//! retention purges the events.
//!
//! Definitions, the same in every report:
//!
//! - A **session** of a day is a session id with at least one event that day. Its span that
//!   day runs from its first to its last event of the day; a `logout` event is its last.
//!   Events without a session (anonymous requests) belong to no session.
//! - The **average session duration** is the mean span of the day's sessions, in seconds.
//!   A session with one event has a span of zero: the recorder sees requests, not the time
//!   someone looks at a page, so durations are lower bounds.
//! - **Concurrent users** at an instant are the distinct accounts with a session whose span
//!   covers it; the **peak** is the largest such count of the day (an instant where one
//!   span ends and another begins counts both).
//! - **Active users** are distinct accounts with any event that day; **new users** are
//!   accounts created that day; **analyses** are `analyze_project` events.
//!
//! [`rollup_day`] is idempotent: recomputing a day replaces its rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Action, Event};
use crate::model::{Timestamp, MILLIS_PER_DAY};
use crate::store::analytics::EventQuery;
use crate::store::Store;
use crate::Result;

/// The figures of one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayRollup {
    /// The UTC day.
    pub day: NaiveDate,
    /// Events recorded.
    pub events: u64,
    /// Distinct accounts with an event.
    pub active_users: u64,
    /// Accounts created that day.
    pub new_users: u64,
    /// Distinct sessions with an event.
    pub sessions: u64,
    /// `analyze_project` events.
    pub analyses: u64,
    /// Mean span of the day's sessions, in seconds (see the module's definitions).
    pub avg_session_seconds: f64,
    /// The project with the most analyses (the first by name among equals).
    pub most_analysed_project: Option<String>,
    /// Largest number of distinct accounts with overlapping session spans.
    pub peak_concurrent_users: u64,
    /// Per project, ordered by name.
    pub projects: Vec<ProjectDay>,
    /// Per action, ordered by name.
    pub features: Vec<FeatureDay>,
    /// Per department (`none` for accounts without one), ordered by name.
    pub departments: Vec<DepartmentDay>,
}

/// One project's figures of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDay {
    /// Project key.
    pub project: String,
    /// Events naming the project.
    pub events: u64,
    /// Its analyses.
    pub analyses: u64,
    /// Distinct accounts.
    pub users: u64,
}

/// One feature's (action's) figures of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureDay {
    /// The action's stored name.
    pub action: String,
    /// Events.
    pub events: u64,
    /// Distinct accounts.
    pub users: u64,
}

/// One department's figures of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentDay {
    /// Department, `none` when the account has none.
    pub department: String,
    /// Events.
    pub events: u64,
    /// Analyses.
    pub analyses: u64,
    /// Distinct accounts.
    pub users: u64,
}

/// The first instant of `day` (UTC).
pub fn day_start(day: NaiveDate) -> Timestamp {
    let days = day.signed_duration_since(NaiveDate::default()).num_days();
    Timestamp::from_millis(days * MILLIS_PER_DAY)
}

/// Computes `day` from its events and the accounts created in it, and stores it in place
/// of what was stored for it.
pub async fn rollup_day(store: &dyn Store, day: NaiveDate) -> Result<DayRollup> {
    let from = day_start(day);
    let to = from.plus_days(1);
    let events = store.events(&EventQuery::between(from, to)).await?;
    let accounts = store.account_records().await?;
    let new_users = accounts.iter().filter(|a| a.created_at >= from && a.created_at < to);
    let rollup = compute(day, &events, new_users.count() as u64);
    store.replace_rollup(&rollup).await?;
    tracing::debug!(%day, events = rollup.events, "analytics day rolled up");
    Ok(rollup)
}

/// The rollup of `day` from its `events` (all of that day), pure.
pub fn compute(day: NaiveDate, events: &[Event], new_users: u64) -> DayRollup {
    let users: BTreeSet<i64> = events.iter().filter_map(|e| e.account_id).collect();
    let analyses = events.iter().filter(|e| e.action == Action::AnalyzeProject).count();
    let spans = session_spans(events);
    let total_span: i64 = spans.values().map(|s| s.end - s.start).sum();
    let avg_session_seconds =
        if spans.is_empty() { 0.0 } else { total_span as f64 / 1000.0 / spans.len() as f64 };
    let projects = per_project(events);
    let most_analysed_project = projects
        .iter()
        .filter(|p| p.analyses > 0)
        .max_by(|a, b| a.analyses.cmp(&b.analyses).then(b.project.cmp(&a.project)))
        .map(|p| p.project.clone());
    DayRollup {
        day,
        events: events.len() as u64,
        active_users: users.len() as u64,
        new_users,
        sessions: spans.len() as u64,
        analyses: analyses as u64,
        avg_session_seconds,
        most_analysed_project,
        peak_concurrent_users: peak_concurrent(spans.values()),
        projects,
        features: per_feature(events),
        departments: per_department(events),
    }
}

/// A session's first and last event of the day, in epoch milliseconds, and its account.
#[derive(Debug, Clone, Copy)]
struct Span {
    account: Option<i64>,
    start: i64,
    end: i64,
    ended: bool,
}

fn session_spans(events: &[Event]) -> HashMap<i64, Span> {
    let mut ordered: Vec<&Event> = events.iter().filter(|e| e.session_id.is_some()).collect();
    ordered.sort_by_key(|e| e.at);
    let mut spans: HashMap<i64, Span> = HashMap::new();
    for event in ordered {
        let Some(session) = event.session_id else { continue };
        let at = event.at.millis();
        let span = spans.entry(session).or_insert(Span {
            account: event.account_id,
            start: at,
            end: at,
            ended: false,
        });
        // Requests after a logout (a page still open) do not lengthen the session.
        if !span.ended {
            span.end = at;
            span.ended = event.action == Action::Logout;
        }
        span.account = span.account.or(event.account_id);
    }
    spans
}

/// The most distinct accounts whose spans overlap at one instant.
fn peak_concurrent<'a>(spans: impl Iterator<Item = &'a Span>) -> u64 {
    // Each account's spans merged first, so one person in two tabs counts once.
    let mut by_account: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for span in spans {
        if let Some(account) = span.account {
            by_account.entry(account).or_default().push((span.start, span.end));
        }
    }
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for intervals in by_account.values_mut() {
        intervals.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for &(start, end) in intervals.iter() {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        for (start, end) in merged {
            edges.push((start, 1));
            edges.push((end, -1));
        }
    }
    // Starts before ends at the same instant: spans that touch overlap.
    edges.sort_unstable_by_key(|&(at, delta)| (at, -delta));
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, delta) in edges {
        now += i64::from(delta);
        peak = peak.max(now);
    }
    peak as u64
}

fn per_project(events: &[Event]) -> Vec<ProjectDay> {
    let mut map: BTreeMap<&str, (u64, u64, BTreeSet<i64>)> = BTreeMap::new();
    for event in events {
        let Some(project) = event.project.as_deref() else { continue };
        let entry = map.entry(project).or_default();
        entry.0 += 1;
        entry.1 += u64::from(event.action == Action::AnalyzeProject);
        entry.2.extend(event.account_id);
    }
    let rows = map.into_iter();
    rows.map(|(project, (events, analyses, users))| ProjectDay {
        project: project.to_owned(),
        events,
        analyses,
        users: users.len() as u64,
    })
    .collect()
}

fn per_feature(events: &[Event]) -> Vec<FeatureDay> {
    let mut map: BTreeMap<&str, (u64, BTreeSet<i64>)> = BTreeMap::new();
    for event in events {
        let entry = map.entry(event.action.as_str()).or_default();
        entry.0 += 1;
        entry.1.extend(event.account_id);
    }
    let rows = map.into_iter();
    rows.map(|(action, (events, users))| FeatureDay {
        action: action.to_owned(),
        events,
        users: users.len() as u64,
    })
    .collect()
}

fn per_department(events: &[Event]) -> Vec<DepartmentDay> {
    let mut map: BTreeMap<&str, (u64, u64, BTreeSet<i64>)> = BTreeMap::new();
    for event in events.iter().filter(|e| e.account_id.is_some()) {
        let department = event.department.as_deref().unwrap_or("none");
        let entry = map.entry(department).or_default();
        entry.0 += 1;
        entry.1 += u64::from(event.action == Action::AnalyzeProject);
        entry.2.extend(event.account_id);
    }
    let rows = map.into_iter();
    rows.map(|(department, (events, analyses, users))| DepartmentDay {
        department: department.to_owned(),
        events,
        analyses,
        users: users.len() as u64,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(session: i64, account: i64, minute: i64, action: Action) -> Event {
        let mut event = Event::new(action, Timestamp::from_millis(minute * 60_000));
        event.session_id = Some(session);
        event.account_id = Some(account);
        event
    }

    #[test]
    fn one_person_in_two_tabs_counts_once_and_touching_spans_overlap() {
        let events = [
            event(1, 10, 0, Action::Login),
            event(1, 10, 30, Action::ApiCall),
            event(2, 10, 10, Action::Login),
            event(2, 10, 40, Action::ApiCall),
            event(3, 20, 40, Action::Login),
            event(3, 20, 50, Action::Logout),
            event(3, 20, 55, Action::ApiCall),
        ];

        let rollup = compute(NaiveDate::default(), &events, 0);

        assert_eq!(rollup.peak_concurrent_users, 2);
        assert_eq!(rollup.sessions, 3);
        // Spans: 30, 30 and 10 minutes (the request after the logout does not count).
        assert!((rollup.avg_session_seconds - 70.0 * 60.0 / 3.0).abs() < 1e-9);
    }
}
