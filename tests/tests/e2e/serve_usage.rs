//! Usage analytics through `bugdash serve`: every authenticated request becomes exactly one
//! stored event, also when SIGTERM arrives in the middle of the load; `/metrics` labels
//! requests by route template; the admin usage API answers admins and refuses users; the
//! JIRA calls of a sync read back over HTTP as the fake JIRA logged them.
//!
//! The in-process tests build the app here rather than through [`Service`](crate::serve_app)
//! because they need the state's recorder, to flush it before counting.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bugdash::analytics::{Action, Event, Recorder};
use bugdash::auth::{Auth, Clock, NewAccount, Role, SystemClock};
use bugdash::model::Timestamp;
use bugdash::secret::Secret;
use bugdash::store::analytics::EventQuery;
use bugdash::store::Store;
use bugdash_http::{app, AppState};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use bugdash_tests::fake_jira::{Dataset, FakeJira, Fault, Flavor};

use crate::binary;
use crate::serve_app::{test_settings, Service, Session, ADMIN, PASSWORD, USER};
use crate::stores::{both_backends, TestStore};

/// A service on a free port with its recorder in reach.
struct Recorded {
    base: String,
    http: reqwest::Client,
    recorder: Recorder,
    store: TestStore,
}

impl Recorded {
    async fn start(store: TestStore) -> Recorded {
        let mut settings = test_settings();
        settings.database.url = Some(Secret::new(store.url.clone()));
        let cache = bugdash::cache::open(&settings.cache).await.expect("cache");
        let auth = Auth::new(Arc::clone(&store.store), Arc::clone(&cache), &settings)
            .await
            .expect("auth starts");
        for (email, role) in [(ADMIN, Role::Admin), (USER, Role::User)] {
            let account = NewAccount {
                email: email.into(),
                name: "Someone".into(),
                department: Some("Platform".into()),
                role,
                password: Secret::new(PASSWORD),
            };
            auth.create_account(account).await.expect("account created");
        }
        let state = AppState::from_parts(Arc::clone(&store.store), auth, cache, settings);
        let recorder = state.recorder.clone().expect("recording is on");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        let http = reqwest::Client::new();
        Recorded { base: format!("http://{address}"), http, recorder, store }
    }

    async fn login(&self, email: &str) -> HeaderMap {
        login(&self.http, &self.base, email, PASSWORD).await
    }

    async fn get(&self, headers: &HeaderMap, path: &str) -> reqwest::Response {
        let request = self.http.get(format!("{}{path}", self.base)).headers(headers.clone());
        request.send().await.expect("an answer")
    }

    async fn events(&self) -> Vec<Event> {
        self.recorder.flush().await.expect("flushed");
        all_events(self.store.store()).await
    }
}

