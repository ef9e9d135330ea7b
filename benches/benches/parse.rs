//! Reading throughput: JIRA REST JSON (the ZooKeeper arrays of issues) and delimited text
//! (the Kafka bug-fix data set, `;`-separated with multi-line cells).

// criterion's macros generate public functions that cannot carry doc comments.
#![allow(missing_docs)]

use bugdash::jira::{read_bytes, ReadOptions};
use bugdash_benches::{repo_path, zookeeper_files};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn rest_json(c: &mut Criterion) {
    let files: Vec<Vec<u8>> =
        zookeeper_files().iter().map(|p| std::fs::read(p).expect("example file")).collect();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("rest_json_zookeeper", |b| {
        b.iter(|| {
            let options = ReadOptions::default();
            files
                .iter()
                .map(|f| read_bytes("zk.json", f, &options).map_or(0, |i| i.len()))
                .sum::<usize>()
        })
    });
    group.finish();
}

fn delimited(c: &mut Criterion) {
    let path =
        repo_path("core/tests/fixtures/jira/apache_bugs_large/kafka-jira-bug-fix-dataset.csv");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping CSV benchmark: {} not found", path.display());
        return;
    };
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("csv_kafka", |b| {
        b.iter(|| read_bytes("kafka.csv", &bytes, &ReadOptions::default()).map_or(0, |i| i.len()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = rest_json, delimited
}
criterion_main!(benches);
