//! The fake's HTTP surface: the JIRA endpoints a sync uses, and one layer around them
//! that logs requests, counts those in flight, adds latency and injects faults.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::dataset::{read_fixture, Flavor};
use super::fault::{json_type, observed, Fault};
use super::jql;
use super::state::{is_search, RequestRecord, Shared};

type Params = Query<HashMap<String, String>>;
type AppState = State<Arc<Shared>>;

/// The router of a fake JIRA.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/rest/api/2/serverInfo", get(server_info))
        .route("/rest/api/2/field", get(fields))
        .route("/rest/api/3/search/jql", get(cloud_search))
        .route("/rest/api/2/search", get(offset_search))
        .route("/rest/api/3/search", get(removed_v3_search))
        .route("/rest/api/2/issue/{key}", get(issue))
        .route("/rest/api/2/issue/{key}/changelog", get(changelog))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), around))
        .with_state(shared)
}

/// Logs the request, counts it in flight, delays search pages and applies a fault.
async fn around(State(shared): AppState, request: Request, next: Next) -> Response {
    let started = shared.since_start();
    let _in_flight = shared.enter();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut record = RequestRecord {
        method: request.method().to_string(),
        path,
        query,
        authorization,
        started,
        finished: started,
        status: 0,
    };
    let token = record.param("nextPageToken");
    let position = match &token {
        Some(token) => token_offset(token),
        None => Some(record.param("startAt").and_then(|at| at.parse().ok()).unwrap_or(0)),
    };

    let ids_alone = is_search(&record.path) && record.param("fields").as_deref() == Some("id");
    // Faults armed for a position are meant for a page of issues, not a census's ids.
    let position = position.filter(|_| !ids_alone);
    let fault = shared.take_fault(&record.path, token.as_deref(), position);
    if ids_alone {
        shared.id_search_arrived();
    }
    let latency = {
        let settings = shared.settings();
        match ids_alone && !settings.id_page_latency.is_zero() {
            true => settings.id_page_latency,
            false => settings.page_latency,
        }
    };
    if is_search(&record.path) && !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let remembered = {
        let settings = shared.settings();
        (settings.remember_answers && is_search(&record.path)).then(|| {
            let (cap, epoch) = (settings.page_cap, settings.token_epoch);
            format!("{}?{}#{cap}#{epoch}", record.path, record.query)
        })
    };
    let response = match fault {
        None if remembered.is_some() => remembering(&shared, remembered, request, next).await,
        None => next.run(request).await,
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Some(Fault::TruncatedBody) => truncated(next.run(request).await).await,
        Some(Fault::ShortPage(keep)) => cut_page(next.run(request).await, keep, false).await,
        Some(Fault::NoTotal) => cut_page(next.run(request).await, usize::MAX, true).await,
        Some(Fault::RepeatedToken) => with_token(next.run(request).await, token.as_deref()).await,
        Some(other) => other.canned(token.as_deref()),
    };

    record.finished = shared.since_start();
    record.status = response.status().as_u16();
    shared.leave(record);
    response
}

/// The answer kept for the same search, or the answer made now, kept when it succeeded.
async fn remembering(
    shared: &Shared,
    remembered: Option<String>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = remembered else { return next.run(request).await };
    let generation = match shared.data().answer(&key) {
        Ok(body) => return (StatusCode::OK, [json_type()], body).into_response(),
        Err(generation) => generation,
    };
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    shared.data().keep_answer(key, generation, bytes.clone());
    Response::from_parts(parts, Body::from(bytes))
}

/// A search answer cut to its first `keep` issues, without its total if `no_total`.
async fn cut_page(response: Response, keep: usize, no_total: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut page: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(issues) = page.get_mut("issues").and_then(Value::as_array_mut) {
        issues.truncate(keep);
    }
    if let Some(page) = page.as_object_mut().filter(|_| no_total) {
        page.remove("total");
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page.to_string()))
}

/// The first half of an answer's bytes, sent as if it were the whole answer.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
}

/// A Cloud page that hands back the token it was asked with.
async fn with_token(response: Response, token: Option<&str>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut page: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let (Some(page), Some(token)) = (page.as_object_mut(), token) {
        page.insert("isLast".to_owned(), Value::Bool(false));
        page.insert("nextPageToken".to_owned(), Value::String(token.to_owned()));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page.to_string()))
}

