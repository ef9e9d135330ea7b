//! What every command that touches the store or JIRA shares: settings from all their
//! sources with the command-line flags on top, the async runtime, and the store, whose
//! faults name the setting that chose it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use bugdash::config::{Origin, Settings, Sources};
use bugdash::secret::Secret;
use bugdash::store::{SchemaMigration, Store};
use clap::Args;

use crate::failure::UsageError;

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

    /// Where the embedded database lives (default: BUGDASH_DATA_DIR, else `data_dir` of
    /// the settings file, else the platform's data directory).
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
            settings.data_dir_origin = Origin::Flag("--data-dir".into());
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

/// What a command does when the store it opens does not exist yet: the commands that fill
/// a store (`import`, `sync`, `migrate`, `serve`, `users add`, `jobs run`) create it.
pub use bugdash::store::Missing;

/// Opens the store the settings select, applying pending migrations.
pub async fn open_store(settings: &Settings, missing: Missing) -> anyhow::Result<Arc<dyn Store>> {
    check_data_dir(settings, missing)?;
    let url = settings.database_url();
    let opened = match missing {
        Missing::Create => bugdash::store::open(url.expose()).await,
        Missing::Refuse => bugdash::store::open_existing(url.expose()).await,
    };
    opened.map_err(|error| open_failed(settings, error))
}

/// Opens the store the settings select, creating it when missing, and applies pending
/// migrations, returning those applied.
pub async fn migrate_store(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Vec<SchemaMigration>)> {
    check_data_dir(settings, Missing::Create)?;
    let url = settings.database_url();
    let store = bugdash::store::connect(url.expose())
        .await
        .map_err(|error| open_failed(settings, error))?;
    let applied = store.migrate().await.map_err(|error| open_failed(settings, error))?;
    Ok((store, applied))
}

/// Checks the data directory when it holds the store: it must be a directory, and hold a
/// store unless the command may create one (then the directory is created when missing).
fn check_data_dir(settings: &Settings, missing: Missing) -> anyhow::Result<()> {
    let Some(file) = settings.embedded_store_file() else { return Ok(()) };
    let dir = &settings.data_dir;
    let words = data_dir_words(settings);
    let message = match (std::fs::metadata(dir), missing) {
        (Ok(found), _) if found.is_file() => format!("{words} is a file, not a directory"),
        (Ok(found), _) if !found.is_dir() => format!("{words} is not a directory"),
        // `is_file` would call a store the user may not look at missing.
        (Ok(_), missing) => match std::fs::metadata(&file) {
            Ok(found) if found.is_file() => match read_and_write(&file) {
                Ok(()) => return Ok(()),
                Err(e) => format!("the bugdash.db in {words} cannot be read and written: {e}"),
            },
            Ok(_) => format!("{words} holds a bugdash.db that is not a file"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match missing {
                Missing::Refuse => no_store(settings, &words, "it holds no bugdash.db"),
                Missing::Create => return Ok(()),
            },
            Err(e) => format!("{words} cannot be read: {e}"),
        },
        (Err(e), Missing::Refuse) if e.kind() == std::io::ErrorKind::NotFound => {
            no_store(settings, &words, "it does not exist")
        }
        (Err(e), Missing::Create) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::create_dir_all(dir) {
                Ok(()) => return Ok(()),
                Err(e) => format!("{words} cannot be created: {e}"),
            }
        }
        (Err(e), _) => format!("{words} cannot be read: {e}"),
    };
    Err(UsageError(message).into())
}

/// Whether the store file opens for reading and writing. SQLite opens a file it may only
/// read in read-only mode and fails at the first write, in words that name neither the
/// file nor the setting; reading a WAL database needs write access too.
fn read_and_write(file: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().read(true).write(true).open(file).map(drop)
}

/// Says that no store exists in the data directory (`words`), and `why`: a directory
/// somebody chose may be mistyped, the default one is merely not filled yet.
fn no_store(settings: &Settings, words: &str, why: &str) -> String {
    let check = match settings.data_dir_origin {
        Origin::Default => "",
        _ => "check the path, or ",
    };
    // Accounts and jobs need a store as much as issues do, so `migrate` is named too.
    format!(
        "no BugDash store in {words}: {why}; {check}fill a store there with `bugdash import` \
         or `bugdash sync`, or create an empty one with `bugdash migrate`"
    )
}

/// An error of opening or migrating the store, with what the data directory has to do
/// with it: SQLite's own words for a directory it cannot write ("unable to open database
/// file") name neither the directory nor the setting.
fn open_failed(settings: &Settings, error: bugdash::Error) -> anyhow::Error {
    if settings.embedded_store_file().is_some() {
        if let Err(denied) = writable(&settings.data_dir) {
            let words = data_dir_words(settings);
            return UsageError(format!("{words} is not writable: {denied}")).into();
        }
    }
    let url = settings.database_url();
    anyhow::Error::new(error)
        .context(format!("failed to open the store at {}", redact(url.expose())))
}

/// Whether a file can be created in `dir`, tried rather than read from the permission
/// bits, which say nothing of read-only mounts or of a user who may write anyway.
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".bugdash-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

/// The data directory with the setting that chose it, for messages about it.
fn data_dir_words(settings: &Settings) -> String {
    let dir = settings.data_dir.display();
    match &settings.data_dir_origin {
        Origin::Default => format!(
            "the default data directory {dir} (choose another with --data-dir or \
             BUGDASH_DATA_DIR)"
        ),
        origin => format!("the data directory {dir} (set by {origin})"),
    }
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
