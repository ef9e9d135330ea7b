//! Usage analytics on both backends (a fresh PostgreSQL database or SQLite file per test):
//! the recorder loses nothing it accepted, rollups equal figures computed by hand, purges
//! drop whole PostgreSQL partitions and keep rollups, and the metrics text parses.

use std::sync::Arc;

use bugdash::analytics::report::{self, Period};
use bugdash::analytics::rollup::{day_start, rollup_day};
use bugdash::analytics::{Action, Event, Recorder, RecorderConfig};
use bugdash::auth::Role;
use bugdash::config::{AuthSettings, Settings, SmtpSecurity};
use bugdash::metrics::Metrics;
use bugdash::model::Timestamp;
use bugdash::store::accounts::{NewAccountRecord, SessionRecord};
use bugdash::store::analytics::EventQuery;
use bugdash::store::analytics::NewAuditEntry;
use bugdash::store::AnalyticsStore;
use bugdash::store::{Backend, PostgresStore, SqliteStore, Store};
use chrono::NaiveDate;

use crate::pg::TestDatabase;

/// A fresh store and what keeps it alive.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    /// Its URL, for a second instance.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

/// A migrated, empty store on `backend`.
pub async fn fixture(backend: Backend) -> Fixture {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let path = dir.path().join("store.db");
            let store = SqliteStore::open(&path).await.expect("open SQLite");
            store.migrate().await.expect("migrate SQLite");
            let url = format!("sqlite://{}", path.display());
            Fixture { store: Arc::new(store), url, _dir: Some(dir), _database: None }
        }
        Backend::Postgres => {
            let database = TestDatabase::create().await;
            let store = PostgresStore::connect(&database.url).await.expect("connect");
            store.migrate().await.expect("migrate PostgreSQL");
            let url = database.url.clone();
            Fixture { store: Arc::new(store), url, _dir: None, _database: Some(database) }
        }
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// `minutes` after midnight of `on`.
fn at(on: NaiveDate, minutes: i64) -> Timestamp {
    Timestamp::from_millis(day_start(on).millis() + minutes * 60_000)
}

fn event(on: NaiveDate, minute: i64, account: i64, session: i64, action: Action) -> Event {
    let mut event = Event::new(action, at(on, minute));
    event.account_id = Some(account);
    event.session_id = Some(session);
    event
}

pub async fn add_account(store: &dyn Store, email: &str, role: Role, created: Timestamp) -> i64 {
    let new = NewAccountRecord {
        email,
        name: "Test Person",
        department: Some("QA"),
        role,
        password_hash: "not-a-real-hash",
        created_at: created,
    };
    store.insert_account(&new).await.expect("insert an account").id
}

async fn concurrent_records_then_shutdown_store_exactly_n_events(backend: Backend) {
    let fixture = fixture(backend).await;
    let config = RecorderConfig { batch_size: 64, ..RecorderConfig::default() };
    let recorder = Recorder::start(Arc::clone(&fixture.store), config);
    let (tasks, per_task) = (16, 125);
    let on = day(2026, 12, 4);

    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let mut e = event(on, i, task, task * 1000, Action::ApiCall);
                    e.endpoint = Some("/api/projects/{key}/analysis".into());
                    e.filters = Some(serde_json::json!({"window": "all", "n": i}));
                    recorder.record(e);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a recording task");
    }
    recorder.shutdown().await.expect("shutdown");

    let n = (tasks * per_task) as u64;
    let everything = EventQuery::between(at(on, -1), at(on, 2000));
    let stored = fixture.store.events(&everything).await.expect("read events");
    let stats = recorder.stats();
    assert_eq!(stored.len() as u64, n);
    assert_eq!((stats.recorded, stats.written, stats.dropped, stats.failed), (n, n, 0, 0));
    assert_eq!(stored[0].filters.as_ref().unwrap()["window"], "all");
    recorder.record(event(on, 0, 1, 1, Action::Login));
    assert_eq!(recorder.stats().dropped, 1, "an event after shutdown is dropped and counted");
}

