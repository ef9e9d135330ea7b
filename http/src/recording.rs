//! The layer that turns requests into usage events and request metrics.
//!
//! Every request updates `bugdash_requests_total` and `bugdash_request_duration_seconds`,
//! labelled with its route template (`unmatched` for no route), never its raw path; a 429
//! also counts in `bugdash_rate_limited_total` (`login` or `api`). Every
//! request whose caller proved who they are also becomes one [`Event`]: the identity is
//! left in a [`CallerSlot`] by the [`CurrentUser`](crate::extract::CurrentUser) extractor,
//! so that the layer knows the caller without authenticating a second time. A request
//! refused after authentication (CSRF, rate limit, 403) is still an authenticated request
//! and is recorded with its status.
//!
//! A login is public, so no extractor sees its caller: on a successful login the layer
//! reads the new session back from the cookie it sets, one more session lookup on a path
//! that already hashes a password.
//!
//! Recording only copies the event into the [`Recorder`]'s buffer; it never waits for the
//! database, and the event borrows what the request already holds.
//!
//! [`Event`]: bugdash::analytics::Event

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, Uri};
use axum::middleware::Next;
use axum::response::Response;
use bugdash::analytics::{Action, EventRef, FiltersRef, Recorder};
use bugdash::auth::{Authenticated, Clock, SystemClock};
use bugdash::model::Timestamp;

use crate::extract::{client_of, SESSION_COOKIE};
use crate::state::AppState;

/// The route template label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Who made a request, as far as the usage events need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account.
    pub account_id: i64,
    /// The session.
    pub session_id: i64,
    /// The account's department.
    pub department: Option<String>,
}

impl Caller {
    /// The caller of a verified identity.
    pub fn of(who: &Authenticated) -> Caller {
        Caller {
            account_id: who.account.id,
            session_id: who.session.id,
            department: who.account.department.clone(),
        }
    }
}

/// Where the extractor leaves the caller for the layer: a request extension shared by both.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Caller>>);

impl CallerSlot {
    /// Notes the caller of the request whose extensions hold this slot (the first wins).
    pub fn set(&self, who: &Authenticated) {
        let _ = self.0.set(Caller::of(who));
    }

    /// The caller, once noted.
    pub fn get(&self) -> Option<&Caller> {
        self.0.get()
    }
}

/// Notes `who` as the caller of the request with `extensions`, when the layer runs.
pub fn note_caller(extensions: &axum::http::Extensions, who: &Authenticated) {
    if let Some(slot) = extensions.get::<CallerSlot>() {
        slot.set(who);
    }
}

/// What a layer knows about a request before it is answered.
pub(crate) struct Seen {
    pub(crate) method: Method,
    /// The route template, or [`UNMATCHED`].
    pub(crate) endpoint: String,
    pub(crate) uri: Uri,
    client_addr: Option<String>,
    at: Timestamp,
    pub(crate) started: Instant,
}

impl Seen {
    /// What `parts` say of a request arriving now.
    pub(crate) fn of(parts: &axum::http::request::Parts, state: &AppState) -> Seen {
        Seen {
            method: parts.method.clone(),
            endpoint: parts
                .extensions
                .get::<MatchedPath>()
                .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned()),
            uri: parts.uri.clone(),
            client_addr: client_of(parts, state).addr.map(|addr| addr.to_string()),
            at: SystemClock.now(),
            started: Instant::now(),
        }
    }

    /// Records the request as `caller`'s `action` with `filters`, answered with `status`
    /// after `seconds`. The event borrows everything it names (see
    /// [`Recorder::record_ref`]): recording allocates only for filter names or a project
    /// key that had to be percent-decoded.
    pub(crate) fn record(
        &self,
        recorder: &Recorder,
        caller: &Caller,
        action: Action,
        filters: &[Cow<'_, str>],
        status: u16,
        seconds: f64,
    ) {
        let project = path_parameter(&self.endpoint, self.uri.path(), "{key}");
        recorder.record_ref(&EventRef {
            at: self.at,
            account_id: Some(caller.account_id),
            session_id: Some(caller.session_id),
            department: caller.department.as_deref(),
            action,
            project: project.as_deref(),
            filters: FiltersRef::Names(filters),
            method: Some(self.method.as_str()),
            endpoint: Some(&self.endpoint),
            status: Some(status),
            latency_ms: Some(seconds * 1000.0),
            client_addr: self.client_addr.as_deref(),
        });
    }
}

