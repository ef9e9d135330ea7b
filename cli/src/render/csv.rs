//! One CSV row per area, for spreadsheets: the core's export, which the HTTP service
//! serves too, with formula-like cells defused.

use std::io::Write;

use bugdash::analysis::report::Report;

/// Writes the areas of `report` as CSV with a header row.
pub fn write(out: &mut dyn Write, report: &Report) -> anyhow::Result<()> {
    bugdash::service::csv::write_areas(out, report)?;
    Ok(())
}
