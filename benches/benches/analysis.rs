//! Full analysis (filters, summary, trends, areas, forecast, backtest, insights) of the
//! real ZooKeeper data and of copies scaled to 100k and 1M issues.

// criterion's macros generate public functions that cannot carry doc comments.
#![allow(missing_docs)]

use bugdash::analysis::{analyze, Params, Window};
use bugdash_benches::{scaled, zookeeper_issues};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn full_analysis(c: &mut Criterion) {
    let base = zookeeper_issues();
    let params = Params { window: Window::All, ..Params::default() };
    let mut group = c.benchmark_group("analysis");
    for &size in &[base.len(), 100_000, 1_000_000] {
        let issues = if size == base.len() { base.clone() } else { scaled(&base, size) };
        group.throughput(Throughput::Elements(size as u64));
        group.sample_size(if size >= 1_000_000 { 10 } else { 20 });
        group.bench_with_input(
            BenchmarkId::new("full_with_backtest", size),
            &issues,
            |b, issues| b.iter(|| analyze(issues, &params).map(|r| r.areas.len()).unwrap_or(0)),
        );
    }
    group.finish();
}

criterion_group!(benches, full_analysis);
criterion_main!(benches);
