//! Sync from the fake JIRA: the ZooKeeper bugs copied to about 100k issues
//! (`Dataset::apache_scaled`), served with 50 ms of latency per search page, synced into
//! SQLite and PostgreSQL with `sync_project`. Prints issues per second, pages, API calls
//! and the wall time beside the latency's lower bound, calls × 50 ms / concurrency.
//!
//! A sync fetches pages ahead of its writes, and the census's id listing once every page
//! is asked for. Cloud's next page needs the token of the one before, so its pages form one
//! chain (concurrency 1), and the census's id pages another after it: the bound is the
//! calls' latency added up. Data Center's offsets, and its census pages, are fetched up
//! to the client's in-flight bound (4) at once, which divides the bound by 4. The
//! difference between the wall time and the bound is BugDash's own time (reading,
//! writing, comparing the census).
//!
//! Scenarios `<backend>:<dialect>`: Data Center pages of 1,000 (its usual cap) and Cloud
//! pages of 100 (Cloud's cap when fields are named). `BUGDASH_BENCH_SYNC=sqlite:cloud`
//! runs one; `BUGDASH_BENCH_SYNC_COPIES` sets the copies of the 1,827 bugs (default 55,
//! 100,485 issues). PostgreSQL runs use a throwaway database on the server named by
//! `BUGDASH_TEST_POSTGRES_URL` (default: the local server, user `postgres`).
//!
//! Each scenario syncs twice, each time into a new store: first with the fake shaping
//! every answer on the two cores BugDash and the database use, then with the answers the
//! fake kept from the first run (`FakeJira::remember_search_answers`), as a real JIRA
//! would shape them on its own machine. Each run prints the CPU seconds BugDash, the fake
//! (on threads of its own) and the PostgreSQL server spent on it. With
//! `BUGDASH_BENCH_SYNC_TRACE` set, each run also prints every request the fake received:
//! when it arrived and when its answer was ready, in milliseconds from the first.
//!
//! After the second run the same requests are asked again, in the order the fake received
//! them and as many at once as the sync could ask, by a bare HTTP client that reads each
//! answer to its end and does nothing with it: the server's floor. The bound leaves out
//! what carrying the answers takes; the floor counts it, so the wall time above the floor
//! is what BugDash's own work (and the order it asks in) adds.

// The figures go to standard output: printing them is what this program is for.
#![allow(clippy::print_stdout)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use bugdash::ingest::sync::{sync_project, SyncRequest};
use bugdash::ingest::NoProgress;
use bugdash::jira::client::{Deployment, JiraAuth, JiraClient, JiraConfig};
use bugdash::secret::Secret;
use bugdash::store::{PostgresStore, SqliteStore, Store};
use bugdash_tests::fake_jira::{Dataset, FakeJira, Flavor};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions};

const LATENCY: Duration = Duration::from_millis(50);
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const SCENARIOS: [&str; 4] =
    ["sqlite:datacenter", "postgres:datacenter", "sqlite:cloud", "postgres:cloud"];

/// Name prefix of the threads that run the fake JIRA, whose CPU time is counted apart.
const FAKE_THREADS: &str = "fake-jira";

fn main() {
    let chosen = std::env::var("BUGDASH_BENCH_SYNC").ok();
    let copies: u32 = std::env::var("BUGDASH_BENCH_SYNC_COPIES")
        .ok()
        .and_then(|copies| copies.parse().ok())
        .unwrap_or(55);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    // The fake runs on threads of its own, so that the CPU it takes (which a real JIRA
    // would spend on its own machine) can be told apart from BugDash's.
    let fake_runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name(FAKE_THREADS)
        .enable_all()
        .build()
        .expect("tokio runtime for the fake JIRA");
    for scenario in SCENARIOS.iter().filter(|s| chosen.as_deref().is_none_or(|c| c == **s)) {
        runtime.block_on(run(scenario, copies, &fake_runtime));
    }
}

