//! A JIRA REST client for reading issues: JIRA Cloud and Data Center, paged searches,
//! field discovery, whole changelogs, retries and call counts.
//!
//! Cloud and Data Center differ where it matters for a sync. Cloud searches with
//! `/rest/api/3/search/jql`, pages by an opaque `nextPageToken` and returns only issue
//! ids unless the request names its fields; Data Center searches with `/rest/api/2/search`,
//! pages by offset and may silently return fewer issues per page than asked for. A
//! [`Cursor`] carries either kind of position and serialises to JSON, so that a sync can
//! store it as its checkpoint and resume from it.
//!
//! ```no_run
//! # async fn run() -> bugdash::Result<()> {
//! use bugdash::jira::client::{JiraAuth, JiraClient, JiraConfig};
//! use bugdash::secret::Secret;
//!
//! let auth = JiraAuth::Basic { email: "person@example.com".into(), token: Secret::new("t") };
//! let client = JiraClient::new(JiraConfig::new("https://example.atlassian.net", auth))?;
//! let mut cursor = Some(client.first_cursor().await?);
//! while let Some(at) = cursor {
//!     let page = client.search_page("project = \"ZOOKEEPER\"", &at).await?;
//!     println!("{} issues", page.issues.len());
//!     cursor = page.next;
//! }
//! # Ok(()) }
//! ```

mod auth;
mod changelog;
mod error;
mod fields;
mod retry;
mod search;
mod stats;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, Semaphore};

pub use auth::JiraAuth;
pub use error::JiraError;
pub use fields::{FieldCatalog, FieldInfo, FieldOverrides, SEARCH_FIELDS};
pub use retry::{RetryPolicy, MIN_RATE_LIMIT_WAIT};
pub use search::{updated_since_jql, Cursor, SearchPage};
pub use stats::{ApiStats, CallOutcome};

use stats::StatsRecorder;
use transport::Get;

/// Which kind of JIRA the client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    /// Atlassian's hosted JIRA (`*.atlassian.net`).
    Cloud,
    /// Self-hosted JIRA Server or Data Center.
    DataCenter,
}

/// Everything the client needs to know; [`JiraConfig::new`] fills in the defaults.
///
/// `Debug` shows the settings but never a token.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraConfig {
    /// Base URL of the JIRA instance, with its context path if any
    /// (`https://issues.apache.org/jira`).
    pub url: String,
    /// Credentials.
    pub auth: JiraAuth,
    /// Cloud or Data Center; `None` asks `/rest/api/2/serverInfo` once.
    pub deployment: Option<Deployment>,
    /// Issues asked for per search page (JIRA may return fewer).
    pub page_size: u32,
    /// Requests allowed in flight at once.
    pub max_in_flight: usize,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// Field (id or display name) to read the environment from, instead of the one
    /// discovered from the field list.
    pub environment_field: Option<String>,
    /// Field (id or display name) holding "Time in Status", instead of the one
    /// discovered; a custom field id is used even when the field list leaves it out.
    pub time_in_status_field: Option<String>,
    /// How long one request may take, body included.
    pub request_timeout: Duration,
}

