//! Usage events and request metrics of the pages, as [`crate::recording::record`] makes them
//! for the API, with actions named after what a page is for: the project page is an
//! analysis (`analyze_project`, its filters recorded by name), the issue list
//! `view_issues`, the admin usage page `view_trends`, a sync button `start_sync`.
//!
//! The identity comes the same way: the page extractor notes the caller in the request's
//! [`CallerSlot`], and a successful sign-in is read back from the cookie it sets.

use std::borrow::Cow;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use bugdash::analytics::Action;

use crate::recording::{filter_names, login_caller, session_token, CallerSlot, Seen};
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
    let seen = Seen::of(&parts, &state);

    let response = next.run(Request::from_parts(parts, body)).await;

    let seconds = seen.started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.observe_request(seen.method.as_str(), &seen.endpoint, status, seconds);
    if status == 429 {
        let login = seen.endpoint == "/login";
        state.metrics.observe_rate_limited(if login { "login" } else { "api" });
    }
    let Some(recorder) = &state.recorder else { return response };
    let signed_in;
    let caller = match slot.get() {
        Some(caller) => Some(caller),
        None if seen.endpoint == "/login" && response.status() == StatusCode::SEE_OTHER => {
            signed_in = login_caller(&state, session_token(&response)).await;
            signed_in.as_ref()
        }
        None => None,
    };
    let Some(caller) = caller else { return response };
    let action = page_action(&seen.method, &seen.endpoint);
    let filters = page_filters(seen.uri.query());
    seen.record(recorder, caller, action, &filters, status, seconds);
    response
}

/// Query parameters that move around a page rather than choose what it shows.
const NAVIGATION: [&str; 3] = ["page", "back", "next"];

/// The names of the filters a page view used: its query's names without the navigation
/// ones (a page number or the way back is not a filter anyone applied).
fn page_filters(query: Option<&str>) -> Vec<Cow<'_, str>> {
    let mut names = filter_names(query);
    names.retain(|name| !NAVIGATION.contains(&name.as_ref()));
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
