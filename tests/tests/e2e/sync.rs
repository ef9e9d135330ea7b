//! `sync_project` against the fake JIRA, on SQLite and PostgreSQL: a first sync stores
//! exactly the source, a second one reads only from the watermark minus the overlap, and
//! its census finds deletions and moves.

use std::time::Duration;

use bugdash::ingest::sync::{sync_project, SyncReport, SyncRequest};
use bugdash::ingest::NoProgress;
use bugdash::jira::client::{Deployment, JiraClient};
use bugdash::store::{Store, WriteStats};
use bugdash_tests::fake_jira::{FakeJira, Fault, Flavor};
use serde_json::Value;

use crate::common::client;
use crate::source::{apache_dataset, assert_store_matches_source, source_issues, stored_ids};
use crate::stores::{both_backends, TestStore};

/// Latest `updated` of the ZooKeeper source (ZOOKEEPER-3218, 2019-01-11T00:08:20.000Z),
/// found with a script over the example files.
const SOURCE_WATERMARK_MILLIS: i64 = 1_547_165_300_000;

/// The overlap the tests sync with.
const OVERLAP: Duration = Duration::from_secs(60);

/// A sync of ZooKeeper; the census runs on every run when `census_every` is zero.
pub fn request(full: bool, census_every: Duration) -> SyncRequest {
    let read_ahead = bugdash::config::SyncSettings::default().read_ahead as usize;
    SyncRequest {
        project: "ZOOKEEPER".to_owned(),
        full,
        overlap: OVERLAP,
        census_every,
        read_ahead,
    }
}

/// A sync of ZooKeeper whose census is not due again within the test.
pub fn plain_request() -> SyncRequest {
    request(false, Duration::from_secs(86_400))
}

/// A fake and a client of it in one dialect; Data Center caps pages at 50 issues while
/// the client asks for 100.
pub async fn fake_and_client(flavor: Flavor) -> (FakeJira, JiraClient) {
    let fake = FakeJira::start(apache_dataset(flavor)).await;
    fake.set_page_cap(50);
    let deployment = match flavor {
        Flavor::Cloud => Deployment::Cloud,
        Flavor::DataCenter => Deployment::DataCenter,
    };
    let client = client(&fake, deployment);
    (fake, client)
}

async fn first_sync_stores_the_source(flavor: Flavor, store: &dyn Store) {
    let (fake, client) = fake_and_client(flavor).await;

    let report = sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();

    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
    assert_eq!((report.received, report.written.inserted, report.resumed), (1827, 1827, false));
    let pages = match flavor {
        Flavor::Cloud => 19,
        Flavor::DataCenter => 37,
    };
    assert_eq!(report.pages, pages);
    assert_eq!(report.watermark.map(|at| at.millis()), Some(SOURCE_WATERMARK_MILLIS));
    let state = store.sync_state("ZOOKEEPER").await.unwrap().unwrap();
    assert_eq!((state.checkpoint, state.issues_written), (None, 1827));
    let runs = store.runs(Some("ZOOKEEPER"), 5).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].outcome.as_str(), runs[0].issues_written), ("succeeded", 1827));
    assert_eq!(runs[0].api_calls, report.api_calls);
}

async fn a_cloud_sync_stores_every_source_issue_once(store: TestStore) {
    first_sync_stores_the_source(Flavor::Cloud, store.store()).await;
}
both_backends!(a_cloud_sync_stores_every_source_issue_once);

async fn a_data_center_sync_under_a_silent_page_cap_stores_every_source_issue_once(
    store: TestStore,
) {
    first_sync_stores_the_source(Flavor::DataCenter, store.store()).await;
}
both_backends!(a_data_center_sync_under_a_silent_page_cap_stores_every_source_issue_once);

async fn syncing_twice_without_changes_writes_nothing(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::Cloud).await;
    sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();

    let again = sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();

    // Only ZOOKEEPER-3218 is inside the overlap; read again, it is unchanged.
    assert_eq!(
        (again.received, again.written),
        (1, WriteStats { unchanged: 1, ..Default::default() })
    );
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
}
both_backends!(syncing_twice_without_changes_writes_nothing);

