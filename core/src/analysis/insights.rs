//! Rule-based findings, each with a severity, a message with its numbers, the evidence by
//! name and up to ten issue keys behind it. Thresholds are constants here and documented in
//! `docs/risk-model.md`.

use std::collections::BTreeMap;

use super::areas::{AreaMeasure, Measures, Scored};
use super::explain::{days, p_text, percent, plural, top_priority_label};
use super::params::Period;
use super::prepare::{Prepared, Reopen, Row, MS_PER_DAY};
use super::report::{AreaRisk, Insight, Severity, Trends};
use super::stats::{mean_and_variance, round4};
use super::trends::{period_index, period_start, period_start_day};
use super::Context;
use crate::model::HistorySource;

/// Periods before the last full one that the spike rule compares with.
pub const SPIKE_BASELINE_PERIODS: i64 = 12;
/// Fewest bugs in a period for a spike.
pub const SPIKE_MIN_BUGS: u64 = 5;
/// Consecutive growing periods for backlog growth.
pub const BACKLOG_GROWTH_PERIODS: usize = 4;
/// Age in days above which an open top-priority bug is old.
pub const OLD_CRITICAL_DAYS: f64 = 90.0;
/// Reopen hotspot: area rate at least this multiple of the project's ...
pub const REOPEN_HOTSPOT_RATIO: f64 = 2.0;
/// ... with at least this many reopened bugs.
pub const REOPEN_HOTSPOT_MIN: u64 = 3;
/// Slow resolution: area median at least this multiple of the project's ...
pub const SLOW_RESOLUTION_RATIO: f64 = 2.0;
/// ... over at least this many resolved bugs.
pub const SLOW_RESOLUTION_MIN: u64 = 5;
/// Concentration: the top 3 areas hold at least this share of the window's bugs ...
pub const CONCENTRATION_SHARE: f64 = 0.5;
/// ... among at least this many areas with bugs in the window.
pub const CONCENTRATION_MIN_AREAS: usize = 5;
/// Share of resolved bugs without (complete) history that makes reopen figures partial.
pub const INCOMPLETE_HISTORY_SHARE: f64 = 0.1;
/// Share of bugs without a priority worth flagging.
pub const UNKNOWN_PRIORITY_SHARE: f64 = 0.2;
/// Issue keys listed per insight.
const MAX_KEYS: usize = 10;

/// What the rules look at.
pub struct Inputs<'a> {
    /// Prepared data.
    pub data: &'a Prepared<'a>,
    /// Analysis context.
    pub ctx: &'a Context,
    /// Live trends.
    pub trends: &'a Trends,
    /// Live measurements.
    pub measures: &'a Measures,
    /// Live scores by area id.
    pub scored: &'a [Option<Scored>],
    /// Live area list.
    pub areas: &'a [AreaRisk],
}

/// Runs every rule; most severe first, then by kind and area.
pub fn find(inputs: &Inputs) -> Vec<Insight> {
    let mut found = Vec::new();
    found.extend(inflow_spike(inputs));
    found.extend(backlog_growth(inputs));
    found.extend(old_critical_open(inputs));
    found.extend(reopen_hotspots(inputs));
    found.extend(slow_resolution(inputs));
    found.extend(concentration(inputs));
    found.extend(rising_inflow(inputs));
    found.extend(incomplete_history(inputs));
    found.extend(unknown_priority(inputs));
    found.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.area.cmp(&b.area))
    });
    found
}

fn insight(
    kind: &str,
    severity: Severity,
    message: String,
    area: Option<String>,
    evidence: &[(&str, f64)],
    issues: Vec<String>,
) -> Insight {
    Insight {
        kind: kind.to_string(),
        severity,
        message,
        area,
        evidence: evidence
            .iter()
            .map(|(name, value)| (name.to_string(), round4(*value)))
            .collect::<BTreeMap<_, _>>(),
        issues,
    }
}

