//! Tests of the JIRA REST JSON reader against real recorded responses (see
//! `tests/fixtures/jira/SOURCES.md`) and the ZooKeeper example data.
//!
//! Expected values were read from the raw files with a separate Python script, not from
//! this reader's output.

use std::collections::BTreeMap;

use bugdash::jira::json::{read_issue_json, read_json};
use bugdash::jira::{adf, read_bytes, read_path, ReadOptions};
use bugdash::model::HistorySource;
use bugdash::{Error, Issue, Position, StatusCategory, Timestamp};

use crate::common::{example, fixture};

fn read_fixture(relative: &str) -> Vec<Issue> {
    let path = fixture(&format!("jira/{relative}"));
    read_path(&path, &ReadOptions::default())
        .unwrap_or_else(|fault| panic!("{relative} should read: {fault}"))
}

fn zookeeper() -> Vec<Issue> {
    (1..=3)
        .flat_map(|part| {
            let path = example(&format!("zookeeper/ZOOKEEPER-bugs-part{part}-of-3.json"));
            read_path(&path, &ReadOptions::default()).expect("ZooKeeper example should read")
        })
        .collect()
}

fn zookeeper_part3_bytes() -> Vec<u8> {
    std::fs::read(example("zookeeper/ZOOKEEPER-bugs-part3-of-3.json")).expect("example exists")
}

fn utc(at: Option<Timestamp>) -> String {
    at.map(|at| at.to_string()).unwrap_or_default()
}

fn texts(list: &[bugdash::model::Text]) -> Vec<&str> {
    list.iter().map(AsRef::as_ref).collect()
}

fn count_by<'a>(
    issues: &'a [Issue],
    by: impl Fn(&'a Issue) -> &'a str,
) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for issue in issues {
        *counts.entry(by(issue)).or_default() += 1;
    }
    counts
}

fn find<'a>(issues: &'a [Issue], key: &str) -> &'a Issue {
    issues.iter().find(|issue| issue.key.as_str() == key).unwrap_or_else(|| panic!("{key}"))
}