/// JIRA's text form of an instant `days` after the source watermark.
fn after_watermark(days: i64) -> String {
    let millis = SOURCE_WATERMARK_MILLIS + days * 86_400_000;
    let at = chrono::DateTime::from_timestamp_millis(millis).expect("a valid instant");
    at.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

const EDITED: [&str; 5] =
    ["ZOOKEEPER-2", "ZOOKEEPER-3", "ZOOKEEPER-4", "ZOOKEEPER-6", "ZOOKEEPER-7"];
const DELETED: [&str; 2] = ["ZOOKEEPER-8", "ZOOKEEPER-9"];
const MOVED: &str = "ZOOKEEPER-10";

/// Edits 5 issues, adds 3 (copies of ZOOKEEPER-11 under new ids), deletes 2 and moves 1
/// to project ZKMOVED, all stamped after the watermark.
fn change_the_source(fake: &FakeJira) {
    for (day, key) in EDITED.iter().enumerate() {
        let edited = fake.modify_issue(key, |issue| {
            let summary = issue["fields"]["summary"].as_str().unwrap_or_default().to_owned();
            issue["fields"]["summary"] = Value::String(format!("{summary} (edited)"));
            issue["fields"]["updated"] = Value::String(after_watermark(day as i64 + 1));
        });
        assert!(edited, "{key} is in the source");
    }
    let template = fake.issues().into_iter().find(|issue| issue["key"] == "ZOOKEEPER-11");
    let template = template.expect("ZOOKEEPER-11 is in the source");
    for serial in 1..=3 {
        let mut added = template.clone();
        added["id"] = Value::String(format!("9900000{serial}"));
        added["key"] = Value::String(format!("ZOOKEEPER-9900{serial}"));
        added["fields"]["updated"] = Value::String(after_watermark(10 + serial));
        fake.upsert_issue(added);
    }
    for key in DELETED {
        assert!(fake.delete_issue(key), "{key} is in the source");
    }
    assert!(fake.move_issue(MOVED, "ZKMOVED-1", "ZKMOVED", &after_watermark(20)));
}

async fn incremental_sync_reads_from_the_watermark_and_finds_changes_deletions_and_moves(
    flavor: Flavor,
    store: &dyn Store,
) {
    let (fake, client) = fake_and_client(flavor).await;
    sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();
    let moved_id = stored_id_of(store, MOVED).await;
    change_the_source(&fake);
    fake.clear_log().await;

    let report =
        sync_project(store, &client, &request(false, Duration::ZERO), &NoProgress).await.unwrap();

    let bound = format!("updated >= {}", SOURCE_WATERMARK_MILLIS - 60_000);
    let searches = full_searches(&fake);
    assert!(!searches.is_empty());
    for jql in &searches {
        assert!(jql.contains(&bound), "{jql} lacks {bound}");
    }
    assert_incremental_report(&report);
    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
    assert_store_matches_source(store, &fake, "ZKMOVED").await;
    assert_eq!(stored_ids(store, "ZKMOVED").await, vec![moved_id]);
    let everything = store.issues(&[]).await.unwrap();
    let with_moved_id: Vec<&str> = everything
        .iter()
        .filter(|issue| issue.id == Some(moved_id as u64))
        .map(|issue| issue.key.as_ref())
        .collect();
    assert_eq!(with_moved_id, vec!["ZKMOVED-1"]);
    let projects = store.projects().await.unwrap();
    let zookeeper = projects.iter().find(|project| project.key == "ZOOKEEPER").unwrap();
    assert_eq!((zookeeper.issues, zookeeper.removed), (1827 + 3 - 2 - 1, 2));
    assert_eq!(source_issues(&fake, "ZOOKEEPER").len(), 1827);
}

/// 9 issues updated since the bound: ZOOKEEPER-3218 (inside the overlap, unchanged), 5
/// edited, 3 added; the census adds the move (an update) and the 2 deletions.
fn assert_incremental_report(report: &SyncReport) {
    assert_eq!(report.received, 9);
    assert_eq!(report.written, WriteStats { inserted: 3, updated: 5 + 1, unchanged: 1 });
    assert!(report.census);
    assert_eq!((report.removed, report.moved, report.recovered), (2, 1, 0));
    let latest_added = SOURCE_WATERMARK_MILLIS + 13 * 86_400_000;
    assert_eq!(report.watermark.map(|at| at.millis()), Some(latest_added));
}

/// The JQL of the search requests that read whole issues (not the census's ids).
pub fn full_searches(fake: &FakeJira) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|request| request.path.contains("/search"))
        .filter(|request| request.param("fields").as_deref() != Some("id"))
        .filter_map(|request| request.param("jql"))
        .collect()
}

