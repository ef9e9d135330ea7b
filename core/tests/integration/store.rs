//! The store suite: every test runs against SQLite (a temporary file) and PostgreSQL (a
//! fresh database; the PostgreSQL variants fail, never skip, when the server is missing).
//!
//! Real data throughout: the 1,827 ZooKeeper bugs under `examples/`, the Kafka bug-fix CSV
//! (issues without JIRA ids) and recorded REST responses with changelogs and comments.

use std::path::Path;

use bugdash::ingest::import::{import_files, ImportRequest};
use bugdash::ingest::NoProgress;
use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::{HistorySource, Issue, StatusCategory, StatusChange, Timestamp};
use bugdash::store::{self, storage_id, PostgresStore, SqliteStore, Store, SyncRun, SyncState};
use bugdash::{Error, Position};
use sqlx::{AssertSqlSafe, Row};

use crate::common::{example, fixture};
use crate::pg::TestDatabase;

/// Connection options of a test database.
fn pg_options(database: &TestDatabase) -> sqlx::postgres::PgConnectOptions {
    database.url.parse().expect("the test database URL is valid")
}

/// A store of one backend with what keeps it alive.
enum Harness {
    Sqlite { store: SqliteStore, _dir: tempfile::TempDir },
    Postgres { store: PostgresStore, _database: Box<TestDatabase> },
}

impl Harness {
    async fn sqlite(batch_size: usize) -> Harness {
        let harness = Harness::sqlite_unmigrated(batch_size).await;
        harness.store().migrate().await.expect("migrate SQLite");
        harness
    }

    async fn sqlite_unmigrated(batch_size: usize) -> Harness {
        let dir = tempfile::tempdir().expect("temporary folder");
        let store = SqliteStore::open(&dir.path().join("store.db")).await.expect("open SQLite");
        Harness::Sqlite { store: store.with_batch_size(batch_size), _dir: dir }
    }

    async fn postgres(batch_size: usize) -> Harness {
        let harness = Harness::postgres_unmigrated(batch_size).await;
        harness.store().migrate().await.expect("migrate PostgreSQL");
        harness
    }

    async fn postgres_unmigrated(batch_size: usize) -> Harness {
        let database = TestDatabase::create().await;
        let store = PostgresStore::connect_with(pg_options(&database))
            .await
            .expect("connect to the test database");
        Harness::Postgres {
            store: store.with_batch_size(batch_size),
            _database: Box::new(database),
        }
    }

    /// Applies the backend's migrations older than `version` only, as an older release
    /// left the database.
    async fn migrate_before(&self, version: i64) {
        let older = |migrator: sqlx::migrate::Migrator| sqlx::migrate::Migrator {
            migrations: migrator
                .migrations
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
            ..migrator
        };
        match self {
            Harness::Sqlite { store, .. } => older(sqlx::migrate!("../migrations/sqlite"))
                .run(store.pool())
                .await
                .expect("older SQLite migrations"),
            Harness::Postgres { store, .. } => older(sqlx::migrate!("../migrations/postgres"))
                .run(store.pool())
                .await
                .expect("older PostgreSQL migrations"),
        }
    }

    /// Elements of the JSON lists in `column` over every stored issue.
    async fn list_elements(&self, column: &str) -> i64 {
        let length = match self {
            Harness::Sqlite { .. } => format!("json_array_length({column})"),
            Harness::Postgres { .. } => format!("json_array_length({column}::json)"),
        };
        self.count(&format!("SELECT COALESCE(SUM({length}), 0) FROM issues")).await
    }

    fn store(&self) -> &dyn Store {
        match self {
            Harness::Sqlite { store, .. } => store,
            Harness::Postgres { store, .. } => store,
        }
    }

    /// Rows of a query whose columns are all cast to text, the same SQL on both backends.
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = AssertSqlSafe(sql.to_owned());
        let text = |count: usize, get: &dyn Fn(usize) -> Option<String>| {
            (0..count).map(get).collect::<Vec<_>>()
        };
        match self {
            Harness::Sqlite { store, .. } => {
                let rows = sqlx::query(sql).fetch_all(store.pool()).await.expect("query");
                rows.iter().map(|r| text(r.len(), &|i| r.get(i))).collect()
            }
            Harness::Postgres { store, .. } => {
                let rows = sqlx::query(sql).fetch_all(store.pool()).await.expect("query");
                rows.iter().map(|r| text(r.len(), &|i| r.get(i))).collect()
            }
        }
    }

    /// A second, independent handle on the same database, as another process opens it.
    async fn another_handle(&self) -> Box<dyn Store> {
        match self {
            Harness::Sqlite { _dir, .. } => {
                let file = _dir.path().join("store.db");
                Box::new(SqliteStore::open(&file).await.expect("open SQLite again"))
            }
            Harness::Postgres { _database, .. } => Box::new(
                PostgresStore::connect_with(pg_options(_database))
                    .await
                    .expect("connect to the test database again"),
            ),
        }
    }

    /// Makes the database refuse to insert the issue with `key`, as a constraint would.
    async fn refuse_inserting(&self, key: &str) {
        let statements = match self {
            Harness::Sqlite { .. } => vec![format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON issues WHEN NEW.key = '{key}' \
                 BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
            )],
            Harness::Postgres { .. } => vec![
                format!(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     IF NEW.key = '{key}' THEN RAISE EXCEPTION 'refused by a test trigger'; \
                     END IF; RETURN NEW; END $$"
                ),
                "CREATE TRIGGER refuse BEFORE INSERT ON issues FOR EACH ROW \
                 EXECUTE FUNCTION refuse()"
                    .to_owned(),
            ],
        };
        for statement in statements {
            self.rows(&statement).await;
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        let rows = self.rows(&format!("SELECT CAST(({sql}) AS TEXT)")).await;
        rows[0][0].as_deref().and_then(|n| n.parse().ok()).expect("a count")
    }
}

/// Runs an async test body once per backend, as `<name>::sqlite` and `<name>::postgres`.
macro_rules! both_backends {
    ($name:ident, $batch:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Harness::sqlite($batch).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Harness::postgres($batch).await).await
            }
        }
    };
    ($name:ident) => {
        both_backends!($name, 2_000);
    };
}

fn zookeeper() -> Vec<Issue> {
    (1..=3)
        .flat_map(|part| {
            let path = example(&format!("zookeeper/ZOOKEEPER-bugs-part{part}-of-3.json"));
            read_path(&path, &ReadOptions::default()).expect("ZooKeeper example")
        })
        .collect()
}

fn read(path: &Path) -> Vec<Issue> {
    read_path(path, &ReadOptions::default()).expect("fixture")
}

fn by_id(mut issues: Vec<Issue>) -> Vec<Issue> {
    issues.sort_by_key(storage_id);
    issues
}

