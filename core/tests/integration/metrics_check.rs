//! A check of Prometheus text exposition: every sample line is `name{labels} value`, every
//! metric is announced by `# HELP` and `# TYPE` before its samples, names and label names
//! are valid, and histogram buckets are cumulative and end in `+Inf`; and `promtool check
//! metrics` (Debian's `prometheus` package; `scripts/test` provides it) must pass too.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Splits `a="x",b="y\"z"` into pairs, panicking on anything malformed.
fn labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad labels {text}"));
        assert!(valid_name(name), "bad label name {name:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => value.push(chars.next().expect("escape").1),
                Some((at, '"')) => break at,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {text}"),
            }
        };
        out.push((name.to_owned(), value));
        rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
    }
    out
}

/// Panics naming the first fault of `text`.
pub fn check(text: &str) {
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut buckets: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.insert(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(typed.insert(name.to_owned(), kind.to_owned()).is_none(), "twice: {name}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, label_text) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect("closing brace")),
            None => (series, ""),
        };
        assert!(valid_name(name), "bad metric name {name:?}");
        let pairs = labels(label_text);
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family) && helped.contains(family), "{family} not announced");
        if name.ends_with("_bucket") {
            let le = pairs.iter().find(|(n, _)| n == "le").expect("le label").1.clone();
            let others: Vec<_> = pairs.iter().filter(|(n, _)| n != "le").collect();
            let key = format!("{family}{others:?}");
            let bound: f64 = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() };
            let previous = buckets.insert(key, (bound, value as u64));
            if let Some((last_bound, last_count)) = previous.filter(|(b, _)| b.is_finite()) {
                assert!(bound > last_bound && value as u64 >= last_count, "not cumulative: {line}");
            }
        }
    }
    assert!(buckets.values().all(|(bound, _)| bound.is_infinite()), "a histogram lacks +Inf");
    promtool(text);
}

/// `promtool check metrics` over the text; fails when promtool is missing.
fn promtool(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        panic!(
            "promtool is not installed: install Debian's prometheus package, or run \
             scripts/test, which unpacks promtool into a cache folder"
        );
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