async fn server_info(State(shared): AppState) -> Response {
    let info = match shared.flavor {
        Flavor::Cloud => read_fixture("serverinfo_cloud.json"),
        Flavor::DataCenter => {
            let mut info = observed("server_info_server_8_20_11")["body_prefix"].clone();
            info["baseUrl"] = Value::String(shared.base_url.clone());
            info["serverTitle"] = Value::String("JIRA".to_owned());
            info
        }
    };
    json_answer(StatusCode::OK, &info)
}

async fn fields(State(shared): AppState) -> Response {
    json_answer(StatusCode::OK, &shared.fields)
}

/// Cloud's `/rest/api/3/search/jql`: token paging, `isLast`, no `total`, only ids unless
/// fields are named.
async fn cloud_search(State(shared): AppState, Query(params): Params) -> Response {
    if shared.flavor != Flavor::Cloud {
        return error_answer(StatusCode::NOT_FOUND, "null for uri: /rest/api/3/search/jql");
    }
    let jql = params.get("jql").map(String::as_str).unwrap_or_default();
    if jql.trim().is_empty() {
        return error_answer(
            StatusCode::BAD_REQUEST,
            "Unbounded JQL queries are not allowed here. Please add a search restriction.",
        );
    }
    let clauses = match jql::parse(jql) {
        Ok(clauses) => clauses,
        Err(message) => return error_answer(StatusCode::BAD_REQUEST, &message),
    };
    let epoch = shared.settings().token_epoch;
    let start = match params.get("nextPageToken") {
        None => 0,
        Some(token) => match read_token(token, jql, epoch) {
            Some(start) => start,
            None => {
                let message = "The provided next page token is invalid or expired.";
                return error_answer(StatusCode::BAD_REQUEST, message);
            }
        },
    };
    let fields = params.get("fields").map(String::as_str);
    let cap = if fields == Some("id") { 5000 } else { 100 };
    let size = page_size(&params, 50).min(cap);
    let with_changelog = wants_changelog(&params);

    let (docs, matched) = page_docs(&shared, jql, &clauses, start, size);
    let shape = Shape::new(fields, with_changelog, &shared.base_url);
    let end = start.min(matched) + docs.len();
    let page = CloudPage {
        is_last: end >= matched,
        issues: shape_all(&docs, &shape),
        next_page_token: (end < matched).then(|| make_token(end, jql, epoch)),
    };
    serialized_answer(&page)
}

/// Data Center's `/rest/api/2/search`: offset paging with a silent cap on the page size.
/// On Cloud it is gone, as Atlassian removed it.
async fn offset_search(State(shared): AppState, Query(params): Params) -> Response {
    if shared.flavor == Flavor::Cloud {
        return Fault::Gone.canned(None);
    }
    let jql = params.get("jql").map(String::as_str).unwrap_or_default();
    let clauses = match jql::parse(jql) {
        Ok(clauses) => clauses,
        Err(message) => return error_answer(StatusCode::BAD_REQUEST, &message),
    };
    let start: usize = params.get("startAt").and_then(|at| at.parse().ok()).unwrap_or(0);
    let cap = shared.settings().page_cap;
    let size = page_size(&params, 50).min(cap);
    let fields = params.get("fields").map(String::as_str).or(Some("*navigable"));
    let with_changelog = wants_changelog(&params);

    let (docs, total) = page_docs(&shared, jql, &clauses, start, size);
    let shape = Shape::new(fields, with_changelog, &shared.base_url);
    let page = OffsetPage {
        expand: "schema,names",
        issues: shape_all(&docs, &shape),
        max_results: size,
        start_at: start,
        total,
    };
    serialized_answer(&page)
}

/// The documents of the issues matching a query from `start`, at most `size`, and how
/// many match in all. The data's lock is held only to pick them, so that pages are
/// serialized side by side as a server would.
fn page_docs(
    shared: &Shared,
    jql: &str,
    clauses: &[jql::Clause],
    start: usize,
    size: usize,
) -> (Vec<Arc<Value>>, usize) {
    let mut data = shared.data();
    let found = data.matching(jql, clauses);
    let first = start.min(found.len());
    let end = (first + size).min(found.len());
    let docs = found[first..end].iter().map(|&at| Arc::clone(&data.issues[at].doc)).collect();
    (docs, found.len())
}

