//! A `bugdash serve` service for one test: the real app on a free port of 127.0.0.1, over a
//! store of either backend holding the ZooKeeper bugs, with an admin and a user.
//!
//! SQLite runs with the in-process cache; PostgreSQL with Redis on 127.0.0.1:6379, keys
//! under a prefix of the test's own so that tests sharing the Redis never share limits.

use std::net::SocketAddr;
use std::sync::Arc;

use bugdash::auth::{Auth, NewAccount, Role};
use bugdash::config::Settings;
use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::dedupe_issues;
use bugdash::secret::Secret;
use bugdash_http::{app_with, AppState, ServiceLimits};
use bugdash_tests::fake_jira::zookeeper_files;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use crate::stores::TestStore;

/// The password of both test accounts.
pub const PASSWORD: &str = "correct horse battery staple 7";
/// The admin's email.
pub const ADMIN: &str = "ada@example.com";
/// The user's email.
pub const USER: &str = "grace@example.com";

/// A running service.
pub struct Service {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store it serves, and its URL for a child `bugdash`.
    pub store: Arc<TestStore>,
    /// A client that keeps no cookies by itself (tests send them explicitly).
    pub http: reqwest::Client,
    /// The instance's accounts and sessions, as the app holds them.
    pub auth: Auth,
    /// The settings it runs with.
    pub settings: Arc<Settings>,
    /// Its Redis key prefix, which a second instance shares.
    prefix: String,
    /// The service's own limits.
    limits: ServiceLimits,
}

/// Settings for a test: generous limits unless the test sets its own.
pub fn test_settings() -> Settings {
    let mut settings = Settings::from_sources(None, None, &|_| None).expect("default settings");
    settings.limits.login_per_minute = 10_000;
    settings.limits.login_burst = 10_000;
    settings.limits.api_per_minute = 100_000;
    settings.limits.api_burst = 100_000;
    settings
}

impl Service {
    /// Starts the service over `store` with `settings`, filled with the ZooKeeper bugs.
    pub async fn start(store: TestStore, settings: Settings) -> Service {
        Service::start_with(store, settings, ServiceLimits::default()).await
    }

    /// As [`Service::start`], with the service's own limits.
    pub async fn start_with(
        store: TestStore,
        mut settings: Settings,
        limits: ServiceLimits,
    ) -> Service {
        settings.database.url = Some(Secret::new(store.url.clone()));
        if store.url.starts_with("postgres") && settings.cache.redis_url.is_none() {
            settings.cache.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
        }
        load_zookeeper(&store).await;
        let prefix = format!("bugdash-test:{}:{}:", std::process::id(), unique());
        let store = Arc::new(store);
        let service = Service::instance(Arc::clone(&store), settings, &prefix, limits).await;
        for (email, role) in [(ADMIN, Role::Admin), (USER, Role::User)] {
            let account = NewAccount {
                email: email.into(),
                name: email.split('@').next().unwrap_or("x").into(),
                department: Some("Platform".into()),
                role,
                password: Secret::new(PASSWORD),
            };
            service.auth.create_account(account).await.expect("account created");
        }
        service
    }

    /// A second instance of the same service: a store of its own on the same database,
    /// its own accounts and sessions, and a cache on the same Redis keys.
    pub async fn another_instance(&self) -> Service {
        let settings = (*self.settings).clone();
        Service::instance(Arc::clone(&self.store), settings, &self.prefix, self.limits).await
    }

    async fn instance(
        store: Arc<TestStore>,
        settings: Settings,
        prefix: &str,
        limits: ServiceLimits,
    ) -> Service {
        let own = bugdash::store::open(&store.url).await.expect("open the store again");
        let cache = bugdash::cache::open_with_prefix(&settings.cache, prefix).await.expect("cache");
        let auth =
            Auth::new(Arc::clone(&own), Arc::clone(&cache), &settings).await.expect("auth starts");
        let state = AppState::from_parts(own, auth.clone(), cache, settings.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let service = app_with(state, limits).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        let http = reqwest::Client::builder().build().expect("client");
        Service {
            limits,
            base: format!("http://{address}"),
            store,
            http,
            auth,
            settings: Arc::new(settings),
            prefix: prefix.to_owned(),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in and returns the session: cookie header and CSRF token.
    pub async fn login(&self, email: &str) -> Session {
        let response = self.login_response(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "login of {email}");
        let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
        let body: Value = response.json().await.expect("JSON");
        let pair = cookie.split(';').next().expect("name=value").to_owned();
        Session { cookie: pair, csrf: body["csrf_token"].as_str().expect("csrf").to_owned() }
    }

    /// The raw answer to a login.
    pub async fn login_response(&self, email: &str, password: &str) -> reqwest::Response {
        let body = serde_json::json!({"email": email, "password": password});
        self.http.post(self.url("/api/auth/login")).json(&body).send().await.expect("login sent")
    }

    /// A GET with the session's cookie.
    pub async fn get(&self, session: &Session, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).headers(session.cookie_only()).send().await.expect("sent")
    }
}

/// A signed-in browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// `bugdash_session=…`.
    pub cookie: String,
    /// The CSRF token given at login.
    pub csrf: String,
}

impl Session {
    /// Only the cookie.
    pub fn cookie_only(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_str(&self.cookie).expect("cookie"));
        headers
    }

    /// The cookie and the CSRF token, as the page sends writes.
    pub fn for_writes(&self) -> HeaderMap {
        let mut headers = self.cookie_only();
        headers.insert("x-csrf-token", HeaderValue::from_str(&self.csrf).expect("token"));
        headers
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos) * 1000 + NEXT.fetch_add(1, Ordering::SeqCst)
}

async fn load_zookeeper(store: &TestStore) {
    let mut issues = Vec::new();
    for file in zookeeper_files() {
        issues.extend(read_path(&file, &ReadOptions::default()).expect("example file reads"));
    }
    let (issues, _) = dedupe_issues(issues);
    store.store().upsert_issues(&issues).await.expect("issues stored");
}

/// Asserts the error shape and returns the code.
pub async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("an error body in JSON");
    let error = &body["error"];
    assert!(error["message"].is_string() && error["request_id"].is_string(), "{body}");
    (status, error["code"].as_str().expect("a code").to_owned())
}
