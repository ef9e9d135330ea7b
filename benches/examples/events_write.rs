//! What writing usage events costs the SQLite store, per event: 200,000 events like the
//! ones a cached analysis request records (100 accounts, 20 events per millisecond),
//! written through `AnalyticsStore::insert_events` in batches as the recorder writes them.
//!
//! ```text
//! cargo run --release -p bugdash-benches --example events_write -- [BATCH]
//! ```
//!
//! `BATCH` defaults to the recorder's batch size. Prints microseconds per event (wall
//! clock, the calling task and SQLite's worker thread together) and events per second.

// A measuring tool: its figures go to the terminal.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use bugdash::analytics::{Action, Event, RecorderConfig};
use bugdash::model::Timestamp;
use bugdash::store::analytics::AnalyticsStore;
use bugdash::store::{SqliteStore, Store};

const EVENTS: i64 = 200_000;

#[tokio::main]
async fn main() -> bugdash::Result<()> {
    let batch = match std::env::args().nth(1) {
        None => RecorderConfig::default().batch_size,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                println!("usage: events_write [BATCH]  (BATCH a positive number of events)");
                std::process::exit(2);
            }
        },
    };
    let folder = tempfile::tempdir().map_err(|e| bugdash::Error::Internal(e.to_string()))?;
    let store = SqliteStore::open(&folder.path().join("events.db")).await?;
    store.migrate().await?;
    let start = 1_764_000_000_000i64;
    let events: Vec<Event> = (0..EVENTS)
        .map(|i| Event {
            account_id: Some(i % 100 + 1),
            session_id: Some(i % 100 + 1),
            department: Some("Platform".into()),
            project: Some("BIG".into()),
            filters: Some(serde_json::json!(["window", "period", "area"])),
            method: Some("GET".into()),
            endpoint: Some("/api/projects/{key}/analysis".into()),
            status: Some(200),
            latency_ms: Some(0.3),
            client_addr: Some("127.0.0.1".into()),
            ..Event::new(Action::AnalyzeProject, Timestamp::from_millis(start + i / 20))
        })
        .collect();
    let began = Instant::now();
    for chunk in events.chunks(batch) {
        store.insert_events(chunk).await?;
    }
    let seconds = began.elapsed().as_secs_f64();
    println!(
        "events_write batch {batch}: {:.2} us/event, {:.0} events/s",
        seconds * 1e6 / EVENTS as f64,
        EVENTS as f64 / seconds
    );
    Ok(())
}
