//! The JIRA client's ordinary work against the fake: paging in both dialects, the
//! fields it names, whole changelogs, auth headers, the in-flight bound and call counts.

use std::collections::BTreeSet;
use std::time::Duration;

use bugdash::jira::client::{
    updated_since_jql, Cursor, Deployment, JiraAuth, JiraConfig, SEARCH_FIELDS,
};
use bugdash::model::HistorySource;
use bugdash::secret::Secret;
use bugdash::Timestamp;
use bugdash_tests::fake_jira::{Dataset, FakeJira, FieldList, Flavor};

use crate::common::{
    build, client, config, source_ids, source_keys_in_search_order, ZOOKEEPER_JQL,
};

#[tokio::test]
async fn cloud_search_reads_every_zookeeper_issue_once_by_token() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);

    let issues = client.search_all(ZOOKEEPER_JQL).await.unwrap();

    let ids: Vec<u64> = issues.iter().map(|issue| issue.id.unwrap()).collect();
    assert_eq!(ids.len(), 1827);
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), source_ids());
    let keys: Vec<&str> = issues.iter().map(|issue| issue.key.as_ref()).collect();
    assert_eq!(keys, source_keys_in_search_order());
    assert_eq!(client.stats().count("/rest/api/3/search/jql", 200), 19);
}

#[tokio::test]
async fn cloud_requests_name_their_fields_and_ask_for_the_changelog() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);

    let page = client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

    let request = &fake.requests_to("/rest/api/3/search/jql")[0];
    let named = request.param("fields").unwrap();
    let named: Vec<&str> = named.split(',').collect();
    for field in ["summary", "status", "issuetype", "priority", "resolution", "created"] {
        assert!(named.contains(&field), "{field} missing from {named:?}");
    }
    for field in SEARCH_FIELDS {
        assert!(named.contains(field), "{field} missing from {named:?}");
    }
    assert_eq!(request.param("expand").as_deref(), Some("changelog"));
    // Fields came back because they were named: ZOOKEEPER's first page is all Bugs.
    assert!(page.issues.iter().all(|issue| issue.issue_type.as_str() == "Bug"));
    assert!(page.issues.iter().all(|issue| issue.created.is_some()));
}

#[tokio::test]
async fn data_center_paging_follows_the_silent_cap_without_skips_or_repeats() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    fake.set_page_cap(50);
    let client = client(&fake, Deployment::DataCenter);

    let issues = client.search_all(ZOOKEEPER_JQL).await.unwrap();

    let ids: Vec<u64> = issues.iter().map(|issue| issue.id.unwrap()).collect();
    assert_eq!(ids.len(), 1827);
    assert_eq!(ids.iter().copied().collect::<BTreeSet<_>>(), source_ids());
    let requests = fake.requests_to("/rest/api/2/search");
    assert!(requests.iter().all(|request| request.param("maxResults").as_deref() == Some("100")));
    let starts: Vec<u64> =
        requests.iter().map(|request| request.param("startAt").unwrap().parse().unwrap()).collect();
    assert_eq!(starts, (0..37).map(|page| page * 50).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_data_center_page_reports_total_and_the_next_offset_by_issues_returned() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    fake.set_page_cap(30);
    let client = client(&fake, Deployment::DataCenter);

    let page = client.search_page(ZOOKEEPER_JQL, &Cursor::Offset(1800)).await.unwrap();

    assert_eq!((page.issues.len(), page.total), (27, Some(1827)));
    assert_eq!(page.next, None);
    let first = client.search_page(ZOOKEEPER_JQL, &Cursor::Offset(0)).await.unwrap();
    assert_eq!(first.next, Some(Cursor::Offset(30)));
}

