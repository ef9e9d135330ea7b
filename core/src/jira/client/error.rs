//! What can go wrong talking to JIRA, worded so that the person running BugDash knows
//! whether to fix a setting, wait, or report a fault of the server.

/// A failed JIRA request, after whatever retries the [`RetryPolicy`] allowed.
///
/// Auth and configuration faults ([`JiraError::Unauthorized`], [`JiraError::Forbidden`],
/// [`JiraError::Gone`], [`JiraError::Config`], [`JiraError::BadRequest`]) are never
/// retried: asking again would give the same answer.
///
/// [`RetryPolicy`]: super::RetryPolicy
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JiraError {
    /// JIRA refused the credentials (401, a 403 with a CAPTCHA challenge, or a 200 that
    /// JIRA marks as an anonymous answer after a failed login).
    #[error("JIRA refused {scheme} auth{} (HTTP {status}): {message}", for_account(account))]
    Unauthorized {
        /// The scheme that was sent: `Basic`, `Bearer` or `anonymous`.
        scheme: String,
        /// The account the credentials belong to, when the scheme names one (Basic).
        account: Option<String>,
        /// The HTTP status JIRA answered with.
        status: u16,
        /// JIRA's own explanation, taken from a text, JSON or XML body.
        message: String,
    },
    /// The credentials were accepted but lack a permission for `endpoint`.
    #[error("JIRA denied access to {endpoint} (HTTP 403): {message}")]
    Forbidden {
        /// The endpoint template that was called.
        endpoint: String,
        /// JIRA's explanation.
        message: String,
    },
    /// The endpoint was removed from this JIRA (410): a configuration fault, never "no
    /// issues".
    #[error("JIRA has removed {endpoint} (HTTP 410): {advice} JIRA said: {message}")]
    Gone {
        /// The endpoint template that was called.
        endpoint: String,
        /// What to use instead.
        advice: String,
        /// JIRA's explanation.
        message: String,
    },
    /// The thing asked for does not exist or is not visible to the account (404).
    #[error("JIRA found nothing at {endpoint} (HTTP 404): {message}")]
    NotFound {
        /// The endpoint template that was called.
        endpoint: String,
        /// JIRA's explanation.
        message: String,
    },
    /// JIRA rejected the request itself (400 and other 4xx), for example a JQL fault such
    /// as an unknown project.
    #[error("JIRA rejected the request to {endpoint} (HTTP {status}): {message}")]
    BadRequest {
        /// The endpoint template that was called.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// JIRA's explanation.
        message: String,
    },
    /// JIRA kept answering 429 until the retries ran out.
    #[error("JIRA kept limiting the rate of {endpoint} (HTTP 429) after {attempts} attempts")]
    RateLimited {
        /// The endpoint template that was called.
        endpoint: String,
        /// How many requests were sent.
        attempts: u32,
    },
    /// JIRA kept failing with a server error (5xx) until the retries ran out.
    #[error("JIRA failed on {endpoint} with HTTP {status} after {attempts} attempts")]
    Server {
        /// The endpoint template that was called.
        endpoint: String,
        /// The last HTTP status.
        status: u16,
        /// How many requests were sent.
        attempts: u32,
    },
    /// JIRA answered with success but the body is not what the endpoint returns (an HTML
    /// page, a cut-off document, a paging contradiction), also after retries.
    #[error("JIRA sent an unusable answer from {endpoint}: {detail}")]
    BadResponse {
        /// The endpoint template that was called.
        endpoint: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// No HTTP answer at all (connection refused, reset, timed out), after retries.
    #[error("could not reach JIRA at {endpoint}: {detail}")]
    Network {
        /// The endpoint template that was called.
        endpoint: String,
        /// The transport's description of the failure.
        detail: String,
    },
    /// The client settings are unusable (no URL, a malformed URL, an empty token).
    #[error("JIRA settings: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn for_account(account: &Option<String>) -> String {
    account.as_ref().map(|account| format!(" for {account}")).unwrap_or_default()
}

impl JiraError {
    /// True when the fault is the caller's settings (credentials, URL, removed endpoint)
    /// rather than JIRA being busy or broken.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            JiraError::Unauthorized { .. }
                | JiraError::Forbidden { .. }
                | JiraError::Gone { .. }
                | JiraError::Config { .. }
        )
    }
}