async fn rollups_equal_hand_computed_figures_and_recomputing_replaces(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let on = day(2026, 3, 10);
    let alice = add_account(store, "alice@example.com", Role::User, at(on, 5)).await;
    let bob = add_account(store, "bob@example.com", Role::User, at(day(2026, 3, 1), 0)).await;
    let analyse = |minute, account, session, project: &str| {
        let mut e = event(on, minute, account, session, Action::AnalyzeProject);
        e.project = Some(project.into());
        e.department = Some(if account == alice { "QA" } else { "Platform" }.into());
        e
    };
    let mut events = vec![
        event(on, 10, alice, 1, Action::Login),
        analyse(20, alice, 1, "ZOOKEEPER"),
        analyse(40, alice, 1, "KAFKA"),
        event(on, 70, alice, 1, Action::Logout),
        event(on, 30, bob, 2, Action::Login),
        analyse(50, bob, 2, "ZOOKEEPER"),
        event(on, 130, bob, 2, Action::ViewTrends),
        // The day before and after do not count.
        event(day(2026, 3, 9), 1439, bob, 3, Action::ApiCall),
        event(day(2026, 3, 11), 0, bob, 3, Action::ApiCall),
    ];
    for e in &mut events {
        e.department = e.department.clone().or(Some("Platform".into()));
    }
    store.insert_events(&events).await.expect("write events");

    let rollup = rollup_day(store, on).await.expect("roll up");

    // Spans: alice 10..70 (60 min), bob 30..130 (100 min): mean 80 min; both live 30..70.
    assert_eq!(rollup.events, 7);
    assert_eq!(rollup.active_users, 2);
    assert_eq!(rollup.new_users, 1);
    assert_eq!(rollup.sessions, 2);
    assert_eq!(rollup.analyses, 3);
    assert!((rollup.avg_session_seconds - 80.0 * 60.0).abs() < 1e-6);
    assert_eq!(rollup.most_analysed_project.as_deref(), Some("ZOOKEEPER"));
    assert_eq!(rollup.peak_concurrent_users, 2);
    let zk = rollup.projects.iter().find(|p| p.project == "ZOOKEEPER").unwrap();
    assert_eq!((zk.events, zk.analyses, zk.users), (2, 2, 2));
    let qa = rollup.departments.iter().find(|d| d.department == "QA").unwrap();
    assert_eq!((qa.events, qa.analyses, qa.users), (2, 2, 1));
    assert_eq!(store.rollups(on, on).await.unwrap(), vec![rollup.clone()]);

    store.insert_events(&[analyse(200, bob, 4, "KAFKA")]).await.unwrap();
    let again = rollup_day(store, on).await.expect("roll up again");
    let stored = store.rollups(on, on).await.unwrap();
    assert_eq!(stored.len(), 1, "a recomputed day replaces the stored one");
    assert_eq!((stored[0].analyses, stored[0].sessions), (4, 3));
    assert_eq!(stored[0], again);
    let kafka = stored[0].projects.iter().find(|p| p.project == "KAFKA").unwrap();
    assert_eq!(kafka.analyses, 2);
}

async fn purge_drops_old_partitions_and_keeps_rollups(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let days = [day(2025, 1, 15), day(2025, 2, 15), day(2025, 3, 5), day(2025, 3, 20)];
    let events: Vec<Event> = days.iter().map(|d| event(*d, 60, 1, 1, Action::ApiCall)).collect();
    store.insert_events(&events).await.expect("write events");
    for d in days {
        rollup_day(store, d).await.expect("roll up");
    }

    let purged = store.purge_events(day_start(day(2025, 3, 10))).await.expect("purge");

    let everything = EventQuery::between(at(day(2024, 1, 1), 0), at(day(2026, 1, 1), 0));
    let left = store.events(&everything).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].at, at(day(2025, 3, 20), 60));
    let kept = store.rollups(day(2025, 1, 1), day(2025, 12, 31)).await.unwrap();
    assert_eq!(kept.len(), 4, "rollups outlive the events");
    assert_eq!(kept[0].events, 1);
    if backend == Backend::Postgres {
        assert_eq!(
            purged.partitions_dropped,
            ["analytics_events_y2025m01", "analytics_events_y2025m02"]
        );
        assert_eq!(purged.rows_deleted, 1, "the partial month loses rows, not its partition");
        let inherits = pg_partitions(&fixture.url).await;
        assert_eq!(inherits, ["analytics_events_y2025m03"]);
        assert_eq!(store.event_partitions().await.unwrap(), inherits);
    } else {
        assert_eq!(purged.rows_deleted, 3);
    }
}

/// The partitions PostgreSQL's catalogue lists under the events table.
async fn pg_partitions(url: &str) -> Vec<String> {
    let store = PostgresStore::connect(url).await.unwrap();
    let names = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'analytics_events'::regclass ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    names
}