/// The message and position of an input error, failing the test on anything else.
fn input_fault(result: bugdash::Result<Vec<Issue>>) -> (String, Position) {
    match result {
        Err(Error::Input { message, position, .. }) => (message, position),
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn zookeeper_example_reads_all_1827_bugs_with_their_status_and_priority_counts() {
    let issues = zookeeper();

    assert_eq!(issues.len(), 1827);
    assert!(issues.iter().all(|issue| issue.project.as_str() == "ZOOKEEPER"));
    assert!(issues.iter().all(|issue| issue.issue_type.as_str() == "Bug"));
    assert!(issues.iter().all(|issue| issue.created.is_some()));
    assert_eq!(issues.iter().filter(|issue| issue.resolved.is_some()).count(), 1254);
    let statuses = count_by(&issues, |issue| &issue.status);
    let expected = [
        ("Closed", 667),
        ("In Progress", 7),
        ("Open", 493),
        ("Patch Available", 68),
        ("Reopened", 5),
        ("Resolved", 587),
    ];
    assert_eq!(statuses, BTreeMap::from(expected));
    // Every ZooKeeper bug has a priority: the five counts sum to 1,827.
    let priorities = count_by(&issues, |issue| issue.priority.as_deref().unwrap_or("(none)"));
    let expected =
        [("Blocker", 178), ("Critical", 214), ("Major", 1016), ("Minor", 354), ("Trivial", 65)];
    assert_eq!(priorities, BTreeMap::from(expected));
}

#[test]
fn zookeeper_example_areas_and_categories_match_the_raw_files() {
    let issues = zookeeper();

    assert_eq!(issues.iter().filter(|issue| !issue.components.is_empty()).count(), 1329);
    assert_eq!(issues.iter().filter(|issue| !issue.fix_versions.is_empty()).count(), 1184);
    assert_eq!(issues.iter().filter(|issue| !issue.affects_versions.is_empty()).count(), 1308);
    assert_eq!(issues.iter().filter(|issue| !issue.labels.is_empty()).count(), 202);
    // 367 environments are non-empty, but ZOOKEEPER-3010's holds only no-break spaces and
    // line breaks, which count as none.
    assert_eq!(issues.iter().filter(|issue| issue.environment.is_some()).count(), 366);
    assert_eq!(find(&issues, "ZOOKEEPER-3010").environment, None);
    assert_eq!(issues.iter().filter(|issue| issue.assignee.is_some()).count(), 1262);
    let categories = count_by(&issues, |issue| issue.category().as_str());
    let expected = [("done", 1254), ("indeterminate", 75), ("new", 498)];
    assert_eq!(categories, BTreeMap::from(expected));
}

#[test]
fn zookeeper_reopen_counts_come_from_time_in_status() {
    let issues = zookeeper();

    let with_time_in_status: Vec<&Issue> =
        issues.iter().filter(|issue| issue.history_source == HistorySource::TimeInStatus).collect();
    assert_eq!(with_time_in_status.len(), 1254);
    assert!(with_time_in_status.iter().all(|issue| !issue.history_complete));
    assert!(with_time_in_status.iter().all(|issue| issue.status_history.is_empty()));
    let reopened = issues.iter().filter(|issue| issue.reopen_count.unwrap_or(0) >= 1).count();
    assert_eq!(reopened, 75);
    let total: u32 = issues.iter().filter_map(|issue| issue.reopen_count).sum();
    assert_eq!(total, 81);
    let without = issues.iter().filter(|issue| issue.history_source == HistorySource::None);
    assert!(without.clone().all(|issue| issue.reopen_count.is_none()));
    assert_eq!(without.count(), 573);
    // Entered Reopened 3 times: "..._*|*_4_*:*_3_*:*_7357023233".
    assert_eq!(find(&issues, "ZOOKEEPER-1597").reopen_count, Some(3));
}

#[test]
fn zookeeper_first_issue_keeps_every_field() {
    let issues = zookeeper();
    let issue = &issues[0];

    assert_eq!((issue.id, issue.key.as_ref()), (Some(12397819), "ZOOKEEPER-2"));
    assert_eq!(
        issue.summary.as_str(),
        "Synchronization issues in QuorumPeer and FastLeader election"
    );
    assert_eq!(issue.status.as_str(), "Closed");
    assert_eq!(issue.status_category, Some(StatusCategory::Done));
    assert_eq!(issue.resolution.as_deref(), Some("Fixed"));
    assert_eq!(utc(issue.created), "2008-06-09T16:34:31.000Z");
    assert_eq!(utc(issue.updated), "2008-09-09T21:11:22.000Z");
    assert_eq!(utc(issue.resolved), "2008-08-25T21:13:14.000Z");
    assert_eq!(texts(&issue.components), ["leaderElection"]);
    assert_eq!(texts(&issue.fix_versions), ["3.0.0"]);
    assert!(issue.affects_versions.is_empty());
    assert_eq!(issue.assignee.as_deref(), Some("Flavio Junqueira"));
    assert_eq!(issue.reporter.as_deref(), Some("Benjamin Reed"));
    assert_eq!(issue.environment, None);
    let description = issue.description.as_deref().unwrap_or_default();
    assert!(description.starts_with("There are a couple of cases of member variables"));
    assert!(description.contains("\n\n* QuorumPeer state should be synchronous\n"));
    // Time in Status lists ids 10002, 1, 6 and 5: never Reopened (id 4).
    assert_eq!(issue.reopen_count, Some(0));
}

#[test]
fn fullwidth_punctuation_in_a_summary_survives_untouched() {
    let issues = zookeeper();

    let summary = find(&issues, "ZOOKEEPER-3211").summary.as_str();
    assert_eq!(
        summary,
        "zookeeper standalone mode\u{ff0c}found a high level bug in kernel of centos7.0 \u{ff0c}\
         zookeeper Server's  tcp/ip socket connections(default 60 ) are CLOSE_WAIT \u{ff0c}this \
         lead to zk can't work for client any more"
    );
    let no_break_spaces = find(&issues, "ZOOKEEPER-1212").summary.as_str();
    assert!(no_break_spaces.ends_with("para 20.2\u{a0}Init\u{a0}Script\u{a0}Actions"));
}

#[test]
fn drill_138_changelog_holding_3_of_8_histories_is_incomplete() {
    let issues = read_fixture("issueshark_apache_server_v2/drill_138_issue.json");

    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!((issue.id, issue.key.as_ref()), (Some(12655939), "DRILL-138"));
    assert_eq!(issue.project.as_str(), "DRILL");
    assert_eq!(issue.issue_type.as_str(), "New Feature");
    assert_eq!((issue.status.as_ref(), issue.category()), ("Closed", StatusCategory::Done));
    assert_eq!(issue.priority.as_deref(), Some("Major"));
    assert_eq!(issue.resolution.as_deref(), Some("Duplicate"));
    assert_eq!(utc(issue.created), "2013-07-03T00:16:13.737Z");
    assert_eq!(utc(issue.resolved), "2013-08-23T00:19:04.450Z");
    assert_eq!(texts(&issue.components), ["java client", "server", "tests"]);
    assert_eq!(texts(&issue.labels), ["operator", "optimizer", "physical"]);
    assert_eq!(texts(&issue.fix_versions), ["0.1.0-m1"]);
    assert_eq!(texts(&issue.affects_versions), ["3.0.0"]);
    assert_eq!(issue.history_source, HistorySource::Changelog);
    assert!(!issue.history_complete);
    // Of the 3 histories held, one changes the status.
    assert_eq!(issue.status_history.len(), 1);
    let change = &issue.status_history[0];
    assert_eq!(utc(Some(change.at)), "2016-08-13T17:29:13.718Z");
    assert_eq!((change.from.as_deref(), change.to.as_ref()), (Some("Reopened"), "Resolved"));
    assert_eq!(issue.reopen_count, Some(0));
}

#[test]
fn drill_38_complete_changelog_gives_transitions_oldest_first() {
    let issues = read_fixture("issueshark_apache_server_v2/drill_38_issue.json");
    let issue = &issues[0];

    assert_eq!(issue.issue_type.as_str(), "Sub-task");
    assert!(issue.history_complete);
    let changes: Vec<(String, Option<&str>, &str)> = issue
        .status_history
        .iter()
        .map(|change| (utc(Some(change.at)), change.from.as_deref(), change.to.as_ref()))
        .collect();
    assert_eq!(
        changes,
        [
            ("2013-02-24T17:43:46.087Z".to_owned(), Some("Open"), "In Progress"),
            ("2013-02-25T04:02:52.996Z".to_owned(), Some("In Progress"), "Closed"),
        ]
    );
    assert_eq!(issue.comments.len(), 4);
    assert_eq!(issue.assignee.as_deref(), Some("Christopher Merrick"));
    assert_eq!(issue.reporter.as_deref(), Some("Chris Merrick"));
    assert_eq!(issue.description, None);
}

#[test]
fn drill_1_keeps_environment_and_comments_of_a_single_issue_response() {
    let issues = read_fixture("issueshark_apache_server_v2/drill_1_issue.json");
    let issue = &issues[0];

    assert_eq!(issue.environment.as_deref(), Some("Windows"));
    assert_eq!(issue.resolution.as_deref(), Some("Won't Fix"));
    assert_eq!(issue.assignee, None);
    assert_eq!(issue.comments.len(), 7);
    assert!(issue.comments[0].starts_with("protobuf +1, I think it is OK to use protobuf"));
    assert_eq!(issue.comments[2].as_str(), "I agree with rawson.");
    assert_eq!(utc(issue.updated), "2014-07-31T06:32:54.672Z");
}

#[test]
fn fiware_search_pages_read_with_empty_summary_and_null_resolution() {
    let page_1 = read_fixture("perceval_fiware_server_v2/jira_issues_page_1.json");
    let page_2 = read_fixture("perceval_fiware_server_v2/jira_issues_page_2.json");

    let keys: Vec<&str> = page_1.iter().chain(&page_2).map(|issue| issue.key.as_ref()).collect();
    assert_eq!(keys, ["HELP-6043", "HELP-6042", "HELP-6041"]);
    let open = &page_1[0];
    assert_eq!((open.id, open.issue_type.as_ref()), (Some(1), "extRequest"));
    assert_eq!((open.resolution.as_deref(), open.resolved), (None, None));
    assert_eq!(open.status_category, Some(StatusCategory::New));
    assert_eq!(texts(&open.components), ["FIWARE-LAB-HELP"]);
    assert_eq!(
        (open.assignee.as_deref(), open.reporter.as_deref()),
        (Some("User1"), Some("User2"))
    );
    assert_eq!(open.description, None, "an empty description counts as none");
    let closed = &page_1[1];
    assert_eq!(closed.summary.as_str(), "");
    assert_eq!(closed.resolution.as_deref(), Some("Done"));
    assert_eq!(utc(closed.resolved), "2016-03-03T14:30:17.000Z");
    assert_eq!(closed.history_source, HistorySource::None);
    assert_eq!(closed.reopen_count, None);
    assert_eq!(page_2[0].id, Some(3));
}

#[test]
fn empty_search_pages_give_no_issues() {
    assert!(read_fixture("perceval_fiware_server_v2/jira_issues_page_empty.json").is_empty());
    assert!(
        read_fixture("jira_ruby_server_localhost_v2/search_empty_page_startAt11.json").is_empty()
    );
    let jql_page = br#"{"issues":[],"isLast":true}"#;
    assert!(read_json("jql.json", jql_page).expect("empty /search/jql page").is_empty());
}

#[test]
fn jira_ruby_plus_1300_offsets_are_converted_exactly() {
    let issues =
        read_fixture("jira_ruby_server_localhost_v2/search_project_SAMPLEPROJECT_11_issues.json");

    assert_eq!(issues.len(), 11);
    assert_eq!((issues[0].key.as_ref(), issues[0].id), ("SAMPLEPROJECT-13", Some(10014)));
    // 2011-12-15T15:35:06.000+1300
    assert_eq!(utc(issues[0].created), "2011-12-15T02:35:06.000Z");
    let first = &issues[10];
    assert_eq!(first.key.as_str(), "SAMPLEPROJECT-1");
    // 2011-12-14T10:26:06.000+1300 and 2011-12-15T15:37:33.000+1300
    assert_eq!(utc(first.created), "2011-12-13T21:26:06.000Z");
    assert_eq!(utc(first.updated), "2011-12-15T02:37:33.000Z");
    assert_eq!(first.summary.as_str(), "MOOOOOOARRR NINJAAAA!");
    assert_eq!(first.status_category, None, "JIRA 5 sent no status category");
    assert_eq!(first.category(), StatusCategory::New);

    let single = read_fixture("jira_ruby_server_localhost_v2/issue_10002.json");
    assert_eq!(texts(&single[0].components), ["Jamflam", "Jammy"]);
    assert_eq!(utc(single[0].created), "2011-12-13T21:26:06.030Z");
}

#[test]
fn sling_trimmed_search_reads_without_dates() {
    let issues = read_fixture("sling_apache_server_v2/search_fixVersion_committer-cli-1.0.0.json");

    assert_eq!(issues.len(), 9);
    assert!(issues.iter().all(|issue| issue.created.is_none() && issue.updated.is_none()));
    assert!(issues.iter().all(|issue| issue.project.as_str() == "SLING"));
    assert!(issues.iter().all(|issue| issue.issue_type.is_empty() && issue.priority.is_none()));
    assert_eq!(
        count_by(&issues, |issue| &issue.status),
        BTreeMap::from([("Open", 2), ("Resolved", 7)])
    );
    let fixed = issues.iter().filter(|issue| issue.resolution.as_deref() == Some("Fixed")).count();
    assert_eq!(fixed, 7);
    assert_eq!((issues[0].key.as_ref(), issues[0].id), ("SLING-8707", Some(13256564)));
}

#[test]
fn perceval_items_read_including_contrib_4_without_fields() {
    let issues =
        read_fixture("grimoirelab_finos_cloud_v2/perceval_items_finos_with_changelog.json");

    let keys: Vec<&str> = issues.iter().map(|issue| issue.key.as_ref()).collect();
    assert_eq!(keys, ["CONTRIB-5", "CONTRIB-4", "CONTRIB-3", "CONTRIB-10", "CONTRIB-11"]);
    let bare = &issues[1];
    assert_eq!((bare.id, bare.project.as_ref()), (Some(10010), "CONTRIB"));
    assert_eq!((bare.created, bare.status.as_ref(), bare.summary.as_ref()), (None, "", ""));
    // Its changelog is still there, newest first in the file, oldest first here.
    let changes: Vec<(String, &str)> = bare
        .status_history
        .iter()
        .map(|change| (utc(Some(change.at)), change.to.as_ref()))
        .collect();
    assert_eq!(
        changes,
        [
            ("2018-05-14T21:56:58.602Z".to_owned(), "License Check"),
            ("2018-05-14T21:58:37.175Z".to_owned(), "Fix Licenses"),
            ("2018-05-14T21:58:58.615Z".to_owned(), "License Check"),
            ("2018-05-14T21:59:02.635Z".to_owned(), "Licenses Validated"),
        ]
    );
    assert!(bare.history_complete);
    let cla = &issues[0];
    assert_eq!(cla.issue_type.as_str(), "CLA Procurement");
    assert_eq!(utc(cla.created), "2018-05-14T21:54:10.593Z");
    assert_eq!(cla.description.as_deref(), Some("here's the description"));
    let validation = &issues[4];
    assert_eq!(validation.comments.len(), 2);
    assert!(validation.comments[0].starts_with("Scanned the 3 repositories mentioned on CONTRIB-9"));
    assert!(validation.comments[1].starts_with("LICENSE files are in place.\r\n\r\nNOTICE"));
}

#[test]
fn airbyte_v3_record_reads_adf_description_and_mixed_dst_offsets() {
    let issues = read_fixture("airbyte_cloud_v3/issues_search_v3_adf.json");

    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!((issue.id, issue.key.as_ref()), (Some(10627), "TESTKEY13-1"));
    assert_eq!((issue.project.as_ref(), issue.issue_type.as_ref()), ("TESTKEY13", "Epic"));
    assert_eq!(
        (issue.status.as_ref(), issue.status_category),
        ("To Do", Some(StatusCategory::New))
    );
    assert_eq!(issue.priority.as_deref(), Some("Low"));
    // created -0700 (summer), updated -0800 (winter)
    assert_eq!(utc(issue.created), "2022-06-09T23:29:31.871Z");
    assert_eq!(utc(issue.updated), "2022-12-08T10:22:18.889Z");
    assert_eq!(issue.description.as_deref(), Some("Test issue"));
    assert_eq!(texts(&issue.components), ["Component 0"]);
    assert_eq!(texts(&issue.labels), ["test"]);
    assert_eq!(issue.assignee.as_deref(), Some("integration test"));
    assert!(issue.comments.is_empty());
}

#[test]
fn airbyte_top_level_project_key_and_dates_stand_in_for_missing_fields() {
    let record = br#"[{"id": 10627, "key": "TK-1", "projectKey": "TESTKEY13",
        "created": "2022-06-09T16:29:31.871-0700", "fields": {"summary": "s"}},
        {"id": "12", "key": "MY-PROJ-12", "fields": {"priority": null}}]"#;

    let issues = read_json("airbyte.json", record).expect("reads");
    assert_eq!((issues[0].id, issues[0].project.as_ref()), (Some(10627), "TESTKEY13"));
    assert_eq!(utc(issues[0].created), "2022-06-09T23:29:31.871Z");
    assert_eq!((issues[1].project.as_ref(), issues[1].priority.as_deref()), ("MY-PROJ", None));
}

