//! A sync cut off by a JIRA fault part-way: it fails with the fault, records a failed
//! run, keeps the checkpoint of the last written page, and the next run carries on from
//! that checkpoint (not from the start) and ends with the store equal to the source.

use bugdash::ingest::sync::sync_project;
use bugdash::ingest::NoProgress;
use bugdash::jira::client::JiraError;
use bugdash::store::Store;
use bugdash::Error;
use bugdash_tests::fake_jira::{BodyForm, Fault, Flavor};
use serde_json::json;

use crate::source::{assert_store_matches_source, stored_ids};
use crate::stores::{both_backends, TestStore};
use crate::sync::{fake_and_client, full_searches, plain_request};

/// How a cut-off run is expected to have gone.
struct Cut {
    flavor: Flavor,
    fault: Fault,
    /// Requests the fault answers (more than the retries allow, when it is retried).
    times: usize,
    /// The checkpoint's cursor after 3 pages.
    cursor: serde_json::Value,
    /// Issues on the 3 pages written before the fault.
    written: usize,
    /// Pages the resumed run reads.
    pages_left: u64,
}

async fn cut_sync_resumes_from_its_checkpoint(
    store: &dyn Store,
    cut: Cut,
    expected: impl Fn(&Error) -> bool,
) {
    let (fake, client) = fake_and_client(cut.flavor).await;
    // The fault hits the fourth page's requests, however far ahead the sync reads.
    fake.inject_at_position(cut.written as u64, cut.fault, cut.times);

    let failure = sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap_err();

    assert!(expected(&failure), "unexpected error: {failure:?}");
    let runs = store.runs(Some("ZOOKEEPER"), 5).await.unwrap();
    assert_eq!(runs[0].outcome, "failed");
    assert_eq!(runs[0].errors, vec![failure.to_string()]);
    assert_eq!(runs[0].issues_written, cut.written as u64);
    let state = store.sync_state("ZOOKEEPER").await.unwrap().unwrap();
    let checkpoint = state.checkpoint.expect("the checkpoint is kept");
    assert_eq!(checkpoint["cursor"], cut.cursor);
    assert_eq!(state.watermark, None);
    assert_eq!(stored_ids(store, "ZOOKEEPER").await.len(), cut.written);
    fake.clear_log().await;

    let report = sync_project(store, &client, &plain_request(), &NoProgress).await.unwrap();

    assert!(report.resumed);
    assert_eq!(report.pages, cut.pages_left);
    assert_eq!(report.written.inserted, 1827 - cut.written as u64);
    // The census that ends the run pages its own ids from 0.
    let searches: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|request| request.path.contains("/search"))
        .filter(|request| request.param("fields").as_deref() != Some("id"))
        .collect();
    assert!(!searches.is_empty(), "the resumed run searched");
    match &cut.cursor["token"] {
        // Cloud pages follow one another: the first search carries the saved token.
        serde_json::Value::String(token) => {
            assert_eq!(searches[0].param("nextPageToken").as_deref(), Some(token.as_str()))
        }
        // Data Center pages are read ahead, so they may finish in any order; none starts
        // before the saved offset, and one starts at it.
        _ => {
            let offsets = searches.iter().filter_map(|request| request.param("startAt"));
            let lowest = offsets.filter_map(|at| at.parse::<u64>().ok()).min();
            assert_eq!(lowest, cut.cursor["offset"].as_u64());
        }
    }
    assert_eq!(full_searches(&fake).len() as u64, cut.pages_left, "a page was read twice");
    assert_store_matches_source(store, &fake, "ZOOKEEPER").await;
    let runs = store.runs(Some("ZOOKEEPER"), 5).await.unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|run| run.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["succeeded", "failed"]);
}

/// The fake's Cloud token for offset 300 of the full ZooKeeper query: `CAE`, the offset
/// in hex, `Z`, then FNV-1a of the query text, computed with a separate script.
fn cloud_token_at_300() -> serde_json::Value {
    json!({ "token": "CAE12cZd878b2f0ef5fd825" })
}