/// Counts every request in the metrics and records authenticated ones as events.
pub async fn record(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let slot = CallerSlot::default();
    parts.extensions.insert(slot.clone());
    let seen = Seen::of(&parts, &state);

    let response = next.run(Request::from_parts(parts, body)).await;

    let seconds = seen.started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    state.metrics.observe_request(seen.method.as_str(), &seen.endpoint, status, seconds);
    if status == 429 {
        let login = seen.endpoint == "/api/auth/login";
        state.metrics.observe_rate_limited(if login { "login" } else { "api" });
    }
    let Some(recorder) = &state.recorder else { return response };
    let signed_in;
    let caller = match slot.get() {
        Some(caller) => Some(caller),
        None if seen.endpoint == "/api/auth/login" && response.status().is_success() => {
            signed_in = login_caller(&state, session_token(&response)).await;
            signed_in.as_ref()
        }
        None => None,
    };
    if let Some(caller) = caller {
        let action = action_of(&seen.method, &seen.endpoint);
        let filters = filter_names(seen.uri.query());
        seen.record(recorder, caller, action, &filters, status, seconds);
    }
    response
}

/// The session token a response's cookie sets.
pub(crate) fn session_token(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next()?.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
}

/// The caller a successful login just created, read back from its session token.
pub(crate) async fn login_caller(state: &AppState, token: Option<String>) -> Option<Caller> {
    let who = state.auth.authenticate(&token?).await.ok().flatten()?;
    Some(Caller::of(&who))
}

/// The distinct query parameter names, in order of first use; values are left out, as
/// they may name people (an assignee) and would make the events a second issue store.
pub fn filter_names(query: Option<&str>) -> Vec<Cow<'_, str>> {
    let mut names: Vec<Cow<'_, str>> = Vec::new();
    for pair in query.unwrap_or_default().split('&').filter(|pair| !pair.is_empty()) {
        let name = pair.split('=').next().unwrap_or_default();
        let name = percent_decode(name);
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `text` with `+` as a space and `%XX` escapes decoded; borrowed when it has neither.
fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|byte| byte == b'%' || byte == b'+') {
        return Cow::Borrowed(text);
    }
    let text = text.replace('+', " ");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The path segment standing where `template` has `parameter`, percent-decoded.
pub fn path_parameter<'a>(template: &str, path: &'a str, parameter: &str) -> Option<Cow<'a, str>> {
    let index = template.split('/').position(|segment| segment == parameter)?;
    let value = path.split('/').nth(index)?;
    (!value.is_empty()).then(|| percent_decode(value))
}

/// The action a request of `method` on the route `template` stands for.
pub fn action_of(method: &Method, template: &str) -> Action {
    match (method.as_str(), template) {
        ("POST", "/api/auth/login") => Action::Login,
        ("POST", "/api/auth/logout") => Action::Logout,
        ("GET", "/api/projects") => Action::ViewProjects,
        ("GET", "/api/projects/{key}/analysis") => Action::AnalyzeProject,
        ("GET", "/api/projects/{key}/issues") => Action::ViewIssues,
        ("GET", t) if t.ends_with(".csv") || t.ends_with("/report") => Action::ExportData,
        ("GET", "/api/admin/usage/trends") => Action::ViewTrends,
        ("POST", "/api/admin/projects/{key}/sync") => Action::StartSync,
        ("GET" | "HEAD", _) => Action::ApiCall,
        (_, t) if t.starts_with("/api/admin/") => Action::AdminAction,
        _ => Action::ApiCall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_the_distinct_decoded_parameter_names() {
        let names = filter_names(Some("priority=Major&fix%5Fversion=3.5&priority=Minor&&x"));

        assert_eq!(names, ["priority", "fix_version", "x"]);
    }

    #[test]
    fn the_project_comes_from_the_key_segment_of_the_template() {
        let key =
            path_parameter("/api/projects/{key}/analysis", "/api/projects/ZK/analysis", "{key}");

        assert_eq!(key.as_deref(), Some("ZK"));
        assert_eq!(path_parameter("/api/projects", "/api/projects", "{key}"), None);
    }

    #[test]
    fn actions_follow_the_route_template_and_method() {
        let analysis = "/api/projects/{key}/analysis";

        assert_eq!(action_of(&Method::GET, analysis), Action::AnalyzeProject);
        assert_eq!(action_of(&Method::PATCH, "/api/admin/users/{id}"), Action::AdminAction);
        assert_eq!(action_of(&Method::GET, "/api/admin/users"), Action::ApiCall);
        let csv = "/api/projects/{key}/issues.csv";
        assert_eq!(action_of(&Method::GET, csv), Action::ExportData);
    }
}