/// Keys of the first [`MAX_KEYS`] rows (rows are in creation order).
fn keys<'r>(data: &Prepared, rows: impl Iterator<Item = &'r Row>) -> Vec<String> {
    rows.take(MAX_KEYS).map(|row| data.key(row).to_string()).collect()
}

fn known<'a>(inputs: &'a Inputs) -> &'a [Row] {
    &inputs.data.rows[..inputs.data.known_at(inputs.ctx.as_of)]
}

fn period_word(period: Period) -> &'static str {
    match period {
        Period::Week => "week",
        Period::Month => "month",
    }
}

fn inflow_spike(inputs: &Inputs) -> Option<Insight> {
    let (data, ctx) = (inputs.data, inputs.ctx);
    let last_full = period_index(ctx.as_of, ctx.period) - 1;
    let baseline_start = period_start(last_full - SPIKE_BASELINE_PERIODS, ctx.period);
    // Without history before the baseline, empty early periods would fake a spike.
    if data.rows.first()?.created > baseline_start {
        return None;
    }
    let spike_start = period_start(last_full, ctx.period);
    let spike_end = period_start(last_full + 1, ctx.period);
    let mut counts = vec![0f64; SPIKE_BASELINE_PERIODS as usize];
    let mut spike = 0u64;
    let rows = &data.rows[data.known_at(baseline_start - 1)..data.known_at(spike_end - 1)];
    for row in rows {
        let index = period_index(row.created, ctx.period) - (last_full - SPIKE_BASELINE_PERIODS);
        match usize::try_from(index) {
            Ok(i) if i < counts.len() => counts[i] += 1.0,
            _ => spike += 1,
        }
    }
    let (mean, variance) = mean_and_variance(&counts)?;
    let sd = variance.sqrt();
    let threshold = mean + 3.0 * sd;
    if spike < SPIKE_MIN_BUGS || spike as f64 <= threshold {
        return None;
    }
    let word = period_word(ctx.period);
    let date = super::trends::date_of_day(period_start_day(last_full, ctx.period));
    let message = format!(
        "{} created in the {word} of {date}, against {mean:.1} ± {sd:.1} per {word} in the \
         {SPIKE_BASELINE_PERIODS} {word}s before",
        plural(spike, "bug")
    );
    let spike_rows = rows.iter().filter(|row| row.created >= spike_start);
    let evidence =
        [("created", spike as f64), ("mean", mean), ("sd", sd), ("threshold", threshold)];
    Some(insight(
        "inflow_spike",
        Severity::Warning,
        message,
        None,
        &evidence,
        keys(data, spike_rows),
    ))
}

fn backlog_growth(inputs: &Inputs) -> Option<Insight> {
    let points = &inputs.trends.points;
    let run = points.windows(2).rev().take_while(|pair| pair[1].open > pair[0].open).count();
    if run < BACKLOG_GROWTH_PERIODS {
        return None;
    }
    let (from, to) = (points[points.len() - 1 - run].open, points[points.len() - 1].open);
    let word = period_word(inputs.ctx.period);
    let message = format!(
        "the open backlog grew in each of the last {run} {word}s, from {from} to {}",
        plural(to, "open bug")
    );
    let growth_start = points[points.len() - run].start;
    let since =
        growth_start.and_hms_opt(0, 0, 0).map_or(i64::MIN, |t| t.and_utc().timestamp_millis());
    let as_of = inputs.ctx.as_of;
    let open_rows = known(inputs).iter().filter(|row| row.created >= since && row.open_at(as_of));
    let evidence = [("periods", run as f64), ("open_start", from as f64), ("open_end", to as f64)];
    Some(insight(
        "backlog_growth",
        Severity::Warning,
        message,
        None,
        &evidence,
        keys(inputs.data, open_rows),
    ))
}