async fn a_cloud_sync_refused_with_401_after_three_pages_resumes_at_the_saved_token(
    store: TestStore,
) {
    let cut = Cut {
        flavor: Flavor::Cloud,
        fault: Fault::Unauthorized(BodyForm::Json),
        times: 1,
        cursor: cloud_token_at_300(),
        written: 300,
        pages_left: 16,
    };
    let refused = |error: &Error| {
        matches!(error, Error::Jira(JiraError::Unauthorized { scheme, status: 401, .. })
            if scheme == "Basic")
    };
    cut_sync_resumes_from_its_checkpoint(store.store(), cut, refused).await;
}
both_backends!(a_cloud_sync_refused_with_401_after_three_pages_resumes_at_the_saved_token);

async fn a_cloud_sync_meeting_410_mid_way_is_a_configuration_error_and_resumes(store: TestStore) {
    let cut = Cut {
        flavor: Flavor::Cloud,
        fault: Fault::Gone,
        times: 1,
        cursor: cloud_token_at_300(),
        written: 300,
        pages_left: 16,
    };
    let gone = |error: &Error| matches!(error, Error::Jira(fault @ JiraError::Gone { .. }) if fault.is_configuration());
    cut_sync_resumes_from_its_checkpoint(store.store(), cut, gone).await;
}
both_backends!(a_cloud_sync_meeting_410_mid_way_is_a_configuration_error_and_resumes);

async fn a_data_center_sync_out_of_retries_on_503_resumes_at_the_saved_offset(store: TestStore) {
    // The tests' retry policy sends 4 attempts; the fault answers all of them.
    let cut = Cut {
        flavor: Flavor::DataCenter,
        fault: Fault::Unavailable,
        times: 4,
        cursor: json!({ "offset": 150 }),
        written: 150,
        pages_left: 34,
    };
    let exhausted = |error: &Error| {
        matches!(error, Error::Jira(JiraError::Server { status: 503, attempts: 4, .. }))
    };
    cut_sync_resumes_from_its_checkpoint(store.store(), cut, exhausted).await;
}
both_backends!(a_data_center_sync_out_of_retries_on_503_resumes_at_the_saved_offset);

/// On PostgreSQL pages are written side by side. When one page's write fails (slowly,
/// here, so that the pages after it are written first), the pages written beside it are
/// stored without a checkpoint; the failed run still counts them, so its record says what
/// it wrote, and the checkpoint stays before the failed page.
#[tokio::test]
async fn a_failed_page_write_counts_the_pages_written_beside_it_postgres() {
    let store = TestStore::postgres().await;
    let (fake, client) = fake_and_client(Flavor::DataCenter).await;
    let keys = crate::common::source_keys_in_search_order();
    let refused = &keys[420];
    let pool = sqlx::PgPool::connect(&store.url).await.expect("the test database");
    let trigger = format!(
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
         IF NEW.key = '{refused}' THEN PERFORM pg_sleep(0.5); \
         RAISE EXCEPTION 'refused for the test'; END IF; \
         RETURN NEW; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON issues \
         FOR EACH ROW EXECUTE FUNCTION refuse();"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(trigger)).execute(&pool).await.expect("the trigger");
    fake.set_page_latency(std::time::Duration::from_millis(20));

    let failure = sync_project(store.store(), &client, &plain_request(), &NoProgress).await;

    assert!(failure.is_err(), "the refused issue fails its page");
    let stored = stored_ids(store.store(), "ZOOKEEPER").await.len() as u64;
    let runs = store.store().runs(Some("ZOOKEEPER"), 5).await.unwrap();
    assert_eq!(runs[0].outcome, "failed");
    assert_eq!(runs[0].issues_written, stored, "every stored issue is counted");
    let state = store.store().sync_state("ZOOKEEPER").await.unwrap().unwrap();
    let checkpoint = state.checkpoint.expect("the checkpoint is kept");
    assert_eq!(checkpoint["cursor"], json!({ "offset": 400 }));
    assert!(stored >= 400, "the pages before the failed one are stored ({stored})");
}
