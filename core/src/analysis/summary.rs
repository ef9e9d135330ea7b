//! Headline numbers over the window: bugs created, open and resolved, resolution time and
//! open age distributions, reopens, and counts by priority.

use super::prepare::{Prepared, Reopen};
use super::report::{PriorityCount, ReopenStats, Summary};
use super::stats::{distribution, round4};
use super::Context;
use crate::analysis::prepare::MS_PER_DAY;

/// Bug counts of one priority.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    bugs: u64,
    open: u64,
}

/// Computes the summary at `ctx.as_of` over `[ctx.window_start, ctx.as_of]`.
pub fn summarize(data: &Prepared, ctx: &Context) -> Summary {
    let rows = &data.rows[..data.known_at(ctx.as_of)];
    let mut tallies = vec![Tally::default(); data.priorities.len()];
    let (mut bugs, mut open, mut resolved) = (0u64, 0u64, 0u64);
    let mut resolution_days = Vec::new();
    let mut open_age_days = Vec::new();
    let mut reopen = ReopenStats::default();
    for row in rows {
        let tally = &mut tallies[row.priority as usize];
        if row.created >= ctx.window_start {
            bugs += 1;
            tally.bugs += 1;
        }
        if row.open_at(ctx.as_of) {
            open += 1;
            tally.open += 1;
            open_age_days.push((ctx.as_of - row.created) as f64 / MS_PER_DAY);
        } else if row.resolved >= ctx.window_start {
            resolved += 1;
            resolution_days.push(row.resolution_days());
            match row.reopen {
                Reopen::Unknown => {}
                Reopen::No => reopen.known += 1,
                Reopen::Yes => {
                    reopen.known += 1;
                    reopen.reopened += 1;
                }
            }
        }
    }
    reopen.rate = (reopen.known > 0).then(|| round4(reopen.reopened as f64 / reopen.known as f64));
    Summary {
        bugs,
        open,
        resolved,
        resolution_days: distribution(resolution_days),
        open_age_days: distribution(open_age_days),
        reopen,
        by_priority: by_priority(data, &tallies),
    }
}

/// Priorities present, most severe first, off-scale names next, `Unknown` last.
fn by_priority(data: &Prepared, tallies: &[Tally]) -> Vec<PriorityCount> {
    let mut present: Vec<usize> =
        (0..tallies.len()).filter(|&id| tallies[id].bugs + tallies[id].open > 0).collect();
    present.sort_by(|&a, &b| {
        let (pa, pb) = (&data.priorities[a], &data.priorities[b]);
        pa.placement.cmp(&pb.placement).then_with(|| pa.name.cmp(&pb.name))
    });
    present
        .into_iter()
        .map(|id| PriorityCount {
            priority: data.priorities[id].name.clone(),
            bugs: tallies[id].bugs,
            open: tallies[id].open,
        })
        .collect()
}
