//! Delimited readers against real files: JIRA's "Export CSV (all fields)", a custom Hive
//! export, the Kafka and Camel bug-fix datasets, DevLake raw tables, and damaged copies of
//! them. Every expected value was counted with a short Python script over the raw file.

use std::collections::BTreeMap;

use bugdash::jira::{check_columns, read_bytes, ReadOptions};
use bugdash::{Error, Issue, Position};

use crate::common::fixture;

const EXPORT: &str = "jira/csv_exports/jira_server_export_csv_anonymized_repeated_headers.csv";
const HIVE: &str = "jira/csv_exports/apache_hive_bugs_custom_export_2164.csv";
const KAFKA: &str = "jira/apache_bugs_large/kafka-jira-bug-fix-dataset.csv";
const CAMEL: &str = "jira/apache_bugs_large/camel-jira-bug-fix-dataset.csv";
const DEVLAKE_ISSUES: &str = "jira/devlake_merico_cloud/_raw_jira_api_issues.csv";
const DEVLAKE_FIELDS: &str = "jira/devlake_merico_cloud/_raw_jira_api_issue_fields.csv";
const DEVLAKE_TYPES: &str = "jira/devlake_merico_cloud/_raw_jira_api_issue_types.csv";

/// The mapping a user would write for the bug-fix datasets.
const BUG_FIX_COLUMNS: &str = "key=Key,created=CreationDate,resolved=ResolutionDate,\
    priority=Priority,status=Status,components=Components,affects_versions=AffectsVersions,\
    fix_versions=FixVersions,project=Project,assignee=Assignee,reporter=Reporter";

fn bytes_of(relative: &str) -> Vec<u8> {
    std::fs::read(fixture(relative)).expect("fixture is readable")
}

fn text_of(relative: &str) -> String {
    String::from_utf8(bytes_of(relative)).expect("fixture is UTF-8")
}

fn read_with(name: &str, bytes: &[u8], columns: Option<&str>) -> Result<Vec<Issue>, Error> {
    read_bytes(name, bytes, &ReadOptions { columns: columns.map(str::to_string) })
}

fn read(relative: &str) -> Vec<Issue> {
    read_with(relative, &bytes_of(relative), None).expect("fixture reads")
}

fn find<'a>(issues: &'a [Issue], key: &str) -> &'a Issue {
    issues.iter().find(|issue| issue.key.as_str() == key).expect("issue is present")
}

fn strings(list: &[bugdash::model::Text]) -> Vec<&str> {
    list.iter().map(AsRef::as_ref).collect()
}

fn instant(value: Option<bugdash::Timestamp>) -> String {
    value.map(|t| t.to_string()).unwrap_or_default()
}

fn count_by(issues: &[Issue], field: impl Fn(&Issue) -> String) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for issue in issues {
        *counts.entry(field(issue)).or_insert(0) += 1;
    }
    counts
}

/// The position and message of an input error; panics on any other outcome.
fn input_error(outcome: Result<Vec<Issue>, Error>) -> (String, Position, String) {
    match outcome {
        Err(Error::Input { source_name, position, message }) => (source_name, position, message),
        other => panic!("expected an input error, got {other:?}"),
    }
}

fn parameter_error(outcome: Result<Vec<Issue>, Error>) -> (String, String) {
    match outcome {
        Err(Error::InvalidParameter { name, message }) => (name, message),
        other => panic!("expected an invalid parameter, got {other:?}"),
    }
}

/// Rewrites cells of the export's one data row, keeping its real 102-column header.
fn export_with(cells: &[(usize, &str)]) -> Vec<u8> {
    let bytes = bytes_of(EXPORT);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
    let mut writer = csv::Writer::from_writer(Vec::new());
    for (number, record) in reader.records().enumerate() {
        let mut record: Vec<String> =
            record.expect("export parses").iter().map(str::to_string).collect();
        if number == 1 {
            for &(at, text) in cells {
                record[at] = text.to_string();
            }
        }
        writer.write_record(&record).expect("write to memory");
    }
    writer.into_inner().expect("flush to memory")
}

