//! Per-area measurements and the 0-100 risk score, computed "as known at" an instant so
//! that the live report and every backtest cut-off run exactly the same code.
//!
//! Five raw factors, each brought to [0, 1) against a project reference:
//!
//! - decayed bugs `D` and open load `O`: `x / (x + m/2)` with `m` the mean over areas, so an
//!   average area scores 2/3 and an area at a tenth of the mean about 1/6;
//! - inflow: the recent-over-previous rate ratio `r` counts only when its one-sided binomial
//!   p-value is at most 0.1, as `(r - 1) / r`;
//! - reopen rate (shrunk) and median resolution time count only above the project's, as
//!   `1 - project / area`.
//!
//! The score is `100 * sum(weight_i * factor_i)` with weights normalised to sum to 1.

use super::prepare::{Prepared, Reopen, Row, MS_PER_DAY};
use super::report::Level;
use super::stats::{binomial_upper_tail, median_in_place, round};
use super::Context;

/// Prior strength of the empirical-Bayes reopen rate: an area's rate is
/// `(reopened + K * project rate) / (known + K)`.
pub const REOPEN_PRIOR: f64 = 5.0;
/// Resolved bugs an area needs before its resolution time is compared.
pub const MIN_RESOLVED: u64 = 3;
/// The inflow factor counts only increases at least this significant.
pub const INFLOW_P_MAX: f64 = 0.1;
/// Age scale of the open load: a bug open 30 days weighs `1 + ln 2` times a new one.
const OPEN_AGE_SCALE_DAYS: f64 = 30.0;
/// Beyond this many half-lives the decay is taken as zero (and no subnormal maths).
const DECAY_CUTOFF_HALF_LIVES: f64 = 1_000.0;

/// The five factor names in the order of the weights.
pub const FACTOR_KINDS: [&str; 5] =
    ["decayed_bugs", "open_load", "inflow_trend", "reopen_rate", "resolution_time"];

/// Raw measurements of one area at an instant.
#[derive(Debug, Clone, Default)]
pub struct AreaMeasure {
    /// Bugs created at or before the instant.
    pub bugs: u64,
    /// Severity-weighted decayed bug score.
    pub decayed: f64,
    /// Unweighted decayed count, for the forecast.
    pub decayed_count: f64,
    /// Open bugs.
    pub open: u64,
    /// Open bugs of the two most severe priorities.
    pub open_top: u64,
    /// Creation of the oldest open bug.
    pub oldest_open: Option<i64>,
    /// Open load.
    pub open_load: f64,
    /// Bugs created in the last horizon.
    pub recent: u64,
    /// Bugs created in the comparison period before it.
    pub previous: u64,
    /// Resolved bugs with a known reopen count.
    pub known: u64,
    /// Of those, reopened.
    pub reopened: u64,
    /// Bugs resolved at or before the instant.
    pub resolved: u64,
    /// Their median resolution days.
    pub resolution_median: Option<f64>,
}

/// All areas' measurements at one instant, with the project references.
#[derive(Debug, Clone)]
pub struct Measures {
    /// The instant.
    pub at: i64,
    /// By area id; areas with `bugs == 0` did not exist yet.
    pub areas: Vec<AreaMeasure>,
    /// Resolved bugs with a known reopen count, whole selection.
    pub project_known: u64,
    /// Of those, reopened.
    pub project_reopened: u64,
    /// Median resolution days, whole selection.
    pub project_median: Option<f64>,
    /// Length of the inflow comparison period in days (0 when history is too short).
    pub previous_days: f64,
    /// Decay exposure in days: what a steady rate of one bug a day would score over the
    /// history before the instant, taken as at least one horizon long.
    pub exposure_days: f64,
    /// Unweighted decayed count of the whole selection.
    pub decayed_count: f64,
}

impl Measures {
    /// The project reopen rate, when any reopen count is known.
    pub fn project_reopen_rate(&self) -> Option<f64> {
        (self.project_known > 0).then(|| self.project_reopened as f64 / self.project_known as f64)
    }
}

/// Per-row facts shared by all of the row's areas.
struct RowFacts {
    weight: f64,
    decay: f64,
    open: bool,
    top: bool,
    load: f64,
    recent: bool,
    previous: bool,
    resolved: bool,
}

