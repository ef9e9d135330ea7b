//! Memory per issue: the model's own cost beyond text, and the analysis's peak working
//! memory for 1M issues, measured with a counting allocator. Prints its figures.

// A counting allocator has to implement `GlobalAlloc`, which is an unsafe trait.
#![allow(unsafe_code)]
// Printing its figures is what this benchmark is for.
#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bugdash::analysis::{analyze, Params, Window};
use bugdash::model::Issue;
use bugdash_benches::{scaled, zookeeper_issues};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes an issue owns that are not text: list headers and status changes.
fn structure_bytes(issue: &Issue) -> usize {
    let lists = [&issue.components, &issue.labels, &issue.fix_versions, &issue.affects_versions];
    let list_bytes: usize =
        lists.iter().map(|l| l.len() * std::mem::size_of::<bugdash::model::Text>()).sum();
    let comments = issue.comments.len() * std::mem::size_of::<bugdash::model::Text>();
    let history = issue.status_history.len() * std::mem::size_of::<bugdash::StatusChange>();
    std::mem::size_of::<Issue>() + list_bytes + comments + history
}

fn main() {
    const SIZE: usize = 1_000_000;
    let issues = scaled(&zookeeper_issues(), SIZE);
    let model: usize = issues.iter().map(structure_bytes).sum();

    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let params = Params { window: Window::All, ..Params::default() };
    let report = analyze(&issues, &params).expect("analysis of scaled data");
    let working = PEAK.load(Ordering::Relaxed) - before;

    println!("memory/issues                 {SIZE}");
    println!("memory/areas                  {}", report.areas.len());
    println!("memory/model_bytes_per_issue  {:.1}", model as f64 / SIZE as f64);
    println!("memory/analysis_peak_bytes_per_issue  {:.1}", working as f64 / SIZE as f64);
}