/// Asserts two issue lists are equal, showing the first issue that differs.
fn assert_same(stored: &[Issue], expected: &[Issue]) {
    for (got, want) in stored.iter().zip(expected) {
        assert_eq!(got, want);
    }
    assert_eq!(stored.len(), expected.len(), "issue counts differ");
}

fn all() -> Vec<String> {
    Vec::new()
}

/// Issue rows and project versions as stored, to tell whether anything was rewritten.
async fn snapshot(harness: &Harness) -> Vec<Vec<Option<String>>> {
    let mut rows = harness
        .rows(
            "SELECT CAST(id AS TEXT), CAST(content_hash AS TEXT), CAST(stored_at AS TEXT) \
             FROM issues ORDER BY id",
        )
        .await;
    rows.extend(
        harness
            .rows(
                "SELECT key, CAST(data_version AS TEXT), CAST(updated_at AS TEXT) \
                 FROM projects ORDER BY key",
            )
            .await,
    );
    if let Harness::Postgres { .. } = harness {
        // A rewrite gives a row a new transaction id even when its values are equal.
        rows.extend(harness.rows("SELECT CAST(xmin AS TEXT) FROM issues ORDER BY id").await);
    }
    rows
}

async fn zookeeper_round_trips_unchanged(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();

    let stats = store.upsert_issues(&issues).await.expect("write");
    let stored = store.issues(&all()).await.expect("read");

    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (1827, 0, 0));
    assert_eq!(stored.len(), 1827);
    assert_same(&stored, &by_id(issues));
    // Counts from the raw JSON (python over fields.components/labels/fixVersions/versions).
    let sum = |f: fn(&Issue) -> usize| stored.iter().map(f).sum::<usize>();
    assert_eq!(sum(|i| i.components.len()), 1500);
    assert_eq!(sum(|i| i.labels.len()), 245);
    assert_eq!(sum(|i| i.fix_versions.len()), 1973);
    assert_eq!(sum(|i| i.affects_versions.len()), 1844);
    assert_eq!(harness.list_elements("components").await, 1500);
    assert_eq!(harness.list_elements("labels").await, 245);
    assert_eq!(harness.list_elements("fix_versions").await, 1973);
    assert_eq!(harness.list_elements("affects_versions").await, 1844);
    let changes = stored.iter().map(|i| i.status_history.len()).sum::<usize>();
    assert_eq!(harness.list_elements("status_changes").await, changes as i64);
    let projects = store.projects().await.expect("projects");
    assert_eq!(projects.len(), 1);
    assert_eq!((projects[0].key.as_str(), projects[0].issues), ("ZOOKEEPER", 1827));
    assert_eq!(projects[0].data_version, 1);
    let one = store.issues(&["ZOOKEEPER".to_owned()]).await.expect("read one project");
    assert_eq!(one.len(), 1827);
    assert!(store.issues(&["KAFKA".to_owned()]).await.expect("read").is_empty());
}
both_backends!(zookeeper_round_trips_unchanged);

async fn importing_twice_changes_nothing(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    store.upsert_issues(&issues).await.expect("first import");
    let before = snapshot(&harness).await;
    let projects_before = store.projects().await.expect("projects");

    let stats = store.upsert_issues(&issues).await.expect("second import");

    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (0, 0, 1827));
    assert_eq!(snapshot(&harness).await, before);
    assert_eq!(store.projects().await.expect("projects"), projects_before);
}
both_backends!(importing_twice_changes_nothing, 500);

async fn two_writers_of_the_same_new_issues_both_succeed(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();

    let (first, second) = tokio::join!(store.upsert_issues(&issues), store.upsert_issues(&issues));

    first.expect("the first writer succeeds");
    second.expect("the second writer succeeds");
    assert_same(&store.issues(&all()).await.expect("read back"), &by_id(issues));
    assert_eq!(harness.list_elements("components").await, 1500);
}
both_backends!(two_writers_of_the_same_new_issues_both_succeed, 200);

async fn moved_issue_stays_one_row(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    store.upsert_issues(&issues).await.expect("import");
    let mut moved = issues.iter().find(|i| &*i.key == "ZOOKEEPER-8").expect("ZOOKEEPER-8").clone();
    let id = storage_id(&moved);
    moved.key = "CURATOR-99".into();
    moved.project = "CURATOR".into();

    let stats = store.upsert_issues(&[moved.clone()]).await.expect("move");

    assert_eq!((stats.inserted, stats.updated), (0, 1));
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, 1827);
    assert_eq!(store.issue_ids("CURATOR").await.expect("ids"), vec![id]);
    let zookeeper_ids = store.issue_ids("ZOOKEEPER").await.expect("ids");
    assert_eq!(zookeeper_ids.len(), 1826);
    assert!(!zookeeper_ids.contains(&id));
    let curator = store.issues(&["CURATOR".to_owned()]).await.expect("read");
    assert_eq!(curator, vec![moved]);
    let versions: Vec<(String, i64)> = store
        .projects()
        .await
        .expect("projects")
        .into_iter()
        .map(|p| (p.key, p.data_version))
        .collect();
    assert_eq!(versions, vec![("CURATOR".to_owned(), 1), ("ZOOKEEPER".to_owned(), 2)]);
}
both_backends!(moved_issue_stays_one_row);

async fn duplicate_ids_in_a_batch_keep_the_latest_update(harness: Harness) {
    let store = harness.store();
    let base = zookeeper().into_iter().find(|i| &*i.key == "ZOOKEEPER-8").expect("issue");
    let at = |millis: i64| Some(Timestamp::from_millis(millis));
    let copy = |summary: &str, updated| Issue { summary: summary.into(), updated, ..base.clone() };
    let batch = vec![
        copy("older", at(1_000_000)),
        copy("newest", at(3_000_000)),
        copy("oldest, written last", at(500_000)),
        copy("less recent, later in input", at(2_000_000)),
    ];
    let tie = vec![copy("first of a tie", at(7_000_000)), copy("second of a tie", at(7_000_000))];

    let stats = store.upsert_issues(&batch).await.expect("write");
    let stored = store.issues(&all()).await.expect("read");

    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (1, 0, 0));
    assert_eq!(stored.len(), 1);
    assert_eq!(&*stored[0].summary, "newest");
    store.upsert_issues(&tie).await.expect("write a tie");
    assert_eq!(&*store.issues(&all()).await.expect("read")[0].summary, "second of a tie");
}
both_backends!(duplicate_ids_in_a_batch_keep_the_latest_update);