/// Measures every area as known at instant `at`: bugs created at or before `at`, resolved
/// only when resolved at or before `at`.
pub fn measure(data: &Prepared, at: i64, ctx: &Context) -> Measures {
    let rows = &data.rows[..data.known_at(at)];
    let mut areas = vec![AreaMeasure::default(); data.area_names.len()];
    let first_created = data.rows.first().map_or(at, |row| row.created);
    let recent_from = at.saturating_sub(ctx.horizon_ms);
    let previous_ms = (recent_from - first_created).clamp(0, 3 * ctx.horizon_ms);
    let previous_ms = if previous_ms < ctx.horizon_ms { 0 } else { previous_ms };
    let previous_from = recent_from - previous_ms;
    let (mut project_known, mut project_reopened, mut decayed_count) = (0u64, 0u64, 0.0);
    let mut project_durations = Vec::new();
    for row in rows {
        let facts = row_facts(data, row, at, ctx, recent_from, previous_from);
        decayed_count += facts.decay;
        if facts.resolved {
            project_durations.push(row.resolution_days());
            project_known += u64::from(row.reopen != Reopen::Unknown);
            project_reopened += u64::from(row.reopen == Reopen::Yes);
        }
        for &area in data.areas(row) {
            add(&mut areas[area as usize], row, &facts);
        }
    }
    area_medians(data, rows, at, &mut areas);
    // A rate measured over a few days makes one bug look like a flood (a bug on the as_of
    // day would forecast one a day); history shorter than the horizon counts as one
    // horizon, so a lone recent bug forecasts about one per horizon.
    let span_days = ((at - first_created) as f64 / MS_PER_DAY).max(f64::from(ctx.horizon_days));
    let h = ctx.half_life_days;
    Measures {
        at,
        areas,
        project_known,
        project_reopened,
        project_median: median_in_place(&mut project_durations),
        previous_days: previous_ms as f64 / MS_PER_DAY,
        exposure_days: h / std::f64::consts::LN_2 * (1.0 - (-span_days / h).exp2()),
        decayed_count,
    }
}

fn row_facts(
    data: &Prepared,
    row: &Row,
    at: i64,
    ctx: &Context,
    recent_from: i64,
    previous_from: i64,
) -> RowFacts {
    let priority = &data.priorities[row.priority as usize];
    let age_days = (at - row.created) as f64 / MS_PER_DAY;
    let half_lives = age_days / ctx.half_life_days;
    let decay = if half_lives > DECAY_CUTOFF_HALF_LIVES { 0.0 } else { (-half_lives).exp2() };
    let open = row.resolved > at;
    let load =
        if open { priority.weight * (1.0 + (age_days / OPEN_AGE_SCALE_DAYS).ln_1p()) } else { 0.0 };
    RowFacts {
        weight: priority.weight,
        decay,
        open,
        top: open && priority.top,
        load,
        recent: row.created > recent_from,
        previous: row.created <= recent_from && row.created > previous_from,
        resolved: !open,
    }
}

fn add(area: &mut AreaMeasure, row: &Row, facts: &RowFacts) {
    area.bugs += 1;
    area.decayed += facts.weight * facts.decay;
    area.decayed_count += facts.decay;
    area.recent += u64::from(facts.recent);
    area.previous += u64::from(facts.previous);
    if facts.open {
        area.open += 1;
        area.open_top += u64::from(facts.top);
        area.open_load += facts.load;
        area.oldest_open = Some(area.oldest_open.map_or(row.created, |t| t.min(row.created)));
    } else {
        area.resolved += 1;
        area.known += u64::from(row.reopen != Reopen::Unknown);
        area.reopened += u64::from(row.reopen == Reopen::Yes);
    }
}

/// Fills each area's median resolution days: a counting sort of durations by area, then a
/// selection within each area's slice (linear in the number of resolved bugs).
fn area_medians(data: &Prepared, rows: &[Row], at: i64, areas: &mut [AreaMeasure]) {
    let mut offsets = Vec::with_capacity(areas.len() + 1);
    let mut total = 0usize;
    for area in areas.iter() {
        offsets.push(total);
        total += area.resolved as usize;
    }
    offsets.push(total);
    let mut next = offsets.clone();
    let mut durations = vec![0f64; total];
    for row in rows.iter().filter(|row| row.resolved <= at) {
        let days = row.resolution_days();
        for &area in data.areas(row) {
            let slot = &mut next[area as usize];
            durations[*slot] = days;
            *slot += 1;
        }
    }
    for (id, area) in areas.iter_mut().enumerate() {
        area.resolution_median = median_in_place(&mut durations[offsets[id]..offsets[id + 1]]);
    }
}

