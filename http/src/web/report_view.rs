//! The analysis report said for people: headline, figures, the risk table, charts,
//! insights and the backtest in words, each number linked to the issues behind it.

use bugdash::analysis::report::{AreaRisk, Backtest, Level, Severity};
use bugdash::analysis::{AreaField, Period, Report, Window};
use bugdash::model::{Timestamp, MILLIS_PER_DAY};

use super::charts::{self, LineChart, Series, Svg};
use super::drill::{Drill, Scope};
use super::format;
use crate::state::AppState;

/// `critical`, `high`, `medium` or `low`.
pub fn level_word(level: Level) -> &'static str {
    match level {
        Level::Critical => "critical",
        Level::High => "high",
        Level::Medium => "medium",
        Level::Low => "low",
    }
}

/// The JIRA site issues link to (`/browse/KEY`), when the service knows one served over
/// HTTP(S).
pub fn jira_base(state: &AppState) -> Option<String> {
    let url = state.settings.jira.url.as_deref()?.trim().trim_end_matches('/');
    let web = url.starts_with("https://") || url.starts_with("http://");
    web.then(|| url.to_owned())
}

/// The page of one issue in JIRA.
pub fn jira_link(base: Option<&str>, key: &str) -> Option<String> {
    base.map(|base| format!("{base}/browse/{}", format::encode(key)))
}

/// The column heading of the areas.
pub fn area_heading(field: AreaField) -> &'static str {
    match field {
        AreaField::Component => "Component",
        AreaField::Label => "Label",
        AreaField::FixVersion => "Fix version",
        AreaField::AffectsVersion => "Affects version",
        AreaField::Assignee => "Assignee",
        AreaField::Project => "Project",
    }
}

/// The area the core names `none`: the bugs without a value of the area field.
const NO_AREA: &str = "none";

/// An area's name as the pages show it: [`NO_AREA`] reads `(no component)`, `(no label)`
/// and so on after the area field, so that it is not taken for an area called "none".
/// Links and `data-area` keep the core's name, which the filters read.
pub fn area_name(field: AreaField, name: &str) -> String {
    if name == NO_AREA {
        format!("(no {})", area_heading(field).to_lowercase())
    } else {
        name.to_owned()
    }
}

fn period_word(period: Period) -> &'static str {
    match period {
        Period::Week => "week",
        Period::Month => "month",
    }
}

fn window_words(report: &Report) -> String {
    match report.window.days {
        Some(days) => format!("the last {days} days"),
        None => "all history".to_owned(),
    }
}

