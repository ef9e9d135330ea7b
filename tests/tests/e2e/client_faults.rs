//! Each fault the fake injects, against the client: what it retries, what it waits, and
//! what it refuses with which words.

use std::time::Duration;

use bugdash::jira::client::{
    Cursor, Deployment, JiraAuth, JiraError, RetryPolicy, MIN_RATE_LIMIT_WAIT,
};
use bugdash::secret::Secret;
use bugdash::Error;
use bugdash_tests::fake_jira::{BodyForm, Dataset, FakeJira, Fault, Flavor};

use crate::common::{build, client, config, source_keys_in_search_order, ZOOKEEPER_JQL};

const CLOUD_SEARCH: &str = "/rest/api/3/search/jql";

fn jira_error(error: Error) -> JiraError {
    match error {
        Error::Jira(error) => error,
        other => panic!("expected a JIRA error, got {other:?}"),
    }
}

fn statuses(fake: &FakeJira, path: &str) -> Vec<u16> {
    fake.requests_to(path).iter().map(|request| request.status).collect()
}

#[tokio::test]
async fn rate_limit_with_retry_after_zero_absent_or_an_html_page_is_waited_out() {
    let variants = [
        Fault::RateLimited { retry_after: Some("0".into()), html_body: false },
        Fault::RateLimited { retry_after: None, html_body: false },
        Fault::RateLimited { retry_after: Some("0".into()), html_body: true },
        Fault::RateLimited { retry_after: None, html_body: true },
    ];
    for fault in variants {
        let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
        let client = client(&fake, Deployment::Cloud);
        fake.inject(fault.clone(), 2);

        let page = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

        assert_eq!(page.issues.len(), 100, "{fault:?}");
        assert_eq!(statuses(&fake, CLOUD_SEARCH), [429, 429, 200], "{fault:?}");
        assert_eq!(client.stats().retries, 2, "{fault:?}");
    }
}

#[tokio::test]
async fn retry_after_zero_still_waits_at_least_one_second() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let mut settings = config(&fake, Deployment::Cloud);
    settings.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_secs(5),
        rate_limit_floor: MIN_RATE_LIMIT_WAIT,
    };
    let client = build(settings);
    fake.inject(Fault::RateLimited { retry_after: Some("0".into()), html_body: true }, 1);

    client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

    let searches = fake.requests_to(CLOUD_SEARCH);
    let waited = searches[1].started - searches[0].finished;
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test]
async fn service_unavailable_is_retried_until_jira_answers() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let client = client(&fake, Deployment::DataCenter);
    fake.inject(Fault::Unavailable, 2);

    let page = client.search_page(ZOOKEEPER_JQL, &Cursor::Offset(0)).await.unwrap();

    assert_eq!(page.issues.len(), 50);
    assert_eq!(statuses(&fake, "/rest/api/2/search"), [503, 503, 200]);
}

#[tokio::test]
async fn rate_limit_that_never_ends_is_reported_after_the_last_attempt() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    fake.inject(Fault::RateLimited { retry_after: Some("0".into()), html_body: true }, 10);

    let error = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap_err();

    assert_eq!(
        jira_error(error),
        JiraError::RateLimited { endpoint: CLOUD_SEARCH.to_owned(), attempts: 4 }
    );
    assert_eq!(fake.requests_to(CLOUD_SEARCH).len(), 4);
}

#[tokio::test]
async fn truncated_body_is_asked_for_again_at_the_same_cursor() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    let first = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();
    fake.inject(Fault::TruncatedBody, 1);

    let second = client.search_page(ZOOKEEPER_JQL, first.next.as_ref().unwrap()).await.unwrap();

    let searches = fake.requests_to(CLOUD_SEARCH);
    assert_eq!(searches.len(), 3);
    let Some(Cursor::Token(Some(token))) = &first.next else { panic!("no token") };
    assert_eq!(searches[1].param("nextPageToken").as_ref(), Some(token));
    assert_eq!(searches[2].param("nextPageToken").as_ref(), Some(token));
    let keys: Vec<&str> = second.issues.iter().map(|issue| issue.key.as_ref()).collect();
    assert_eq!(keys, source_keys_in_search_order()[100..200]);
}

#[tokio::test]
async fn html_page_with_status_200_is_retried_then_reported_as_a_bad_response() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let client = client(&fake, Deployment::DataCenter);
    fake.inject(Fault::HtmlOk, 10);

    let error =
        jira_error(client.search_page(ZOOKEEPER_JQL, &Cursor::Offset(0)).await.unwrap_err());

    let JiraError::BadResponse { endpoint, detail } = &error else { panic!("{error:?}") };
    assert_eq!(endpoint, "/rest/api/2/search");
    assert!(detail.contains("not a search page"), "{detail}");
    assert_eq!(statuses(&fake, "/rest/api/2/search"), [200, 200, 200, 200]);
}

#[tokio::test]
async fn html_page_once_then_a_real_page_reads_the_real_page() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    fake.inject(Fault::HtmlOk, 1);

    let page = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

    assert_eq!(page.issues.len(), 100);
    assert_eq!(fake.requests_to(CLOUD_SEARCH).len(), 2);
}

