//! The service when Redis fails: it keeps answering from PostgreSQL and the in-process
//! cache, rate limits keep holding (per instance, never unlimited), and the status says
//! the cache is degraded.
//!
//! One test stops a Redis of its own (a `redis-server` child on a free port) in the middle;
//! the other points the service at a port where nothing listens from the start.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bugdash::secret::Secret;
use serde_json::Value;

use crate::serve_app::{error_code, test_settings, Service, ADMIN, PASSWORD, USER};
use crate::stores::TestStore;

/// A port of 127.0.0.1 that nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A `redis-server` child without persistence, stopped when dropped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    async fn start() -> OwnRedis {
        let port = closed_port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (install Redis: apt-get install redis-server)");
        let redis = OwnRedis { child, port };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server on port {port} did not start listening");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn cache_status(service: &Service, admin: &crate::serve_app::Session) -> Value {
    let status: Value = service.get(admin, "/api/system/status").await.json().await.unwrap();
    status["cache"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_test_leaves_logins_working_and_limits_holding() {
    let mut redis = OwnRedis::start().await;
    let mut settings = test_settings();
    settings.cache.redis_url = Some(Secret::new(redis.url()));
    settings.limits.api_per_minute = 1;
    settings.limits.api_burst = 4;
    let service = Service::start(TestStore::postgres().await, settings).await;
    let admin = service.login(ADMIN).await;
    let healthy = cache_status(&service, &admin).await;

    redis.stop();
    let user = service.login(USER).await;
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(service.get(&user, "/api/projects").await.status().as_u16());
    }
    let degraded = cache_status(&service, &admin).await;

    assert_eq!(healthy["backend"], "redis");
    assert_eq!(healthy["degraded"], false, "{healthy}");
    assert_eq!(&answers[..4], [200; 4], "{answers:?}");
    assert_eq!(&answers[4..], [429; 2], "limits hold without Redis: {answers:?}");
    assert_eq!(degraded["degraded"], true, "{degraded}");
    assert!(degraded["last_error"].is_string(), "{degraded}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_from_the_start_keeps_the_api_and_the_login_limit() {
    let mut settings = test_settings();
    settings.cache.redis_url = Some(Secret::new(format!("redis://127.0.0.1:{}", closed_port())));
    settings.limits.login_per_minute = 1;
    settings.limits.login_burst = 3;
    let service = Service::start(TestStore::postgres().await, settings).await;

    let admin = service.login(ADMIN).await;
    let projects = service.get(&admin, "/api/projects").await.status().as_u16();
    let analysis = service.get(&admin, "/api/projects/ZOOKEEPER/analysis?window=all").await;
    let analysis = analysis.status().as_u16();
    let status = cache_status(&service, &admin).await;
    let mut logins = Vec::new();
    for _ in 0..2 {
        logins.push(service.login_response(USER, "wrong password 123").await.status().as_u16());
    }
    let over = service.login_response(USER, PASSWORD).await;

    assert_eq!((projects, analysis), (200, 200));
    assert_eq!(status["backend"], "redis");
    assert_eq!(status["degraded"], true, "{status}");
    assert_eq!(logins, [401, 401]);
    assert_eq!(error_code(over).await, (429, "rate_limited".to_owned()));
}
