//! The one error type of the service and the one table that maps every error to an HTTP
//! status, a stable `code` and a category.
//!
//! Every error body has the same shape, `{"error":{"code","message","request_id"}}`. The
//! caller's mistakes are described in words; our own faults reach the caller as a neutral
//! message with the request id, and the log in full, once (see [`crate::middleware`]).

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Everything a handler or extractor can answer with instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A core error; the table decides whose fault it is.
    #[error(transparent)]
    Core(#[from] bugdash::Error),
    /// The request is malformed: bad JSON, a bad query or path parameter.
    #[error("{0}")]
    BadRequest(String),
    /// No such route, project or record.
    #[error("{0}")]
    NotFound(String),
    /// The route exists, but not for this method.
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    /// A cookie-authenticated write without a matching Origin, Referer or CSRF token.
    #[error("cross-site request refused: send the X-CSRF-Token given at login, or an Origin of this service")]
    Csrf,
    /// The body is larger than the service accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The service is too busy right now (or shutting down).
    #[error("the service is busy; try again shortly")]
    Unavailable {
        /// When to try again.
        retry_after: Duration,
    },
    /// A fault of ours outside the core, with its cause for the log.
    #[error("{0}")]
    Internal(String),
}

/// How one error is shown: status, stable code, category and the words for the caller.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, such as `rate_limited`.
    pub code: &'static str,
    /// `request` (the caller's mistake), `auth`, `limit`, `config` (a setting the operator
    /// must give, named in the message) or `internal`.
    pub category: &'static str,
    /// The message for the caller.
    pub message: String,
    /// For internal faults, the full cause chain, for the log only.
    pub cause: Option<String>,
}

/// Every code the service answers with, its status and category, for the OpenAPI
/// document and the API documentation.
pub const CODES: [(&str, u16, &str); 19] = [
    ("bad_request", 400, "request"),
    ("invalid_parameter", 400, "request"),
    ("invalid_input", 400, "request"),
    ("unauthorized", 401, "auth"),
    ("forbidden", 403, "auth"),
    ("csrf_refused", 403, "auth"),
    ("not_found", 404, "request"),
    ("method_not_allowed", 405, "request"),
    ("request_timeout", 408, "request"),
    ("conflict", 409, "request"),
    ("busy", 409, "request"),
    ("payload_too_large", 413, "request"),
    ("unsupported_media_type", 415, "request"),
    ("rate_limited", 429, "limit"),
    ("internal", 500, "internal"),
    ("upstream_failed", 502, "internal"),
    ("capacity", 503, "limit"),
    ("unavailable", 503, "limit"),
    ("not_configured", 503, "config"),
];

/// The neutral words our own faults are shown with.
pub const INTERNAL_MESSAGE: &str =
    "something went wrong on our side; quote the request id when reporting it";

fn report(status: u16, code: &'static str, category: &'static str, message: String) -> ErrorReport {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ErrorReport { status, code, category, message, cause: None }
}

fn internal(code: &'static str, status: u16, cause: String) -> ErrorReport {
    ErrorReport { cause: Some(cause), ..report(status, code, "internal", INTERNAL_MESSAGE.into()) }
}

/// `error` and its sources on one line.
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

impl ApiError {
    /// THE table: how each error is shown.
    pub fn report(&self) -> ErrorReport {
        use bugdash::Error as E;
        let said = self.to_string();
        match self {
            ApiError::Core(core) => match core {
                E::InvalidParameter { .. } => report(400, "invalid_parameter", "request", said),
                E::Input { .. } => report(400, "invalid_input", "request", said),
                E::Unauthorized | E::LoginRefused => report(401, "unauthorized", "auth", said),
                E::Forbidden => report(403, "forbidden", "auth", said),
                E::NotFound { .. } => report(404, "not_found", "request", said),
                E::Conflict { .. } => report(409, "conflict", "request", said),
                E::Busy(_) => report(409, "busy", "request", said),
                E::RateLimited { .. } => report(429, "rate_limited", "limit", said),
                E::Capacity { .. } => report(503, "capacity", "limit", said),
                // The operator's to fix, not the caller's, yet worth saying: the message
                // names the missing setting and never a secret's value.
                E::Config(_) => report(503, "not_configured", "config", said),
                E::Jira(_) => internal("upstream_failed", 502, cause_chain(core)),
                _ => internal("internal", 500, cause_chain(core)),
            },
            ApiError::BadRequest(_) => report(400, "bad_request", "request", said),
            ApiError::NotFound(_) => report(404, "not_found", "request", said),
            ApiError::MethodNotAllowed => report(405, "method_not_allowed", "request", said),
            ApiError::Csrf => report(403, "csrf_refused", "auth", said),
            ApiError::PayloadTooLarge => report(413, "payload_too_large", "request", said),
            ApiError::UnsupportedMediaType(_) => {
                report(415, "unsupported_media_type", "request", said)
            }
            ApiError::Unavailable { .. } => report(503, "unavailable", "limit", said),
            ApiError::Internal(cause) => internal("internal", 500, cause.clone()),
        }
    }

    /// How long the caller should wait, for the errors that say.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Core(bugdash::Error::RateLimited { retry_after })
            | ApiError::Core(bugdash::Error::Capacity { retry_after })
            | ApiError::Unavailable { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Retry-After in whole seconds, at least one.
pub fn retry_after_value(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

impl IntoResponse for ApiError {
    /// The status and headers; the body is written by [`crate::middleware::error_bodies`],
    /// which knows the request id, from the [`ErrorReport`] left in the extensions.
    fn into_response(self) -> Response {
        let report = self.report();
        let mut response = report.status.into_response();
        if let Some(wait) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_value(wait));
        }
        response.extensions_mut().insert(report);
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_table_is_documented_with_its_status() {
        let samples = [
            ApiError::BadRequest("x".into()),
            ApiError::Core(bugdash::Error::invalid("window", "bad")),
            ApiError::Core(bugdash::Error::Unauthorized),
            ApiError::Core(bugdash::Error::RateLimited { retry_after: Duration::from_secs(3) }),
            ApiError::Core(bugdash::Error::Capacity { retry_after: Duration::from_secs(3) }),
            ApiError::Csrf,
            ApiError::Core(bugdash::Error::Config("JIRA_URL is not set".into())),
            ApiError::Unavailable { retry_after: Duration::from_secs(1) },
            ApiError::Internal("disk on fire".into()),
        ];
        for error in samples {
            let report = error.report();
            let row = CODES.iter().find(|(code, _, _)| *code == report.code);
            let (_, status, category) =
                row.unwrap_or_else(|| panic!("{} undocumented", report.code));
            assert_eq!((*status, *category), (report.status.as_u16(), report.category));
        }
    }

    #[test]
    fn a_missing_setting_is_named_and_not_an_internal_error() {
        let error = ApiError::Core(bugdash::Error::Config("JIRA_URL is not set".into()));
        let report = error.report();
        assert_eq!((report.status.as_u16(), report.code), (503, "not_configured"));
        assert!(report.message.contains("JIRA_URL") && report.cause.is_none());
    }

    #[test]
    fn our_faults_show_only_neutral_words() {
        let report = ApiError::Internal("password=hunter2 in a panic".into()).report();
        assert_eq!(report.message, INTERNAL_MESSAGE);
        assert!(report.cause.is_some_and(|cause| cause.contains("hunter2")));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_value(Duration::from_millis(1500)), HeaderValue::from(2u64));
        assert_eq!(retry_after_value(Duration::ZERO), HeaderValue::from(1u64));
    }
}
