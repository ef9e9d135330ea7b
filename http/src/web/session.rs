//! Who is looking at a page, and the forms they send.
//!
//! [`Viewer`] is the page counterpart of [`crate::extract::CurrentUser`]: the same session
//! cookie, the same core authentication and the same per-user rate limit, but a visitor
//! without a session is sent to the sign-in page (with the page to come back to) instead
//! of getting a 401 body, and refusals become HTML pages. Only the cookie counts: a page is
//! for a browser, and a browser sends no bearer token by itself.
//!
//! Page forms cannot set the API's `X-CSRF-Token` header, and the service's
//! `Referrer-Policy: no-referrer` makes browsers send `Origin: null` with a form; so every
//! form that changes something carries the session's CSRF token in a hidden `csrf_token`
//! field, which [`Viewer::check_csrf`] compares with the session's.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use bugdash::auth::Authenticated;
use serde::de::DeserializeOwned;

use super::error::ErrorContext;
use super::format;
use super::view::{Link, Nav, Section};
use crate::error::{ApiError, ApiResult};
use crate::extract::session_cookie;
use crate::state::AppState;

/// A signed-in person looking at a page, any role.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The verified identity.
    pub who: Authenticated,
    /// The session token from the cookie (logout needs it).
    pub token: String,
}

/// A signed-in admin looking at a page; anyone else signed in gets the 403 page.
#[derive(Debug, Clone)]
pub struct AdminViewer(pub Viewer);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let Some(token) = session_cookie(&parts.headers) else { return Err(to_login(parts)) };
        let who = match state.auth.authenticate(&token).await {
            Ok(Some(who)) => who,
            Ok(None) => return Err(to_login(parts)),
            Err(error) => return Err(ApiError::from(error).into_response()),
        };
        tracing::Span::current().record("user_id", who.account.id);
        crate::recording::note_caller(&parts.extensions, &who);
        let viewer = Viewer { who, token };
        match state.auth.rate_limit_api(viewer.who.account.id).await {
            Ok(decision) if decision.allowed => {}
            Ok(decision) => {
                let limited = bugdash::Error::RateLimited { retry_after: decision.retry_after };
                return Err(viewer.refuse(limited.into()));
            }
            Err(error) => return Err(viewer.refuse(error.into())),
        }
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

impl FromRequestParts<AppState> for AdminViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.who.is_admin() {
            Ok(AdminViewer(viewer))
        } else {
            Err(viewer.refuse(bugdash::Error::Forbidden.into()))
        }
    }
}

impl Viewer {
    /// The navigation for a page of `section`.
    pub fn nav(&self, section: Section) -> Nav {
        let account = &self.who.account;
        Nav {
            name: account.name.clone(),
            email: account.email.clone(),
            admin: self.who.is_admin(),
            csrf_token: self.who.csrf_token.clone(),
            section,
        }
    }

    /// Refuses a form whose `csrf_token` is not this session's.
    pub fn check_csrf(&self, token: &str) -> ApiResult<()> {
        if self.who.csrf_matches(token) {
            Ok(())
        } else {
            tracing::warn!(user_id = self.who.account.id, "page form without its CSRF token");
            Err(ApiError::Csrf)
        }
    }

    /// The error page of `error`, with this person's navigation.
    pub fn refuse(&self, error: ApiError) -> Response {
        self.refuse_with(error, None)
    }

    /// The error page of `error` with the navigation and a link back to where it makes
    /// sense to go on from.
    pub fn refuse_with(&self, error: ApiError, back: Option<Link>) -> Response {
        let mut response = error.into_response();
        let context = ErrorContext { nav: Some(self.nav(Section::Other)), back };
        response.extensions_mut().insert(context);
        response
    }

    /// The page, or the error page of what went wrong making it.
    pub fn respond(&self, page: ApiResult<Response>) -> Response {
        page.unwrap_or_else(|error| self.refuse(error))
    }
}

/// `303 See Other` to `location` (a local path).
pub fn see_other(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// `308 Permanent Redirect` to `location` (a local path), for a page asked for under
/// another spelling of its address.
pub fn moved(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response()
}

/// Sends a visitor without a session to the sign-in page; a page asked for with GET is
/// where they come back to.
fn to_login(parts: &Parts) -> Response {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return see_other("/login");
    }
    let back = parts.uri.path_and_query().map_or("/projects", |p| p.as_str());
    see_other(&format!("/login?next={}", format::encode(back)))
}

/// The session, when the request carries a live one; for the pages that anyone may see.
pub async fn signed_in(headers: &HeaderMap, state: &AppState) -> Option<Authenticated> {
    let token = session_cookie(headers)?;
    state.auth.authenticate(&token).await.ok().flatten()
}

/// The person, when the request carries a live session; for the pages that anyone may see
/// but that show a signed-in person their navigation.
pub async fn viewer_of(headers: &HeaderMap, state: &AppState) -> Option<Viewer> {
    let token = session_cookie(headers)?;
    let who = state.auth.authenticate(&token).await.ok().flatten()?;
    Some(Viewer { who, token })
}

/// A form body (`application/x-www-form-urlencoded`); a bad one answers with the error page.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(PageForm(value)),
            Err(rejection) => Err(form_rejection(rejection)),
        }
    }
}

fn form_rejection(rejection: FormRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "send the form as application/x-www-form-urlencoded".into(),
        ),
        _ => ApiError::BadRequest(rejection.body_text()),
    }
}

/// The body of a form that only proves it comes from a page of this session.
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf_token: String,
}