async fn stored_id_of(store: &dyn Store, key: &str) -> i64 {
    let issues = store.issues(&["ZOOKEEPER".to_owned()]).await.unwrap();
    let issue = issues.iter().find(|issue| issue.key.as_str() == key).expect("stored");
    issue.id.expect("a JIRA id") as i64
}

async fn a_cloud_incremental_sync_reads_from_the_watermark_and_finds_deletions_and_moves(
    store: TestStore,
) {
    incremental_sync_reads_from_the_watermark_and_finds_changes_deletions_and_moves(
        Flavor::Cloud,
        store.store(),
    )
    .await;
}
both_backends!(a_cloud_incremental_sync_reads_from_the_watermark_and_finds_deletions_and_moves);

async fn a_data_center_incremental_sync_reads_from_the_watermark_and_finds_deletions_and_moves(
    store: TestStore,
) {
    incremental_sync_reads_from_the_watermark_and_finds_changes_deletions_and_moves(
        Flavor::DataCenter,
        store.store(),
    )
    .await;
}
both_backends!(
    a_data_center_incremental_sync_reads_from_the_watermark_and_finds_deletions_and_moves
);

/// Two syncs of one project started at once through two handles on the same database, as
/// two processes would: the one that takes the lock stores the source, the other is
/// refused at once and records no run, and the lock is free again afterwards.
async fn a_second_sync_of_a_project_at_once_is_refused_as_busy(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::Cloud).await;
    fake.set_page_latency(Duration::from_millis(20));
    let second_handle = bugdash::store::open(&store.url).await.expect("a second handle");
    let second_client = crate::common::client(&fake, Deployment::Cloud);
    let request = plain_request();

    let (first, second) = tokio::join!(
        sync_project(store.store(), &client, &request, &NoProgress),
        sync_project(second_handle.as_ref(), &second_client, &request, &NoProgress),
    );

    let (done, refused) = match (first, second) {
        (Ok(done), Err(refused)) | (Err(refused), Ok(done)) => (done, refused),
        (first, second) => panic!("expected one success and one refusal: {first:?} {second:?}"),
    };
    assert!(matches!(&refused, bugdash::Error::Busy(what) if what == "sync of ZOOKEEPER"));
    assert_eq!(refused.to_string(), "another sync of ZOOKEEPER is running; try again when it ends");
    assert_eq!((done.received, done.written.inserted), (1827, 1827));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let state = store.store().sync_state("ZOOKEEPER").await.unwrap().unwrap();
    assert_eq!((state.checkpoint, state.issues_written), (None, 1827));
    let runs = store.store().runs(Some("ZOOKEEPER"), 5).await.unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|run| run.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["succeeded"]);
    let after = sync_project(second_handle.as_ref(), &second_client, &request, &NoProgress);
    assert_eq!(after.await.expect("the lock is free after the first sync").received, 1);
}
both_backends!(a_second_sync_of_a_project_at_once_is_refused_as_busy);

/// Calls `then` once, after the given number of pages has been written.
struct AfterPages<F: Fn() + Send + Sync> {
    after: u64,
    pages: std::sync::atomic::AtomicU64,
    then: F,
}

impl<F: Fn() + Send + Sync> bugdash::ingest::ProgressSink for AfterPages<F> {
    fn update(&self, _progress: &bugdash::ingest::Progress) {
        let written = self.pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if written == self.after {
            (self.then)();
        }
    }
}

/// Far longer than writing one page takes: pages asked for ahead are answered only
/// after what a test does once a page is written.
const ANSWER_AFTER_THE_WRITE: Duration = Duration::from_millis(250);

