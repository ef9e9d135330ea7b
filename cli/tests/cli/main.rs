//! The `bugdash` binary end to end: the ZooKeeper report against figures computed
//! independently from the raw JSON, output formats, exit codes, determinism, and the
//! store round trip through `import` and `analyze --project`.

#[path = "../../../tests/tests/e2e/pg.rs"]
mod pg;
mod serve;
mod store;
mod users;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bugdash(args: &[&str]) -> Output {
    bugdash_with(args, &[])
}

/// Runs the binary with `vars` set in its environment.
fn bugdash_with(args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bugdash"))
        .args(args)
        .current_dir(repo())
        .env_remove("DATABASE_URL")
        .env_remove("DB_HOST")
        .env_remove("BUGDASH_DATA_DIR")
        .envs(vars.iter().copied())
        .output()
        .expect("the bugdash binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const ZOOKEEPER: [&str; 3] = [
    "examples/zookeeper/ZOOKEEPER-bugs-part1-of-3.json",
    "examples/zookeeper/ZOOKEEPER-bugs-part2-of-3.json",
    "examples/zookeeper/ZOOKEEPER-bugs-part3-of-3.json",
];

fn zookeeper_json(extra: &[&str]) -> Value {
    let mut args = vec!["analyze"];
    args.extend(ZOOKEEPER);
    args.extend(["--format", "json"]);
    args.extend(extra);
    let output = bugdash(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the report is JSON")
}

fn area<'a>(report: &'a Value, name: &str) -> &'a Value {
    let areas = report["areas"].as_array().expect("areas");
    areas.iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("no area {name}"))
}

#[test]
fn zookeeper_report_matches_figures_computed_from_the_raw_json() {
    let report = zookeeper_json(&["--window", "all"]);

    let summary = &report["summary"];
    assert_eq!(report["as_of"], "2019-01-11T00:08:20.000Z");
    assert_eq!(summary["bugs"], 1827);
    assert_eq!(summary["resolved"], 1254);
    assert_eq!(summary["open"], 573);
    assert_eq!(summary["resolution_days"]["median"], 20.9355);
    assert_eq!(summary["reopen"]["reopened"], 75);
    assert_eq!(summary["reopen"]["known"], 1254);
    let priorities: Vec<(String, u64)> = summary["by_priority"]
        .as_array()
        .expect("by_priority")
        .iter()
        .map(|p| (p["priority"].as_str().unwrap_or("").to_owned(), p["bugs"].as_u64().unwrap_or(0)))
        .collect();
    let expected =
        [("Blocker", 178), ("Critical", 214), ("Major", 1016), ("Minor", 354), ("Trivial", 65)];
    assert_eq!(priorities, expected.map(|(p, n)| (p.to_owned(), n)));
    assert_eq!(area(&report, "none")["bugs"], 498);
    assert_eq!(area(&report, "server")["bugs"], 415);
    assert_eq!(area(&report, "c client")["bugs"], 228);
}

#[test]
fn default_window_covers_the_last_ninety_days() {
    let report = zookeeper_json(&[]);

    assert_eq!(report["summary"]["bugs"], 24);
    assert_eq!(report["summary"]["resolved"], 19);
    assert_eq!(report["summary"]["open"], 573);
    assert_eq!(report["window"]["days"], 90);
}

