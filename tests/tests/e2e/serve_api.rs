//! `bugdash serve` over HTTP: the analysis API against the CLI, issues, CSV exports, the
//! OpenAPI document, many clients at once, and `serve --demo` as a child process.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use bugdash::model::Issue;
use bugdash::Timestamp;
use serde_json::{json, Value};

use crate::binary;
use crate::serve_app::{error_code, test_settings, Service, USER};
use crate::stores::{both_backends, TestStore};

fn cli_json(service: &Service, args: &[&str]) -> String {
    let folder = tempfile::tempdir().unwrap();
    let vars = [("DATABASE_URL", service.store.url.clone())];
    let output = binary::command(folder.path(), &vars).args(args).output().expect("bugdash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

async fn the_analysis_equals_the_clis_json_for_the_same_options(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let session = service.login(USER).await;
    let query = "/api/projects/ZOOKEEPER/analysis?window=all&period=month&component=server,quorum";

    let from_api = service.get(&session, query).await.text().await.unwrap();
    let cached = service.get(&session, query).await.text().await.unwrap();
    let from_cli = cli_json(
        &service,
        &["analyze", "--project", "ZOOKEEPER", "--format", "json", "--window", "all"]
            .iter()
            .chain(&["--period", "month", "--component", "server,quorum"])
            .copied()
            .collect::<Vec<_>>(),
    );
    let all_api = service.get(&session, "/api/projects/ALL/analysis?window=all").await;
    let all_api = all_api.text().await.unwrap();
    let all_cli =
        cli_json(&service, &["analyze", "--project", "ALL", "--format", "json", "--window", "all"]);

    assert!(from_cli.len() > 1000, "{from_cli}");
    assert_eq!(from_api, from_cli);
    assert_eq!(cached, from_cli);
    assert_eq!(all_api, all_cli);
}
both_backends!(the_analysis_equals_the_clis_json_for_the_same_options);

fn hostile_issue() -> Issue {
    Issue {
        id: Some(990_001),
        key: "ZOOKEEPER-99001".into(),
        project: "ZOOKEEPER".into(),
        issue_type: "Bug".into(),
        status: "Open".into(),
        created: Some(Timestamp::from_millis(1_547_000_000_000)),
        updated: Some(Timestamp::from_millis(1_547_000_000_000)),
        summary: "=cmd|' /C calc'!A0".into(),
        components: vec!["=HYPERLINK(\"http://x\")".into()].into(),
        ..Issue::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_page_through_and_csv_exports_defuse_formulas() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;
    let page = |query: String| {
        let path = format!("/api/projects/ZOOKEEPER/issues{query}");
        let request = service.http.get(service.url(&path)).headers(session.cookie_only());
        async move { request.send().await.unwrap() }
    };

    let first: Value = page("?limit=100&component=server".to_owned()).await.json().await.unwrap();
    let next = first["next_offset"].as_u64().expect("a next page");
    let second: Value =
        page(format!("?limit=100&component=server&offset={next}")).await.json().await.unwrap();
    let before: Value = service.get(&session, "/api/projects").await.json().await.unwrap();
    service.store.store().upsert_issues(&[hostile_issue()]).await.unwrap();
    let after: Value = service.get(&session, "/api/projects").await.json().await.unwrap();
    let issues_csv = service
        .http
        .get(service.url("/api/projects/ZOOKEEPER/issues.csv"))
        .headers(session.cookie_only())
        .query(&[("component", "=HYPERLINK(\"http://x\")")])
        .send()
        .await
        .unwrap();
    let content_type = issues_csv.headers()["content-type"].to_str().unwrap().to_owned();
    let issues_csv = issues_csv.text().await.unwrap();
    let areas_csv = service.get(&session, "/api/projects/ZOOKEEPER/areas.csv?window=all").await;
    let areas_csv = areas_csv.text().await.unwrap();

    let total = first["total"].as_u64().unwrap();
    assert!(total > 100, "server has hundreds of issues: {total}");
    assert_eq!(first["issues"].as_array().unwrap().len(), 100);
    assert_eq!(second["offset"], 100);
    assert_ne!(first["issues"][0]["key"], second["issues"][0]["key"]);
    let version = |projects: &Value| projects["projects"][0]["freshness"]["data_version"].clone();
    assert_ne!(version(&before), version(&after), "a write changes the data version");
    assert!(before["projects"][0]["risk"]["open_bugs"].as_u64().is_some());
    assert!(content_type.starts_with("text/csv"));
    assert_eq!(issues_csv.lines().count(), 2, "{issues_csv}");
    assert!(issues_csv.contains("\"'=cmd|' /C calc'!A0\"") || issues_csv.contains("'=cmd|"));
    assert!(!issues_csv.contains(",=cmd") && !issues_csv.contains(",\"=cmd"), "{issues_csv}");
    assert!(areas_csv.contains("'=HYPERLINK"), "the new area is escaped: {areas_csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_error_code() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let response = service.http.get(service.url("/api/openapi.json")).send().await.unwrap();
    let document: Value = response.json().await.unwrap();

    assert_eq!(document["openapi"], "3.1.0");
    for route in bugdash_http::routes::routes() {
        let operation = &document["paths"][route.path][route.method.to_lowercase()];
        assert!(operation.is_object(), "{} {} undocumented", route.method, route.path);
    }
    let codes = &document["components"]["schemas"]["Error"]["properties"]["error"];
    let codes = codes["properties"]["code"]["enum"].as_array().unwrap();
    for code in bugdash_http::error::CODES.iter().map(|(code, _, _)| *code) {
        assert!(codes.iter().any(|c| c == code), "{code} undocumented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_with_sessions_are_all_served_at_once() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let admin = service.login(crate::serve_app::ADMIN).await;
    let mut sessions = Vec::new();
    for n in 0..100 {
        let email = format!("user{n}@example.com");
        let body = json!({"email": email, "name": "u", "password": crate::serve_app::PASSWORD});
        let created = service
            .http
            .post(service.url("/api/admin/users"))
            .headers(admin.for_writes())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        sessions.push(service.login(&email).await);
    }

    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let request = service
                .http
                .get(service.url("/api/projects/ZOOKEEPER/analysis?window=all"))
                .headers(session.cookie_only());
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("the task ends").expect("an answer"));
    }

    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[test]
fn the_demo_starts_and_its_printed_password_signs_in() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let vars = [("BUGDASH_DATA_DIR", data.display().to_string())];
    let mut child = binary::command(folder.path(), &vars)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bugdash serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut read = || lines.next().expect("a line").expect("text");
    let (url_line, admin_line, password_line) = (read(), read(), read());

    let url = url_line.rsplit(' ').next().unwrap().to_owned();
    let password = password_line.split_whitespace().nth(1).unwrap().to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (login, analysis) = runtime.block_on(async {
        let http = reqwest::Client::new();
        let body = json!({"email": "admin@bugdash.local", "password": password});
        let login = http.post(format!("{url}/api/auth/login")).json(&body).send().await.unwrap();
        let cookie =
            login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let status = login.status();
        let analysis = http
            .get(format!("{url}/api/projects/ZOOKEEPER/analysis"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (status, analysis.status())
    });
    let _ = child.kill();
    let _ = child.wait();

    assert!(url_line.contains("http://127.0.0.1:"), "{url_line}");
    assert!(admin_line.contains("admin@bugdash.local"), "{admin_line}");
    assert_eq!((login.as_u16(), analysis.as_u16()), (200, 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_one_shape_with_a_stable_code() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let anonymous = service.http.get(service.url("/api/projects")).send().await.unwrap();
    let wrong_method = service.http.delete(service.url("/api/projects")).send().await.unwrap();
    let no_route = service.http.get(service.url("/api/nothing")).send().await.unwrap();

    assert_eq!(error_code(anonymous).await, (401, "unauthorized".to_owned()));
    assert_eq!(error_code(wrong_method).await, (405, "method_not_allowed".to_owned()));
    assert_eq!(error_code(no_route).await, (404, "not_found".to_owned()));
}
