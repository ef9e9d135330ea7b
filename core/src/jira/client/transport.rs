//! Sending one logical request to JIRA: the in-flight bound, the auth header, retries
//! with waits, the reading of refusals, and the call counters.
//!
//! A body is parsed inside the retry loop, so that a 2xx answer that does not parse (a
//! cut-off document, an HTML page from a proxy) is asked for again with the same
//! parameters instead of ending a sync or, worse, reading as an empty page. Parsing runs
//! on the runtime's blocking threads: a search page of 1,000 issues takes milliseconds
//! to read, and a runtime thread held that long delays every other request and answer
//! waiting for it (the next page's request among them, measured at 20 ms a page).

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::auth::{denial_in_headers, message_of_body};
use super::error::JiraError;
use super::retry::retry_after;
use super::stats::CallOutcome;
use super::Inner;

/// One GET request: the endpoint template names it in counters and errors.
#[derive(Debug, Clone)]
pub(crate) struct Get {
    /// The endpoint template, such as `/rest/api/2/issue/{key}`.
    pub(crate) endpoint: &'static str,
    /// The path actually requested, below the configured base URL.
    pub(crate) path: String,
    /// Query parameters.
    pub(crate) query: Vec<(&'static str, String)>,
}

impl Get {
    /// A request whose path is its endpoint template.
    pub(crate) fn new(endpoint: &'static str) -> Self {
        Get { endpoint, path: endpoint.to_owned(), query: Vec::new() }
    }