impl JiraConfig {
    /// Settings for `url` and `auth` with the defaults: deployment from serverInfo,
    /// 100 issues per page, 4 requests in flight, the default [`RetryPolicy`], a 60 s
    /// request timeout.
    pub fn new(url: impl Into<String>, auth: JiraAuth) -> Self {
        JiraConfig {
            url: url.into(),
            auth,
            deployment: None,
            page_size: 100,
            max_in_flight: 4,
            retry: RetryPolicy::default(),
            environment_field: None,
            time_in_status_field: None,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A JIRA REST client. Cloning is cheap and clones share limits, caches and counters.
#[derive(Debug, Clone)]
pub struct JiraClient {
    inner: Arc<Inner>,
}

/// State shared by the clones of a client.
#[derive(Debug)]
pub(crate) struct Inner {
    config: JiraConfig,
    base_url: String,
    http: reqwest::Client,
    in_flight: Semaphore,
    stats: StatsRecorder,
    deployment: OnceCell<Deployment>,
    fields: OnceCell<FieldCatalog>,
}

impl JiraClient {
    /// Checks the settings and builds a client; no request is sent yet.
    pub fn new(config: JiraConfig) -> crate::Result<Self> {
        let base_url = checked_base_url(&config.url)?;
        config.auth.check()?;
        if config.page_size == 0 || config.max_in_flight == 0 {
            return Err(config_error("page size and requests in flight must be at least 1").into());
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("bugdash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|fault| config_error(&format!("cannot set up HTTP: {fault}")))?;
        let inner = Inner {
            in_flight: Semaphore::new(config.max_in_flight),
            config,
            base_url,
            http,
            stats: StatsRecorder::default(),
            deployment: OnceCell::new(),
            fields: OnceCell::new(),
        };
        Ok(JiraClient { inner: Arc::new(inner) })
    }

    /// The settings the client was built with.
    pub fn config(&self) -> &JiraConfig {
        &self.inner.config
    }

    /// Cloud or Data Center: as configured, else from `/rest/api/2/serverInfo`
    /// (`deploymentType` "Cloud", or "Server" / "DataCenter"), asked once.
    pub async fn deployment(&self) -> crate::Result<Deployment> {
        if let Some(deployment) = self.inner.config.deployment {
            return Ok(deployment);
        }
        let ask = || async {
            let get = Get::new("/rest/api/2/serverInfo");
            self.inner.fetch(&get, parse_deployment).await
        };
        Ok(*self.inner.deployment.get_or_try_init(ask).await?)
    }

    /// The instance's fields and the ones BugDash reads, from `/rest/api/2/field`,
    /// asked once.
    pub async fn fields(&self) -> crate::Result<&FieldCatalog> {
        let ask = || async {
            let get = Get::new("/rest/api/2/field");
            let fields = self.inner.fetch(&get, fields::parse_field_list).await?;
            let config = &self.inner.config;
            let overrides = FieldOverrides {
                environment: config.environment_field.as_deref(),
                time_in_status: config.time_in_status_field.as_deref(),
            };
            // An unknown override is a settings fault, not a bad answer to retry.
            FieldCatalog::resolve(fields, overrides).map_err(|message| config_error(&message))
        };
        Ok(self.inner.fields.get_or_try_init(ask).await?)
    }

    /// Counts of the calls made so far.
    pub fn stats(&self) -> ApiStats {
        self.inner.stats.snapshot()
    }
}

/// Reads `deploymentType` from a serverInfo answer; old Server versions leave it out.
fn parse_deployment(body: &[u8]) -> Result<Deployment, String> {
    #[derive(Deserialize)]
    struct ServerInfo {
        #[serde(rename = "deploymentType")]
        deployment_type: Option<String>,
    }
    let info: ServerInfo = serde_json::from_slice(body)
        .map_err(|fault| format!("expected the serverInfo JSON object ({fault})"))?;
    Ok(match info.deployment_type.as_deref().map(str::trim) {
        Some(kind) if kind.eq_ignore_ascii_case("cloud") => Deployment::Cloud,
        _ => Deployment::DataCenter,
    })
}

/// The base URL without a trailing slash, refused unless it is http(s) with a host.
fn checked_base_url(url: &str) -> Result<String, JiraError> {
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(config_error("no JIRA URL is set (JIRA_URL)"));
    }
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|fault| config_error(&format!("JIRA URL {trimmed:?} is not a URL: {fault}")))?;
    let web = matches!(parsed.scheme(), "http" | "https");
    if !web || parsed.host_str().is_none() || parsed.query().is_some() {
        return Err(config_error(&format!(
            "JIRA URL {trimmed:?} must be http(s)://host[/context], such as \
             https://example.atlassian.net"
        )));
    }
    Ok(trimmed.to_owned())
}

fn config_error(message: &str) -> JiraError {
    JiraError::Config { message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn config_debug_never_shows_the_token() {
        let auth = JiraAuth::Basic { email: "a@example.com".into(), token: Secret::new("tok-9") };
        let shown = format!("{:?}", JiraConfig::new("https://example.atlassian.net", auth));
        assert!(shown.contains("a@example.com") && !shown.contains("tok-9"), "{shown}");
    }

    #[test]
    fn unusable_urls_are_refused_before_any_request() {
        let bad = ["", "example.atlassian.net", "ftp://host", "https://host/?a=1"];
        for url in bad {
            let config = JiraConfig::new(url, JiraAuth::Anonymous);
            let error = JiraClient::new(config).unwrap_err();
            assert!(matches!(error, crate::Error::Jira(JiraError::Config { .. })), "{url}");
        }
    }
}