fn old_critical_open(inputs: &Inputs) -> Option<Insight> {
    let (data, as_of) = (inputs.data, inputs.ctx.as_of);
    let is_old_critical = |row: &&Row| {
        row.open_at(as_of)
            && data.priorities[row.priority as usize].top
            && (as_of - row.created) as f64 / MS_PER_DAY > OLD_CRITICAL_DAYS
    };
    let old: Vec<&Row> = known(inputs).iter().filter(is_old_critical).collect();
    let oldest = old.first()?;
    let oldest_days = (as_of - oldest.created) as f64 / MS_PER_DAY;
    let (label, age, key) = (top_priority_label(data), days(oldest_days), data.key(oldest));
    let message = if old.len() == 1 {
        format!(
            "1 bug of priority {label} open for {age} days, more than {OLD_CRITICAL_DAYS:.0} \
             ({key})"
        )
    } else {
        format!(
            "{} bugs of priority {label} open for more than {OLD_CRITICAL_DAYS:.0} days, the \
             oldest for {age} days ({key})",
            old.len()
        )
    };
    let evidence = [("count", old.len() as f64), ("oldest_days", oldest_days)];
    let issues = keys(data, old.iter().copied());
    Some(insight("old_critical_open", Severity::Critical, message, None, &evidence, issues))
}

fn reopen_hotspots(inputs: &Inputs) -> Vec<Insight> {
    let (data, measures) = (inputs.data, inputs.measures);
    let Some(project) = measures.project_reopen_rate() else {
        return Vec::new();
    };
    let hotspots: Vec<(usize, f64)> = inputs
        .scored
        .iter()
        .enumerate()
        .filter_map(|(id, scored)| {
            let rate = scored.as_ref()?.reopen_rate?;
            let hot = measures.areas[id].reopened >= REOPEN_HOTSPOT_MIN
                && rate >= REOPEN_HOTSPOT_RATIO * project;
            hot.then_some((id, rate))
        })
        .collect();
    let (rows, as_of) = (known(inputs), inputs.ctx.as_of);
    let ids: Vec<usize> = hotspots.iter().map(|&(id, _)| id).collect();
    let reopened = |row: &Row| row.reopen == Reopen::Yes && row.resolved_by(as_of);
    let by_area = rows_by_area(data, &ids, rows, reopened);
    hotspots
        .iter()
        .zip(by_area)
        .map(|(&(id, rate), positions)| {
            let first = positions.iter().map(|&i| &rows[i]);
            let area = &measures.areas[id];
            reopen_hotspot(data, area, &data.area_names[id], rate, project, first)
        })
        .collect()
}

fn reopen_hotspot<'r>(
    data: &Prepared,
    area: &AreaMeasure,
    name: &str,
    rate: f64,
    project: f64,
    rows: impl Iterator<Item = &'r Row>,
) -> Insight {
    let message = format!(
        "{name}: {} of {} resolved bugs reopened ({} after weighting towards the project), \
         against {} project-wide",
        area.reopened,
        area.known,
        percent(rate),
        percent(project)
    );
    let evidence = [
        ("reopened", area.reopened as f64),
        ("known", area.known as f64),
        ("rate", rate),
        ("project_rate", project),
    ];
    let issues = keys(data, rows);
    insight("reopen_hotspot", Severity::Warning, message, Some(name.to_string()), &evidence, issues)
}

/// For each area of `ids` (in that order), the positions in `rows` of the rows that carry
/// it and pass `keep`, in row order: one pass over the rows whatever the number of areas.
fn rows_by_area(
    data: &Prepared,
    ids: &[usize],
    rows: &[Row],
    keep: impl Fn(&Row) -> bool,
) -> Vec<Vec<usize>> {
    let mut found: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    if ids.is_empty() {
        return found;
    }
    let mut slot = vec![usize::MAX; data.area_names.len()];
    for (position, &id) in ids.iter().enumerate() {
        slot[id] = position;
    }
    for (position, row) in rows.iter().enumerate().filter(|(_, row)| keep(row)) {
        for &area in data.areas(row) {
            if let Some(list) = found.get_mut(slot[area as usize]) {
                list.push(position);
            }
        }
    }
    found
}