async fn an_older_copy_never_overwrites_a_newer_one(harness: Harness) {
    let store = harness.store();
    let base = zookeeper().into_iter().find(|i| &*i.key == "ZOOKEEPER-8").expect("issue");
    let at = |millis: i64| Some(Timestamp::from_millis(millis));
    let copy = |summary: &str, updated| Issue { summary: summary.into(), updated, ..base.clone() };
    store.upsert_issues(&[copy("newer", at(2_000_000))]).await.expect("write the newer copy");
    let version = |projects: Vec<store::ProjectInfo>| projects[0].data_version;
    let before = version(store.projects().await.expect("projects"));

    let older = store.upsert_issues(&[copy("older", at(1_000_000))]).await.expect("older");
    let undated = store.upsert_issues(&[copy("undated", None)]).await.expect("undated");

    assert_eq!((older.inserted, older.updated, older.unchanged), (0, 0, 1));
    assert_eq!((undated.inserted, undated.updated, undated.unchanged), (0, 0, 1));
    assert_eq!(&*store.issues(&all()).await.expect("read")[0].summary, "newer");
    assert_eq!(version(store.projects().await.expect("projects")), before);
    let equal = store.upsert_issues(&[copy("as recent", at(2_000_000))]).await.expect("tie");
    assert_eq!((equal.updated, equal.unchanged), (1, 0));
    assert_eq!(&*store.issues(&all()).await.expect("read")[0].summary, "as recent");
    let newest = store.upsert_issues(&[copy("newest", at(3_000_000))]).await.expect("newest");
    assert_eq!(newest.updated, 1);
    assert_eq!(&*store.issues(&all()).await.expect("read")[0].summary, "newest");
}
both_backends!(an_older_copy_never_overwrites_a_newer_one);

async fn an_issues_lists_are_replaced_with_it(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    let mut changed = issues
        .iter()
        .find(|i| i.components.len() >= 2 && i.fix_versions.len() >= 2)
        .expect("an issue with two components and two fix versions")
        .clone();
    let id = storage_id(&changed);
    store.upsert_issues(&issues).await.expect("import");
    let components_before = harness.list_elements("components").await;
    let kept = changed.components[1].clone();
    changed.components = vec![kept.clone()].into_boxed_slice();
    changed.fix_versions = changed.fix_versions.iter().rev().cloned().collect();
    changed.labels = vec!["added".into()].into_boxed_slice();

    let stats = store.upsert_issues(&[changed.clone()]).await.expect("rewrite");

    assert_eq!((stats.updated, stats.unchanged), (1, 0));
    let stored = store.issues(&all()).await.expect("read");
    let back = stored.iter().find(|i| storage_id(i) == id).expect("issue");
    assert_eq!(back, &changed);
    let sql = format!("SELECT components, labels FROM issues WHERE id = {id}");
    let row = harness.rows(&sql).await.remove(0);
    let list = |text: &Option<String>| -> Vec<String> {
        serde_json::from_str(text.as_deref().expect("a list")).expect("a JSON list")
    };
    assert_eq!((list(&row[0]), list(&row[1])), (vec![kept.to_string()], vec!["added".to_owned()]));
    let lost = issues.iter().find(|i| storage_id(i) == id).map_or(0, |i| i.components.len() - 1);
    let components_after = harness.list_elements("components").await;
    assert_eq!(components_after, components_before - lost as i64);
}
both_backends!(an_issues_lists_are_replaced_with_it);

/// A store an older release wrote (the database is given unmigrated), with an issue's
/// lists in tables of their own, keeps every list through the migration that moves them into the issue row: in their order
/// (not the names' order), with the versions told apart by kind and the status changes'
/// instants and missing "from" kept.
async fn lists_stored_as_rows_survive_the_move_into_the_issue_row(harness: Harness) {
    harness.migrate_before(20261205300000).await;
    let postgres = matches!(harness, Harness::Postgres { .. });
    let at = |millis: i64| match postgres {
        true => format!("to_timestamp({millis}::float8 / 1000)"),
        false => millis.to_string(),
    };
    let statements = [
        "INSERT INTO projects (key) VALUES ('ZK')".to_owned(),
        format!(
            "INSERT INTO issues (id, key, project, issue_type, status, summary, history_source, \
             history_complete, content_hash, stored_at) VALUES \
             (11, 'ZK-1', 'ZK', 'Bug', 'Closed', 'with lists', 'changelog', {t}, 5, {now}), \
             (12, 'ZK-2', 'ZK', 'Bug', 'Open', 'without', 'none', {f}, 6, {now})",
            t = if postgres { "true" } else { "1" },
            f = if postgres { "false" } else { "0" },
            now = at(1_700_000_000_000),
        ),
        "INSERT INTO issue_components (issue_id, ordinal, name) \
         VALUES (11, 1, 'Alpha'), (11, 0, 'Zeta')"
            .to_owned(),
        "INSERT INTO issue_labels (issue_id, ordinal, name) VALUES (11, 0, 'flaky')".to_owned(),
        "INSERT INTO issue_versions (issue_id, kind, ordinal, name) VALUES \
         (11, 'fix', 1, '3.4.0'), (11, 'affects', 0, '3.3.1'), (11, 'fix', 0, '3.5.0')"
            .to_owned(),
        format!(
            "INSERT INTO issue_status_changes (issue_id, ordinal, at, from_status, to_status) \
             VALUES (11, 1, {second}, 'Open', 'Closed'), (11, 0, {first}, NULL, 'Open')",
            first = at(1_372_810_573_737),
            second = at(1_372_900_000_001),
        ),
    ];
    for sql in statements {
        harness.rows(&sql).await;
    }

    harness.store().migrate().await.expect("the newer migrations");

    let stored = harness.store().issues(&all()).await.expect("read back");
    let names =
        |list: &[bugdash::model::Text]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let lists = |i: &Issue| {
        (names(&i.components), names(&i.labels), names(&i.fix_versions), names(&i.affects_versions))
    };
    assert_eq!(stored.len(), 2);
    assert_eq!(
        lists(&stored[0]),
        (
            vec!["Zeta".into(), "Alpha".into()],
            vec!["flaky".into()],
            vec!["3.5.0".into(), "3.4.0".into()],
            vec!["3.3.1".into()]
        )
    );
    let history = [
        StatusChange {
            at: Timestamp::from_millis(1_372_810_573_737),
            from: None,
            to: "Open".into(),
        },
        StatusChange {
            at: Timestamp::from_millis(1_372_900_000_001),
            from: Some("Open".into()),
            to: "Closed".into(),
        },
    ];
    assert_eq!(&*stored[0].status_history, &history);
    assert_eq!(lists(&stored[1]), Default::default());
    assert!(stored[1].status_history.is_empty());
}
mod lists_stored_as_rows_survive_the_move_into_the_issue_row {
    use super::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::lists_stored_as_rows_survive_the_move_into_the_issue_row(
            Harness::sqlite_unmigrated(2_000).await,
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::lists_stored_as_rows_survive_the_move_into_the_issue_row(
            Harness::postgres_unmigrated(2_000).await,
        )
        .await
    }
}

