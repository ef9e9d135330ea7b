//! The `bugdash` command line: bug-risk analysis of JIRA data.
//!
//! Exit codes: 0 success, 2 bad usage or bad input, 1 any other failure. Only the report
//! goes to standard output; progress, warnings and errors go to standard error.

mod commands;
mod context;
mod failure;
mod progress;
mod render;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// BugDash: where bugs come from and where the next ones are likely to land.
#[derive(Debug, Parser)]
#[command(name = "bugdash", version, about, long_about = None, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: context::GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse JIRA issues from files or the store: summary, trends, risk per area,
    /// forecast, backtest and insights.
    Analyze(Box<commands::analyze::AnalyzeArgs>),
    /// Import issues from files into the store.
    Import(commands::import::ImportArgs),
    /// Sync a project from JIRA into the store (incremental; resumes after interruption).
    Sync(commands::sync::SyncArgs),
    /// List the projects in the store.
    Projects(commands::projects::ProjectsArgs),
    /// Create or update the database schema, listing the migrations applied.
    Migrate(commands::migrate::MigrateArgs),
    /// Run the multi-user HTTP service (web dashboard and JSON API); --demo loads the ZooKeeper example.
    Serve(commands::serve::ServeArgs),
    /// Manage the service's accounts: add, list, disable, enable, set-password, set-role.
    Users(commands::users::UsersArgs),
    /// Background jobs: list each job's last run, or run one now.
    Jobs(commands::jobs::JobsArgs),
    /// Usage reports: `report usage --days N [--format json|csv]`.
    Report(commands::report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Analyze(args) => args.run(&cli.global),
        Command::Import(args) => args.run(&cli.global),
        Command::Sync(args) => args.run(&cli.global),
        Command::Projects(args) => args.run(&cli.global),
        Command::Migrate(args) => args.run(&cli.global),
        Command::Serve(args) => args.run(&cli.global),
        Command::Users(args) => args.run(&cli.global),
        Command::Jobs(args) => args.run(&cli.global),
        Command::Report(args) => args.run(&cli.global),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => failure::report(&error),
    }
}
