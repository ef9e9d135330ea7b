//! A sync that reads its query again from the first page: when issues it already read
//! are updated under its Data Center offset pages (which would otherwise skip one), and
//! when the Cloud page token its checkpoint saved has expired.

use std::sync::atomic::{AtomicU64, Ordering};

use bugdash::ingest::sync::sync_project;
use bugdash::ingest::{NoProgress, Progress, ProgressSink};
use std::time::Duration;

use bugdash::jira::client::updated_since_jql;
use bugdash::model::Timestamp;
use bugdash::store::WriteStats;
use bugdash_tests::fake_jira::{BodyForm, FakeJira, Fault, Flavor};
use serde_json::Value;

use crate::common::source_keys_in_search_order;
use crate::source::assert_store_matches_source;
use crate::stores::{both_backends, TestStore};
use crate::sync::{fake_and_client, plain_request};

/// Latest `updated` of the ZooKeeper source (ZOOKEEPER-3218, the only issue at that
/// instant), found with a script over the example files.
const WATERMARK: i64 = 1_547_165_300_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// Far longer than writing one page of 10 issues takes.
const EDITS_BEFORE_ANSWERS: Duration = Duration::from_millis(500);

/// JIRA's text form of an instant `offset` milliseconds after the source watermark.
fn after_watermark(offset: i64) -> String {
    let at = chrono::DateTime::from_timestamp_millis(WATERMARK + offset).expect("an instant");
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Appends `mark` to the summary of `key` and stamps it `offset` after the watermark.
fn edit(fake: &FakeJira, key: &str, mark: &str, offset: i64) {
    let edited = fake.modify_issue(key, |issue| {
        let summary = issue["fields"]["summary"].as_str().unwrap_or_default().to_owned();
        issue["fields"]["summary"] = Value::String(format!("{summary} {mark}"));
        issue["fields"]["updated"] = Value::String(after_watermark(offset));
    });
    assert!(edited, "{key} is in the source");
}

/// Once two pages have been written, updates the third issue of the result set (read on
/// the first page) so it moves to the end, and an issue not yet read.
struct EditsUnderThePages<'a> {
    fake: &'a FakeJira,
    already_read: String,
    not_yet_read: String,
    pages: AtomicU64,
}

impl ProgressSink for EditsUnderThePages<'_> {
    fn update(&self, _progress: &Progress) {
        if self.pages.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
            edit(self.fake, &self.already_read, "(edited again)", DAY);
            edit(self.fake, &self.not_yet_read, "(edited again)", 2 * DAY);
        }
    }
}

/// Edits the 50 issues first in search order a minute apart after the watermark: with
/// ZOOKEEPER-3218 inside the overlap an incremental sync then reads 51 issues, 10 a page.
/// Returns the source keys in search order.
fn edit_fifty_and_cap_pages_at_ten(fake: &FakeJira) -> Vec<String> {
    let keys = source_keys_in_search_order();
    for (at, key) in keys[..50].iter().enumerate() {
        edit(fake, key, "(edited)", (at as i64 + 1) * MINUTE);
    }
    fake.set_page_cap(10);
    keys
}

