//! `bugdash serve` over HTTP: sessions, cookies, tokens, CSRF, roles, limits and headers,
//! on SQLite with the in-process cache and on PostgreSQL with Redis.

use serde_json::{json, Value};

use crate::serve_app::{error_code, test_settings, Service, ADMIN, PASSWORD, USER};
use crate::stores::{both_backends, TestStore};

async fn login_sets_a_safe_cookie_and_logout_ends_the_session(store: TestStore) {
    let service = Service::start(store, test_settings()).await;

    let response = service.login_response(USER, PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = service.login(USER).await;
    let me: Value = service.get(&session, "/api/auth/me").await.json().await.unwrap();
    let logout = service
        .http
        .post(service.url("/api/auth/logout"))
        .headers(session.for_writes())
        .send()
        .await
        .unwrap();
    let after = service.get(&session, "/api/auth/me").await;

    assert!(cookie.starts_with("bugdash_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "Secure over plain HTTP: {cookie}");
    assert_eq!(me["account"]["email"], USER);
    assert_eq!(logout.status(), 204);
    assert_eq!(error_code(after).await, (401, "unauthorized".to_owned()));
}
both_backends!(login_sets_a_safe_cookie_and_logout_ends_the_session);

async fn a_token_works_until_its_session_is_revoked(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let session = service.login(USER).await;
    let token: Value = service
        .http
        .post(service.url("/api/auth/token"))
        .headers(session.for_writes())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = token["token"].as_str().expect("a token").to_owned();
    let bearer = |path: &str| service.http.get(service.url(path)).bearer_auth(&jwt).send();

    let before = bearer("/api/auth/me").await.unwrap().status();
    let sessions: Value = service.get(&session, "/api/auth/sessions").await.json().await.unwrap();
    let id = sessions["sessions"][0]["id"].as_i64().expect("a session id");
    let revoked = service
        .http
        .delete(service.url(&format!("/api/auth/sessions/{id}")))
        .headers(session.for_writes())
        .send()
        .await
        .unwrap();
    let after = bearer("/api/auth/me").await.unwrap();
    let forged = service.http.get(service.url("/api/auth/me")).bearer_auth("e30.e30.").send();

    assert_eq!(before, 200);
    assert_eq!(revoked.status(), 204);
    assert_eq!(error_code(after).await.0, 401);
    assert_eq!(error_code(forged.await.unwrap()).await.0, 401);
}
both_backends!(a_token_works_until_its_session_is_revoked);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_need_the_csrf_token_or_the_services_origin() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;
    let post = |headers| service.http.post(service.url("/api/auth/token")).headers(headers).send();

    let bare = post(session.cookie_only()).await.unwrap();
    let mut foreign = session.cookie_only();
    foreign.insert("origin", "https://evil.example".parse().unwrap());
    let foreign = post(foreign).await.unwrap();
    let mut own = session.cookie_only();
    own.insert("origin", service.base.parse().unwrap());
    let own = post(own).await.unwrap();
    let mut referer = session.cookie_only();
    referer.insert("referer", format!("{}/page", service.base).parse().unwrap());
    let referer = post(referer).await.unwrap();
    let with_token = post(session.for_writes()).await.unwrap();

    assert_eq!(error_code(bare).await, (403, "csrf_refused".to_owned()));
    assert_eq!(error_code(foreign).await, (403, "csrf_refused".to_owned()));
    let statuses = [own.status(), referer.status(), with_token.status()];
    assert_eq!(statuses.map(|s| s.as_u16()), [200, 200, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_refuse_users_with_403_and_strangers_with_401() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let user = service.login(USER).await;
    let admin = service.login(ADMIN).await;

    for path in ["/api/admin/users", "/api/admin/sync", "/api/system/status"] {
        let anonymous = service.http.get(service.url(path)).send().await.unwrap();
        assert_eq!(error_code(anonymous).await, (401, "unauthorized".to_owned()), "{path}");
        assert_eq!(error_code(service.get(&user, path).await).await.0, 403, "{path}");
        assert_eq!(service.get(&admin, path).await.status(), 200, "{path}");
    }
    let create = json!({"email": "new@example.com", "name": "New", "password": PASSWORD});
    let by_user = service
        .http
        .post(service.url("/api/admin/users"))
        .headers(user.for_writes())
        .json(&create)
        .send()
        .await
        .unwrap();
    let by_admin = service
        .http
        .post(service.url("/api/admin/users"))
        .headers(admin.for_writes())
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(by_user).await.0, 403);
    assert_eq!(by_admin.status(), 201);
}

async fn the_sixth_login_in_a_minute_gets_429_with_retry_after(store: TestStore) {
    let mut settings = test_settings();
    settings.limits.login_per_minute = 5;
    settings.limits.login_burst = 5;
    let service = Service::start(store, settings).await;

    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(service.login_response(USER, "wrong password 123").await.status().as_u16());
    }
    let sixth = service.login_response(USER, PASSWORD).await;
    let retry_after = sixth.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());

    assert_eq!(statuses, [401; 5]);
    assert_eq!(error_code(sixth).await, (429, "rate_limited".to_owned()));
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
}
both_backends!(the_sixth_login_in_a_minute_gets_429_with_retry_after);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_burst_beyond_the_quota_gets_429_with_retry_after() {
    let mut settings = test_settings();
    settings.limits.api_per_minute = 100;
    settings.limits.api_burst = 20;
    let service = Service::start(TestStore::sqlite().await, settings).await;
    let session = service.login(USER).await;

    let mut refused = None;
    for _ in 0..40 {
        let response = service.get(&session, "/api/auth/me").await;
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }

    let refused = refused.expect("a 429 within 40 requests");
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await.1, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_beyond_the_user_cap_get_503_with_retry_after_and_admins_still_get_in() {
    let mut settings = test_settings();
    // The admin signed in below takes one of the two places.
    settings.auth.max_concurrent_users = 2;
    let service = Service::start(TestStore::sqlite().await, settings).await;
    let create = json!({"email": "third@example.com", "name": "Third", "password": PASSWORD});
    let admin = service.login(ADMIN).await;
    service
        .http
        .post(service.url("/api/admin/users"))
        .headers(admin.for_writes())
        .json(&create)
        .send()
        .await
        .unwrap();

    let first = service.login_response(USER, PASSWORD).await.status();
    let second = service.login_response("third@example.com", PASSWORD).await;
    let retry_after = second.headers().contains_key("retry-after");
    let admin_again = service.login_response(ADMIN, PASSWORD).await.status();

    assert_eq!(first, 200);
    assert_eq!(error_code(second).await, (503, "capacity".to_owned()));
    assert!(retry_after);
    assert_eq!(admin_again, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let responses = [
        service.http.get(service.url("/healthz")).send().await.unwrap(),
        service.http.get(service.url("/no/such/route")).send().await.unwrap(),
        service.get(&session, "/api/projects").await,
    ];

    for response in responses {
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(headers.contains_key("referrer-policy") && headers.contains_key("x-request-id"));
        assert!(!headers.contains_key("strict-transport-security"), "HSTS over plain HTTP");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_4xx_in_the_error_shape() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;
    let login = service.url("/api/auth/login");
    let raw = |body: Vec<u8>| {
        service.http.post(&login).header("content-type", "application/json").body(body).send()
    };

    let bad_json = raw(b"{\"email\":".to_vec()).await.unwrap();
    let unknown = raw(br#"{"email":"a@b.c","password":"x","admin":true}"#.to_vec()).await.unwrap();
    // On a connection of its own: the service closes it after refusing the unread body,
    // and a pooled connection could otherwise carry the next request into that close.
    let huge = reqwest::Client::new()
        .post(&login)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let odd_key = service.get(&session, "/api/projects/..%2Fetc/analysis").await;
    let bad_option = service.get(&session, "/api/projects/ZOOKEEPER/analysis?window=x").await;
    let unknown_option = service.get(&session, "/api/projects/ZOOKEEPER/analysis?colour=1").await;
    let missing = service.get(&session, "/api/projects/NOPE/analysis").await;

    assert_eq!(error_code(bad_json).await.0, 400);
    assert_eq!(error_code(unknown).await.0, 400);
    assert_eq!(error_code(huge).await.0, 413);
    assert_eq!(error_code(odd_key).await.0, 400);
    assert_eq!(error_code(bad_option).await, (400, "invalid_parameter".to_owned()));
    assert_eq!(error_code(unknown_option).await, (400, "invalid_parameter".to_owned()));
    assert_eq!(error_code(missing).await, (404, "not_found".to_owned()));
}

/// Found by review: paging options out of range were clamped, offset with cursor and a
/// repeated option were settled silently, a huge key was echoed whole, and a client could
/// choose the request id quoted in errors and logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_options_are_refused_and_the_service_picks_its_own_request_ids() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;
    let issues = "/api/projects/ZOOKEEPER/issues";

    let zero = service.get(&session, &format!("{issues}?limit=0")).await;
    let too_many = service.get(&session, &format!("{issues}?limit=100000")).await;
    let both = service.get(&session, &format!("{issues}?offset=1&cursor=2")).await;
    let twice =
        service.get(&session, "/api/projects/ZOOKEEPER/analysis?window=all&window=30").await;
    let long_key = format!("/api/projects/{}/analysis", "K".repeat(5_000) + "-");
    let long = service.get(&session, &long_key).await;
    let chosen = service
        .http
        .get(service.url("/api/projects/NOPE/analysis"))
        .headers(session.cookie_only())
        .header("x-request-id", "<script>x")
        .send()
        .await
        .unwrap();

    for response in [zero, too_many, both, twice] {
        assert_eq!(error_code(response).await, (400, "invalid_parameter".to_owned()));
    }
    assert_eq!(long.status(), 400);
    assert!(long.text().await.unwrap().len() < 1_000, "the key is quoted short");
    let echoed = chosen.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let body: Value = chosen.json().await.unwrap();
    assert_ne!(echoed, "<script>x");
    assert_eq!(body["error"]["request_id"], echoed.as_str());
}
