//! Usage events and request metrics of the pages, as [`crate::recording::record`] makes them
//! for the API, with actions named after what a page is for: the project page is an
//! analysis (`analyze_project`, its filters recorded by name), the issue list
//! `view_issues`, the admin usage page `view_trends`, a sync button `start_sync`.
//!
//! The identity comes the same way: the page extractor notes the caller in the request's
//! [`CallerSlot`], and a successful sign-in is read back from the cookie it sets.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use bugdash::analytics::{Action, Event};
use bugdash::auth::{Clock, SystemClock};

use crate::extract::client_of;
use crate::recording::{
    filter_names, login_caller, path_parameter, session_token, CallerSlot, UNMATCHED,
};
use crate::state::AppState;

/// The action a page request of `method` on the route `template` stands for.
pub fn page_action(method: &Method, template: &str) -> Action {
    match (method.as_str(), template) {
        ("POST", "/login") => Action::Login,
        ("POST", "/logout") => Action::Logout,
        ("GET", "/projects") => Action::ViewProjects,
        ("GET", "/projects/{key}") => Action::AnalyzeProject,
        ("GET", "/projects/{key}/issues") => Action::ViewIssues,
        ("GET", "/admin") => Action::ViewTrends,
        ("POST", "/admin/sync/{key}") => Action::StartSync,
        ("POST", t) if t.starts_with("/admin/") => Action::AdminAction,
        _ => Action::ApiCall,
    }
}

/// Counts every page request in the metrics and records signed-in ones as events.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let slot = CallerSlot::default();
    parts.extensions.insert(slot.clone());
    let method = parts.method.clone();
    let endpoint = parts
        .extensions
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let uri = parts.uri.clone();
    let client_addr = client_of(&parts, &state).addr.map(|addr| addr.to_string());
    let at = SystemClock.now();
    let started = Instant::now();

    let response = next.run(Request::from_parts(parts, body)).await;

    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.observe_request(method.as_str(), &endpoint, status, seconds);
    if status == 429 {
        let login = endpoint == "/login";
        state.metrics.observe_rate_limited(if login { "login" } else { "api" });
    }
    let Some(recorder) = &state.recorder else { return response };
    let caller = match slot.get() {
        Some(caller) => Some(caller.clone()),
        None if endpoint == "/login" && response.status() == StatusCode::SEE_OTHER => {
            let token = session_token(&response);
            login_caller(&state, token).await
        }
        None => None,
    };
    let Some(caller) = caller else { return response };
    let filters = page_filters(uri.query());
    recorder.record(Event {
        account_id: Some(caller.account_id),
        session_id: Some(caller.session_id),
        department: caller.department,
        project: path_parameter(&endpoint, uri.path(), "{key}"),
        filters: (!filters.is_empty()).then(|| serde_json::json!(filters)),
        method: Some(method.to_string()),
        endpoint: Some(endpoint.clone()),
        status: Some(status),
        latency_ms: Some(seconds * 1000.0),
        client_addr,
        ..Event::new(page_action(&method, &endpoint), at)
    });
    response
}

/// Query parameters that move around a page rather than choose what it shows.
const NAVIGATION: [&str; 3] = ["page", "back", "next"];

/// The names of the filters a page view used: its query's names without the navigation
/// ones (a page number or the way back is not a filter anyone applied).
fn page_filters(query: Option<&str>) -> Vec<String> {
    let mut names = filter_names(query);
    names.retain(|name| !NAVIGATION.contains(&name.as_str()));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_recorded_as_the_feature_they_stand_for() {
        assert_eq!(page_action(&Method::GET, "/projects/{key}"), Action::AnalyzeProject);
        assert_eq!(page_action(&Method::GET, "/projects/{key}/issues"), Action::ViewIssues);
        assert_eq!(page_action(&Method::POST, "/admin/sync/{key}"), Action::StartSync);
        assert_eq!(page_action(&Method::POST, "/admin/users/{id}"), Action::AdminAction);
        assert_eq!(page_action(&Method::GET, "/admin/users"), Action::ApiCall);
    }

    #[test]
    fn page_numbers_and_ways_back_are_not_recorded_as_filters() {
        let query = "component=server&page=2&back=%2Fprojects%2FZOOKEEPER%3Fwindow%3D30&window=30";

        assert_eq!(page_filters(Some(query)), ["component", "window"]);
        assert!(page_filters(Some("page=3")).is_empty());
    }
}
