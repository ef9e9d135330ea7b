//! Signing in and out, the caller's own sessions, and API tokens.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bugdash::auth::{Account, SessionInfo};
use bugdash::secret::Secret;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ClientInfo, Credential, CurrentUser, SESSION_COOKIE};
use crate::middleware::is_https;
use crate::state::AppState;

/// `POST /api/auth/login` body (no `Debug`: it holds a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Account email (any case).
    pub email: String,
    /// Password.
    pub password: String,
}

/// What a login or `GET /api/auth/me` returns.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// The account signed in.
    pub account: Account,
    /// The session.
    pub session: SessionInfo,
    /// The token to send as `X-CSRF-Token` with cookie-authenticated writes.
    pub csrf_token: String,
}

/// Starts a session: the token in an HttpOnly cookie, the CSRF token in the body.
pub async fn login(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let password = Secret::new(request.password);
    let outcome = state.auth.login(&request.email, &password, &client).await?;
    tracing::info!(user_id = outcome.account.id, session = outcome.session.id, "signed in");
    let max_age = u64::from(state.settings.auth.session_timeout_hours) * 3600;
    let cookie = session_cookie(outcome.token.expose(), max_age, is_https(&state, &headers))?;
    let view = SessionView {
        account: outcome.account,
        session: outcome.session,
        csrf_token: outcome.csrf_token,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(view)).into_response())
}

fn session_cookie(value: &str, max_age: u64, secure: bool) -> ApiResult<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).map_err(|e| ApiError::Internal(format!("cookie header: {e}")))
}

/// Ends the caller's session (a bearer token ends the session it is bound to) and clears
/// the cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: CurrentUser,
) -> ApiResult<Response> {
    match &user.credential {
        Credential::Cookie(token) => state.auth.logout(token).await?,
        Credential::Bearer => {
            state.auth.revoke_session(user.who.account.id, user.who.session.id).await?;
        }
    }
    tracing::info!(session = user.who.session.id, "signed out");
    let cleared = session_cookie("", 0, is_https(&state, &headers))?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

/// The caller's account and session.
pub async fn me(user: CurrentUser) -> Json<SessionView> {
    let who = user.who;
    Json(SessionView { account: who.account, session: who.session, csrf_token: who.csrf_token })
}

/// `GET /api/auth/sessions` answer.
#[derive(Debug, Serialize)]
pub struct SessionList {
    /// The caller's live sessions, the current one marked.
    pub sessions: Vec<SessionInfo>,
}

/// The caller's live sessions.
pub async fn sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<SessionList>> {
    Ok(Json(SessionList { sessions: state.auth.sessions_of(&user.who).await? }))
}

/// Revokes one of the caller's sessions.
pub async fn revoke_session(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    if state.auth.revoke_session(user.who.account.id, id).await? {
        tracing::info!(session = id, "session revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("you have no live session {id}")))
    }
}

/// `POST /api/auth/token` answer.
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// A JWT for `Authorization: Bearer`, bound to the caller's session.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Issues a short-lived API token bound to the caller's session.
pub async fn token(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<TokenView>> {
    let token = state.auth.issue_token(&user.who).await?;
    let expires_in = u64::from(state.settings.auth.token_ttl_minutes) * 60;
    Ok(Json(TokenView { token, expires_in }))
}
