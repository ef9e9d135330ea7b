//! Scoring the model on the data's own past.
//!
//! Cut-offs fall every horizon `H` going back from `as_of - H` (at most 12), each with at
//! least `2H` days of bug history before it. At a cut-off `c` the rows created by `c` are
//! measured and scored by the same code as the live report with `as_of = c`; the outcome is
//! the number of bugs each area gets in `(c, c + H]`. All (cut-off, area) pairs are pooled.
//! The naive baseline predicts from the bugs in the last horizon `(c - H, c]`.

use super::areas::{measure, score};
use super::explain::{plural, whole_days};
use super::prepare::Prepared;
use super::report::Backtest;
use super::stats::{auc, round4};
use super::Context;

/// Most cut-offs a backtest uses.
pub const MAX_CUTOFFS: i64 = 12;

/// One (cut-off, area) pair.
#[derive(Debug, Clone, Copy)]
struct Pair {
    risk: f64,
    expected: f64,
    last: f64,
    actual: f64,
}

/// The cut-off instants, most recent first.
pub fn cutoffs(data: &Prepared, ctx: &Context) -> Vec<i64> {
    let Some(first) = data.rows.first().map(|row| row.created) else {
        return Vec::new();
    };
    let h = ctx.horizon_ms;
    (1..=MAX_CUTOFFS).map(|j| ctx.as_of - j * h).take_while(|&c| c - first >= 2 * h).collect()
}

/// Runs the backtest.
pub fn run(data: &Prepared, ctx: &Context) -> Backtest {
    let cutoffs = cutoffs(data, ctx);
    let pairs: Vec<Pair> = per_cutoff(&cutoffs, |c| pairs_at(data, ctx, c)).concat();
    let outcomes: Vec<bool> = pairs.iter().map(|p| p.actual > 0.0).collect();
    let column = |f: fn(&Pair) -> f64| pairs.iter().map(f).collect::<Vec<f64>>();
    let mean = |f: &dyn Fn(&Pair) -> f64| {
        (!pairs.is_empty()).then(|| pairs.iter().map(f).sum::<f64>() / pairs.len() as f64)
    };
    let brier = |p: f64, actual: f64| {
        let y = if actual > 0.0 { 1.0 } else { 0.0 };
        (p - y) * (p - y)
    };
    let mut backtest = Backtest {
        cutoffs: cutoffs.len() as u32,
        horizon_days: ctx.horizon_days,
        pairs: pairs.len() as u64,
        positives: outcomes.iter().filter(|&&o| o).count() as u64,
        auc: auc(&column(|p| p.risk), &outcomes).map(round4),
        baseline_auc: auc(&column(|p| p.last), &outcomes).map(round4),
        brier: mean(&|p| brier(1.0 - (-p.expected).exp(), p.actual)).map(round4),
        baseline_brier: mean(&|p| brier(1.0 - (-p.last).exp(), p.actual)).map(round4),
        mae: mean(&|p| (p.expected - p.actual).abs()).map(round4),
        baseline_mae: mean(&|p| (p.last - p.actual).abs()).map(round4),
        verdict: String::new(),
    };
    backtest.verdict = verdict(&backtest, data, ctx);
    backtest
}

/// Runs `work` for every cut-off, spread over the available cores (cut-offs are
/// independent); results come back in cut-off order, so the report does not depend on
/// scheduling.
fn per_cutoff<T: Send>(cutoffs: &[i64], work: impl Fn(i64) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(cutoffs.len());
    if threads <= 1 {
        return cutoffs.iter().map(|&c| work(c)).collect();
    }
    let work = &work;
    let mut lanes: Vec<Vec<T>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|lane| {
                // Interleaved so that each lane gets recent (large) and old (small) cut-offs.
                scope.spawn(move || {
                    cutoffs.iter().skip(lane).step_by(threads).map(|&c| work(c)).collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let mut iterators: Vec<_> = lanes.iter_mut().map(|lane| lane.drain(..)).collect();
    (0..cutoffs.len()).filter_map(|i| iterators[i % threads].next()).collect()
}

/// Scores every area known at `c` and pairs it with what followed.
fn pairs_at(data: &Prepared, ctx: &Context, c: i64) -> Vec<Pair> {
    let at_cutoff = ctx.at(c);
    let measures = measure(data, c, &at_cutoff);
    let scored = score(&measures, &at_cutoff);
    let mut actual = vec![0u64; data.area_names.len()];
    for row in &data.rows[data.known_at(c)..data.known_at(c + ctx.horizon_ms)] {
        for &area in data.areas(row) {
            actual[area as usize] += 1;
        }
    }
    scored
        .iter()
        .enumerate()
        .filter_map(|(id, scored)| {
            let scored = scored.as_ref()?;
            Some(Pair {
                risk: scored.risk,
                expected: scored.expected,
                last: measures.areas[id].recent as f64,
                actual: actual[id] as f64,
            })
        })
        .collect()
}

/// The backtest in words.
fn verdict(backtest: &Backtest, data: &Prepared, ctx: &Context) -> String {
    let h = ctx.horizon_days;
    if backtest.cutoffs == 0 {
        let history = super::forecast::history_days(data, ctx.as_of);
        let every = if h == 1 { "every day".to_string() } else { format!("every {h} days") };
        return format!(
            "Not enough history for a backtest: it needs at least {} days of bugs before the \
             analysis date (a cut-off {every}, each with {} days of history before it and {} \
             after it); this data has {}.",
            3 * h,
            2 * h,
            plural(u64::from(h), "day"),
            whole_days(history)
        );
    }
    let scope = format!(
        "Over {} ({}, {} with a bug)",
        plural(u64::from(backtest.cutoffs), "cut-off"),
        plural(backtest.pairs, "area-period"),
        backtest.positives
    );
    let ranking = ranking_words(backtest);
    let counts = match (backtest.mae, backtest.baseline_mae) {
        (Some(model), Some(baseline)) => format!(
            "; its {h}-day forecasts were off by {model:.2} bugs per area on average against \
             {baseline:.2} for the baseline"
        ),
        _ => String::new(),
    };
    let brier = match (backtest.brier, backtest.baseline_brier) {
        (Some(model), Some(baseline)) => {
            format!(" (Brier score {model:.3} vs {baseline:.3}, lower is better)")
        }
        _ => String::new(),
    };
    let caution = if backtest.cutoffs < 4 {
        format!(" With so few cut-offs ({}) treat this as a rough indication.", backtest.cutoffs)
    } else {
        String::new()
    };
    format!("{scope} {ranking}{counts}{brier}.{caution}")
}

/// How the model's ranking compared with the baseline's.
fn ranking_words(backtest: &Backtest) -> String {
    match (backtest.auc, backtest.baseline_auc) {
        (Some(model), Some(baseline)) => {
            let comparison = if (model - baseline).abs() < 0.005 {
                "about as well as"
            } else if model > baseline {
                "better than"
            } else {
                "worse than"
            };
            format!(
                "the model ranked areas {comparison} the naive last-period baseline (AUC \
                 {model:.2} vs {baseline:.2})"
            )
        }
        _ => "ranking could not be scored (every area had the same outcome)".to_string(),
    }
}