    /// Adds a query parameter.
    pub(crate) fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

/// What one attempt came to.
enum Attempt<T> {
    Done(T),
    Fail(JiraError),
    Retry { error: JiraError, wait: Duration },
}

impl Inner {
    /// Sends `get`, retrying as the policy allows, and parses a successful body with
    /// `parse` (whose `Err` is a description of what is wrong with the body).
    pub(crate) async fn fetch<T: Send + 'static>(
        &self,
        get: &Get,
        parse: impl Fn(&[u8]) -> Result<T, String> + Clone + Send + 'static,
    ) -> Result<T, JiraError> {
        let attempts = self.config.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.attempt(get, &parse, attempt).await {
                Attempt::Done(value) => return Ok(value),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry { error, .. } if attempt >= attempts => return Err(error),
                Attempt::Retry { error, wait } => {
                    tracing::debug!(endpoint = get.endpoint, attempt, ?wait, %error, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
            attempt += 1;
        }
    }

    async fn attempt<T: Send + 'static>(
        &self,
        get: &Get,
        parse: &(impl Fn(&[u8]) -> Result<T, String> + Clone + Send + 'static),
        attempt: u32,
    ) -> Attempt<T> {
        let permit = match self.in_flight.acquire().await {
            Ok(permit) => permit,
            Err(_) => return Attempt::Fail(config_error("the client was shut down")),
        };
        let url = format!("{}{}", self.base_url, get.path);
        let request = self.config.auth.apply(self.http.get(url).query(&get.query));
        let answer = match request.send().await {
            Ok(response) => {
                let (status, headers) = (response.status(), response.headers().clone());
                Ok((status, headers, response.bytes().await))
            }
            Err(fault) => Err(fault),
        };
        drop(permit);

        let is_retry = attempt > 1;
        match answer {
            Err(fault) => {
                self.stats.record(get.endpoint, CallOutcome::NoAnswer, is_retry);
                let error = self.network_error(get, &fault);
                Attempt::Retry { error, wait: self.config.retry.backoff(attempt) }
            }
            Ok((status, headers, body)) => {
                self.stats.record(get.endpoint, CallOutcome::Status(status.as_u16()), is_retry);
                match body {
                    Ok(body) => match self.classify(get, status, &headers, &body, attempt) {
                        Attempt::Done(()) => self.parse(get, body, parse.clone(), attempt).await,
                        Attempt::Fail(error) => Attempt::Fail(error),
                        Attempt::Retry { error, wait } => Attempt::Retry { error, wait },
                    },
                    Err(fault) => Attempt::Retry {
                        error: self.network_error(get, &fault),
                        wait: self.config.retry.backoff(attempt),
                    },
                }
            }
        }
    }

    /// Reads a successful answer's body on a blocking thread; a body that does not parse
    /// is a reason to ask again.
    async fn parse<T: Send + 'static>(
        &self,
        get: &Get,
        body: bytes::Bytes,
        parse: impl Fn(&[u8]) -> Result<T, String> + Send + 'static,
        attempt: u32,
    ) -> Attempt<T> {
        let endpoint = get.endpoint.to_owned();
        match tokio::task::spawn_blocking(move || parse(&body)).await {
            Ok(Ok(value)) => Attempt::Done(value),
            Ok(Err(detail)) => Attempt::Retry {
                error: JiraError::BadResponse { endpoint, detail },
                wait: self.config.retry.backoff(attempt),
            },
            // A panic in the parser is BugDash's fault, not JIRA's: it goes on up.
            Err(fault) if fault.is_panic() => std::panic::resume_unwind(fault.into_panic()),
            Err(fault) => Attempt::Fail(JiraError::BadResponse {
                endpoint,
                detail: format!("reading the answer was cancelled: {fault}"),
            }),
        }
    }

    /// Turns an HTTP answer into "parse the body" (`Done`), a final error or a reason to
    /// wait and retry.
    fn classify(
        &self,
        get: &Get,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        attempt: u32,
    ) -> Attempt<()> {
        let code = status.as_u16();
        let endpoint = get.endpoint.to_owned();
        let policy = &self.config.retry;
        if let Some(reason) = denial_in_headers(code, headers) {
            return Attempt::Fail(self.refused(code, reason, body));
        }
        match code {
            200..=299 => Attempt::Done(()),
            401 => Attempt::Fail(self.config.auth.refused(code, message_of_body(body))),
            403 => Attempt::Fail(JiraError::Forbidden { endpoint, message: message_of_body(body) }),
            404 => Attempt::Fail(JiraError::NotFound { endpoint, message: message_of_body(body) }),
            410 => Attempt::Fail(JiraError::Gone {
                advice: advice_for_removed(get.endpoint),
                endpoint,
                message: message_of_body(body),
            }),
            // Never parse these bodies: JIRA Cloud sends an HTML page with its 429.
            429 => Attempt::Retry {
                error: JiraError::RateLimited { endpoint, attempts: attempt },
                wait: policy.rate_limit_wait(attempt, retry_after(headers)),
            },
            503 => Attempt::Retry {
                error: JiraError::Server { endpoint, status: code, attempts: attempt },
                wait: policy.rate_limit_wait(attempt, retry_after(headers)),
            },
            500..=599 => Attempt::Retry {
                error: JiraError::Server { endpoint, status: code, attempts: attempt },
                wait: policy.backoff(attempt),
            },
            400..=499 => Attempt::Fail(JiraError::BadRequest {
                endpoint,
                status: code,
                message: message_of_body(body),
            }),
            _ => Attempt::Fail(JiraError::BadResponse {
                endpoint,
                detail: format!("unexpected HTTP status {status}"),
            }),
        }
    }

    /// A refusal signalled by headers; JIRA's body, if it says anything, is added.
    fn refused(&self, status: u16, reason: String, body: &[u8]) -> JiraError {
        tracing::warn!(scheme = self.config.auth.scheme(), status, "JIRA refused the login");
        let said = message_of_body(body);
        let message = if status >= 300 && said != "no message" && !said.starts_with('{') {
            format!("{reason} ({said})")
        } else {
            reason
        };
        self.config.auth.refused(status, message)
    }

    fn network_error(&self, get: &Get, fault: &reqwest::Error) -> JiraError {
        let detail = if fault.is_timeout() {
            format!("no answer within {:?}", self.config.request_timeout)
        } else {
            // reqwest's top-level message hides the cause (refused, reset, cut short).
            let mut detail = fault.to_string();
            let mut source = std::error::Error::source(fault);
            while let Some(cause) = source {
                detail = format!("{detail}: {cause}");
                source = cause.source();
            }
            detail
        };
        JiraError::Network { endpoint: get.endpoint.to_owned(), detail }
    }
}

fn config_error(message: &str) -> JiraError {
    JiraError::Config { message: message.to_owned() }
}

/// What to do when JIRA says an endpoint is gone.
fn advice_for_removed(endpoint: &str) -> String {
    if endpoint.ends_with("/search") {
        "Atlassian removed this search from JIRA Cloud. Set the deployment to Cloud (or leave \
         it unset so that BugDash asks /rest/api/2/serverInfo) so that searches use \
         /rest/api/3/search/jql."
            .to_owned()
    } else {
        "this JIRA no longer offers the endpoint; check the deployment setting (Cloud or Data \
         Center) and the JIRA version."
            .to_owned()
    }
}