#[tokio::test]
async fn slow_answer_within_the_timeout_is_waited_for_and_one_beyond_it_is_retried() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let mut settings = config(&fake, Deployment::Cloud);
    settings.request_timeout = Duration::from_millis(700);
    let client = build(settings);
    client.fields().await.unwrap();
    fake.inject(Fault::Slow(Duration::from_millis(300)), 1);

    let slow = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();
    fake.inject(Fault::Slow(Duration::from_secs(2)), 1);
    let late = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

    assert_eq!((slow.issues.len(), late.issues.len()), (100, 100));
    let stats = client.stats();
    assert_eq!(stats.count(CLOUD_SEARCH, 200), 2);
    assert_eq!(stats.endpoint_total(CLOUD_SEARCH), 3);
    assert_eq!(stats.retries, 1);
}

#[tokio::test]
async fn removed_search_is_a_configuration_error_never_an_empty_result() {
    // A Cloud site searched the Data Center way, and a server where the search was removed.
    let cloud = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let server = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    server.inject(Fault::Gone, 1);
    for fake in [&cloud, &server] {
        let client = client(fake, Deployment::DataCenter);

        let error =
            jira_error(client.search_page(ZOOKEEPER_JQL, &Cursor::Offset(0)).await.unwrap_err());

        assert!(error.is_configuration());
        let JiraError::Gone { endpoint, message, .. } = &error else { panic!("{error:?}") };
        assert_eq!(endpoint, "/rest/api/2/search");
        assert!(message.starts_with("The requested API has been removed."), "{message}");
        assert!(error.to_string().contains("/rest/api/3/search/jql"), "{error}");
        assert_eq!(statuses(fake, "/rest/api/2/search"), [410]);
    }
}

#[tokio::test]
async fn unauthorized_names_the_scheme_and_jiras_message_in_text_json_and_xml() {
    let expected = [
        (
            BodyForm::Text,
            "Basic authentication with passwords is deprecated. For more information, see: \
             https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/",
        ),
        (BodyForm::Json, "Client must be authenticated to access this resource."),
        (BodyForm::Xml, "Client must be authenticated to access this resource."),
    ];
    for (form, message) in expected {
        let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
        let client = client(&fake, Deployment::Cloud);
        fake.inject_at("/rest/api/2/field", Fault::Unauthorized(form), 1);

        let error = client.fields().await.unwrap_err();

        assert_eq!(
            error.to_string(),
            format!("JIRA refused Basic auth for person@example.com (HTTP 401): {message}")
        );
        assert_eq!(fake.requests().len(), 1, "a refusal is not retried");
    }
}

#[tokio::test]
async fn bearer_refusal_names_the_bearer_scheme() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let mut settings = config(&fake, Deployment::DataCenter);
    settings.auth = JiraAuth::Bearer { token: Secret::new("pat-456") };
    let client = build(settings);
    fake.inject_at("/rest/api/2/field", Fault::Unauthorized(BodyForm::Xml), 1);

    let error = client.fields().await.unwrap_err().to_string();

    assert_eq!(
        error,
        "JIRA refused Bearer auth (HTTP 401): Client must be authenticated to access this resource."
    );
    assert!(!error.contains("pat-456"));
}

#[tokio::test]
async fn captcha_challenge_and_anonymous_200_are_refusals_too() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let client = client(&fake, Deployment::DataCenter);
    fake.inject_at("/rest/api/2/field", Fault::Captcha, 1);
    let captcha = jira_error(client.fields().await.unwrap_err());
    let other = crate::common::client(&fake, Deployment::DataCenter);
    fake.inject_at("/rest/api/2/field", Fault::LoginDenied, 1);
    let denied = jira_error(other.fields().await.unwrap_err());

    let JiraError::Unauthorized { scheme, status, message, .. } = &captcha else { panic!() };
    assert_eq!((scheme.as_str(), *status), ("Basic", 403));
    assert!(message.contains("CAPTCHA_CHALLENGE"), "{message}");
    let JiraError::Unauthorized { status, message, .. } = &denied else { panic!() };
    assert_eq!(*status, 200);
    assert!(message.contains("AUTHENTICATION_DENIED"), "{message}");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn repeated_next_page_token_is_an_error_not_a_loop() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    fake.inject(Fault::RepeatedToken, 1);

    let error = jira_error(client.search_all(ZOOKEEPER_JQL).await.unwrap_err());

    let JiraError::BadResponse { detail, .. } = &error else { panic!("{error:?}") };
    assert!(detail.contains("same nextPageToken"), "{detail}");
    assert_eq!(fake.requests_to(CLOUD_SEARCH).len(), 2);
}

#[tokio::test]
async fn empty_page_that_claims_more_is_asked_once_more_then_refused() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    fake.inject(Fault::EmptyPageNotLast, 1);
    let recovered = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();
    fake.clear_log().await;
    fake.inject(Fault::EmptyPageNotLast, 2);

    let error =
        jira_error(client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap_err());

    assert_eq!(recovered.issues.len(), 100);
    let JiraError::BadResponse { detail, .. } = &error else { panic!("{error:?}") };
    assert!(detail.contains("empty page"), "{detail}");
    assert_eq!(fake.requests_to(CLOUD_SEARCH).len(), 2);
}

#[tokio::test]
async fn refused_jql_is_not_retried() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);

    let error = jira_error(
        client.search_page("assignee = currentUser()", &Cursor::Token(None)).await.unwrap_err(),
    );

    let JiraError::BadRequest { status, .. } = error else { panic!("{error:?}") };
    assert_eq!(status, 400);
    assert_eq!(fake.requests_to(CLOUD_SEARCH).len(), 1);
}
