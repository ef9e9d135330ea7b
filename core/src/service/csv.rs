//! CSV exports for spreadsheets: one row per area of a report, or one row per issue.
//!
//! Every text cell that a spreadsheet would run as a formula is defused, because area
//! names, summaries and labels are written by anyone with access to the tracker.

use std::io::Write;

use crate::analysis::Report;
use crate::service::issues::IssueRow;

const AREA_HEADER: [&str; 16] = [
    "area",
    "risk",
    "level",
    "bugs",
    "open",
    "resolved",
    "forecast_expected",
    "forecast_low",
    "forecast_high",
    "decayed_bugs",
    "open_load",
    "inflow_recent",
    "inflow_previous",
    "reopen_rate",
    "resolution_days_median",
    "top_factors",
];

const ISSUE_HEADER: [&str; 15] = [
    "key",
    "project",
    "type",
    "status",
    "status_category",
    "priority",
    "resolution",
    "created",
    "updated",
    "resolved",
    "components",
    "labels",
    "fix_versions",
    "assignee",
    "summary",
];

/// Text made safe for a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, so it is shown rather than run as a formula.
///
/// ```
/// use bugdash::service::csv::spreadsheet_safe;
/// assert_eq!(spreadsheet_safe("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
/// assert_eq!(spreadsheet_safe("server"), "server");
/// ```
pub fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// Writes the areas of `report` as CSV with a header row.
pub fn write_areas(out: impl Write, report: &Report) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(AREA_HEADER)?;
    for area in &report.areas {
        let m = &area.metrics;
        let factors: Vec<&str> = area.factors.iter().take(3).map(|f| f.message.as_str()).collect();
        writer.write_record([
            spreadsheet_safe(&area.name),
            format!("{:.1}", area.risk),
            format!("{:?}", area.level).to_lowercase(),
            area.bugs.to_string(),
            area.open.to_string(),
            area.resolved.to_string(),
            format!("{:.2}", area.forecast.expected),
            area.forecast.low.to_string(),
            area.forecast.high.to_string(),
            format!("{:.3}", m.decayed_bugs),
            format!("{:.3}", m.open_load),
            m.inflow_recent.to_string(),
            m.inflow_previous.to_string(),
            m.reopen_rate.map_or_else(String::new, |r| format!("{r:.4}")),
            m.resolution_days_median.map_or_else(String::new, |d| format!("{d:.1}")),
            spreadsheet_safe(&factors.join("; ")),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes issues as CSV with a header row; lists are joined with `; `.
pub fn write_issues(out: impl Write, issues: &[IssueRow]) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(ISSUE_HEADER)?;
    let time = |t: Option<crate::Timestamp>| t.map_or_else(String::new, |t| t.to_string());
    let text = |t: &Option<String>| spreadsheet_safe(t.as_deref().unwrap_or(""));
    for issue in issues {
        writer.write_record([
            spreadsheet_safe(&issue.key),
            spreadsheet_safe(&issue.project),
            spreadsheet_safe(&issue.issue_type),
            spreadsheet_safe(&issue.status),
            issue.status_category.as_str().to_owned(),
            text(&issue.priority),
            text(&issue.resolution),
            time(issue.created),
            time(issue.updated),
            time(issue.resolved),
            spreadsheet_safe(&issue.components.join("; ")),
            spreadsheet_safe(&issue.labels.join("; ")),
            spreadsheet_safe(&issue.fix_versions.join("; ")),
            text(&issue.assignee),
            spreadsheet_safe(&issue.summary),
        ])?;
    }
    writer.flush()?;
    Ok(())
}