#[tokio::test]
async fn updated_since_jql_selects_issues_changed_at_or_after_the_watermark() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    // 2018-01-01T00:05:00Z with a five-minute overlap: everything since New Year.
    let watermark = Timestamp::from_millis(1_514_765_100_000);
    let jql = updated_since_jql("ZOOKEEPER", watermark, Duration::from_secs(300));

    let issues = client.search_all(&jql).await.unwrap();

    assert_eq!(
        jql,
        r#"project = "ZOOKEEPER" AND updated >= 1514764800000 ORDER BY updated ASC, id ASC"#
    );
    assert_eq!(issues.len(), 332);
    assert_eq!(issues.first().unwrap().key.as_str(), "ZOOKEEPER-984");
    assert_eq!(issues.last().unwrap().key.as_str(), "ZOOKEEPER-3218");
}

#[tokio::test]
async fn census_lists_every_id_in_both_dialects() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let fake = FakeJira::start(Dataset::apache(flavor)).await;
        let deployment = match flavor {
            Flavor::Cloud => Deployment::Cloud,
            Flavor::DataCenter => Deployment::DataCenter,
        };
        let client = client(&fake, deployment);

        let ids = client.search_ids(ZOOKEEPER_JQL).await.unwrap();

        assert_eq!(ids.len(), 1827, "{flavor:?}");
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), source_ids(), "{flavor:?}");
        let searches = fake.requests().into_iter().filter(|r| r.path.contains("/search"));
        assert!(searches.into_iter().all(|r| r.param("fields").as_deref() == Some("id")));
    }
}

#[tokio::test]
async fn data_center_census_reads_id_pages_side_by_side_under_a_silent_cap() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    fake.set_page_cap(100);
    fake.set_page_latency(Duration::from_millis(30));
    let client = client(&fake, Deployment::DataCenter);

    let ids = client.search_ids(ZOOKEEPER_JQL).await.unwrap();

    assert_eq!(ids.len(), 1827);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), source_ids());
    // The first page shows the cap of 100; the other 18 offsets follow it.
    let mut starts: Vec<u64> = fake
        .requests_to("/rest/api/2/search")
        .iter()
        .map(|request| request.param("startAt").unwrap().parse().unwrap())
        .collect();
    starts.sort_unstable();
    assert_eq!(starts, (0..19).map(|page| page * 100).collect::<Vec<u64>>());
    assert_eq!(fake.max_in_flight(), 4, "the default in-flight bound");
}

#[tokio::test]
async fn a_configured_time_in_status_field_brings_reopen_counts_from_a_list_without_it() {
    // The recorded Apache field list lacks "Time in Status", as issues.apache.org's does.
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let discovered = client(&fake, Deployment::Cloud);
    let mut settings = config(&fake, Deployment::Cloud);
    settings.time_in_status_field = Some("customfield_12310222".to_owned());
    let configured = build(settings);

    let without = discovered.search_all(ZOOKEEPER_JQL).await.unwrap();
    let with = configured.search_all(ZOOKEEPER_JQL).await.unwrap();

    let reopened = |issues: &[bugdash::Issue]| {
        issues.iter().filter_map(|issue| issue.reopen_count).filter(|n| *n > 0).count()
    };
    assert_eq!(reopened(&without), 0, "no field asked for, no reopen counts");
    let source = crate::source::source_issues(&fake, "ZOOKEEPER");
    assert_eq!(reopened(&with), reopened(&source));
    assert!(reopened(&source) > 0);
    let asked = fake.requests_to("/rest/api/3/search/jql").last().unwrap().param("fields");
    assert!(asked.unwrap().split(',').any(|field| field == "customfield_12310222"));
}

/// DRILL-138's whole changelog, as written in the fixture: five status transitions, one
/// of them a reopen (Resolved → Reopened).
const DRILL_138_TRANSITIONS: [(&str, &str, &str); 5] = [
    ("2013-07-03T00:20:00.000Z", "Open", "In Progress"),
    ("2013-08-01T10:00:00.000Z", "In Progress", "Resolved"),
    ("2013-09-01T10:00:00.000Z", "Resolved", "Reopened"),
    ("2016-08-13T17:29:13.718Z", "Reopened", "Resolved"),
    ("2016-08-20T10:00:00.000Z", "Resolved", "Closed"),
];

