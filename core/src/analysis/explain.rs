//! The live area list: scores turned into [`AreaRisk`] entries with window counts,
//! forecasts and each factor explained in words with its numbers.

use super::areas::{AreaMeasure, Measures, Scored, FACTOR_KINDS, MIN_RESOLVED};
use super::forecast::{dispersion, forecast, WeeklyCounts};
use super::prepare::{Prepared, MS_PER_DAY};
use super::report::{AreaMetrics, AreaRisk, Factor};
use super::stats::{round, round4};
use super::Context;

/// Bugs of one area in the window.
#[derive(Debug, Clone, Copy, Default)]
struct WindowCounts {
    bugs: u64,
    resolved: u64,
}

/// Builds the area list, by risk descending then name.
pub fn area_list(
    data: &Prepared,
    ctx: &Context,
    measures: &Measures,
    scored: &[Option<Scored>],
    weekly: &WeeklyCounts,
) -> Vec<AreaRisk> {
    let counts = window_counts(data, ctx);
    let top_label = top_priority_label(data);
    let mut areas: Vec<AreaRisk> = scored
        .iter()
        .enumerate()
        .filter_map(|(id, scored)| {
            let scored = scored.as_ref()?;
            let measure = &measures.areas[id];
            let words = Words { ctx, measures, measure, scored, top_label: &top_label };
            Some(AreaRisk {
                name: data.area_names[id].clone(),
                bugs: counts[id].bugs,
                open: measure.open,
                resolved: counts[id].resolved,
                risk: scored.risk,
                level: scored.level,
                factors: words.factors(),
                metrics: metrics(measure, scored),
                forecast: forecast(scored.expected, dispersion(&weekly.areas[id]), ctx),
            })
        })
        .collect();
    areas.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| a.name.cmp(&b.name)));
    areas
}

fn window_counts(data: &Prepared, ctx: &Context) -> Vec<WindowCounts> {
    let mut counts = vec![WindowCounts::default(); data.area_names.len()];
    for row in &data.rows[..data.known_at(ctx.as_of)] {
        let created = row.created >= ctx.window_start;
        let resolved = row.resolved <= ctx.as_of && row.resolved >= ctx.window_start;
        if created || resolved {
            for &area in data.areas(row) {
                counts[area as usize].bugs += u64::from(created);
                counts[area as usize].resolved += u64::from(resolved);
            }
        }
    }
    counts
}

fn metrics(measure: &AreaMeasure, scored: &Scored) -> AreaMetrics {
    AreaMetrics {
        decayed_bugs: round4(measure.decayed),
        open_load: round4(measure.open_load),
        inflow_recent: measure.recent,
        inflow_previous: measure.previous,
        inflow_ratio: scored.inflow_ratio.map(round4),
        inflow_p_value: scored.inflow_p.map(round4),
        reopen_rate: scored.reopen_rate.map(round4),
        resolution_days_median: measure.resolution_median.map(round4),
        resolution_ratio: scored.resolution_ratio.map(round4),
    }
}

/// Names of the two most severe priorities seen in the data, such as `Blocker/Critical`.
pub fn top_priority_label(data: &Prepared) -> String {
    let mut top: Vec<_> = data.priorities.iter().filter(|p| p.top).collect();
    top.sort_by(|a, b| a.placement.cmp(&b.placement).then_with(|| a.name.cmp(&b.name)));
    let names: Vec<&str> = top.iter().map(|p| p.name.as_str()).collect();
    if names.is_empty() {
        "top priority".to_string()
    } else {
        names.join("/")
    }
}

/// Everything one area's factor messages need.
struct Words<'a> {
    ctx: &'a Context,
    measures: &'a Measures,
    measure: &'a AreaMeasure,
    scored: &'a Scored,
    top_label: &'a str,
}