#[test]
fn adf_document_renders_lists_tables_code_and_inline_nodes_as_text() {
    let bytes = std::fs::read(fixture("jira/jira_cli_cloud/adf_document.json")).expect("fixture");
    let document: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");

    let text = adf::to_text(&document);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..5], ["H1", "H2", "1. Some text", "2. Some more text", "> Blockquote text"]);
    for expected in [
        "Inline Nodehttps://antiklabs.atlassian.net/wiki/spaces/ANK/pages/124234/hello-world",
        "Panel paragraph",
        "@Person A",
        "Strong Paragraph 1",
        "- Prefix: Unordered list item 1",
        "  - Next",
        "    - Another",
        "      - New level",
        "- Unordered list item 3",
        "3. Ordered list item 3",
        "   1. nested",
        "      1. second level",
        "Table Header 1\tTable Header 2\tTable Header 3",
        "Table row 2 column 1\tTable row 2 column 2\tTable row 2 column 3",
        "\tfmt.Println(\"Hello, World!\")",
        "Table row 1 column 2\tTable row 2 column 3\tTable row 3 column 3\tTable row 4 column 3\
         \tTable row 5 column 3",
    ] {
        assert!(lines.contains(&expected), "missing line {expected:?} in:\n{text}");
    }
    assert!(text.ends_with("Table row 5 column 3"));
}

