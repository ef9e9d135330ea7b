//! The commands around the store as a new user meets them: what a failed or repeated
//! import leaves and says, projects asked for that the store lacks, data directories that
//! are mistyped, files or unwritable (each error naming the setting that chose the path),
//! and `migrate` saying what it applied, on SQLite and PostgreSQL.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::{bugdash, bugdash_with, stderr, ZOOKEEPER};
use crate::pg::TestDatabase;

/// `bugdash --data-dir DIR ARGS… FILES…`.
fn in_store(dir: &Path, args: &[&str], files: &[&str]) -> Output {
    let dir = dir.to_str().expect("utf-8 path");
    bugdash(&[&["--data-dir", dir], args, files].concat())
}

fn projects(dir: &Path) -> Vec<(String, u64)> {
    let output = in_store(dir, &["projects", "--format", "json"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    listed
        .iter()
        .map(|p| (p["key"].as_str().unwrap_or("").to_owned(), p["issues"].as_u64().unwrap_or(0)))
        .collect()
}

#[test]
fn a_failed_import_leaves_no_project_it_created() {
    let dir = tempfile::tempdir().expect("temp dir");

    let into_new_store = in_store(dir.path(), &["import", "--project", "HADOOP"], &ZOOKEEPER);
    let after_failure = projects(dir.path());
    let imported = in_store(dir.path(), &["import", "--project", "ZOOKEEPER"], &ZOOKEEPER);
    let beside_a_project = in_store(dir.path(), &["import", "--project", "HADOOP"], &ZOOKEEPER);

    assert_eq!(into_new_store.status.code(), Some(2));
    let message = stderr(&into_new_store);
    assert!(message.contains("no issue of HADOOP; they hold ZOOKEEPER"), "{message}");
    assert_eq!(after_failure, []);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(beside_a_project.status.code(), Some(2));
    assert_eq!(projects(dir.path()), [("ZOOKEEPER".to_owned(), 1827)]);
}

#[test]
fn a_repeated_import_reports_its_issues_unchanged_not_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let import = ["import", "--project", "ZOOKEEPER"];

    let first = in_store(dir.path(), &import, &ZOOKEEPER);
    let again = in_store(dir.path(), &import, &ZOOKEEPER);

    // Standard error is a pipe here, so progress comes as log lines.
    assert!(first.status.success(), "{}", stderr(&first));
    let progress = stderr(&first);
    assert!(progress.contains("1827 issues (1827 new, 0 updated, 0 unchanged)"), "{progress}");
    let progress = stderr(&again);
    assert!(progress.contains("1827 issues (0 new, 0 updated, 1827 unchanged)"), "{progress}");
    assert!(!progress.contains("writing"), "{progress}");
    let summary = String::from_utf8_lossy(&again.stdout);
    assert!(summary.contains("0 new, 0 updated, 1827 unchanged"), "{summary}");
}

#[test]
fn analyze_of_a_mistyped_stored_project_lists_the_stored_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let imported = in_store(dir.path(), &["import", "--project", "ZOOKEEPER"], &ZOOKEEPER);

    let mistyped = in_store(dir.path(), &["analyze", "--project", "ZOOKEPER"], &[]);
    let one_of_two = in_store(dir.path(), &["analyze", "--project", "ZOOKEEPER,KAFKA"], &[]);

    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(mistyped.status.code(), Some(2));
    let message = stderr(&mistyped);
    assert!(message.contains("no issue of ZOOKEPER; it holds ZOOKEEPER"), "{message}");
    assert_eq!(one_of_two.status.code(), Some(2));
    assert!(stderr(&one_of_two).contains("no issue of KAFKA"), "{}", stderr(&one_of_two));
}

#[test]
fn read_only_commands_on_a_missing_store_create_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mistyped = dir.path().join("bugdahs").join("data");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("an empty folder");

    let listed = in_store(&mistyped, &["projects"], &[]);
    let analysed = in_store(&mistyped, &["analyze", "--project", "ZOOKEEPER"], &[]);
    let from_env = bugdash_with(&["projects"], &[("BUGDASH_DATA_DIR", empty.to_str().unwrap())]);

    for output in [&listed, &analysed] {
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(output);
        assert!(message.contains("no BugDash store in the data directory"), "{message}");
        assert!(message.contains(&format!("{} (set by --data-dir)", mistyped.display())));
        assert!(message.contains("create an empty one with `bugdash migrate`"), "{message}");
    }
    assert!(!dir.path().join("bugdahs").exists(), "nothing is created");
    assert_eq!(from_env.status.code(), Some(2));
    assert!(stderr(&from_env).contains("(set by BUGDASH_DATA_DIR)"), "{}", stderr(&from_env));
    assert_eq!(std::fs::read_dir(&empty).expect("the folder").count(), 0, "nothing is created");
}

#[test]
fn a_data_dir_that_is_a_file_is_named_with_its_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "not a folder").expect("a file");
    let path = file.to_str().expect("utf-8 path");

    let flag = in_store(&file, &["import", "--project", "ZOOKEEPER"], &ZOOKEEPER);
    let env = bugdash_with(&["projects"], &[("BUGDASH_DATA_DIR", path)]);

    for (output, setting) in [(&flag, "--data-dir"), (&env, "BUGDASH_DATA_DIR")] {
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(output);
        let expected =
            format!("the data directory {path} (set by {setting}) is a file, not a directory");
        assert!(message.contains(&expected), "{message}");
        assert!(!message.contains("File exists"), "{message}");
    }
}

