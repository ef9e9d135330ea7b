//! Sync from the fake JIRA: the ZooKeeper bugs copied to about 100k issues
//! (`Dataset::apache_scaled`), served with 50 ms of latency per search page, synced into
//! SQLite and PostgreSQL with `sync_project`. Prints issues per second, pages, API calls
//! and the wall time beside the latency's lower bound, calls × 50 ms / concurrency.
//!
//! A sync fetches pages ahead of its writes, and the census's id listing once the pages
//! are read. Cloud's next page needs the token of the one before, so its pages form one
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

fn main() {
    let chosen = std::env::var("BUGDASH_BENCH_SYNC").ok();
    let copies: u32 = std::env::var("BUGDASH_BENCH_SYNC_COPIES")
        .ok()
        .and_then(|copies| copies.parse().ok())
        .unwrap_or(55);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    for scenario in SCENARIOS.iter().filter(|s| chosen.as_deref().is_none_or(|c| c == **s)) {
        runtime.block_on(run(scenario, copies));
    }
}

async fn run(scenario: &str, copies: u32) {
    let (backend, dialect) = scenario.split_once(':').expect("backend:dialect");
    let (flavor, deployment, page_size) = match dialect {
        "cloud" => (Flavor::Cloud, Deployment::Cloud, 100),
        _ => (Flavor::DataCenter, Deployment::DataCenter, 1000),
    };
    let fake = FakeJira::start(Dataset::apache_scaled(flavor, copies)).await;
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
    };
    match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let store = SqliteStore::open(&dir.path().join("bench.db")).await.expect("open");
            store.migrate().await.expect("migrate");
            measure(scenario, &store, &client, &request).await;
        }
        _ => {
            let (store, drop_database) = postgres().await;
            measure(scenario, &store, &client, &request).await;
            store.close().await;
            drop_database.await;
        }
    }
}

/// A store in a new database, and the future that drops it.
async fn postgres() -> (PostgresStore, impl std::future::Future<Output = ()>) {
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
    (store, drop)
}

async fn measure(scenario: &str, store: &dyn Store, client: &JiraClient, request: &SyncRequest) {
    let began = Instant::now();
    let report = sync_project(store, client, request, &NoProgress).await.expect("sync");
    let wall = began.elapsed().as_secs_f64();
    let census_calls = report.api_calls.saturating_sub(report.pages);
    let concurrency = match client.config().deployment {
        Some(Deployment::DataCenter) => client.config().max_in_flight as f64,
        _ => 1.0,
    };
    let pages_bound = report.pages as f64 * LATENCY.as_secs_f64() / concurrency;
    let calls_bound = report.api_calls as f64 * LATENCY.as_secs_f64() / concurrency;
    println!(
        "sync/{scenario}  {} issues  {:>7.0} issues/s  {} pages  {} API calls ({census_calls} \
         census)  wall {wall:.1} s  bound {calls_bound:.1} s (pages alone {pages_bound:.1} s, \
         {concurrency} in flight)  BugDash {:.1} s",
        report.received,
        report.received as f64 / wall,
        report.pages,
        report.api_calls,
        wall - calls_bound,
    );
}