#[test]
fn devlake_issue_cells_read_through_read_issue_json_keep_chinese_type_names() {
    let path = fixture("jira/devlake_merico_cloud/_raw_jira_api_issues.csv");
    let mut rows = csv::Reader::from_path(path).expect("DevLake fixture");
    let data_column = rows.headers().expect("header").iter().position(|name| name == "data");
    let data_column = data_column.expect("a data column");

    let mut issues = Vec::new();
    for (index, row) in rows.records().enumerate() {
        let row = row.expect("CSV row");
        let position = Position::Record { record: index as u64 + 1, line: None };
        issues.push(read_issue_json("issues.csv", &row[data_column], position).expect("issue"));
    }
    assert_eq!(issues.len(), 33);
    let types = count_by(&issues, |issue| &issue.issue_type);
    let expected = [
        ("Epic", 1),
        ("Story", 2),
        ("Test Execution", 1),
        ("任务", 8),
        ("子任务", 12),
        ("故事", 8),
        ("缺陷", 1),
    ];
    assert_eq!(types, BTreeMap::from(expected));
    let first = &issues[0];
    assert_eq!((first.key.as_ref(), first.id), ("EE-1", Some(10063)));
    assert_eq!(first.summary.as_str(), "\u{200b}四个排序图：测试/注释覆盖度、复用度、模块性");
    assert_eq!(first.status.as_str(), "已完成");
    assert_eq!(utc(first.created), "2020-06-12T00:13:13.360Z");
    assert!(first.history_complete);
    assert!(issues.iter().all(|issue| issue.history_source == HistorySource::Changelog));
}

