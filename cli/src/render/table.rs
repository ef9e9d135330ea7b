//! The terminal report: what a QA manager reads at a glance.

use std::io::Write;

use bugdash::analysis::report::{AreaRisk, Level, Report, Severity};

use super::text;
use super::text::printable;

/// Writes the terminal report, showing at most `top` areas.
pub fn write(out: &mut dyn Write, report: &Report, top: usize) -> std::io::Result<()> {
    header(out, report)?;
    summary(out, report)?;
    areas(out, report, top)?;
    insights(out, report)?;
    outlook(out, report)
}

fn header(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let as_of = report.as_of.to_datetime().format("%Y-%m-%d %H:%M UTC");
    writeln!(
        out,
        "BugDash bug-risk report · {} · as of {as_of}",
        printable(&text::projects(report))
    )?;
    writeln!(out, "Window: {}", text::window(report))?;
    writeln!(
        out,
        "Data:   {} bugs among {} matching issues ({} read), areas by {}",
        text::count(report.data.bugs),
        text::count(report.data.matched),
        text::count(report.data.issues),
        text::area_field(report)
    )
}

fn summary(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(out, "\nSUMMARY")?;
    writeln!(out, "  Bugs created       {} in the window", text::count(s.bugs))?;
    writeln!(out, "  Resolved           {} in the window", text::count(s.resolved))?;
    writeln!(out, "  Open now           {}", text::count(s.open))?;
    writeln!(out, "  Time to resolve    {}", text::distribution(&s.resolution_days))?;
    writeln!(out, "  Age of open bugs   {}", text::distribution(&s.open_age_days))?;
    writeln!(out, "  Reopened           {}", text::reopens(report))?;
    writeln!(out, "  By priority        {}", printable(&text::priorities(report)))?;
    trend(out, report)
}

fn trend(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let trends = &report.trends;
    let recent = &trends.points[trends.points.len().saturating_sub(26)..];
    if recent.is_empty() {
        return Ok(());
    }
    let period = text::period(trends.period);
    let created: Vec<u64> = recent.iter().map(|p| p.created).collect();
    let open: Vec<u64> = recent.iter().map(|p| p.open).collect();
    let label = format!("Created per {period}");
    sparkline_row(out, &label, &created, &text::slope(&trends.created_slope, trends.period))?;
    sparkline_row(out, "Open backlog", &open, &text::slope(&trends.open_slope, trends.period))?;
    let shown = recent.len();
    let periods = if shown == 1 { period.to_owned() } else { format!("{period}s") };
    writeln!(out, "  {:<18} (bars: last {shown} {periods}, oldest first; trend: whole window)", "")
}

fn sparkline_row(
    out: &mut dyn Write,
    label: &str,
    values: &[u64],
    slope: &str,
) -> std::io::Result<()> {
    let min = values.iter().copied().min().unwrap_or(0);
    let max = values.iter().copied().max().unwrap_or(0);
    let range = format!("{}–{}", text::count(min), text::count(max));
    writeln!(out, "  {label:<18} {} {range:>11}  {slope}", text::sparkline(values))
}

fn areas(out: &mut dyn Write, report: &Report, top: usize) -> std::io::Result<()> {
    let field = text::area_field(report);
    let shown = report.areas.len().min(top);
    writeln!(out, "\nRISKIEST AREAS (by {field}, {shown} of {})", report.areas.len())?;
    if shown == 0 {
        return writeln!(out, "  no bugs to rank");
    }
    let width =
        report.areas[..shown].iter().map(|a| printable(&a.name).chars().count()).max().unwrap_or(4);
    let width = width.clamp(4, 32);
    let horizon = report.forecast.horizon_days;
    writeln!(
        out,
        "  {:>2}  {:<width$}  {:>5}  {:<8}  {:>6}  {:>6}  Next {horizon} d (80%)",
        "#", "Area", "Risk", "Level", "Bugs", "Open"
    )?;
    for (rank, area) in report.areas[..shown].iter().enumerate() {
        area_row(out, rank + 1, area, width)?;
    }
    Ok(())
}

fn area_row(
    out: &mut dyn Write,
    rank: usize,
    area: &AreaRisk,
    width: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "  {rank:>2}  {:<width$}  {:>5.1}  {:<8}  {:>6}  {:>6}  {}",
        clip(&printable(&area.name), width),
        area.risk,
        level(area.level),
        text::count(area.bugs),
        text::count(area.open),
        text::forecast(&area.forecast)
    )?;
    for factor in area.factors.iter().filter(|f| f.points >= 0.5).take(3) {
        writeln!(out, "      {:>4.1} pts  {}", factor.points, printable(&factor.message))?;
    }
    Ok(())
}

fn insights(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    writeln!(out, "\nINSIGHTS")?;
    if report.insights.is_empty() {
        return writeln!(out, "  nothing stands out");
    }
    for insight in &report.insights {
        let mark = match insight.severity {
            Severity::Critical => "critical",
            Severity::Warning => "warning ",
            Severity::Info => "info    ",
        };
        writeln!(out, "  {mark}  {}", printable(&insight.message))?;
    }
    Ok(())
}

fn outlook(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let f = &report.forecast;
    writeln!(out, "\nFORECAST")?;
    writeln!(
        out,
        "  Next {} days: {:.1} bugs expected (80% interval {}–{})",
        f.horizon_days, f.expected, f.low, f.high
    )?;
    writeln!(out, "\nBACKTEST (how well this model predicted this data's own past)")?;
    writeln!(out, "  {}", report.backtest.verdict)?;
    writeln!(out, "  {}", text::backtest_figures(report))
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "HIGH",
        Level::Critical => "CRITICAL",
    }
}

/// Cuts `name` to `width` characters, marking the cut.
fn clip(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_owned();
    }
    let mut clipped: String = name.chars().take(width.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::super::text::printable;

    #[test]
    fn escape_sequences_in_jira_text_cannot_reach_the_terminal() {
        let hostile = "evil\x1b[31mRED\x1b]0;pwned\x07\nnext";
        let shown = printable(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("evil\u{FFFD}[31mRED"));
    }
}
