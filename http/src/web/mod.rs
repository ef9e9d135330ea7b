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

use axum::routing::{get, post};
use axum::Router;

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
