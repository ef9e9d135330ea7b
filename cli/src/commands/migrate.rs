//! `bugdash migrate`: bring the database schema up to date, saying what that took.

use std::process::ExitCode;

use bugdash::store::{Backend, SchemaMigration};
use clap::Args;

use super::{print_json, print_lines, OutputFormat};
use crate::context::{migrate_store, redact, runtime, GlobalArgs};

/// Arguments of `bugdash migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl MigrateArgs {
    /// Opens the store (creating an SQLite one when missing), applies every pending
    /// migration and lists those it applied, or says that none were needed.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        let database = redact(settings.database_url().expose());
        let (store, applied) = runtime()?.block_on(migrate_store(&settings))?;
        if self.format == OutputFormat::Json {
            print_json(&serde_json::json!({
                "backend": store.backend(),
                "database": database,
                "applied": applied,
            }))?;
        } else {
            print_lines(&summary(store.backend(), &database, &applied))?;
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn summary(backend: Backend, database: &str, applied: &[SchemaMigration]) -> Vec<String> {
    let backend = match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    if applied.is_empty() {
        return vec![format!(
            "{backend} database {database}: no migration needed, the schema is up to date"
        )];
    }
    let mut lines =
        vec![format!("{backend} database {database}: applied {} migration(s):", applied.len())];
    lines.extend(applied.iter().map(|m| format!("  {} {}", m.version, m.description)));
    lines
}
