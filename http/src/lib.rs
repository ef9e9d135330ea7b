//! BugDash's HTTP service: the JSON API over the core, and the web dashboard's pages.
//!
//! [`app`] builds the whole service as a [`Router`], so tests run it in memory or on port
//! 0 and `bugdash serve` on its address. Handlers translate HTTP to one core call each;
//! every rule lives in the core crate.
//!
//! The service sheds load rather than queue without bound: past
//! [`ServiceLimits::max_in_flight`] requests being answered at once, the next is refused
//! at once with 503 `unavailable` and `Retry-After: 1`, so a burst degrades into quick
//! refusals the client may retry instead of ever longer waits for everyone.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod recording;
pub mod routes;
pub mod state;
pub mod web;

use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// Largest request body accepted (logins and account changes are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A request taking longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Requests answered at once before the service sheds load (see the crate documentation):
/// enough for a thousand keep-alive clients each waiting on one answer.
pub const MAX_IN_FLIGHT: usize = 1024;

/// Limits of the service as a whole (per-user limits are the core's rate limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLimits {
    /// Requests being answered at once; the next is refused with 503 and Retry-After.
    pub max_in_flight: usize,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits { max_in_flight: MAX_IN_FLIGHT }
    }
}

/// The service with the default [`ServiceLimits`]: every route of [`routes::routes`] with
/// its layers.
pub fn app(state: AppState) -> Router {
    app_with(state, ServiceLimits::default())
}

/// The service with the given limits: the API routes and the dashboard pages, each under
/// their own error and usage layers (JSON bodies for the API, HTML pages for the pages),
/// sharing one load-shedding limit and the outer layers.
pub fn app_with(state: AppState, limits: ServiceLimits) -> Router {
    // Inside the error layers, so that a shed request gets the usual error shape. The
    // router applies a layer to each route: a global limit shares one count among them,
    // and the clone given to the pages shares it too.
    let shedding = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async { middleware::overloaded() }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.max_in_flight.max(1)));
    let mut api = Router::new();
    for route in routes::routes() {
        api = api.route(route.path, (route.handler)());
    }
    let api = api
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(shedding.clone())
        .layer(axum::middleware::from_fn_with_state(state.clone(), recording::record))
        .layer(axum::middleware::from_fn(middleware::error_bodies));
    let pages = web::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(shedding)
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::usage::record))
        .layer(axum::middleware::from_fn(web::error::html_errors));
    api.merge(pages)
        .fallback_service(missing_route(&state))
        .layer(TraceLayer::new_for_http().make_span_with(middleware::request_span))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(PropagateRequestIdLayer::new(middleware::REQUEST_ID))
        .layer(SetRequestIdLayer::new(middleware::REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::screen_request_id))
        .with_state(state)
}

/// What answers a request no route matches: under the API's paths the API's JSON 404, and
/// elsewhere the dashboard's 404 page, each under its side's error and usage layers.
fn missing_route(state: &AppState) -> Router {
    let api = Router::new()
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn_with_state(state.clone(), recording::record))
        .layer(axum::middleware::from_fn(middleware::error_bodies))
        .with_state(state.clone());
    let pages = Router::new()
        .fallback(web::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::usage::record))
        .layer(axum::middleware::from_fn(web::error::html_errors))
        .with_state(state.clone());
    Router::new().fallback_service(tower::service_fn(move |request: Request| {
        let side = if web::is_page_path(request.uri().path()) { &pages } else { &api };
        side.clone().oneshot(request)
    }))
}