async fn reports_answer_from_rollups_events_and_sessions(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let today = day(2026, 12, 4);
    let now = at(today, 600);
    let mut events = Vec::new();
    for i in 0..100 {
        let mut e = event(today, 500 + i % 100, 1 + i % 3, 10 + i % 3, Action::ApiCall);
        e.method = Some("GET".into());
        e.endpoint = Some("/api/projects".into());
        e.status = Some(if i < 4 { 503 } else { 200 });
        e.latency_ms = Some((i + 1) as f64);
        events.push(e);
    }
    events.push(event(day(2026, 12, 1), 10, 1, 9, Action::AnalyzeProject));
    store.insert_events(&events).await.unwrap();
    let someone = add_account(store, "someone@example.com", Role::User, at(today, 0)).await;
    let session = SessionRecord {
        id: 0,
        account_id: someone,
        token_hash: "f".repeat(64),
        csrf_token: "csrf".into(),
        created_at: at(today, 590),
        last_seen_at: at(today, 598),
        expires_at: at(today, 1000),
        client_addr: None,
        user_agent: None,
        revoked_at: None,
    };
    store.insert_session(&session, None).await.unwrap().expect("no cap");
    let auth = AuthSettings { max_concurrent_users: 4, ..AuthSettings::default() };

    let report = report::usage_report(store, 7, now).await.expect("usage report");
    let weeks = report::trends(store, day(2026, 11, 28), today, Period::Week).await.unwrap();
    let realtime = report::realtime(store, &auth, now).await.unwrap();

    let endpoint = &report.endpoints[0];
    assert_eq!((endpoint.requests, endpoint.errors), (100, 4));
    assert_eq!((endpoint.p50_ms, endpoint.p95_ms, endpoint.p99_ms), (50.0, 95.0, 99.0));
    assert_eq!(report.totals.events, 101);
    assert_eq!(report.days.len(), 7);
    assert!(report.days_csv().unwrap().starts_with("day,events,active_users"));
    assert_eq!(
        weeks.iter().map(|w| w.start).collect::<Vec<_>>(),
        [day(2026, 11, 23), day(2026, 11, 30)]
    );
    assert_eq!(weeks[1].events, 101);
    assert_eq!(realtime.active_users_5m, 3, "events at minutes 595..599 come from all three");
    assert_eq!((realtime.current_sessions, realtime.signed_in_users), (1, 1));
    assert_eq!(realtime.capacity_used, 0.25);
}

async fn users_see_their_own_activity_and_admins_anyones(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let on = day(2026, 12, 4);
    let user = add_account(store, "user@example.com", Role::User, at(on, 0)).await;
    let other = add_account(store, "other@example.com", Role::User, at(on, 0)).await;
    let admin = add_account(store, "admin@example.com", Role::Admin, at(on, 0)).await;
    let events = [event(on, 1, user, 1, Action::Login), event(on, 2, other, 2, Action::Login)];
    store.insert_events(&events).await.unwrap();
    let account = |id| async move {
        bugdash::auth::Account::from(store.account_record(id).await.unwrap().unwrap())
    };
    let (from, to) = (at(on, 0), at(on, 10));

    let own = report::activity_visible_to(store, &account(user).await, user, from, to, 10).await;
    let others =
        report::activity_visible_to(store, &account(user).await, other, from, to, 10).await;
    let admin = account(admin).await;
    let by_admin = report::activity_visible_to(store, &admin, other, from, to, 10).await;

    assert_eq!(own.unwrap().len(), 1);
    assert!(matches!(others, Err(bugdash::Error::Forbidden)));
    assert_eq!(by_admin.unwrap()[0].account_id, Some(other));
}

async fn the_audit_log_keeps_who_changed_what_newest_first(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let entry = |minute, action: &str, old: &str, new: &str| NewAuditEntry {
        at: at(day(2026, 12, 4), minute),
        actor_id: Some(7),
        actor: "admin@example.com".into(),
        action: action.into(),
        target: "account 12".into(),
        old_value: Some(old.into()),
        new_value: Some(new.into()),
    };

    store.insert_audit(&entry(1, "set_role", "\"user\"", "\"admin\"")).await.unwrap();
    store.insert_audit(&entry(2, "set_active", "true", "false")).await.unwrap();
    let log = store.audit_log(10).await.unwrap();

    assert_eq!(log.len(), 2);
    assert_eq!(log[0].entry, entry(2, "set_active", "true", "false"));
    assert_eq!(log[1].entry.old_value.as_deref(), Some("\"user\""));
}

