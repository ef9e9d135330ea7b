//! One module per subcommand, each with its clap arguments and a `run` method.

pub mod analyze;
pub mod import;
pub mod migrate;
pub mod projects;
pub mod sync;

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

/// Output of the commands that report what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people.
    Table,
    /// JSON for programs.
    Json,
}

/// Writes `value` as pretty JSON and a newline to standard output.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    Ok(())
}

/// Writes lines to standard output.
pub fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}
