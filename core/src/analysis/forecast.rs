//! Expected bugs over the horizon with an 80% interval.
//!
//! The daily rate is the decayed count (`sum of 2^(-age / h)` over bugs created by `as_of`)
//! over the decay exposure `h / ln 2 * (1 - 2^(-span / h))`, which is what a steady rate of
//! one bug a day over the `span` days of history would score: a time-weighted average rate
//! that leans on recent weeks. The span is at least the horizon, so that a few days of
//! history do not turn one bug into a forecast of one a day.
//!
//! The interval is the 10th and 90th percentiles of a Poisson with that mean, or of a
//! negative binomial with variance `dispersion * mean` when weekly counts over the last 26
//! weeks vary more than a Poisson would (`dispersion > 1`).

use super::prepare::{Prepared, MS_PER_DAY};
use super::report::Forecast;
use super::stats::{mean_and_variance, negative_binomial_quantile, round4};
use super::Context;
use crate::model::MILLIS_PER_DAY;

/// Weeks of history the dispersion looks at.
pub const DISPERSION_WEEKS: usize = 26;
/// Fewer complete weeks than this and the forecast stays Poisson.
const MIN_WEEKS: usize = 4;

/// Weekly bug counts over the last [`DISPERSION_WEEKS`] weeks before `as_of`, for the whole
/// selection and per area; only weeks fully inside the history are kept.
#[derive(Debug, Clone)]
pub struct WeeklyCounts {
    /// Whole selection, most recent week first.
    pub whole: Vec<f64>,
    /// Per area id, most recent week first.
    pub areas: Vec<Vec<f64>>,
}

/// Counts bugs per week ending at `as_of`: week `k` holds bugs created in
/// `(as_of - 7(k+1) days, as_of - 7k days]`.
pub fn weekly_counts(data: &Prepared, ctx: &Context) -> WeeklyCounts {
    let week_ms = 7 * MILLIS_PER_DAY;
    let first = data.rows.first().map_or(ctx.as_of, |row| row.created);
    let history_weeks = ((ctx.as_of - first) / week_ms).max(0) as usize;
    let weeks = history_weeks.min(DISPERSION_WEEKS);
    let mut whole = vec![0f64; weeks];
    let mut areas = vec![vec![0f64; weeks]; data.area_names.len()];
    let from = ctx.as_of - weeks as i64 * week_ms;
    let rows = &data.rows[data.known_at(from)..data.known_at(ctx.as_of)];
    for row in rows {
        let week = ((ctx.as_of - row.created) / week_ms) as usize;
        if week < weeks {
            whole[week] += 1.0;
            for &area in data.areas(row) {
                areas[area as usize][week] += 1.0;
            }
        }
    }
    WeeklyCounts { whole, areas }
}

/// Variance over mean of weekly counts; 1 (Poisson) when there are too few weeks or no bugs.
pub fn dispersion(weekly: &[f64]) -> f64 {
    if weekly.len() < MIN_WEEKS {
        return 1.0;
    }
    match mean_and_variance(weekly) {
        Some((mean, variance)) if mean > 0.0 => variance / mean,
        _ => 1.0,
    }
}

/// The forecast for an expected count and a dispersion.
pub fn forecast(expected: f64, dispersion: f64, ctx: &Context) -> Forecast {
    let expected = if expected.is_finite() { expected.max(0.0) } else { 0.0 };
    Forecast {
        horizon_days: ctx.horizon_days,
        expected: round4(expected),
        low: negative_binomial_quantile(expected, dispersion, 0.1),
        high: negative_binomial_quantile(expected, dispersion, 0.9),
        dispersion: round4(dispersion),
    }
}

/// The expected count from a decayed count and the exposure in days.
pub fn expected(decayed_count: f64, exposure_days: f64, ctx: &Context) -> f64 {
    if exposure_days > 0.0 {
        decayed_count / exposure_days * ctx.horizon_days as f64
    } else {
        0.0
    }
}

/// Days of history before `as_of` (from the first bug).
pub fn history_days(data: &Prepared, as_of: i64) -> f64 {
    data.rows.first().map_or(0.0, |row| ((as_of - row.created) as f64 / MS_PER_DAY).max(0.0))
}
