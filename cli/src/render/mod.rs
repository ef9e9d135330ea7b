//! Rendering a report for people (table, markdown) and for programs (JSON, CSV).

mod csv;
mod markdown;
mod table;
mod text;

use std::io::Write;

use bugdash::analysis::Report;
use clap::ValueEnum;

/// Output format of `bugdash analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A report for the terminal: summary, riskiest areas, insights, forecast, backtest.
    Table,
    /// The full report as JSON (see docs/report-schema.md).
    Json,
    /// One row per area with its risk, factors and forecast.
    Csv,
    /// The table report as Markdown, for wikis and tickets.
    Markdown,
}

/// Writes `report` to `out` in `format`, showing at most `top` areas in the human formats.
pub fn write(
    out: &mut dyn Write,
    report: &Report,
    format: Format,
    top: usize,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)?;
        }
        Format::Csv => csv::write(out, report)?,
        Format::Table => table::write(out, report, top)?,
        Format::Markdown => markdown::write(out, report, top)?,
    }
    Ok(())
}