/// The premise of the next test, without BugDash's sync: reading the pages by offset as
/// they come, with the same edits after page 2, never returns ZOOKEEPER-53.
#[tokio::test]
async fn offset_pages_skip_an_issue_when_one_already_read_moves_to_the_end() {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    let keys = edit_fifty_and_cap_pages_at_ten(&fake);
    let jql =
        updated_since_jql("ZOOKEEPER", Timestamp::from_millis(WATERMARK), Duration::from_secs(60));
    let mut cursor = client.first_cursor().await.unwrap();
    let mut read = Vec::new();
    for page_number in 1.. {
        let page = client.search_page(&jql, &cursor).await.unwrap();
        read.extend(page.issues.iter().map(|issue| issue.key.to_string()));
        if page_number == 2 {
            edit(&fake, &keys[2], "(edited again)", DAY);
            edit(&fake, &keys[39], "(edited again)", 2 * DAY);
        }
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(read.len(), 51);
    assert_eq!(read.iter().filter(|key| **key == keys[2]).count(), 2);
    assert!(!read.contains(&"ZOOKEEPER-53".to_owned()));
}

async fn a_data_center_sync_rereads_when_issues_change_under_its_pages(store: TestStore) {
    let store = store.store();
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();
    let keys = edit_fifty_and_cap_pages_at_ten(&fake);
    // keys[2] is read on page 1; moving it to the end shifts the rest back by one, so
    // offset 20 would skip keys[19] (ZOOKEEPER-53), as a script paging the same way found.
    let sink = EditsUnderThePages {
        fake: &fake,
        already_read: keys[2].clone(),
        not_yet_read: keys[39].clone(),
        pages: 0.into(),
    };
    assert_eq!((keys[2].as_str(), keys[19].as_str()), ("ZOOKEEPER-120", "ZOOKEEPER-53"));
    // The sync asks for pages 3 to 6 as soon as page 2 arrives, before writing it; the
    // latency makes the fake read its issues only after the edits, as a JIRA busy for
    // longer than one write would.
    fake.set_page_latency(EDITS_BEFORE_ANSWERS);

    let report = sync_project(store, &client, &plain_request(), &sink).await.unwrap();

    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
    let stored = store.issues(&["ZOOKEEPER".to_owned()]).await.unwrap();
    let skipped = stored.iter().find(|issue| issue.key.as_str() == "ZOOKEEPER-53").unwrap();
    assert!(skipped.summary.ends_with("(edited)"), "{}", skipped.summary);
    // One reading of 6 pages saw keys[2] twice, a second reading of 6 pages saw no move.
    assert_eq!((report.restarts, report.pages, report.received), (1, 12, 102));
    assert!(!report.unsettled);
    assert_eq!(report.watermark.map(|at| at.millis()), Some(WATERMARK + 2 * DAY));

    let again = sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();

    // Only keys[39], stamped at the new watermark, is inside the overlap.
    assert_eq!((again.restarts, again.received), (0, 1));
    assert_eq!(again.written, WriteStats { unchanged: 1, ..Default::default() });
    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
}
both_backends!(a_data_center_sync_rereads_when_issues_change_under_its_pages);

async fn an_expired_cloud_page_token_restarts_the_query(store: TestStore) {
    let store = store.store();
    let (fake, client) = fake_and_client(Flavor::Cloud).await;
    // The fourth page is refused, so the run ends with the token of offset 300 saved.
    fake.inject_at_position(300, Fault::Unauthorized(BodyForm::Json), 1);
    sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap_err();
    let state = store.sync_state("ZOOKEEPER").await.unwrap().unwrap();
    let checkpoint = state.checkpoint.expect("the checkpoint is kept");
    let token = checkpoint["cursor"]["token"].as_str().expect("a Cloud token").to_owned();
    fake.expire_page_tokens();
    fake.clear_log().await;

    let report = sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();

    assert!(report.resumed);
    assert_eq!(report.restarts, 1);
    // The whole query again: 19 pages of 100; the 300 issues already stored are unchanged.
    assert_eq!(report.pages, 19);
    assert_eq!(report.written, WriteStats { inserted: 1527, updated: 0, unchanged: 300 });
    let searches: Vec<_> = fake
        .requests_to("/rest/api/3/search/jql")
        .into_iter()
        .filter(|request| request.param("fields").as_deref() != Some("id"))
        .collect();
    assert_eq!(searches[0].param("nextPageToken").as_deref(), Some(token.as_str()));
    assert_eq!(searches[0].status, 400);
    assert_eq!(searches[1].param("nextPageToken"), None);
    assert_eq!(report.watermark.map(|at| at.millis()), Some(WATERMARK));
    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
    let state = store.sync_state("ZOOKEEPER").await.unwrap().unwrap();
    assert_eq!((state.checkpoint, state.issues_written), (None, 1827 + 300));
}
both_backends!(an_expired_cloud_page_token_restarts_the_query);
