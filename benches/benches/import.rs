//! `bugdash import` from files: the real ZooKeeper issues scaled to 1M issues (ids and keys
//! renumbered, every other byte as JIRA sent it) written as 1,000 REST search pages of
//! 1,000 issues, as one JSON array of 1M issues and as one JIRA CSV export (repeated
//! `Component/s`, `Labels` and version columns), then imported through
//! [`bugdash::ingest::import::import_files`], the function the CLI calls, into PostgreSQL
//! and SQLite. Prints issues per second (wall clock, reading and writing together) and the
//! peak resident memory (VmHWM) of each import.
//!
//! The files are written once into a temporary folder; each import runs in a child
//! process of its own, so its peak memory is its own. PostgreSQL runs use a throwaway
//! database on the server named by `BUGDASH_TEST_POSTGRES_URL` (default: the local server,
//! user `postgres`). `BUGDASH_BENCH_IMPORT_SIZE` sets the number of issues (default
//! 1,000,000); `BUGDASH_BENCH_IMPORT=postgres:array` runs one scenario and writes only the
//! input it reads (a comma-separated list runs several). The backend `parse` reads the
//! files without writing anything (`parse:pages`), which tells the reading's share of an
//! import's time.

// The figures go to standard output: printing them is what this program is for.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Instant;

use bugdash::ingest::import::{import_files, ImportRequest, StageTimes};
use bugdash::ingest::NoProgress;
use bugdash::jira::ReadOptions;
use bugdash::model::Issue;
use bugdash::store::{PostgresStore, SqliteStore, Store};
use bugdash_benches::{zookeeper_files, zookeeper_issues};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions};

const SCENARIO: &str = "BUGDASH_BENCH_IMPORT";
const FOLDER: &str = "BUGDASH_BENCH_IMPORT_DIR";
const SIZE: &str = "BUGDASH_BENCH_IMPORT_SIZE";
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PAGE: usize = 1_000;

fn main() {
    let size: usize = std::env::var(SIZE).ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    match (std::env::var(SCENARIO), std::env::var(FOLDER)) {
        (Ok(scenario), Ok(folder)) => run_scenario(&scenario, Path::new(&folder), size),
        (scenario, _) => {
            let dir = tempfile::tempdir().expect("temporary folder");
            let all = [
                "postgres:pages",
                "postgres:array",
                "postgres:csv",
                "sqlite:pages",
                "sqlite:array",
                "sqlite:csv",
            ];
            let chosen: Vec<String> = match scenario {
                Ok(list) => list.split(',').map(|s| s.trim().to_string()).collect(),
                Err(_) => all.iter().map(|s| s.to_string()).collect(),
            };
            let layouts: Vec<&str> =
                chosen.iter().filter_map(|s| s.split_once(':').map(|(_, layout)| layout)).collect();
            let began = Instant::now();
            write_inputs(dir.path(), size, &layouts);
            println!(
                "import/inputs  {size} issues written in {:.1} s",
                began.elapsed().as_secs_f64()
            );
            for scenario in chosen {
                run_child(&scenario, dir.path(), size);
            }
        }
    }
}

fn run_child(scenario: &str, folder: &Path, size: usize) {
    let exe = std::env::current_exe().expect("path of the benchmark binary");
    let output = Command::new(exe)
        .env(SCENARIO, scenario)
        .env(FOLDER, folder)
        .env(SIZE, size.to_string())
        .output()
        .expect("run an import");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        eprintln!("{scenario} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

fn run_scenario(scenario: &str, folder: &Path, size: usize) {
    let (backend, layout) = scenario.split_once(':').expect("backend:layout");
    let files = match layout {
        "pages" => {
            let mut pages: Vec<PathBuf> = std::fs::read_dir(folder.join("pages"))
                .expect("pages folder")
                .map(|entry| entry.expect("entry").path())
                .collect();
            pages.sort();
            pages
        }
        "array" => vec![folder.join("array.json")],
        "csv" => vec![folder.join("export.csv")],
        other => panic!("unknown layout {other}"),
    };
    let request =
        ImportRequest { files, project: "ZOOKEEPER".into(), options: ReadOptions::default() };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let (seconds, inserted, stages) = match backend {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let store = SqliteStore::open(&dir.path().join("bench.db")).await.expect("open");
                store.migrate().await.expect("migrate");
                import(&store, &request).await
            }
            "postgres" => import_postgres(&request).await,
            "parse" => (parse_only(&request), 0, None),
            other => panic!("unknown backend {other}"),
        };
        println!(
            "import/{backend}/{layout}/{size}  {:>9.0} issues/s  {:>6.1} s  peak RSS {:>6.1} MB  ({inserted} inserted)",
            size as f64 / seconds,
            seconds,
            peak_rss_kb() as f64 / 1024.0
        );
        if let Some(stages) = stages {
            println!(
                "    stages: reading {:.1} s (blocked {:.1} s), writing {:.1} s (starved {:.1} s)",
                stages.reading.as_secs_f64(),
                stages.reader_blocked.as_secs_f64(),
                stages.writing.as_secs_f64(),
                stages.writer_starved.as_secs_f64()
            );
        }
    });
}

