//! Whole changelogs for issues whose search result carried only part of theirs.
//!
//! A search embeds at most a few dozen changelog entries per issue (Cloud stops at 40), so
//! an issue with a long history comes back with `total` above what it holds. Its status
//! history, reopen count and completeness are rebuilt from the whole changelog: paged from
//! `/rest/api/2/issue/{id}/changelog` on Cloud, or the issue itself with
//! `expand=changelog` on Data Center, which returns every entry.

use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::task::JoinSet;

use super::error::JiraError;
use super::transport::Get;
use super::{Deployment, JiraClient};
use crate::jira::json::read_json;
use crate::model::{HistorySource, Issue};

const CHANGELOG: &str = "/rest/api/2/issue/{id}/changelog";
const ISSUE: &str = "/rest/api/2/issue/{key}";

/// One page of `/rest/api/2/issue/{id}/changelog`.
#[derive(Debug, Deserialize)]
struct ChangelogPage {
    #[serde(rename = "isLast")]
    is_last: Option<bool>,
    total: Option<u64>,
    values: Vec<Box<RawValue>>,
}

/// The parts of an issue that come from its changelog.
#[derive(Debug)]
struct History {
    issue: Issue,
}

impl JiraClient {
    /// The issue with this key or id, with its whole changelog; `None` when JIRA says it
    /// does not exist (deleted, or no longer visible to the account).
    pub async fn issue(&self, key: &str) -> crate::Result<Option<Issue>> {
        let catalog = self.fields().await?;
        let get = Get { path: format!("/rest/api/2/issue/{key}"), ..Get::new(ISSUE) }
            .param("fields", catalog.search_fields().join(","))
            .param("expand", "changelog");
        let found = self.inner.fetch(&get, |body| read_issue(ISSUE, body)).await;
        let mut issue = match found {
            Ok(issue) => issue,
            Err(JiraError::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        self.complete_histories(std::slice::from_mut(&mut issue)).await?;
        Ok(Some(issue))
    }

    /// Replaces the cut-off changelogs among `issues` with whole ones, fetched side by
    /// side within the client's in-flight bound. An issue deleted meanwhile keeps what it
    /// had.
    pub(crate) async fn complete_histories(&self, issues: &mut [Issue]) -> crate::Result<()> {
        let cut: Vec<usize> = (0..issues.len()).filter(|&at| is_cut_off(&issues[at])).collect();
        if cut.is_empty() {
            return Ok(());
        }
        let deployment = self.deployment().await?;
        let mut tasks = JoinSet::new();
        for at in cut {
            let client = self.clone();
            let (id, key) = (issues[at].id, issues[at].key.to_string());
            tasks.spawn(async move { (at, client.whole_history(deployment, id, &key).await) });
        }
        while let Some(joined) = tasks.join_next().await {
            let (at, history) = joined.map_err(|fault| JiraError::Network {
                endpoint: CHANGELOG.to_owned(),
                detail: format!("changelog task failed: {fault}"),
            })?;
            match history {
                Ok(Some(History { issue: whole })) => {
                    let issue = &mut issues[at];
                    issue.status_history = whole.status_history;
                    issue.history_source = whole.history_source;
                    issue.history_complete = whole.history_complete;
                    issue.reopen_count = whole.reopen_count;
                }
                Ok(None) => {
                    tracing::debug!(key = %issues[at].key, "issue gone before its changelog")
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    async fn whole_history(
        &self,
        deployment: Deployment,
        id: Option<u64>,
        key: &str,
    ) -> Result<Option<History>, JiraError> {
        let found = match deployment {
            Deployment::Cloud => self.paged_changelog(id, key).await,
            Deployment::DataCenter => {
                let get = Get { path: format!("/rest/api/2/issue/{key}"), ..Get::new(ISSUE) }
                    .param("fields", "status")
                    .param("expand", "changelog");
                self.inner.fetch(&get, |body| read_issue(ISSUE, body)).await
            }
        };
        match found {
            Ok(issue) => Ok(Some(History { issue })),
            Err(JiraError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Reads every page of the changelog endpoint and rebuilds the issue's history from
    /// them with the ordinary issue reader.
    async fn paged_changelog(&self, id: Option<u64>, key: &str) -> Result<Issue, JiraError> {
        let which = id.map_or_else(|| key.to_owned(), |id| id.to_string());
        let page_size = self.inner.config.page_size.to_string();
        let mut entries: Vec<Box<RawValue>> = Vec::new();
        let mut total = None;
        loop {
            let get =
                Get { path: format!("/rest/api/2/issue/{which}/changelog"), ..Get::new(CHANGELOG) }
                    .param("startAt", entries.len().to_string())
                    .param("maxResults", page_size.clone());
            let page: ChangelogPage = self.inner.fetch(&get, parse_changelog_page).await?;
            let held = page.values.len();
            total = page.total.or(total);
            entries.extend(page.values);
            let reached_total = total.is_some_and(|total| entries.len() as u64 >= total);
            if held == 0 || page.is_last.unwrap_or(reached_total) {
                break;
            }
        }
        let total = total.unwrap_or(entries.len() as u64).max(entries.len() as u64);
        let joined: Vec<&str> = entries.iter().map(|entry| entry.get()).collect();
        let key_json = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".to_owned());
        let document = format!(
            r#"{{"id":"{which}","key":{key_json},"changelog":{{"startAt":0,"total":{total},"histories":[{}]}}}}"#,
            joined.join(",")
        );
        read_issue(CHANGELOG, document.as_bytes())
            .map_err(|detail| JiraError::BadResponse { endpoint: CHANGELOG.to_owned(), detail })
    }
}

/// True when the issue's changelog was embedded but held fewer entries than JIRA counted.
fn is_cut_off(issue: &Issue) -> bool {
    issue.history_source == HistorySource::Changelog && !issue.history_complete
}

fn parse_changelog_page(body: &[u8]) -> Result<ChangelogPage, String> {
    serde_json::from_slice(body).map_err(|fault| format!("not a changelog page ({fault})"))
}

/// Reads the one issue of a single-issue answer.
fn read_issue(endpoint: &str, body: &[u8]) -> Result<Issue, String> {
    let mut issues = read_json(endpoint, body).map_err(|fault| fault.to_string())?;
    match issues.len() {
        1 => Ok(issues.remove(0)),
        count => Err(format!("expected one issue, found {count}")),
    }
}
