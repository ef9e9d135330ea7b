//! Faults the fake injects on demand, with the bodies and headers real JIRA sends for
//! them (from `observed_error_responses.json` where a recording exists).

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::dataset::read_fixture;

/// The form of a 401 body: JIRA Cloud sends each of these depending on the path taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyForm {
    /// Plain text ("Basic authentication with passwords is deprecated …").
    Text,
    /// `{"message": …, "status-code": 401}`.
    Json,
    /// `<status><status-code>401</status-code><message>…</message></status>`.
    Xml,
}

/// One injected misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` set to the given text (or absent), and Cloud's HTML error
    /// page or a short JSON body.
    RateLimited {
        /// The `Retry-After` header value, if any.
        retry_after: Option<String>,
        /// True for the HTML page Cloud really sends.
        html_body: bool,
    },
    /// 503 with an HTML body and no `Retry-After`.
    Unavailable,
    /// The real answer, cut off after half its bytes (as a dropped proxy connection
    /// leaves it), sent as a complete HTTP response.
    TruncatedBody,
    /// 200 with an HTML login page instead of JSON.
    HtmlOk,
    /// The real answer, after this delay.
    Slow(Duration),
    /// 410 with the body Atlassian sends for the removed search.
    Gone,
    /// 401 with a body in this form.
    Unauthorized(BodyForm),
    /// 200 served anonymously, marked `X-Seraph-LoginReason: AUTHENTICATION_DENIED`.
    LoginDenied,
    /// 403 with `X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE`.
    Captcha,
    /// A Cloud page whose `nextPageToken` is the token it was asked with (used only on
    /// requests that carry a token).
    RepeatedToken,
    /// A Cloud page with no issues that says it is not the last.
    EmptyPageNotLast,
    /// A Data Center page cut to its first n issues, its total unchanged.
    ShortPage(usize),
    /// A Data Center page without its `total`.
    NoTotal,
}

impl Fault {
    /// The canned answer of a fault that replaces the real one.
    pub(crate) fn canned(&self, request_token: Option<&str>) -> Response {
        match self {
            Fault::RateLimited { retry_after, html_body } => {
                let mut response = if *html_body {
                    html(StatusCode::TOO_MANY_REQUESTS, &rate_limit_page())
                } else {
                    let body = r#"{"errorMessages":["Rate limit exceeded."]}"#;
                    (StatusCode::TOO_MANY_REQUESTS, [json_type()], body).into_response()
                };
                if let Some(value) = retry_after.as_deref().and_then(|v| v.parse().ok()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            Fault::Unavailable => html(
                StatusCode::SERVICE_UNAVAILABLE,
                "<html><head><title>503 Service Unavailable</title></head></html>",
            ),
            Fault::HtmlOk => html(
                StatusCode::OK,
                "<!DOCTYPE html><html><head><title>Log in - JIRA</title></head>\
                 <body><form id=\"login-form\"></form></body></html>",
            ),
            Fault::Gone => {
                let body = observed("cloud_410_search_removed")["body"].to_string();
                (StatusCode::GONE, [json_type()], body).into_response()
            }
            Fault::Unauthorized(form) => unauthorized(*form),
            Fault::LoginDenied => {
                let body = observed("server_200_auth_denied")["body"].to_string();
                let reason = ("x-seraph-loginreason", "AUTHENTICATION_DENIED");
                (StatusCode::OK, [json_type()], [reason], body).into_response()
            }
            Fault::Captcha => {
                let headers = &observed("server_403_captcha")["headers"];
                let denied = headers["X-Authentication-Denied-Reason"].as_str().unwrap_or("");
                let reason = ("x-authentication-denied-reason", denied.to_owned());
                let page = "<html><head><title>Forbidden</title></head></html>";
                let mut response = html(StatusCode::FORBIDDEN, page);
                if let Ok(value) = HeaderValue::from_str(&reason.1) {
                    response.headers_mut().insert(reason.0, value);
                }
                response
            }
            Fault::EmptyPageNotLast => {
                let token = request_token.map_or("fake-empty".to_owned(), |t| format!("{t}x"));
                let body =
                    serde_json::json!({"issues": [], "isLast": false, "nextPageToken": token});
                (StatusCode::OK, [json_type()], body.to_string()).into_response()
            }
            Fault::TruncatedBody
            | Fault::Slow(_)
            | Fault::RepeatedToken
            | Fault::ShortPage(_)
            | Fault::NoTotal => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// The recorded entry with this id from `observed_error_responses.json`.
pub fn observed(id: &str) -> Value {
    let all = read_fixture("observed_error_responses.json");
    let responses = all["responses"].as_array().cloned().unwrap_or_default();
    responses
        .into_iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("observed_error_responses.json has no entry {id}"))
}

fn unauthorized(form: BodyForm) -> Response {
    let entry = observed("cloud_401_basic_password");
    let variants = entry["variants"].as_array().cloned().unwrap_or_default();
    let (content_type, body) = match form {
        BodyForm::Text => ("text/plain", entry["body_text"].as_str().unwrap_or("").to_owned()),
        BodyForm::Json => ("application/json", variants[0]["body"].to_string()),
        BodyForm::Xml => {
            ("application/xml", variants[1]["body_text"].as_str().unwrap_or("").to_owned())
        }
    };
    (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Cloud's 429 page: the recorded beginning, closed so it is a whole page.
fn rate_limit_page() -> String {
    let prefix = observed("cloud_429_html")["body_prefix"].as_str().unwrap_or("").to_owned();
    format!("{prefix}</head><body class=\"error-page error429\"></body></html>")
}

fn html(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html;charset=UTF-8")], body.to_owned()).into_response()
}

pub(crate) fn json_type() -> (header::HeaderName, &'static str) {
    (header::CONTENT_TYPE, "application/json;charset=UTF-8")
}
