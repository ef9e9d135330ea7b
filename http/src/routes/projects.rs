//! Projects, their analyses, issues and CSV exports. The analysis answers with the very
//! bytes `bugdash analyze --project KEY --format json` prints for the same options.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bugdash::analysis::{Filters, Params};
use bugdash::model::Issue;
use bugdash::service::analysis::{analyze_stored, params_for_store, CachedReport};
use bugdash::service::csv;
use bugdash::service::issues::{self, IssuePage, DEFAULT_LIMIT};
use bugdash::service::options::{params_from_pairs, project_key};
use bugdash::service::projects::{project_overviews, ProjectOverview};
use serde::Serialize;
use std::sync::Arc;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, CurrentUser, QueryPairs};
use crate::state::AppState;

/// `GET /api/projects` answer.
#[derive(Debug, Serialize)]
pub struct ProjectList {
    /// Every stored project, by key.
    pub projects: Vec<ProjectOverview>,
}

/// Every stored project with its risk summary and data freshness.
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<ProjectList>> {
    let environment = state.settings.jira.environment.as_deref();
    let projects = project_overviews(state.store.as_ref(), &state.analyses, environment).await?;
    Ok(Json(ProjectList { projects }))
}

/// A project key from the path, `ALL` included; anything else is a 400 naming it.
fn key_of(text: &str) -> ApiResult<String> {
    project_key(text).map_err(|message| bugdash::Error::invalid("project key", message).into())
}

fn not_found(key: &str) -> ApiError {
    ApiError::NotFound(format!("the store holds no issues of project {key}"))
}

async fn report(
    state: &AppState,
    key: &str,
    pairs: &[(String, String)],
) -> ApiResult<Arc<CachedReport>> {
    let mut params: Params =
        params_from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
    params_for_store(&mut params, state.settings.jira.environment.as_deref());
    let cached = analyze_stored(state.store.as_ref(), &state.analyses, key, params).await?;
    cached.ok_or_else(|| not_found(key))
}

/// The analysis of a project (or `ALL`) with every `bugdash analyze` option as a query
/// parameter.
pub async fn analysis(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(key): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Response> {
    let key = key_of(&key)?;
    let cached = report(&state, &key, &pairs).await?;
    let body = Bytes::from_owner(SharedBytes(Arc::clone(&cached.json)));
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], Body::from(body))
        .into_response())
}

/// Report JSON shared with the cache, handed to the response without a copy.
struct SharedBytes(Arc<[u8]>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The areas of the analysis as CSV.
pub async fn areas_csv(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(key): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Response> {
    let key = key_of(&key)?;
    let cached = report(&state, &key, &pairs).await?;
    let mut out = Vec::new();
    csv::write_areas(&mut out, &cached.report)
        .map_err(|e| ApiError::Internal(format!("areas CSV: {e}")))?;
    Ok(csv_response(out, &format!("{key}-areas.csv")))
}

fn csv_response(body: Vec<u8>, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let disposition = HeaderValue::from_str(&disposition)
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The options the issue list takes besides the filters.
pub(crate) const PAGING: [&str; 3] = ["limit", "offset", "cursor"];
/// True when two paging options cannot be given together: any of them twice, and offset
/// with cursor (both say where the page starts).
fn paging_clash(given: &str, new: &str) -> bool {
    given == new || (given != "limit" && new != "limit")
}

/// The analysis options that are filters, which the issue list takes.
const FILTERS: &[&str] = bugdash::service::options::FILTER_NAMES;

struct IssueQuery {
    filters: Filters,
    offset: u64,
    limit: u32,
}

fn issue_query(state: &AppState, pairs: &[(String, String)]) -> ApiResult<IssueQuery> {
    let mut offset = 0;
    let mut limit = DEFAULT_LIMIT;
    let mut filters = Vec::new();
    let mut paging: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let normal = name.replace('-', "_");
        let number = |what: &str| {
            value.parse::<u64>().map_err(|_| {
                bugdash::Error::invalid(what, format!("expected a whole number; got {value:?}"))
            })
        };
        if PAGING.contains(&normal.as_str()) {
            if paging.iter().any(|given| paging_clash(given, &normal)) {
                return Err(bugdash::Error::invalid(
                    name,
                    "given twice, or with the other of offset and cursor; give one".to_owned(),
                )
                .into());
            }
            paging.push(normal.clone());
        }
        match normal.as_str() {
            "offset" | "cursor" => offset = number(name)?,
            "limit" => {
                let max = u64::from(issues::MAX_LIMIT);
                limit = match number(name)? {
                    n @ 1.. if n <= max => n as u32,
                    _ => {
                        let message = format!("expected 1 to {max}; got {value:?}");
                        return Err(bugdash::Error::invalid(name, message).into());
                    }
                };
            }
            _ if FILTERS.contains(&normal.as_str()) => {
                filters.push((name.as_str(), value.as_str()))
            }
            _ => {
                let known = [&PAGING[..], FILTERS].concat().join(", ");
                return Err(bugdash::Error::invalid(
                    name,
                    format!("unknown parameter; the parameters are {known}"),
                )
                .into());
            }
        }
    }
    let mut params = params_from_pairs(filters)?;
    params_for_store(&mut params, state.settings.jira.environment.as_deref());
    Ok(IssueQuery { filters: params.filters, offset, limit })
}

/// The stored issues of `key` (a project or `ALL`), as the analysis cache keeps them.
async fn project_issues(state: &AppState, key: &str) -> ApiResult<Arc<Vec<Issue>>> {
    state.analyses.issues(state.store.as_ref(), key).await?.ok_or_else(|| not_found(key))
}

/// A page of a project's issues matching the filters, newest first.
pub async fn issues(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(key): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<IssuePage>> {
    let key = key_of(&key)?;
    let query = issue_query(&state, &pairs)?;
    let found = project_issues(&state, &key).await?;
    Ok(Json(issues::issue_page(&found, &query.filters, query.offset, query.limit)))
}

/// Every issue of a project matching the filters, as CSV.
pub async fn issues_csv(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(key): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Response> {
    let key = key_of(&key)?;
    let query = issue_query(&state, &pairs)?;
    let found = project_issues(&state, &key).await?;
    let rows = issues::matching_issues(&found, &query.filters);
    let mut out = Vec::new();
    csv::write_issues(&mut out, &rows)
        .map_err(|e| ApiError::Internal(format!("issues CSV: {e}")))?;
    Ok(csv_response(out, &format!("{key}-issues.csv")))
}