#[test]
fn analytics_and_smtp_settings_read_the_environment_and_name_bad_values() {
    let env = |name: &str| match name {
        "ANALYTICS_RETENTION_DAYS" => Some("30".to_owned()),
        "SMTP_HOST" => Some("mail.example.com".to_owned()),
        "SMTP_SECURITY" => Some("tls".to_owned()),
        _ => None,
    };
    let bad = |name: &str| (name == "SMTP_SECURITY").then(|| "maybe".to_owned());

    let settings = Settings::from_sources(None, None, &env).unwrap();
    let error = Settings::from_sources(None, None, &bad).unwrap_err().to_string();
    let defaults = Settings::from_sources(None, None, &|_| None).unwrap();

    assert_eq!(settings.analytics.retention_days, 30);
    assert_eq!(settings.smtp.host.as_deref(), Some("mail.example.com"));
    assert_eq!(settings.smtp.security, SmtpSecurity::Tls);
    assert!(error.contains("SMTP_SECURITY") && error.contains("maybe"), "{error}");
    assert_eq!((defaults.analytics.retention_days, defaults.smtp.port), (365, 587));
}

#[test]
fn metrics_text_follows_the_exposition_format() {
    let metrics = Metrics::new();
    metrics.observe_request("GET", "/api/projects/{key}/analysis", 200, 0.012);
    metrics.observe_request("POST", "/api/auth/login", 401, 0.3);
    metrics.observe_job("analytics-rollup", "succeeded", 0.5, 1.8e9);
    metrics.set_active_users(3);

    let text = metrics.render();

    crate::metrics_check::check(&text);
    assert!(text.contains("bugdash_active_users 3\n"));
}

/// Latency percentiles and error rates computed by the database equal the in-memory
/// definition over the same events, on varied events (missing methods, statuses, latencies
/// and endpoints, ties, events outside the range), and a hand-checked endpoint.
async fn endpoint_stats_from_the_database_equal_the_definition(backend: Backend) {
    let fixture = fixture(backend).await;
    let on = day(2026, 11, 2);
    let mut events = Vec::new();
    // Hand-checked: latencies 100, 99, ..., 1 ms, four of them server errors.
    for n in 0..100 {
        let mut e = event(on, 60 + n % 600, 1, 1, Action::AnalyzeProject);
        e.method = Some("GET".into());
        e.endpoint = Some("/hand".into());
        e.status = Some(if n < 4 { 503 } else { 200 });
        e.latency_ms = Some(f64::from(100 - n as i32));
        events.push(e);
    }
    // Varied, from a fixed linear congruential sequence.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |modulus: u64| {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % modulus
    };
    for _ in 0..3_000 {
        let minute = next(3 * 1440) as i64 - 1440; // a day before, the day, a day after
        let mut e = event(on, minute, 1 + next(5) as i64, 1, Action::ApiCall);
        e.method = [None, Some("GET"), Some("POST")][next(3) as usize].map(str::to_owned);
        e.endpoint = [None, Some("/api/a"), Some("/api/b/{key}"), Some("/c")][next(4) as usize]
            .map(str::to_owned);
        e.status = [None, Some(200), Some(404), Some(500), Some(502)][next(5) as usize];
        e.latency_ms = match next(4) {
            0 => None,
            1 => Some(next(20) as f64), // many ties
            _ => Some(next(1_000_000) as f64 / 997.0),
        };
        events.push(e);
    }
    fixture.store.insert_events(&events).await.expect("events stored");
    let (from, to) = (day_start(on), day_start(on).plus_days(1));

    let stored = report::endpoint_stats(fixture.store.as_ref(), from, to).await.expect("stats");

    let inside: Vec<Event> = events.iter().filter(|e| e.at >= from && e.at < to).cloned().collect();
    assert_eq!(stored, report::endpoint_stats_of(&inside));
    let hand = stored.iter().find(|s| s.endpoint == "/hand").expect("the hand-checked endpoint");
    assert_eq!((hand.requests, hand.errors), (100, 4));
    assert_eq!((hand.p50_ms, hand.p95_ms, hand.p99_ms), (50.0, 95.0, 99.0));
    assert!(stored.len() > 5, "GET, POST and missing methods on several endpoints: {stored:?}");
    let empty = report::endpoint_stats(fixture.store.as_ref(), to.plus_days(5), to.plus_days(6));
    assert_eq!(empty.await.expect("stats of no events"), Vec::new());
}

