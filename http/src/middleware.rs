//! Layers every response passes through: request ids and the request span, security
//! headers, and the one place error bodies are written and errors logged.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Span;

use crate::error::{ErrorReport, INTERNAL_MESSAGE};
use crate::state::AppState;

/// The header carrying the request id, in requests (from a proxy) and in every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request span: method, route template, request id, and the user once known (see
/// [`crate::extract`]).
pub fn request_span(request: &Request<Body>) -> Span {
    let route = route_template(request);
    let request_id = request_id(request.headers());
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
        user_id = tracing::field::Empty,
    )
}

/// Keeps a request id that came with the request only from a trusted proxy and only when
/// it looks like one (1 to 64 letters, digits, `-`, `_` or `.`); otherwise the service makes
/// its own. A client choosing its id could echo markup back, or reuse an earlier request's
/// id and muddle the log a person follows with it.
pub async fn screen_request_id(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let acceptable = state.settings.server.trust_proxy
        && request.headers().get(REQUEST_ID).is_some_and(|id| {
            let id = id.as_bytes();
            (1..=64).contains(&id.len())
                && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !acceptable {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// The request id of a request, as [`tower_http::request_id`] set it.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("none").to_owned()
}

/// True when the client reached the service over HTTPS: the public URL says so, or a
/// trusted proxy does.
pub fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    let server = &state.settings.server;
    if server.public_url.as_deref().is_some_and(|url| url.starts_with("https://")) {
        return true;
    }
    server.trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// What every response carries. The policy allows no inline script and no framing.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Adds the security headers, and HSTS over HTTPS.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let https = is_https(&state, request.headers());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Writes the body of every error response, logging each error once: our faults at error
/// with their cause, refused authentication and missing settings at warn, the caller's
/// other mistakes at debug.
/// Error responses made outside the handlers (a timeout, a body limit) get the same shape.
///
/// The error-level line is also what error reporting (Sentry, when the binary sets it up)
/// turns into an event, so it names the route template and the request id itself: never
/// the raw path, whose keys and ids may be the caller's data.
pub async fn error_bodies(request: Request<Body>, next: Next) -> Response {
    let request_id = request_id(request.headers());
    let route = route_template(&request);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let report = response.extensions().get::<ErrorReport>().cloned();
    let report = report.unwrap_or_else(|| fallback_report(status));
    log(&report, &route, &request_id);
    let body = serde_json::json!({
        "error": {"code": report.code, "message": report.message, "request_id": request_id}
    });
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body.to_string()))
}

fn fallback_report(status: StatusCode) -> ErrorReport {
    let (code, category, message) = match status.as_u16() {
        404 => ("not_found", "request", "no such route".to_owned()),
        405 => ("method_not_allowed", "request", "this route does not accept that method".into()),
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

/// The route template a request matched, such as `/api/projects/{key}/issues`.
fn route_template(request: &Request<Body>) -> String {
    let matched = request.extensions().get::<MatchedPath>();
    matched.map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned())
}

fn log(report: &ErrorReport, route: &str, request_id: &str) {
    match (report.category, &report.cause) {
        (_, Some(cause)) => {
            tracing::error!(code = report.code, route, request_id, "request failed: {cause}")
        }
        ("auth", _) => tracing::warn!(code = report.code, "refused: {}", report.message),
        ("config", _) => tracing::warn!(code = report.code, "not configured: {}", report.message),
        _ => tracing::debug!(code = report.code, "refused: {}", report.message),
    }
}

/// Answers 503 with Retry-After when the service sheds load.
pub fn overloaded() -> Response {
    crate::error::ApiError::Unavailable { retry_after: std::time::Duration::from_secs(1) }
        .into_response()
}