/// Status changes are stored as JSON, exactly: an instant beyond PostgreSQL's timestamp
/// range, which its `timestamptz` refused when changes had a table, comes back unchanged
/// on both backends.
async fn a_status_change_far_in_the_future_comes_back_unchanged(harness: Harness) {
    let store = harness.store();
    let mut issue = zookeeper().remove(0);
    let mut history = issue.status_history.to_vec();
    history.push(StatusChange {
        at: Timestamp::from_millis(9_300_000_000_000_000),
        from: Some("Open".into()),
        to: "Resolved \"quoted\" \u{1F41B}".into(),
    });
    issue.status_history = history.into_boxed_slice();

    store.upsert_issues(std::slice::from_ref(&issue)).await.expect("write");

    assert_eq!(store.issues(&all()).await.expect("read"), vec![issue]);
}
both_backends!(a_status_change_far_in_the_future_comes_back_unchanged);

async fn file_issues_without_id_get_stable_negative_ids(harness: Harness) {
    let store = harness.store();
    let path = fixture("jira/apache_bugs_large/kafka-jira-bug-fix-dataset.csv");
    let issues = read(&path);
    assert_eq!(issues.len(), 2402);
    assert!(issues.iter().all(|i| i.id.is_none()));

    let first = store.upsert_issues(&issues).await.expect("first import");
    let again = store.upsert_issues(&read(&path)).await.expect("second import");

    assert_eq!((first.inserted, again.unchanged, again.inserted), (2402, 2402, 0));
    let ids = store.issue_ids("KAFKA").await.expect("ids");
    assert_eq!(ids.len(), 2402);
    assert!(ids.iter().all(|id| *id < 0));
    let mut expected: Vec<i64> = issues.iter().map(storage_id).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert_same(&store.issues(&all()).await.expect("read"), &by_id(issues));
}
both_backends!(file_issues_without_id_get_stable_negative_ids);

async fn changelogs_and_comments_round_trip(harness: Harness) {
    let store = harness.store();
    let mut issues =
        read(&fixture("jira/grimoirelab_finos_cloud_v2/perceval_items_finos_with_changelog.json"));
    for file in ["drill_1_issue.json", "drill_38_issue.json", "drill_138_issue.json"] {
        issues.extend(read(&fixture(&format!("jira/issueshark_apache_server_v2/{file}"))));
    }
    assert!(issues.iter().any(|i| i.status_history.len() >= 2));
    assert!(issues.iter().any(|i| i.comments.len() >= 2));

    // The recording holds id 10010 twice: CONTRIB-5 in full and CONTRIB-4 with no fields
    // (so no update time); the fuller, updated copy is the one to keep.
    let twins: Vec<&str> = issues.iter().filter(|i| i.id == Some(10010)).map(|i| &*i.key).collect();
    assert_eq!(twins, ["CONTRIB-5", "CONTRIB-4"]);
    let expected: Vec<Issue> = issues.iter().filter(|i| &*i.key != "CONTRIB-4").cloned().collect();

    let stats = store.upsert_issues(&issues).await.expect("write");

    assert_eq!(stats.inserted, expected.len() as u64);
    assert_same(&store.issues(&all()).await.expect("read"), &by_id(expected));
}
both_backends!(changelogs_and_comments_round_trip);

fn state(checkpoint: serde_json::Value, written: u64) -> SyncState {
    SyncState {
        project: "ZOOKEEPER".to_owned(),
        watermark: Some(Timestamp::from_millis(1_547_164_800_123)),
        checkpoint: Some(checkpoint),
        issues_written: written,
        last_census: None,
    }
}

async fn save_page_writes_issues_and_checkpoint_or_neither(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    let first = state(serde_json::json!({"next_page_token": "abc", "bound": 1}), 1827);
    store.save_page(&issues, &first).await.expect("first page");
    let mut page: Vec<Issue> =
        issues.iter().map(|i| Issue { summary: "rewritten".into(), ..i.clone() }).collect();
    // The key check rejects this row in the database, after the batches before it (500
    // issues each) were written in the same transaction.
    page.push(Issue { id: Some(99_999_999), key: "".into(), ..issues[0].clone() });
    let second = state(serde_json::json!({"next_page_token": "def", "bound": 1}), 3654);

    let failed = store.save_page(&page, &second).await;

    assert!(failed.is_err(), "a page with an invalid issue must fail");
    assert_same(&store.issues(&all()).await.expect("read"), &by_id(issues.clone()));
    assert_eq!(store.sync_state("ZOOKEEPER").await.expect("state"), Some(first));
    page.pop();
    let stats = store.save_page(&page, &second).await.expect("page without the bad issue");
    assert_eq!(stats.updated, 1827);
    assert_eq!(store.sync_state("ZOOKEEPER").await.expect("state"), Some(second));
    assert!(store.issues(&all()).await.expect("read").iter().all(|i| &*i.summary == "rewritten"));
}
both_backends!(save_page_writes_issues_and_checkpoint_or_neither, 500);

async fn sync_state_and_runs_round_trip(harness: Harness) {
    let store = harness.store();
    assert_eq!(store.sync_state("ZOOKEEPER").await.expect("state"), None);
    let checkpoint = serde_json::json!({"token": "it's \"quoted\"", "offset": 4500, "z": [1, 2]});
    let saved = SyncState {
        last_census: Some(Timestamp::from_millis(1_700_000_000_999)),
        ..state(checkpoint, u64::from(u32::MAX) + 7)
    };

    store.save_sync_state(&saved).await.expect("save state");
    let first = store.start_run("ZOOKEEPER", "full-sync").await.expect("start");
    let second = store.start_run("ZOOKEEPER", "sync").await.expect("start");
    let other = store.start_run("KAFKA", "import").await.expect("start");
    let finished = SyncRun {
        id: first,
        project: "ZOOKEEPER".to_owned(),
        kind: "full-sync".to_owned(),
        started_at: Timestamp::from_millis(0),
        finished_at: Some(Timestamp::from_millis(1_700_000_123_456)),
        outcome: "failed".to_owned(),
        api_calls: 42,
        issues_written: 1827,
        errors: vec![
            "429 Too Many Requests; retried 3 times".to_owned(),
            "l'erreur \"x\"".to_owned(),
        ],
    };
    store.finish_run(&finished).await.expect("finish");

    assert_eq!(store.sync_state("ZOOKEEPER").await.expect("state"), Some(saved.clone()));
    let runs = store.runs(Some("ZOOKEEPER"), 10).await.expect("runs");
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![second, first]);
    assert_eq!((runs[0].outcome.as_str(), runs[0].finished_at), ("running", None));
    assert_eq!(SyncRun { started_at: runs[1].started_at, ..finished.clone() }, runs[1]);
    assert!(runs[1].started_at.millis() > 1_700_000_000_000);
    let latest = store.runs(None, 2).await.expect("runs");
    assert_eq!(latest.iter().map(|r| r.id).collect::<Vec<_>>(), vec![other, second]);
    assert!(store.finish_run(&SyncRun { id: other + 100, ..finished }).await.is_err());
    let projects = store.projects().await.expect("projects");
    assert_eq!(projects.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(), ["KAFKA", "ZOOKEEPER"]);
    assert_eq!(projects[1].sync, Some(saved));
    assert_eq!(projects[0].sync, None);
}
both_backends!(sync_state_and_runs_round_trip);

