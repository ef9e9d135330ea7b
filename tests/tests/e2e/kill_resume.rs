//! Kill-and-resume: `bugdash sync` runs as a child process against a slow fake JIRA and is
//! killed with SIGKILL after its first page, half-way and near the end, during its census
//! and while it fetches a whole changelog; each time the store must hold exactly the pages
//! its checkpoint says were written, and the run that finally completes must leave the
//! store equal to the source: same ids, none twice, same values.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bugdash::store::Store;
use bugdash_tests::fake_jira::{FakeJira, Fault, Flavor};
use serde_json::Value;

use crate::binary;
use crate::source::{apache_dataset, assert_store_matches_source, source_issues, stored_ids};
use crate::stores::{both_backends, TestStore};

/// Per search page; 37 pages of 50 issues take about 1.5 s plus the writes.
/// Long enough that a sync reading pages ahead (several at once on Data Center) is still
/// paging when the last kill point (two thirds of the issues stored) is reached.
const PAGE_LATENCY: Duration = Duration::from_millis(80);

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
    spawn(folder, settings, log, &["sync", "--project", "ZOOKEEPER", "--format", "json"])
}

fn spawn(folder: &Path, settings: &[(&str, String)], log: &str, args: &[&str]) -> Child {
    let stderr = std::fs::File::create(folder.join(log)).expect("a log file");
    binary::command(folder, settings)
        .args(args)
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
    kill(child);
}

fn kill(child: &mut Child) {
    child.kill().expect("SIGKILL is sent");
    let status = child.wait().expect("the child is reaped");
    assert_eq!(status.signal(), Some(9), "the child was not killed but ended: {status}");
}

