//! Error pages: the pages' counterpart of [`crate::middleware::error_bodies`].
//!
//! A page handler or extractor fails with the same [`ApiError`] as the API, so one table
//! still decides status, code and words; this layer writes them as an HTML page instead of
//! the JSON body, and logs each error once as the API's layer does. A page that renders its
//! own answer with an error status (the sign-in form after a failed attempt) carries
//! [`Rendered`] and passes through untouched.
//!
//! One refusal is worded for people rather than as the API words it: a form refused for
//! its CSRF token or its origin (see [`FORM_REFUSED`]), since a person cannot send headers.
//!
//! [`ApiError`]: crate::error::ApiError

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::view::{Layout, Link, Nav};
use crate::error::{ErrorReport, INTERNAL_MESSAGE};
use crate::middleware::request_id;

/// What a page says when a form is refused for its CSRF token or its origin: the API's
/// words name a header that a form cannot send.
pub const FORM_REFUSED: &str =
    "This form has expired or did not come from BugDash; go back, reload the page and try again.";

/// Marks a response whose body is already the page to show.
#[derive(Debug, Clone, Copy)]
pub struct Rendered;

/// What an error page shows beyond the error: the navigation of the person who met it and
/// where to go on from.
#[derive(Debug, Clone, Default)]
pub struct ErrorContext {
    /// The navigation, when the person is known.
    pub nav: Option<Nav>,
    /// Where to go back to.
    pub back: Option<Link>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
    code: &'static str,
    request_id: String,
    ours: bool,
    back: Option<Link>,
}

/// Turns every error response of a page route into an error page.
pub async fn html_errors(request: Request, next: Next) -> Response {
    let request_id = request_id(request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if !failed || response.extensions().get::<Rendered>().is_some() {
        return response;
    }
    let report = response.extensions().get::<ErrorReport>().cloned();
    let report = report.unwrap_or_else(|| fallback_report(status));
    log(&report);
    let context = response.extensions().get::<ErrorContext>().cloned().unwrap_or_default();
    let message = match report.code {
        "csrf_refused" => FORM_REFUSED.to_owned(),
        _ => report.message.clone(),
    };
    let page = ErrorPage {
        layout: Layout::new(heading(status), context.nav),
        status: status.as_u16(),
        heading: heading(status),
        message,
        code: report.code,
        ours: report.category == "internal",
        request_id,
        back: context.back,
    };
    let body = page.render().unwrap_or_else(|_| {
        // The template cannot fail on these fields; plain words rather than nothing if it does.
        format!("{} {}", status.as_u16(), heading(status))
    });
    let (mut parts, _) = response.into_parts();
    let html = HeaderValue::from_static("text/html; charset=utf-8");
    parts.headers.insert(header::CONTENT_TYPE, html);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The heading of the error page of `status`.
fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That request cannot be read",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Not here",
        408 => "That took too long",
        409 => "Already running",
        413 => "Too large",
        429 => "Too many requests",
        502 => "JIRA did not answer as expected",
        503 => "Busy right now",
        _ if status.is_client_error() => "That request cannot be served",
        _ => "Something went wrong on our side",
    }
}

/// The report of an error response made outside the handlers (a timeout, a body limit, a
/// method the route does not take), as the API's layer words it.
fn fallback_report(status: StatusCode) -> ErrorReport {
    let (code, category, message) = match status.as_u16() {
        404 => ("not_found", "request", "there is no such page".to_owned()),
        405 => ("method_not_allowed", "request", "this page does not accept that method".into()),
        408 => ("request_timeout", "request", "the request took too long".into()),
        413 => ("payload_too_large", "request", "the request body is too large".into()),
        429 => ("rate_limited", "limit", "too many requests".into()),
        503 => ("unavailable", "limit", "the service is busy; try again shortly".into()),
        400..=499 => ("bad_request", "request", "the request is malformed".into()),
        _ => ("internal", "internal", INTERNAL_MESSAGE.into()),
    };
    let cause = (category == "internal").then(|| format!("an error response {status}"));
    ErrorReport { status, code, category, message, cause }
}

/// Logs an error once, at the level the service's logging rules give its category.
fn log(report: &ErrorReport) {
    match (report.category, &report.cause) {
        (_, Some(cause)) => tracing::error!(code = report.code, "page failed: {cause}"),
        ("auth", _) => tracing::warn!(code = report.code, "page refused: {}", report.message),
        ("config", _) => {
            tracing::warn!(code = report.code, "page not configured: {}", report.message)
        }
        _ => tracing::debug!(code = report.code, "page refused: {}", report.message),
    }
}
