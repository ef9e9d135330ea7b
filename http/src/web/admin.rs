//! The admin pages: usage analytics, accounts and syncs, over the core calls the
//! `/api/admin/...` routes make. Each handler takes an [`AdminViewer`], so a signed-in user
//! who is not an admin gets the 403 page.
//!
//! A change (an account's role or active flag, a sync started) is a form posted with the
//! session's CSRF token, answered by a redirect back to the page, whose address says what
//! happened (`?changed=12`, `?started=ZOOKEEPER`, `?refused=ZOOKEEPER&reason=busy`): the
//! page words it from a fixed table, so no text from the address reaches the page.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use bugdash::analytics::report::{self, Period};
use bugdash::auth::{Clock, Role, SystemClock};
use bugdash::model::{Timestamp, MILLIS_PER_DAY};
use bugdash::service::options::project_key;
use serde::Deserialize;

use super::charts::{self, BarChart, LineChart, Series, Svg};
use super::format;
use super::projects::When;
use super::session::{see_other, AdminViewer, PageForm};
use super::view::{render, Layout, Section};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AdminUser, ApiJson, ApiPath, Credential, CurrentUser, QueryPairs};
use crate::routes::admin::UserChange;
use crate::state::AppState;

/// Days the usage page covers unless asked otherwise.
const DEFAULT_DAYS: u32 = 30;
/// Bars in a bar chart at most.
const BARS: usize = 12;
/// Sync runs listed.
const RUNS: u32 = 20;

/// A figure of the usage page.
struct Stat {
    label: &'static str,
    value: String,
}

/// Latency and errors of one endpoint.
struct EndpointRow {
    method: String,
    endpoint: String,
    requests: String,
    errors: String,
    p50: String,
    p95: String,
    p99: String,
}

/// JIRA calls of one endpoint and status.
struct JiraRow {
    endpoint: String,
    status: String,
    calls: String,
}

