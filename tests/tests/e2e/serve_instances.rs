//! Two instances of the service on one PostgreSQL database and one Redis, as a company
//! runs them behind a load balancer: a session ended on one is refused by the other on its
//! very next request, the rate limits are one budget across both, and a project syncs on
//! one instance at a time.

use std::time::Duration;

use bugdash_tests::fake_jira::{Dataset, FakeJira, Flavor};
use serde_json::{json, Value};

use crate::serve_app::{error_code, test_settings, Service, Session, ADMIN, PASSWORD, USER};
use crate::stores::TestStore;

/// A bearer token for `session`, issued by `service`.
async fn token(service: &Service, session: &Session) -> String {
    let response = service
        .http
        .post(service.url("/api/auth/token"))
        .headers(session.for_writes())
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
}

/// The statuses `service` answers the session's cookie and the token with.
async fn both_credentials(service: &Service, session: &Session, jwt: &str) -> [u16; 2] {
    let cookie = service.get(session, "/api/auth/me").await.status().as_u16();
    let bearer = service.http.get(service.url("/api/auth/me")).bearer_auth(jwt).send();
    [cookie, bearer.await.unwrap().status().as_u16()]
}

async fn two_instances() -> (Service, Service) {
    let a = Service::start(TestStore::postgres().await, test_settings()).await;
    let b = a.another_instance().await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_refused_by_the_other_at_once() {
    let (a, b) = two_instances().await;
    let session = a.login(USER).await;
    let jwt = token(&a, &session).await;
    // B has now seen, and cached, the session.
    let before = both_credentials(&b, &session, &jwt).await;

    let logout =
        a.http.post(a.url("/api/auth/logout")).headers(session.for_writes()).send().await.unwrap();
    let after = both_credentials(&b, &session, &jwt).await;

    assert_eq!(before, [200, 200]);
    assert_eq!(logout.status(), 204);
    assert_eq!(after, [401, 401]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_on_one_instance_is_refused_by_the_other_at_once() {
    let (a, b) = two_instances().await;
    let doomed = a.login(USER).await;
    let kept = b.login(USER).await;
    let jwt = token(&b, &doomed).await;
    let before = both_credentials(&b, &doomed, &jwt).await;
    let me: Value = b.get(&doomed, "/api/auth/me").await.json().await.unwrap();
    let id = me["session"]["id"].as_i64().expect("a session id");

    let revoke = a
        .http
        .delete(a.url(&format!("/api/auth/sessions/{id}")))
        .headers(kept.for_writes())
        .send()
        .await
        .unwrap();
    let after = both_credentials(&b, &doomed, &jwt).await;
    let kept_still = b.get(&kept, "/api/auth/me").await.status();

    assert_eq!(before, [200, 200]);
    assert_eq!(revoke.status(), 204);
    assert_eq!(after, [401, 401]);
    assert_eq!(kept_still, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_disabled_on_one_instance_is_refused_by_the_other_at_once() {
    let (a, b) = two_instances().await;
    let admin = a.login(ADMIN).await;
    let user = b.login(USER).await;
    let jwt = token(&b, &user).await;
    let before = both_credentials(&b, &user, &jwt).await;
    let me: Value = b.get(&user, "/api/auth/me").await.json().await.unwrap();
    let id = me["account"]["id"].as_i64().expect("an account id");

    let disable = a
        .http
        .patch(a.url(&format!("/api/admin/users/{id}")))
        .headers(admin.for_writes())
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    let after = both_credentials(&b, &user, &jwt).await;
    let login_on_b = b.login_response(USER, PASSWORD).await;

    assert_eq!(before, [200, 200]);
    assert_eq!(disable.status(), 200);
    assert_eq!(after, [401, 401]);
    assert_eq!(error_code(login_on_b).await, (401, "unauthorized".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_burst_spent_on_one_instance_is_spent_on_the_other() {
    let mut settings = test_settings();
    // One request a minute after the burst: nothing refills while the test runs.
    settings.limits.api_per_minute = 1;
    settings.limits.api_burst = 5;
    let a = Service::start(TestStore::postgres().await, settings).await;
    let b = a.another_instance().await;
    let session = a.login(USER).await;

    let mut on_a = Vec::new();
    for _ in 0..5 {
        on_a.push(a.get(&session, "/api/auth/me").await.status().as_u16());
    }
    let on_b = b.get(&session, "/api/auth/me").await;
    let retry_after = on_b.headers().contains_key("retry-after");

    assert_eq!(on_a, [200; 5]);
    assert_eq!(error_code(on_b).await, (429, "rate_limited".to_owned()));
    assert!(retry_after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_on_one_instance_count_on_the_other() {
    let mut settings = test_settings();
    settings.limits.login_per_minute = 1;
    settings.limits.login_burst = 3;
    let a = Service::start(TestStore::postgres().await, settings).await;
    let b = a.another_instance().await;

    let mut on_a = Vec::new();
    for _ in 0..3 {
        on_a.push(a.login_response(USER, "wrong password 123").await.status().as_u16());
    }
    let on_b = b.login_response(USER, PASSWORD).await;

    assert_eq!(on_a, [401; 3]);
    assert_eq!(error_code(on_b).await, (429, "rate_limited".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_started_on_one_instance_is_busy_on_the_other() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    // Slow pages keep the first sync running while the second instance is asked.
    fake.set_page_latency(Duration::from_secs(5));
    let mut settings = test_settings();
    settings.jira.url = Some(fake.url());
    settings.jira.deployment = Some("datacenter".into());
    let a = Service::start(TestStore::postgres().await, settings).await;
    let b = a.another_instance().await;
    let (on_a, on_b) = (a.login(ADMIN).await, b.login(ADMIN).await);
    let start = |service: &Service, session: &Session| {
        let url = service.url("/api/admin/projects/ZOOKEEPER/sync");
        service.http.post(url).headers(session.for_writes()).send()
    };

    let first = start(&a, &on_a).await.unwrap();
    let second = start(&b, &on_b).await.unwrap();
    let again_on_a = start(&a, &on_a).await.unwrap();

    assert_eq!(first.status(), 202);
    assert_eq!(error_code(second).await, (409, "busy".to_owned()));
    assert_eq!(error_code(again_on_a).await, (409, "busy".to_owned()));
}
