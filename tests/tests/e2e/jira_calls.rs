//! The JIRA calls of syncs on record for the admins: a sync against the fake JIRA followed
//! by `store_jira_calls` leaves the client's per-endpoint, per-status counts in the store,
//! and a second sync adds to them, on SQLite and PostgreSQL.

use bugdash::analytics::store_jira_calls;
use bugdash::ingest::sync::sync_project;
use bugdash::ingest::NoProgress;
use bugdash::store::analytics::JiraCallCount;
use bugdash_tests::fake_jira::Flavor;
use chrono::{Days, Utc};

use crate::stores::{both_backends, TestStore};
use crate::sync::{fake_and_client, plain_request};

async fn syncs_leave_their_jira_calls_in_the_store(test: TestStore) {
    let store = test.store();
    let today = Utc::now().date_naive();
    let week_ago = today - Days::new(6);
    assert_eq!(store.jira_calls(week_ago, today).await.unwrap(), Vec::new());

    let (_fake, client) = fake_and_client(Flavor::Cloud).await;
    sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();
    store_jira_calls(store, &client.stats()).await;
    let first = JiraCallCount::from_stats(&client.stats());
    assert!(first.iter().any(|count| count.status == 200 && count.calls > 1), "{first:?}");
    let mut stored = store.jira_calls(week_ago, today).await.unwrap();
    stored.sort_by(|a, b| (&a.endpoint, a.status).cmp(&(&b.endpoint, b.status)));
    assert_eq!(stored, first);

    // A second client's sync adds its calls to the same day's rows.
    let (_fake, second) = fake_and_client(Flavor::Cloud).await;
    sync_project(store, &second, &plain_request(), &NoProgress).await.unwrap();
    store_jira_calls(store, &second.stats()).await;
    let mut expected = first.clone();
    for count in JiraCallCount::from_stats(&second.stats()) {
        match expected.iter_mut().find(|e| e.endpoint == count.endpoint && e.status == count.status)
        {
            Some(existing) => existing.calls += count.calls,
            None => expected.push(count),
        }
    }
    expected.sort_by(|a, b| (&a.endpoint, a.status).cmp(&(&b.endpoint, b.status)));
    let mut stored = store.jira_calls(week_ago, today).await.unwrap();
    stored.sort_by(|a, b| (&a.endpoint, a.status).cmp(&(&b.endpoint, b.status)));
    assert_eq!(stored, expected);
    let total: u64 = stored.iter().map(|count| count.calls).sum();
    assert_eq!(total, client.stats().total() + second.stats().total());

    // Days outside the range hold nothing.
    let long_ago = today - Days::new(30);
    assert_eq!(store.jira_calls(long_ago, long_ago).await.unwrap(), Vec::new());
}

both_backends!(syncs_leave_their_jira_calls_in_the_store);
