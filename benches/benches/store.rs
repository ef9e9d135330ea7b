//! Import into the store: the real ZooKeeper issues (full text) replicated to 100k and 1M
//! issues with renumbered ids, written in batches into SQLite and PostgreSQL. Prints
//! issues per second and the peak resident memory (VmHWM) of each import.
//!
//! Each import runs in a child process of its own, so its peak memory is its own. The
//! PostgreSQL runs use a throwaway database on the server named by
//! `BUGDASH_TEST_POSTGRES_URL` (default: the local server, user `postgres`). Set
//! `BUGDASH_BENCH_STORE=sqlite:100000` (backend and size) to run a single import.

// criterion's macros generate public functions that cannot carry doc comments.
#![allow(missing_docs)]
// The figures go to standard output: printing them is what this program is for.
#![allow(clippy::print_stdout)]

use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use bugdash::model::Issue;
use bugdash::store::{PostgresStore, SqliteStore, Store};
use bugdash_benches::zookeeper_issues;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions};

const SCENARIO: &str = "BUGDASH_BENCH_STORE";
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Issues handed to the store per call: what `bugdash import` hands it.
const CHUNK: usize = bugdash::ingest::import::BATCH;

fn main() {
    match std::env::var(SCENARIO) {
        Ok(scenario) => run_scenario(&scenario),
        Err(_) => {
            for scenario in
                ["sqlite:100000", "postgres:100000", "sqlite:1000000", "postgres:1000000"]
            {
                run_child(scenario);
            }
        }
    }
}

fn run_child(scenario: &str) {
    let exe = std::env::current_exe().expect("path of the benchmark binary");
    let output = Command::new(exe).env(SCENARIO, scenario).output().expect("run an import");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        eprintln!("{scenario} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

fn run_scenario(scenario: &str) {
    let (backend, size) = scenario.split_once(':').expect("backend:size");
    let size: usize = size.parse().expect("a number of issues");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let base = zookeeper_issues();
        let (seconds, written) = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let store = SqliteStore::open(&dir.path().join("bench.db")).await.expect("open");
                store.migrate().await.expect("migrate");
                import(&store, &base, size).await
            }
            "postgres" => import_postgres(&base, size).await,
            other => panic!("unknown backend {other}"),
        };
        println!(
            "store/import/{backend}/{size}  {:>9.0} issues/s  {:>6.1} s  peak RSS {:>6.1} MB  ({written} written)",
            size as f64 / seconds,
            seconds,
            peak_rss_kb() as f64 / 1024.0
        );
    });
}

async fn import_postgres(base: &[Issue], size: usize) -> (f64, u64) {
    let url = std::env::var("BUGDASH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.into());
    let server = PgConnectOptions::from_str(&url).expect("PostgreSQL URL");
    let name = format!("bugdash_bench_{:08x}", std::process::id());
    let mut admin = server.connect().await.expect("PostgreSQL server reachable");
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(AssertSqlSafe(create)).execute(&mut admin).await.expect("create database");
    let store = PostgresStore::connect_with(server.clone().database(&name)).await.expect("connect");
    store.migrate().await.expect("migrate");
    let result = import(&store, base, size).await;
    store.close().await;
    let drop = format!("DROP DATABASE {name} WITH (FORCE)");
    sqlx::query(AssertSqlSafe(drop)).execute(&mut admin).await.expect("drop database");
    result
}

/// Writes `size` replicas of `base` in chunks; returns the seconds spent in the store and
/// the issues it inserted.
async fn import(store: &dyn Store, base: &[Issue], size: usize) -> (f64, u64) {
    let mut seconds = 0.0;
    let mut inserted = 0;
    for start in (0..size).step_by(CHUNK) {
        let chunk: Vec<Issue> =
            (start..(start + CHUNK).min(size)).map(|index| replica(base, index)).collect();
        let began = Instant::now();
        inserted += store.upsert_issues(&chunk).await.expect("import").inserted;
        seconds += began.elapsed().as_secs_f64();
    }
    (seconds, inserted)
}

/// Copy number `index` of the base issues, with its own id and key; all text is kept.
fn replica(base: &[Issue], index: usize) -> Issue {
    let issue = &base[index % base.len()];
    let id = index as u64 + 1;
    Issue { id: Some(id), key: format!("{}-{id}", issue.project).into(), ..issue.clone() }
}

/// Peak resident set size of this process in KiB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