/// A department's use.
struct DepartmentRow {
    department: String,
    events: String,
    analyses: String,
    users: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct UsagePage {
    layout: Layout,
    day_choices: Vec<(u32, bool)>,
    from: String,
    to: String,
    stats: Vec<Stat>,
    usage_chart: Svg,
    projects_chart: Svg,
    features_chart: Svg,
    endpoints: Vec<EndpointRow>,
    jira: Vec<JiraRow>,
    jira_total: String,
    departments: Vec<DepartmentRow>,
}

/// `GET /admin`: who uses the platform, for what, and how fast it answers.
pub async fn usage(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let page = async {
        let days = days_of(&pairs)?;
        let view = usage_page(&state, days).await?;
        render(&UsagePage {
            layout: Layout::new("Usage", Some(viewer.nav(Section::Admin))),
            ..view
        })
    };
    viewer.respond(page.await)
}

fn days_of(pairs: &[(String, String)]) -> ApiResult<u32> {
    let mut days = DEFAULT_DAYS;
    for (name, value) in pairs {
        match (name.as_str(), value.trim().parse::<u32>()) {
            ("days", Ok(n)) if (1..=366).contains(&n) => days = n,
            ("days", _) => {
                let message =
                    format!("expected a whole number of days from 1 to 366; got {value:?}");
                return Err(bugdash::Error::invalid(name, message).into());
            }
            _ => {
                return Err(bugdash::Error::invalid(
                    name,
                    "unknown parameter; this page takes days",
                )
                .into())
            }
        }
    }
    Ok(days)
}

async fn usage_page(state: &AppState, days: u32) -> ApiResult<UsagePage> {
    let store = state.store.as_ref();
    let now = SystemClock.now();
    let today = now.millis() - now.millis().rem_euclid(MILLIS_PER_DAY);
    let from = Timestamp::from_millis(today - i64::from(days - 1) * MILLIS_PER_DAY);
    let to = Timestamp::from_millis(today + MILLIS_PER_DAY);
    let last = Timestamp::from_millis(today);
    let realtime = report::realtime(store, &state.settings.auth, now).await?;
    let rollups = report::days(store, from.date(), last.date()).await?;
    let endpoints = report::endpoint_stats(store, from, to).await?;
    let jira = store.jira_calls(from.date(), last.date()).await?;

    let points = report::group_trends(&rollups, Period::Day);
    let labels: Vec<String> = points.iter().map(|p| p.start.format("%m-%d").to_string()).collect();
    let active: Vec<f64> = points.iter().map(|p| p.peak_daily_active_users as f64).collect();
    let analyses: Vec<f64> = points.iter().map(|p| p.analyses as f64).collect();
    let sessions: Vec<f64> = points.iter().map(|p| p.sessions as f64).collect();
    let series = [
        Series { label: "Active users", values: &active },
        Series { label: "Sessions", values: &sessions },
        Series { label: "Analyses", values: &analyses },
    ];
    let usage_chart = charts::line_chart(&LineChart {
        title: "Use per day",
        x_labels: &labels,
        y_unit: "per day",
        series: &series,
        band: None,
        point_links: None,
    });

    let projects = report::top_projects(&rollups);
    let project_names: Vec<String> =
        projects.iter().take(BARS).map(|p| p.project.clone()).collect();
    let project_values: Vec<f64> = projects.iter().take(BARS).map(|p| p.analyses as f64).collect();
    let project_links: Vec<String> =
        project_names.iter().map(|key| format!("/projects/{}", format::encode(key))).collect();
    let projects_chart = charts::bar_chart(&BarChart {
        title: "Most analysed projects",
        labels: &project_names,
        values: &project_values,
        unit: "analyses",
        links: Some(&project_links),
    });
    let features = report::feature_usage(&rollups);
    let feature_names: Vec<String> =
        features.iter().take(BARS).map(|f| f.action.replace('_', " ")).collect();
    let feature_values: Vec<f64> = features.iter().take(BARS).map(|f| f.events as f64).collect();
    let features_chart = charts::bar_chart(&BarChart {
        title: "Feature use",
        labels: &feature_names,
        values: &feature_values,
        unit: "uses",
        links: None,
    });

    let total_events: u64 = rollups.iter().map(|d| d.events).sum();
    let total_analyses: u64 = rollups.iter().map(|d| d.analyses).sum();
    let stats = vec![
        Stat { label: "Active now (5 min)", value: format::count(realtime.active_users_5m) },
        Stat { label: "Active (15 min)", value: format::count(realtime.active_users_15m) },
        Stat { label: "Live sessions", value: format::count(realtime.current_sessions) },
        Stat {
            label: "Signed-in users of the cap",
            value: format!(
                "{} of {} ({})",
                format::count(realtime.signed_in_users),
                format::count(realtime.max_concurrent_users),
                format::percent(realtime.capacity_used)
            ),
        },
        Stat { label: "Requests recorded", value: format::count(total_events) },
        Stat { label: "Analyses", value: format::count(total_analyses) },
    ];
    let ms = |x: f64| format!("{} ms", format::decimal(x, 1));
    let endpoints = endpoints
        .into_iter()
        .map(|e| EndpointRow {
            requests: format::count(e.requests),
            errors: format!("{} ({})", format::count(e.errors), format::percent(e.error_rate)),
            p50: ms(e.p50_ms),
            p95: ms(e.p95_ms),
            p99: ms(e.p99_ms),
            method: e.method,
            endpoint: e.endpoint,
        })
        .collect();
    let jira_total = format::count(jira.iter().map(|c| c.calls).sum());
    let jira = jira
        .into_iter()
        .map(|c| JiraRow {
            status: if c.status == 0 { "no answer".to_owned() } else { c.status.to_string() },
            calls: format::count(c.calls),
            endpoint: c.endpoint,
        })
        .collect();
    let departments = report::department_breakdown(&rollups)
        .into_iter()
        .map(|d| DepartmentRow {
            events: format::count(d.events),
            analyses: format::count(d.analyses),
            users: format::count(d.peak_daily_users),
            department: d.department,
        })
        .collect();
    Ok(UsagePage {
        layout: Layout::new("Usage", None),
        day_choices: [7, 30, 90, 365].iter().map(|n| (*n, *n == days)).collect(),
        from: format::day(from),
        to: format::day(last),
        stats,
        usage_chart,
        projects_chart,
        features_chart,
        endpoints,
        jira,
        jira_total,
        departments,
    })
}

/// One account as the users page lists it.
struct AccountRow {
    id: i64,
    name: String,
    email: String,
    department: String,
    admin: bool,
    active: bool,
    created: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    csrf_token: String,
    notice: Option<String>,
    accounts: Vec<AccountRow>,
}

/// `GET /admin/users`: every account, with forms to disable or enable it and set its role.
pub async fn users(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let page = async {
        let accounts = state.auth.accounts().await?;
        let changed = pairs
            .iter()
            .find(|(name, _)| name == "changed")
            .and_then(|(_, id)| id.parse::<i64>().ok())
            .and_then(|id| accounts.iter().find(|a| a.id == id));
        let notice = changed.map(|account| format!("{} was changed.", account.email));
        let accounts = accounts
            .iter()
            .map(|a| AccountRow {
                id: a.id,
                name: a.name.clone(),
                email: a.email.clone(),
                department: a.department.clone().unwrap_or_default(),
                admin: a.role == Role::Admin,
                active: a.active,
                created: format::day(a.created_at),
                is_self: a.id == viewer.who.account.id,
            })
            .collect();
        render(&UsersPage {
            layout: Layout::new("Users", Some(viewer.nav(Section::Admin))),
            csrf_token: viewer.who.csrf_token.clone(),
            notice,
            accounts,
        })
    };
    viewer.respond(page.await)
}

/// The account form: the CSRF token and one change.
#[derive(Debug, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    active: Option<String>,
}