/// What the analysis covers, in one line.
pub fn scope_words(report: &Report) -> String {
    let window = match report.parameters.window {
        Window::Days(_) => format!(
            "{} ({} to {})",
            capitalised(&window_words(report)),
            format::day(report.window.start),
            format::day(report.window.end)
        ),
        Window::All => format!("All history, up to {}", format::day(report.window.end)),
    };
    let area = area_heading(report.parameters.area).to_lowercase();
    let period = period_word(report.parameters.period);
    format!("{window} · trends per {period} · areas by {area}")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// What went in, in one or two sentences.
pub fn data_words(report: &Report) -> String {
    let data = &report.data;
    let mut text = format!(
        "{} issues match the filters, {} of them bugs",
        format::count(data.matched),
        format::count(data.bugs)
    );
    if let (Some(first), Some(last)) = (data.first_created, data.last_created) {
        text.push_str(&format!(", created {} to {}", format::day(first), format::day(last)));
    }
    text.push('.');
    if data.changelog_incomplete > 0 {
        text.push_str(&format!(
            " {} bugs have a truncated history, so their reopens may be undercounted.",
            format::count(data.changelog_incomplete)
        ));
    }
    text
}

/// The riskiest areas and the main reason for the first, in one or two sentences.
pub fn headline(report: &Report) -> String {
    let area = area_heading(report.parameters.area).to_lowercase();
    let risky: Vec<&AreaRisk> =
        report.areas.iter().filter(|a| a.level >= Level::Medium).take(3).collect();
    let Some(first) = risky.first() else {
        return if report.areas.is_empty() {
            "No bugs match these filters.".to_owned()
        } else {
            format!("No {area} stands out: every one is at low risk.")
        };
    };
    let field = report.parameters.area;
    let named: Vec<String> = risky
        .iter()
        .map(|a| {
            let name = area_name(field, &a.name);
            format!("{name} ({}, {})", level_word(a.level), format::decimal(a.risk, 0))
        })
        .collect();
    let list = match named.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    let noun = if named.len() == 1 {
        format!("riskiest {area} is")
    } else {
        format!("riskiest {area}s are")
    };
    let mut text = format!("The {noun} {list}.");
    if let Some(factor) = first.factors.first() {
        let name = area_name(field, &first.name);
        text.push_str(&format!(" {name} leads with {}.", factor.message));
    }
    text
}

/// A headline number.
#[derive(Debug, Clone)]
pub struct Figure {
    /// What it is.
    pub label: String,
    /// The number.
    pub value: String,
    /// The issues behind it, when it counts issues.
    pub href: Option<String>,
    /// A note under it.
    pub note: String,
}

/// The headline numbers.
pub fn figures(report: &Report, drill: &Drill) -> Vec<Figure> {
    let summary = &report.summary;
    let window = window_words(report);
    let figure = |label: &str, value: String, href: Option<String>, note: String| Figure {
        label: label.to_owned(),
        value,
        href,
        note,
    };
    let resolution = &summary.resolution_days;
    let forecast = &report.forecast;
    vec![
        figure(
            "Open bugs",
            format::count(summary.open),
            Some(drill.link(Scope::Open, None)),
            format!("at {}", format::day(report.as_of)),
        ),
        figure(
            "Bugs created",
            format::count(summary.bugs),
            Some(drill.link(Scope::Created, None)),
            format!("in {window}"),
        ),
        figure(
            "Bugs resolved",
            format::count(summary.resolved),
            Some(drill.link(Scope::Resolved, None)),
            format!("in {window}"),
        ),
        figure(
            "Median time to resolve",
            resolution
                .median
                .map_or_else(|| "–".to_owned(), |d| format!("{} days", format::decimal(d, 1))),
            None,
            resolution.p80.map_or_else(
                || "no bug resolved in the window".to_owned(),
                |d| format!("80% within {} days", format::decimal(d, 0)),
            ),
        ),
        figure(
            "Reopened",
            summary.reopen.rate.map_or_else(|| "–".to_owned(), format::percent),
            None,
            format!(
                "{} of {} resolved bugs with known history",
                format::count(summary.reopen.reopened),
                format::count(summary.reopen.known)
            ),
        ),
        figure(
            &format!("Expected in the next {} days", forecast.horizon_days),
            format::decimal(forecast.expected, 1),
            None,
            format!("80% range {} to {} bugs", forecast.low, forecast.high),
        ),
    ]
}

/// One row of the risk table.
#[derive(Debug, Clone)]
pub struct AreaRow {
    /// 1 for the riskiest.
    pub rank: usize,
    /// The area, as the core names it.
    pub name: String,
    /// The area, as the page shows it (see [`area_name`]).
    pub shown: String,
    /// Its project page, when the areas are projects.
    pub project_href: Option<String>,
    /// `critical` … `low`.
    pub level: &'static str,
    /// The score, one decimal.
    pub risk: String,
    /// The score rounded, 0 to 100, for the meter.
    pub meter: u32,
    /// Bugs created in the window, and their list.
    pub bugs: String,
    /// Link to them.
    pub bugs_href: String,
    /// Bugs open, and their list.
    pub open: String,
    /// Link to them.
    pub open_href: String,
    /// Bugs resolved in the window.
    pub resolved: String,
    /// Link to them.
    pub resolved_href: String,
    /// The main reasons, in words.
    pub why: Vec<String>,
    /// The other factors that add points.
    pub more: Vec<String>,
    /// Expected bugs over the horizon with the 80% range.
    pub forecast: String,
}

/// The risk table, riskiest first, at most `limit` rows.
pub fn area_rows(report: &Report, drill: &Drill, limit: usize) -> Vec<AreaRow> {
    let field = report.parameters.area;
    let projects = field == AreaField::Project;
    report
        .areas
        .iter()
        .take(limit)
        .enumerate()
        .map(|(n, area)| {
            let name = Some(area.name.as_str());
            let reasons: Vec<String> =
                area.factors.iter().filter(|f| f.points > 0.0).map(|f| f.message.clone()).collect();
            let (why, more) = reasons.split_at(reasons.len().min(2));
            AreaRow {
                rank: n + 1,
                project_href: (projects && area.name != NO_AREA)
                    .then(|| format!("/projects/{}", format::encode(&area.name))),
                name: area.name.clone(),
                shown: area_name(field, &area.name),
                level: level_word(area.level),
                risk: format::decimal(area.risk, 1),
                meter: area.risk.clamp(0.0, 100.0).round() as u32,
                bugs: format::count(area.bugs),
                bugs_href: drill.link(Scope::Created, name),
                open: format::count(area.open),
                open_href: drill.link(Scope::Open, name),
                resolved: format::count(area.resolved),
                resolved_href: drill.link(Scope::Resolved, name),
                why: why.to_vec(),
                more: more.to_vec(),
                forecast: format!(
                    "{} ({} to {})",
                    format::decimal(area.forecast.expected, 1),
                    area.forecast.low,
                    area.forecast.high
                ),
            }
        })
        .collect()
}

/// A trend period's label: ISO week (`2024-W05`) or month (`2024-03`).
fn period_label(start: chrono::NaiveDate, period: Period) -> String {
    use chrono::Datelike;
    match period {
        Period::Week => {
            let week = start.iso_week();
            format!("{}-W{:02}", week.year(), week.week())
        }
        Period::Month => start.format("%Y-%m").to_string(),
    }
}

fn start_of(day: chrono::NaiveDate) -> Timestamp {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    Timestamp::from_millis(day.signed_duration_since(epoch).num_days() * MILLIS_PER_DAY)
}

fn period_end(start: chrono::NaiveDate, period: Period) -> chrono::NaiveDate {
    match period {
        Period::Week => start + chrono::Days::new(7),
        Period::Month => start + chrono::Months::new(1),
    }
}

fn slope_words(
    per_period: f64,
    direction: &str,
    period: &str,
    rising: &str,
    falling: &str,
) -> String {
    let change = format!(
        "{}{} per {period}",
        if per_period >= 0.0 { "+" } else { "" },
        format::decimal(per_period, 1)
    );
    match direction {
        "rising" => format!("{rising} ({change})"),
        "falling" => format!("{falling} ({change})"),
        _ => "without a significant trend".to_owned(),
    }
}

/// Bugs created and resolved per period, each point linking to the bugs created in it,
/// and the trend of creation in words.
pub fn trend_chart(report: &Report, drill: &Drill) -> (Svg, String) {
    let period = report.trends.period;
    let points = &report.trends.points;
    let labels: Vec<String> = points.iter().map(|p| period_label(p.start, period)).collect();
    let created: Vec<f64> = points.iter().map(|p| p.created as f64).collect();
    let resolved: Vec<f64> = points.iter().map(|p| p.resolved as f64).collect();
    let links: Vec<String> = points
        .iter()
        .map(|p| {
            let range =
                Scope::CreatedBetween(start_of(p.start), start_of(period_end(p.start, period)));
            drill.link(range, None)
        })
        .collect();
    let word = period_word(period);
    let title = format!("Bugs created and resolved per {word}");
    let unit = format!("bugs per {word}");
    let series = [
        Series { label: "Created", values: &created },
        Series { label: "Resolved", values: &resolved },
    ];
    let svg = charts::line_chart(&LineChart {
        title: &title,
        x_labels: &labels,
        y_unit: &unit,
        series: &series,
        band: None,
        point_links: Some(&links),
    });
    let slope = &report.trends.created_slope;
    let mut words = format!(
        "New bugs per {word}: {}.",
        slope_words(slope.per_period, &slope.direction, word, "rising", "falling")
    );
    words.push_str(&first_period_words(report));
    (svg, words)
}

/// What the first point counts when its period starts before the window: every period is
/// counted whole, so its numbers can exceed the window's own (empty otherwise).
fn first_period_words(report: &Report) -> String {
    let Some(first) = report.trends.points.first() else { return String::new() };
    if first.start >= report.window.start.date() {
        return String::new();
    }
    let word = period_word(report.trends.period);
    format!(" The first {word} starts on {}, before the window, and is counted whole.", first.start)
}

/// The open backlog at each period's end, and its trend in words.
pub fn backlog_chart(report: &Report) -> (Svg, String) {
    let period = report.trends.period;
    let points = &report.trends.points;
    let labels: Vec<String> = points.iter().map(|p| period_label(p.start, period)).collect();
    let open: Vec<f64> = points.iter().map(|p| p.open as f64).collect();
    let word = period_word(period);
    let series = [Series { label: "Open bugs", values: &open }];
    let svg = charts::line_chart(&LineChart {
        title: &format!("Open bugs at the end of each {word}"),
        x_labels: &labels,
        y_unit: "open bugs",
        series: &series,
        band: None,
        point_links: None,
    });
    let slope = &report.trends.open_slope;
    let words = format!(
        "The open backlog is {}.",
        slope_words(slope.per_period, &slope.direction, word, "growing", "shrinking")
    );
    (svg, words)
}

/// One issue named by an insight.
#[derive(Debug, Clone)]
pub struct IssueRef {
    /// Its key.
    pub key: String,
    /// Its JIRA page, when known.
    pub href: Option<String>,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct InsightView {
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    /// The finding in words.
    pub message: String,
    /// The area's open bugs, when the finding is about an area.
    pub area_href: Option<String>,
    /// The area, as the page shows it.
    pub area: Option<String>,
    /// Issues behind it.
    pub issues: Vec<IssueRef>,
}

/// The first `limit` findings, most severe first.
pub fn insights(
    report: &Report,
    drill: &Drill,
    jira: Option<&str>,
    limit: usize,
) -> Vec<InsightView> {
    report
        .insights
        .iter()
        .take(limit)
        .map(|insight| InsightView {
            severity: match insight.severity {
                Severity::Critical => "critical",
                Severity::Warning => "warning",
                Severity::Info => "info",
            },
            message: insight.message.clone(),
            area_href: insight.area.as_deref().map(|area| drill.link(Scope::Open, Some(area))),
            area: insight.area.as_deref().map(|area| area_name(report.parameters.area, area)),
            issues: insight
                .issues
                .iter()
                .map(|key| IssueRef { key: key.clone(), href: jira_link(jira, key) })
                .collect(),
        })
        .collect()
}

/// The backtest in words.
#[derive(Debug, Clone)]
pub struct BacktestView {
    /// `good`, `fair`, `weak` or `unknown`.
    pub quality: &'static str,
    /// One line.
    pub summary: String,
    /// The measurements, each a sentence.
    pub sentences: Vec<String>,
    /// The analysis's own verdict.
    pub verdict: String,
}

/// How well the model did on this data's past, said plainly.
pub fn backtest(backtest: &Backtest) -> BacktestView {
    let days = backtest.horizon_days;
    if backtest.cutoffs == 0 {
        return BacktestView {
            quality: "unknown",
            summary: "Not enough history yet to check the model against its own past.".into(),
            sentences: Vec::new(),
            verdict: backtest.verdict.clone(),
        };
    }
    let beats = match (backtest.auc, backtest.baseline_auc) {
        (Some(auc), Some(base)) => auc > base,
        _ => false,
    };
    let quality = match backtest.auc {
        Some(auc) if auc >= 0.75 && beats => "good",
        Some(auc) if auc >= 0.6 => "fair",
        Some(_) => "weak",
        None => "unknown",
    };
    let mut sentences = Vec::new();
    if let Some(auc) = backtest.auc {
        let base = backtest.baseline_auc.map_or_else(|| "–".to_owned(), format::percent);
        sentences.push(format!(
            "Of two areas where one got a bug in the next {days} days and the other did not, \
             the model ranked the right one higher {} of the time (the naive \"same as last \
             period\" guess: {base}; a coin toss: 50%).",
            format::percent(auc)
        ));
    }
    if let Some(mae) = backtest.mae {
        let base = backtest.baseline_mae.map_or_else(|| "–".to_owned(), |m| format::decimal(m, 2));
        sentences.push(format!(
            "Its {days}-day forecasts were off by {} bugs per area on average (the naive guess: \
             {base}).",
            format::decimal(mae, 2)
        ));
    }
    sentences.push(format!(
        "{} of {} area-periods got at least one bug.",
        format::count(backtest.positives),
        format::count(backtest.pairs)
    ));
    let plural = if backtest.cutoffs == 1 { "" } else { "s" };
    let how = match quality {
        "good" => "ranked the riskiest areas well",
        "fair" => "ranked the riskiest areas fairly well",
        "weak" => "ranked the riskiest areas poorly",
        _ => "every area had the same outcome, so the ranking could not be scored",
    };
    BacktestView {
        quality,
        summary: format!("Checked on {} past date{plural}: {how}.", backtest.cutoffs),
        sentences,
        verdict: backtest.verdict.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_without_a_value_is_named_after_the_area_field() {
        assert_eq!(area_name(AreaField::Component, "none"), "(no component)");
        assert_eq!(area_name(AreaField::FixVersion, "none"), "(no fix version)");
        assert_eq!(area_name(AreaField::Label, "server"), "server");
    }
}
