//! `bugdash migrate`: bring the database schema up to date.

use std::process::ExitCode;

use clap::Args;

use crate::context::{open_store, redact, runtime, GlobalArgs, Missing};

/// Arguments of `bugdash migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {}

impl MigrateArgs {
    /// Opens the store, which applies every pending migration, and says where it is.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let url = settings.database_url();
        let store = runtime()?.block_on(open_store(&settings, Missing::Create))?;
        eprintln!("{:?} database is up to date: {}", store.backend(), redact(url.expose()));
        Ok(ExitCode::SUCCESS)
    }
}