#[test]
fn truncated_json_names_the_line_and_column_where_it_ends() {
    let bytes = zookeeper_part3_bytes();
    let cut = &bytes[..bytes.len() / 2];

    let (message, position) = input_fault(read_json("part3.json", cut));
    let Position::LineColumn { line, column } = position else { panic!("{position:?}") };
    assert!(line > 1 && column > 0);
    assert!(message.contains("the JSON ends early"), "{message}");
    assert!(message.contains("the file looks truncated"), "{message}");
}

#[test]
fn truncation_message_does_not_repeat_the_position_the_error_carries() {
    let bytes = zookeeper_part3_bytes();
    let cut = &bytes[..bytes.len() / 2];

    let fault = read_json("part3.json", cut).expect_err("truncated");

    let shown = fault.to_string();
    let Error::Input { position, .. } = &fault else { panic!("{fault:?}") };
    assert_eq!(shown.matches(&position.to_string()).count(), 1, "{shown}");
    assert_eq!(shown.matches("line").count(), 1, "{shown}");
}

#[test]
fn json_null_file_is_reported_as_json_null_not_as_a_csv_without_key_column() {
    for bytes in [&b"null"[..], b"\xEF\xBB\xBF null\n"] {
        let (message, position) =
            input_fault(read_bytes("issues.json", bytes, &ReadOptions::default()));
        assert_eq!(position, Position::Whole);
        assert!(message.contains("JSON `null`, not JIRA data"), "{message}");
        assert!(!message.contains("key column"), "{message}");
    }
    let (message, _) = input_fault(read_json("issues.json", b"null"));
    assert!(message.contains("JSON `null`"), "{message}");
    let (message, _) = input_fault(read_bytes("n.json", b"42", &ReadOptions::default()));
    assert!(message.contains("invalid type: integer `42`"), "{message}");
}

