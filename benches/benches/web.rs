//! The dashboard's pages over a 100,000-issue project: the service built in memory (no
//! socket, so the figures are the server's own time), one admin signed in, then each page
//! asked for repeatedly. Prints, per page, the first answer (which for the project page
//! includes computing the analysis) and the warm answers' median and 95th percentile, with
//! the page's weight.
//!
//! Targets: the project page warm in at most 100 ms and at most 300 KB.
//! `BUGDASH_BENCH_WEB_ROUNDS` sets the warm requests per page (default 30);
//! `BUGDASH_BENCH_WEB_ISSUES` the project's size (default 100,000 scaled copies of the
//! ZooKeeper bugs); `BUGDASH_BENCH_WEB_SAVE` a folder to write each page to, to look at.

// The figures go to standard output: printing them is what this program is for.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bugdash::auth::{Auth, NewAccount, Role};
use bugdash::config::Settings;
use bugdash::model::Issue;
use bugdash::secret::Secret;
use bugdash::store::{self, Store};
use bugdash_benches::{scaled, zookeeper_issues};
use bugdash_http::{app, AppState};
use tower::ServiceExt;

const ROUNDS: &str = "BUGDASH_BENCH_WEB_ROUNDS";
const ISSUES: &str = "BUGDASH_BENCH_WEB_ISSUES";
const SAVE: &str = "BUGDASH_BENCH_WEB_SAVE";
const PASSWORD: &str = "page bench password 42";
const EMAIL: &str = "bench@example.com";

fn main() {
    let rounds = std::env::var(ROUNDS).ok().and_then(|s| s.parse().ok()).unwrap_or(30usize);
    let size = std::env::var(ISSUES).ok().and_then(|s| s.parse().ok()).unwrap_or(100_000usize);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let folder = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", folder.path().join("web.db").display());
        let store = store::open(&url).await.expect("open the store");
        load(store.as_ref(), size).await;
        let service = service(store).await;
        let cookie = sign_in(&service).await;
        println!(
            "web pages: project BIG of {size} issues in SQLite, {rounds} warm requests a page"
        );
        let pages = [
            "/projects",
            "/projects/BIG",
            "/projects/BIG?window=all",
            "/projects/BIG?window=365&period=month&area=label",
            "/projects/BIG/issues?component=server~0&status_category=new,indeterminate",
            "/projects/BIG/issues?page=20",
        ];
        for path in pages {
            measure(&service, &cookie, path, rounds).await;
        }
    });
}

/// Fills the store with `size` scaled copies of the ZooKeeper bugs as project `BIG`.
async fn load(store: &dyn Store, size: usize) {
    let issues: Vec<Issue> = scaled(&zookeeper_issues(), size)
        .into_iter()
        .enumerate()
        .map(|(n, issue)| Issue {
            project: "BIG".into(),
            key: format!("BIG-{}", n + 1).into(),
            ..issue
        })
        .collect();
    for chunk in issues.chunks(bugdash::ingest::import::BATCH) {
        store.upsert_issues(chunk).await.expect("issues stored");
    }
}

async fn service(store: Arc<dyn Store>) -> Router {
    let mut settings = Settings::from_sources(None, None, &|_| None).expect("settings");
    settings.limits.api_per_minute = 1_000_000;
    settings.limits.api_burst = 1_000_000;
    let cache = bugdash::cache::open(&settings.cache).await.expect("cache");
    let auth = Auth::new(Arc::clone(&store), Arc::clone(&cache), &settings).await.expect("auth");
    let admin = NewAccount {
        email: EMAIL.into(),
        name: "Bench".into(),
        department: None,
        role: Role::Admin,
        password: Secret::new(PASSWORD),
    };
    auth.create_account(admin).await.expect("account created");
    app(AppState::from_parts(store, auth, cache, settings))
}

async fn sign_in(service: &Router) -> String {
    let body = format!("email={EMAIL}&password={}", PASSWORD.replace(' ', "+"));
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let response = service.clone().oneshot(request).await.expect("answered");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
    let cookie = response.headers()[header::SET_COOKIE].to_str().expect("ascii");
    cookie.split(';').next().expect("name=value").to_owned()
}

/// One request: the time to the whole body, and the body.
async fn get(service: &Router, cookie: &str, path: &str) -> (Duration, axum::body::Bytes) {
    let request =
        Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).expect("request");
    let began = Instant::now();
    let response = service.clone().oneshot(request).await.expect("answered");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let took = began.elapsed();
    assert_eq!(status, StatusCode::OK, "GET {path}");
    (took, body)
}

async fn measure(service: &Router, cookie: &str, path: &str, rounds: usize) {
    let (first, body) = get(service, cookie, path).await;
    if let Ok(folder) = std::env::var(SAVE) {
        let name: String =
            path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let file = std::path::Path::new(&folder).join(format!("{name}.html"));
        std::fs::write(&file, &body).expect("page saved");
    }
    let mut warm = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        warm.push(get(service, cookie, path).await.0);
    }
    warm.sort_unstable();
    let at = |q: f64| {
        let index = ((warm.len() as f64 * q).ceil() as usize).clamp(1, warm.len().max(1)) - 1;
        warm.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "web {path:<72} first {:>8.1} ms  warm p50 {:>7.1} ms  p95 {:>7.1} ms  {:>6.1} KB",
        first.as_secs_f64() * 1000.0,
        at(0.50),
        at(0.95),
        body.len() as f64 / 1024.0,
    );
}
