//! Created, resolved and open bugs per ISO week or calendar month (UTC), with least-squares
//! slopes and their t-tests.
//!
//! Periods are numbered on a global grid (weeks from the Monday before the epoch, months
//! from year 0), so bucketing an instant is integer arithmetic, never a calendar lookup.

use chrono::NaiveDate;

use super::params::Period;
use super::prepare::{Prepared, MS_PER_DAY};
use super::report::{Slope, TrendPoint, Trends};
use super::stats::{fit_line, median_in_place, round4};
use super::Context;
use crate::model::MILLIS_PER_DAY;

/// Most periods a trend shows; older periods are left out (about 190 years of weeks).
pub const MAX_PERIODS: i64 = 10_000;

/// Significance level for calling a slope rising or falling.
const SIGNIFICANCE: f64 = 0.05;

/// Days since 1970-01-01 of the UTC day holding `ms`.
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(MILLIS_PER_DAY)
}

/// Year and month (1-12) of a day number (days since 1970-01-01), proleptic Gregorian.
fn year_month(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// Day number of the first day of `year`-`month`.
fn first_of_month(year: i64, month: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Index of the period holding `ms`.
pub fn period_index(ms: i64, period: Period) -> i64 {
    let days = day_of(ms);
    match period {
        // 1970-01-01 was a Thursday; the week holding it began on Monday, day -3.
        Period::Week => (days + 3).div_euclid(7),
        Period::Month => {
            let (year, month) = year_month(days);
            year * 12 + month - 1
        }
    }
}

/// Day number of the first day of period `index`.
pub fn period_start_day(index: i64, period: Period) -> i64 {
    match period {
        Period::Week => index * 7 - 3,
        Period::Month => first_of_month(index.div_euclid(12), index.rem_euclid(12) + 1),
    }
}

/// First instant (ms) of period `index`.
pub fn period_start(index: i64, period: Period) -> i64 {
    period_start_day(index, period).saturating_mul(MILLIS_PER_DAY)
}

/// Counts per period over `first..=last` as built by [`build`].
struct Buckets {
    first: i64,
    created: Vec<u64>,
    resolved: Vec<u64>,
    /// Open at the end of each period.
    open: Vec<u64>,
    medians: Vec<Option<f64>>,
}

/// Builds the trends over the window of `ctx`.
pub fn build(data: &Prepared, ctx: &Context) -> Trends {
    let period = ctx.period;
    let known = &data.rows[..data.known_at(ctx.as_of)];
    let last = period_index(ctx.as_of, period);
    let data_start = known.first().map_or(ctx.as_of, |row| row.created);
    let first = period_index(ctx.window_start.max(data_start), period).max(last - MAX_PERIODS + 1);
    let buckets = count(data, ctx, first, last);
    let points: Vec<TrendPoint> = (0..buckets.created.len())
        .map(|i| TrendPoint {
            start: date_of_day(period_start_day(buckets.first + i as i64, period)),
            created: buckets.created[i],
            resolved: buckets.resolved[i],
            open: buckets.open[i],
            resolution_days_median: buckets.medians[i].map(round4),
        })
        .collect();
    // The period holding as_of is usually cut short; its created count would drag the
    // slope down, so only complete periods enter the created slope.
    let complete = if period_start(last + 1, period) - 1 <= ctx.as_of {
        points.len()
    } else {
        points.len().saturating_sub(1)
    };
    let created: Vec<f64> = points[..complete].iter().map(|p| p.created as f64).collect();
    let open: Vec<f64> = points.iter().map(|p| p.open as f64).collect();
    Trends { period, points, created_slope: slope(&created), open_slope: slope(&open) }
}

/// The calendar date of a day number (days since 1970-01-01).
pub fn date_of_day(days: i64) -> NaiveDate {
    i32::try_from(days + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or_default()
}

/// Counts created, resolved and end-of-period open bugs per period in `first..=last`.
fn count(data: &Prepared, ctx: &Context, first: i64, last: i64) -> Buckets {
    let n = (last - first + 1).max(0) as usize;
    let (mut created, mut resolved) = (vec![0u64; n], vec![0u64; n]);
    // Net change of the backlog per period; index 0 collects everything before `first`.
    let mut change = vec![0i64; n + 1];
    let mut durations_per_period = vec![0u32; n];
    let bucket = |ms: i64| period_index(ms, ctx.period) - first;
    let known = &data.rows[..data.known_at(ctx.as_of)];
    for row in known {
        let opened = bucket(row.created);
        if opened >= 0 {
            created[opened as usize] += 1;
        }
        change[(opened.max(-1) + 1) as usize] += 1;
        if row.resolved <= ctx.as_of {
            let closed = bucket(row.resolved.max(row.created));
            change[(closed.max(-1) + 1) as usize] -= 1;
            if closed >= 0 {
                resolved[closed as usize] += 1;
                durations_per_period[closed as usize] += 1;
            }
        }
    }
    let mut open = Vec::with_capacity(n);
    let mut backlog = change[0];
    for delta in &change[1..] {
        backlog += delta;
        open.push(backlog.max(0) as u64);
    }
    let medians = period_medians(known, ctx, first, &durations_per_period);
    Buckets { first, created, resolved, open, medians }
}

/// Median resolution days of the bugs resolved in each period (a counting sort by period,
/// then a selection per period).
fn period_medians(
    known: &[super::prepare::Row],
    ctx: &Context,
    first: i64,
    per_period: &[u32],
) -> Vec<Option<f64>> {
    let mut offsets = Vec::with_capacity(per_period.len() + 1);
    let mut total = 0usize;
    for &count in per_period {
        offsets.push(total);
        total += count as usize;
    }
    offsets.push(total);
    let mut filled = offsets.clone();
    let mut durations = vec![0f64; total];
    for row in known.iter().filter(|row| row.resolved <= ctx.as_of) {
        let closed = period_index(row.resolved.max(row.created), ctx.period) - first;
        if closed >= 0 {
            let slot = &mut filled[closed as usize];
            durations[*slot] = (row.resolved - row.created).max(0) as f64 / MS_PER_DAY;
            *slot += 1;
        }
    }
    (0..per_period.len())
        .map(|i| median_in_place(&mut durations[offsets[i]..offsets[i + 1]]))
        .collect()
}

/// The least-squares slope of `values` per period with its direction.
pub fn slope(values: &[f64]) -> Slope {
    let fit = fit_line(values);
    let direction = match fit.p_value {
        Some(p) if p < SIGNIFICANCE && fit.slope > 0.0 => "rising",
        Some(p) if p < SIGNIFICANCE && fit.slope < 0.0 => "falling",
        _ => "flat",
    };
    Slope {
        per_period: round4(fit.slope),
        p_value: fit.p_value.map(round4),
        direction: direction.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_arithmetic_matches_chrono() {
        for days in [-700_000i64, -1, 0, 59, 11_016, 19_782, 20_000, 2_932_896] {
            let date = date_of_day(days);
            let (year, month) = year_month(days);
            assert_eq!(
                (year, month),
                (
                    i64::from(chrono::Datelike::year(&date)),
                    i64::from(chrono::Datelike::month(&date))
                )
            );
            let first = first_of_month(year, month);
            assert_eq!(chrono::Datelike::day(&date_of_day(first)), 1);
            assert!(first <= days && days - first < 31);
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-12-30 is a Monday, day 20087; 2025-01-05 a Sunday.
        let monday = 20_087 * MILLIS_PER_DAY;
        let sunday_night = monday + 7 * MILLIS_PER_DAY - 1;
        assert_eq!(period_index(monday, Period::Week), period_index(sunday_night, Period::Week));
        assert_eq!(period_index(monday - 1, Period::Week) + 1, period_index(monday, Period::Week));
        assert_eq!(
            period_start_day(period_index(sunday_night, Period::Week), Period::Week),
            20_087
        );
    }
}