#[test]
fn created_date_9999_is_refused_naming_record_issue_field_text_and_range() {
    let text = String::from_utf8(zookeeper_part3_bytes()).expect("UTF-8");
    let original = "\"created\":\"2017-11-21T19:48:14.000+0000\"";
    let broken = text.replace(original, "\"created\":\"9999-12-31T23:59:59.000+0000\"");

    let (message, position) = input_fault(read_json("part3.json", broken.as_bytes()));

    assert_eq!(position, Position::Record { record: 10, line: Some(11) });
    assert!(message.contains("issue ZOOKEEPER-2947: field `created`"), "{message}");
    assert!(message.contains("\"9999-12-31T23:59:59.000+0000\""), "{message}");
    assert!(message.contains("1970-01-01T00:00:00Z up to 2100-01-01T00:00:00Z"), "{message}");
}

#[test]
fn resolution_date_in_year_1_and_changelog_dates_out_of_range_are_refused() {
    let year_one =
        br#"[{"key": "A-1", "fields": {"resolutiondate": "0001-01-01T00:00:00.000+0000"}}]"#;
    let (message, position) = input_fault(read_json("a.json", year_one));
    assert_eq!(position, Position::Record { record: 1, line: Some(1) });
    assert!(message.contains("A-1") && message.contains("`resolutiondate`"), "{message}");
    assert!(message.contains("\"0001-01-01T00:00:00.000+0000\""), "{message}");

    let history = br#"{"key": "A-2", "fields": {}, "changelog": {"histories": [{"created":
        "1969-12-31T23:59:59.000+0000", "items": [{"field": "status", "toString": "Open"}]}]}}"#;
    let (message, _) = input_fault(read_json("a.json", history));
    assert!(message.contains("A-2") && message.contains("changelog"), "{message}");
    assert!(message.contains("1970-01-01"), "{message}");
}

