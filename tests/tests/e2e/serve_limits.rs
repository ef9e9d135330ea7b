//! The service's own limits and settings faults: load shedding past the in-flight cap,
//! and a sync started without JIRA settings answered with the setting it needs.

use bugdash_http::ServiceLimits;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::serve_app::{error_code, test_settings, Service, ADMIN};
use crate::stores::TestStore;

/// A request held in flight: a login whose body never arrives in full.
async fn stalled_request(service: &Service) -> TcpStream {
    let address = service.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"email\":"
    );
    stream.write_all(head.as_bytes()).await.expect("send the head");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_in_flight_cap_requests_are_shed_with_503_and_retry_after() {
    let limits = ServiceLimits { max_in_flight: 1 };
    let service = Service::start_with(TestStore::sqlite().await, test_settings(), limits).await;
    let before = service.http.get(service.url("/healthz")).send().await.unwrap().status();
    let mut stalled = stalled_request(&service).await;

    // The stalled login holds the only place until its body ends; wait until it does.
    let mut shed = None;
    for _ in 0..1000 {
        let response = service.http.get(service.url("/healthz")).send().await.unwrap();
        if response.status() == 503 {
            shed = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let shed = shed.expect("a request shed while the place is taken");
    let retry_after = shed.headers().get("retry-after").cloned();
    let shed = error_code(shed).await;
    stalled.write_all(&[b' '; 91]).await.expect("the rest of the body");
    let mut answer = Vec::new();
    let _ = stalled.read_buf(&mut answer).await;
    drop(stalled);
    let after = service.http.get(service.url("/healthz")).send().await.unwrap().status();

    assert_eq!(before, 200);
    assert_eq!(shed, (503, "unavailable".to_owned()));
    assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("1"));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "the stalled login ends: {answer}");
    assert_eq!(after, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_without_jira_settings_names_the_setting_with_503_not_configured() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let admin = service.login(ADMIN).await;

    let response = service
        .http
        .post(service.url("/api/admin/projects/ZOOKEEPER/sync"))
        .headers(admin.for_writes())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();

    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "not_configured");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("JIRA_URL"), "{message}");
}
