//! The `bugdash` binary for tests that run it as a child process.
//!
//! Cargo hands `CARGO_BIN_EXE_*` only to the tests of the crate that owns the binary, so
//! this crate builds it itself: `cargo build -p bugdash-cli` into the target folder the
//! test executable lives in (`<target>/<profile>/deps/e2e-…`), once per test process.
//! Building every time rather than reusing a file found there keeps a stale binary from
//! being tested; when nothing changed the build is a no-op. Works the same under
//! `cargo test` and `cargo nextest`, which both place tests under `deps/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The path of a freshly built `bugdash`; panics with cargo's output when the build fails.
pub fn bugdash() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build)
}

fn build() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable's folder");
    let profile_dir = deps.parent().expect("the profile folder above deps/");
    let target_dir = profile_dir.parent().expect("the target folder");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());

    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", "bugdash-cli", "--bin", "bugdash", "--target-dir"])
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|name| name == "release") {
        command.arg("--release");
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building bugdash failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let binary = profile_dir.join(format!("bugdash{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.is_file(), "cargo built no {}", binary.display());
    binary
}

/// A `bugdash` command with a clean environment: only the settings given here reach it,
/// and it runs in an empty folder so that no `.env` or `bugdash.toml` is picked up.
pub fn command(folder: &Path, vars: &[(&str, String)]) -> Command {
    let mut command = Command::new(bugdash());
    command.env_clear().current_dir(folder).env("HOME", folder);
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command
}
