//! `bugdash sync`: incremental sync of a project from JIRA into the store.

use std::process::ExitCode;

use anyhow::Context;
use bugdash::ingest::sync::{sync_project, SyncRequest};
use bugdash::jira::client::JiraClient;
use clap::Args;

use super::{print_json, print_lines, OutputFormat};
use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::progress::Reporter;

/// Arguments of `bugdash sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Project key to sync.
    #[arg(long, value_name = "KEY", value_parser = super::project_key)]
    pub project: String,

    /// Read every issue again and look for deleted and moved issues, ignoring the
    /// watermark.
    #[arg(long)]
    pub full: bool,

    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl SyncArgs {
    /// Syncs the project; an interrupted sync carries on from its last written page.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let client_config =
            settings.jira.client_config().context("the JIRA settings are incomplete")?;
        let request = SyncRequest::new(self.project.clone(), self.full, &settings.sync);
        let reporter = Reporter::new();
        let report = runtime()?.block_on(async {
            let store = open_store(&settings, Missing::Create).await?;
            let client = JiraClient::new(client_config)?;
            let outcome = sync_project(store.as_ref(), &client, &request, &reporter).await;
            bugdash::analytics::store_jira_calls(store.as_ref(), &client.stats()).await;
            anyhow::Ok(outcome?)
        });
        reporter.finish();
        let report = report.with_context(|| format!("failed to sync {}", self.project))?;
        if self.format == OutputFormat::Json {
            print_json(&report)?;
            return Ok(ExitCode::SUCCESS);
        }
        let w = report.written;
        let mut lines = vec![format!(
            "{}: {} issues received in {} pages ({} API calls): {} new, {} updated, {} unchanged",
            self.project,
            report.received,
            report.pages,
            report.api_calls,
            w.inserted,
            w.updated,
            w.unchanged
        )];
        if report.resumed {
            lines.push("carried on from the checkpoint of an interrupted sync".into());
        }
        if report.census {
            lines.push(format!(
                "census: {} removed, {} moved, {} recovered",
                report.removed, report.moved, report.recovered
            ));
        }
        if let Some(watermark) = report.watermark {
            lines.push(format!("synced up to {watermark}"));
        }
        print_lines(&lines)?;
        Ok(ExitCode::SUCCESS)
    }
}
