//! Who may call what: every route of the route table, called by an anonymous client, a
//! user and an admin. A route added to the table without a request here fails the test,
//! so the matrix cannot fall behind the service.
//!
//! Each signed-in call runs on a session of its own, so that a logout or a revocation in
//! the matrix ends nothing another call needs. JIRA is the fake JIRA, so that an admin's
//! sync starts.

use bugdash_http::routes::{routes, Access};
use bugdash_tests::fake_jira::{Dataset, FakeJira, Flavor};
use reqwest::Method;
use serde_json::{json, Value};

use crate::serve_app::{error_code, test_settings, Service, Session, ADMIN, PASSWORD, USER};
use crate::stores::{both_backends, TestStore};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    User,
    Admin,
}

/// The ids a route's path needs: an account and one of the caller's sessions.
struct Ids {
    account: i64,
    session: i64,
}

/// The request for a route: its path with parameters filled in, and its body.
fn request_for(method: &str, path: &str, ids: &Ids, serial: usize) -> (String, Option<Value>) {
    let body = match (method, path) {
        ("POST", "/api/auth/login") => Some(json!({"email": USER, "password": PASSWORD})),
        ("POST", "/api/admin/users") => Some(json!({
            "email": format!("matrix{serial}@example.com"),
            "name": "Matrix",
            "password": PASSWORD,
        })),
        ("PATCH", "/api/admin/users/{id}") => Some(json!({"active": true})),
        ("GET" | "POST" | "DELETE", _) => None,
        _ => panic!("{method} {path}: the access matrix has no request for this route"),
    };
    let id = if path.starts_with("/api/auth/sessions/") { ids.session } else { ids.account };
    let filled = path
        .replace("{key}", "ZOOKEEPER")
        .replace("{id}", &id.to_string())
        .replace("{name}", "session-cleanup");
    (filled, body)
}

async fn session_id(service: &Service, session: &Session) -> i64 {
    let me: Value = service.get(session, "/api/auth/me").await.json().await.unwrap();
    me["session"]["id"].as_i64().expect("a session id")
}

async fn call(service: &Service, caller: Caller, method: &str, path: &str, serial: usize) -> u16 {
    let session = match caller {
        Caller::Anonymous => None,
        Caller::User => Some(service.login(USER).await),
        Caller::Admin => Some(service.login(ADMIN).await),
    };
    let me: Value = match &session {
        Some(session) => service.get(session, "/api/auth/me").await.json().await.unwrap(),
        None => json!({}),
    };
    // An anonymous caller names ids that exist: the admin's account, session 1.
    let ids = Ids {
        account: me["account"]["id"].as_i64().unwrap_or(1),
        session: me["session"]["id"].as_i64().unwrap_or(1),
    };
    let (path, body) = request_for(method, path, &ids, serial);
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = service.http.request(method, service.url(&path));
    if let Some(session) = &session {
        request = request.headers(session.for_writes());
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        let (_, code) = error_code(response).await;
        assert!(status < 500, "{caller:?} {path}: {status} {code}");
    }
    status
}

/// What a caller gets from a route of each access level: anonymous callers 401 wherever
/// one must sign in, users 403 on admin routes, everyone else an answer of the route.
fn expected(caller: Caller, access: Access, status: u16) -> bool {
    match (caller, access) {
        (_, Access::Public) => status < 400,
        (Caller::Anonymous, _) => status == 401,
        (Caller::User, Access::Admin) => status == 403,
        _ => status < 400,
    }
}

async fn every_route_answers_each_role_as_its_access_says(store: TestStore) {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let mut settings = test_settings();
    settings.jira.url = Some(fake.url());
    settings.jira.deployment = Some("datacenter".into());
    let service = Service::start(store, settings).await;
    let mut serial = 0;
    let mut wrong = Vec::new();

    for route in routes() {
        for caller in [Caller::Anonymous, Caller::User, Caller::Admin] {
            serial += 1;
            let status = call(&service, caller, route.method, route.path, serial).await;
            if !expected(caller, route.access, status) {
                wrong.push(format!("{caller:?} {} {}: {status}", route.method, route.path));
            }
        }
    }

    assert!(wrong.is_empty(), "answers against the route table:\n{}", wrong.join("\n"));
}
both_backends!(every_route_answers_each_role_as_its_access_says);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_cannot_revoke_or_list_another_users_sessions() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let admin = service.login(ADMIN).await;
    let user = service.login(USER).await;
    let admins_session = session_id(&service, &admin).await;

    let revoke = service
        .http
        .delete(service.url(&format!("/api/auth/sessions/{admins_session}")))
        .headers(user.for_writes())
        .send()
        .await
        .unwrap();
    let listed: Value = service.get(&user, "/api/auth/sessions").await.json().await.unwrap();
    let admin_after = service.get(&admin, "/api/auth/me").await.status();

    assert_eq!(error_code(revoke).await, (404, "not_found".to_owned()));
    let ids: Vec<i64> = listed["sessions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|session| session["id"].as_i64())
        .collect();
    assert!(!ids.contains(&admins_session), "{listed}");
    assert_eq!(admin_after, 200);
}
