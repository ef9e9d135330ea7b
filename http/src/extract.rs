//! Extractors: who is asking (a cookie session or a bearer token) and with which role,
//! and request parts whose rejections answer in the service's error shape.
//!
//! [`CurrentUser`] is where the browser rules hold: a cookie-authenticated write must carry
//! the session's `X-CSRF-Token`, or an `Origin` (else `Referer`) equal to the service's own
//! origin; bearer-token requests are exempt, as no browser sends them by itself. It also
//! counts the request against the user's API rate limit.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::Json;
use bugdash::auth::{Authenticated, Client};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::middleware::is_https;
use crate::state::AppState;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "bugdash_session";
/// The header carrying the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie, with its token (logout needs it).
    Cookie(String),
    /// `Authorization: Bearer <jwt>`.
    Bearer,
}

/// A signed-in caller, any role.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The verified identity.
    pub who: Authenticated,
    /// How it was proved.
    pub credential: Credential,
}

/// A signed-in admin; anyone else gets 403 (401 when not signed in).
#[derive(Debug, Clone)]
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let user = authenticate(parts, state).await?;
        let span = tracing::Span::current();
        span.record("user_id", user.who.account.id);
        crate::recording::note_caller(&parts.extensions, &user.who);
        if user.credential != Credential::Bearer && !is_safe(&parts.method) {
            check_csrf(&parts.headers, &user.who, state)?;
        }
        let decision = state.auth.rate_limit_api(user.who.account.id).await?;
        if !decision.allowed {
            return Err(bugdash::Error::RateLimited { retry_after: decision.retry_after }.into());
        }
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.who.is_admin() {
            Ok(AdminUser(user))
        } else {
            Err(bugdash::Error::Forbidden.into())
        }
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<CurrentUser, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        let jwt = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(bugdash::Error::Unauthorized)?;
        let who = state.auth.authenticate_bearer(jwt.trim()).await?;
        let who = who.ok_or(bugdash::Error::Unauthorized)?;
        return Ok(CurrentUser { who, credential: Credential::Bearer });
    }
    let token = session_cookie(&parts.headers).ok_or(bugdash::Error::Unauthorized)?;
    let who = state.auth.authenticate(&token).await?.ok_or(bugdash::Error::Unauthorized)?;
    Ok(CurrentUser { who, credential: Credential::Cookie(token) })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token from the `Cookie` header(s), if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn check_csrf(headers: &HeaderMap, who: &Authenticated, state: &AppState) -> Result<(), ApiError> {
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if token.is_some_and(|token| who.csrf_matches(token)) {
        return Ok(());
    }
    let Some(own) = own_origin(headers, state) else { return Err(ApiError::Csrf) };
    let claimed = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok().map(str::to_owned),
        None => headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(origin_of),
    };
    match claimed {
        Some(claimed) if claimed.eq_ignore_ascii_case(&own) => Ok(()),
        _ => Err(ApiError::Csrf),
    }
}

/// The service's own origin: from the public URL when set, else the scheme and `Host` the
/// request came with.
pub fn own_origin(headers: &HeaderMap, state: &AppState) -> Option<String> {
    if let Some(url) = &state.settings.server.public_url {
        return origin_of(url);
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let scheme = if is_https(state, headers) { "https" } else { "http" };
    Some(format!("{scheme}://{host}"))
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// The client's address and user agent; behind a trusted proxy, the address the proxy
/// names first in `X-Forwarded-For`.
pub fn client_of(parts: &Parts, state: &AppState) -> Client {
    let forwarded = state
        .settings
        .server
        .trust_proxy
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    let direct = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    Client { addr: forwarded.or(direct), user_agent }
}

/// The calling client, as an extractor.
#[derive(Debug, Clone)]
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientInfo(client_of(parts, state)))
    }
}

/// A JSON body; a bad one answers 400, 413 or 415 in the error shape.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        _ => ApiError::BadRequest(rejection.body_text()),
    }
}

/// Path parameters; a bad one answers 400 in the error shape.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::BadRequest(rejection.body_text())
}

/// The query as name/value pairs in order; a malformed query answers 400.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(Query(pairs)) => Ok(QueryPairs(pairs)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::BadRequest(rejection.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("https://bd.example.com/app?x=1").as_deref(),
            Some("https://bd.example.com")
        );
        assert_eq!(origin_of("http://127.0.0.1:5001").as_deref(), Some("http://127.0.0.1:5001"));
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; bugdash_session=abc ; b=2".parse().unwrap());
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, "bugdash_session=".parse().unwrap());
        assert_eq!(session_cookie(&headers), None);
    }
}