pub fn assert_whole_drill_138(issue: &bugdash::Issue) {
    let transitions: Vec<(String, &str, &str)> = issue
        .status_history
        .iter()
        .map(|change| (change.at.to_string(), change.from.as_deref().unwrap(), change.to.as_ref()))
        .collect();
    let expected: Vec<(String, &str, &str)> =
        DRILL_138_TRANSITIONS.iter().map(|(at, from, to)| (at.to_string(), *from, *to)).collect();
    assert_eq!(transitions, expected);
    assert_eq!(issue.reopen_count, Some(1));
    assert!(issue.history_complete);
    assert_eq!(issue.history_source, HistorySource::Changelog);
}

#[tokio::test]
async fn cut_off_changelog_of_drill_138_is_completed_from_the_paged_changelog_on_cloud() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    fake.set_changelog_page_cap(3);
    let client = client(&fake, Deployment::Cloud);

    let issues = client.search_all(r#"project = "DRILL""#).await.unwrap();

    let drill_138 = issues.iter().find(|issue| issue.key.as_str() == "DRILL-138").unwrap();
    assert_whole_drill_138(drill_138);
    let pages = fake.requests_to("/rest/api/2/issue/12655939/changelog");
    let starts: Vec<String> = pages.iter().map(|r| r.param("startAt").unwrap()).collect();
    assert_eq!(starts, ["0", "3", "6"]);
    // DRILL-1 and DRILL-38 carried whole changelogs: nothing more was fetched for them.
    assert_eq!(fake.requests().iter().filter(|r| r.path.ends_with("/changelog")).count(), 3);
}

#[tokio::test]
async fn cut_off_changelog_of_drill_138_is_completed_from_the_issue_on_data_center() {
    let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let client = client(&fake, Deployment::DataCenter);

    let issues = client.search_all(r#"project = "DRILL""#).await.unwrap();

    let drill_138 = issues.iter().find(|issue| issue.key.as_str() == "DRILL-138").unwrap();
    assert_whole_drill_138(drill_138);
    let fetched = fake.requests_to("/rest/api/2/issue/DRILL-138");
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].param("expand").as_deref(), Some("changelog"));
}

#[tokio::test]
async fn one_issue_is_read_whole_and_a_deleted_one_is_none() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    fake.set_changelog_page_cap(5);
    let client = client(&fake, Deployment::Cloud);

    let drill_138 = client.issue("DRILL-138").await.unwrap().unwrap();
    assert!(fake.delete_issue("ZOOKEEPER-8"));
    let gone = client.issue("ZOOKEEPER-8").await.unwrap();

    assert_whole_drill_138(&drill_138);
    assert!(gone.is_none());
    assert_eq!(client.stats().count("/rest/api/2/issue/{key}", 404), 1);
}

#[tokio::test]
async fn auth_header_is_basic_for_an_api_token_and_bearer_for_a_personal_access_token() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let basic = client(&fake, Deployment::Cloud);
    let mut bearer = config(&fake, Deployment::Cloud);
    bearer.auth = JiraAuth::Bearer { token: Secret::new("pat-456") };
    let bearer = build(bearer);

    basic.fields().await.unwrap();
    bearer.fields().await.unwrap();

    let sent: Vec<Option<String>> =
        fake.requests_to("/rest/api/2/field").into_iter().map(|r| r.authorization).collect();
    // base64("person@example.com:api-token-123"), computed outside the code under test.
    let basic_header = "Basic cGVyc29uQGV4YW1wbGUuY29tOmFwaS10b2tlbi0xMjM=";
    assert_eq!(sent, [Some(basic_header.to_owned()), Some("Bearer pat-456".to_owned())]);
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_configured_bound() {
    for bound in [1usize, 3] {
        let fake = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
        fake.set_page_latency(Duration::from_millis(60));
        let mut settings = config(&fake, Deployment::DataCenter);
        settings.max_in_flight = bound;
        let client = build(settings);
        client.fields().await.unwrap();

        let mut tasks = tokio::task::JoinSet::new();
        for page in 0..8u64 {
            let client = client.clone();
            tasks.spawn(async move {
                client
                    .search_page(ZOOKEEPER_JQL, &Cursor::Offset(page * 50))
                    .await
                    .map(|p| p.issues.len())
            });
        }
        let mut read = 0;
        while let Some(done) = tasks.join_next().await {
            read += done.unwrap().unwrap();
        }

        assert_eq!(read, 8 * 50);
        assert_eq!(fake.max_in_flight(), bound, "bound {bound}");
    }
}