/// `POST /admin/users/{id}`: changes an account's role or active flag as
/// `PATCH /api/admin/users/{id}` does (audit log included), then back to the list.
pub async fn change_user(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    ApiPath(id): ApiPath<i64>,
    PageForm(form): PageForm<AccountForm>,
) -> Response {
    let changed = async {
        viewer.check_csrf(&form.csrf_token)?;
        let role = form.role.as_deref().map(str::parse::<Role>).transpose()?;
        let active = match form.active.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                let message = format!("expected true or false; got {other:?}");
                return Err(bugdash::Error::invalid("active", message).into());
            }
        };
        let admin = AdminUser(CurrentUser {
            who: viewer.who.clone(),
            credential: Credential::Cookie(viewer.token.clone()),
        });
        let change = UserChange { role, active, password: None };
        let update = crate::routes::usage::update_user(
            State(state.clone()),
            admin,
            ApiPath(id),
            ApiJson(change),
        );
        let _account = update.await?;
        Ok(see_other(&format!("/admin/users?changed={id}")))
    };
    viewer.respond(changed.await)
}

/// One project as the sync page lists it.
struct SyncRow {
    key: String,
    issues: String,
    synced: Option<When>,
    census: Option<When>,
    running: bool,
    last_outcome: String,
    last_run: Option<When>,
}

/// One recorded run.
struct RunRow {
    project: String,
    kind: String,
    outcome: String,
    started: When,
    took: String,
    api_calls: String,
    issues: String,
    errors: String,
}

#[derive(Template)]
#[template(path = "admin_sync.html")]
struct SyncPage {
    layout: Layout,
    csrf_token: String,
    jira_configured: bool,
    notice: Option<String>,
    refusal: Option<String>,
    projects: Vec<SyncRow>,
    runs: Vec<RunRow>,
}

