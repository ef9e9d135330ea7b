//! Error reporting to Sentry, end to end: `bugdash serve` and `bugdash jobs` run as child
//! processes with `SENTRY_DSN` naming a fake Sentry on 127.0.0.1 started by the test, which
//! keeps every envelope posted to `/api/<project>/envelope/`.
//!
//! A request that meets a broken store (its issues table renamed away under the running
//! service) must arrive as an event carrying the route template and the request id, and
//! none of the credentials the request and the sign-in before it carried: password,
//! session cookie, bearer token, query values or the raw path. A failed job must arrive
//! from the jobs command without the JIRA token. A malformed DSN stops the service before
//! it starts, naming the setting and not the key.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use bugdash_tests::fake_jira::{BodyForm, Dataset, FakeJira, Fault, Flavor};
use reqwest::header::{HeaderMap as ClientHeaders, HeaderValue};
use serde_json::{json, Value};

use crate::binary;

/// The public key in the DSN the children get.
const SENTRY_KEY: &str = "e2e-public-key";

/// One envelope as the fake Sentry received it.
#[derive(Debug, Clone)]
struct Envelope {
    /// The project id in the URL.
    project: String,
    /// The `X-Sentry-Auth` header.
    auth: String,
    /// The body, as text.
    body: String,
}

impl Envelope {
    /// The event payloads in the envelope: each item header of type `event` is followed
    /// by its payload on the next line.
    fn events(&self) -> Vec<Value> {
        let lines: Vec<&str> = self.body.lines().collect();
        let mut events = Vec::new();
        for pair in lines.windows(2) {
            let header: Value = serde_json::from_str(pair[0]).unwrap_or(Value::Null);
            if header["type"] == "event" {
                events.push(serde_json::from_str(pair[1]).expect("an event payload in JSON"));
            }
        }
        events
    }
}

/// An event's level; Sentry leaves it out when it is the default, `error`.
fn level(event: &Value) -> &str {
    event["level"].as_str().unwrap_or("error")
}

/// A fake Sentry ingest on a free port of 127.0.0.1.
struct FakeSentry {
    port: u16,
    received: Arc<Mutex<Vec<Envelope>>>,
}

impl FakeSentry {
    async fn start() -> FakeSentry {
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/api/{project}/envelope/", post(receive))
            .with_state(Arc::clone(&received));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSentry { port, received }
    }

    fn dsn(&self) -> String {
        format!("http://{SENTRY_KEY}@127.0.0.1:{}/1", self.port)
    }

    fn envelopes(&self) -> Vec<Envelope> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// The first envelope whose body contains `text`, waiting for it a bounded number of
    /// looks (the client sends from a thread of its own).
    async fn envelope_with(&self, text: &str) -> Envelope {
        for _ in 0..600 {
            if let Some(found) = self.envelopes().into_iter().find(|e| e.body.contains(text)) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no envelope with {text:?} arrived; received: {:#?}", self.envelopes());
    }
}

async fn receive(
    State(received): State<Arc<Mutex<Vec<Envelope>>>>,
    UrlPath(project): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let auth = headers.get("x-sentry-auth").and_then(|v| v.to_str().ok()).unwrap_or("");
    let envelope = Envelope { project, auth: auth.to_owned(), body };
    received.lock().expect("not poisoned").push(envelope);
    axum::Json(json!({"id": "0"}))
}

/// `bugdash serve --demo` on a free port over `data`; its address and the demo admin's
/// password.
fn serve(folder: &Path, data: &Path, vars: &[(&str, String)]) -> (Child, String, String) {
    let mut child = binary::command(folder, vars)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bugdash serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut read = || lines.next().expect("a line").expect("text");
    let (url_line, _, password_line) = (read(), read(), read());
    let base = url_line.rsplit(' ').next().expect("the address").to_owned();
    let password = password_line.split_whitespace().nth(1).expect("the password").to_owned();
    (child, base, password)
}

/// Signs in; the session cookie pair and the CSRF token.
async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> (String, String) {
    let body = json!({"email": "admin@bugdash.local", "password": password});
    let response = http.post(format!("{base}/api/auth/login")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "sign-in");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let view: Value = response.json().await.unwrap();
    (cookie, view["csrf_token"].as_str().expect("a CSRF token").to_owned())
}

/// An API token for the session.
async fn bearer_token(http: &reqwest::Client, base: &str, cookie: &str, csrf: &str) -> String {
    let mut headers = ClientHeaders::new();
    headers.insert("cookie", HeaderValue::from_str(cookie).unwrap());
    headers.insert("x-csrf-token", HeaderValue::from_str(csrf).unwrap());
    let response = http.post(format!("{base}/api/auth/token")).headers(headers).send().await;
    let body: Value = response.unwrap().json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
}

/// Renames the issues table away under the running service: every read of issues fails.
async fn break_the_store(data: &Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", data.join("bugdash.db").display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.expect("open the store");
    sqlx::query("ALTER TABLE issues RENAME TO issues_out_of_reach")
        .execute(&mut connection)
        .await
        .expect("rename the issues table");
    connection.close().await.expect("close");
}

fn stop(mut child: Child) {
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(term.expect("kill runs").success());
    let exit = child.wait().expect("the child ends");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_server_fault_reaches_sentry_with_route_and_request_id_and_no_credentials() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sentry = runtime.block_on(FakeSentry::start());
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let vars = [("SENTRY_DSN", sentry.dsn()), ("SENTRY_ENVIRONMENT", "e2e".to_owned())];
    let (child, base, password) = serve(folder.path(), &data, &vars);

    let (status, request_id, secrets, envelope) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let (cookie, csrf) = sign_in(&http, &base, &password).await;
        let token = bearer_token(&http, &base, &cookie, &csrf).await;
        break_the_store(&data).await;
        let url = format!("{base}/api/projects/ZOOKEEPER/issues?assignee=query-value-5");
        let request = http.get(url).header("cookie", &cookie).bearer_auth(&token);
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("an error body");
        let request_id = body["error"]["request_id"].as_str().expect("a request id").to_owned();
        let session = cookie.split_once('=').expect("name=value").1.to_owned();
        let secrets = [password.clone(), session, token, "query-value-5".to_owned()];
        let envelope = sentry.envelope_with(&request_id).await;
        (status, request_id, secrets, envelope)
    });
    stop(child);