async fn removed_issues_are_hidden_until_written_again(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    store.upsert_issues(&issues).await.expect("import");
    let gone: Vec<i64> = issues[..3].iter().map(storage_id).collect();

    let marked =
        store.mark_removed(&[gone.clone(), vec![123_456_789]].concat()).await.expect("mark");
    let again = store.mark_removed(&gone).await.expect("mark again");

    assert_eq!((marked, again), (3, 0));
    let stored = store.issues(&all()).await.expect("read");
    assert_eq!(stored.len(), 1824);
    assert!(stored.iter().all(|i| !gone.contains(&storage_id(i))));
    assert!(store.issue_ids("ZOOKEEPER").await.expect("ids").iter().all(|id| !gone.contains(id)));
    let project = &store.projects().await.expect("projects")[0];
    assert_eq!((project.issues, project.removed, project.data_version), (1824, 3, 2));
    let back = store.upsert_issues(&issues[..1]).await.expect("write again");
    assert_eq!((back.updated, back.unchanged), (1, 0));
    assert_eq!(store.issues(&all()).await.expect("read").len(), 1825);
}
both_backends!(removed_issues_are_hidden_until_written_again);

async fn project_versions_follow_writes_and_removals_without_counting(harness: Harness) {
    let store = harness.store();
    let issues = zookeeper();
    let zookeeper = vec!["ZOOKEEPER".to_owned()];
    store.upsert_project("EMPTY", None).await.expect("an empty project");
    store.upsert_issues(&issues[..2]).await.expect("import");
    let versions = |keys: Vec<String>| async move { store.project_versions(&keys).await };
    let row = |key: &str, data_version, has_issues| store::ProjectVersion {
        key: key.into(),
        data_version,
        has_issues,
    };

    let every = versions(Vec::new()).await.expect("every project");
    let one = versions(zookeeper.clone()).await.expect("one project");
    let unknown = versions(vec!["NOPE".into()]).await.expect("an unknown key");
    store.mark_removed(&issues[..2].iter().map(storage_id).collect::<Vec<_>>()).await.unwrap();
    let removed = versions(zookeeper.clone()).await.expect("after removal");

    assert_eq!(every, vec![row("EMPTY", 0, false), row("ZOOKEEPER", 1, true)]);
    assert_eq!(one, vec![row("ZOOKEEPER", 1, true)]);
    assert!(unknown.is_empty());
    assert_eq!(removed, vec![row("ZOOKEEPER", 2, false)]);
}
both_backends!(project_versions_follow_writes_and_removals_without_counting);

fn hostile_issue() -> Issue {
    let at = Timestamp::from_millis;
    Issue {
        id: Some(4_242),
        key: "HOSTILE-1".into(),
        project: "HOSTILE".into(),
        issue_type: "Bug'; DROP TABLE issues; --".into(),
        status: "In \"Progress\"".into(),
        status_category: Some(StatusCategory::Indeterminate),
        priority: Some("P1 \\ back\\slash %_".into()),
        resolution: None,
        created: Some(at(-2_208_988_799_999)),
        updated: Some(at(4_102_444_800_001)),
        resolved: Some(at(1)),
        components: vec![
            "ürün".into(),
            "".into(),
            "$1 ?1 :name".into(),
            "\u{1}\u{1f} \u{2028}\u{2029} \\\"/ \u{7f}".into(),
        ]
        .into_boxed_slice(),
        labels: vec!["日本語".into(), "emoji-🐛".into()].into_boxed_slice(),
        fix_versions: vec!["1.0\n2.0".into()].into_boxed_slice(),
        affects_versions: vec!["'".into(), "\"".into()].into_boxed_slice(),
        environment: Some("RTL \u{202e}txet\u{202c} and combining e\u{301}".into()),
        assignee: Some("O'Brien".into()),
        reporter: Some("".into()),
        summary: "tabs\tand\r\nnewlines, \u{ffff} and a NUL:\0!".into(),
        description: Some("{\"json\": [1, 2]} ]]> </script> \\u0000".into()),
        comments: vec!["[\"not\", \"an array\"]".into(), "null".into(), "nul\0in comment".into()]
            .into_boxed_slice(),
        status_history: vec![
            StatusChange { at: at(-1), from: None, to: "Open".into() },
            StatusChange { at: at(999), from: Some("Open".into()), to: "Closed\0".into() },
        ]
        .into_boxed_slice(),
        history_source: HistorySource::Changelog,
        history_complete: true,
        reopen_count: Some(u32::MAX),
    }
}

async fn hostile_text_round_trips_and_nul_is_removed(harness: Harness) {
    let store = harness.store();
    let issue = hostile_issue();
    let expected = Issue {
        summary: "tabs\tand\r\nnewlines, \u{ffff} and a NUL:!".into(),
        comments: vec!["[\"not\", \"an array\"]".into(), "null".into(), "nulin comment".into()]
            .into_boxed_slice(),
        status_history: vec![
            StatusChange { at: Timestamp::from_millis(-1), from: None, to: "Open".into() },
            StatusChange {
                at: Timestamp::from_millis(999),
                from: Some("Open".into()),
                to: "Closed".into(),
            },
        ]
        .into_boxed_slice(),
        ..issue.clone()
    };

    store.upsert_issues(std::slice::from_ref(&issue)).await.expect("write");
    let again = store.upsert_issues(&[issue]).await.expect("write again");

    assert_eq!(store.issues(&all()).await.expect("read"), vec![expected]);
    assert_eq!(again.unchanged, 1);
    assert_eq!(harness.count("SELECT COUNT(*) FROM projects").await, 1);
}
both_backends!(hostile_text_round_trips_and_nul_is_removed);