async fn run(scenario: &str, copies: u32, fake_runtime: &tokio::runtime::Runtime) {
    let (backend, dialect) = scenario.split_once(':').expect("backend:dialect");
    let (flavor, deployment, page_size) = match dialect {
        "cloud" => (Flavor::Cloud, Deployment::Cloud, 100),
        _ => (Flavor::DataCenter, Deployment::DataCenter, 1000),
    };
    let dataset = Dataset::apache_scaled(flavor, copies);
    let fake = fake_runtime.spawn(FakeJira::start(dataset)).await.expect("fake JIRA started");
    fake.set_page_latency(LATENCY);
    fake.set_page_cap(page_size as usize);
    let auth = JiraAuth::Basic { email: "bench@example.com".into(), token: Secret::new("t") };
    let mut config = JiraConfig::new(fake.url(), auth);
    config.deployment = Some(deployment);
    config.page_size = page_size;
    let client = JiraClient::new(config).expect("client settings");
    let request = SyncRequest {
        project: "ZOOKEEPER".into(),
        full: false,
        overlap: Duration::from_secs(60),
        census_every: Duration::from_secs(86_400),
        read_ahead: bugdash::config::SyncSettings::default().read_ahead as usize,
    };
    // The first sync finds the fake shaping every answer on the cores the sync runs on;
    // the second, into a new store, gets the answers the first kept, as from a JIRA whose
    // work is done on its own machine.
    fake.remember_search_answers(true);
    let mut last_sync_began = 0;
    for fake_work in ["the fake shaping its answers", "the fake's answers kept"] {
        let label = format!("{scenario} ({fake_work})");
        let seen_before = fake.requests().len();
        last_sync_began = seen_before;
        match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let store = SqliteStore::open(&dir.path().join("bench.db")).await.expect("open");
                store.migrate().await.expect("migrate");
                measure(&label, &store, &client, &request, None).await;
            }
            _ => {
                let (store, drop_database, server) = postgres().await;
                measure(&label, &store, &client, &request, Some(&server)).await;
                store.close().await;
                drop_database.await;
            }
        }
        if std::env::var_os("BUGDASH_BENCH_SYNC_TRACE").is_some() {
            print_timeline(&fake.requests()[seen_before..]);
        }
    }
    let requests = fake.requests();
    let last_sync = &requests[last_sync_began..];
    let concurrency = in_flight(&client);
    let floor = replay(&fake.url(), last_sync, concurrency).await;
    println!(
        "sync/{scenario}  server's floor (the last run's {} requests asked again, {concurrency} \
         at a time, answers read and dropped): {floor:.2} s",
        last_sync.len(),
    );
}

/// How many requests the sync can have in flight: Data Center's pages are fetched side by
/// side, Cloud's form a chain.
fn in_flight(client: &JiraClient) -> usize {
    match client.config().deployment {
        Some(Deployment::DataCenter) => client.config().max_in_flight,
        _ => 1,
    }
}

/// Asks `requests` again in the order they arrived, `concurrency` at a time, reading each
/// answer to its end; returns the seconds it took.
async fn replay(
    base: &str,
    requests: &[bugdash_tests::fake_jira::RequestRecord],
    concurrency: usize,
) -> f64 {
    let mut ordered: Vec<_> = requests.iter().collect();
    ordered.sort_by_key(|request| request.started);
    let http = reqwest::Client::new();
    let places = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let began = Instant::now();
    let mut answers = tokio::task::JoinSet::new();
    for request in ordered {
        let place = places.clone().acquire_owned().await.expect("semaphore open");
        let mut url = format!("{}{}", base.trim_end_matches('/'), request.path);
        if !request.query.is_empty() {
            url = format!("{url}?{}", request.query);
        }
        let mut ask = http.get(url);
        if let Some(authorization) = &request.authorization {
            ask = ask.header(reqwest::header::AUTHORIZATION, authorization);
        }
        answers.spawn(async move {
            let answer = ask.send().await.expect("the fake answers");
            let status = answer.status();
            let body = answer.bytes().await.expect("the fake's answer read");
            drop(place);
            (status, body.len())
        });
    }
    while let Some(answer) = answers.join_next().await {
        let (status, _) = answer.expect("replay task");
        assert!(status.is_success(), "the fake answered {status} to a replayed request");
    }
    began.elapsed().as_secs_f64()
}

/// Prints when each request of a run reached the fake and when its answer was ready, in
/// milliseconds from the first, with what it asked for.
fn print_timeline(requests: &[bugdash_tests::fake_jira::RequestRecord]) {
    let Some(first) = requests.iter().map(|r| r.started).min() else { return };
    for request in requests {
        let what = match (request.param("fields"), request.param("startAt")) {
            (Some(fields), Some(at)) if fields == "id" => format!("ids from {at}"),
            (_, Some(at)) => format!("page from {at}"),
            _ => request.path.clone(),
        };
        println!(
            "  {:>6.0} {:>6.0}  {what}",
            (request.started - first).as_secs_f64() * 1000.0,
            (request.finished - first).as_secs_f64() * 1000.0,
        );
    }
}

