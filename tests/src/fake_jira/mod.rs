//! A fake JIRA on 127.0.0.1 for end-to-end tests: it replays recorded JIRA responses,
//! serves paged searches over real Apache issues in the Cloud or the Data Center
//! dialect, and misbehaves on demand.
//!
//! ```no_run
//! # async fn run() {
//! use bugdash_tests::fake_jira::{Dataset, FakeJira, Fault, Flavor};
//!
//! let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
//! fake.inject(Fault::RateLimited { retry_after: Some("0".into()), html_body: true }, 1);
//! // … point a client at fake.url() …
//! assert!(fake.requests().iter().any(|r| r.status == 429));
//! # }
//! ```

mod dataset;
mod fault;
pub mod jql;
mod routes;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;

pub use dataset::{
    drill_issues, fixture, read_fixture, zookeeper_files, zookeeper_issues, Dataset, FieldList,
    Flavor,
};
pub use fault::{observed, BodyForm, Fault};
pub use state::RequestRecord;

use state::Shared;

/// A running fake JIRA. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeJira {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeJira {
    /// Starts a fake serving `dataset` on a random port of 127.0.0.1.
    pub async fn start(dataset: Dataset) -> FakeJira {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|fault| panic!("cannot listen on 127.0.0.1: {fault}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|fault| panic!("listener has no address: {fault}"));
        let shared = Arc::new(Shared::new(dataset, format!("http://{address}")));
        let app = routes::app(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(fault) = axum::serve(listener, app).await {
                eprintln!("fake JIRA stopped: {fault}");
            }
        });
        FakeJira { address, shared, server }
    }

    /// The base URL to give a client (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Injects `fault` into the next `times` search requests (Cloud or Data Center).
    pub fn inject(&self, fault: Fault, times: usize) {
        self.shared.arm(None, fault, times);
    }

    /// Injects `fault` into the next `times` search requests for the page at `position`:
    /// Data Center's `startAt`, or the offset a Cloud page token stands for (0 for the
    /// first page). Unlike a fault armed once some pages are written, it hits the same
    /// page however far ahead the client reads. Searches for ids alone (a census) are
    /// never hit.
    pub fn inject_at_position(&self, position: u64, fault: Fault, times: usize) {
        self.shared.arm_at_position(position, fault, times);
    }

    /// Injects `fault` into the next `times` requests whose path starts with `path`.
    pub fn inject_at(&self, path: &str, fault: Fault, times: usize) {
        self.shared.arm(Some(path.to_owned()), fault, times);
    }

    /// Injections not yet used up.
    pub fn pending_faults(&self) -> usize {
        self.shared.pending_faults()
    }

    /// Delays every search page by `latency`, as a busy server would.
    pub fn set_page_latency(&self, latency: Duration) {
        self.shared.settings().page_latency = latency;
    }

    /// Delays every search page of ids alone (a census) by `latency` instead.
    pub fn set_id_page_latency(&self, latency: Duration) {
        self.shared.settings().id_page_latency = latency;
    }

    /// Searches of ids alone (census pages) that have arrived, answered or not.
    pub fn id_searches_arrived(&self) -> usize {
        self.shared.id_searches()
    }

    /// Keeps every successful search answer and sends the same bytes when the same search
    /// (path, query, page cap and token epoch) comes again, until an issue is added,
    /// changed or deleted. For benchmarks: a real JIRA shapes its answers on its own
    /// machine, and a warmed fake spends next to nothing on the cores it shares with the
    /// client being measured. Faults and latency apply as always.
    pub fn remember_search_answers(&self, remember: bool) {
        self.shared.settings().remember_answers = remember;
    }

    /// The most issues a Data Center search returns per page, whatever `maxResults` says.
    pub fn set_page_cap(&self, cap: usize) {
        self.shared.settings().page_cap = cap.max(1);
    }

    /// The most entries the changelog endpoint returns per page.
    pub fn set_changelog_page_cap(&self, cap: usize) {
        self.shared.settings().changelog_page_cap = cap.max(1);
    }

    /// Makes every Cloud page token handed out so far invalid: a search asking with one is
    /// answered 400 "The provided next page token is invalid or expired", as Cloud answers
    /// once a token has expired.
    pub fn expire_page_tokens(&self) {
        self.shared.settings().token_epoch += 1;
    }

    /// Every request served so far, in the order they finished.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log()
    }

    /// The requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RequestRecord> {
        self.requests().into_iter().filter(|request| request.path == path).collect()
    }

    /// Forgets the request log and the in-flight high-water mark, once the requests in
    /// progress are answered: a client that gave up on a request (a failed run dropping
    /// the pages it read ahead) leaves it running here, and its late entry would otherwise
    /// land in the log of what comes next.
    pub async fn clear_log(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.shared.in_flight() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the fake JIRA never went idle");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.shared.clear_log();
    }

    /// The most requests the fake had in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight()
    }

    /// The issue objects currently served, sorted by updated then id.
    pub fn issues(&self) -> Vec<Value> {
        self.shared.data().issues.iter().map(|entry| Value::clone(&entry.doc)).collect()
    }

    /// Adds an issue, or replaces the one with the same id.
    pub fn upsert_issue(&self, issue: Value) {
        self.shared.data().upsert(issue);
    }

    /// Changes the issue with `key` (or id) through `edit`; false when there is none.
    pub fn modify_issue(&self, key: &str, edit: impl FnOnce(&mut Value)) -> bool {
        self.shared.data().modify(key, edit)
    }

    /// Deletes the issue with `key` (or id); false when there is none.
    pub fn delete_issue(&self, key: &str) -> bool {
        self.shared.data().delete(key)
    }

    /// Moves an issue to another project under a new key, keeping its id, and stamps
    /// `updated` with `updated` (JIRA's text form).
    pub fn move_issue(&self, key: &str, new_key: &str, new_project: &str, updated: &str) -> bool {
        self.modify_issue(key, |issue| {
            issue["key"] = Value::String(new_key.to_owned());
            issue["fields"]["project"]["key"] = Value::String(new_project.to_owned());
            issue["fields"]["updated"] = Value::String(updated.to_owned());
        })
    }
}

impl Drop for FakeJira {
    fn drop(&mut self) {
        self.server.abort();
    }
}