/// Signs in; the cookie and CSRF headers of the new session.
async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> HeaderMap {
    let body = json!({"email": email, "password": password});
    let response =
        http.post(format!("{base}/api/auth/login")).json(&body).send().await.expect("login");
    assert_eq!(response.status(), 200, "login of {email}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap();
    let cookie = HeaderValue::from_str(cookie).unwrap();
    let view: Value = response.json().await.unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("cookie", cookie);
    let csrf = view["csrf_token"].as_str().expect("a CSRF token");
    headers.insert("x-csrf-token", HeaderValue::from_str(csrf).unwrap());
    headers
}

async fn all_events(store: &dyn Store) -> Vec<Event> {
    let query =
        EventQuery::between(Timestamp::from_millis(0), Timestamp::from_millis(i64::MAX / 2));
    store.events(&query).await.expect("events read")
}

async fn n_concurrent_requests_give_exactly_n_stored_events(store: TestStore) {
    const N: usize = 200;
    let service = Arc::new(Recorded::start(store).await);
    let user = service.login(USER).await;

    let mut tasks = Vec::new();
    for _ in 0..N {
        let (service, user) = (Arc::clone(&service), user.clone());
        tasks.push(tokio::spawn(async move { service.get(&user, "/api/auth/me").await.status() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let anonymous = service.get(&HeaderMap::new(), "/api/auth/me").await.status();
    let events = service.events().await;

    assert_eq!(anonymous, 401);
    let me = events.iter().filter(|e| e.endpoint.as_deref() == Some("/api/auth/me")).count();
    let logins = events.iter().filter(|e| e.action == Action::Login).count();
    assert_eq!((me, logins, events.len()), (N, 1, N + 1));
    let one = events.iter().find(|e| e.action == Action::ApiCall).expect("a request event");
    assert_eq!((one.status, one.department.as_deref()), (Some(200), Some("Platform")));
    assert!(one.session_id.is_some() && one.client_addr.is_some(), "{one:?}");
}
both_backends!(n_concurrent_requests_give_exactly_n_stored_events);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_the_route_template_project_and_filter_names() {
    let service = Recorded::start(TestStore::sqlite().await).await;
    let user = service.login(USER).await;

    let path = "/api/projects/ZOOKEEPER/issues.csv?priority=Major&assignee=someone";
    let status = service.get(&user, path).await.status().as_u16();
    let events = service.events().await;

    let export = events.iter().find(|e| e.action == Action::ExportData).expect("an export");
    assert_eq!(export.endpoint.as_deref(), Some("/api/projects/{key}/issues.csv"));
    assert_eq!(export.project.as_deref(), Some("ZOOKEEPER"));
    assert_eq!(export.filters, Some(json!(["priority", "assignee"])));
    assert_eq!(export.status, Some(status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_label_requests_by_route_template_never_raw_path() {
    let service = Recorded::start(TestStore::sqlite().await).await;
    let user = service.login(USER).await;
    service.get(&user, "/api/projects/ZOOKEEPER/issues?limit=1").await;

    let response = service.get(&HeaderMap::new(), "/metrics").await;
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();

    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(text.contains("bugdash_requests_total{"), "{text}");
    assert!(text.contains("endpoint=\"/api/projects/{key}/issues\""), "{text}");
    assert!(text.contains("bugdash_request_duration_seconds_bucket"), "{text}");
    assert!(!text.contains("ZOOKEEPER"), "a raw path leaked into a label:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_usage_endpoints_answer_admins_and_refuse_users() {
    let service = Recorded::start(TestStore::sqlite().await).await;
    let admin = service.login(ADMIN).await;
    let user = service.login(USER).await;
    let paths = [
        "/api/admin/usage/realtime",
        "/api/admin/usage/trends?period=week&days=14",
        "/api/admin/usage/projects?days=7",
        "/api/admin/usage/features",
        "/api/admin/usage/departments",
        "/api/admin/usage/endpoints?days=1",
        "/api/admin/usage/users/1/activity",
        "/api/admin/usage/report?days=7",
        "/api/admin/audit",
        "/api/admin/jobs",
        "/api/system/status",
    ];

    let mut wrong = Vec::new();
    for path in paths {
        let (as_admin, as_user) = (service.get(&admin, path).await, service.get(&user, path).await);
        if (as_admin.status().as_u16(), as_user.status().as_u16()) != (200, 403) {
            wrong.push(format!("{path}: {} {}", as_admin.status(), as_user.status()));
        }
    }
    service.recorder.flush().await.expect("flushed");
    let own: Value = service.get(&user, "/api/usage/me").await.json().await.unwrap();
    let bad = service.get(&admin, "/api/admin/usage/trends?period=fortnight").await;
    let csv = service.get(&admin, "/api/admin/usage/report?days=3&format=csv").await;

    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let own_events = own["items"].as_array().expect("events");
    assert!(!own_events.is_empty(), "{own}");
    let (status, message) = (bad.status(), bad.text().await.unwrap());
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("period") && message.contains("fortnight"), "{message}");
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_role_change_is_in_the_audit_log_with_old_and_new_value() {
    let service = Recorded::start(TestStore::sqlite().await).await;
    let admin = service.login(ADMIN).await;
    let users: Value = service.get(&admin, "/api/admin/users").await.json().await.unwrap();
    let grace = users["users"].as_array().unwrap().iter().find(|u| u["email"] == USER).unwrap();
    let id = grace["id"].as_i64().unwrap();

    let url = format!("{}/api/admin/users/{id}", service.base);
    let body = json!({"role": "admin"});
    let changed = service.http.patch(url).headers(admin.clone()).json(&body).send().await.unwrap();
    let log: Value = service.get(&admin, "/api/admin/audit").await.json().await.unwrap();

    assert_eq!(changed.status(), 200);
    let entry = &log["entries"][0];
    assert_eq!(entry["action"], "set_role", "{log}");
    assert_eq!(entry["target"], format!("account {id}"));
    assert_eq!(
        (entry["old_value"].clone(), entry["new_value"].clone()),
        (json!("\"user\""), json!("\"admin\""))
    );
    assert_eq!(entry["actor"], ADMIN);
}

/// Authenticated requests answered by the child, counted by the load.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

#[test]
fn sigterm_during_load_stores_one_event_per_answered_authenticated_request() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let mut child = binary::command(folder.path(), &[])
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bugdash serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut read = || lines.next().expect("a line").expect("text");
    let (url_line, _, password_line) = (read(), read(), read());
    let base = url_line.rsplit(' ').next().unwrap().to_owned();
    let password = password_line.split_whitespace().nth(1).unwrap().to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(load_until_stopped(&base, &password, child.id()));
    let exit = child.wait().expect("the child ends");
    let events = runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("bugdash.db").display());
        let store = bugdash::store::open(&url).await.expect("the child's store");
        all_events(store.as_ref()).await
    });

    assert!(exit.success(), "{exit:?}");
    let answered = ANSWERED.load(Ordering::SeqCst);
    assert!(answered > 100, "too little load before the signal: {answered}");
    assert_eq!(events.len() as u64, answered + 1, "events against answers (+1 login)");
}

/// Eight clients ask until the service is gone; SIGTERM goes out after 100 answers.
async fn load_until_stopped(base: &str, password: &str, pid: u32) {
    let http = reqwest::Client::new();
    let headers = login(&http, base, "admin@bugdash.local", password).await;
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (http, headers, url) = (http.clone(), headers.clone(), format!("{base}/api/auth/me"));
        clients.push(tokio::spawn(async move {
            while let Ok(response) = http.get(&url).headers(headers.clone()).send().await {
                ANSWERED.fetch_add(1, Ordering::SeqCst);
                drop(response);
            }
        }));
    }
    while ANSWERED.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let kill = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    assert!(kill.expect("kill runs").success());
    for client in clients {
        client.await.unwrap();
    }
}

async fn readyz_is_ready_while_database_and_cache_answer(store: TestStore) {
    let mut settings = test_settings();
    // At most one request per millisecond: the Redis rate limiter counts whole milliseconds.
    settings.limits.api_per_minute = 60_000;
    settings.limits.login_per_minute = 60_000;
    if store.url.starts_with("postgres") {
        settings.cache.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
    }
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    settings.jira.url = Some(fake.url());
    settings.jira.deployment = Some("datacenter".into());
    let service = crate::serve_app::Service::start(store, settings).await;
    let admin = service.login(ADMIN).await;
    let sync = service.url("/api/admin/projects/ZOOKEEPER/sync");
    let started = service.http.post(sync).headers(admin.for_writes()).send().await.unwrap();

    let response = service.http.get(service.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let system: Value = service.get(&admin, "/api/system/status").await.json().await.unwrap();

    assert_eq!(started.status(), 202);
    assert_eq!(status, 200, "{body}\n{system}");
}
both_backends!(readyz_is_ready_while_database_and_cache_answer);

/// The endpoint template the JIRA client files a request to `path` under.
fn endpoint_template(path: &str) -> String {
    match path.strip_prefix("/rest/api/2/issue/") {
        Some(rest) if rest.ends_with("/changelog") => "/rest/api/2/issue/{id}/changelog".into(),
        Some(_) => "/rest/api/2/issue/{key}".into(),
        None => path.to_owned(),
    }
}

/// Waits until the service runs no sync (a bounded number of looks).
async fn until_no_sync_runs(service: &Service, admin: &Session) {
    for _ in 0..1200 {
        let status: Value = service.get(admin, "/api/admin/sync").await.json().await.unwrap();
        if status["running"].as_array().is_some_and(Vec::is_empty) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sync still runs after 1200 looks");
}

async fn jira_calls_read_back_by_endpoint_and_status_as_the_fake_jira_logged_them(
    store: TestStore,
) {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    // One refused search page, which the client repeats: two statuses on one endpoint.
    fake.inject(Fault::Unavailable, 1);
    let mut settings = test_settings();
    settings.jira.url = Some(fake.url());
    settings.jira.deployment = Some("datacenter".into());
    let service = Service::start(store, settings).await;
    let admin = service.login(ADMIN).await;
    let user = service.login(USER).await;
    let sync = service.url("/api/admin/projects/ZOOKEEPER/sync");
    let started = service.http.post(sync).headers(admin.for_writes()).send().await.unwrap();
    assert_eq!(started.status(), 202);
    until_no_sync_runs(&service, &admin).await;

    let answer = service.get(&admin, "/api/admin/usage/jira?days=1").await;
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap();
    let refused = service.get(&user, "/api/admin/usage/jira?days=1").await.status();

    assert_eq!(status, 200, "{body}");
    assert_eq!(refused, 403);
    let mut logged: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for request in fake.requests() {
        let endpoint = endpoint_template(&request.path);
        *logged.entry((endpoint, u64::from(request.status))).or_default() += 1;
    }
    let served: BTreeMap<(String, u64), u64> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|count| {
            let endpoint = count["endpoint"].as_str().expect("endpoint").to_owned();
            let status = count["status"].as_u64().expect("status");
            ((endpoint, status), count["calls"].as_u64().expect("calls"))
        })
        .collect();
    assert_eq!(served, logged);
    assert_eq!(served.get(&("/rest/api/2/search".to_owned(), 503)), Some(&1), "{body}");
    assert!(served.get(&("/rest/api/2/search".to_owned(), 200)).is_some_and(|n| *n > 1));
}
both_backends!(jira_calls_read_back_by_endpoint_and_status_as_the_fake_jira_logged_them);

/// A job run left `running` by an instance that died shows in the status as abandoned, and
/// the job as unhealthy: a run that never finished is as much a missed run as a failed one.
async fn the_status_calls_a_job_whose_run_was_abandoned_unhealthy(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let admin = service.login(ADMIN).await;
    let job = bugdash::jobs::Job::RetentionPurge;
    let lock = bugdash::jobs::job_lock(job);
    let dead = bugdash::store::open(&service.store.url).await.expect("the dead instance's store");
    let held = dead.lock_sync(&lock).await.unwrap().expect("the job's lock is free");
    let claimed = dead
        .claim_job_run(job.name(), "slot-of-the-dead", "dead:1", &lock, SystemClock.now())
        .await
        .unwrap();
    assert!(claimed.is_some(), "the slot was free");
    held.release().await;

    let status: Value = service.get(&admin, "/api/system/status").await.json().await.unwrap();

    let jobs = status["jobs"].as_array().expect("jobs in the status");
    let purge = jobs.iter().find(|entry| entry["job"] == job.name()).expect("the purge job");
    assert_eq!(purge["outcome"], "abandoned", "{purge}");
    assert_eq!(purge["healthy"], false, "{purge}");
    let others = jobs.iter().filter(|entry| entry["job"] != job.name());
    assert!(others.into_iter().all(|entry| entry["healthy"] == true), "{status}");
}
both_backends!(the_status_calls_a_job_whose_run_was_abandoned_unhealthy);