#[tokio::test]
async fn deployment_is_read_once_from_server_info() {
    let cloud = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let server = FakeJira::start(Dataset::apache(Flavor::DataCenter)).await;
    let ask_cloud =
        build(JiraConfig { deployment: None, ..config(&cloud, Deployment::DataCenter) });
    let ask_server = build(JiraConfig { deployment: None, ..config(&server, Deployment::Cloud) });

    assert_eq!(ask_cloud.deployment().await.unwrap(), Deployment::Cloud);
    assert_eq!(ask_cloud.deployment().await.unwrap(), Deployment::Cloud);
    assert_eq!(ask_server.deployment().await.unwrap(), Deployment::DataCenter);
    assert_eq!(ask_server.first_cursor().await.unwrap(), Cursor::Offset(0));

    assert_eq!(cloud.requests_to("/rest/api/2/serverInfo").len(), 1);
    assert_eq!(server.requests_to("/rest/api/2/serverInfo").len(), 1);
}

#[tokio::test]
async fn environment_field_can_be_overridden_by_name_on_a_field_list_without_keys() {
    let dataset = Dataset::apache(Flavor::Cloud).with_field_list(FieldList::Fiware);
    let fake = FakeJira::start(dataset).await;
    let discovered = client(&fake, Deployment::Cloud);
    let mut settings = config(&fake, Deployment::Cloud);
    settings.environment_field = Some("fi-ware environment".to_owned());
    let overridden = build(settings);

    let found = discovered.fields().await.unwrap();
    let chosen = overridden.fields().await.unwrap();
    overridden.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();

    assert_eq!(found.fields.len(), 44);
    assert_eq!(found.environment.as_deref(), Some("environment"));
    assert_eq!(chosen.environment.as_deref(), Some("customfield_10108"));
    let named = fake.requests_to("/rest/api/3/search/jql")[0].param("fields").unwrap();
    assert!(named.split(',').any(|field| field == "customfield_10108"), "{named}");
}

#[tokio::test]
async fn moved_issue_keeps_its_id_and_comes_back_under_its_new_key() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    let since = Timestamp::from_millis(1_600_000_000_000);
    let jql = updated_since_jql("ZOOKEEPER", since, Duration::ZERO);
    assert!(client.search_all(&jql).await.unwrap().is_empty());

    assert!(fake.move_issue(
        "ZOOKEEPER-8",
        "ZOOKEEPER-9999",
        "ZOOKEEPER",
        "2021-03-04T05:06:07.000+0000"
    ));
    let changed = client.search_all(&jql).await.unwrap();

    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].key.as_str(), "ZOOKEEPER-9999");
    assert_eq!(changed[0].id, Some(12_397_966));
}

#[tokio::test]
async fn calls_are_counted_by_endpoint_template_and_status() {
    let fake = FakeJira::start(Dataset::apache(Flavor::Cloud)).await;
    let client = client(&fake, Deployment::Cloud);
    fake.inject(
        bugdash_tests::fake_jira::Fault::RateLimited { retry_after: None, html_body: true },
        1,
    );

    client.search_page(ZOOKEEPER_JQL, &Cursor::Token(None)).await.unwrap();
    client.issue("ZOOKEEPER-2").await.unwrap();

    let stats = client.stats();
    assert_eq!(stats.count("/rest/api/2/field", 200), 1);
    assert_eq!(stats.count("/rest/api/3/search/jql", 429), 1);
    assert_eq!(stats.count("/rest/api/3/search/jql", 200), 1);
    assert_eq!(stats.count("/rest/api/2/issue/{key}", 200), 1);
    assert_eq!((stats.total(), stats.retries), (4, 1));
}