#[test]
fn empty_date_stays_absent_and_range_ends_are_accepted() {
    let page = br#"[{"key": "A-1", "fields": {"created": "1970-01-01T00:00:00.000+0000",
        "updated": "2099-12-31T23:59:59.999+0000", "resolutiondate": ""}}]"#;

    let issue = &read_json("a.json", page).expect("reads")[0];

    assert_eq!(utc(issue.created), "1970-01-01T00:00:00.000Z");
    assert_eq!(utc(issue.updated), "2099-12-31T23:59:59.999Z");
    assert_eq!(issue.resolved, None);
}

#[test]
fn json_that_is_not_jira_data_is_refused_with_what_was_expected() {
    let (message, position) = input_fault(read_json("foo.json", br#"{"foo":1}"#));
    assert_eq!(position, Position::Whole);
    assert!(message.contains("found no JIRA issue data"), "{message}");
    assert!(message.contains("search page with an `issues` array"), "{message}");

    let (message, position) = input_fault(read_json("numbers.json", b"[1,2]"));
    assert_eq!(position, Position::LineColumn { line: 1, column: 2 });
    assert!(message.contains("expected a JIRA issue, search page or Perceval item"), "{message}");

    let (message, position) = input_fault(read_json("text.json", br#""text""#));
    assert_eq!(position, Position::LineColumn { line: 1, column: 6 });
    assert!(message.contains("invalid type: string \"text\""), "{message}");
}

#[test]
fn wrong_types_are_refused_at_their_line_and_column() {
    let fields_number = b"{\"key\": \"A-1\",\n \"fields\": 5}";
    let (message, position) = input_fault(read_json("fields.json", fields_number));
    assert_eq!(position, Position::LineColumn { line: 2, column: 12 });
    assert!(message.contains("invalid type: integer `5`, expected a JIRA `fields` object"));

    let created_number = br#"{"issues": [{"key": "A-1", "fields": {"created": 17}}]}"#;
    let (message, position) = input_fault(read_json("created.json", created_number));
    assert_eq!(position, Position::LineColumn { line: 1, column: 51 });
    assert!(message.contains("expected a date-time string such as"), "{message}");
}

#[test]
fn unreadable_date_names_the_record_issue_field_and_text() {
    let text = String::from_utf8(zookeeper_part3_bytes()).expect("UTF-8");
    let original = "\"created\":\"2017-11-21T19:48:14.000+0000\"";
    assert_eq!(text.matches(original).count(), 1, "record 10, ZOOKEEPER-2947");
    let broken = text.replace(original, "\"created\":\"21/Nov/17 7:48 PM\"");

    let (message, position) = input_fault(read_json("part3.json", broken.as_bytes()));
    assert_eq!(position, Position::Record { record: 10, line: Some(11) });
    assert!(message.contains("issue ZOOKEEPER-2947: field `created`"), "{message}");
    assert!(message.contains("\"21/Nov/17 7:48 PM\""), "{message}");
    assert!(message.contains("expected JIRA's form such as 2013-07-03T00:16:13.737+0000"));
}

#[test]
fn jira_error_body_saved_as_data_is_reported_with_jiras_message() {
    let path =
        fixture("jira/jira_ruby_server_localhost_v2/error_400_missing_fields_or_update.json");

    let result = read_path(&path, &ReadOptions::default());
    let (message, _) = input_fault(result);
    assert!(message.contains("JIRA error response"), "{message}");
    assert!(message.contains("one of 'fields' or 'update' required"), "{message}");
}

#[test]
fn html_error_page_is_refused_before_json_reading() {
    let page =
        b"\n<!DOCTYPE html><html lang=\"en\"><head><title>Oops - an error has occurred</title>";

    let (message, position) = input_fault(read_bytes("search.json", page, &ReadOptions::default()));
    assert_eq!(position, Position::LineColumn { line: 2, column: 1 });
    assert!(message.contains("HTML or XML page"), "{message}");
}

#[test]
fn issue_json_in_a_cell_reports_faults_at_the_cells_position() {
    let position = Position::Record { record: 4, line: Some(9) };

    let truncated = read_issue_json("raw.csv", r#"{"key":"EE-1","fields":{"#, position.clone());
    let Err(Error::Input { message, position: at, .. }) = truncated else { panic!("must fail") };
    assert_eq!(at, position);
    assert!(message.contains("(line 1, column 24 of it): the JSON ends early"), "{message}");

    let page = read_issue_json("raw.csv", r#"{"issues":[]}"#, position.clone());
    assert!(matches!(page, Err(Error::Input { .. })));
}

#[test]
fn truncating_a_zookeeper_file_anywhere_gives_an_error_and_never_a_panic() {
    let bytes = zookeeper_part3_bytes();
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).expect("content");
    // Every byte of the first record's opening, then offsets spread through the file.
    let offsets = (0..600).chain((600..end).step_by(2_711)).chain(end - 40..end);

    for offset in offsets {
        let result = read_json("part3.json", &bytes[..offset]);
        let Err(Error::Input { message, .. }) = result else {
            panic!("a prefix of {offset} bytes should fail, got {result:?}");
        };
        assert!(message.contains("looks truncated"), "at {offset}: {message}");
    }
    assert_eq!(read_json("part3.json", &bytes[..=end]).expect("whole file").len(), 147);
}