#[test]
fn jira_export_reads_its_one_row_and_ignores_739_empty_rows() {
    let issues = read(EXPORT);

    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.id, Some(24018));
    assert_eq!(issue.key.as_str(), "A-3367");
    assert_eq!(issue.project.as_str(), "A");
    assert_eq!(issue.issue_type.as_str(), "Bug");
    assert_eq!(issue.status.as_str(), "Open");
    assert_eq!(issue.priority.as_deref(), Some("High"));
    assert_eq!(issue.resolution, None);
    assert_eq!(issue.assignee.as_deref(), Some("xyz"));
    assert_eq!(issue.reporter.as_deref(), Some("xyz"));
    assert_eq!(
        issue.summary.as_str(),
        "[ML]Admin::Promotions::user is able to create promo/bulk promo code"
    );
    assert!(issue.labels.is_empty());
    assert!(issue.components.is_empty());
}

#[test]
fn jira_export_dates_without_zone_are_read_as_utc() {
    let issue = &read(EXPORT)[0];

    assert_eq!(instant(issue.created), "2017-02-16T15:26:00.000Z");
    assert_eq!(instant(issue.updated), "2017-02-16T15:29:00.000Z");
    assert_eq!(issue.resolved, None);
}

#[test]
fn jira_export_comment_cells_give_their_text_without_date_and_author() {
    let issue = &read(EXPORT)[0];

    assert_eq!(
        strings(&issue.comments),
        ["Provide more details on this-  which user can create?.."]
    );
}

#[test]
fn jira_export_repeated_labels_columns_are_gathered_into_one_list() {
    // The four Labels columns are 22..=25; one is left empty and one repeats a label.
    let bytes = export_with(&[(22, "backend"), (23, ""), (24, "regression"), (25, "backend")]);

    let issues = read_with("export.csv", &bytes, None).expect("export reads");

    assert_eq!(strings(&issues[0].labels), ["backend", "regression"]);
}

#[test]
fn jira_export_unreadable_date_in_an_unneeded_column_does_not_sink_the_row() {
    // Updated (17) and Last Viewed (18) hold the Excel-mangled text the real file has
    // in a custom date column.
    let bytes = export_with(&[(17, "29:10.8"), (18, "29:10.8")]);

    let issues = read_with("export.csv", &bytes, None).expect("export reads");

    assert_eq!(issues[0].updated, None);
    assert_eq!(instant(issues[0].created), "2017-02-16T15:26:00.000Z");
}

#[test]
fn jira_export_unreadable_created_date_names_file_record_column_and_text() {
    let bytes = export_with(&[(16, "29:10.8")]);

    let (source, position, message) = input_error(read_with("export.csv", &bytes, None));

    assert_eq!(source, "export.csv");
    assert_eq!(position, Position::Record { record: 1, line: Some(2) });
    assert!(message.contains("\"Created\"") && message.contains("\"29:10.8\""), "{message}");
}

#[test]
fn hive_custom_export_reads_2164_bugs_with_their_statuses_and_priorities() {
    let issues = read(HIVE);

    assert_eq!(issues.len(), 2164);
    let statuses = count_by(&issues, |issue| issue.status.to_string());
    assert_eq!(statuses, BTreeMap::from([("Closed".into(), 1609), ("Resolved".into(), 555)]));
    let priorities = count_by(&issues, |issue| issue.priority.as_deref().unwrap_or("").into());
    let expected =
        [("Blocker", 85), ("Critical", 215), ("Major", 1658), ("Minor", 174), ("Trivial", 32)];
    let expected: BTreeMap<String, usize> =
        expected.iter().map(|(name, n)| (name.to_string(), *n)).collect();
    assert_eq!(priorities, expected);
}

#[test]
fn hive_files_without_type_column_are_bugs_of_the_key_project() {
    let issues = read(HIVE);

    assert!(issues.iter().all(|issue| issue.issue_type.as_str() == "Bug"));
    assert!(issues.iter().all(|issue| issue.project.as_str() == "HIVE"));
    assert!(issues.iter().all(|issue| issue.created.is_none()));
}