fn shape_all<'a>(docs: &'a [Arc<Value>], shape: &'a Shape<'a>) -> Vec<Shaped<'a>> {
    docs.iter().map(|doc| Shaped { doc, shape }).collect()
}

/// A page of Cloud's search. Keys in the order serde_json's map gives them.
#[derive(Serialize)]
struct CloudPage<'a> {
    #[serde(rename = "isLast")]
    is_last: bool,
    issues: Vec<Shaped<'a>>,
    #[serde(rename = "nextPageToken", skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

/// A page of Data Center's search. Keys in the order serde_json's map gives them.
#[derive(Serialize)]
struct OffsetPage<'a> {
    expand: &'static str,
    issues: Vec<Shaped<'a>>,
    #[serde(rename = "maxResults")]
    max_results: usize,
    #[serde(rename = "startAt")]
    start_at: usize,
    total: usize,
}

async fn removed_v3_search(State(shared): AppState) -> Response {
    match shared.flavor {
        Flavor::Cloud => Fault::Gone.canned(None),
        Flavor::DataCenter => {
            error_answer(StatusCode::NOT_FOUND, "null for uri: /rest/api/3/search")
        }
    }
}

/// One issue. Data Center embeds the whole changelog; Cloud the recorded (possibly cut)
/// one.
async fn issue(
    State(shared): AppState,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    let data = shared.data();
    let Some(entry) = data.find(&key) else { return issue_not_found() };
    let fields = params.get("fields").map(String::as_str).or(Some("*all"));
    let with_changelog = wants_changelog(&params);
    let mut issue = shaped(&entry.doc, fields, with_changelog, &shared.base_url);
    let whole = data.changelogs.get(&entry.id.to_string());
    if let (true, Flavor::DataCenter, Some(histories)) = (with_changelog, shared.flavor, whole) {
        let total = histories.len();
        issue["changelog"] =
            json!({"startAt": 0, "maxResults": total, "total": total, "histories": histories});
    }
    json_answer(StatusCode::OK, &issue)
}

/// Cloud's paged changelog of one issue.
async fn changelog(
    State(shared): AppState,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    if shared.flavor != Flavor::Cloud {
        return error_answer(StatusCode::NOT_FOUND, "null for uri: changelog");
    }
    let data = shared.data();
    let Some(entry) = data.find(&key) else { return issue_not_found() };
    let recorded = entry.doc["changelog"]["histories"].as_array();
    let histories: Vec<Value> = match data.changelogs.get(&entry.id.to_string()) {
        Some(whole) => whole.clone(),
        None => recorded.cloned().unwrap_or_default(),
    };
    let start: usize = params.get("startAt").and_then(|at| at.parse().ok()).unwrap_or(0);
    let size = page_size(&params, 100).min(shared.settings().changelog_page_cap);
    let first = start.min(histories.len());
    let end = (first + size).min(histories.len());
    let page = json!({
        "self": format!("{}/rest/api/2/issue/{}/changelog", shared.base_url, entry.id),
        "maxResults": size,
        "startAt": start,
        "total": histories.len(),
        "isLast": end >= histories.len(),
        "values": histories[first..end],
    });
    json_answer(StatusCode::OK, &page)
}

/// An issue as a search or issue request returns it: only the named fields (all for
/// `*all` / `*navigable`, only the id when no fields are named on Cloud), and the
/// recorded changelog when asked for.
fn shaped(doc: &Value, fields: Option<&str>, with_changelog: bool, base_url: &str) -> Value {
    let shape = Shape::new(fields, with_changelog, base_url);
    serde_json::to_value(Shaped { doc, shape: &shape }).unwrap_or(Value::Null)
}

/// What a request asks of each issue, read once for a whole page.
struct Shape<'a> {
    /// The fields named, and whether they include everything; `None` for ids alone.
    fields: Option<(Vec<&'a str>, bool)>,
    with_changelog: bool,
    base_url: &'a str,
}

