//! The fake JIRA itself: that it serves what the real one would, so that client tests
//! against it mean something.

use bugdash_tests::fake_jira::{Dataset, FakeJira, Flavor};

#[tokio::test]
async fn cloud_search_without_fields_returns_only_ids_like_jira_cloud() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let url = format!("{}/rest/api/3/search/jql?jql=project%20%3D%20DRILL", fake.url());

    let page = get_json(&url).await;

    let issues = page["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 3);
    assert!(issues.iter().all(|issue| issue.as_object().unwrap().len() == 1));
    assert_eq!(page["isLast"], true);
    assert!(page.get("total").is_none());
}

#[tokio::test]
async fn data_center_search_caps_max_results_silently_and_counts_the_total() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let url = format!("{}/rest/api/2/search?jql=project%3DZOOKEEPER&maxResults=500", fake.url());

    let page = get_json(&url).await;

    assert_eq!(page["issues"].as_array().unwrap().len(), 50);
    assert_eq!((page["maxResults"].as_u64(), page["total"].as_u64()), (Some(50), Some(1827)));
}

/// A plain GET over a raw TCP connection, so that the fake is checked without the client
/// under test.
async fn get_json(url: &str) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).unwrap()
}
