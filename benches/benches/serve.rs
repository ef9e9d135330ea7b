//! Load on `bugdash serve`: the real service on a free port of 127.0.0.1, 100 users signed
//! in over HTTP, then keep-alive connections hammering one endpoint each phase. Prints
//! requests per second and the p50/p95/p99 latency of each phase.
//!
//! Scenarios (`BUGDASH_BENCH_SERVE`, a comma-separated list; default all three):
//! - `sqlite`: the ZooKeeper bugs in SQLite with the in-process cache;
//! - `postgres`: the same in a throwaway PostgreSQL database (the server named by
//!   `BUGDASH_TEST_POSTGRES_URL`, default the local one) with Redis on 127.0.0.1:6379
//!   (`BUGDASH_TEST_REDIS_URL`), keys under a prefix of this run;
//! - `big`: 100,000 scaled copies of the ZooKeeper bugs in SQLite, analysis only;
//! - `recording`: the cached analysis endpoint (100 connections) of two SQLite services,
//!   one recording usage events and one with the recorder off (`state.recorder = None`),
//!   in rounds of one phase each (three rounds, `BUGDASH_BENCH_ROUNDS` for more; use an
//!   even number), the side that goes first alternating (on off, off on, ...); prints each
//!   phase, the difference of the summed throughput (target: at most 5%), and the mean of
//!   the rounds' differences with its 95% confidence interval;
//! - `requests`: one SQLite service (one account), recording on unless
//!   `BUGDASH_BENCH_RECORDING=off`, asked for the cached analysis exactly
//!   `BUGDASH_BENCH_REQUESTS` times (default 10,000) over 4 connections, then its recorder
//!   flushed, so that every event is written before the program ends. Meant to run under
//!   `valgrind --tool=callgrind`, twice per side with two request counts: the difference of
//!   the instruction totals over the difference of the counts is what one request costs,
//!   the writer's share of its event included, free of the machine's load (see
//!   docs/performance.md).
//!
//! Phases: logins (100 accounts, 8 at once), `/api/projects`, the analysis warm (one
//! option set, cached) at 100 and at 1,000 connections asking back to back, then 1,000
//! sessions each asking at a steady pace, offering 5,000, 10,000 and 15,000 requests/s
//! together (latency counted from when each request was due), 10,000 requests/s paced
//! again while logins run 8 at once beside it (both measured), and cold (options never seen, so
//! every request computes a report). `BUGDASH_BENCH_SECONDS` sets each phase's length
//! (default 5). `BUGDASH_BENCH_MEMO_MS` replaces the service's memo of data versions
//! (`bugdash_http::state::DATA_VERSION_MEMO`; 0 reads them on every request). Rate limits are raised out of the way: a phase measures the service, not
//! its refusals. The load generator is a minimal HTTP/1.1 client on raw sockets, in this
//! process on a runtime of its own, so it shares the machine's cores with the service.

// The figures go to standard output: printing them is what this program is for.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bugdash::auth::{Auth, NewAccount, Role};
use bugdash::config::Settings;
use bugdash::model::Issue;
use bugdash::secret::Secret;
use bugdash::service::analysis::AnalysisCache;
use bugdash::store::{self, Store};
use bugdash_benches::{scaled, zookeeper_issues};
use bugdash_http::{app, state, AppState};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SCENARIOS: &str = "BUGDASH_BENCH_SERVE";
const SECONDS: &str = "BUGDASH_BENCH_SECONDS";
const ROUNDS: &str = "BUGDASH_BENCH_ROUNDS";
const MEMO_MS: &str = "BUGDASH_BENCH_MEMO_MS";
const REQUESTS: &str = "BUGDASH_BENCH_REQUESTS";
const RECORDING: &str = "BUGDASH_BENCH_RECORDING";
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";
const USERS: usize = 100;
const PASSWORD: &str = "load test password 42";
const WARM: &str = "window=all";
/// Sessions of the paced phases, each a keep-alive connection asking at a steady rate.
const PACED_SESSIONS: usize = 1000;
/// Requests per second the paced phases offer, all sessions together.
const PACED_RATES: [u64; 3] = [5_000, 10_000, 15_000];
/// How long paced connections have to open and ask their first, unmeasured, request.
const PACED_SETTLE: Duration = Duration::from_secs(2);