/// The first page comes back with 100 issues, and the sync asks for offsets 100 to 400
/// ahead; once that page is written the server cap drops to 30, so those pages come back
/// with 30 issues and gaps between them. The sync follows the short page (130, 160, …)
/// and drops the misplanned ones.
async fn a_data_center_sync_replans_its_offsets_when_pages_come_back_short(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.set_page_cap(100);
    fake.set_page_latency(ANSWER_AFTER_THE_WRITE);
    let sink = AfterPages { after: 1, pages: 0.into(), then: || fake.set_page_cap(30) };

    let report = sync_project(store.store(), &client, &plain_request(), &sink).await.unwrap();

    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    assert_eq!((report.received, report.restarts, report.unsettled), (1827, 0, false));
    assert_eq!(report.pages, 1 + (1827 - 100_u64).div_ceil(30));
    let starts: Vec<String> = fake
        .requests_to("/rest/api/2/search")
        .iter()
        .filter(|request| request.param("fields").as_deref() != Some("id"))
        .filter_map(|request| request.param("startAt"))
        .collect();
    assert!(starts.contains(&"400".to_owned()), "offsets were asked for ahead: {starts:?}");
    assert!(starts.contains(&"130".to_owned()), "the short page was followed: {starts:?}");
    // Only that reading ahead happened: the dropped fetches are still counted by the fake
    // until it notices their closed connections, so the client's bound is checked by the
    // client tests, where no fetch is dropped.
    assert!(fake.max_in_flight() > 1, "pages were read ahead");
}
both_backends!(a_data_center_sync_replans_its_offsets_when_pages_come_back_short);

/// Once two pages are written, an issue not yet read is deleted and three are added at
/// the end: the total the pages report changes, the sync reads the query again, and the
/// store ends equal to the source.
async fn a_data_center_sync_follows_a_total_that_changes_under_its_pages(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.set_page_latency(ANSWER_AFTER_THE_WRITE);
    let keys = crate::common::source_keys_in_search_order();
    let change = || {
        assert!(fake.delete_issue(&keys[1000]));
        let template = fake.issues().into_iter().find(|issue| issue["key"] == "ZOOKEEPER-11");
        for serial in 1..=3 {
            let mut added = template.clone().expect("ZOOKEEPER-11 is in the source");
            added["id"] = Value::String(format!("9900000{serial}"));
            added["key"] = Value::String(format!("ZOOKEEPER-9900{serial}"));
            added["fields"]["updated"] = Value::String(after_watermark(serial));
            fake.upsert_issue(added);
        }
    };
    let sink = AfterPages { after: 2, pages: 0.into(), then: change };

    let report = sync_project(store.store(), &client, &plain_request(), &sink).await.unwrap();

    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    assert_eq!((report.restarts, report.unsettled), (1, false));
    assert_eq!(stored_ids(store.store(), "ZOOKEEPER").await.len(), 1827 - 1 + 3);
}
both_backends!(a_data_center_sync_follows_a_total_that_changes_under_its_pages);

/// Data Center pages planned ahead ask JIRA in the order of their offsets: the page the
/// sync needs next is never left behind pages it needs later. Requests sent side by side
/// may reach the server a little out of order, never by more than the in-flight bound.
async fn a_data_center_sync_asks_for_its_pages_in_order(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.set_page_latency(Duration::from_millis(10));

    sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();

    let offsets = page_offsets(&fake);
    let mut in_order = offsets.clone();
    in_order.sort_unstable();
    assert_eq!(offsets.len(), 37, "one request per page");
    let bound = client.config().max_in_flight;
    for (arrived, offset) in offsets.iter().enumerate() {
        let planned = in_order.binary_search(offset).unwrap();
        assert!(
            arrived.abs_diff(planned) < bound,
            "page {offset} arrived {arrived}th: {offsets:?}"
        );
    }
}
both_backends!(a_data_center_sync_asks_for_its_pages_in_order);

/// Writes slowed down (the progress sink takes 20 ms per page): every page is read long
/// before the last is written, and the census's listing is read then, while pages are
/// still being written, not after the last one.
async fn the_census_listing_is_read_while_the_pages_read_ahead_are_written(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    let listed_at_each_page = std::sync::Mutex::new(Vec::new());
    let note_listing = || listed_at_each_page.lock().unwrap().push(fake.id_searches_arrived());
    let sink = SlowWrites { millis: 20, then: Box::new(note_listing) };

    let report =
        sync_project(store.store(), &client, &request(true, Duration::ZERO), &sink).await.unwrap();

    assert!(report.census);
    assert_eq!((report.removed, report.moved, report.recovered), (0, 0, 0));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    drop(sink);
    let listed = listed_at_each_page.into_inner().unwrap();
    assert_eq!(listed.len(), 37);
    assert!(listed[18] > 0, "no id search by the 19th page written: {listed:?}");
}
both_backends!(the_census_listing_is_read_while_the_pages_read_ahead_are_written);