async fn import_postgres(request: &ImportRequest) -> (f64, u64, Option<StageTimes>) {
    let url = std::env::var("BUGDASH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.into());
    let server = PgConnectOptions::from_str(&url).expect("PostgreSQL URL");
    let name = format!("bugdash_bench_import_{:08x}", std::process::id());
    let mut admin = server.connect().await.expect("PostgreSQL server reachable");
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(AssertSqlSafe(create)).execute(&mut admin).await.expect("create database");
    let store = PostgresStore::connect_with(server.clone().database(&name)).await.expect("connect");
    store.migrate().await.expect("migrate");
    let result = import(&store, request).await;
    store.close().await;
    let drop = format!("DROP DATABASE {name} WITH (FORCE)");
    sqlx::query(AssertSqlSafe(drop)).execute(&mut admin).await.expect("drop database");
    result
}

async fn import(store: &dyn Store, request: &ImportRequest) -> (f64, u64, Option<StageTimes>) {
    let began = Instant::now();
    let report = import_files(store, request, &NoProgress).await.expect("import");
    (began.elapsed().as_secs_f64(), report.written.inserted, Some(report.stages))
}

/// Reads every file as the import does, without a store; returns the seconds spent.
fn parse_only(request: &ImportRequest) -> f64 {
    let began = Instant::now();
    let mut read = 0;
    for path in &request.files {
        bugdash::jira::stream_path(path, &request.options, &mut |issue| {
            read += u64::from(issue.project.eq_ignore_ascii_case(&request.project));
            Ok(())
        })
        .expect("read");
    }
    assert!(read > 0, "the files hold issues of the project");
    began.elapsed().as_secs_f64()
}

/// Writes the inputs of `size` issues for the given layouts into `folder`.
fn write_inputs(folder: &Path, size: usize, layouts: &[&str]) {
    let templates = record_templates();
    let record =
        |index: usize| {
            let id = index + 1;
            templates[index % templates.len()]
                .replacen("\"@ID@\"", &format!("\"{id}\""), 1)
                .replacen("\"@KEY@\"", &format!("\"ZOOKEEPER-{id}\""), 1)
        };
    if layouts.contains(&"csv") {
        write_csv(&folder.join("export.csv"), size);
    }
    if layouts.contains(&"pages") {
        write_pages(folder, size, &record);
    }
    if layouts.contains(&"array") {
        let file = std::fs::File::create(folder.join("array.json")).expect("array file");
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "[").expect("write");
        for index in 0..size {
            let separator = if index + 1 == size { "" } else { "," };
            writeln!(out, "{}{separator}", record(index)).expect("write");
        }
        writeln!(out, "]").expect("write");
        out.flush().expect("flush");
    }
}

/// The search pages of [`PAGE`] issues each.
fn write_pages(folder: &Path, size: usize, record: &dyn Fn(usize) -> String) {
    std::fs::create_dir(folder.join("pages")).expect("pages folder");
    for (number, start) in (0..size).step_by(PAGE).enumerate() {
        let path = folder.join("pages").join(format!("page-{number:05}.json"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("page"));
        write!(out, "{{\"startAt\":{start},\"maxResults\":{PAGE},\"total\":{size},\"issues\":[")
            .expect("write");
        for index in start..(start + PAGE).min(size) {
            let separator = if index == start { "" } else { "," };
            write!(out, "{separator}{}", record(index)).expect("write");
        }
        writeln!(out, "]}}").expect("write");
    }
}

/// The raw ZooKeeper records as JSON text with `"@ID@"` and `"@KEY@"` in place of their
/// id and key.
fn record_templates() -> Vec<String> {
    let mut templates = Vec::new();
    for path in zookeeper_files() {
        let text = std::fs::read(&path).expect("ZooKeeper example");
        let records: Vec<serde_json::Value> = serde_json::from_slice(&text).expect("JSON");
        for mut record in records {
            record["id"] = "@ID@".into();
            record["key"] = "@KEY@".into();
            templates.push(record.to_string());
        }
    }
    templates
}

/// Lists repeated in a JIRA export: header name and how many columns.
const LISTS: [(&str, usize); 4] =
    [("Component/s", 3), ("Labels", 3), ("Fix Version/s", 3), ("Affects Version/s", 3)];

/// A JIRA-style CSV export of `size` replicas of the ZooKeeper issues.
fn write_csv(path: &Path, size: usize) {
    let base = zookeeper_issues();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("CSV file"));
    let mut header: Vec<&str> = vec![
        "Summary",
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Priority",
        "Resolution",
        "Created",
        "Updated",
        "Resolved",
    ];
    for (name, count) in LISTS {
        header.extend(std::iter::repeat_n(name, count));
    }
    header.push("Description");
    writeln!(out, "{}", header.join(",")).expect("write");
    for index in 0..size {
        writeln!(out, "{}", csv_row(&base[index % base.len()], index + 1)).expect("write");
    }
    out.flush().expect("flush");
}

fn csv_row(issue: &Issue, id: usize) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let date = |at: Option<bugdash::Timestamp>| at.map(|t| t.to_string()).unwrap_or_default();
    let mut cells = vec![
        quote(&issue.summary),
        format!("ZOOKEEPER-{id}"),
        id.to_string(),
        quote(&issue.issue_type),
        quote(&issue.status),
        quote(issue.priority.as_deref().unwrap_or("")),
        quote(issue.resolution.as_deref().unwrap_or("")),
        date(issue.created),
        date(issue.updated),
        date(issue.resolved),
    ];
    let lists = [&issue.components, &issue.labels, &issue.fix_versions, &issue.affects_versions];
    for (list, (_, count)) in lists.into_iter().zip(LISTS) {
        for slot in 0..count {
            cells.push(quote(list.get(slot).map_or("", |t| t.as_str())));
        }
    }
    cells.push(quote(issue.description.as_deref().unwrap_or("")));
    cells.join(",")
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
