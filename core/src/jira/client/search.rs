//! Paged JQL searches in both JIRA dialects, and the JQL of an incremental sync.
//!
//! Cloud pages by token until `isLast`. A token repeated by the server would loop
//! forever and an empty page that claims more would stall, so both are errors. Data
//! Center pages by offset: the next offset is the current one plus the issues actually
//! returned, because servers lower `maxResults` without saying so in the request's terms.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::error::JiraError;
use super::fields::FieldCatalog;
use super::transport::Get;
use super::{Deployment, JiraClient};
use crate::jira::json::read_search_answer;
use crate::model::{Issue, Timestamp};

const CLOUD_SEARCH: &str = "/rest/api/3/search/jql";
const DATA_CENTER_SEARCH: &str = "/rest/api/2/search";

/// Issues asked per page by a census: Cloud serves up to 5,000 when only ids are
/// requested, and Data Center caps the number at its own limit.
const ID_PAGE_SIZE: u32 = 5_000;

/// Where a paged search stands; stored as the sync checkpoint, so it serialises to JSON
/// (`{"offset":200}` or `{"token":"…"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cursor {
    /// Data Center: the offset (`startAt`) of the next page.
    Offset(u64),
    /// Cloud: the `nextPageToken` of the next page; `None` for the first page.
    Token(Option<String>),
}

