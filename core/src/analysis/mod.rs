//! The bug-risk analysis: pure and deterministic, from issues and parameters to a report.
//!
//! The steps, each in its own module: one pass turns the issues into compact rows
//! (filters, bug types, interned names, sorted by creation); then the summary, trends,
//! per-area risk with explanations, forecasts, the backtest and the insights each scan
//! those rows. The model is
//! described in `docs/risk-model.md` and the report's JSON in `docs/report-schema.md`.
//!
//! ```
//! use bugdash::analysis::{analyze, Params};
//! use bugdash::{Issue, Timestamp};
//!
//! let day = |d: i64| Some(Timestamp::from_millis(d * 86_400_000));
//! let bug = |key: &str, created: i64| Issue {
//!     key: key.into(),
//!     project: "DEMO".into(),
//!     issue_type: "Bug".into(),
//!     status: "Open".into(),
//!     created: day(created),
//!     components: bugdash::model::boxed_list(["server"]),
//!     ..Issue::default()
//! };
//! let issues = vec![bug("DEMO-1", 19_000), bug("DEMO-2", 19_010)];
//! let report = analyze(&issues, &Params::default()).unwrap();
//! assert_eq!(report.summary.open, 2);
//! assert_eq!(report.areas[0].name, "server");
//! ```

mod areas;
mod backtest;
mod explain;
mod filter;
mod forecast;
mod insights;
pub mod params;
mod prepare;
mod priority;
pub mod report;
mod stats;
mod summary;
mod trends;

pub use filter::FilterSet;
pub use params::{AreaField, Filters, Params, Period, RiskWeights, Window};
pub use report::Report;

use crate::model::{Issue, Timestamp, MILLIS_PER_DAY};
use crate::{Error, Result};
use priority::Placement;
use report::{DataInfo, ParamsEcho, WindowInfo, SCHEMA_VERSION};
use stats::round4;

/// Fewer bugs than this and the backtest runs after the live steps: a thread costs more
/// than it saves.
const PARALLEL_BACKTEST_MIN: usize = 20_000;

/// Longest horizon accepted, in days (a century).
const MAX_HORIZON_DAYS: u32 = 36_500;

/// What every step needs to know about the analysis instant and the model settings.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    /// The analysis instant (ms).
    pub as_of: i64,
    /// First instant of the summary window (ms).
    pub window_start: i64,
    /// Forecast horizon in ms.
    pub horizon_ms: i64,
    /// Forecast horizon in days.
    pub horizon_days: u32,
    /// Decay half-life in days.
    pub half_life_days: f64,
    /// Factor weights normalised to sum 1, in factor order.
    pub weights: [f64; 5],
    /// Trend period.
    pub period: params::Period,
}

impl Context {
    /// The same settings as known at an earlier instant `at` (a backtest cut-off).
    pub fn at(&self, at: i64) -> Context {
        Context { as_of: at, window_start: at, ..self.clone() }
    }
}

/// True when `issue` passes `filters` exactly as [`analyze`] applies them (an issue
/// without a creation date never does). For listing issues; an analysis filters in bulk.
pub fn issue_passes(filters: &filter::FilterSet, issue: &Issue) -> bool {
    let Some(created) = issue.created.map(Timestamp::millis) else { return false };
    let category = issue.category();
    filters.keeps(issue, created, category, prepare::resolved_at(issue, category, created))
}

/// Analyses `issues` with `params`.
///
/// The same issues and parameters always give the same report, byte for byte once
/// serialised, whatever the order of `issues`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] when a parameter is out of range (a zero horizon or window,
/// a half-life that is not positive, negative or all-zero weights, a created or resolved
/// filter range whose start is after its end), or when no `as_of` is given and the issues
/// hold no dates to take it from.
pub fn analyze(issues: &[Issue], params: &Params) -> Result<Report> {
    let weights = normalised_weights(&params.weights)?;
    validate(params)?;
    let data = prepare::prepare(issues, params);
    let as_of = params.as_of.map(Timestamp::millis).or(data.latest).ok_or_else(|| {
        let found = match issues.len() {
            0 => "no issues with dates in the input (it holds no issues)".to_string(),
            1 => "the one issue in the input has no date".to_string(),
            n => format!("none of the {n} issues in the input has a date"),
        };
        Error::invalid("as_of", format!("{found}; give the analysis date explicitly"))
    })?;
    let first_bug = data.rows.first().map(|row| row.created).filter(|&c| c <= as_of);
    let window_start = match params.window {
        Window::Days(days) => as_of.saturating_sub(i64::from(days) * MILLIS_PER_DAY),
        Window::All => first_bug.unwrap_or(as_of),
    };
    let ctx = Context {
        as_of,
        window_start,
        horizon_ms: i64::from(params.horizon_days) * MILLIS_PER_DAY,
        horizon_days: params.horizon_days,
        half_life_days: params.half_life_days,
        weights: [
            weights.decayed_bugs,
            weights.open_load,
            weights.inflow_trend,
            weights.reopen_rate,
            weights.resolution_time,
        ],
        period: params.period,
    };
    Ok(build_report(&data, &ctx, params, weights))
}

/// The backtest, the longest step, runs on a thread of its own beside the live steps on
/// large data; both only read `data`, so the report is the same whichever finishes first.
fn build_report(
    data: &prepare::Prepared,
    ctx: &Context,
    params: &Params,
    weights: RiskWeights,
) -> Report {
    if data.rows.len() < PARALLEL_BACKTEST_MIN {
        return assemble(data, ctx, params, weights, || backtest::run(data, ctx));
    }
    std::thread::scope(|scope| {
        let backtest = scope.spawn(|| backtest::run(data, ctx));
        let join = || backtest.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        assemble(data, ctx, params, weights, join)
    })
}

