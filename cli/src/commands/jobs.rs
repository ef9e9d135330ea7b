//! `bugdash jobs`: the background jobs of the service, from the command line: each job's
//! latest run, and any job run at once.
//!
//! A job started here takes the same lock as the scheduler of a running service, so it
//! never overlaps a scheduled run of the same job; it fails with exit code 1 saying so when
//! one is going on. A job that fails is reported to Sentry when `SENTRY_DSN` is set, as the
//! service reports its scheduled runs.

use std::process::ExitCode;
use std::sync::Arc;

use bugdash::auth::{Auth, SystemClock};
use bugdash::jobs::{job_status, run_job, Job, JobContext};
use bugdash::metrics::Metrics;
use bugdash::store::analytics::JobOutcome;
use clap::{Args, Subcommand};

use super::{print_json, print_lines, OutputFormat};
use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::failure::UsageError;
use crate::telemetry;

/// Arguments of `bugdash jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    command: JobsCommand,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Each job with its schedule and its latest run: when, how long, how it ended.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Run a job now: session-cleanup, analytics-rollup, retention-purge, sync or
    /// usage-report. Exit code 1 when it fails.
    Run {
        /// The job's name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

impl JobsArgs {
    /// Runs the subcommand against the configured store.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        // Only Sentry hears the log: the command's own output stays as it is.
        let sentry = telemetry::init_sentry(&settings.sentry)?;
        telemetry::init_tracing(None, sentry.is_some());
        // Listing only reads; a job run (a cleanup on an empty store included) may start
        // a store like any command that writes.
        let missing = match &self.command {
            JobsCommand::List { .. } => Missing::Refuse,
            JobsCommand::Run { name, .. } => {
                // A mistyped name is refused before a store is opened, and so created.
                name.parse::<Job>().map_err(|e: bugdash::Error| UsageError(e.to_string()))?;
                Missing::Create
            }
        };
        runtime()?.block_on(async {
            let store = open_store(&settings, missing).await?;
            match self.command {
                JobsCommand::List { format } => list(store.as_ref(), format).await,
                JobsCommand::Run { name, format } => {
                    let job: Job =
                        name.parse().map_err(|e: bugdash::Error| UsageError(e.to_string()))?;
                    let cache = bugdash::cache::open(&settings.cache).await?;
                    let auth = Auth::new(Arc::clone(&store), cache, &settings).await?;
                    let ctx = JobContext {
                        store,
                        auth,
                        settings: Arc::new(settings),
                        clock: Arc::new(SystemClock),
                        metrics: Arc::new(Metrics::new()),
                        instance: format!("cli:{}", bugdash::jobs::instance_name()),
                    };
                    let run = run_job(job, &ctx).await?;
                    if format == OutputFormat::Json {
                        print_json(&run)?;
                    } else {
                        eprintln!(
                            "{} {} in {} ms: {}",
                            run.job,
                            run.outcome.as_str(),
                            run.duration_ms.unwrap_or(0),
                            run.message.as_deref().unwrap_or("")
                        );
                    }
                    let failed = run.outcome == JobOutcome::Failed;
                    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
                }
            }
        })
    }
}

async fn list(store: &dyn bugdash::store::Store, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let jobs = job_status(store).await?;
    if format == OutputFormat::Json {
        print_json(&jobs)?;
        return Ok(ExitCode::SUCCESS);
    }
    let row = |cells: [&str; 6]| {
        format!(
            "{:<18} {:<38} {:<25} {:>9}  {:<10} {}",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        )
    };
    let mut lines = vec![row(["JOB", "SCHEDULE", "LAST RUN", "MS", "OUTCOME", "MESSAGE"])];
    for job in &jobs {
        let Some(run) = &job.last_run else {
            lines.push(row([&job.job, &job.schedule, "never", "-", "-", ""]));
            continue;
        };
        let duration = run.duration_ms.map_or("-".into(), |ms| ms.to_string());
        lines.push(row([
            &job.job,
            &job.schedule,
            &run.started_at.to_string(),
            &duration,
            run.outcome.as_str(),
            run.message.as_deref().unwrap_or(""),
        ]));
    }
    print_lines(&lines)?;
    Ok(ExitCode::SUCCESS)
}