fn slow_resolution(inputs: &Inputs) -> Vec<Insight> {
    let (data, measures) = (inputs.data, inputs.measures);
    let Some(project) = measures.project_median.filter(|&m| m > 0.0) else {
        return Vec::new();
    };
    let slow: Vec<(usize, f64)> = measures
        .areas
        .iter()
        .enumerate()
        .filter_map(|(id, area)| {
            let median = area.resolution_median?;
            let is_slow =
                area.resolved >= SLOW_RESOLUTION_MIN && median >= SLOW_RESOLUTION_RATIO * project;
            is_slow.then_some((id, median))
        })
        .collect();
    let (rows, as_of) = (known(inputs), inputs.ctx.as_of);
    let ids: Vec<usize> = slow.iter().map(|&(id, _)| id).collect();
    let by_area = rows_by_area(data, &ids, rows, |row| row.resolved_by(as_of));
    slow.iter()
        .zip(by_area)
        .map(|(&(id, median), mut positions)| {
            let slowest = slowest_first(data, rows, &mut positions);
            let area = &measures.areas[id];
            slow_area(data, area, &data.area_names[id], median, project, slowest)
        })
        .collect()
}

/// The [`MAX_KEYS`] slowest of the rows at `positions` in `rows`, slowest first, ties by
/// key then row order; a selection, then a sort of the few selected.
fn slowest_first<'r>(data: &Prepared, rows: &'r [Row], positions: &mut [usize]) -> Vec<&'r Row> {
    let slower = |&a: &usize, &b: &usize| {
        let (row_a, row_b) = (&rows[a], &rows[b]);
        row_b
            .resolution_days()
            .total_cmp(&row_a.resolution_days())
            .then_with(|| data.key(row_a).cmp(data.key(row_b)))
            .then_with(|| a.cmp(&b))
    };
    if positions.len() > MAX_KEYS {
        positions.select_nth_unstable_by(MAX_KEYS - 1, slower);
    }
    let count = positions.len().min(MAX_KEYS);
    let slowest = &mut positions[..count];
    slowest.sort_unstable_by(slower);
    slowest.iter().map(|&i| &rows[i]).collect()
}

fn slow_area(
    data: &Prepared,
    area: &AreaMeasure,
    name: &str,
    median: f64,
    project: f64,
    slowest: Vec<&Row>,
) -> Insight {
    // Both medians cover every bug resolved by as_of, not the summary's window.
    let message = format!(
        "{name}: all-time median {} days to resolve over {}, {:.1}x the project's all-time \
         median of {} days",
        days(median),
        plural(area.resolved, "resolved bug"),
        median / project,
        days(project)
    );
    let evidence = [
        ("median_days", median),
        ("project_median_days", project),
        ("ratio", median / project),
        ("resolved", area.resolved as f64),
    ];
    let issues = keys(data, slowest.into_iter());
    insight(
        "slow_resolution",
        Severity::Warning,
        message,
        Some(name.to_string()),
        &evidence,
        issues,
    )
}

fn concentration(inputs: &Inputs) -> Option<Insight> {
    let data = inputs.data;
    let mut with_bugs: Vec<&AreaRisk> = inputs.areas.iter().filter(|a| a.bugs > 0).collect();
    if with_bugs.len() < CONCENTRATION_MIN_AREAS {
        return None;
    }
    with_bugs.sort_by(|a, b| b.bugs.cmp(&a.bugs).then_with(|| a.name.cmp(&b.name)));
    let top: Vec<&AreaRisk> = with_bugs[..3].to_vec();
    let top_ids: Vec<u32> = top
        .iter()
        .filter_map(|a| data.area_names.iter().position(|n| *n == a.name).map(|i| i as u32))
        .collect();
    let in_window = known(inputs).iter().filter(|row| row.created >= inputs.ctx.window_start);
    let (mut total, mut held) = (0u64, 0u64);
    for row in in_window {
        total += 1;
        held += u64::from(data.areas(row).iter().any(|a| top_ids.contains(a)));
    }
    let share = held as f64 / total.max(1) as f64;
    if share < CONCENTRATION_SHARE {
        return None;
    }
    let names: Vec<String> = top.iter().map(|a| format!("{} ({})", a.name, a.bugs)).collect();
    // The per-area counts add up to more than the share when bugs sit in several of the
    // three areas; the message says which of the two counts a bug once.
    let message = format!(
        "{} of the {} in the window ({held}) {} in 3 of {} areas: {}; a bug in several of these \
         areas counts once in the share",
        percent(share),
        plural(total, "bug"),
        if total == 1 { "is" } else { "are" },
        with_bugs.len(),
        names.join(", ")
    );
    let evidence = [
        ("share", share),
        ("bugs", total as f64),
        ("top3_bugs", held as f64),
        ("areas", with_bugs.len() as f64),
    ];
    Some(insight("concentration", Severity::Info, message, None, &evidence, Vec::new()))
}