/// The live steps, then the backtest from `backtest` once they are done.
fn assemble(
    data: &prepare::Prepared,
    ctx: &Context,
    params: &Params,
    weights: RiskWeights,
    backtest: impl FnOnce() -> report::Backtest,
) -> Report {
    let summary = summary::summarize(data, ctx);
    let trends = trends::build(data, ctx);
    let measures = areas::measure(data, ctx.as_of, ctx);
    let scored = areas::score(&measures, ctx);
    let weekly = forecast::weekly_counts(data, ctx);
    let areas = explain::area_list(data, ctx, &measures, &scored, &weekly);
    let expected = forecast::expected(measures.decayed_count, measures.exposure_days, ctx);
    let forecast = forecast::forecast(expected, forecast::dispersion(&weekly.whole), ctx);
    let inputs = insights::Inputs {
        data,
        ctx,
        trends: &trends,
        measures: &measures,
        scored: &scored,
        areas: &areas,
    };
    let insights = insights::find(&inputs);
    Report {
        schema_version: SCHEMA_VERSION,
        as_of: Timestamp::from_millis(ctx.as_of),
        window: WindowInfo {
            start: Timestamp::from_millis(ctx.window_start),
            end: Timestamp::from_millis(ctx.as_of),
            days: match params.window {
                Window::Days(days) => Some(days),
                Window::All => None,
            },
        },
        parameters: echo(data, params, weights),
        data: data_info(data, ctx),
        summary,
        trends,
        areas,
        forecast,
        backtest: backtest(),
        insights,
    }
}

fn validate(params: &Params) -> Result<()> {
    if params.horizon_days == 0 || params.horizon_days > MAX_HORIZON_DAYS {
        return Err(Error::invalid(
            "horizon_days",
            format!("must be between 1 and {MAX_HORIZON_DAYS}, got {}", params.horizon_days),
        ));
    }
    let half_life = params.half_life_days;
    if !half_life.is_finite() || half_life <= 0.0 {
        return Err(Error::invalid("half_life_days", format!("must be above 0, got {half_life}")));
    }
    if params.window == Window::Days(0) {
        return Err(Error::invalid("window", "must be at least 1 day (or all)"));
    }
    let filters = &params.filters;
    ordered_range("created", filters.created_since, filters.created_until)?;
    ordered_range("resolved", filters.resolved_since, filters.resolved_until)
}

/// Refuses a `[since, until)` range that starts after it ends: it could keep no issue, and
/// an empty report would hide the swapped bounds.
fn ordered_range(field: &str, since: Option<Timestamp>, until: Option<Timestamp>) -> Result<()> {
    match (since, until) {
        (Some(since), Some(until)) if since > until => Err(Error::invalid(
            format!("filters.{field}_since and filters.{field}_until"),
            format!("the range starts at {since}, after its end {until}; swap the bounds"),
        )),
        _ => Ok(()),
    }
}

/// The weights divided by their sum; refuses negative, non-finite or all-zero weights.
fn normalised_weights(weights: &RiskWeights) -> Result<RiskWeights> {
    let all = [
        weights.decayed_bugs,
        weights.open_load,
        weights.inflow_trend,
        weights.reopen_rate,
        weights.resolution_time,
    ];
    if all.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(Error::invalid("weights", "each weight must be a number at or above 0"));
    }
    let sum: f64 = all.iter().sum();
    if sum <= 0.0 {
        return Err(Error::invalid("weights", "at least one weight must be above 0"));
    }
    Ok(RiskWeights {
        decayed_bugs: weights.decayed_bugs / sum,
        open_load: weights.open_load / sum,
        inflow_trend: weights.inflow_trend / sum,
        reopen_rate: weights.reopen_rate / sum,
        resolution_time: weights.resolution_time / sum,
    })
}

fn echo(data: &prepare::Prepared, params: &Params, weights: RiskWeights) -> ParamsEcho {
    let mut off_scale: Vec<_> =
        data.priorities.iter().filter(|p| p.placement == Placement::OffScale).collect();
    off_scale.sort_by(|a, b| a.name.cmp(&b.name));
    ParamsEcho {
        window: params.window,
        period: params.period,
        area: params.area,
        horizon_days: params.horizon_days,
        half_life_days: params.half_life_days,
        bug_types: params.bug_types.clone(),
        priority_scale: data.scale.echo(&off_scale),
        weights: RiskWeights {
            decayed_bugs: round4(weights.decayed_bugs),
            open_load: round4(weights.open_load),
            inflow_trend: round4(weights.inflow_trend),
            reopen_rate: round4(weights.reopen_rate),
            resolution_time: round4(weights.resolution_time),
        },
        filters: params.filters.clone(),
    }
}

fn data_info(data: &prepare::Prepared, ctx: &Context) -> DataInfo {
    let counts = &data.counts;
    DataInfo {
        issues: counts.issues,
        matched: counts.matched,
        bugs: counts.bugs,
        without_created: counts.without_created,
        projects: data.projects.clone(),
        first_created: data.rows.first().map(|row| Timestamp::from_millis(row.created)),
        last_created: data.rows.last().map(|row| Timestamp::from_millis(row.created)),
        history_days: round4(forecast::history_days(data, ctx.as_of)),
        changelog_complete: counts.changelog_complete,
        changelog_incomplete: counts.changelog_incomplete,
        time_in_status: counts.time_in_status,
        no_history: counts.no_history,
    }
}