    assert_eq!(status, 500);
    assert_eq!(envelope.project, "1");
    assert!(envelope.auth.contains(&format!("sentry_key={SENTRY_KEY}")), "{}", envelope.auth);
    let events = envelope.events();
    let event = events.first().expect("an event in the envelope");
    assert_eq!(level(event), "error", "{event:#}");
    assert!(event["message"].as_str().unwrap().starts_with("request failed"), "{event:#}");
    assert_eq!(event["tags"]["route"], "/api/projects/{key}/issues", "{event:#}");
    assert_eq!(event["tags"]["request_id"], request_id.as_str(), "{event:#}");
    assert_eq!(event["environment"], "e2e");
    assert_eq!(event["release"], format!("bugdash@{}", env!("CARGO_PKG_VERSION")));
    for envelope in sentry.envelopes() {
        for secret in &secrets {
            assert!(!envelope.body.contains(secret.as_str()), "{secret} sent: {}", envelope.body);
        }
        let body = envelope.body.to_ascii_lowercase();
        for leak in ["authorization", "bearer", "bugdash_session", "/api/projects/zookeeper"] {
            assert!(!body.contains(leak), "{leak} sent: {}", envelope.body);
        }
    }
}

#[test]
fn a_failed_job_run_reaches_sentry_from_the_jobs_command() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sentry, jira) = runtime.block_on(async {
        let jira = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
        jira.inject_at("/rest/", Fault::Unauthorized(BodyForm::Json), 1000);
        (FakeSentry::start().await, jira)
    });
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("bugdash.db").display());
        let store = bugdash::store::open(&url).await.expect("create the store");
        store.upsert_project("ZOOKEEPER", None).await.expect("a project to sync");
    });
    let vars = [
        ("SENTRY_DSN", sentry.dsn()),
        ("JIRA_URL", jira.url()),
        ("JIRA_DEPLOYMENT", "datacenter".to_owned()),
        ("JIRA_PAT", "jira-token-that-must-stay-home".to_owned()),
    ];

    let output = binary::command(folder.path(), &vars)
        .arg("--data-dir")
        .arg(&data)
        .args(["jobs", "run", "sync"])
        .output()
        .expect("bugdash jobs runs");
    let envelope = runtime.block_on(sentry.envelope_with("job failed"));

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let events = envelope.events();
    let event = events.first().expect("an event in the envelope");
    assert_eq!(level(event), "error", "{event:#}");
    assert_eq!(event["tags"]["job"], "sync", "{event:#}");
    assert_eq!(event["environment"], "production");
    assert!(!envelope.body.contains("jira-token-that-must-stay-home"), "{}", envelope.body);
}

#[test]
fn a_malformed_dsn_stops_the_service_naming_the_setting_but_not_the_key() {
    let folder = tempfile::tempdir().unwrap();
    let dsn = "https://secret-key-31@sentry.example.com/not-a-project";

    let output = binary::command(folder.path(), &[("SENTRY_DSN", dsn.to_owned())])
        .arg("--data-dir")
        .arg(folder.path().join("data"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("bugdash serve runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SENTRY_DSN") && stderr.contains("project id"), "{stderr}");
    assert!(!stderr.contains("secret-key-31"), "{stderr}");
}