/// `GET /admin/sync`: each project's sync state and the latest runs, with a button to sync.
pub async fn sync(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let page = async {
        let store = state.store.as_ref();
        let projects = store.projects().await?;
        let status = state.syncs.status(store, RUNS).await?;
        let (notice, refusal) = outcome_words(&pairs);
        let rows = projects
            .into_iter()
            .map(|project| {
                let last = status.recent.iter().find(|run| run.project == project.key);
                let sync = project.sync.as_ref();
                SyncRow {
                    running: status.running.iter().any(|r| r.project == project.key),
                    issues: format::count(project.issues),
                    synced: sync.and_then(|s| s.watermark).map(When::of),
                    census: sync.and_then(|s| s.last_census).map(When::of),
                    last_outcome: last.map_or_else(String::new, |run| run.outcome.clone()),
                    last_run: last.map(|run| When::of(run.started_at)),
                    key: project.key,
                }
            })
            .collect();
        let runs = status.recent.iter().map(run_row).collect();
        render(&SyncPage {
            layout: Layout::new("Sync", Some(viewer.nav(Section::Admin))),
            csrf_token: viewer.who.csrf_token.clone(),
            jira_configured: state.settings.jira.url.is_some(),
            notice,
            refusal,
            projects: rows,
            runs,
        })
    };
    viewer.respond(page.await)
}

fn run_row(run: &bugdash::store::SyncRun) -> RunRow {
    let took = run.finished_at.map_or_else(
        || "–".to_owned(),
        |end| {
            format!(
                "{} s",
                format::decimal((end.millis() - run.started_at.millis()) as f64 / 1000.0, 1)
            )
        },
    );
    RunRow {
        project: run.project.clone(),
        kind: run.kind.clone(),
        outcome: run.outcome.clone(),
        started: When::of(run.started_at),
        took,
        api_calls: format::count(run.api_calls),
        issues: format::count(run.issues_written),
        errors: run.errors.join("; "),
    }
}

/// The words for the outcome the address names: a notice or a refusal.
fn outcome_words(pairs: &[(String, String)]) -> (Option<String>, Option<String>) {
    let value =
        |wanted: &str| pairs.iter().find(|(name, _)| name == wanted).map(|(_, v)| v.as_str());
    if let Some(key) = value("started").and_then(|key| project_key(key).ok()) {
        let full = if value("full") == Some("true") { "full " } else { "" };
        return (
            Some(format!("A {full}sync of {key} started; reload this page to follow it.")),
            None,
        );
    }
    let Some(key) = value("refused").and_then(|key| project_key(key).ok()) else {
        return (None, None);
    };
    let words = match value("reason") {
        Some("busy") => format!("A sync of {key} is already running."),
        Some("not_configured") => {
            "JIRA is not configured on this service, so no sync can start (set JIRA_URL and \
             its credentials)."
                .to_owned()
        }
        Some("upstream_failed") => format!("JIRA could not be reached to sync {key}."),
        _ => format!("The sync of {key} could not start."),
    };
    (None, Some(words))
}

/// The sync form: the CSRF token, and whether to read everything again.
#[derive(Debug, Deserialize)]
pub struct SyncForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    full: Option<String>,
}

/// `POST /admin/sync/{key}`: starts a background sync as `POST
/// /api/admin/projects/{key}/sync` does, then back to the sync page.
pub async fn start_sync(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
    ApiPath(key): ApiPath<String>,
    PageForm(form): PageForm<SyncForm>,
) -> Response {
    let started = async {
        viewer.check_csrf(&form.csrf_token)?;
        let key = project_key(&key).map_err(|m| bugdash::Error::invalid("project key", m))?;
        let full = matches!(form.full.as_deref(), Some("on" | "true" | "1"));
        let store = state.store.clone();
        match state.syncs.start(store, &state.settings, &key, full).await {
            Ok(_) => {
                tracing::info!(by = viewer.who.account.id, project = %key, full, "sync started");
                let full = if full { "&full=true" } else { "" };
                Ok(see_other(&format!("/admin/sync?started={}{full}", format::encode(&key))))
            }
            Err(error) => {
                let reason = ApiError::from(error);
                let code = reason.report().code;
                if !matches!(code, "busy" | "not_configured" | "upstream_failed") {
                    return Err(reason);
                }
                let key = format::encode(&key);
                Ok(see_other(&format!("/admin/sync?refused={key}&reason={code}")))
            }
        }
    };
    viewer.respond(started.await)
}
