//! `bugdash import`: issues from files into the store.

use std::path::PathBuf;
use std::process::ExitCode;

use bugdash::ingest::import::{import_files, ImportRequest};
use bugdash::jira::ReadOptions;
use clap::Args;

use super::{print_json, print_lines, OutputFormat};
use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::progress::Reporter;

/// Arguments of `bugdash import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import: every format `bugdash analyze` reads.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Project the issues belong to; issues of other projects in the files are skipped.
    #[arg(long, value_name = "KEY", value_parser = super::project_key)]
    pub project: String,

    /// Column mapping for delimited files that are not JIRA exports.
    #[arg(long, value_name = "MAP")]
    pub columns: Option<String>,

    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl ImportArgs {
    /// Reads the files and upserts their issues; importing the same data again changes
    /// nothing.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let request = ImportRequest {
            files: self.files.clone(),
            project: self.project.clone(),
            options: ReadOptions { columns: self.columns.clone() },
        };
        let reporter = Reporter::new();
        let report = runtime()?.block_on(async {
            let store = open_store(&settings, Missing::Create).await?;
            anyhow::Ok(import_files(store.as_ref(), &request, &reporter).await?)
        });
        reporter.finish();
        let report = report?;
        for (project, count) in &report.other_projects {
            eprintln!("note: skipped {count} issue(s) of project {project}");
        }
        if self.format == OutputFormat::Json {
            print_json(&serde_json::json!({
                "project": self.project,
                "read": report.read,
                "inserted": report.written.inserted,
                "updated": report.written.updated,
                "unchanged": report.written.unchanged,
                "skipped_other_projects": report.other_projects,
                "run_id": report.run_id,
            }))?;
        } else {
            let w = report.written;
            print_lines(&[format!(
                "{}: {} issues read, {} new, {} updated, {} unchanged",
                self.project, report.read, w.inserted, w.updated, w.unchanged
            )])?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