/// A store in a new database, the future that drops it, and the server's settings.
async fn postgres() -> (PostgresStore, impl std::future::Future<Output = ()>, PgConnectOptions) {
    let url = std::env::var("BUGDASH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.into());
    let server = PgConnectOptions::from_str(&url).expect("PostgreSQL URL");
    let name = format!("bugdash_bench_sync_{:08x}", std::process::id());
    let mut admin = server.connect().await.expect("PostgreSQL server reachable");
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(AssertSqlSafe(create)).execute(&mut admin).await.expect("create database");
    let store = PostgresStore::connect_with(server.clone().database(&name)).await.expect("connect");
    store.migrate().await.expect("migrate");
    let drop = async move {
        let sql = format!("DROP DATABASE {name} WITH (FORCE)");
        sqlx::query(AssertSqlSafe(sql)).execute(&mut admin).await.expect("drop database");
    };
    (store, drop, server)
}

/// The server's processes: backends (the store's connections among them) and its own
/// (WAL writer, checkpointer). Processes that end while the sync runs are not counted.
async fn server_processes(server: &PgConnectOptions) -> Vec<i32> {
    let mut conn = server.connect().await.expect("PostgreSQL server reachable");
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
        .fetch_all(&mut conn)
        .await
        .expect("the server's processes")
}

async fn measure(
    scenario: &str,
    store: &dyn Store,
    client: &JiraClient,
    request: &SyncRequest,
    server: Option<&PgConnectOptions>,
) {
    let before = match server {
        Some(server) => server_processes(server).await,
        None => Vec::new(),
    };
    let rss_before = memory_kb("VmRSS:");
    // Resets the peak to the current size (Linux), so that the peak read after the sync
    // is the sync's.
    std::fs::write("/proc/self/clear_refs", "5").ok();
    let cpu_before = Cpu::now(&before);
    let began = Instant::now();
    let report = sync_project(store, client, request, &NoProgress).await.expect("sync");
    let wall = began.elapsed().as_secs_f64();
    let mut cpu = Cpu::now(&before).minus(&cpu_before);
    let peak_growth_mb = memory_kb("VmHWM:").saturating_sub(rss_before) as f64 / 1024.0;
    if let Some(server) = server {
        // Connections the store opened during the sync count from their start.
        let after = server_processes(server).await;
        let new: Vec<i32> = after.into_iter().filter(|pid| !before.contains(pid)).collect();
        cpu.server += Cpu::now(&new).server;
    }
    let other_calls = report.api_calls.saturating_sub(report.pages);
    let concurrency = in_flight(client) as f64;
    let pages_bound = report.pages as f64 * LATENCY.as_secs_f64() / concurrency;
    let calls_bound = report.api_calls as f64 * LATENCY.as_secs_f64() / concurrency;
    println!(
        "sync/{scenario}  {} issues  {:>7.0} issues/s  {} pages  {} API calls ({other_calls} \
         others)  wall {wall:.1} s  bound {calls_bound:.1} s (pages alone {pages_bound:.1} s, \
         {concurrency} in flight)  BugDash {:.1} s",
        report.received,
        report.received as f64 / wall,
        report.pages,
        report.api_calls,
        wall - calls_bound,
    );
    println!(
        "sync/{scenario}  CPU seconds: BugDash {:.2}, fake JIRA {:.2}, PostgreSQL {:.2} (of {:.1} \
         on {} cores); peak memory {peak_growth_mb:.0} MB above the {:.0} MB before",
        cpu.bugdash,
        cpu.fake,
        cpu.server,
        wall * cores(),
        cores(),
        rss_before as f64 / 1024.0,
    );
}

/// CPU seconds spent so far, split by who spent them (Linux: read from `/proc`; zeros
/// elsewhere).
#[derive(Debug, Default)]
struct Cpu {
    bugdash: f64,
    fake: f64,
    server: f64,
}

impl Cpu {
    fn now(server_pids: &[i32]) -> Cpu {
        let mut cpu = Cpu::default();
        let threads = std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten();
        for thread in threads {
            let path = thread.path();
            let seconds = cpu_seconds(&path.join("stat"));
            let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if name.starts_with(FAKE_THREADS) {
                cpu.fake += seconds;
            } else {
                cpu.bugdash += seconds;
            }
        }
        let server =
            server_pids.iter().map(|pid| cpu_seconds(format!("/proc/{pid}/stat").as_ref()));
        cpu.server = server.sum();
        cpu
    }

    fn minus(&self, before: &Cpu) -> Cpu {
        Cpu {
            bugdash: self.bugdash - before.bugdash,
            fake: self.fake - before.fake,
            server: self.server - before.server,
        }
    }
}

/// User and system time of a process or thread from its `stat` file, in seconds.
fn cpu_seconds(stat: &std::path::Path) -> f64 {
    const TICKS_PER_SECOND: f64 = 100.0;
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // The command name, in parentheses, may hold spaces; the fields follow the last one.
    let fields: Vec<&str> = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks =
        |at: usize| fields.get(at).and_then(|field| field.parse::<f64>().ok()).unwrap_or(0.0);
    // After the name: state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// A size field of `/proc/self/status`, in kB (0 where there is none).
fn memory_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with(field)).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |cores| cores.get() as f64)
}