#[test]
fn trends_are_chronological_and_add_up() {
    let report = zookeeper_json(&["--window", "all", "--period", "month"]);

    let points = report["trends"]["points"].as_array().expect("points");
    let starts: Vec<&str> = points.iter().filter_map(|p| p["start"].as_str()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    assert_eq!(starts.first().copied(), Some("2008-06-01"));
    let created: u64 = points.iter().filter_map(|p| p["created"].as_u64()).sum();
    let resolved: u64 = points.iter().filter_map(|p| p["resolved"].as_u64()).sum();
    assert_eq!((created, resolved), (1827, 1254));
    assert_eq!(points.last().map(|p| &p["open"]), Some(&Value::from(573)));
}

#[test]
fn every_area_has_risk_level_factors_and_a_forecast_interval() {
    let report = zookeeper_json(&["--window", "all"]);

    for area in report["areas"].as_array().expect("areas") {
        let risk = area["risk"].as_f64().expect("risk");
        assert!((0.0..=100.0).contains(&risk), "{area}");
        assert!(["low", "medium", "high", "critical"].contains(&area["level"].as_str().unwrap()));
        assert!(!area["factors"].as_array().expect("factors").is_empty());
        let forecast = &area["forecast"];
        let (low, high) = (forecast["low"].as_f64().unwrap(), forecast["high"].as_f64().unwrap());
        assert!(low <= forecast["expected"].as_f64().unwrap() + 1.0 && high >= low, "{area}");
    }
    let backtest = &report["backtest"];
    assert!(backtest["cutoffs"].as_u64().unwrap() >= 1);
    assert!(backtest["auc"].is_number() && backtest["baseline_auc"].is_number());
}

#[test]
fn the_report_is_the_same_bytes_whatever_the_file_order() {
    let forward =
        bugdash(&["analyze", ZOOKEEPER[0], ZOOKEEPER[1], ZOOKEEPER[2], "--format", "json"]);
    let backward =
        bugdash(&["analyze", ZOOKEEPER[2], ZOOKEEPER[1], ZOOKEEPER[0], "--format", "json"]);

    assert!(forward.status.success());
    assert_eq!(forward.stdout, backward.stdout);
}

#[test]
fn filters_change_the_numbers() {
    let blockers = zookeeper_json(&["--window", "all", "--priority", "Blocker"]);
    let server = zookeeper_json(&["--window", "all", "--component", "server"]);

    assert_eq!(blockers["summary"]["bugs"], 178);
    assert_eq!(server["summary"]["bugs"], 415);
}

#[test]
fn csv_and_markdown_list_the_areas() {
    let mut args = vec!["analyze"];
    args.extend(ZOOKEEPER);
    let csv = bugdash(&[args.as_slice(), &["--format", "csv", "--window", "all"]].concat());
    let markdown = bugdash(&[args.as_slice(), &["--format", "markdown"]].concat());

    let text = String::from_utf8(csv.stdout).expect("utf-8");
    assert!(text.starts_with("area,risk,level,bugs,open,"), "{text}");
    assert_eq!(text.lines().count(), 1 + 23);
    let text = String::from_utf8(markdown.stdout).expect("utf-8");
    assert!(text.contains("# Bug-risk report: ZOOKEEPER") && text.contains("| # | Area |"));
}

#[test]
fn bad_input_exits_2_and_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = dir.path().join("error.json");
    std::fs::write(&html, "<html><body>Login required</body></html>").expect("write");
    let html = html.to_str().expect("utf-8 path");

    let only_bad = bugdash(&["analyze", html]);
    let strict = bugdash(&["analyze", ZOOKEEPER[0], html, "--strict"]);
    let lenient = bugdash(&["analyze", ZOOKEEPER[0], html, "--format", "json"]);
    let usage = bugdash(&["analyze", ZOOKEEPER[0], "--window", "soon"]);

    assert_eq!(only_bad.status.code(), Some(2));
    assert_eq!(strict.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(stderr.contains("error.json") && stderr.contains("HTML"), "{stderr}");
    assert_eq!(lenient.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&lenient.stderr).contains("skipped"));
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn analyze_of_files_without_the_project_asked_for_exits_2_naming_those_they_hold() {
    let mistyped = bugdash(&["analyze", ZOOKEEPER[0], "--project", "NOPE"]);
    let one_mistyped = bugdash(&["analyze", ZOOKEEPER[0], "--project", "zookeeper,NOPE"]);
    let beside_all = bugdash(&["analyze", ZOOKEEPER[0], "--project", "ALL,NOPE"]);
    let all = zookeeper_json(&["--project", "ALL", "--window", "all"]);

    assert_eq!(mistyped.status.code(), Some(2));
    assert!(mistyped.stdout.is_empty(), "no report: {}", String::from_utf8_lossy(&mistyped.stdout));
    let message = stderr(&mistyped);
    assert!(message.contains("no issue of NOPE; they hold ZOOKEEPER"), "{message}");
    assert_eq!(one_mistyped.status.code(), Some(2), "{}", stderr(&one_mistyped));
    assert_eq!(beside_all.status.code(), Some(2), "{}", stderr(&beside_all));
    assert!(stderr(&beside_all).contains("no issue of NOPE;"), "{}", stderr(&beside_all));
    assert_eq!(all["summary"]["bugs"], 1827, "ALL means every project in the files too");
}

#[test]
fn analyze_without_files_or_project_names_both_in_its_usage() {
    let output = bugdash(&["analyze"]);

    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let usage = message.lines().find(|l| l.starts_with("Usage:")).unwrap_or_default();
    assert!(usage.contains("<FILE") && usage.contains("--project"), "{message}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    for format in ["json", "csv", "table", "markdown"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bugdash"))
            .args(["analyze", ZOOKEEPER[0], "--format", format])
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");

        assert_eq!(output.status.code(), Some(0), "{format}");
        assert!(output.stderr.is_empty(), "{format}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

#[test]
fn imported_project_analyses_like_its_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let mut import = vec!["--data-dir", data_dir, "import", "--project", "ZOOKEEPER"];
    import.extend(ZOOKEEPER);

    let first = bugdash(&import);
    let again = bugdash(&[import.as_slice(), &["--format", "json"]].concat());
    let stored =
        bugdash(&["--data-dir", data_dir, "analyze", "--project", "ZOOKEEPER", "--format", "json"]);
    let files = bugdash(&[&["analyze"], ZOOKEEPER.as_slice(), &["--format", "json"]].concat());

    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let again: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(1827)));
    assert!(stored.status.success(), "{}", String::from_utf8_lossy(&stored.stderr));
    assert_eq!(stored.stdout, files.stdout);
}