/// A reading that starts again (the total changed under it) with a census due: the
/// listing waits for the second reading, and the store ends equal to the source.
async fn a_census_follows_the_reading_that_started_again(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.set_page_latency(ANSWER_AFTER_THE_WRITE);
    let keys = crate::common::source_keys_in_search_order();
    let sink =
        AfterPages { after: 2, pages: 0.into(), then: || assert!(fake.delete_issue(&keys[1000])) };

    let report =
        sync_project(store.store(), &client, &request(true, Duration::ZERO), &sink).await.unwrap();

    assert_eq!((report.restarts, report.unsettled, report.census), (1, false, true));
    assert_eq!((report.removed, report.moved, report.recovered), (0, 0, 0));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    assert_eq!(stored_ids(store.store(), "ZOOKEEPER").await.len(), 1827 - 1);
}
both_backends!(a_census_follows_the_reading_that_started_again);

/// A fake that keeps its search answers (as the sync benchmark's does) answers anew once
/// an issue changes: a second full sync stores the change.
async fn a_fake_keeping_its_answers_answers_anew_after_a_change(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.remember_search_answers(true);
    sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();
    let first = crate::common::source_keys_in_search_order()[0].clone();
    let renamed = |issue: &mut Value| issue["fields"]["summary"] = "Renamed while kept".into();
    assert!(fake.modify_issue(&first, renamed));

    sync_project(store.store(), &client, &request(true, Duration::ZERO), &NoProgress)
        .await
        .unwrap();

    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let stored = store.store().issues(&["ZOOKEEPER".to_owned()]).await.unwrap();
    assert!(stored.iter().any(|issue| issue.key == first && issue.summary == "Renamed while kept"));
}
both_backends!(a_fake_keeping_its_answers_answers_anew_after_a_change);

/// A progress sink that takes `millis` per page written, as a slow store would, then
/// runs `then`.
struct SlowWrites<'a> {
    millis: u64,
    then: Box<dyn Fn() + Send + Sync + 'a>,
}

impl SlowWrites<'_> {
    fn taking(millis: u64) -> SlowWrites<'static> {
        SlowWrites { millis, then: Box::new(|| {}) }
    }
}

impl bugdash::ingest::ProgressSink for SlowWrites<'_> {
    fn update(&self, _progress: &bugdash::ingest::Progress) {
        std::thread::sleep(Duration::from_millis(self.millis));
        (self.then)();
    }
}

/// The offsets of the Data Center issue pages asked for, in the order they arrived.
fn page_offsets(fake: &FakeJira) -> Vec<u64> {
    let mut pages = fake.requests_to("/rest/api/2/search");
    pages.retain(|page| page.param("fields").as_deref() != Some("id"));
    pages.sort_by_key(|page| page.started);
    pages.iter().map(|page| page.param("startAt").unwrap().parse().unwrap()).collect()
}

/// One page in the middle comes back with 1 issue instead of 50 (its total unchanged):
/// the offsets after it are planned on that spacing only as far as the client's bound,
/// not for a whole read-ahead, and the store ends equal to the source.
async fn one_short_page_does_not_plan_a_read_ahead_on_its_spacing(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.inject_at_position(100, Fault::ShortPage(1), 1);

    let report = sync_project(store.store(), &client, &plain_request(), &SlowWrites::taking(20))
        .await
        .unwrap();

    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let offsets = page_offsets(&fake);
    let spaced_by_one = offsets.iter().filter(|at| (102..150).contains(*at)).count();
    let bound = client.config().max_in_flight;
    assert!(spaced_by_one < bound, "{spaced_by_one} pages planned 1 apart: {offsets:?}");
    assert!(offsets.len() as u64 <= 2 * report.pages, "{} requests", offsets.len());
}
both_backends!(one_short_page_does_not_plan_a_read_ahead_on_its_spacing);

