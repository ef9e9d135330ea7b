//! Shared set-up: clients pointed at a fake, and the source data to compare with.

use std::collections::BTreeSet;
use std::time::Duration;

use bugdash::jira::client::{Deployment, JiraAuth, JiraClient, JiraConfig, RetryPolicy};
use bugdash::secret::Secret;
use bugdash_tests::fake_jira::{zookeeper_issues, FakeJira};

/// The JQL of a full ZooKeeper sync.
pub const ZOOKEEPER_JQL: &str = r#"project = "ZOOKEEPER" ORDER BY updated ASC, id ASC"#;

/// Retries that keep the suite fast: a few milliseconds of wait instead of seconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        rate_limit_floor: Duration::from_millis(2),
    }
}

/// Basic auth as a Cloud account would use it.
pub fn basic() -> JiraAuth {
    JiraAuth::Basic { email: "person@example.com".into(), token: Secret::new("api-token-123") }
}

/// Settings for a client of `fake` with a known deployment.
pub fn config(fake: &FakeJira, deployment: Deployment) -> JiraConfig {
    let mut config = JiraConfig::new(fake.url(), basic());
    config.deployment = Some(deployment);
    config.retry = fast_retry();
    config.request_timeout = Duration::from_secs(10);
    config
}

/// A client of `fake` with a known deployment.
pub fn client(fake: &FakeJira, deployment: Deployment) -> JiraClient {
    build(config(fake, deployment))
}

pub fn build(config: JiraConfig) -> JiraClient {
    JiraClient::new(config).expect("the test settings are valid")
}

/// The ids of the ZooKeeper source files, read without the client.
pub fn source_ids() -> BTreeSet<u64> {
    zookeeper_issues()
        .iter()
        .map(|issue| issue["id"].as_str().and_then(|id| id.parse().ok()).expect("numeric id"))
        .collect()
}

/// The keys of the ZooKeeper source, sorted as the fake's searches sort them (updated,
/// then id), read without the client.
pub fn source_keys_in_search_order() -> Vec<String> {
    let mut issues: Vec<(i64, u64, String)> = zookeeper_issues()
        .iter()
        .map(|issue| {
            let updated = issue["fields"]["updated"].as_str().unwrap_or_default();
            let at = bugdash::time::parse_timestamp(updated).expect("updated is a date");
            let id = issue["id"].as_str().and_then(|id| id.parse().ok()).expect("numeric id");
            (at.millis(), id, issue["key"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    issues.sort();
    issues.into_iter().map(|(_, _, key)| key).collect()
}
