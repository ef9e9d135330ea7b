//! The web dashboard: pages rendered on the server over the same core calls as the API.
//!
//! Every page is HTML made from a compile-time checked template (askama) that escapes all
//! it inserts, so text from JIRA never becomes markup; the one exception is the SVG of
//! [`charts`], escaped where it is drawn. Pages carry no inline script or style, so the
//! service's Content-Security-Policy holds for them as for the API. Stylesheet and icon are
//! compiled into the binary and served under `/assets/` with a content hash in their
//! names, cached by browsers for a year.
//!
//! The pages sit beside the API in one router but under layers of their own (see
//! [`crate::app_with`]): an error becomes an HTML page (see [`error`]) rather than the
//! API's JSON body, and a request becomes a usage event named after the feature the page
//! stands for (see [`usage`]). Load shedding, the body limit and the timeout are the API's.
//!
//! Who may see a page follows the API's rules: a signed-out visitor is sent to `/login`
//! with the page to come back to, a user who is not an admin gets a 403 page on admin
//! pages. Forms that change something carry the session's CSRF token in a hidden field.

mod admin;
mod assets;
pub mod charts;
mod drill;
pub mod error;
mod filters;
mod format;
mod issues;
mod login;
mod projects;
mod report_view;
mod session;
pub mod usage;
mod view;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

/// Every page route: `(method, path template)`, as [`routes`] registers them.
pub const PAGES: [(&str, &str); 13] = [
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/projects"),
    ("GET", "/projects/{key}"),
    ("GET", "/projects/{key}/issues"),
    ("GET", "/admin"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users/{id}"),
    ("GET", "/admin/sync"),
    ("POST", "/admin/sync/{key}"),
    ("GET", "/assets/{file}"),
];

/// Paths of the API and of the service's own endpoints: a path under them that no route
/// matches answers as the API does (JSON), any other as a page (HTML).
const API_PREFIXES: [&str; 4] = ["/api", "/metrics", "/healthz", "/readyz"];

/// True for a path that belongs to the pages rather than to the API (see `API_PREFIXES`).
pub fn is_page_path(path: &str) -> bool {
    !API_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The 404 page of a path no page matches, with the navigation of a signed-in person.
pub async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let error = ApiError::NotFound("there is no such page".into());
    match session::viewer_of(&headers, &state).await {
        Some(viewer) => viewer.refuse(error),
        None => error.into_response(),
    }
}

/// The page routes without layers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(login::root))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/projects", get(projects::list))
        .route("/projects/{key}", get(projects::project))
        .route("/projects/{key}/issues", get(issues::issues))
        .route("/admin", get(admin::usage))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}", post(admin::change_user))
        .route("/admin/sync", get(admin::sync))
        .route("/admin/sync/{key}", post(admin::start_sync))
        .route("/assets/{file}", get(assets::asset_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_stay_the_apis_and_the_rest_are_pages() {
        for api in ["/api", "/api/nope", "/metrics", "/healthz", "/readyz/x"] {
            assert!(!is_page_path(api), "{api}");
        }
        for page in ["/nope", "/projects/ZOOKEEPER/nope", "/admin/nope", "/apidocs", "/metricsx"] {
            assert!(is_page_path(page), "{page}");
        }
    }
}
