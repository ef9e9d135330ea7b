//! One CSV row per area, for spreadsheets.

use std::io::Write;

use bugdash::analysis::report::Report;

const HEADER: [&str; 16] = [
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

/// Writes the areas of `report` as CSV with a header row.
pub fn write(out: &mut dyn Write, report: &Report) -> anyhow::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
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

/// Quotes text that a spreadsheet would otherwise run as a formula: JIRA names are written
/// by anyone with access to the tracker.
fn spreadsheet_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_like_names_are_defused() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("server"), "server");
    }
}
