//! The report as Markdown, for wikis, tickets and pull requests.

use std::io::Write;

use bugdash::analysis::report::Report;

use super::text;

/// Writes the Markdown report, showing at most `top` areas.
pub fn write(out: &mut dyn Write, report: &Report, top: usize) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(out, "# Bug-risk report: {}\n", text::projects(report))?;
    writeln!(out, "As of {} · window: {}\n", report.as_of, text::window(report))?;
    writeln!(out, "## Summary\n")?;
    writeln!(out, "| Measure | Value |\n|---|---|")?;
    writeln!(out, "| Bugs created in the window | {} |", text::count(s.bugs))?;
    writeln!(out, "| Resolved in the window | {} |", text::count(s.resolved))?;
    writeln!(out, "| Open now | {} |", text::count(s.open))?;
    writeln!(out, "| Time to resolve | {} |", text::distribution(&s.resolution_days))?;
    writeln!(out, "| Age of open bugs | {} |", text::distribution(&s.open_age_days))?;
    writeln!(out, "| Reopened | {} |", text::reopens(report))?;
    writeln!(out, "| By priority | {} |", text::priorities(report))?;
    areas(out, report, top)?;
    writeln!(out, "\n## Insights\n")?;
    for insight in &report.insights {
        writeln!(out, "- **{:?}**: {}", insight.severity, escape(&insight.message))?;
    }
    let f = &report.forecast;
    writeln!(out, "\n## Forecast\n")?;
    writeln!(
        out,
        "{:.1} bugs expected in the next {} days (80% interval {}–{}).",
        f.expected, f.horizon_days, f.low, f.high
    )?;
    writeln!(
        out,
        "\n## Backtest\n\n{}\n\n{}",
        report.backtest.verdict,
        text::backtest_figures(report)
    )
}

fn areas(out: &mut dyn Write, report: &Report, top: usize) -> std::io::Result<()> {
    writeln!(out, "\n## Riskiest areas (by {})\n", text::area_field(report))?;
    writeln!(out, "| # | Area | Risk | Level | Bugs | Open | Forecast (80%) | Top factors |")?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for (rank, area) in report.areas.iter().take(top).enumerate() {
        let factors: Vec<String> = area
            .factors
            .iter()
            .filter(|f| f.points >= 0.5)
            .take(3)
            .map(|f| escape(&f.message))
            .collect();
        writeln!(
            out,
            "| {} | {} | {:.1} | {:?} | {} | {} | {} | {} |",
            rank + 1,
            escape(&area.name),
            area.risk,
            area.level,
            area.bugs,
            area.open,
            text::forecast(&area.forecast),
            factors.join("; ")
        )?;
    }
    Ok(())
}

/// Keeps JIRA text from breaking the table or being read as Markdown.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}