impl Cursor {
    /// The cursor of the first page for a deployment.
    pub fn first(deployment: Deployment) -> Self {
        match deployment {
            Deployment::Cloud => Cursor::Token(None),
            Deployment::DataCenter => Cursor::Offset(0),
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The issues of the page, with whole changelogs where the embedded one was cut.
    pub issues: Vec<Issue>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<Cursor>,
    /// How many issues match, when JIRA says (Data Center only).
    pub total: Option<u64>,
}

/// The paging keys of a search answer, in either dialect.
#[derive(Debug)]
struct Paging {
    is_last: Option<bool>,
    next_page_token: Option<String>,
    total: Option<u64>,
}

/// A page of ids, for a census.
#[derive(Debug, Deserialize)]
struct IdPage {
    #[serde(rename = "isLast")]
    is_last: Option<bool>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
    total: Option<u64>,
    issues: Vec<IdOnly>,
}

#[derive(Debug, Deserialize)]
struct IdOnly {
    id: String,
}

/// The JQL of an incremental sync: issues of `project` updated at or after `watermark`
/// minus `overlap`, oldest change first.
///
/// The bound is written in epoch milliseconds, which JIRA compares as an instant; a
/// date-time text would be read in the time zone of the account's profile.
///
/// ```
/// use bugdash::jira::client::updated_since_jql;
/// use bugdash::Timestamp;
/// use std::time::Duration;
///
/// let jql = updated_since_jql("ZOOKEEPER", Timestamp::from_millis(1_000_000), Duration::from_secs(60));
/// assert_eq!(jql, "project = \"ZOOKEEPER\" AND updated >= 940000 ORDER BY updated ASC, id ASC");
/// ```
pub fn updated_since_jql(project: &str, watermark: Timestamp, overlap: Duration) -> String {
    let overlap_ms = i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
    let since = watermark.millis().saturating_sub(overlap_ms).max(0);
    format!("project = {} AND updated >= {since} ORDER BY updated ASC, id ASC", quote_jql(project))
}

/// A JQL string literal: quotes and backslashes escaped.
fn quote_jql(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

impl JiraClient {
    /// The cursor of the first page for this client's deployment.
    pub async fn first_cursor(&self) -> crate::Result<Cursor> {
        Ok(Cursor::first(self.deployment().await?))
    }

    /// One page of issues matching `jql`, starting at `cursor`.
    ///
    /// The cursor's kind picks the dialect: [`Cursor::Token`] searches
    /// `/rest/api/3/search/jql`, [`Cursor::Offset`] searches `/rest/api/2/search`.
    pub async fn search_page(&self, jql: &str, cursor: &Cursor) -> crate::Result<SearchPage> {
        let catalog = self.fields().await?;
        let mut page = match cursor {
            Cursor::Token(token) => self.cloud_page(jql, token.as_deref(), catalog).await?,
            Cursor::Offset(start) => self.data_center_page(jql, *start, catalog).await?,
        };
        self.complete_histories(&mut page.issues).await?;
        Ok(page)
    }

    /// Every issue matching `jql`, all pages; for small result sets and tests.
    pub async fn search_all(&self, jql: &str) -> crate::Result<Vec<Issue>> {
        let mut cursor = Some(self.first_cursor().await?);
        let mut seen = HashSet::new();
        let mut issues = Vec::new();
        while let Some(at) = cursor {
            if !seen.insert(at.clone()) {
                return Err(repeated_cursor(&at).into());
            }
            let page = self.search_page(jql, &at).await?;
            issues.extend(page.issues);
            cursor = page.next;
        }
        Ok(issues)
    }

    async fn cloud_page(
        &self,
        jql: &str,
        token: Option<&str>,
        catalog: &FieldCatalog,
    ) -> Result<SearchPage, JiraError> {
        let mut get = self.search_get(CLOUD_SEARCH, jql, catalog);
        if let Some(token) = token {
            get = get.param("nextPageToken", token);
        }
        // An empty page that says more follow is asked for once more before giving up.
        for attempt in 1..=2 {
            let (paging, issues) = self.fetch_issues(&get, catalog).await?;
            let is_last = paging.is_last.unwrap_or(paging.next_page_token.is_none());
            if issues.is_empty() && !is_last && attempt == 1 {
                continue;
            }
            let next = cloud_next(token, is_last, paging.next_page_token, issues.is_empty())?;
            return Ok(SearchPage { issues, next, total: paging.total });
        }
        Err(JiraError::BadResponse {
            endpoint: CLOUD_SEARCH.to_owned(),
            detail: "unreachable paging state".to_owned(),
        })
    }

    async fn data_center_page(
        &self,
        jql: &str,
        start: u64,
        catalog: &FieldCatalog,
    ) -> Result<SearchPage, JiraError> {
        let get =
            self.search_get(DATA_CENTER_SEARCH, jql, catalog).param("startAt", start.to_string());
        let (paging, issues) = self.fetch_issues(&get, catalog).await?;
        let after = start + issues.len() as u64;
        let done = issues.is_empty() || paging.total.is_some_and(|total| after >= total);
        let next = (!done).then_some(Cursor::Offset(after));
        Ok(SearchPage { issues, next, total: paging.total })
    }

    fn search_get(&self, endpoint: &'static str, jql: &str, catalog: &FieldCatalog) -> Get {
        Get::new(endpoint)
            .param("jql", jql)
            .param("maxResults", self.inner.config.page_size.to_string())
            .param("fields", catalog.search_fields().join(","))
            .param("expand", "changelog")
    }

    /// Fetches a search page and reads its paging keys and issues; a body that does not
    /// read is retried like any unusable answer.
    async fn fetch_issues(
        &self,
        get: &Get,
        catalog: &FieldCatalog,
    ) -> Result<(Paging, Vec<Issue>), JiraError> {
        let aliases = std::sync::Arc::new(catalog.aliases());
        let endpoint = get.endpoint;
        self.inner
            .fetch(get, move |body| {
                let body = with_reader_field_ids(body, &aliases)?;
                let answer =
                    read_search_answer(endpoint, &body).map_err(|fault| fault.to_string())?;
                if answer.issues.len() as u64 != answer.listed {
                    return Err(format!(
                        "the page lists {} issues but {} could be read",
                        answer.listed,
                        answer.issues.len()
                    ));
                }
                let paging = Paging {
                    is_last: answer.is_last,
                    next_page_token: answer.next_page_token,
                    total: answer.total,
                };
                Ok((paging, answer.issues))
            })
            .await
    }

    /// The ids of every issue matching `jql`: a census that fetches nothing else.
    ///
    /// Data Center's pages are fetched side by side within the in-flight bound once the
    /// first page has shown the total and the server's cap; Cloud's follow their tokens.
    /// No more of its pages wait for the client's bound than the bound itself, so that
    /// other requests of the same client take turns with them rather than queue behind
    /// them all.
    pub async fn search_ids(&self, jql: &str) -> crate::Result<Vec<u64>> {
        match self.first_cursor().await? {
            Cursor::Offset(_) => self.data_center_ids(jql).await,
            first => self.cloud_ids(jql, first).await,
        }
    }

    async fn cloud_ids(&self, jql: &str, first: Cursor) -> crate::Result<Vec<u64>> {
        let mut cursor = Some(first);
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        while let Some(at) = cursor {
            if !seen.insert(at.clone()) {
                return Err(repeated_cursor(&at).into());
            }
            let Cursor::Token(token) = at else { break };
            let get = Get::new(CLOUD_SEARCH).param("jql", jql).param("fields", "id");
            let get = match &token {
                Some(token) => get.param("nextPageToken", token.clone()),
                None => get,
            };
            let get = get.param("maxResults", ID_PAGE_SIZE.to_string());
            let page = self.inner.fetch(&get, parse_id_page).await?;
            let count = page.issues.len();
            ids.extend(numeric_ids(CLOUD_SEARCH, &page.issues)?);
            let is_last = page.is_last.unwrap_or(page.next_page_token.is_none());
            cursor = cloud_next(token.as_deref(), is_last, page.next_page_token, count == 0)?;
        }
        Ok(ids)
    }

    /// Data Center ids: read once more when the total moved while the pages were read
    /// (offsets then shifted and an id may have been skipped), then taken as they are.
    async fn data_center_ids(&self, jql: &str) -> crate::Result<Vec<u64>> {
        let window = self.inner.config.max_in_flight.max(1);
        let (ids, steady) = self.data_center_ids_once(jql, window).await?;
        if steady {
            return Ok(ids);
        }
        Ok(self.data_center_ids_once(jql, window).await?.0)
    }

    /// One reading of the ids, at most `window` pages at a time; true when every page
    /// reported the same total.
    async fn data_center_ids_once(
        &self,
        jql: &str,
        window: usize,
    ) -> crate::Result<(Vec<u64>, bool)> {
        let first = self.id_page_at(jql, 0).await?;
        let stride = first.ids.len() as u64;
        let total = first.total.unwrap_or(stride);
        let mut ids = first.ids;
        if stride == 0 {
            return Ok((ids, true));
        }
        if first.total.is_none() {
            // Without a total the end shows only as an empty page: one page after another.
            // A page of ids all seen before means the server ignores the offset, which
            // would never end.
            let mut seen: HashSet<u64> = ids.iter().copied().collect();
            let mut at = stride;
            loop {
                let page = self.id_page_at(jql, at).await?;
                if page.ids.is_empty() {
                    return Ok((ids, true));
                }
                let new_ids = page.ids.iter().filter(|id| seen.insert(**id)).count();
                if new_ids == 0 {
                    return Err(repeated_cursor(&Cursor::Offset(at)).into());
                }
                at += page.ids.len() as u64;
                ids.extend(page.ids);
            }
        }
        // Searches for ids alone ask for far larger pages; the server caps them silently,
        // and the first page shows by how much.
        let mut starts = (stride..total).step_by(stride as usize);
        let mut spans = JoinSet::new();
        // No more pages wait for the client's bound than the window allows, so that other
        // requests of the client take turns with them rather than queue behind them all.
        let mut fill = |spans: &mut JoinSet<_>| {
            while spans.len() < window {
                let Some(start) = starts.next() else { break };
                let (client, jql) = (self.clone(), jql.to_owned());
                let end = (start + stride).min(total);
                spans.spawn(async move { client.id_span(&jql, start, end).await });
            }
        };
        fill(&mut spans);
        let mut steady = true;
        while let Some(joined) = spans.join_next().await {
            fill(&mut spans);
            let span = joined.map_err(|fault| JiraError::Network {
                endpoint: DATA_CENTER_SEARCH.to_owned(),
                detail: format!("a census task failed: {fault}"),
            })??;
            steady &= span.total == Some(total);
            ids.extend(span.ids);
        }
        Ok((ids, steady))
    }

    /// The ids at offsets `start..end`, reading on after a page shorter than the span.
    async fn id_span(&self, jql: &str, start: u64, end: u64) -> Result<IdChunk, JiraError> {
        let mut ids = Vec::new();
        let mut totals = Vec::new();
        let mut at = start;
        while at < end {
            let page = self.id_page_at(jql, at).await?;
            let held = page.ids.len() as u64;
            totals.push(page.total);
            let room = usize::try_from(end - at).unwrap_or(usize::MAX);
            ids.extend(page.ids.into_iter().take(room));
            if held == 0 || page.total.is_some_and(|total| at + held >= total) {
                break;
            }
            at += held;
        }
        let agreed = totals.windows(2).all(|pair| pair[0] == pair[1]);
        let total = totals.first().copied().flatten().filter(|_| agreed);
        Ok(IdChunk { ids, total })
    }

    /// One Data Center page of ids at `start`.
    async fn id_page_at(&self, jql: &str, start: u64) -> Result<IdChunk, JiraError> {
        let get = Get::new(DATA_CENTER_SEARCH)
            .param("jql", jql)
            .param("fields", "id")
            .param("startAt", start.to_string())
            .param("maxResults", ID_PAGE_SIZE.to_string());
        let page = self.inner.fetch(&get, parse_id_page).await?;
        Ok(IdChunk { ids: numeric_ids(DATA_CENTER_SEARCH, &page.issues)?, total: page.total })
    }
}

/// Ids read from some search pages, and the total they all reported (`None` when they
/// disagreed or said none).
#[derive(Debug)]
struct IdChunk {
    ids: Vec<u64>,
    total: Option<u64>,
}

fn numeric_ids(endpoint: &str, issues: &[IdOnly]) -> Result<Vec<u64>, JiraError> {
    issues
        .iter()
        .map(|issue| {
            issue.id.trim().parse().map_err(|_| JiraError::BadResponse {
                endpoint: endpoint.to_owned(),
                detail: format!("issue id {:?} is not a number", issue.id),
            })
        })
        .collect()
}

fn parse_id_page(body: &[u8]) -> Result<IdPage, String> {
    serde_json::from_slice(body).map_err(|fault| format!("not a search page of ids ({fault})"))
}

/// The cursor after a Cloud page, refusing paging that cannot end.
fn cloud_next(
    current: Option<&str>,
    is_last: bool,
    next_token: Option<String>,
    page_empty: bool,
) -> Result<Option<Cursor>, JiraError> {
    let fault =
        |detail: String| JiraError::BadResponse { endpoint: CLOUD_SEARCH.to_owned(), detail };
    if is_last {
        return Ok(None);
    }
    if page_empty {
        return Err(fault(
            "an empty page says it is not the last, twice; stopping rather than \
                          asking for the same page forever"
                .to_owned(),
        ));
    }
    match next_token {
        None => Err(fault("a page says it is not the last but gives no nextPageToken".to_owned())),
        Some(next) if Some(next.as_str()) == current => Err(fault(format!(
            "JIRA returned the same nextPageToken {next:?} it was given; following it would \
             loop forever"
        ))),
        Some(next) => Ok(Some(Cursor::Token(Some(next)))),
    }
}

fn repeated_cursor(cursor: &Cursor) -> JiraError {
    JiraError::BadResponse {
        endpoint: match cursor {
            Cursor::Token(_) => CLOUD_SEARCH.to_owned(),
            Cursor::Offset(_) => DATA_CENTER_SEARCH.to_owned(),
        },
        detail: format!("the search came back to a position it had already read ({cursor:?})"),
    }
}

/// Moves the values of instance-specific field ids to the ids the issue reader knows
/// (for example a custom Environment field to `environment`).
fn with_reader_field_ids<'a>(
    body: &'a [u8],
    aliases: &[(String, &'static str)],
) -> Result<Cow<'a, [u8]>, String> {
    if aliases.is_empty() {
        return Ok(Cow::Borrowed(body));
    }
    let mut page: serde_json::Value =
        serde_json::from_slice(body).map_err(|fault| format!("not JSON ({fault})"))?;
    let issues = page.get_mut("issues").and_then(|issues| issues.as_array_mut());
    for issue in issues.into_iter().flatten() {
        let Some(fields) = issue.get_mut("fields").and_then(|f| f.as_object_mut()) else {
            continue;
        };
        for (from, to) in aliases {
            if let Some(value) = fields.remove(from).filter(|value| !value.is_null()) {
                fields.insert((*to).to_owned(), value);
            }
        }
    }
    serde_json::to_vec(&page).map(Cow::Owned).map_err(|fault| fault.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_serialise_as_small_json_checkpoints() {
        let token = Cursor::Token(Some("CAEaAggD".to_owned()));
        assert_eq!(serde_json::to_string(&token).unwrap(), r#"{"token":"CAEaAggD"}"#);
        assert_eq!(serde_json::to_string(&Cursor::Offset(150)).unwrap(), r#"{"offset":150}"#);
        let back: Cursor = serde_json::from_str(r#"{"token":null}"#).unwrap();
        assert_eq!(back, Cursor::Token(None));
    }

    #[test]
    fn project_keys_are_quoted_in_jql() {
        let jql = updated_since_jql(r#"A"B\"#, Timestamp::from_millis(5), Duration::from_secs(1));
        assert_eq!(jql, r#"project = "A\"B\\" AND updated >= 0 ORDER BY updated ASC, id ASC"#);
    }

    #[test]
    fn a_repeated_token_is_refused() {
        let fault = cloud_next(Some("abc"), false, Some("abc".to_owned()), false).unwrap_err();
        assert!(fault.to_string().contains("same nextPageToken"), "{fault}");
    }
}