#[test]
fn hive_multi_valued_affected_versions_cell_is_split() {
    let issues = read(HIVE);

    assert_eq!(strings(&find(&issues, "HIVE-28347").affects_versions), ["2.4.0", "3.1.3", "4.0.0"]);
    let total: usize = issues.iter().map(|issue| issue.affects_versions.len()).sum();
    assert_eq!(total, 3098);
}

#[test]
fn hive_summaries_keep_chinese_and_fullwidth_characters() {
    let issues = read(HIVE);

    assert_eq!(
        find(&issues, "HIVE-25156").summary.as_str(),
        "reduce数设置为2后，查出的数据减少一半"
    );
    assert_eq!(
        find(&issues, "HIVE-25262").summary.as_str(),
        "Hive lineage dir does not have any log？"
    );
}

#[test]
fn kafka_semicolon_dataset_reads_2402_resolved_bugs() {
    let issues = read(KAFKA);

    assert_eq!(issues.len(), 2402);
    assert!(issues.iter().all(|issue| issue.resolved.is_some()));
    assert!(issues.iter().all(|issue| issue.project.as_str() == "KAFKA"));
    let affects: usize = issues.iter().map(|issue| issue.affects_versions.len()).sum();
    let fixes: usize = issues.iter().map(|issue| issue.fix_versions.len()).sum();
    let components: usize = issues.iter().map(|issue| issue.components.len()).sum();
    // 1428 cells name components; cut at their spaces they name 1539 (see the test of
    // space-joined components below).
    assert_eq!((affects, fixes, components), (1852, 2482, 1539));
}

#[test]
fn kafka_rows_with_multi_line_cells_read_exactly() {
    // KAFKA-42's issue-link cells hold line breaks inside quotes.
    let issues = read(KAFKA);

    let issue = find(&issues, "KAFKA-42");
    assert_eq!(issue.priority.as_deref(), Some("Blocker"));
    assert_eq!(issue.status.as_str(), "Closed");
    assert_eq!(issue.reporter.as_deref(), Some("junrao"));
    assert_eq!(issue.assignee.as_deref(), Some("nehanarkhede"));
    assert_eq!(strings(&issue.components), ["core"]);
    assert_eq!(strings(&issue.fix_versions), ["0.8.0"]);
    assert_eq!(instant(issue.created), "2011-07-19T21:32:19.000Z");
    assert_eq!(instant(issue.resolved), "2012-10-10T21:27:59.000Z");
    let next = find(&issues, "KAFKA-83");
    assert_eq!(strings(&next.affects_versions), ["0.7", "0.6"]);
    assert_eq!(next.assignee, None);
}

#[test]
fn kafka_reads_the_same_with_an_explicit_column_mapping() {
    let bytes = bytes_of(KAFKA);

    let mapped = read_with(KAFKA, &bytes, Some(BUG_FIX_COLUMNS)).expect("mapping is valid");

    assert_eq!(mapped, read(KAFKA));
}

#[test]
fn explicit_mapping_overrides_and_unmaps_well_known_columns() {
    let bytes = bytes_of(KAFKA);

    let issues = read_with(KAFKA, &bytes, Some("assignee=Reporter, components=")).expect("valid");

    let issue = find(&issues, "KAFKA-42");
    assert_eq!(issue.assignee.as_deref(), Some("junrao"));
    assert!(issue.components.is_empty());
}