fn main() {
    let scenarios =
        std::env::var(SCENARIOS).unwrap_or_else(|_| "sqlite,postgres,big,recording".to_owned());
    let seconds = std::env::var(SECONDS).ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let phase = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let memo = std::env::var(MEMO_MS).map_or_else(
        |_| format!("{} ms", state::DATA_VERSION_MEMO.as_millis()),
        |millis| format!("{millis} ms (set)"),
    );
    println!(
        "serve load: {cores} cores, {seconds} s a phase, load generator in process, data \
         version memo {memo}"
    );
    for scenario in scenarios.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        run_scenario(scenario, phase);
    }
}

fn run_scenario(scenario: &str, phase: Duration) {
    if scenario == "recording" {
        run_recording(phase);
        return;
    }
    if scenario == "requests" {
        run_requests();
        return;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let server = tokio::runtime::Runtime::new().expect("server runtime");
    let setup = server.block_on(Setup::new(scenario, true, USERS));
    let address = setup.address;
    let client = tokio::runtime::Runtime::new().expect("load generator runtime");
    client.block_on(async {
        let project = setup.project;
        let (cookies, logins) = login_all(address).await;
        print_phase(scenario, "login (8 at once)", &logins);
        if project == "ZOOKEEPER" {
            let list = |_| "/api/projects".to_owned();
            let projects = hammer(address, &cookies, 100, phase, list).await;
            print_phase(scenario, "GET /api/projects (100 conns)", &projects);
        }
        let warm = format!("/api/projects/{project}/analysis?{WARM}");
        let same = move |_| warm.clone();
        let first = hammer(address, &cookies, 1, Duration::ZERO, same.clone()).await;
        print_phase(scenario, "analysis first request", &first);
        for connections in [100, 1000] {
            let figures = hammer(address, &cookies, connections, phase, same.clone()).await;
            print_phase(scenario, &format!("analysis warm ({connections} conns)"), &figures);
        }
        for rate in PACED_RATES {
            let interval = Duration::from_secs_f64(PACED_SESSIONS as f64 / rate as f64);
            let figures =
                paced(address, &cookies, PACED_SESSIONS, interval, phase, same.clone()).await;
            let name = format!("analysis warm ({PACED_SESSIONS} sessions paced, {rate}/s offered)");
            print_phase(scenario, &name, &figures);
        }
        // Logins while the analysis is asked at the target rate: sign-ins (Argon2id on the
        // blocking pool) must not take the other requests' latency with them.
        let rate = MIXED_RATE;
        let interval = Duration::from_secs_f64(PACED_SESSIONS as f64 / rate as f64);
        let logins = tokio::spawn(login_for(address, phase));
        let figures = paced(address, &cookies, PACED_SESSIONS, interval, phase, same.clone()).await;
        let logins = logins.await.expect("login loop");
        let name = format!("analysis warm ({PACED_SESSIONS} paced, {rate}/s) during logins");
        print_phase(scenario, &name, &figures);
        print_phase(scenario, "login (8 at once) during that load", &logins);
        let serial = Arc::new(AtomicU64::new(0));
        let cold = move |_| {
            // Every horizon from 1 to 3650 days is a distinct option set, never cached.
            let horizon = serial.fetch_add(1, Ordering::Relaxed) % 3650 + 1;
            format!("/api/projects/{project}/analysis?window=all&horizon={horizon}")
        };
        let figures = hammer(address, &cookies, cores, phase, cold).await;
        print_phase(scenario, &format!("analysis cold ({cores} conns)"), &figures);
    });
    drop(client);
    server.block_on(setup.finish());
}

/// Rounds of each side in the `recording` scenario unless `BUGDASH_BENCH_ROUNDS` says.
const RECORDING_ROUNDS: usize = 3;

/// The cached analysis endpoint with usage recording on against off, alternating rounds so
/// that drift in the machine's load falls on both sides alike. Throughput falls slowly over
/// a run (both sides, about a tenth over twelve phases on a two-core machine); with the
/// order alternating, an even number of rounds puts the two sides at the same mean position.
fn run_recording(phase: Duration) {
    let server = tokio::runtime::Runtime::new().expect("server runtime");
    let on = server.block_on(Setup::new("sqlite", true, USERS));
    let off = server.block_on(Setup::new("sqlite", false, USERS));
    let client = tokio::runtime::Runtime::new().expect("load generator runtime");
    let (mut on_total, mut off_total) = ((0usize, 0.0f64), (0usize, 0.0f64));
    // Per round, the share of the off side's throughput the on side lacked.
    let mut costs = Vec::new();
    client.block_on(async {
        let warm = format!("/api/projects/{}/analysis?{WARM}", on.project);
        let same = move |_| warm.clone();
        let (on_cookies, _) = login_all(on.address).await;
        let (off_cookies, _) = login_all(off.address).await;
        hammer(on.address, &on_cookies, 1, Duration::ZERO, same.clone()).await;
        hammer(off.address, &off_cookies, 1, Duration::ZERO, same.clone()).await;
        let rounds = std::env::var(ROUNDS)
            .ok()
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(RECORDING_ROUNDS);
        // Rounds alternate which side goes first (on, off, off, on, ...), so that neither
        // side always follows the other's load (and its writer's last flush).
        for round in 1..=rounds {
            let sides = if round % 2 == 1 { [true, false] } else { [false, true] };
            let mut rates = [0.0f64; 2];
            for recording in sides {
                let (address, cookies, total, name) = if recording {
                    (on.address, &on_cookies, &mut on_total, "on")
                } else {
                    (off.address, &off_cookies, &mut off_total, "off")
                };
                let figures = hammer(address, cookies, 100, phase, same.clone()).await;
                let label = format!("warm, recording {name}, round {round}");
                print_phase("recording", &label, &figures);
                total.0 += figures.latencies.len();
                total.1 += figures.elapsed.as_secs_f64();
                rates[usize::from(recording)] =
                    figures.latencies.len() as f64 / figures.elapsed.as_secs_f64().max(1e-9);
            }
            let [off_rate, on_rate] = rates;
            costs.push((off_rate - on_rate) / off_rate.max(1e-9) * 100.0);
        }
    });
    let on_rate = on_total.0 as f64 / on_total.1.max(1e-9);
    let off_rate = off_total.0 as f64 / off_total.1.max(1e-9);
    let difference = (off_rate - on_rate) / off_rate.max(1e-9) * 100.0;
    println!(
        "serve/recording on {on_rate:.0} req/s, off {off_rate:.0} req/s: recording costs \
         {difference:.1}% of throughput (target <= 5%)"
    );
    if let Some((mean, half_width)) = mean_and_interval(&costs) {
        println!(
            "serve/recording per-round cost {mean:.1}% +- {half_width:.1}% (95% interval of \
             the mean over {} rounds, each round's sides back to back)",
            costs.len()
        );
    }
    drop(client);
    server.block_on(on.finish());
    server.block_on(off.finish());
}

/// Requests of the `requests` scenario unless `BUGDASH_BENCH_REQUESTS` says.
const COUNTED_REQUESTS: u64 = 10_000;

/// Connections of the `requests` scenario, sharing the requests evenly.
const COUNTED_CONNECTIONS: u64 = 4;

/// A fixed number of cached analyses, then the recorder's last events written: a run whose
/// work depends on the request count only, for counting instructions (module docs).
fn run_requests() {
    let requests =
        std::env::var(REQUESTS).ok().and_then(|n| n.parse().ok()).unwrap_or(COUNTED_REQUESTS);
    let recording = std::env::var(RECORDING).map_or(true, |value| value != "off");
    let server = tokio::runtime::Runtime::new().expect("server runtime");
    let setup = server.block_on(Setup::new("sqlite", recording, 1));
    let client = tokio::runtime::Runtime::new().expect("load generator runtime");
    let address = setup.address;
    let (answered, failures) = client.block_on(async move {
        let cookie = login(address, 0).await.0;
        let path = format!("/api/projects/{}/analysis?{WARM}", setup.project);
        let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
        let mut first = Connection::open(address).await;
        let answer = first.send(request.as_bytes()).await.expect("first analysis answered");
        assert_eq!(answer.status, 200, "the first analysis");
        let tasks: Vec<_> = (0..COUNTED_CONNECTIONS)
            .map(|n| {
                let request = request.clone();
                let share =
                    requests / COUNTED_CONNECTIONS + u64::from(n < requests % COUNTED_CONNECTIONS);
                tokio::spawn(async move {
                    let mut connection = Connection::open(address).await;
                    let mut failures = 0u64;
                    for _ in 0..share {
                        match connection.send(request.as_bytes()).await {
                            Ok(answer) if answer.status == 200 => {}
                            _ => failures += 1,
                        }
                    }
                    failures
                })
            })
            .collect();
        let mut failures = 0;
        for task in tasks {
            failures += task.await.expect("connection task");
        }
        (requests - failures, failures)
    });
    if let Some(recorder) = &setup.recorder {
        server.block_on(recorder.flush()).expect("events written");
    }
    let written = setup.recorder.as_ref().map_or(0, |recorder| recorder.stats().written);
    println!(
        "serve/requests: {answered} cached analyses answered, {failures} failed, recording {}, \
         {written} events written",
        if recording { "on" } else { "off" }
    );
}

/// The mean of `values` and the half-width of its 95% confidence interval (Student's t);
/// `None` below two values.
fn mean_and_interval(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Two-sided 95% quantiles of Student's t for 1..=30 degrees of freedom, then 1.96.
    const T95: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    let t = T95.get(n - 2).copied().unwrap_or(1.96);
    Some((mean, t * (variance / n as f64).sqrt()))
}

/// A running service and what to tear down after it.
struct Setup {
    address: SocketAddr,
    project: &'static str,
    recorder: Option<bugdash::analytics::Recorder>,
    database: Option<(PgConnectOptions, String)>,
    _folder: tempfile::TempDir,
}

impl Setup {
    /// The service of `scenario` with `users` accounts, recording usage events unless
    /// `recording` is false.
    async fn new(scenario: &str, recording: bool, users: usize) -> Setup {
        let folder = tempfile::tempdir().expect("temporary folder");
        let mut settings = Settings::from_sources(None, None, &|_| None).expect("settings");
        settings.limits.login_per_minute = 1_000_000;
        settings.limits.login_burst = 1_000_000;
        settings.limits.api_per_minute = 100_000_000;
        settings.limits.api_burst = 1_000_000;
        settings.auth.max_concurrent_users = 10_000;
        let mut database = None;
        let url = match scenario {
            "sqlite" | "big" => format!("sqlite://{}", folder.path().join("serve.db").display()),
            "postgres" => {
                let (url, server, name) = create_database().await;
                database = Some((server, name));
                let redis = std::env::var("BUGDASH_TEST_REDIS_URL")
                    .unwrap_or_else(|_| DEFAULT_REDIS.to_owned());
                settings.cache.redis_url = Some(Secret::new(redis));
                url
            }
            other => panic!("unknown scenario {other}; the scenarios are sqlite, postgres, big"),
        };
        let store = store::open(&url).await.expect("open the store");
        let project = if scenario == "big" { "BIG" } else { "ZOOKEEPER" };
        load(store.as_ref(), project).await;
        let (address, recorder) = serve(store, settings, recording, users).await;
        Setup { address, project, recorder, database, _folder: folder }
    }

    async fn finish(self) {
        if let Some((server, name)) = self.database {
            let mut admin = server.connect().await.expect("PostgreSQL server reachable");
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(AssertSqlSafe(drop)).execute(&mut admin).await;
        }
    }
}

async fn create_database() -> (String, PgConnectOptions, String) {
    let url =
        std::env::var("BUGDASH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
    let server = PgConnectOptions::from_str(&url).expect("PostgreSQL URL");
    let name = format!("bugdash_bench_serve_{:08x}", std::process::id());
    let mut admin = server.connect().await.expect("PostgreSQL server reachable");
    let create = format!("CREATE DATABASE {name}");
    sqlx::query(AssertSqlSafe(create)).execute(&mut admin).await.expect("create database");
    let base = url.split('?').next().unwrap_or(&url);
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    (format!("{base}/{name}"), server, name)
}

/// Fills the store: the ZooKeeper bugs, or 100,000 scaled copies as project `BIG`.
async fn load(store: &dyn Store, project: &str) {
    let base = zookeeper_issues();
    let issues: Vec<Issue> = if project == "BIG" {
        scaled(&base, 100_000)
            .into_iter()
            .enumerate()
            .map(|(n, issue)| Issue {
                project: "BIG".into(),
                key: format!("BIG-{}", n + 1).into(),
                ..issue
            })
            .collect()
    } else {
        bugdash::model::dedupe_issues(base).0
    };
    for chunk in issues.chunks(bugdash::ingest::import::BATCH) {
        store.upsert_issues(chunk).await.expect("issues stored");
    }
}

/// Starts the service with `users` accounts on this runtime, its usage recorder off unless
/// `recording`; returns its address and recorder.
async fn serve(
    store: Arc<dyn Store>,
    settings: Settings,
    recording: bool,
    users: usize,
) -> (SocketAddr, Option<bugdash::analytics::Recorder>) {
    let prefix = format!("bugdash-bench:{}:", std::process::id());
    let cache = bugdash::cache::open_with_prefix(&settings.cache, &prefix).await.expect("cache");
    let auth = Auth::new(Arc::clone(&store), Arc::clone(&cache), &settings).await.expect("auth");
    for n in 0..users {
        let account = NewAccount {
            email: format!("user{n}@example.com"),
            name: format!("User {n}"),
            department: None,
            role: Role::User,
            password: Secret::new(PASSWORD),
        };
        auth.create_account(account).await.expect("account created");
    }
    let mut state = AppState::from_parts(store, auth, cache, settings);
    if !recording {
        state.recorder = None;
    }
    if let Some(millis) = std::env::var(MEMO_MS).ok().and_then(|s| s.parse().ok()) {
        let memo = Duration::from_millis(millis);
        let analyses = AnalysisCache::with_version_memo(state::CACHED_ANALYSES, memo);
        state.analyses = Arc::new(analyses);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let recorder = state.recorder.clone();
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    (address, recorder)
}

/// What one phase measured.
#[derive(Default)]
struct Figures {
    latencies: Vec<Duration>,
    failures: u64,
    elapsed: Duration,
}

fn print_phase(scenario: &str, phase: &str, figures: &Figures) {
    let mut sorted = figures.latencies.clone();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = sorted.len() as f64 / figures.elapsed.as_secs_f64().max(1e-9);
    println!(
        "serve/{scenario:<8} {phase:<32} {rate:>9.0} req/s  p50 {:>8.2} ms  p95 {:>8.2} ms  \
         p99 {:>8.2} ms  ({} ok, {} failed)",
        at(0.50),
        at(0.95),
        at(0.99),
        sorted.len(),
        figures.failures,
    );
}

/// Requests per second offered by the paced analysis phase that runs beside logins.
const MIXED_RATE: usize = 10_000;

/// Signs users in, 8 at once, again and again until `length` has passed; returns the
/// login figures.
async fn login_for(address: SocketAddr, length: Duration) -> Figures {
    let began = Instant::now();
    let mut figures = Figures::default();
    let mut next = 0;
    while began.elapsed() < length {
        let batch: Vec<usize> = (next..next + 8).map(|n| n % USERS).collect();
        next += 8;
        let tasks: Vec<_> = batch.iter().map(|n| tokio::spawn(login(address, *n))).collect();
        for task in tasks {
            figures.latencies.push(task.await.expect("login task").1);
        }
    }
    figures.elapsed = began.elapsed();
    figures
}

/// Signs every user in, 8 at once; returns their cookies and the login figures.
async fn login_all(address: SocketAddr) -> (Vec<String>, Figures) {
    let began = Instant::now();
    let mut cookies = Vec::new();
    let mut figures = Figures::default();
    for batch in (0..USERS).collect::<Vec<_>>().chunks(8) {
        let tasks: Vec<_> = batch.iter().map(|n| tokio::spawn(login(address, *n))).collect();
        for task in tasks {
            let (cookie, took) = task.await.expect("login task");
            cookies.push(cookie);
            figures.latencies.push(took);
        }
    }
    figures.elapsed = began.elapsed();
    (cookies, figures)
}

async fn login(address: SocketAddr, n: usize) -> (String, Duration) {
    let body = format!("{{\"email\":\"user{n}@example.com\",\"password\":\"{PASSWORD}\"}}");
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut connection = Connection::open(address).await;
    let began = Instant::now();
    let answer = connection.send(request.as_bytes()).await.expect("login answered");
    let took = began.elapsed();
    assert_eq!(answer.status, 200, "login of user{n}");
    let cookie = answer.cookie.expect("a session cookie");
    (cookie, took)
}

/// `connections` keep-alive connections, each with the cookie of one user in turn, asking
/// for `path(n)` until `length` has passed (once each when `length` is zero), each asking
/// again as soon as it has its answer.
///
/// Such a closed loop keeps `connections` requests in flight, so its mean latency is
/// `connections / throughput` whatever the service does (Little's law): at 1,000
/// connections, 10,000 requests/s means 100 ms. [`paced`] measures latency at a given rate.
async fn hammer(
    address: SocketAddr,
    cookies: &[String],
    connections: usize,
    length: Duration,
    path: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Figures {
    drive(address, cookies, connections, None, length, path).await
}

/// `sessions` keep-alive connections, each asking for `path(n)` once every `interval`, their
/// starts spread over the first interval, until `length` has passed. Latency is counted
/// from when a request was due, not from when it was sent, so an answer that comes late
/// also counts against the requests it held up: the generator never hides the service's
/// queueing by waiting with it.
async fn paced(
    address: SocketAddr,
    cookies: &[String],
    sessions: usize,
    interval: Duration,
    length: Duration,
    path: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Figures {
    drive(address, cookies, sessions, Some(interval), length, path).await
}

async fn drive(
    address: SocketAddr,
    cookies: &[String],
    connections: usize,
    interval: Option<Duration>,
    length: Duration,
    path: impl Fn(u64) -> String + Send + Sync + 'static,
) -> Figures {
    let path: Arc<dyn Fn(u64) -> String + Send + Sync> = Arc::new(path);
    // Paced connections first open and ask once, unmeasured, so that the schedule measures
    // the steady state rather than a thousand connections opening at once.
    let settle = if interval.is_some() { PACED_SETTLE } else { Duration::ZERO };
    let began = Instant::now() + settle;
    let deadline = began + length;
    let mut tasks = Vec::new();
    for n in 0..connections {
        let cookie = cookies[n % cookies.len()].clone();
        let path = Arc::clone(&path);
        let pace = interval.map(|every| Pace {
            first: began + every.mul_f64(n as f64 / connections as f64),
            every,
        });
        tasks.push(tokio::spawn(run_connection(address, cookie, path, deadline, pace)));
    }
    let mut figures = Figures::default();
    for task in tasks {
        let (latencies, failures) = task.await.expect("connection task");
        figures.latencies.extend(latencies);
        figures.failures += failures;
    }
    figures.elapsed = began.elapsed();
    figures
}

/// When a paced connection's requests are due: `first`, then every `every`.
#[derive(Debug, Clone, Copy)]
struct Pace {
    first: Instant,
    every: Duration,
}

async fn run_connection(
    address: SocketAddr,
    cookie: String,
    path: Arc<dyn Fn(u64) -> String + Send + Sync>,
    deadline: Instant,
    pace: Option<Pace>,
) -> (Vec<Duration>, u64) {
    let mut connection = Connection::open(address).await;
    let (mut latencies, mut failures) = (Vec::new(), 0);
    if pace.is_some() {
        let request =
            format!("GET {} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n", path(0));
        if connection.send(request.as_bytes()).await.is_err() {
            connection = Connection::open(address).await;
        }
    }
    for n in 0.. {
        let request =
            format!("GET {} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n", path(n));
        let began = match pace {
            Some(pace) => {
                let due = pace.first + pace.every.mul_f64(n as f64);
                if due >= deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        match connection.send(request.as_bytes()).await {
            Ok(answer) if answer.status == 200 => latencies.push(began.elapsed()),
            Ok(_) => failures += 1,
            Err(_) => {
                failures += 1;
                connection = Connection::open(address).await;
            }
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    (latencies, failures)
}

/// One keep-alive HTTP/1.1 connection that reads answers with a `Content-Length`.
struct Connection {
    stream: BufReader<TcpStream>,
    body: Vec<u8>,
}

/// What the load generator keeps of an answer.
struct Answer {
    status: u16,
    cookie: Option<String>,
}

impl Connection {
    async fn open(address: SocketAddr) -> Connection {
        let stream = TcpStream::connect(address).await.expect("connect to the service");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection { stream: BufReader::new(stream), body: Vec::new() }
    }

    async fn send(&mut self, request: &[u8]) -> std::io::Result<Answer> {
        self.stream.get_mut().write_all(request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok());
        let status = status.ok_or_else(|| broken(format!("bad status line {line:?}")))?;
        let (mut length, mut cookie) = (None, None);
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(broken("connection closed in the headers".into()));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else { continue };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("set-cookie") {
                cookie = value.trim().split(';').next().map(str::to_owned);
            }
        }
        let length = length.ok_or_else(|| broken("an answer without Content-Length".into()))?;
        self.body.resize(length, 0);
        self.stream.read_exact(&mut self.body).await?;
        Ok(Answer { status, cookie })
    }
}

fn broken(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}