/// Values at the edges read back as written (a status beyond `smallint`, the largest
/// ids, a day-long and a fraction-of-a-millisecond latency), on both backends; filters of JSON null and a latency
/// that is not a number read back as absent. None of them fails its batch.
async fn events_at_the_edges_read_back_as_written(backend: Backend) {
    let fixture = fixture(backend).await;
    let on = day(2026, 3, 3);
    let mut edge = event(on, 1, i64::MAX, i64::MIN, Action::ApiCall);
    edge.status = Some(40_000);
    edge.latency_ms = Some(86_400_000.5);
    edge.filters = Some(serde_json::json!({"nested": [1, 2.5, null, true, "x"]}));
    let mut tiny = event(on, 2, 2, 2, Action::ApiCall);
    tiny.status = Some(u16::MAX);
    tiny.latency_ms = Some(0.25);
    let mut absent = event(on, 3, 3, 3, Action::ApiCall);
    absent.filters = Some(serde_json::Value::Null);
    absent.latency_ms = Some(f64::NAN);
    let written = [edge.clone(), tiny.clone(), absent.clone()];

    fixture.store.insert_events(&written).await.expect("batch stored");

    let query = EventQuery { from: at(on, 0), to: at(on, 10), account_id: None, limit: None };
    let stored = fixture.store.events(&query).await.expect("read events");
    absent.filters = None;
    absent.latency_ms = None;
    assert_eq!(stored, [edge, tiny, absent]);
}

/// Text PostgreSQL cannot hold (NUL, which a request can put in its path or query as `%00`)
/// is stored with U+FFFD in its place on both backends, rather than getting the whole batch
/// of other people's events refused.
async fn events_with_nul_characters_are_stored_with_the_rest_of_their_batch(backend: Backend) {
    let fixture = fixture(backend).await;
    let on = day(2026, 3, 2);
    let mut hostile = event(on, 1, 1, 1, Action::AnalyzeProject);
    hostile.project = Some("ZK\0x".into());
    hostile.department = Some("\0".into());
    hostile.endpoint = Some("/api/projects/{key}/analysis".into());
    hostile.filters = Some(serde_json::json!(["a\0b", {"k\0": "v\0"}, "\\u0000"]));
    hostile.client_addr = Some("127.0.0.1\0".into());
    let plain = event(on, 2, 2, 2, Action::ViewIssues);

    fixture.store.insert_events(&[hostile, plain.clone()]).await.expect("batch stored");

    let query = EventQuery { from: at(on, 0), to: at(on, 10), account_id: None, limit: None };
    let stored = fixture.store.events(&query).await.expect("read events");
    assert_eq!(stored.len(), 2, "{stored:?}");
    let first = &stored[0];
    assert_eq!(first.project.as_deref(), Some("ZK\u{FFFD}x"));
    assert_eq!(first.department.as_deref(), Some("\u{FFFD}"));
    assert_eq!(first.client_addr.as_deref(), Some("127.0.0.1\u{FFFD}"));
    let filters = serde_json::json!(["a\u{FFFD}b", {"k\u{FFFD}": "v\u{FFFD}"}, "\\u0000"]);
    assert_eq!(first.filters, Some(filters));
    assert_eq!(stored[1], plain);
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(bugdash::store::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(bugdash::store::Backend::Postgres).await;
            })*
        }
    };
}

on_both_backends!(
    concurrent_records_then_shutdown_store_exactly_n_events,
    rollups_equal_hand_computed_figures_and_recomputing_replaces,
    purge_drops_old_partitions_and_keeps_rollups,
    reports_answer_from_rollups_events_and_sessions,
    users_see_their_own_activity_and_admins_anyones,
    the_audit_log_keeps_who_changed_what_newest_first,
    endpoint_stats_from_the_database_equal_the_definition,
    events_with_nul_characters_are_stored_with_the_rest_of_their_batch,
    events_at_the_edges_read_back_as_written,
);

