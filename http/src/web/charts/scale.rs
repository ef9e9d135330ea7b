//! Axis scales: round tick values chosen from the data's range, and which of many period
//! labels to show so that none overlap.

use super::markup::tick_label;

/// Values beyond this are drawn at it, so that spans stay finite; a thousand trillion is
/// far past any count of bugs.
pub(super) const LIMIT: f64 = 1e15;

/// About this many intervals between ticks: enough to read values off, few enough that
/// the labels stay legible on a phone.
const INTERVALS: f64 = 4.0;

/// Tick values at equal, round steps (1, 2 or 5 times a power of ten), covering the data.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticks {
    /// The tick values, ascending; at least two.
    pub(super) values: Vec<f64>,
    /// The step between neighbours.
    pub(super) step: f64,
}

impl Ticks {
    /// Ticks covering `low` to `high`; with `whole` (all data are whole numbers) the step
    /// is at least 1, since a count of 2.5 bugs means nothing.
    pub(super) fn covering(low: f64, high: f64, whole: bool) -> Ticks {
        let (mut low, mut high) = (clamp(low.min(high)), clamp(low.max(high)));
        if high - low < f64::EPSILON * high.abs().max(1.0) {
            // One value only: open a range around it that still includes it.
            if low == 0.0 {
                high = 1.0;
            } else {
                let pad = low.abs() * 0.5;
                (low, high) = (low - pad, high + pad);
            }
        }
        let step = round_step((high - low) / INTERVALS, whole);
        let first = (low / step + 1e-9).floor() as i64;
        let last = (high / step - 1e-9).ceil() as i64;
        let values = (first..=last.max(first + 1)).map(|i| i as f64 * step).collect();
        Ticks { values, step }
    }

    /// The lowest tick.
    pub(super) fn low(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    /// The highest tick.
    pub(super) fn high(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }

    /// Where `value` falls between the lowest (0) and the highest tick (1).
    pub(super) fn fraction(&self, value: f64) -> f64 {
        (clamp(value) - self.low()) / (self.high() - self.low())
    }

    /// The label of each tick.
    pub(super) fn labels(&self) -> Vec<String> {
        self.values.iter().map(|&v| tick_label(v, self.step)).collect()
    }
}

fn clamp(value: f64) -> f64 {
    value.clamp(-LIMIT, LIMIT)
}

/// The round step nearest above `raw`.
fn round_step(raw: f64, whole: bool) -> f64 {
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let multiple = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    let step = multiple * magnitude;
    if whole && step < 1.0 {
        1.0
    } else {
        step
    }
}

/// Every how many periods a label fits, for `count` periods `spacing` apart whose widest
/// label is `widest` wide (gap included); labels are then shown counting back from the
/// latest period, which matters most.
pub(super) fn label_every(count: usize, spacing: f64, widest: f64) -> usize {
    if count <= 1 || spacing <= 0.0 {
        return 1;
    }
    ((widest / spacing).ceil() as usize).clamp(1, count)
}

/// Like [`label_every`] for period labels, rounded up to a step a reader counts in: 2, 4,
/// 13, 26 or 52 weeks for ISO weeks, 2, 3, 6 or 12 for months and anything else.
pub(super) fn period_label_every(count: usize, spacing: f64, widest: f64, weekly: bool) -> usize {
    let raw = label_every(count, spacing, widest);
    let (steps, cycle): (&[usize], usize) =
        if weekly { (&[1, 2, 4, 13, 26, 52], 52) } else { (&[1, 2, 3, 4, 6, 12], 12) };
    steps.iter().copied().find(|&step| step >= raw).unwrap_or_else(|| raw.div_ceil(cycle) * cycle)
}

/// Whether the period at `index` of `count` gets a label when every `every`-th does.
pub(super) fn labelled(index: usize, count: usize, every: usize) -> bool {
    (count - 1 - index).is_multiple_of(every)
}