/// Whoever runs the tests, the binary must meet a directory it may not write: as root,
/// which writes anywhere, the binary (copied where another user may run it) runs as the
/// unprivileged user `nobody`.
#[test]
fn a_data_dir_that_cannot_be_written_is_named_with_its_setting() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("a folder");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let as_root = std::fs::metadata(&locked).expect("metadata").uid() == 0;

    let output = unprivileged_bugdash(dir.path(), as_root, &locked, "migrate");

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    let expected = format!("{} (set by --data-dir) is not writable", locked.display());
    assert!(message.contains(&expected), "{message}");
    assert!(!message.contains("code: 14"), "{message}");
}

#[test]
fn migrate_lists_the_migrations_it_applies_on_sqlite_then_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_migrations = migration_count("sqlite");

    let first = in_store(dir.path(), &["migrate", "--format", "json"], &[]);
    let again = in_store(dir.path(), &["migrate"], &[]);

    let first = applied(&first);
    assert_eq!(first.len(), sqlite_migrations);
    assert_eq!(first[0]["version"], 20250101000000_i64);
    assert_eq!(first[0]["description"], "store");
    assert!(again.status.success(), "{}", stderr(&again));
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.contains("SQLite database") && said.contains("no migration needed"), "{said}");
}

#[test]
fn migrate_lists_the_migrations_it_applies_on_postgres_then_none() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let database = runtime.block_on(TestDatabase::create());
    let url = database.url.as_str();

    let first = bugdash(&["--database-url", url, "migrate"]);
    let again = bugdash(&["--database-url", url, "migrate", "--format", "json"]);

    assert!(first.status.success(), "{}", stderr(&first));
    let said = String::from_utf8_lossy(&first.stdout);
    let count = migration_count("postgres");
    let heading = format!("applied {count} migration(s):");
    assert!(said.contains("PostgreSQL database") && said.contains(&heading), "{said}");
    assert!(said.contains("  20250101000000 store\n"), "{said}");
    assert!(applied(&again).is_empty(), "nothing left to apply");
}

/// The migrations an output of `migrate --format json` lists as applied.
fn applied(output: &Output) -> Vec<Value> {
    assert!(output.status.success(), "{}", stderr(output));
    let said: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    said["applied"].as_array().expect("a list of migrations").clone()
}

/// How many migrations a backend has: the SQL files in its folder.
fn migration_count(backend: &str) -> usize {
    let folder = super::repo().join("migrations").join(backend);
    let files = std::fs::read_dir(folder).expect("the migrations folder");
    files.filter(|f| f.as_ref().is_ok_and(|f| f.path().extension() == Some("sql".as_ref()))).count()
}

/// A data directory that holds a store the user may not look into is unreadable, not
/// empty: telling them it "holds no bugdash.db" and to fill a store there sends them to a
/// command that fails too. As root the binary runs as `nobody`, for whom the root-owned
/// folder (mode 0700) is closed; otherwise the folder is closed to its owner (mode 0000).
#[test]
fn a_data_dir_that_cannot_be_read_is_not_called_empty() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let closed = dir.path().join("closed");
    let imported = in_store(&closed, &["import", "--project", "ZOOKEEPER"], &ZOOKEEPER[..1]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let as_root = std::fs::metadata(&closed).expect("metadata").uid() == 0;
    let mode = if as_root { 0o700 } else { 0o000 };
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(mode)).unwrap();

    let output = unprivileged_bugdash(dir.path(), as_root, &closed, "projects");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains(&format!("{} (set by --data-dir)", closed.display())), "{message}");
    assert!(!message.contains("holds no bugdash.db"), "{message}");
    assert!(message.contains("ermission denied"), "{message}");
}

/// SQLite opens a store file it may only read in read-only mode: a write failed with
/// "attempt to write a readonly database" (exit 1), naming neither the file nor the
/// setting, and reading a WAL database needs write access too. As root the binary runs as `nobody`, for whom the root-owned file (mode
/// 0644) is read-only; otherwise the file is made read-only for its owner.
#[test]
fn a_store_file_that_cannot_be_written_is_named_with_its_setting() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let imported = in_store(&data, &["import", "--project", "ZOOKEEPER"], &ZOOKEEPER[..1]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let store_file = data.join("bugdash.db");
    let as_root = std::fs::metadata(&store_file).expect("metadata").uid() == 0;
    let mode = if as_root { 0o644 } else { 0o444 };
    std::fs::set_permissions(&store_file, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();

    let output = unprivileged_bugdash(dir.path(), as_root, &data, "projects");

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    let expected = format!(
        "the bugdash.db in the data directory {} (set by --data-dir) cannot be read and \
         written",
        data.display()
    );
    assert!(message.contains(&expected), "{message}");
    assert!(message.contains("ermission denied"), "{message}");
}

/// `bugdash --data-dir DATA COMMAND` (in `dir`, with no database URL) as a user whom
/// permissions bind: as root (whom they do not bind) a copy in `dir` run as `nobody`,
/// since root's build folder may be closed to it.
fn unprivileged_bugdash(dir: &Path, as_root: bool, data: &Path, command: &str) -> Output {
    use std::os::unix::process::CommandExt;

    let mut bugdash = if as_root {
        let binary = dir.join("bugdash");
        std::fs::copy(env!("CARGO_BIN_EXE_bugdash"), &binary).expect("copy the binary");
        let mut bugdash = std::process::Command::new(binary);
        bugdash.uid(65534).gid(65534);
        bugdash
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_bugdash"))
    };
    bugdash
        .arg("--data-dir")
        .arg(data)
        .arg(command)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DB_HOST")
        .output()
        .expect("the bugdash binary runs")
}

#[test]
fn a_mistyped_job_name_is_refused_before_a_store_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    let output = in_store(&data, &["jobs", "run", "no-such-job"], &[]);

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no-such-job"), "{}", stderr(&output));
    assert!(!data.exists(), "nothing is created");
}