#[test]
fn camel_dataset_reads_3232_bugs_with_space_separated_versions() {
    let issues = read(CAMEL);

    assert_eq!(issues.len(), 3232);
    assert!(issues.iter().all(|issue| issue.resolved.is_some()));
    let issue = find(&issues, "CAMEL-1217");
    assert_eq!(strings(&issue.affects_versions), ["1.5.0", "1.4.0", "1.3.0"]);
    assert_eq!(strings(&issue.fix_versions), ["2.0-M1", "1.6.0"]);
    assert_eq!(strings(&issue.components), ["camel-jetty"]);
    assert_eq!(instant(issue.created), "2009-01-03T08:18:59.000Z");
    assert_eq!(instant(issue.resolved), "2009-01-04T07:18:03.000Z");
    let affects: usize = issues.iter().map(|issue| issue.affects_versions.len()).sum();
    let fixes: usize = issues.iter().map(|issue| issue.fix_versions.len()).sum();
    assert_eq!((affects, fixes), (3846, 6257));
}

#[test]
fn camel_reads_the_same_with_an_explicit_column_mapping() {
    let bytes = bytes_of(CAMEL);

    let mapped = read_with(CAMEL, &bytes, Some(BUG_FIX_COLUMNS)).expect("mapping is valid");

    assert_eq!(mapped, read(CAMEL));
}

#[test]
fn devlake_issue_table_reads_33_issues_with_their_own_types() {
    let issues = read(DEVLAKE_ISSUES);

    assert_eq!(issues.len(), 33);
    let types = count_by(&issues, |issue| issue.issue_type.to_string());
    let expected = [("子任务", 12), ("故事", 8), ("任务", 8), ("Story", 2), ("缺陷", 1)];
    for (name, count) in expected {
        assert_eq!(types.get(name), Some(&count), "{name}");
    }
    assert!(issues.iter().all(|issue| issue.history_complete));
}

#[test]
fn devlake_issue_offsets_and_changelog_are_exact() {
    let issues = read(DEVLAKE_ISSUES);

    let issue = find(&issues, "EE-1");
    assert_eq!(instant(issue.created), "2020-06-12T00:13:13.360Z");
    assert_eq!(instant(issue.resolved), "2020-06-19T06:31:18.495Z");
    assert_eq!(strings(&issue.labels), ["frontEnd", "Saas"]);
    assert_eq!(issue.status_history.len(), 5);
    let first = &issue.status_history[0];
    assert_eq!(first.at.to_string(), "2020-06-12T01:45:24.493Z");
    assert_eq!((first.from.as_deref(), first.to.as_ref()), (Some("Inbox"), "Ready for Dev"));
    assert_eq!(issue.status_history[4].to.as_str(), "已完成");
}

#[test]
fn devlake_tables_of_other_objects_are_refused_by_what_they_hold() {
    let fields = read_with(DEVLAKE_FIELDS, &bytes_of(DEVLAKE_FIELDS), None);
    let types = read_with(DEVLAKE_TYPES, &bytes_of(DEVLAKE_TYPES), None);

    let (_, position, message) = input_error(fields);
    assert_eq!(position, Position::Record { record: 1, line: Some(3) });
    assert!(message.contains("field definitions") && message.contains("not issues"), "{message}");
    let (_, _, message) = input_error(types);
    assert!(message.contains("issue types") && message.contains("not issues"), "{message}");
}

