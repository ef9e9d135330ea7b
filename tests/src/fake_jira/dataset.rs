//! The issues, changelogs and field list a fake JIRA serves, read from real recordings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// Which kind of JIRA the fake pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// JIRA Cloud: `/rest/api/3/search/jql` with tokens; the old search answers 410.
    Cloud,
    /// JIRA Data Center: `/rest/api/2/search` by offset with a silent page-size cap.
    DataCenter,
}

/// Which recorded `/rest/api/2/field` list the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldList {
    /// issues.apache.org (the instance the served issues come from).
    Apache,
    /// jira.fiware.org: Server style without `key`, a custom "FI-WARE Environment".
    Fiware,
}

/// What a fake JIRA holds at start.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Cloud or Data Center behaviour.
    pub flavor: Flavor,
    /// Issue objects as `/rest/api/2/issue/{key}` returns them.
    pub issues: Vec<Arc<Value>>,
    /// Whole changelogs (history entries, oldest first) by issue id, for issues whose
    /// recorded embedded changelog is cut off.
    pub changelogs: HashMap<String, Vec<Value>>,
    /// The field list served at `/rest/api/2/field`.
    pub fields: Value,
}

/// The path of a file in this crate's `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Reads a JSON fixture. Fixtures are part of the crate, so a missing or broken one is a
/// fault of the checkout and ends the test.
pub fn read_fixture(name: &str) -> Value {
    read_json_file(&fixture(name))
}

fn read_json_file(path: &Path) -> Value {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|fault| panic!("cannot read fixture {}: {fault}", path.display()));
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|fault| panic!("fixture {} is not JSON: {fault}", path.display()))
}

/// The three files of real ZooKeeper bugs in the repository's `examples/zookeeper/`.
pub fn zookeeper_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/zookeeper");
    (1..=3).map(|part| folder.join(format!("ZOOKEEPER-bugs-part{part}-of-3.json"))).collect()
}

/// The real ZooKeeper bugs (1,827 issue objects), read once per test binary.
pub fn zookeeper_issues() -> Arc<Vec<Arc<Value>>> {
    static ISSUES: OnceLock<Arc<Vec<Arc<Value>>>> = OnceLock::new();
    let load = || {
        let mut issues = Vec::new();
        for path in zookeeper_files() {
            match read_json_file(&path) {
                Value::Array(records) => issues.extend(records.into_iter().map(Arc::new)),
                _ => panic!("{} is not a JSON array of issues", path.display()),
            }
        }
        Arc::new(issues)
    };
    Arc::clone(ISSUES.get_or_init(load))
}

/// The recorded DRILL issues (DRILL-1, DRILL-38 and DRILL-138, whose changelog is cut off).
pub fn drill_issues() -> Vec<Value> {
    ["drill_1_issue.json", "drill_38_issue.json", "drill_138_issue.json"]
        .into_iter()
        .map(read_fixture)
        .collect()
}

impl Dataset {
    /// The ZooKeeper bugs and the DRILL issues, with Apache's field list.
    pub fn apache(flavor: Flavor) -> Self {
        let mut issues: Vec<Arc<Value>> = zookeeper_issues().iter().cloned().collect();
        issues.extend(drill_issues().into_iter().map(Arc::new));
        let whole = read_fixture("drill_138_full_changelog.json");
        let id = whole["id"].as_str().unwrap_or_default().to_owned();
        let histories = whole["histories"].as_array().cloned().unwrap_or_default();
        Dataset {
            flavor,
            issues,
            changelogs: HashMap::from([(id, histories)]),
            fields: read_fixture("apache_fields.json"),
        }
    }

    /// The same data with `copies` copies of each ZooKeeper bug, each copy under new ids
    /// and keys (`ZOOKEEPER-<n>`), for benchmarks at scale.
    pub fn apache_scaled(flavor: Flavor, copies: u32) -> Self {
        let mut dataset = Dataset::apache(flavor);
        let originals = zookeeper_issues();
        for copy in 1..copies.max(1) {
            for (index, issue) in originals.iter().enumerate() {
                let mut issue = Value::clone(issue);
                let serial = u64::from(copy) * 1_000_000 + index as u64;
                issue["id"] = Value::String((90_000_000 + serial).to_string());
                issue["key"] = Value::String(format!("ZOOKEEPER-{}", 100_000 + serial));
                dataset.issues.push(Arc::new(issue));
            }
        }
        dataset
    }

    /// This dataset with another recorded field list.
    pub fn with_field_list(mut self, list: FieldList) -> Self {
        self.fields = read_fixture(match list {
            FieldList::Apache => "apache_fields.json",
            FieldList::Fiware => "fiware_fields.json",
        });
        self
    }
}