/// One area's score and the derived numbers behind it.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Risk 0-100, rounded to one decimal.
    pub risk: f64,
    /// Level band of `risk`.
    pub level: Level,
    /// Points of each factor (unrounded), in [`FACTOR_KINDS`] order.
    pub points: [f64; 5],
    /// Recent over previous daily rate.
    pub inflow_ratio: Option<f64>,
    /// One-sided binomial p-value of the increase.
    pub inflow_p: Option<f64>,
    /// Shrunk reopen rate.
    pub reopen_rate: Option<f64>,
    /// Area median over project median resolution days.
    pub resolution_ratio: Option<f64>,
    /// Expected bugs over the horizon.
    pub expected: f64,
}

/// Scores every area present in `measures`; `None` for areas with no bugs yet.
pub fn score(measures: &Measures, ctx: &Context) -> Vec<Option<Scored>> {
    let present = || measures.areas.iter().filter(|area| area.bugs > 0);
    let count = present().count().max(1) as f64;
    let mean_decayed = present().map(|area| area.decayed).sum::<f64>() / count;
    let mean_load = present().map(|area| area.open_load).sum::<f64>() / count;
    let project_rate = measures.project_reopen_rate();
    measures
        .areas
        .iter()
        .map(|area| {
            (area.bugs > 0)
                .then(|| score_one(area, measures, ctx, mean_decayed, mean_load, project_rate))
        })
        .collect()
}

fn score_one(
    area: &AreaMeasure,
    measures: &Measures,
    ctx: &Context,
    mean_decayed: f64,
    mean_load: f64,
    project_rate: Option<f64>,
) -> Scored {
    let (inflow_ratio, inflow_p, inflow_factor) = inflow(area, measures, ctx);
    let reopen_rate = project_rate
        .map(|p| (area.reopened as f64 + REOPEN_PRIOR * p) / (area.known as f64 + REOPEN_PRIOR));
    let reopen_factor = match (reopen_rate, project_rate) {
        (Some(rate), Some(p)) if rate > p => 1.0 - p / rate,
        _ => 0.0,
    };
    let resolution_ratio = match (area.resolution_median, measures.project_median) {
        (Some(median), Some(project)) if area.resolved >= MIN_RESOLVED && project > 0.0 => {
            Some(median / project)
        }
        _ => None,
    };
    let resolution_factor =
        resolution_ratio.map_or(0.0, |q| if q > 1.0 { 1.0 - 1.0 / q } else { 0.0 });
    let factors = [
        saturate(area.decayed, mean_decayed),
        saturate(area.open_load, mean_load),
        inflow_factor,
        reopen_factor,
        resolution_factor,
    ];
    let points: [f64; 5] = std::array::from_fn(|i| 100.0 * ctx.weights[i] * factors[i]);
    let risk = round(points.iter().sum(), 1);
    let expected = super::forecast::expected(area.decayed_count, measures.exposure_days, ctx);
    Scored {
        risk,
        level: level(risk),
        points,
        inflow_ratio,
        inflow_p,
        reopen_rate,
        resolution_ratio,
        expected,
    }
}

/// `x / (x + mean / 2)`: 2/3 at the mean, 0 at 0, approaching 1 for dominant areas.
fn saturate(x: f64, mean: f64) -> f64 {
    if mean <= 0.0 || x <= 0.0 {
        0.0
    } else {
        x / (x + mean / 2.0)
    }
}

/// Inflow ratio, one-sided p-value and factor. Under "no change" each of the
/// `recent + previous` bugs falls in the recent period with probability
/// `H / (H + previous_days)` (1/4 with full history), so the p-value is a binomial tail.
fn inflow(
    area: &AreaMeasure,
    measures: &Measures,
    ctx: &Context,
) -> (Option<f64>, Option<f64>, f64) {
    let horizon = ctx.horizon_days as f64;
    let previous_days = measures.previous_days;
    if previous_days < horizon || horizon <= 0.0 {
        return (None, None, 0.0);
    }
    let recent_rate = area.recent as f64 / horizon;
    let ratio = (area.previous > 0).then(|| recent_rate / (area.previous as f64 / previous_days));
    let n = area.recent + area.previous;
    let p = binomial_upper_tail(area.recent, n, horizon / (horizon + previous_days));
    // With nothing before, count the previous period as one bug so the ratio stays finite.
    let floored = recent_rate / (area.previous.max(1) as f64 / previous_days);
    let factor = if p <= INFLOW_P_MAX && floored > 1.0 { (floored - 1.0) / floored } else { 0.0 };
    (ratio, Some(p), factor)
}

/// The level band of a score.
pub fn level(risk: f64) -> Level {
    match risk {
        r if r >= 75.0 => Level::Critical,
        r if r >= 50.0 => Level::High,
        r if r >= 25.0 => Level::Medium,
        _ => Level::Low,
    }
}