fn rising_inflow(inputs: &Inputs) -> Option<Insight> {
    let slope = &inputs.trends.created_slope;
    let p = slope.p_value?;
    if slope.direction != "rising" {
        return None;
    }
    let word = period_word(inputs.ctx.period);
    let message = format!(
        "bug inflow is rising by {:.2} bugs per {word} over the window ({})",
        slope.per_period,
        p_text(p)
    );
    let evidence = [("slope_per_period", slope.per_period), ("p_value", p)];
    Some(insight("rising_inflow", Severity::Warning, message, None, &evidence, Vec::new()))
}

/// Reopen figures come from resolved bugs only, so the share is of the bugs resolved by
/// as_of: open bugs without history (in Apache's data only resolved bugs carry "Time in
/// Status") leave every reopen figure whole.
fn incomplete_history(inputs: &Inputs) -> Option<Insight> {
    let (data, as_of) = (inputs.data, inputs.ctx.as_of);
    let (mut resolved, mut no_history, mut truncated) = (0u64, 0u64, 0u64);
    let mut partial_rows = Vec::new();
    for row in known(inputs).iter().filter(|row| row.resolved_by(as_of)) {
        resolved += 1;
        let Some(issue) = data.issues.get(row.issue as usize) else { continue };
        match issue.history_source {
            HistorySource::None => no_history += 1,
            HistorySource::Changelog if !issue.history_complete => truncated += 1,
            HistorySource::Changelog | HistorySource::TimeInStatus => continue,
        }
        partial_rows.push(row);
    }
    let share = (no_history + truncated) as f64 / resolved.max(1) as f64;
    if resolved == 0 || share < INCOMPLETE_HISTORY_SHARE {
        return None;
    }
    let message = format!(
        "{} of the {} have no status history or a truncated changelog ({} without, {} \
         truncated), so reopen figures are partial",
        percent(share),
        plural(resolved, "resolved bug"),
        no_history,
        truncated
    );
    let evidence = [
        ("share", share),
        ("no_history", no_history as f64),
        ("changelog_incomplete", truncated as f64),
        ("resolved", resolved as f64),
    ];
    let issues = keys(data, partial_rows.into_iter());
    Some(insight("incomplete_history", Severity::Info, message, None, &evidence, issues))
}

fn unknown_priority(inputs: &Inputs) -> Option<Insight> {
    let rows = known(inputs);
    let unknown = rows.iter().filter(|row| row.priority == 0).count() as u64;
    let share = unknown as f64 / rows.len().max(1) as f64;
    if rows.is_empty() || share < UNKNOWN_PRIORITY_SHARE {
        return None;
    }
    let message = format!(
        "{} of bugs ({} of {}) have no priority; they are weighted as the middle priority",
        percent(share),
        unknown,
        rows.len()
    );
    let evidence = [("share", share), ("unknown", unknown as f64), ("bugs", rows.len() as f64)];
    let issues = keys(inputs.data, rows.iter().filter(|row| row.priority == 0));
    Some(insight("unknown_priority", Severity::Info, message, None, &evidence, issues))
}
