//! Counts of the calls made to JIRA, by endpoint and answer, for the sync report and the
//! metrics endpoint.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What came back from one request: an HTTP status, or no answer at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallOutcome {
    /// JIRA answered with this HTTP status.
    Status(u16),
    /// The request failed before an answer arrived (connection fault or timeout).
    NoAnswer,
}

/// A snapshot of the calls a client has made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiStats {
    /// Requests sent, by endpoint template (such as `/rest/api/3/search/jql`) and outcome.
    pub calls: BTreeMap<(String, CallOutcome), u64>,
    /// Requests that were repeats of an earlier failed one.
    pub retries: u64,
}

impl ApiStats {
    /// Requests to `endpoint` that got HTTP `status`.
    pub fn count(&self, endpoint: &str, status: u16) -> u64 {
        let key = (endpoint.to_owned(), CallOutcome::Status(status));
        self.calls.get(&key).copied().unwrap_or(0)
    }

    /// Requests to `endpoint`, whatever the outcome.
    pub fn endpoint_total(&self, endpoint: &str) -> u64 {
        let calls = self.calls.iter().filter(|((name, _), _)| name == endpoint);
        calls.map(|(_, count)| count).sum()
    }

    /// All requests sent.
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }
}

/// The live counters behind [`ApiStats`], shared by every request of a client.
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    calls: Mutex<BTreeMap<(String, CallOutcome), u64>>,
    retries: AtomicU64,
}

impl StatsRecorder {
    pub(crate) fn record(&self, endpoint: &str, outcome: CallOutcome, is_retry: bool) {
        // A poisoned lock only means another request panicked mid-increment; the counts
        // are still the best there are.
        let mut calls = self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *calls.entry((endpoint.to_owned(), outcome)).or_default() += 1;
        if is_retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> ApiStats {
        let calls = self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        ApiStats { calls, retries: self.retries.load(Ordering::Relaxed) }
    }
}