/// Data Center answers without a total (the sync reads on to an empty page): no more
/// than twice the client's bound of pages is asked for past the end, and the census's
/// listing of ids is read to its end.
async fn answers_without_a_total_are_not_read_far_past_their_end(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.inject(Fault::NoTotal, 100_000);

    let report = sync_project(store.store(), &client, &plain_request(), &SlowWrites::taking(5))
        .await
        .unwrap();

    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let offsets = page_offsets(&fake);
    let past_end = offsets.iter().filter(|at| **at >= 1827).count();
    let bound = client.config().max_in_flight;
    assert!(past_end <= 2 * bound, "{past_end} pages past the end of {}", report.pages);
    // The census's listing, read to its end without a total, holds every id: no stored
    // issue needs looking up on its own.
    assert!(report.census);
    let lookups =
        fake.requests().iter().filter(|r| r.path.starts_with("/rest/api/2/issue/")).count();
    assert_eq!(lookups, 0);
}
both_backends!(answers_without_a_total_are_not_read_far_past_their_end);

/// An issue whose embedded changelog is cut needs one more request before its page is in
/// hand; that request waits behind no more than twice the client's bound of pages read
/// ahead, not behind the whole read-ahead.
async fn a_pages_changelog_lookup_does_not_wait_behind_the_read_ahead(store: TestStore) {
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    fake.set_page_latency(Duration::from_millis(20));
    let key = crate::common::source_keys_in_search_order()[60].clone();
    let cut = serde_json::json!({"startAt": 0, "maxResults": 0, "total": 3, "histories": []});
    assert!(fake.modify_issue(&key, |issue| issue["changelog"] = cut));

    sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();

    let mut log = fake.requests();
    log.sort_by_key(|request| request.started);
    let issue_path = format!("/rest/api/2/issue/{key}");
    let lookup = log.iter().position(|request| request.path == issue_path).expect("looked up");
    let later_pages_first = log[..lookup]
        .iter()
        .filter(|request| request.path == "/rest/api/2/search")
        .filter_map(|request| request.param("startAt")?.parse::<u64>().ok())
        .filter(|at| *at > 50)
        .count();
    let bound = client.config().max_in_flight;
    assert!(later_pages_first <= 2 * bound, "{later_pages_first} later pages went first");
}
both_backends!(a_pages_changelog_lookup_does_not_wait_behind_the_read_ahead);

/// An issue deleted while the pages of a full sync are read, after its page was read: the
/// census's listing, read once the pages are, no longer holds it, so the census finds it
/// gone. (A listing read beside the pages held it and left it live.)
async fn an_issue_deleted_while_the_pages_are_read_is_found_gone_by_the_census(store: TestStore) {
    deleted_while_the_pages_are_read(store, Flavor::Cloud).await;
}
both_backends!(an_issue_deleted_while_the_pages_are_read_is_found_gone_by_the_census);

/// As above on Data Center, whose listing queues behind the last pages once all are asked
/// for: a deletion while earlier pages are read still comes before the listing. (The
/// deletion also moves the total, so the reading starts again and drops its listing.)
async fn an_issue_deleted_while_data_center_pages_are_read_is_found_gone_by_the_census(
    store: TestStore,
) {
    deleted_while_the_pages_are_read(store, Flavor::DataCenter).await;
}
both_backends!(an_issue_deleted_while_data_center_pages_are_read_is_found_gone_by_the_census);

async fn deleted_while_the_pages_are_read(store: TestStore, flavor: Flavor) {
    let (fake, client) = fake_and_client(flavor).await;
    sync_project(store.store(), &client, &plain_request(), &NoProgress).await.unwrap();
    fake.set_id_page_latency(Duration::from_millis(1));
    fake.set_page_latency(Duration::from_millis(50));
    let first = crate::common::source_keys_in_search_order()[0].clone();
    let sink =
        AfterPages { after: 2, pages: 0.into(), then: || assert!(fake.delete_issue(&first)) };

    let full = request(true, Duration::ZERO);
    let report = sync_project(store.store(), &client, &full, &sink).await.unwrap();

    assert!(report.census);
    assert_eq!((report.removed, report.moved, report.recovered), (1, 0, 0));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
}
