//! `bugdash projects`: what the store holds, per project.

use std::process::ExitCode;

use clap::Args;

use super::{print_json, print_lines, OutputFormat};
use crate::context::{open_store, runtime, GlobalArgs, Missing};

/// Arguments of `bugdash projects`.
#[derive(Debug, Args)]
pub struct ProjectsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl ProjectsArgs {
    /// Lists the stored projects with their counts and sync state.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let projects = runtime()?.block_on(async {
            let store = open_store(&settings, Missing::Refuse).await?;
            anyhow::Ok(store.projects().await?)
        })?;
        if self.format == OutputFormat::Json {
            print_json(&projects)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut lines = vec![format!(
            "{:<16} {:>9} {:>8}  {:<24} {}",
            "PROJECT", "ISSUES", "REMOVED", "SYNCED UP TO", "LAST CHANGE"
        )];
        for project in &projects {
            let watermark = project.sync.as_ref().and_then(|s| s.watermark);
            lines.push(format!(
                "{:<16} {:>9} {:>8}  {:<24} {}",
                project.key,
                project.issues,
                project.removed,
                watermark.map_or_else(|| "never synced".into(), |t| t.to_string()),
                project.updated_at.map_or_else(|| "-".into(), |t| t.to_string()),
            ));
        }
        if projects.is_empty() {
            lines.push("no projects yet: use `bugdash import` or `bugdash sync`".into());
        }
        print_lines(&lines)?;
        Ok(ExitCode::SUCCESS)
    }
}