/// Whether `store` can take the sync lock of `project` within `wait`, polling; a lock
/// dropped without [`store::SyncLock::release`] may take the server a moment to free.
async fn lockable_within(store: &dyn Store, project: &str, wait: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + wait;
    loop {
        if store.lock_sync(project).await.expect("try the lock").is_some() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn a_held_sync_lock_refuses_a_second_holder_until_released(harness: Harness) {
    let store = harness.store();
    let other = harness.another_handle().await;

    let held = store.lock_sync("ZOOKEEPER").await.expect("lock");
    let same_handle = store.lock_sync("ZOOKEEPER").await.expect("lock");
    let other_handle = other.lock_sync("ZOOKEEPER").await.expect("lock");
    let other_project = other.lock_sync("KAFKA").await.expect("lock");

    assert_eq!(held.as_ref().map(|lock| lock.project()), Some("ZOOKEEPER"));
    assert!(same_handle.is_none());
    assert!(other_handle.is_none());
    assert_eq!(other_project.as_ref().map(|lock| lock.project()), Some("KAFKA"));
    held.expect("held").release().await;
    let again = other.lock_sync("ZOOKEEPER").await.expect("lock");
    assert!(again.is_some(), "a released lock is free at once");
    assert!(store.lock_sync("KAFKA").await.expect("lock").is_none());
}
both_backends!(a_held_sync_lock_refuses_a_second_holder_until_released);

async fn a_dropped_sync_lock_is_freed(harness: Harness) {
    let store = harness.store();
    let other = harness.another_handle().await;
    let held = other.lock_sync("ZOOKEEPER").await.expect("lock").expect("free at first");
    assert!(store.lock_sync("ZOOKEEPER").await.expect("lock").is_none());

    drop(held);

    let wait = std::time::Duration::from_secs(5);
    assert!(lockable_within(store, "ZOOKEEPER", wait).await, "still held 5 s after the drop");
}
both_backends!(a_dropped_sync_lock_is_freed);

#[tokio::test]
async fn an_in_memory_sqlite_store_locks_each_project_once() {
    let store = SqliteStore::connect("sqlite::memory:").await.expect("open in memory");
    let clone = store.clone();

    let held = store.lock_sync("ZOOKEEPER").await.expect("lock");
    let refused = clone.lock_sync("ZOOKEEPER").await.expect("lock");
    let other_project = clone.lock_sync("KAFKA").await.expect("lock");
    drop(held);
    let after_drop = clone.lock_sync("ZOOKEEPER").await.expect("lock");

    assert!(refused.is_none());
    assert!(other_project.is_some());
    assert!(after_drop.is_some());
}

#[tokio::test]
async fn the_sqlite_sync_lock_lives_in_a_file_beside_the_database() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(&dir.path().join("store.db")).await.expect("open");

    let held = store.lock_sync("ZOOKEEPER").await.expect("lock");

    assert!(held.is_some());
    assert!(dir.path().join("store.db.sync-ZOOKEEPER.lock").is_file());
}

#[tokio::test]
async fn open_creates_the_sqlite_file_and_folder_and_migrates() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("nested/deeper/bugdash.db");
    let url = format!("sqlite:{}", file.display());

    let store = store::open(&url).await.expect("open");
    store.upsert_issues(&zookeeper()[..10]).await.expect("write");
    drop(store);
    let reopened = store::open(&url).await.expect("reopen");

    assert!(file.exists());
    assert_eq!(reopened.backend(), store::Backend::Sqlite);
    assert_eq!(reopened.issues(&all()).await.expect("read").len(), 10);
    let refused = store::open("mysql://localhost/bugdash").await.err().map(|e| e.to_string());
    assert!(refused.is_some_and(|e| e.contains("\"mysql\" is not supported")));
}

#[tokio::test]
async fn open_connects_to_postgres_by_url_and_migrates() {
    let database = TestDatabase::create().await;

    let store = store::open(&database.url).await.expect("open");
    let again = store::open(&database.url.replace("postgres://", "postgresql://")).await;

    assert_eq!(store.backend(), store::Backend::Postgres);
    assert!(again.is_ok());
    assert!(store.projects().await.expect("projects").is_empty());
}

/// Opening a store only to read or change what it holds never creates one: a missing
/// SQLite file (a mistyped path) is refused and neither it nor its folder appears.
#[tokio::test]
async fn open_existing_refuses_a_missing_sqlite_file_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let folder = dir.path().join("mistyped");
    let url = format!("sqlite://{}", folder.join("bugdash.db").display());

    let refused = store::open_existing(&url).await.err();
    let folder_after_refusal = folder.exists();
    store::open(&url).await.expect("create the store");
    let reopened = store::open_existing(&url).await;

    assert!(matches!(refused, Some(Error::Config(_))), "{refused:?}");
    assert!(!folder_after_refusal);
    assert!(reopened.is_ok());
}

/// The versions of a backend's migrations, from their file names, oldest first.
fn migration_versions(backend: &str) -> Vec<i64> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    let mut versions: Vec<i64> = std::fs::read_dir(folder)
        .expect("the migrations folder")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.split('_').next().and_then(|v| v.parse().ok()))
        .collect();
    versions.sort_unstable();
    versions
}

/// `migrate` says which migrations it applied: on a database an older release left, only
/// the ones that release lacked; on an up-to-date one, none.
async fn migrate_says_which_migrations_it_applied(harness: Harness) {
    let backend = match harness {
        Harness::Sqlite { .. } => "sqlite",
        Harness::Postgres { .. } => "postgres",
    };
    let versions = migration_versions(backend);
    let newest = *versions.last().expect("migrations");
    harness.migrate_before(newest).await;

    let applied = harness.store().migrate().await.expect("the newest migration");
    let again = harness.store().migrate().await.expect("nothing left to apply");

    let applied_versions: Vec<i64> = applied.iter().map(|m| m.version).collect();
    assert_eq!(applied_versions, [newest]);
    assert!(!applied[0].description.is_empty(), "{applied:?}");
    assert_eq!(again, []);
}
mod migrate_says_which_migrations_it_applied {
    use super::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::migrate_says_which_migrations_it_applied(Harness::sqlite_unmigrated(2_000).await)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::migrate_says_which_migrations_it_applied(Harness::postgres_unmigrated(2_000).await)
            .await
    }
}

// `bugdash import`: files streamed into the store in batches.

/// The ZooKeeper issues as REST JSON records, `copies` times over, copy `k` renumbered
/// (id plus `k` * 1,000,000, key `ZOOKEEPER-<k>0<n>`) so that every record is its own issue.
fn zookeeper_records(copies: u64) -> Vec<serde_json::Value> {
    let mut records = Vec::new();
    for copy in 0..copies {
        for part in 1..=3 {
            let path = example(&format!("zookeeper/ZOOKEEPER-bugs-part{part}-of-3.json"));
            let text = std::fs::read(&path).expect("ZooKeeper example");
            let array: Vec<serde_json::Value> = serde_json::from_slice(&text).expect("JSON");
            for mut record in array {
                let id: u64 = record["id"].as_str().expect("id").parse().expect("numeric id");
                let key = record["key"].as_str().expect("key").to_owned();
                let number = key.trim_start_matches("ZOOKEEPER-");
                record["id"] = (id + copy * 1_000_000).to_string().into();
                record["key"] = format!("ZOOKEEPER-{copy}0{number}").into();
                records.push(record);
            }
        }
    }
    records
}

