//! `bugdash sync` then `bugdash analyze --project` against the store gives the same report
//! as `bugdash analyze` over the example files the fake serves.
//!
//! The Cloud fake serves the issues with the "Time in Status" field listed (see
//! [`apache_dataset`]), so the synced issues carry the reopen counts the files carry.

use std::path::Path;

use bugdash_tests::fake_jira::{zookeeper_files, FakeJira, Flavor};

use crate::binary;
use crate::kill_resume::child_settings;
use crate::source::apache_dataset;
use crate::stores::{both_backends, TestStore};

fn run(folder: &Path, settings: &[(&str, String)], args: &[&str]) -> Vec<u8> {
    let output = binary::command(folder, settings).args(args).output().expect("bugdash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bugdash {args:?} failed: {stderr}");
    output.stdout
}

async fn analyze_of_a_synced_project_equals_analyze_of_its_files(store: TestStore) {
    let fake = FakeJira::start(apache_dataset(Flavor::Cloud)).await;
    let folder = tempfile::tempdir().expect("a temporary folder");
    let settings = child_settings(&fake, Flavor::Cloud, &store, folder.path());
    run(folder.path(), &settings, &["sync", "--project", "ZOOKEEPER", "--format", "json"]);

    let report_args = ["--format", "json", "--window", "all"];
    let mut from_store = vec!["analyze", "--project", "ZOOKEEPER"];
    from_store.extend(report_args);
    let from_store = run(folder.path(), &settings, &from_store);
    let files: Vec<String> =
        zookeeper_files().iter().map(|file| file.display().to_string()).collect();
    let mut from_files: Vec<&str> = vec!["analyze"];
    from_files.extend(files.iter().map(String::as_str));
    from_files.extend(report_args);
    let from_files = run(folder.path(), &settings, &from_files);

    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert!(from_files.len() > 1000, "a short report: {}", text(&from_files));
    assert_eq!(text(&from_store), text(&from_files));
}
both_backends!(analyze_of_a_synced_project_equals_analyze_of_its_files);

/// Log lines written to a pipe (a log file, journald) carry no terminal colour codes.
#[test]
fn log_lines_to_a_pipe_have_no_colour_codes() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let output = binary::command(folder.path(), &[])
        .arg("--data-dir")
        .arg(folder.path().join("data"))
        .args(["jobs", "run", "session-cleanup"])
        .output()
        .expect("bugdash runs");
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("session-cleanup"), "a log line names the job: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no escape codes: {stderr:?}");
}
