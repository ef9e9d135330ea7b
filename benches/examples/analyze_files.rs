//! Times the full analysis (window all, as `bugdash.analyze(issues, window="all")`) of the
//! issues in the given files, read as `bugdash analyze` and the Python module's `load`
//! read them (every file, then duplicates dropped).
//!
//! `bindings-python/bench/bench.py` runs it on the very files it times from Python, so the
//! two figures come from the same data on the same machine at the same moment:
//!
//! ```text
//! cargo build --release -p bugdash-benches --example analyze_files
//! target/release/examples/analyze_files [--runs N] FILE...
//! ```
//!
//! Prints one line: `issues N median M ms best B ms runs R` (one warm-up run first, as the
//! Python side does).

// A measuring tool: its figures and faults go to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bugdash::analysis::{analyze, Params, Window};
use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::dedupe_issues;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut runs = 20usize;
    if args.peek().map(String::as_str) == Some("--runs") {
        args.next();
        match args.next().and_then(|n| n.parse().ok()).filter(|&n: &usize| n > 0) {
            Some(n) => runs = n,
            None => return usage("--runs needs a positive count"),
        }
    }
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if paths.is_empty() {
        return usage("no files given");
    }
    let mut issues = Vec::new();
    for path in &paths {
        match read_path(path, &ReadOptions::default()) {
            Ok(mut read) => issues.append(&mut read),
            Err(error) => {
                eprintln!("analyze_files: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (issues, _) = dedupe_issues(issues);
    let params = Params { window: Window::All, ..Params::default() };
    let mut millis = Vec::with_capacity(runs);
    for run in 0..=runs {
        let started = Instant::now();
        let report = match analyze(&issues, &params) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("analyze_files: {error}");
                return ExitCode::FAILURE;
            }
        };
        std::hint::black_box(report);
        if run > 0 {
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    millis.sort_by(f64::total_cmp);
    let median = if runs % 2 == 1 {
        millis[runs / 2]
    } else {
        (millis[runs / 2 - 1] + millis[runs / 2]) / 2.0
    };
    println!("issues {} median {median:.1} ms best {:.1} ms runs {runs}", issues.len(), millis[0]);
    ExitCode::SUCCESS
}

fn usage(fault: &str) -> ExitCode {
    eprintln!("analyze_files: {fault}\nusage: analyze_files [--runs N] FILE...");
    ExitCode::from(2)
}