/// Writes records as a JSON array, one record per line.
fn write_array(path: &Path, records: &[serde_json::Value]) {
    let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(path, format!("[\n{}\n]\n", lines.join(",\n"))).expect("write the file");
}

fn import_request(files: Vec<std::path::PathBuf>) -> ImportRequest {
    ImportRequest { files, project: "ZOOKEEPER".into(), options: ReadOptions::default() }
}

async fn importing_a_file_twice_writes_it_once(harness: Harness) {
    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("two-copies.json");
    write_array(&file, &zookeeper_records(2));
    let request = import_request(vec![file]);

    let first = import_files(store, &request, &NoProgress).await.expect("first import");
    let again = import_files(store, &request, &NoProgress).await.expect("second import");

    assert_eq!(first.read, 3654);
    assert_eq!((first.written.inserted, first.written.updated), (3654, 0));
    assert_eq!((again.written.inserted, again.written.unchanged), (0, 3654));
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, 3654);
    let runs = store.runs(Some("ZOOKEEPER"), 10).await.expect("runs");
    let outcomes: Vec<(&str, u64)> =
        runs.iter().map(|r| (r.outcome.as_str(), r.issues_written)).collect();
    assert_eq!(outcomes, vec![("succeeded", 0), ("succeeded", 3654)]);
}
both_backends!(importing_a_file_twice_writes_it_once);

/// An import that fails before writing anything into a project new to the store leaves
/// neither the project nor a run behind; one into a project the store holds is recorded
/// as failed, and what the store held stays.
async fn a_failed_import_leaves_no_project_it_created(harness: Harness) {
    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("zookeeper.json");
    write_array(&file, &zookeeper_records(1)[..10]);
    let into = |project: &str| ImportRequest {
        files: vec![file.clone()],
        project: project.into(),
        options: ReadOptions::default(),
    };

    let refused = import_files(store, &into("HADOOP"), &NoProgress).await.expect_err("no HADOOP");
    let projects_after_refusal = store.projects().await.expect("projects");
    let runs_after_refusal = store.runs(None, 10).await.expect("runs");
    import_files(store, &into("ZOOKEEPER"), &NoProgress).await.expect("import");
    store.upsert_project("HADOOP", None).await.expect("a project the store holds");
    let refused_again = import_files(store, &into("HADOOP"), &NoProgress).await.err();

    assert!(matches!(refused, Error::InvalidParameter { .. }), "{refused:?}");
    assert!(refused.to_string().contains("they hold ZOOKEEPER"), "{refused}");
    assert_eq!(projects_after_refusal, []);
    assert_eq!(runs_after_refusal, []);
    assert!(refused_again.is_some());
    let runs = store.runs(None, 10).await.expect("runs");
    let runs: Vec<(&str, &str)> =
        runs.iter().map(|r| (r.project.as_str(), r.outcome.as_str())).collect();
    assert_eq!(runs, [("HADOOP", "failed"), ("ZOOKEEPER", "succeeded")]);
    let projects = store.projects().await.expect("projects");
    let projects: Vec<(&str, u64)> = projects.iter().map(|p| (p.key.as_str(), p.issues)).collect();
    assert_eq!(projects, [("HADOOP", 0), ("ZOOKEEPER", 10)]);
}
both_backends!(a_failed_import_leaves_no_project_it_created);

/// The store refusing the first batch (an id beyond what it holds) is a failure before
/// anything is written, like files without an issue of the project: a project new to the
/// store must not be left behind, empty, with a failed run.
async fn an_import_whose_first_batch_is_refused_before_writing_leaves_no_project(harness: Harness) {
    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("big.json");
    let record = r#"[{"id":"9223372036854775808","key":"BIG-1","fields":{"summary":"x"}}]"#;
    std::fs::write(&file, record).expect("write the file");
    let request =
        ImportRequest { files: vec![file], project: "BIG".into(), options: ReadOptions::default() };

    let refused = import_files(store, &request, &NoProgress).await.err();

    assert!(matches!(refused, Some(Error::InvalidParameter { .. })), "{refused:?}");
    assert_eq!(store.projects().await.expect("projects"), []);
    assert_eq!(store.runs(None, 10).await.expect("runs"), []);
}
both_backends!(an_import_whose_first_batch_is_refused_before_writing_leaves_no_project);

/// A batch goes in as several transactions (here of 5 issues), so a first batch refused
/// part-way leaves issues, and the project they created, stored: the run that wrote them
/// is recorded as failed, as into a project the store held.
async fn a_first_batch_refused_part_way_is_recorded_as_a_failed_run(harness: Harness) {
    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("zookeeper.json");
    let records = zookeeper_records(1);
    write_array(&file, &records[..10]);
    let refused_key = records[7]["key"].as_str().expect("a key");
    harness.refuse_inserting(refused_key).await;

    let failure = import_files(store, &import_request(vec![file]), &NoProgress).await.err();

    assert!(failure.is_some());
    let runs = store.runs(None, 10).await.expect("runs");
    let runs: Vec<(&str, &str)> =
        runs.iter().map(|r| (r.project.as_str(), r.outcome.as_str())).collect();
    assert_eq!(runs, [("ZOOKEEPER", "failed")]);
    let projects = store.projects().await.expect("projects");
    let projects: Vec<(&str, u64)> = projects.iter().map(|p| (p.key.as_str(), p.issues)).collect();
    assert_eq!(projects, [("ZOOKEEPER", 5)]);
}
both_backends!(a_first_batch_refused_part_way_is_recorded_as_a_failed_run, 5);