/// Waits until `reached` holds, failing if the child ends first or a minute passes.
async fn wait_for(child: &mut Child, log: &Path, what: &str, reached: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reached() {
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            panic!("bugdash ended ({status}) before {what}:\n{output}");
        }
        assert!(Instant::now() < deadline, "no {what} within 60 s");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// Runs `bugdash` to its end and returns its JSON report.
fn run_to_end(folder: &Path, settings: &[(&str, String)], args: &[&str]) -> Value {
    let output = binary::command(folder, settings).args(args).output().expect("bugdash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bugdash {args:?} failed: {stderr}");
    serde_json::from_slice(&output.stdout).expect("a JSON report")
}

/// How many issues, from the first in the source's order, the stored checkpoint says
/// were written: the offset of its next page, or 0 before the first checkpoint (a store
/// that writes pages side by side may have written some before it saved one).
async fn checkpointed_issues(store: &dyn Store, round: usize) -> u64 {
    let state = store.sync_state("ZOOKEEPER").await.unwrap();
    let checkpoint = state.and_then(|state| state.checkpoint);
    match checkpoint {
        Some(checkpoint) => checkpoint_offset(&checkpoint),
        None if round == 0 && store.page_writes_in_flight() > 1 => 0,
        None => panic!("no checkpoint left by kill {round}, after pages were written"),
    }
}

/// Every issue the checkpoint covers is stored: the pages before it, in the order the
/// source serves the project's issues. Pages after it may be stored too (written beside the pages before
/// them), at most as many as the store writes at once.
fn assert_checkpoint_covers_only_stored_pages(
    fake: &FakeJira,
    stored: &[i64],
    covered: u64,
    store: &dyn Store,
) {
    let source: Vec<i64> = fake
        .issues()
        .iter()
        .filter(|issue| issue["fields"]["project"]["key"] == "ZOOKEEPER")
        .map(|issue| issue["id"].as_str().and_then(|id| id.parse().ok()).expect("a numeric id"))
        .collect();
    let covered = usize::try_from(covered).expect("a count");
    let missing: Vec<&i64> =
        source[..covered].iter().filter(|id| stored.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "the checkpoint covers {covered} issues, {missing:?} not stored");
    let beyond = stored.len().saturating_sub(covered);
    // A store writing one page at a time writes it with its checkpoint.
    let allowed = match store.page_writes_in_flight() {
        1 => 0,
        pages => pages * 50,
    };
    assert!(beyond <= allowed, "{beyond} issues stored past the checkpoint, at most {allowed}");
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

    let kills = [(1, 0), (700, 17), (1200, 29)];
    for (round, (issues, extra)) in kills.into_iter().enumerate() {
        let log = format!("kill-{round}.log");
        let mut child = spawn_sync(folder.path(), &settings, &log);
        let extra = Duration::from_millis(extra);
        kill_when_stored(&mut child, store.store(), issues, extra, &folder.path().join(&log)).await;

        let stored = stored_ids(store.store(), "ZOOKEEPER").await;
        assert!(
            stored.len() >= issues && stored.len() < 1827,
            "{} stored at kill {round}",
            stored.len()
        );
        let covered = checkpointed_issues(store.store(), round).await;
        assert_checkpoint_covers_only_stored_pages(&fake, &stored, covered, store.store());
    }
    let before_last = stored_ids(store.store(), "ZOOKEEPER").await.len() as u64;
    let checkpointed = checkpointed_issues(store.store(), kills.len()).await;

    let output = binary::command(folder.path(), &settings)
        .args(["sync", "--project", "ZOOKEEPER", "--format", "json"])
        .output()
        .expect("bugdash runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the last sync failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["resumed"], true);
    // Pages written after the last checkpoint are read again, and change nothing.
    assert_eq!(report["received"].as_u64(), Some(1827 - checkpointed));
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

/// Census pages are answered this slowly, so that a kill lands inside the census. The
/// census's listing is read while the last pages are written, which must be done before
/// its first page is answered.
const SLOW_CENSUS_PAGE: Duration = Duration::from_secs(6);

/// A full sync killed during its census, after every page was written: the census is
/// owed, and the next (incremental) run makes it, finding the deletions and the move.
async fn killed_census_is_made_by_the_next_run(flavor: Flavor, store: TestStore) {
    let fake = FakeJira::start(apache_dataset(flavor)).await;
    fake.set_page_cap(50);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let settings = child_settings(&fake, flavor, &store, folder.path());
    let sync = ["sync", "--project", "ZOOKEEPER", "--format", "json"];
    run_to_end(folder.path(), &settings, &sync);
    assert!(fake.delete_issue("ZOOKEEPER-8") && fake.delete_issue("ZOOKEEPER-9"));
    assert!(fake.move_issue(
        "ZOOKEEPER-10",
        "ZKMOVED-1",
        "ZKMOVED",
        "2019-02-01T10:00:00.000+0000"
    ));
    fake.set_id_page_latency(SLOW_CENSUS_PAGE);
    let censuses_before = fake.id_searches_arrived();

    let full = ["sync", "--project", "ZOOKEEPER", "--full", "--format", "json"];
    let mut child = spawn(folder.path(), &settings, "census.log", &full);
    let log = folder.path().join("census.log");
    wait_for(&mut child, &log, "a census page", || fake.id_searches_arrived() > censuses_before)
        .await;
    // The state saved with the last page marks the census owed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.store().sync_state("ZOOKEEPER").await.unwrap().unwrap().last_census.is_some() {
        assert!(child.try_wait().unwrap().is_none(), "bugdash ended before it was killed");
        assert!(Instant::now() < deadline, "the pages were not all written within 60 s");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    kill(&mut child);

    let state = store.store().sync_state("ZOOKEEPER").await.unwrap().expect("a sync state");
    assert_eq!((state.checkpoint, state.last_census), (None, None), "paged, census owed");
    assert_eq!(stored_ids(store.store(), "ZOOKEEPER").await.len(), 1827, "nothing removed yet");
    fake.set_id_page_latency(Duration::ZERO);

    let report = run_to_end(folder.path(), &settings, &sync);

    assert_eq!(report["census"], true);
    assert_eq!((report["removed"].as_u64(), report["moved"].as_u64()), (Some(2), Some(1)));
    assert_store_matches_source(store.store(), &fake, "ZOOKEEPER").await;
    let state = store.store().sync_state("ZOOKEEPER").await.unwrap().unwrap();
    assert!(state.last_census.is_some() && state.checkpoint.is_none());
}

async fn a_cloud_sync_killed_during_its_census_leaves_it_to_the_next_run(store: TestStore) {
    killed_census_is_made_by_the_next_run(Flavor::Cloud, store).await;
}
both_backends!(a_cloud_sync_killed_during_its_census_leaves_it_to_the_next_run);

async fn a_data_center_sync_killed_during_its_census_leaves_it_to_the_next_run(store: TestStore) {
    killed_census_is_made_by_the_next_run(Flavor::DataCenter, store).await;
}
both_backends!(a_data_center_sync_killed_during_its_census_leaves_it_to_the_next_run);

/// A sync of the DRILL issues, one a page, killed while it fetches DRILL-138's whole
/// changelog (held back by the fake): nothing of that page is written, the checkpoint
/// matches the pages stored, and the resumed run stores every issue with DRILL-138's
/// whole history.
async fn killed_changelog_fetch_resumes_to_the_source(flavor: Flavor, store: TestStore) {
    let fake = FakeJira::start(apache_dataset(flavor)).await;
    fake.set_page_cap(1);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut settings = child_settings(&fake, flavor, &store, folder.path());
    settings.retain(|(name, _)| *name != "JIRA_PAGE_SIZE");
    settings.push(("JIRA_PAGE_SIZE", "1".to_owned()));
    let held = Fault::Slow(Duration::from_secs(60));
    fake.inject_at("/rest/api/2/issue/", held, 1);
    let sync = ["sync", "--project", "DRILL", "--format", "json"];

    let mut child = spawn(folder.path(), &settings, "changelog.log", &sync);
    let log = folder.path().join("changelog.log");
    wait_for(&mut child, &log, "the changelog fetch", || fake.pending_faults() == 0).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    kill(&mut child);

    let stored = stored_ids(store.store(), "DRILL").await;
    let state = store.store().sync_state("DRILL").await.unwrap();
    let checkpoint = state.and_then(|state| state.checkpoint);
    assert_eq!(checkpoint.as_ref().map_or(0, checkpoint_offset), stored.len() as u64);
    let drill_138 = store.store().issues(&["DRILL".to_owned()]).await.unwrap();
    assert!(drill_138.iter().all(|issue| issue.key.as_str() != "DRILL-138"));

    let report = run_to_end(folder.path(), &settings, &sync);

    assert_eq!(report["received"].as_u64(), Some(3 - stored.len() as u64));
    let mut stored = store.store().issues(&["DRILL".to_owned()]).await.unwrap();
    let source = source_issues(&fake, "DRILL");
    stored.sort_by_key(|issue| issue.id);
    assert_eq!(stored.len(), 3);
    for (got, want) in stored.iter().zip(&source) {
        match got.key.as_str() {
            "DRILL-138" => crate::client::assert_whole_drill_138(got),
            _ => assert_eq!(got, want),
        }
    }
}

async fn a_cloud_sync_killed_while_fetching_a_whole_changelog_resumes(store: TestStore) {
    killed_changelog_fetch_resumes_to_the_source(Flavor::Cloud, store).await;
}
both_backends!(a_cloud_sync_killed_while_fetching_a_whole_changelog_resumes);

async fn a_data_center_sync_killed_while_fetching_a_whole_changelog_resumes(store: TestStore) {
    killed_changelog_fetch_resumes_to_the_source(Flavor::DataCenter, store).await;
}
both_backends!(a_data_center_sync_killed_while_fetching_a_whole_changelog_resumes);
