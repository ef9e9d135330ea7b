//! Number and date wording shared by the human formats.

use bugdash::analysis::report::{Distribution, Forecast, Report, Slope};
use bugdash::analysis::{Period, Window};

/// `1234567` as `1,234,567`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Days with one decimal below 100 and none above.
pub fn days(value: Option<f64>) -> String {
    match value {
        None => "n/a".into(),
        Some(days) if days >= 100.0 => format!("{} d", count(days.round() as u64)),
        Some(days) => format!("{days:.1} d"),
    }
}

/// A percentage with one decimal.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |rate| format!("{:.1}%", rate * 100.0))
}

/// A score such as an AUC or Brier value with two decimals.
pub fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |score| format!("{score:.2}"))
}

/// `3 bugs`, `1 bug`: a count with its noun in the right number.
pub fn counted(value: u64, singular: &str, plural: &str) -> String {
    format!("{} {}", count(value), if value == 1 { singular } else { plural })
}

/// `median 23.4 d · p80 … · p90 …`.
pub fn distribution(dist: &Distribution) -> String {
    if dist.count == 0 {
        return "no bugs".into();
    }
    format!(
        "median {} · p80 {} · p90 {} ({})",
        days(dist.median),
        days(dist.p80),
        days(dist.p90),
        counted(dist.count, "bug", "bugs")
    )
}

/// `4.1 (2–7)`.
pub fn forecast(forecast: &Forecast) -> String {
    format!("{:.1} ({}–{})", forecast.expected, forecast.low, forecast.high)
}

/// The window in words.
pub fn window(report: &Report) -> String {
    let start = report.window.start.date();
    let end = report.window.end.date();
    match report.parameters.window {
        Window::All => format!("all data ({start} to {end})"),
        Window::Days(days) => format!("last {days} days ({start} to {end})"),
    }
}

/// `week` or `month`.
pub fn period(period: Period) -> &'static str {
    match period {
        Period::Week => "week",
        Period::Month => "month",
    }
}

/// A slope in words: `rising, +0.4 per week (p = 0.01)`.
pub fn slope(slope: &Slope, period: Period) -> String {
    let p = slope.p_value.map_or_else(String::new, |p| format!(", {}", p_value(p)));
    format!("{} ({:+.3} per {}{p})", slope.direction, slope.per_period, self::period(period))
}

/// A p-value with sensible precision: `p = 0.038`, `p < 0.001`.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// A row of block characters showing the shape of `values` between their smallest and
/// largest value (a large, steady backlog would otherwise draw as a flat full bar).
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    let span = (max - min) as f64;
    values
        .iter()
        .map(|&value| {
            if span == 0.0 {
                BARS[0]
            } else {
                BARS[(((value - min) as f64 / span) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// The area field in words.
pub fn area_field(report: &Report) -> String {
    serde_json::to_value(report.parameters.area)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| "area".into())
}

/// Priority counts as `Blocker 3 new, 43 open · …`.
pub fn priorities(report: &Report) -> String {
    let parts: Vec<String> = report
        .summary
        .by_priority
        .iter()
        .map(|p| format!("{} {} new, {} open", p.priority, count(p.bugs), count(p.open)))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" · ")
    }
}

/// The reopen figure in words.
pub fn reopens(report: &Report) -> String {
    let reopen = &report.summary.reopen;
    if reopen.known == 0 {
        return "unknown (no status history in the data)".into();
    }
    format!(
        "{} ({} of {} with known history)",
        percent(reopen.rate),
        count(reopen.reopened),
        counted(reopen.known, "resolved bug", "resolved bugs")
    )
}

/// The backtest's figures beside the baseline's.
pub fn backtest_figures(report: &Report) -> String {
    let b = &report.backtest;
    format!(
        "AUC {} vs baseline {} · Brier {} vs {} · MAE {} vs {} · {}, {}",
        score(b.auc),
        score(b.baseline_auc),
        score(b.brier),
        score(b.baseline_brier),
        score(b.mae),
        score(b.baseline_mae),
        counted(u64::from(b.cutoffs), "cut-off", "cut-offs"),
        counted(b.pairs, "area-period", "area-periods")
    )
}

/// The projects of the report, or `all projects`.
pub fn projects(report: &Report) -> String {
    match report.data.projects.as_slice() {
        [] => "no project".into(),
        [one] => one.clone(),
        many if many.len() <= 4 => many.join(", "),
        many => format!("{} projects", many.len()),
    }
}

/// JIRA text made safe for a terminal: control characters (escape sequences that could
/// recolour the screen or set its title, line breaks that would break the table) become
/// the replacement character.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_827), "1,827");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(counted(1, "bug", "bugs"), "1 bug");
        assert_eq!(counted(1_254, "bug", "bugs"), "1,254 bugs");
        assert_eq!(counted(0, "bug", "bugs"), "0 bugs");
    }

    #[test]
    fn sparkline_scales_to_the_largest_value() {
        assert_eq!(sparkline(&[0, 2, 14]), "▁▂█");
        assert_eq!(sparkline(&[500, 502, 514]), "▁▂█");
        assert_eq!(sparkline(&[3, 3]), "▁▁");
    }
}