async fn a_bad_issue_mid_file_fails_the_run_and_a_rerun_completes_it(harness: Harness) {
    use bugdash::ingest::import::BATCH;

    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("big.json");
    let mut records = zookeeper_records(2);
    // The fault lies in the second batch, 500 issues into it.
    let bad = BATCH + 499;
    assert!(bad < records.len(), "the test needs more than {bad} records");
    let good = records[bad]["fields"]["created"].clone();
    records[bad]["fields"]["created"] = "9999-12-31T23:59:59.000+0000".into();
    write_array(&file, &records);
    let request = import_request(vec![file.clone()]);

    let fault = import_files(store, &request, &NoProgress).await.expect_err("bad date");

    let Error::Input { source_name, position, message } = &fault else { panic!("{fault:?}") };
    assert_eq!(source_name, &file.display().to_string());
    let record = bad as u64 + 1;
    assert_eq!(position, &Position::Record { record, line: Some(record + 1) });
    assert!(message.contains("field `created`"), "{message}");
    // The first batch was sent before the fault was read; no more.
    let total = records.len() as u64;
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, BATCH as i64);
    let run = &store.runs(Some("ZOOKEEPER"), 1).await.expect("runs")[0];
    assert_eq!((run.outcome.as_str(), run.issues_written), ("failed", BATCH as u64));
    let placed = format!("record {record} (line {})", record + 1);
    assert!(run.errors[0].contains(&placed), "{:?}", run.errors);

    records[bad]["fields"]["created"] = good;
    write_array(&file, &records);
    let rerun = import_files(store, &request, &NoProgress).await.expect("fixed file");
    assert_eq!(
        (rerun.written.inserted, rerun.written.unchanged),
        (total - BATCH as u64, BATCH as u64)
    );
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, total as i64);
}
both_backends!(a_bad_issue_mid_file_fails_the_run_and_a_rerun_completes_it);

async fn a_later_file_with_an_older_copy_does_not_overwrite(harness: Harness) {
    let store = harness.store();
    let dir = tempfile::tempdir().expect("temporary folder");
    let record = zookeeper_records(1).swap_remove(0);
    let mut older = record.clone();
    older["fields"]["updated"] = "2001-01-01T00:00:00.000+0000".into();
    older["fields"]["summary"] = "an old copy".into();
    let (new_file, old_file) = (dir.path().join("new.json"), dir.path().join("old.json"));
    write_array(&new_file, std::slice::from_ref(&record));
    write_array(&old_file, &[older]);
    let missing = dir.path().join("missing.json");

    let refused =
        import_files(store, &import_request(vec![new_file.clone(), missing]), &NoProgress)
            .await
            .expect_err("a missing file");
    let both = import_files(store, &import_request(vec![new_file, old_file.clone()]), &NoProgress)
        .await
        .expect("import both");
    let old_again =
        import_files(store, &import_request(vec![old_file]), &NoProgress).await.expect("import");

    assert!(matches!(refused, Error::Io { .. }), "{refused:?}");
    assert_eq!(harness.count("SELECT COUNT(*) FROM sync_runs").await, 2);
    // In one batch the copies merge before writing; across runs the store compares them.
    assert_eq!((both.read, both.written.inserted, both.written.unchanged), (2, 1, 0));
    assert_eq!((old_again.written.updated, old_again.written.unchanged), (0, 1));
    let stored = store.issues(&all()).await.expect("read");
    assert_eq!(stored[0].summary.as_str(), record["fields"]["summary"].as_str().expect("text"));
}
both_backends!(a_later_file_with_an_older_copy_does_not_overwrite);

/// An instant PostgreSQL cannot hold fails its own batch with an error naming it; the
/// batches beside it finish, nothing of the failed one is stored, and the store stays
/// usable (a connection whose `COPY` was cut short is closed, not reused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instant_postgres_cannot_hold_fails_only_its_batch() {
    let harness = Harness::postgres(500).await;
    let store = harness.store();
    let mut issues = zookeeper();
    let total = issues.len();
    assert!(total > 1_500, "three batches of 500 and more are needed");
    // The third batch of the first three in flight (issues 1,000 to 1,499) holds the fault.
    let position = 1_234;
    let kept = issues[position].resolved;
    issues[position].resolved = Some(Timestamp::from_millis(9_300_000_000_000_000));

    let fault = store.upsert_issues(&issues).await.expect_err("an instant out of range");

    assert!(fault.to_string().contains("resolved time"), "{fault}");
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, 1_000);
    issues[position].resolved = kept;
    let stats = store.upsert_issues(&issues).await.expect("the store is still usable");
    assert_eq!((stats.inserted, stats.unchanged), ((total - 1_000) as u64, 1_000));
    assert_eq!(harness.count("SELECT COUNT(*) FROM issues").await, total as i64);
    let changes = issues.iter().map(|issue| issue.status_history.len()).sum::<usize>();
    assert_eq!(harness.list_elements("status_changes").await, changes as i64);
}

/// New issues go in by `COPY`, which has no `ON CONFLICT`: when another writer stores one
/// of them after the batch looked (here a transaction still open when the batch reads),
/// the `COPY` is undone and the batch upserts instead, keeping the newer copy, with its
/// lists once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_issue_another_writer_stores_first_is_upserted_not_refused() {
    let harness = Harness::postgres(500).await;
    let Harness::Postgres { _database: database, .. } = &harness else { unreachable!() };
    let issues: Vec<Issue> = zookeeper().into_iter().take(20).collect();
    let raced = &issues[7];
    let options = pg_options(database);
    let mut other =
        <sqlx::PgConnection as sqlx::Connection>::connect_with(&options).await.expect("connect");
    sqlx::query("BEGIN").execute(&mut other).await.expect("begin");
    sqlx::query(
        "INSERT INTO issues (id, key, project, issue_type, status, summary, history_source, \
         history_complete, content_hash, stored_at, updated) VALUES ($1, $2, $3, 'Bug', \
         'Open', 'an older copy', 'none', false, 1, now(), to_timestamp(0))",
    )
    .bind(storage_id(raced))
    .bind(&*raced.key)
    .bind(&*raced.project)
    .execute(&mut other)
    .await
    .expect("the other writer's row");

    let writer = {
        let Harness::Postgres { store, .. } = &harness else { unreachable!() };
        let (store, issues) = (store.clone(), issues.clone());
        tokio::spawn(async move { store.upsert_issues(&issues).await })
    };
    // The batch's COPY now waits on the other writer's row; let it commit.
    let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                   AND query LIKE 'COPY issues %'";
    let mut waited = 0;
    while harness.count(waiting).await == 0 {
        assert!(waited < 200, "the batch's COPY never waited on the other writer");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    sqlx::query("COMMIT").execute(&mut other).await.expect("commit");

    writer.await.expect("writer task").expect("the batch is written despite the race");
    let stored = harness.store().issues(&all()).await.expect("read back");
    assert_same(&stored, &by_id(issues.clone()));
    let changes = issues.iter().map(|issue| issue.status_history.len()).sum::<usize>();
    assert_eq!(harness.list_elements("status_changes").await, changes as i64);
    let again = harness.store().upsert_issues(&issues).await.expect("rewrite");
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 20));
}

#[tokio::test]
async fn sqlite_copies_its_wal_into_the_file_every_10000_pages_on_every_connection() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(&dir.path().join("store.db")).await.expect("open");
    let mut connections = Vec::new();

    for _ in 0..4 {
        connections.push(store.pool().acquire().await.expect("a connection"));
    }

    for connection in &mut connections {
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut **connection)
            .await
            .expect("read the pragma");
        assert_eq!(pages, 10_000);
    }
}