impl Words<'_> {
    /// Every factor with its points, largest first, ties by kind.
    fn factors(&self) -> Vec<Factor> {
        let messages =
            [self.decayed(), self.open_load(), self.inflow(), self.reopen(), self.resolution()];
        let mut factors: Vec<Factor> = messages
            .into_iter()
            .enumerate()
            .map(|(i, message)| Factor {
                kind: FACTOR_KINDS[i].to_string(),
                points: round(self.scored.points[i], 1),
                message,
            })
            .collect();
        factors.sort_by(|a, b| b.points.total_cmp(&a.points).then_with(|| a.kind.cmp(&b.kind)));
        factors
    }

    fn decayed(&self) -> String {
        let m = self.measure;
        let present = self.measures.areas.iter().filter(|a| a.bugs > 0);
        let (sum, count) = present.fold((0.0, 0usize), |(s, c), a| (s + a.decayed, c + 1));
        let mean = sum / count.max(1) as f64;
        let relative = if mean > 0.0 { m.decayed / mean } else { 0.0 };
        let window = last_days(self.ctx.horizon_days);
        let score = format!("{:.1}, {relative:.1}x the average area", m.decayed);
        if m.recent == 0 && m.decayed <= 0.0 {
            format!("no bugs in {window}")
        } else if m.recent == 0 {
            // Older bugs still weigh (they decay, they do not vanish): say so, or a "no
            // bugs" reason would read as a contradiction of the score beside it.
            format!(
                "no bugs in {window}, but earlier ones weighted by severity and recency still \
                 score {score}"
            )
        } else {
            format!(
                "{} in {window}; weighted by severity and recency, recent bugs score {score}",
                plural(m.recent, "bug")
            )
        }
    }

    fn open_load(&self) -> String {
        let m = self.measure;
        let Some(oldest) = m.oldest_open else {
            return "no open bugs".to_string();
        };
        let age = days((self.measures.at - oldest) as f64 / MS_PER_DAY);
        let load = format!("weighted by priority and age: {:.1}", m.open_load);
        let top = self.top_label;
        // "Oldest" right after the top-priority count would read as the oldest of those, so
        // the age names the open bug it belongs to.
        match (m.open, m.open_top) {
            (1, 1) => format!("1 open bug, of priority {top}, {age} days old ({load})"),
            (1, _) => format!("1 open bug, not {top}, {age} days old ({load})"),
            (open, open_top) => format!(
                "{open} open bugs, {open_top} of them {top}; oldest open bug {age} days old \
                 ({load})"
            ),
        }
    }

    fn inflow(&self) -> String {
        let m = self.measure;
        let horizon = self.ctx.horizon_days;
        let recent = format!("{} in {}", plural(m.recent, "bug"), last_days(horizon));
        let Some(p) = self.scored.inflow_p else {
            return format!("{recent}; too little history before to compare");
        };
        let previous_days = self.measures.previous_days;
        let Some(ratio) = self.scored.inflow_ratio else {
            return format!(
                "{recent} and none in the {} before ({})",
                whole_days(previous_days),
                p_text(p)
            );
        };
        let per_horizon = m.previous as f64 * horizon as f64 / previous_days;
        let direction = if ratio > 1.0 {
            format!("inflow up {ratio:.1}x")
        } else if ratio < 1.0 {
            format!("inflow down to {ratio:.1}x")
        } else {
            "inflow steady".to_string()
        };
        format!(
            "{direction}: {recent} against {per_horizon:.1} {} before ({})",
            per_days(horizon),
            p_text(p)
        )
    }

    fn reopen(&self) -> String {
        let m = self.measure;
        let Some(project) = self.measures.project_reopen_rate() else {
            return "no reopen history in the data".to_string();
        };
        if m.known == 0 {
            return format!(
                "no resolved bugs with reopen history here; {} project-wide",
                percent(project)
            );
        }
        let raw = m.reopened as f64 / m.known as f64;
        format!(
            "{} of resolved bugs reopened ({} of {}) against {} project-wide",
            percent(raw),
            m.reopened,
            m.known,
            percent(project)
        )
    }

    fn resolution(&self) -> String {
        let m = self.measure;
        match (m.resolution_median, self.measures.project_median, self.scored.resolution_ratio) {
            // Both medians cover every bug resolved by as_of, not the window the summary
            // shows, and say so to keep the two figures apart.
            (Some(median), Some(project), Some(ratio)) => format!(
                "all-time median {} days to resolve, {ratio:.1}x the project's all-time median \
                 of {} days",
                days(median),
                days(project)
            ),
            _ if m.resolved < MIN_RESOLVED => format!(
                "{}, too few to compare resolution time (needs {MIN_RESOLVED})",
                plural(m.resolved, "resolved bug")
            ),
            _ => "resolution time not comparable (the project median is 0 days)".to_string(),
        }
    }
}

/// `1 bug`, `3 bugs`.
pub fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `the last 30 days`, or `the last day`.
pub fn last_days(count: u32) -> String {
    if count == 1 {
        "the last day".to_string()
    } else {
        format!("the last {count} days")
    }
}

/// `per 30 days`, or `per day`.
pub fn per_days(count: u32) -> String {
    if count == 1 {
        "per day".to_string()
    } else {
        format!("per {count} days")
    }
}

/// A number of days rounded to whole days with its noun: `1 day`, `47 days`.
pub fn whole_days(value: f64) -> String {
    let shown = format!("{value:.0}");
    if shown == "1" {
        "1 day".to_string()
    } else {
        format!("{shown} days")
    }
}

/// Days with one decimal below 10, whole above.
pub fn days(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// A share as a whole percentage.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// `p = 0.012`, or `p < 0.001`.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}
