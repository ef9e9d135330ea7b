//! `bugdash report usage`: who used BugDash over the last N days, for which projects and
//! features, and how fast it answered; as a table, JSON (every section) or CSV (one row
//! per day).

use std::process::ExitCode;

use bugdash::analytics::report::usage_report;
use bugdash::model::Timestamp;
use clap::{Args, Subcommand, ValueEnum};

use super::{print_json, print_lines};
use crate::context::{open_store, runtime, GlobalArgs, Missing};

/// Arguments of `bugdash report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

/// Output of `bugdash report usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Lines for people.
    Table,
    /// Every section, for programs.
    Json,
    /// One row per day.
    Csv,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Usage over the last N days (today included, so far).
    Usage {
        /// Days to cover, 1 to 3660.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

impl ReportArgs {
    /// Runs the subcommand against the configured store.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let ReportCommand::Usage { days, format } = self.command;
        let report = runtime()?.block_on(async {
            let store = open_store(&settings, Missing::Refuse).await?;
            let now = Timestamp::from(chrono::Utc::now());
            anyhow::Ok(usage_report(store.as_ref(), days, now).await?)
        })?;
        match format {
            ReportFormat::Json => print_json(&report)?,
            ReportFormat::Csv => {
                let csv = report.days_csv()?;
                print_lines(&[csv.trim_end().to_owned()])?;
            }
            ReportFormat::Table => {
                let mut lines: Vec<String> =
                    report.summary_text().lines().map(String::from).collect();
                lines.push(String::new());
                lines.push("Endpoints:".into());
                for e in report.endpoints.iter().take(15) {
                    lines.push(format!(
                        "  {:<6} {:<40} {:>7} req  p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  errors {:.1}%",
                        e.method, e.endpoint, e.requests, e.p50_ms, e.p95_ms, e.p99_ms, e.error_rate * 100.0
                    ));
                }
                print_lines(&lines)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
