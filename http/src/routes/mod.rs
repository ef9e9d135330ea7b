//! Every route in one table: the router and the OpenAPI document are both built from it,
//! so no route can go undocumented.

pub mod admin;
pub mod auth;
pub mod projects;
pub mod system;
pub mod usage;

use std::sync::LazyLock;

use axum::routing::{delete, get, patch, post, MethodRouter};
use axum::Json;
use serde::Serialize;

use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in user (cookie session or bearer token).
    User,
    /// A signed-in admin.
    Admin,
}

/// One route: method, path template, who may call it, what it does, its query
/// parameters and its handler.
pub struct Route {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// Path template, such as `/api/projects/{key}/analysis`.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does, in one line.
    pub summary: &'static str,
    /// The query parameters it takes.
    pub query: &'static [&'static str],
    /// The JSON body it takes, described in words, when it takes one.
    pub body: Option<&'static str>,
    /// The handler.
    pub handler: fn() -> MethodRouter<AppState>,
}

/// The query parameters of the issue list: paging, then every analysis filter.
static ISSUE_QUERY: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| [&projects::PAGING[..], bugdash::service::options::FILTER_NAMES].concat());

/// Every route of the service.
pub fn routes() -> Vec<Route> {
    use Access::{Admin, Public, User};
    let analysis_query: &'static [&'static str] = &bugdash::service::options::OPTION_NAMES;
    vec![
        route("GET", "/healthz", Public, "200 while the process is up", &[], None, || get(health)),
        route("GET", "/api/openapi.json", Public, "This document", &[], None, || {
            get(crate::openapi::document)
        }),
        route(
            "POST",
            "/api/auth/login",
            Public,
            "Start a session (cookie) and get the CSRF token",
            &[],
            Some("{\"email\": string, \"password\": string}"),
            || post(auth::login),
        ),
        route("POST", "/api/auth/logout", User, "End the current session", &[], None, || {
            post(auth::logout)
        }),
        route("GET", "/api/auth/me", User, "The caller's account and session", &[], None, || {
            get(auth::me)
        }),
        route("GET", "/api/auth/sessions", User, "The caller's live sessions", &[], None, || {
            get(auth::sessions)
        }),
        route(
            "DELETE",
            "/api/auth/sessions/{id}",
            User,
            "Revoke one of the caller's sessions",
            &[],
            None,
            || delete(auth::revoke_session),
        ),
        route(
            "POST",
            "/api/auth/token",
            User,
            "A short-lived JWT bound to the session",
            &[],
            None,
            || post(auth::token),
        ),
        route(
            "GET",
            "/api/projects",
            User,
            "Projects with risk summary and data freshness",
            &[],
            None,
            || get(projects::list),
        ),
        route(
            "GET",
            "/api/projects/{key}/analysis",
            User,
            "The report JSON of `bugdash analyze --format json` (key ALL: every project)",
            analysis_query,
            None,
            || get(projects::analysis),
        ),
        route(
            "GET",
            "/api/projects/{key}/issues",
            User,
            "Issues matching the filters, paged",
            ISSUE_QUERY.as_slice(),
            None,
            || get(projects::issues),
        ),
        route(
            "GET",
            "/api/projects/{key}/areas.csv",
            User,
            "The analysis areas as CSV",
            analysis_query,
            None,
            || get(projects::areas_csv),
        ),
        route(
            "GET",
            "/api/projects/{key}/issues.csv",
            User,
            "Issues matching the filters as CSV",
            ISSUE_QUERY.as_slice(),
            None,
            || get(projects::issues_csv),
        ),
        route("GET", "/api/admin/users", Admin, "Every account", &[], None, || get(admin::users)),
        route(
            "POST",
            "/api/admin/users",
            Admin,
            "Create an account",
            &[],
            Some("{\"email\", \"name\", \"department\"?, \"role\"?: user|admin, \"password\"}"),
            || post(usage::create_user),
        ),
        route(
            "PATCH",
            "/api/admin/users/{id}",
            Admin,
            "Change role, active flag or password",
            &[],
            Some("{\"role\"?: user|admin, \"active\"?: bool, \"password\"?: string}"),
            || patch(usage::update_user),
        ),
        route(
            "POST",
            "/api/admin/projects/{key}/sync",
            Admin,
            "Start a background sync from JIRA (409 while one runs)",
            &["full"],
            None,
            || post(admin::start_sync),
        ),
        route("GET", "/api/admin/sync", Admin, "Running syncs and recent runs", &[], None, || {
            get(admin::sync_status)
        }),
        route(
            "GET",
            "/api/system/status",
            Admin,
            "Database, cache, JIRA, jobs, version and uptime; degraded parts named",
            &[],
            None,
            || get(system::status),
        ),
        route(
            "GET",
            "/readyz",
            Public,
            "200 when database and cache answer, else 503",
            &[],
            None,
            || get(system::readyz),
        ),
        route("GET", "/metrics", Public, "Prometheus metrics (text format)", &[], None, || {
            get(system::metrics)
        }),
        route(
            "GET",
            "/api/usage/me",
            User,
            "The caller's own usage events",
            &["days", "limit"],
            None,
            || get(usage::my_activity),
        ),
        route(
            "GET",
            "/api/admin/usage/realtime",
            Admin,
            "Active users (5, 15 min), sessions, capacity",
            &[],
            None,
            || get(usage::realtime),
        ),
        route(
            "GET",
            "/api/admin/usage/trends",
            Admin,
            "Usage per day, week or month",
            &["period", "days"],
            None,
            || get(usage::trends),
        ),
        route(
            "GET",
            "/api/admin/usage/projects",
            Admin,
            "Projects, most analysed first",
            &["days"],
            None,
            || get(usage::projects),
        ),
        route("GET", "/api/admin/usage/features", Admin, "Feature usage", &["days"], None, || {
            get(usage::features)
        }),
        route(
            "GET",
            "/api/admin/usage/departments",
            Admin,
            "Usage per department",
            &["days"],
            None,
            || get(usage::departments),
        ),
        route(
            "GET",
            "/api/admin/usage/endpoints",
            Admin,
            "Latency p50/p95/p99 and error rate per endpoint",
            &["days"],
            None,
            || get(usage::endpoints),
        ),
        route(
            "GET",
            "/api/admin/usage/jira",
            Admin,
            "JIRA API calls of every instance's syncs by endpoint and status",
            &["days"],
            None,
            || get(usage::jira_calls),
        ),
        route(
            "GET",
            "/api/admin/usage/users/{id}/activity",
            Admin,
            "One account's usage events",
            &["days", "limit"],
            None,
            || get(usage::user_activity),
        ),
        route(
            "GET",
            "/api/admin/usage/report",
            Admin,
            "Usage report over N days (JSON, or CSV days)",
            &["days", "format"],
            None,
            || get(usage::usage_report),
        ),
        route(
            "GET",
            "/api/admin/audit",
            Admin,
            "Admin actions with old and new values",
            &["limit"],
            None,
            || get(usage::audit_log),
        ),
        route(
            "GET",
            "/api/admin/jobs",
            Admin,
            "Each job's schedule and latest run",
            &[],
            None,
            || get(usage::jobs),
        ),
        route(
            "POST",
            "/api/admin/jobs/{name}/run",
            Admin,
            "Run a job now (409 while it runs)",
            &[],
            None,
            || post(usage::run),
        ),
    ]
}

fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    query: &'static [&'static str],
    body: Option<&'static str>,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route { method, path, access, summary, query, body, handler }
}

/// `GET /healthz` answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// 200 while the process is up.
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}
