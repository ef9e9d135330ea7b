//! Shared inputs of the benchmarks: the real data shipped in the repository and copies of
//! it scaled to any size.

use std::path::PathBuf;

use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::{boxed_list, Issue, StatusChange};

/// Paths of the ZooKeeper REST JSON files shipped under `examples/`.
pub fn zookeeper_files() -> Vec<PathBuf> {
    let dir = repo_path("examples/zookeeper");
    (1..=3).map(|part| dir.join(format!("ZOOKEEPER-bugs-part{part}-of-3.json"))).collect()
}

/// A path relative to the repository root.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// Every ZooKeeper issue, read with the real reader.
pub fn zookeeper_issues() -> Vec<Issue> {
    zookeeper_files()
        .iter()
        .flat_map(|path| match read_path(path, &ReadOptions::default()) {
            Ok(issues) => issues,
            Err(error) => panic!("benchmark input unreadable: {error}"),
        })
        .collect()
}

/// `count` issues made by replicating `base`: copy `k` of an issue has its dates shifted by
/// `k` weeks, its key and id renumbered, and its components and labels renamed into one of
/// 40 families (`server~7`), so areas multiply as a larger organisation's would. Long text
/// (description, comments) is dropped: the analysis never reads it.
pub fn scaled(base: &[Issue], count: usize) -> Vec<Issue> {
    assert!(!base.is_empty(), "cannot scale an empty data set");
    (0..count)
        .map(|index| {
            let copy = index / base.len();
            replica(&base[index % base.len()], copy, index)
        })
        .collect()
}

fn replica(issue: &Issue, copy: usize, index: usize) -> Issue {
    const WEEK_MILLIS: i64 = 7 * 86_400_000;
    let shift = |t: bugdash::Timestamp| {
        bugdash::Timestamp::from_millis(t.millis() - (copy as i64 % 52) * WEEK_MILLIS)
    };
    let family = copy % 40;
    let rename =
        |names: &[bugdash::model::Text]| boxed_list(names.iter().map(|n| format!("{n}~{family}")));
    Issue {
        id: Some(index as u64 + 1),
        key: format!("{}-{}", issue.project, index + 1).into(),
        created: issue.created.map(shift),
        updated: issue.updated.map(shift),
        resolved: issue.resolved.map(shift),
        components: rename(&issue.components),
        labels: rename(&issue.labels),
        description: None,
        comments: Box::default(),
        status_history: issue
            .status_history
            .iter()
            .map(|change| StatusChange { at: shift(change.at), ..change.clone() })
            .collect(),
        ..issue.clone()
    }
}
