//! `Jira`: the core's JIRA REST client, fetching issues page by page.

use bugdash::jira::client::{JiraAuth, JiraClient, JiraConfig};
use bugdash::model::Issue;
use bugdash::secret::Secret;
use pyo3::prelude::*;

use crate::errors::{input, to_py, Domain, JiraError};
use crate::issues::Issues;
use crate::runtime::wait;

/// A JIRA site (Cloud or Data Center) read through its REST API.
///
/// Cloud takes an account email and an API token (Basic auth); Data Center takes a
/// personal access token (sent as a Bearer token); with neither, only public projects
/// are visible. Tokens are never shown by `repr` or in error messages.
///
/// Args:
///     url: the site, such as "https://example.atlassian.net" or
///         "https://issues.apache.org/jira".
///     email: the account's email (Cloud, with `token`).
///     token: the account's API token (Cloud, with `email`).
///     pat: a personal access token (Data Center).
///
/// Raises:
///     JiraError: the URL is unusable or the credentials are incomplete.
///
/// Example:
///     >>> jira = bugdash.Jira("https://example.atlassian.net", email="me@example.com",
///     ...                     token=os.environ["JIRA_API_TOKEN"])
///     >>> issues = jira.fetch("ZOOKEEPER")
#[pyclass(frozen, module = "bugdash")]
pub struct Jira {
    client: JiraClient,
}

#[pymethods]
impl Jira {
    #[new]
    #[pyo3(signature = (url, email=None, token=None, pat=None))]
    fn new(
        url: &str,
        email: Option<String>,
        token: Option<String>,
        pat: Option<String>,
    ) -> PyResult<Self> {
        let auth = match (email, token, pat) {
            (None, None, None) => JiraAuth::Anonymous,
            (None, None, Some(pat)) => JiraAuth::Bearer { token: Secret::new(pat) },
            (Some(email), Some(token), None) => {
                JiraAuth::Basic { email, token: Secret::new(token) }
            }
            (_, _, Some(_)) => {
                return Err(JiraError::new_err(
                    "give either pat (Data Center) or email and token (Cloud), not both",
                ))
            }
            (Some(_), None, None) => {
                return Err(JiraError::new_err("email needs its API token: pass token=..."))
            }
            (None, Some(_), None) => {
                return Err(JiraError::new_err(
                    "an API token needs the account's email: pass email=... (or pat=... \
                     for a Data Center personal access token)",
                ))
            }
        };
        let client = JiraClient::new(JiraConfig::new(url, auth))
            .map_err(|error| to_py(error, Domain::Jira))?;
        Ok(Jira { client })
    }

    /// Fetches every issue of a project (or of a JQL query), with whole changelogs.
    ///
    /// Pages are fetched in the background with the interpreter lock released; Ctrl-C
    /// stops the fetch and raises KeyboardInterrupt.
    ///
    /// Args:
    ///     project: project key, such as "ZOOKEEPER".
    ///     jql: a JQL query; with `project` too, the project's issues that match it.
    ///
    /// Returns:
    ///     Issues: the issues fetched.
    ///
    /// Raises:
    ///     InputError: neither project nor jql given.
    ///     JiraError: JIRA refused the credentials or the query, or failed after retries.
    ///
    /// Example:
    ///     >>> issues = jira.fetch("ZOOKEEPER", jql="issuetype = Bug")
    #[pyo3(signature = (project=None, jql=None))]
    fn fetch(&self, py: Python<'_>, project: Option<&str>, jql: Option<&str>) -> PyResult<Issues> {
        let jql = query(project, jql)?;
        let client = self.client.clone();
        let fetched = wait(py, async move { fetch_all(&client, &jql).await })?;
        let issues = fetched.map_err(|error| to_py(error, Domain::Jira))?;
        Ok(py.detach(|| Issues::new(issues)))
    }

    /// How many requests were sent so far, by endpoint and status.
    ///
    /// Returns:
    ///     int: the number of HTTP requests this client has sent.
    #[getter]
    fn api_calls(&self) -> u64 {
        self.client.stats().total()
    }

    fn __repr__(&self) -> String {
        let config = self.client.config();
        let account = config.auth.account().map(|a| format!(" as {a}")).unwrap_or_default();
        format!("<bugdash.Jira {} ({} auth{account})>", config.url, config.auth.scheme())
    }

    /// A client holds connections and credentials, which are never pickled or copied.
    fn __reduce__(&self) -> PyResult<()> {
        Err(crate::errors::BugDashError::new_err(
            "a bugdash.Jira cannot be pickled or copied (it holds connections and \
             credentials); make a new Jira with the same settings instead",
        ))
    }
}

/// The JQL of a fetch: the project's issues, narrowed by `jql` when both are given.
fn query(project: Option<&str>, jql: Option<&str>) -> PyResult<String> {
    let project = project.map(str::trim).filter(|p| !p.is_empty());
    let jql = jql.map(str::trim).filter(|q| !q.is_empty());
    match (project, jql) {
        (None, None) => Err(input("fetch needs a project key or a JQL query")),
        (None, Some(jql)) => Ok(jql.to_owned()),
        (Some(project), None) => Ok(format!("project = {} ORDER BY key ASC", quote(project))),
        (Some(project), Some(jql)) => Ok(format!("project = {} AND ({jql})", quote(project))),
    }
}

/// A JQL string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every page of the query, one after another (each page's changelogs are completed by
/// the client).
async fn fetch_all(client: &JiraClient, jql: &str) -> bugdash::Result<Vec<Issue>> {
    let mut cursor = Some(client.first_cursor().await?);
    let mut issues = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(at) = cursor {
        if !seen.insert(at.clone()) {
            break;
        }
        let page = client.search_page(jql, &at).await?;
        issues.extend(page.issues);
        cursor = page.next;
    }
    Ok(issues)
}