impl<'a> Shape<'a> {
    fn new(fields: Option<&'a str>, with_changelog: bool, base_url: &'a str) -> Self {
        let fields = fields.map(|fields| {
            let named: Vec<&str> = fields.split(',').map(str::trim).collect();
            let everything = named.iter().any(|name| matches!(*name, "*all" | "*navigable"));
            (named, everything)
        });
        Shape { fields, with_changelog, base_url }
    }
}

/// [`shaped`], serialized straight from the stored document rather than from a copy:
/// pages of a thousand issues of 4 KB each are built many times over in benchmarks,
/// whose figures should show BugDash's time rather than the fake's.
struct Shaped<'a> {
    doc: &'a Value,
    shape: &'a Shape<'a>,
}

impl Serialize for Shaped<'_> {
    /// Keys in the order serde_json's map gives them (sorted), as when the fake built a map.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let doc = self.doc;
        let Some((named, everything)) = &self.shape.fields else {
            let mut issue = serializer.serialize_map(Some(1))?;
            issue.serialize_entry("id", &doc["id"])?;
            return issue.end();
        };
        let mut issue = serializer.serialize_map(None)?;
        if self.shape.with_changelog {
            if let Some(changelog) = doc.get("changelog") {
                issue.serialize_entry("changelog", changelog)?;
            }
        }
        issue.serialize_entry("expand", &doc["expand"])?;
        if named.as_slice() != ["id"] {
            let kept =
                KeptFields { fields: doc["fields"].as_object(), named, everything: *everything };
            issue.serialize_entry("fields", &kept)?;
        }
        issue.serialize_entry("id", &doc["id"])?;
        issue.serialize_entry("key", &doc["key"])?;
        let self_url = format!(
            "{}/rest/api/2/issue/{}",
            self.shape.base_url,
            doc["id"].as_str().unwrap_or("")
        );
        issue.serialize_entry("self", &self_url)?;
        issue.end()
    }
}

/// The fields of an issue that a request named.
struct KeptFields<'a> {
    fields: Option<&'a Map<String, Value>>,
    named: &'a [&'a str],
    everything: bool,
}

impl Serialize for KeptFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut kept = serializer.serialize_map(None)?;
        let all = self.fields.into_iter().flatten();
        for (name, value) in
            all.filter(|(name, _)| self.everything || self.named.contains(&name.as_str()))
        {
            kept.serialize_entry(name, value)?;
        }
        kept.end()
    }
}

fn wants_changelog(params: &HashMap<String, String>) -> bool {
    params.get("expand").is_some_and(|expand| expand.split(',').any(|part| part == "changelog"))
}

fn page_size(params: &HashMap<String, String>, default: usize) -> usize {
    params.get("maxResults").and_then(|size| size.parse().ok()).unwrap_or(default).max(1)
}

/// An opaque-looking token holding the next offset and a fingerprint of the query, so
/// that a token from another query is refused as Cloud refuses it. The epoch is mixed in
/// so that expiring tokens changes the fingerprint; at epoch 0 it leaves it as it is.
fn make_token(offset: usize, jql: &str, epoch: u64) -> String {
    format!("CAE{offset:x}Z{:x}", fingerprint(jql) ^ epoch)
}

/// The offset a token stands for, whatever query it was made for.
fn token_offset(token: &str) -> Option<u64> {
    let (offset, _) = token.strip_prefix("CAE")?.split_once('Z')?;
    u64::from_str_radix(offset, 16).ok()
}

fn read_token(token: &str, jql: &str, epoch: u64) -> Option<usize> {
    let (offset, print) = token.strip_prefix("CAE")?.split_once('Z')?;
    (u64::from_str_radix(print, 16).ok()? == fingerprint(jql) ^ epoch)
        .then(|| usize::from_str_radix(offset, 16).ok())?
}

/// FNV-1a: stable across runs, unlike the standard hasher.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn issue_not_found() -> Response {
    json_answer(StatusCode::NOT_FOUND, &observed("404_issue_not_found")["body"])
}

fn error_answer(status: StatusCode, message: &str) -> Response {
    json_answer(status, &json!({"errorMessages": [message], "errors": {}}))
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    (status, [json_type()], body.to_string()).into_response()
}

fn serialized_answer(body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (StatusCode::OK, [json_type()], bytes).into_response(),
        Err(fault) => error_answer(StatusCode::INTERNAL_SERVER_ERROR, &fault.to_string()),
    }
}
