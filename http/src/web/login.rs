//! Signing in and out from the browser, over the same core calls as `/api/auth/login` and
//! `/api/auth/logout`: the same throttling, the same cap on signed-in users, the same
//! words for a failure whether or not the account exists, and the same session cookie.
//!
//! After signing in, the browser goes to the page it came from (`next`), which must be a
//! path of this service: anything that could lead elsewhere (`//host`, `https://…`, a
//! backslash some browsers read as a slash) is replaced by the project list.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bugdash::secret::Secret;
use serde::Deserialize;

use super::session::{see_other, signed_in, CsrfForm, PageForm, Viewer};
use super::view::{render, render_status, Layout};
use crate::error::{retry_after_value, ApiError, ApiResult};
use crate::extract::{origin_of, own_origin, ClientInfo, SESSION_COOKIE};
use crate::middleware::is_https;
use crate::state::AppState;

/// Where a signed-in person lands.
const HOME: &str = "/projects";

/// `GET /`: the projects for a signed-in person, else the sign-in page.
pub async fn root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&headers, &state).await {
        Some(_) => see_other(HOME),
        None => see_other("/login"),
    }
}

/// The query of the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct NextPage {
    /// Where to go after signing in.
    #[serde(default)]
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    email: String,
    error: Option<String>,
}

impl LoginPage {
    fn new(next: String, email: String, error: Option<String>) -> LoginPage {
        LoginPage { layout: Layout::new("Sign in", None), next, email, error }
    }
}

/// `GET /login`: the sign-in form; a person already signed in goes straight on.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NextPage>,
) -> ApiResult<Response> {
    let next = query.next.as_deref().and_then(local_path).unwrap_or_default();
    if signed_in(&headers, &state).await.is_some() {
        return Ok(see_other(if next.is_empty() { HOME } else { &next }));
    }
    render(&LoginPage::new(next, String::new(), None))
}

/// The sign-in form's fields (no `Debug`: it holds a password).
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: signs in and goes on to `next`; a refusal shows the form again with
/// the reason and the API's status (401, 429 or 503).
pub async fn submit(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> ApiResult<Response> {
    if !same_origin(&headers, &state) {
        tracing::warn!(addr = ?client.addr, "sign-in form from another origin refused");
        return Err(ApiError::Csrf);
    }
    let next = local_path(&form.next).unwrap_or_default();
    let password = Secret::new(form.password);
    let outcome = match state.auth.login(&form.email, &password, &client).await {
        Ok(outcome) => outcome,
        Err(error) => return refused(error, next, form.email),
    };
    tracing::info!(user_id = outcome.account.id, session = outcome.session.id, "signed in");
    let max_age = u64::from(state.settings.auth.session_timeout_hours) * 3600;
    let cookie = session_cookie(outcome.token.expose(), max_age, is_https(&state, &headers))?;
    let mut response = see_other(if next.is_empty() { HOME } else { &next });
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The form again after a refused sign-in, or the error page for a fault of ours.
fn refused(error: bugdash::Error, next: String, email: String) -> ApiResult<Response> {
    use bugdash::Error as E;
    let status = match &error {
        E::Unauthorized | E::LoginRefused => StatusCode::UNAUTHORIZED,
        E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        E::Capacity { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => return Err(error.into()),
    };
    let error = ApiError::from(error);
    // Worded alike for an unknown account, a wrong password and a disabled account.
    let message = match status {
        StatusCode::UNAUTHORIZED => "The email or password is wrong.".to_owned(),
        _ => sentence(&error.report().message),
    };
    let page = LoginPage::new(next, email, Some(message));
    let mut response = render_status(status, &page)?;
    if let Some(wait) = error.retry_after() {
        response.headers_mut().insert(header::RETRY_AFTER, retry_after_value(wait));
    }
    Ok(response)
}

/// `message` with a capital and a full stop, as a line on a page reads.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// `POST /logout`: ends the session and goes to the sign-in page.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let ended = async {
        viewer.check_csrf(&form.csrf_token)?;
        state.auth.logout(&viewer.token).await?;
        tracing::info!(session = viewer.who.session.id, "signed out");
        let cleared = session_cookie("", 0, is_https(&state, &headers))?;
        let mut response = see_other("/login");
        response.headers_mut().insert(header::SET_COOKIE, cleared);
        Ok(response)
    };
    viewer.respond(ended.await)
}

/// The session cookie as `/api/auth/login` sets it: HttpOnly, SameSite=Lax, the whole site.
fn session_cookie(value: &str, max_age: u64, secure: bool) -> ApiResult<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).map_err(|e| ApiError::Internal(format!("cookie header: {e}")))
}

/// False when the form names an origin other than this service's: `Origin`, else the
/// origin of `Referer`. A request naming none (a client that is no browser) passes; the
/// pages ask browsers to name their origin (see the layout's referrer policy).
fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let claimed = match headers.get(header::ORIGIN) {
        Some(origin) => Some(origin.to_str().unwrap_or_default().to_owned()),
        None => headers
            .get(header::REFERER)
            .map(|referer| origin_of(referer.to_str().unwrap_or_default()).unwrap_or_default()),
    };
    let Some(claimed) = claimed else { return true };
    own_origin(headers, state).is_some_and(|own| claimed.eq_ignore_ascii_case(&own))
}

/// `next` when it is a path of this service, else `None`: it must start with one `/`,
/// and hold no backslash, no control character and nothing before the path.
pub fn local_path(next: &str) -> Option<String> {
    let bytes = next.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.contains(' ')
        && next.len() <= 2048;
    local.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(
            local_path("/projects/ZK?window=all").as_deref(),
            Some("/projects/ZK?window=all")
        );
        for outside in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", ""] {
            assert_eq!(local_path(outside), None, "{outside}");
        }
        assert_eq!(local_path("/a\\b"), None);
        assert_eq!(local_path("/a\nLocation: x"), None);
    }

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(sentence("not signed in, or the email"), "Not signed in, or the email.");
    }
}
