//! `bugdash users` end to end on an SQLite store in a temporary folder: accounts added,
//! listed, disabled, enabled and promoted, and what is refused with exit code 2.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn users(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bugdash"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("users")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DB_HOST")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .env_remove("JWT_SECRET_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("the bugdash binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn listed(data_dir: &Path) -> Vec<Value> {
    let output = users(data_dir, &["list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).expect("the list is JSON")
}

const ADD_ANN: [&str; 9] = [
    "add",
    "--email",
    "Ann@Example.com",
    "--name",
    "Ann Lee",
    "--department",
    "QA",
    "--password",
    "lantern-quarry-velvet",
];

#[test]
fn accounts_are_added_listed_promoted_disabled_and_enabled() {
    let dir = tempfile::tempdir().unwrap();

    let added = users(dir.path(), &ADD_ANN);
    let promoted = users(dir.path(), &["set-role", "ann@example.com", "admin"]);
    // The only active admin cannot be disabled: a second one makes room.
    let mut add_bo = ADD_ANN.to_vec();
    add_bo[2] = "bo@example.com";
    add_bo.push("--admin");
    let second_admin = users(dir.path(), &add_bo);
    let disabled = users(dir.path(), &["disable", "ANN@example.com"]);
    let after_disable = listed(dir.path());
    let enabled = users(dir.path(), &["enable", "ann@example.com"]);
    let table = users(dir.path(), &["list"]);

    for output in [&added, &promoted, &second_admin, &disabled, &enabled, &table] {
        assert!(output.status.success(), "{}", stderr(output));
    }
    assert!(stderr(&added).contains("created account 1 for Ann@Example.com (user)"));
    assert_eq!(after_disable.len(), 2);
    let ann = &after_disable[0];
    assert_eq!(
        (&ann["email"], &ann["name"], &ann["department"]),
        (&Value::from("Ann@Example.com"), &Value::from("Ann Lee"), &Value::from("QA"))
    );
    assert_eq!((&ann["role"], &ann["active"]), (&Value::from("admin"), &Value::from(false)));
    assert!(ann.get("password_hash").is_none());
    assert_eq!(listed(dir.path())[0]["active"], true);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.contains("Ann@Example.com") && table.contains("admin"), "{table}");
}

#[test]
fn a_taken_email_a_weak_password_or_an_unknown_account_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    assert!(users(dir.path(), &ADD_ANN).status.success());
    let mut again = ADD_ANN;
    again[2] = "ANN@example.COM";
    let mut weak = ADD_ANN;
    weak[2] = "bo@example.com";
    weak[8] = "password1";

    let cases = [
        (users(dir.path(), &again), "already exists"),
        (users(dir.path(), &weak), "common"),
        (users(dir.path(), &["disable", "nobody@example.com"]), "nobody@example.com"),
        (users(dir.path(), &["set-role", "ann@example.com", "root"]), "root"),
        (
            users(dir.path(), &["set-password", "ann@example.com", "--password", "short"]),
            "8 to 128",
        ),
    ];

    for (output, words) in &cases {
        assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
        assert!(stderr(output).contains(words), "{words}: {}", stderr(output));
    }
    assert_eq!(listed(dir.path()).len(), 1);
}

#[test]
fn without_a_password_or_a_terminal_to_ask_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();

    let output = users(dir.path(), &["add", "--email", "cy@example.com", "--name", "Cy"]);

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not a terminal"), "{}", stderr(&output));
    assert!(listed(dir.path()).is_empty());
}