#[test]
fn ragged_row_names_record_line_and_cell_counts() {
    let text = text_of(HIVE);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // Line 11 is `HIVE-28330,Fix example output of UDFHex,Resolved,Major,4.0.0`.
    lines[10] = lines[10].rsplit_once(',').map_or("", |(kept, _)| kept);

    let outcome = read_with("hive.csv", lines.join("\n").as_bytes(), None);

    let (source, position, message) = input_error(outcome);
    assert_eq!(source, "hive.csv");
    assert_eq!(position, Position::Record { record: 10, line: Some(11) });
    assert!(message.contains("4 cells") && message.contains("has 5"), "{message}");
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let text = text_of(HIVE);
    let line_101 = text.match_indices('\n').nth(99).map_or(0, |(at, _)| at + 1);
    let mut bytes = text.into_bytes();
    // After `HIVE-25802,`: line 101, column 12.
    bytes.insert(line_101 + 11, 0xFF);

    let (_, position, message) = input_error(read_with("hive.csv", &bytes, None));

    assert_eq!(position, Position::LineColumn { line: 101, column: 12 });
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn unreadable_creation_date_names_record_line_column_and_text() {
    let text = text_of(KAFKA).replacen(
        "2011-07-19T21:32:19.000+0000;2012-10-10T21:27:59.000+0000",
        "29:10.8;2012-10-10T21:27:59.000+0000",
        1,
    );

    let (source, position, message) = input_error(read_with("kafka.csv", text.as_bytes(), None));

    assert_eq!(source, "kafka.csv");
    assert_eq!(position, Position::Record { record: 16, line: Some(17) });
    assert!(message.contains("\"CreationDate\"") && message.contains("\"29:10.8\""), "{message}");
}

#[test]
fn header_only_file_has_no_issues() {
    let text = text_of(HIVE);
    let header = text.lines().next().unwrap_or_default();

    assert_eq!(read_with("hive.csv", header.as_bytes(), None).expect("reads"), []);
    assert_eq!(read_with("hive.csv", format!("{header}\r\n").as_bytes(), None).expect("reads"), []);
}

#[test]
fn binary_spreadsheet_is_refused_as_not_text() {
    // The first bytes of an .xlsx file, which is a zip archive.
    let xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00";

    let (source, position, message) = input_error(read_with("book.xlsx", xlsx, None));

    assert_eq!(source, "book.xlsx");
    assert_eq!(position, Position::LineColumn { line: 1, column: 6 });
    assert!(message.contains("binary") && message.contains("CSV"), "{message}");
}

#[test]
fn file_without_key_column_says_what_was_expected() {
    let text = text_of(HIVE).replacen("Key,", "Ticket,", 1);

    let (_, position, message) = input_error(read_with("hive.csv", text.as_bytes(), None));

    assert_eq!(position, Position::LineColumn { line: 1, column: 1 });
    assert!(message.contains("Key or Issue key") && message.contains("key=<column>"), "{message}");
}

#[test]
fn mapping_errors_name_the_option_the_entry_and_the_columns() {
    let bytes = bytes_of(KAFKA);

    let (name, message) = parameter_error(read_with(KAFKA, &bytes, Some("severity=Priority")));
    assert_eq!(name, "--columns");
    assert!(message.contains("severity=Priority") && message.contains("\"Priority\""), "{message}");

    let (name, message) = parameter_error(read_with(KAFKA, &bytes, Some("created=Created")));
    assert_eq!(name, "--columns");
    assert!(
        message.contains("created=Created") && message.contains("\"CreationDate\""),
        "{message}"
    );
}

fn distinct_components(issues: &[Issue]) -> usize {
    let names: std::collections::BTreeSet<&str> =
        issues.iter().flat_map(|issue| strings(&issue.components)).collect();
    names.len()
}

#[test]
fn kafka_components_joined_by_spaces_are_cut_against_the_files_own_names() {
    // The raw file has 79 distinct components cells, 56 of them with spaces; its names
    // are 23 single words, `system tests` and `unit tests` (alone in 22 and 8 rows) and
    // `offset manager`, which never stands alone and so falls back to its two words.
    let issues = read(KAFKA);

    assert_eq!(strings(&find(&issues, "KAFKA-680").components), ["clients", "core"]);
    let admin = strings(&find(&issues, "KAFKA-6613").components);
    assert_eq!(admin, ["admin", "config", "controller", "core"]);
    let system = strings(&find(&issues, "KAFKA-4689").components);
    assert_eq!(system, ["clients", "consumer", "system tests"]);
    assert_eq!(strings(&find(&issues, "KAFKA-6658").components), ["system tests", "unit tests"]);
    assert_eq!(strings(&find(&issues, "KAFKA-4180").components), ["producer", "security"]);
    assert_eq!(strings(&find(&issues, "KAFKA-1746").components), ["system tests"]);
    assert_eq!(distinct_components(&issues), 27);
}

#[test]
fn camel_components_joined_by_spaces_are_cut_against_the_files_own_names() {
    // 336 distinct cells; 195 single names, `build system`, and 8 names never alone.
    let issues = read(CAMEL);

    assert_eq!(strings(&find(&issues, "CAMEL-7446").components), ["build system"]);
    assert_eq!(strings(&find(&issues, "CAMEL-10293").components), ["build system", "tests"]);
    let nagios = strings(&find(&issues, "CAMEL-11759").components);
    assert_eq!(nagios, ["camel-nagios", "karaf", "tests"]);
    let total: usize = issues.iter().map(|issue| issue.components.len()).sum();
    assert_eq!((distinct_components(&issues), total), (204, 3192));
}

#[test]
fn components_cell_with_a_comma_is_split_on_commas_only() {
    // KAFKA-680's cell is `clients core`; with a comma the file says how it joins names.
    let text = text_of(KAFKA);
    let row = text.find(";KAFKA-680;").expect("KAFKA-680 is in the file");
    let at = row + text[row..].find(";clients core;").expect("its components cell");
    let edited = format!("{};clients core, tools;{}", &text[..at], &text[at + 14..]);

    let issues = read_with("kafka.csv", edited.as_bytes(), None).expect("reads");

    assert_eq!(strings(&find(&issues, "KAFKA-680").components), ["clients core", "tools"]);
    assert_eq!(strings(&find(&issues, "KAFKA-5735").components), ["clients", "core"]);
}

#[test]
fn creation_date_9999_is_refused_naming_issue_column_text_and_range() {
    let text = text_of(KAFKA).replacen(
        "2011-07-19T21:32:19.000+0000;2012-10-10T21:27:59.000+0000",
        "9999-12-31T00:00:00.000+0000;2012-10-10T21:27:59.000+0000",
        1,
    );

    let (source, position, message) = input_error(read_with("kafka.csv", text.as_bytes(), None));

    assert_eq!(source, "kafka.csv");
    assert_eq!(position, Position::Record { record: 16, line: Some(17) });
    for part in ["\"CreationDate\"", "KAFKA-42", "`created`", "\"9999-12-31T00:00:00.000+0000\""] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert!(message.contains("1970-01-01T00:00:00Z up to 2100-01-01T00:00:00Z"), "{message}");
}

#[test]
fn resolved_date_in_year_1_is_refused_and_an_empty_one_stays_absent() {
    let year_one = export_with(&[(19, "01/01/0001 00:00")]);
    let (_, position, message) = input_error(read_with("export.csv", &year_one, None));
    assert_eq!(position, Position::Record { record: 1, line: Some(2) });
    assert!(message.contains("A-3367") && message.contains("`resolved`"), "{message}");
    assert!(message.contains("\"01/01/0001 00:00\"") && message.contains("2100"), "{message}");

    let empty = export_with(&[(19, "")]);
    assert_eq!(read_with("export.csv", &empty, None).expect("reads")[0].resolved, None);
}

#[test]
fn updated_date_out_of_range_is_refused_though_unreadable_ones_are_left_out() {
    let bytes = export_with(&[(17, "31/12/2100 10:00")]);

    let (_, _, message) = input_error(read_with("export.csv", &bytes, None));

    assert!(message.contains("\"Updated\"") && message.contains("`updated`"), "{message}");
}

#[test]
fn columns_garbage_is_refused_before_any_file_is_read() {
    let refused = |mapping: &str| match check_columns(mapping) {
        Err(Error::InvalidParameter { name, message }) => (name, message),
        other => panic!("{mapping:?} should be refused, got {other:?}"),
    };

    let (name, message) = refused("garbage");
    assert_eq!(name, "--columns");
    assert!(message.contains("`garbage`") && message.contains("target=column"), "{message}");
    let (_, message) = refused("key=Key,severity=Priority");
    assert!(message.contains("severity=Priority") && message.contains("fix_versions"));
    assert!(check_columns(BUG_FIX_COLUMNS).is_ok());
    assert!(check_columns("components=, Issue_Type = Type").is_ok());
}