/// The full-buffer policy: the newest events are dropped and counted, the rest written.
#[tokio::test(flavor = "current_thread")]
async fn a_full_buffer_drops_the_newest_events_and_counts_them() {
    let fixture = fixture(Backend::Sqlite).await;
    let config = RecorderConfig { capacity: 10, ..RecorderConfig::default() };
    let recorder = Recorder::start(Arc::clone(&fixture.store), config);
    let on = day(2026, 12, 4);

    // On one thread the writer cannot run until this test awaits: the buffer fills.
    for minute in 0..100 {
        recorder.record(event(on, minute, 1, 1, Action::ApiCall));
    }
    recorder.shutdown().await.expect("shutdown");

    let stats = recorder.stats();
    assert_eq!((stats.recorded, stats.dropped, stats.written), (10, 90, 10));
    let stored = fixture.store.events(&EventQuery::between(at(on, 0), at(on, 100))).await;
    let minutes: Vec<i64> = stored.unwrap().iter().map(|e| e.at.millis() / 60_000 % 1440).collect();
    assert_eq!(minutes, (0..10).collect::<Vec<_>>(), "the oldest ten were kept");
}

/// `n` events of one day, a second apart, with every text field set; the last ones varied.
fn many_events(on: NaiveDate, n: i64) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            at: Timestamp::from_millis(at(on, 0).millis() + i * 1000),
            department: Some(format!("dept {}", i % 3)),
            project: Some("ZOOKEEPER".into()),
            filters: Some(serde_json::json!(["window", format!("f{i}")])),
            method: Some("GET".into()),
            endpoint: Some("/api/projects/{key}/analysis".into()),
            status: Some(200 + (i % 3) as u16),
            latency_ms: Some(i as f64 / 4.0),
            client_addr: Some(format!("10.0.0.{}", i % 250)),
            ..event(on, 0, i % 7 + 1, i % 11 + 1, Action::AnalyzeProject)
        })
        .collect()
}

/// A database in memory has no file for the events' own connection, so its events go
/// through the pool in multi-row inserts of 100: a batch of 250 (two full statements and a
/// partial one) and the edge values read back as written, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_store_in_memory_writes_events_through_its_pool() {
    let url = "sqlite::memory:";
    let store = SqliteStore::connect(url).await.expect("in-memory SQLite");
    store.migrate().await.expect("migrate");
    let on = day(2026, 3, 4);
    let mut written = many_events(on, 250);
    let mut edge = event(on, 0, i64::MAX, i64::MIN, Action::ApiCall);
    edge.at = Timestamp::from_millis(at(on, 0).millis() + 250_000);
    edge.status = Some(u16::MAX);
    edge.project = Some("ZK\0".into());
    written.push(edge.clone());

    store.insert_events(&written).await.expect("batch stored");

    let stored = store.events(&EventQuery::between(at(on, 0), at(on, 60))).await.unwrap();
    edge.project = Some("ZK\u{FFFD}".into());
    *written.last_mut().unwrap() = edge;
    assert_eq!(stored.len(), 251, "{url}");
    assert_eq!(stored, written, "{url}");
}

/// A batch SQLite refuses part way (a trigger aborting on one row) leaves none of its
/// events stored and is reported as a failed write of usage events; the next batch is
/// written whole. Once the store is closed, batches fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_batch_refused_part_way_stores_none_of_its_events() {
    let fixture = fixture(Backend::Sqlite).await;
    let sqlite = SqliteStore::connect(&fixture.url).await.expect("second handle");
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON analytics_events WHEN NEW.project = 'REFUSE' \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(sqlite.pool())
    .await
    .expect("trigger");
    let on = day(2026, 3, 5);
    let mut refused = many_events(on, 300);
    refused[200].project = Some("REFUSE".into());

    let error = fixture.store.insert_events(&refused).await.expect_err("refused");

    let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
    assert!(error.to_string().contains("write usage events"), "{error}");
    assert!(cause.contains("refused by the test"), "{cause}");
    let query = EventQuery::between(at(on, 0), at(on, 60 * 24));
    assert_eq!(fixture.store.events(&query).await.unwrap(), [], "none of the batch");
    let accepted = many_events(on, 120);
    fixture.store.insert_events(&accepted).await.expect("the next batch");
    assert_eq!(fixture.store.events(&query).await.unwrap(), accepted);
    sqlite.close().await;
    sqlite.insert_events(&accepted).await.expect_err("a closed store writes nothing");
    assert_eq!(fixture.store.events(&query).await.unwrap(), accepted, "nothing doubled");
}
