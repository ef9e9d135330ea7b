//! What every command that touches the store or JIRA shares: settings from all their
//! sources with the command-line flags on top, the async runtime, and the store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use bugdash::config::{Settings, Sources};
use bugdash::secret::Secret;
use bugdash::store::Store;
use clap::Args;

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Settings file (default: bugdash.toml in the working directory, when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Database URL: postgres://user:password@host/db or sqlite://path (default: the
    /// DATABASE_URL or DB_* settings, else an SQLite file in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Where the embedded database lives (default: BUGDASH_DATA_DIR, else the platform's
    /// data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl GlobalArgs {
    /// Settings from defaults, file, environment (.env included), then these flags.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let sources = Sources { file: self.config.clone(), dotenv: true };
        let mut settings = Settings::load(&sources).context("failed to load the settings")?;
        if let Some(dir) = &self.data_dir {
            settings.data_dir = dir.clone();
        }
        if let Some(url) = &self.database_url {
            settings.database.url = Some(Secret::new(url.clone()));
        }
        Ok(settings)
    }
}

/// A runtime for the commands that talk to a database or to JIRA.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

/// Opens the store the settings select, applying pending migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let url = settings.database_url();
    bugdash::store::open(url.expose())
        .await
        .with_context(|| format!("failed to open the store at {}", redact(url.expose())))
}

/// A database URL fit to print: a password, in the user part or in the query, replaced by
/// `***`.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut shown = redact_user_part(base);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&pairs.join("&"));
    }
    shown
}

fn redact_user_part(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(redact("postgres://bd:s3cr@t@db:5432/x"), "postgres://bd:***@db:5432/x");
        assert_eq!(redact("postgres://bd@db/x"), "postgres://bd@db/x");
        assert_eq!(redact("sqlite:///var/lib/bd.db"), "sqlite:///var/lib/bd.db");
        assert_eq!(
            redact("postgres://bd@db/x?sslmode=require&password=PW-5"),
            "postgres://bd@db/x?sslmode=require&password=***"
        );
    }
}
