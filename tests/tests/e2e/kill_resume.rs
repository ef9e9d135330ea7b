//! Kill-and-resume: `bugdash sync` runs as a child process against a slow fake JIRA and is
//! killed with SIGKILL after its first page, half-way and near the end; each time the
//! store must hold exactly the pages its checkpoint says were written, and the run that
//! finally completes must leave the store equal to the source: same ids, none twice, same
//! values.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bugdash::store::Store;
use bugdash_tests::fake_jira::{FakeJira, Flavor};
use serde_json::Value;

use crate::binary;
use crate::source::{apache_dataset, assert_store_matches_source, stored_ids};
use crate::stores::{both_backends, TestStore};

/// Per search page; 37 pages of 50 issues take about 1.5 s plus the writes.
const PAGE_LATENCY: Duration = Duration::from_millis(40);

/// The settings a child `bugdash` gets: the fake as JIRA, 50 issues a page, the store.
pub fn child_settings(
    fake: &FakeJira,
    flavor: Flavor,
    store: &TestStore,
    folder: &Path,
) -> Vec<(&'static str, String)> {
    let deployment = match flavor {
        Flavor::Cloud => "cloud",
        Flavor::DataCenter => "datacenter",
    };
    vec![
        ("JIRA_URL", fake.url()),
        ("JIRA_EMAIL", "person@example.com".to_owned()),
        ("JIRA_API_TOKEN", "api-token-123".to_owned()),
        ("JIRA_DEPLOYMENT", deployment.to_owned()),
        ("JIRA_PAGE_SIZE", "50".to_owned()),
        ("DATABASE_URL", store.url.clone()),
        ("BUGDASH_DATA_DIR", folder.display().to_string()),
    ]
}

fn spawn_sync(folder: &Path, settings: &[(&str, String)], log: &str) -> Child {
    let stderr = std::fs::File::create(folder.join(log)).expect("a log file");
    binary::command(folder, settings)
        .args(["sync", "--project", "ZOOKEEPER", "--format", "json"])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("bugdash starts")
}

/// Waits until the store holds at least `issues` ZooKeeper issues, then waits `extra`
/// more (so that kills also land inside a page, not only right after one) and kills the
/// child with SIGKILL.
async fn kill_when_stored(
    child: &mut Child,
    store: &dyn Store,
    issues: usize,
    extra: Duration,
    log: &Path,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_ids(store, "ZOOKEEPER").await.len() < issues {
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            panic!("bugdash ended ({status}) before {issues} issues were stored:\n{output}");
        }
        assert!(Instant::now() < deadline, "no progress to {issues} issues within 60 s");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    tokio::time::sleep(extra).await;
    child.kill().expect("SIGKILL is sent");
    let status = child.wait().expect("the child is reaped");
    assert_eq!(status.signal(), Some(9), "the child was not killed but ended: {status}");
}

/// The offset of the next page according to the stored checkpoint: Data Center's
/// `startAt`, or the offset the fake encodes in its Cloud token (`CAE<hex>Z…`).
fn checkpoint_offset(checkpoint: &Value) -> u64 {
    let cursor = &checkpoint["cursor"];
    if let Some(offset) = cursor["offset"].as_u64() {
        return offset;
    }
    let token = cursor["token"].as_str().expect("a Cloud token");
    let hex = token.strip_prefix("CAE").and_then(|rest| rest.split('Z').next());
    u64::from_str_radix(hex.expect("the fake's token form"), 16).expect("a hex offset")
}

async fn killed_syncs_resume_to_the_source(flavor: Flavor, store: TestStore) {
    let fake = FakeJira::start(apache_dataset(flavor)).await;
    fake.set_page_cap(50);
    fake.set_page_latency(PAGE_LATENCY);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let settings = child_settings(&fake, flavor, &store, folder.path());

    let kills = [(1, 0), (900, 17), (1700, 29)];
    for (round, (issues, extra)) in kills.into_iter().enumerate() {
        let log = format!("kill-{round}.log");
        let mut child = spawn_sync(folder.path(), &settings, &log);
        let extra = Duration::from_millis(extra);
        kill_when_stored(&mut child, store.store(), issues, extra, &folder.path().join(&log)).await;

        let stored = stored_ids(store.store(), "ZOOKEEPER").await.len();
        let state = store.store().sync_state("ZOOKEEPER").await.unwrap().expect("a sync state");
        let checkpoint = state.checkpoint.expect("a killed sync leaves its checkpoint");
        assert!(stored >= issues && stored < 1827, "{stored} issues stored at kill {round}");
        assert_eq!(checkpoint_offset(&checkpoint), stored as u64, "checkpoint and pages disagree");
    }
    let before_last = stored_ids(store.store(), "ZOOKEEPER").await.len() as u64;

    let output = binary::command(folder.path(), &settings)
        .args(["sync", "--project", "ZOOKEEPER", "--format", "json"])
        .output()
        .expect("bugdash runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the last sync failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["resumed"], true);
    assert_eq!(report["received"].as_u64(), Some(1827 - before_last));
    assert_eq!(report["written"]["inserted"].as_u64(), Some(1827 - before_last));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let runs = store.store().runs(Some("ZOOKEEPER"), 10).await.unwrap();
    let outcomes: Vec<&str> = runs.iter().map(|run| run.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["succeeded", "interrupted", "interrupted", "interrupted"]);
    let state = store.store().sync_state("ZOOKEEPER").await.unwrap().unwrap();
    assert_eq!((state.checkpoint, state.issues_written), (None, 1827));
}

async fn a_cloud_sync_killed_three_times_resumes_to_the_source(store: TestStore) {
    killed_syncs_resume_to_the_source(Flavor::Cloud, store).await;
}
both_backends!(a_cloud_sync_killed_three_times_resumes_to_the_source);

async fn a_data_center_sync_killed_three_times_resumes_to_the_source(store: TestStore) {
    killed_syncs_resume_to_the_source(Flavor::DataCenter, store).await;
}
both_backends!(a_data_center_sync_killed_three_times_resumes_to_the_source);
