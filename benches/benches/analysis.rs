//! Full analysis (filters, summary, trends, areas, forecast, backtest, insights) of the
//! real ZooKeeper data and of copies scaled to 100k and 1M issues.
//!
//! Scaled copies share their strings with the original (an `ArcStr` clone), which issues
//! read from files never do; `full_with_backtest_unshared` analyses the same 100k issues
//! with every string allocated on its own, as after reading them (what `bugdash analyze`
//! and the Python module's `load` give the analysis).

// criterion's macros generate public functions that cannot carry doc comments.
#![allow(missing_docs)]

use bugdash::analysis::{analyze, Params, Window};
use bugdash::model::{Issue, Text};
use bugdash_benches::{scaled, zookeeper_issues};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn full_analysis(c: &mut Criterion) {
    let base = zookeeper_issues();
    let params = Params { window: Window::All, ..Params::default() };
    let mut cases: Vec<(&str, Vec<Issue>)> = vec![("full_with_backtest", base.clone())];
    for size in [100_000, 1_000_000] {
        cases.push(("full_with_backtest", scaled(&base, size)));
    }
    let unshared = scaled(&base, 100_000).iter().map(unshare).collect();
    cases.push(("full_with_backtest_unshared", unshared));
    let mut group = c.benchmark_group("analysis");
    for (name, issues) in &cases {
        let size = issues.len();
        group.throughput(Throughput::Elements(size as u64));
        group.sample_size(if size >= 1_000_000 { 10 } else { 20 });
        group.bench_with_input(BenchmarkId::new(*name, size), issues, |b, issues| {
            b.iter(|| analyze(issues, &params).map(|r| r.areas.len()).unwrap_or(0))
        });
    }
    group.finish();
}

/// `issue` with a string of its own in every text field.
fn unshare(issue: &Issue) -> Issue {
    let own = |text: &Text| Text::from(text.as_str());
    let own_all = |texts: &[Text]| texts.iter().map(own).collect();
    Issue {
        key: own(&issue.key),
        project: own(&issue.project),
        issue_type: own(&issue.issue_type),
        status: own(&issue.status),
        priority: issue.priority.as_ref().map(own),
        resolution: issue.resolution.as_ref().map(own),
        components: own_all(&issue.components),
        labels: own_all(&issue.labels),
        fix_versions: own_all(&issue.fix_versions),
        affects_versions: own_all(&issue.affects_versions),
        environment: issue.environment.as_ref().map(own),
        assignee: issue.assignee.as_ref().map(own),
        reporter: issue.reporter.as_ref().map(own),
        summary: own(&issue.summary),
        description: issue.description.as_ref().map(own),
        comments: own_all(&issue.comments),
        ..issue.clone()
    }
}

criterion_group!(benches, full_analysis);
criterion_main!(benches);
