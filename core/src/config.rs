//! Typed settings: defaults in code, then an optional `bugdash.toml`, then environment
//! variables (a `.env` file is read first), then command-line flags, which frontends apply
//! on top of what [`Settings::load`] returns.
//!
//! The environment names of the original deployment guide keep working (`DB_HOST`,
//! `JIRA_URL`, `FLASK_SECRET_KEY` …). With nothing set, BugDash runs on an SQLite file in
//! the data directory.

mod sentry;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::secret::Secret;
use crate::{Error, Result};

pub use sentry::SentrySettings;

/// Every setting BugDash reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where the embedded database and other local state live (`BUGDASH_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Which setting chose [`Settings::data_dir`], so that a fault of the folder can name
    /// what to change; a frontend that overrides the folder sets this too.
    pub data_dir_origin: Origin,
    /// Database connection.
    pub database: DatabaseSettings,
    /// JIRA connection.
    pub jira: JiraSettings,
    /// Incremental sync behaviour.
    pub sync: SyncSettings,
    /// The HTTP service: where it listens and how it is reached.
    pub server: ServerSettings,
    /// Accounts, sessions and tokens.
    pub auth: AuthSettings,
    /// The shared cache (Redis) or its absence.
    pub cache: CacheSettings,
    /// Rate limits of logins and API calls.
    pub limits: RateLimitSettings,
    /// Usage analytics and scheduled jobs.
    pub analytics: AnalyticsSettings,
    /// Outgoing email.
    pub smtp: SmtpSettings,
    /// Error reporting to Sentry.
    pub sentry: SentrySettings,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// BugDash's own default.
    Default,
    /// The settings file (its path, when known).
    File(Option<PathBuf>),
    /// This environment variable (a `.env` file included).
    Environment(&'static str),
    /// This command-line option, such as `--data-dir`.
    Flag(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(Some(path)) => write!(f, "the settings file {}", path.display()),
            Origin::File(None) => f.write_str("the settings file"),
            Origin::Environment(name) => f.write_str(name),
            Origin::Flag(flag) => f.write_str(flag),
        }
    }
}

/// Database settings: a URL, or the parts of a PostgreSQL connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatabaseSettings {
    /// Full URL (`DATABASE_URL`): `postgres://…` or `sqlite:…`. It may hold a password.
    pub url: Option<Secret>,
    /// PostgreSQL host (`DB_HOST`); setting it selects PostgreSQL.
    pub host: Option<String>,
    /// PostgreSQL port (`DB_PORT`, default 5432).
    pub port: u16,
    /// Database name (`DB_NAME`, default `bugdash`).
    pub name: String,
    /// User (`DB_USER`, default `postgres`).
    pub user: String,
    /// Password (`DB_PASSWORD`).
    pub password: Option<Secret>,
}

/// JIRA settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JiraSettings {
    /// Base URL of the JIRA site (`JIRA_URL`).
    pub url: Option<String>,
    /// Account email for Cloud's Basic auth (`JIRA_EMAIL`).
    pub email: Option<String>,
    /// Cloud API token (`JIRA_API_TOKEN`).
    pub api_token: Option<Secret>,
    /// Data Center personal access token (`JIRA_PAT`), sent as a Bearer token.
    pub personal_access_token: Option<Secret>,
    /// `cloud` or `datacenter`, when detection should be skipped (`JIRA_DEPLOYMENT`).
    pub deployment: Option<String>,
    /// Text the environment field must contain, such as `Production` (`JIRA_ENVIRONMENT`);
    /// becomes a default analysis filter.
    pub environment: Option<String>,
    /// Id of the field holding the environment when it is a custom field
    /// (`JIRA_ENVIRONMENT_FIELD`); found by name when unset.
    pub environment_field: Option<String>,
    /// Id or name of the "Time in Status" field (`JIRA_TIME_IN_STATUS_FIELD`), for
    /// instances whose field list lacks it; found by name when unset.
    pub time_in_status_field: Option<String>,
    /// Issues asked per page (`JIRA_PAGE_SIZE`, default 100).
    pub page_size: u32,
    /// Requests in flight at most (`JIRA_MAX_IN_FLIGHT`, default 4).
    pub max_in_flight: u32,
}

/// Incremental sync settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSettings {
    /// How far before the watermark each incremental sync starts again, in minutes
    /// (`SYNC_OVERLAP_MINUTES`, default 10), so edits racing the previous run are not
    /// missed.
    pub overlap_minutes: u32,
    /// Hours between two censuses of ids that find deleted issues
    /// (`SYNC_CENSUS_HOURS`, default 24).
    pub census_hours: u32,
    /// Issues a sync may fetch ahead of its writes from a Data Center JIRA
    /// (`SYNC_READ_AHEAD`, default 50,000; at least one page per request in flight is
    /// always fetched ahead). A JIRA that answers faster than the store writes is then
    /// read to the end, and the census's listing started, long before the last pages
    /// are written; the issues waiting to be written are held in memory.
    pub read_ahead: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings { overlap_minutes: 10, census_hours: 24, read_ahead: 50_000 }
    }
}

/// Settings of the HTTP service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Address to listen on (`BUGDASH_BIND`, default `127.0.0.1:5001`).
    pub bind: String,
    /// The service's own origin as browsers see it, such as `https://bugdash.example.com`
    /// (`BUGDASH_PUBLIC_URL`): cookie-authenticated writes must come from it, and `https`
    /// makes cookies Secure and adds HSTS.
    pub public_url: Option<String>,
    /// Honour `X-Forwarded-Proto` and `X-Forwarded-For` from a reverse proxy
    /// (`BUGDASH_TRUST_PROXY`, default false); only set it behind a proxy that overwrites them.
    pub trust_proxy: bool,
    /// How the service writes its log lines (`LOG_FORMAT`: `text`, the default, or `json`,
    /// one object per line for log collectors).
    pub log_format: LogFormat,
}

/// The shape of the service's log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, with the request span's fields (request id, route, user).
    Json,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:5001".into(),
            public_url: None,
            trust_proxy: false,
            log_format: LogFormat::Text,
        }
    }
}

/// Settings of accounts, sessions and API tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    /// Key for anything the service signs besides tokens (`SECRET_KEY`, or
    /// `FLASK_SECRET_KEY` as the original deployment guide names it).
    pub secret_key: Option<Secret>,
    /// HS256 key of API tokens (`JWT_SECRET_KEY`, at least 32 characters); when unset, a
    /// key is generated once and kept in the database, so every instance shares it.
    pub jwt_secret: Option<Secret>,
    /// Absolute lifetime of a session in hours (`SESSION_TIMEOUT_HOURS`, default 8).
    pub session_timeout_hours: u32,
    /// A session unused this many minutes ends (`SESSION_IDLE_MINUTES`, default 30).
    pub idle_timeout_minutes: u32,
    /// Distinct users with live sessions at most (`MAX_CONCURRENT_USERS`, default 150);
    /// admins may always sign in.
    pub max_concurrent_users: u32,
    /// Lifetime of an API token in minutes (`JWT_TTL_MINUTES`, default 15).
    pub token_ttl_minutes: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            secret_key: None,
            jwt_secret: None,
            session_timeout_hours: 8,
            idle_timeout_minutes: 30,
            max_concurrent_users: 150,
            token_ttl_minutes: 15,
        }
    }
}

/// Settings of the shared cache.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CacheSettings {
    /// Redis URL (`REDIS_URL`, or built from `REDIS_HOST`, `REDIS_PORT` (6379),
    /// `REDIS_DB` (0) and `REDIS_PASSWORD`); without it the cache is in-process.
    pub redis_url: Option<Secret>,
}

/// Rate limits: a steady rate per minute and a burst allowed on top of an idle period.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSettings {
    /// Login attempts per minute per client address and per account
    /// (`RATE_LIMIT_LOGIN_PER_MINUTE`, default 5).
    pub login_per_minute: u32,
    /// Login attempts allowed at once (`RATE_LIMIT_LOGIN_BURST`, default 3).
    pub login_burst: u32,
    /// API requests per minute per user (`RATE_LIMIT_API_PER_MINUTE`, default 100).
    pub api_per_minute: u32,
    /// API requests allowed at once (`RATE_LIMIT_API_BURST`, default 20).
    pub api_burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            login_per_minute: 5,
            login_burst: 3,
            api_per_minute: 100,
            api_burst: 20,
        }
    }
}

/// Usage analytics and the scheduled jobs that maintain it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsSettings {
    /// Days raw usage events are kept (`ANALYTICS_RETENTION_DAYS`, default 365); daily
    /// rollups are kept for ever.
    pub retention_days: u32,
    /// Minutes between scheduled incremental syncs of each project
    /// (`SYNC_INTERVAL_MINUTES`, default 60); syncs are scheduled only when JIRA is
    /// configured.
    pub sync_interval_minutes: u32,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        AnalyticsSettings { retention_days: 365, sync_interval_minutes: 60 }
    }
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption at all: only for a relay on the same machine.
    None,
}

/// Outgoing email (the weekly usage report).
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    /// Mail server (`SMTP_HOST`); without it no email is sent.
    pub host: Option<String>,
    /// Port (`SMTP_PORT`, default 587).
    pub port: u16,
    /// User name (`SMTP_USER`), when the server wants one.
    pub user: Option<String>,
    /// Password (`SMTP_PASSWORD`).
    pub password: Option<Secret>,
    /// Sender address (`SMTP_FROM`, default `bugdash@localhost`).
    pub from: String,
    /// `SMTP_SECURITY`: `starttls` (default), `tls` or `none`.
    pub security: SmtpSecurity,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: None,
            port: 587,
            user: None,
            password: None,
            from: "bugdash@localhost".into(),
            security: SmtpSecurity::StartTls,
        }
    }
}

/// Where [`Settings::load`] looks.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A settings file; by default `bugdash.toml` in the working directory when present
    /// (or the file named by `BUGDASH_CONFIG`).
    pub file: Option<PathBuf>,
    /// Read `.env` from the working directory first (default true in frontends).
    pub dotenv: bool,
}

impl Settings {
    /// Loads defaults, then the settings file, then the environment.
    pub fn load(sources: &Sources) -> Result<Settings> {
        if sources.dotenv {
            // A missing .env is normal; a malformed one is the user's to fix.
            match dotenvy::dotenv() {
                Ok(_) => {}
                Err(error) if error.not_found() => {}
                Err(error) => return Err(Error::Config(format!("cannot read .env: {error}"))),
            }
        }
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let file = sources.file.clone().or_else(|| env("BUGDASH_CONFIG").map(PathBuf::from));
        let file = file.or_else(|| Some(PathBuf::from("bugdash.toml")).filter(|p| p.exists()));
        let text = match &file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|source| Error::Io { path: path.clone(), source })?,
            ),
            None => None,
        };
        Settings::from_sources(text.as_deref(), file.as_deref(), &env)
    }

    /// Builds settings from a settings file's text and an environment lookup; the pure
    /// core of [`Settings::load`].
    pub fn from_sources(
        file_text: Option<&str>,
        file_path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let file: FileSettings = match file_text {
            Some(text) => toml::from_str(text).map_err(|error| {
                let name = file_path.map_or("settings file".into(), |p| p.display().to_string());
                Error::Config(format!("{name}: {error}"))
            })?,
            None => FileSettings::default(),
        };
        let lookup = Lookup { env };
        let (data_dir, data_dir_origin) = match (lookup.path("BUGDASH_DATA_DIR"), file.data_dir) {
            (Some(dir), _) => (dir, Origin::Environment("BUGDASH_DATA_DIR")),
            (None, Some(dir)) => (dir, Origin::File(file_path.map(Path::to_path_buf))),
            (None, None) => (default_data_dir(), Origin::Default),
        };
        Ok(Settings {
            data_dir,
            data_dir_origin,
            database: lookup.database(file.database)?,
            jira: lookup.jira(file.jira)?,
            sync: lookup.sync(file.sync)?,
            server: lookup.server(file.server)?,
            auth: lookup.auth(file.auth)?,
            cache: lookup.cache(file.cache)?,
            limits: lookup.limits(file.limits)?,
            analytics: lookup.analytics(file.analytics)?,
            smtp: lookup.smtp(file.smtp)?,
            sentry: lookup.sentry(file.sentry)?,
        })
    }

    /// The SQLite file of the embedded store in the data directory, when these settings
    /// select it: when neither `DATABASE_URL` nor `DB_HOST` names a database.
    pub fn embedded_store_file(&self) -> Option<PathBuf> {
        let db = &self.database;
        (db.url.is_none() && db.host.is_none()).then(|| self.data_dir.join("bugdash.db"))
    }

    /// The database URL these settings select: `DATABASE_URL`, else PostgreSQL when
    /// `DB_HOST` is set, else an SQLite file in the data directory.
    pub fn database_url(&self) -> Secret {
        let db = &self.database;
        if let Some(url) = &db.url {
            return url.clone();
        }
        match &db.host {
            Some(host) => {
                let password = db
                    .password
                    .as_ref()
                    .map(|p| format!(":{}", percent_encode(p.expose())))
                    .unwrap_or_default();
                Secret::new(format!(
                    "postgres://{}{password}@{host}:{}/{}",
                    percent_encode(&db.user),
                    db.port,
                    percent_encode(&db.name)
                ))
            }
            None => {
                let path = self.data_dir.join("bugdash.db");
                Secret::new(format!("sqlite://{}", path.display()))
            }
        }
    }
}

impl JiraSettings {
    /// The JIRA client settings these describe: a personal access token is sent as a
    /// Bearer token (Data Center), an email with an API token as Basic auth (Cloud), and
    /// nothing at all reads public projects anonymously.
    pub fn client_config(&self) -> Result<crate::jira::client::JiraConfig> {
        use crate::jira::client::{Deployment, JiraAuth, JiraConfig};

        let url = self.url.clone().ok_or_else(|| {
            Error::Config("JIRA_URL is not set (the address of the JIRA site to sync from)".into())
        })?;
        let auth =
            match (&self.personal_access_token, &self.email, &self.api_token) {
                (Some(token), _, _) => JiraAuth::Bearer { token: token.clone() },
                (None, Some(email), Some(token)) => {
                    JiraAuth::Basic { email: email.clone(), token: token.clone() }
                }
                (None, None, Some(_)) => return Err(Error::Config(
                    "JIRA_API_TOKEN is set but JIRA_EMAIL is not; Cloud API tokens go with the \
                     account's email (set JIRA_PAT instead for a Data Center token)"
                        .into(),
                )),
                (None, _, None) => JiraAuth::Anonymous,
            };
        let deployment = match self.deployment.as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(name) if name == "cloud" => Some(Deployment::Cloud),
            Some(name) if ["datacenter", "data-center", "server"].contains(&name.as_str()) => {
                Some(Deployment::DataCenter)
            }
            Some(other) => {
                return Err(Error::Config(format!(
                    "JIRA_DEPLOYMENT must be cloud or datacenter, not {other:?}"
                )))
            }
        };
        let mut config = JiraConfig::new(url, auth);
        config.deployment = deployment;
        config.page_size = self.page_size;
        config.max_in_flight = self.max_in_flight as usize;
        config.environment_field = self.environment_field.clone();
        config.time_in_status_field = self.time_in_status_field.clone();
        Ok(config)
    }
}

/// The platform's data directory for BugDash (`~/.local/share/bugdash` on Linux), or
/// `.bugdash` in the working directory where the platform has none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().map_or_else(|| PathBuf::from(".bugdash"), |dir| dir.join("bugdash"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    database: FileDatabase,
    #[serde(default)]
    jira: FileJira,
    #[serde(default)]
    sync: FileSync,
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    auth: FileAuth,
    #[serde(default)]
    cache: FileCache,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    analytics: FileAnalytics,
    #[serde(default)]
    smtp: FileSmtp,
    #[serde(default)]
    sentry: FileSentry,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSentry {
    dsn: Option<String>,
    environment: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAnalytics {
    retention_days: Option<u32>,
    sync_interval_minutes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<String>,
    from: Option<String>,
    security: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    bind: Option<String>,
    public_url: Option<String>,
    trust_proxy: Option<bool>,
    log_format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    secret_key: Option<String>,
    jwt_secret: Option<String>,
    session_timeout_hours: Option<u32>,
    idle_timeout_minutes: Option<u32>,
    max_concurrent_users: Option<u32>,
    token_ttl_minutes: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCache {
    redis_url: Option<String>,
    redis_host: Option<String>,
    redis_port: Option<u16>,
    redis_db: Option<u32>,
    redis_password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    login_per_minute: Option<u32>,
    login_burst: Option<u32>,
    api_per_minute: Option<u32>,
    api_burst: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    url: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    name: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJira {
    url: Option<String>,
    email: Option<String>,
    api_token: Option<String>,
    personal_access_token: Option<String>,
    deployment: Option<String>,
    environment: Option<String>,
    environment_field: Option<String>,
    time_in_status_field: Option<String>,
    page_size: Option<u32>,
    max_in_flight: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSync {
    overlap_minutes: Option<u32>,
    census_hours: Option<u32>,
    read_ahead: Option<u32>,
}

/// Environment lookups with the parsing and naming rules in one place.
struct Lookup<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Lookup<'_> {
    fn text(&self, name: &str) -> Option<String> {
        (self.env)(name)
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.text(name).map(PathBuf::from)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => {
                text.trim().parse().map(Some).map_err(|_| {
                    Error::Config(format!("{name} must be a whole number, not {text:?}"))
                })
            }
        }
    }

    fn database(&self, file: FileDatabase) -> Result<DatabaseSettings> {
        Ok(DatabaseSettings {
            url: self.text("DATABASE_URL").or(file.url).map(Secret::new),
            host: self.text("DB_HOST").or(file.host),
            port: self.number("DB_PORT")?.or(file.port).unwrap_or(5432),
            name: self.text("DB_NAME").or(file.name).unwrap_or_else(|| "bugdash".into()),
            user: self.text("DB_USER").or(file.user).unwrap_or_else(|| "postgres".into()),
            password: self.text("DB_PASSWORD").or(file.password).map(Secret::new),
        })
    }

    fn jira(&self, file: FileJira) -> Result<JiraSettings> {
        let page_size = self.number("JIRA_PAGE_SIZE")?.or(file.page_size).unwrap_or(100);
        let max_in_flight = self.number("JIRA_MAX_IN_FLIGHT")?.or(file.max_in_flight).unwrap_or(4);
        if !(1..=1000).contains(&page_size) || !(1..=64).contains(&max_in_flight) {
            return Err(Error::Config(format!(
                "JIRA page size must be 1-1000 and requests in flight 1-64 \
                 (got {page_size} and {max_in_flight})"
            )));
        }
        Ok(JiraSettings {
            url: self.text("JIRA_URL").or(file.url),
            email: self.text("JIRA_EMAIL").or(file.email),
            api_token: self.text("JIRA_API_TOKEN").or(file.api_token).map(Secret::new),
            personal_access_token: self
                .text("JIRA_PAT")
                .or_else(|| self.text("JIRA_PERSONAL_ACCESS_TOKEN"))
                .or(file.personal_access_token)
                .map(Secret::new),
            deployment: self.text("JIRA_DEPLOYMENT").or(file.deployment),
            environment: self.text("JIRA_ENVIRONMENT").or(file.environment),
            environment_field: self.text("JIRA_ENVIRONMENT_FIELD").or(file.environment_field),
            time_in_status_field: self
                .text("JIRA_TIME_IN_STATUS_FIELD")
                .or(file.time_in_status_field),
            page_size,
            max_in_flight,
        })
    }

    fn sync(&self, file: FileSync) -> Result<SyncSettings> {
        let defaults = SyncSettings::default();
        Ok(SyncSettings {
            overlap_minutes: self
                .number("SYNC_OVERLAP_MINUTES")?
                .or(file.overlap_minutes)
                .unwrap_or(defaults.overlap_minutes),
            census_hours: self
                .number("SYNC_CENSUS_HOURS")?
                .or(file.census_hours)
                .unwrap_or(defaults.census_hours),
            read_ahead: self
                .number("SYNC_READ_AHEAD")?
                .or(file.read_ahead)
                .unwrap_or(defaults.read_ahead),
        })
    }
}

impl Lookup<'_> {
    fn flag(&self, name: &str) -> Result<Option<bool>> {
        match self.text(name).map(|t| t.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(t) if ["1", "true", "yes", "on"].contains(&t.as_str()) => Ok(Some(true)),
            Some(t) if ["0", "false", "no", "off"].contains(&t.as_str()) => Ok(Some(false)),
            Some(t) => Err(Error::Config(format!("{name} must be true or false, not {t:?}"))),
        }
    }

    /// A whole number of at least 1, from the environment, else the file, else `default`.
    fn positive(&self, name: &str, file: Option<u32>, default: u32) -> Result<u32> {
        let value = self.number(name)?.or(file).unwrap_or(default);
        if value == 0 {
            return Err(Error::Config(format!("{name} must be at least 1, not 0")));
        }
        Ok(value)
    }

    fn server(&self, file: FileServer) -> Result<ServerSettings> {
        let defaults = ServerSettings::default();
        let public_url = self.text("BUGDASH_PUBLIC_URL").or(file.public_url);
        if let Some(url) = &public_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.trim_end_matches('/').matches('/').count() > 2 {
                return Err(Error::Config(format!(
                    "BUGDASH_PUBLIC_URL must be an origin such as https://bugdash.example.com \
                     (scheme and host, no path), not {url:?}"
                )));
            }
        }
        Ok(ServerSettings {
            bind: self.text("BUGDASH_BIND").or(file.bind).unwrap_or(defaults.bind),
            public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
            trust_proxy: self.flag("BUGDASH_TRUST_PROXY")?.or(file.trust_proxy).unwrap_or(false),
            log_format: match self.text("LOG_FORMAT").or(file.log_format) {
                None => LogFormat::Text,
                Some(text) if text.eq_ignore_ascii_case("text") => LogFormat::Text,
                Some(text) if text.eq_ignore_ascii_case("json") => LogFormat::Json,
                Some(text) => {
                    return Err(Error::Config(format!(
                        "LOG_FORMAT must be `text` or `json`, not {text:?}"
                    )))
                }
            },
        })
    }

    fn auth(&self, file: FileAuth) -> Result<AuthSettings> {
        let d = AuthSettings::default();
        let jwt_secret = self.text("JWT_SECRET_KEY").or(file.jwt_secret).map(Secret::new);
        if jwt_secret.as_ref().is_some_and(|key| key.expose().len() < 32) {
            return Err(Error::Config(
                "JWT_SECRET_KEY must be at least 32 characters (256 bits for HS256); leave it \
                 unset to have a key generated and kept in the database"
                    .into(),
            ));
        }
        Ok(AuthSettings {
            secret_key: self
                .text("SECRET_KEY")
                .or_else(|| self.text("FLASK_SECRET_KEY"))
                .or(file.secret_key)
                .map(Secret::new),
            jwt_secret,
            session_timeout_hours: self.positive(
                "SESSION_TIMEOUT_HOURS",
                file.session_timeout_hours,
                d.session_timeout_hours,
            )?,
            idle_timeout_minutes: self.positive(
                "SESSION_IDLE_MINUTES",
                file.idle_timeout_minutes,
                d.idle_timeout_minutes,
            )?,
            max_concurrent_users: self.positive(
                "MAX_CONCURRENT_USERS",
                file.max_concurrent_users,
                d.max_concurrent_users,
            )?,
            token_ttl_minutes: self.positive(
                "JWT_TTL_MINUTES",
                file.token_ttl_minutes,
                d.token_ttl_minutes,
            )?,
        })
    }

    fn cache(&self, file: FileCache) -> Result<CacheSettings> {
        if let Some(url) = self.text("REDIS_URL").or(file.redis_url) {
            if !url.starts_with("redis://") && !url.starts_with("rediss://") {
                return Err(Error::Config(
                    "REDIS_URL must start with redis:// or rediss://".into(),
                ));
            }
            return Ok(CacheSettings { redis_url: Some(Secret::new(url)) });
        }
        let Some(host) = self.text("REDIS_HOST").or(file.redis_host) else {
            return Ok(CacheSettings::default());
        };
        let port: u16 = self.number("REDIS_PORT")?.or(file.redis_port).unwrap_or(6379);
        let db: u32 = self.number("REDIS_DB")?.or(file.redis_db).unwrap_or(0);
        let password = self
            .text("REDIS_PASSWORD")
            .or(file.redis_password)
            .map(|p| format!(":{}@", percent_encode(&p)))
            .unwrap_or_default();
        let url = format!("redis://{password}{host}:{port}/{db}");
        Ok(CacheSettings { redis_url: Some(Secret::new(url)) })
    }

    fn limits(&self, file: FileLimits) -> Result<RateLimitSettings> {
        let d = RateLimitSettings::default();
        Ok(RateLimitSettings {
            login_per_minute: self.positive(
                "RATE_LIMIT_LOGIN_PER_MINUTE",
                file.login_per_minute,
                d.login_per_minute,
            )?,
            login_burst: self.positive(
                "RATE_LIMIT_LOGIN_BURST",
                file.login_burst,
                d.login_burst,
            )?,
            api_per_minute: self.positive(
                "RATE_LIMIT_API_PER_MINUTE",
                file.api_per_minute,
                d.api_per_minute,
            )?,
            api_burst: self.positive("RATE_LIMIT_API_BURST", file.api_burst, d.api_burst)?,
        })
    }
}

impl Lookup<'_> {
    fn analytics(&self, file: FileAnalytics) -> Result<AnalyticsSettings> {
        let d = AnalyticsSettings::default();
        Ok(AnalyticsSettings {
            retention_days: self.positive(
                "ANALYTICS_RETENTION_DAYS",
                file.retention_days,
                d.retention_days,
            )?,
            sync_interval_minutes: self.positive(
                "SYNC_INTERVAL_MINUTES",
                file.sync_interval_minutes,
                d.sync_interval_minutes,
            )?,
        })
    }

    fn smtp(&self, file: FileSmtp) -> Result<SmtpSettings> {
        let d = SmtpSettings::default();
        let security = match self.text("SMTP_SECURITY").or(file.security) {
            None => d.security,
            Some(text) => match text.trim().to_ascii_lowercase().as_str() {
                "starttls" => SmtpSecurity::StartTls,
                "tls" | "ssl" => SmtpSecurity::Tls,
                "none" | "plain" => SmtpSecurity::None,
                _ => {
                    return Err(Error::Config(format!(
                        "SMTP_SECURITY must be starttls, tls or none, not {text:?}"
                    )))
                }
            },
        };
        Ok(SmtpSettings {
            host: self.text("SMTP_HOST").or(file.host),
            port: self.number("SMTP_PORT")?.or(file.port).unwrap_or(d.port),
            user: self.text("SMTP_USER").or(file.user),
            password: self.text("SMTP_PASSWORD").or(file.password).map(Secret::new),
            from: self.text("SMTP_FROM").or(file.from).unwrap_or(d.from),
            security,
        })
    }
}

impl Lookup<'_> {
    fn sentry(&self, file: FileSentry) -> Result<SentrySettings> {
        let dsn = self.text("SENTRY_DSN").or(file.dsn).map(|dsn| dsn.trim().to_owned());
        if let Some(dsn) = &dsn {
            sentry::check_dsn(dsn)?;
        }
        let environment = self.text("SENTRY_ENVIRONMENT").or(file.environment);
        let environment = environment.unwrap_or_else(|| SentrySettings::default().environment);
        sentry::check_environment(&environment)?;
        Ok(SentrySettings { dsn: dsn.map(Secret::new), environment })
    }
}

/// Percent-encodes the characters that would break a URL's user, password or path part.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Settings> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_sources(file, None, &move |name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_set_means_sqlite_in_the_data_directory() {
        let s = settings(None, &[("BUGDASH_DATA_DIR", "/srv/bd")]).unwrap();
        assert_eq!(s.database_url().expose(), "sqlite:///srv/bd/bugdash.db");
        assert_eq!(s.jira.page_size, 100);
        assert_eq!(s.sync.overlap_minutes, 10);
        assert_eq!(s.sync.read_ahead, 50_000);
    }

    #[test]
    fn the_data_directory_says_which_setting_chose_it() {
        let file = "data_dir = \"/from/file\"\n";
        let from_env = settings(Some(file), &[("BUGDASH_DATA_DIR", "/from/env")]).unwrap();
        let from_file = settings(Some(file), &[]).unwrap();
        let default = settings(None, &[]).unwrap();

        assert_eq!(from_env.data_dir_origin.to_string(), "BUGDASH_DATA_DIR");
        assert_eq!(from_file.data_dir, PathBuf::from("/from/file"));
        assert_eq!(from_file.data_dir_origin, Origin::File(None));
        assert_eq!(default.data_dir_origin, Origin::Default);
        assert_eq!(default.embedded_store_file(), Some(default.data_dir.join("bugdash.db")));
        let postgres = settings(None, &[("DB_HOST", "db")]).unwrap();
        assert_eq!(postgres.embedded_store_file(), None);
    }

    #[test]
    fn sync_read_ahead_comes_from_the_environment_or_the_file() {
        let file = "[sync]\nread_ahead = 4000\n";
        assert_eq!(settings(Some(file), &[]).unwrap().sync.read_ahead, 4000);
        let env = [("SYNC_READ_AHEAD", "200000")];
        assert_eq!(settings(Some(file), &env).unwrap().sync.read_ahead, 200_000);
        let error = settings(None, &[("SYNC_READ_AHEAD", "lots")]).unwrap_err().to_string();
        assert!(error.contains("SYNC_READ_AHEAD"), "{error}");
    }

    #[test]
    fn original_guide_names_select_postgres_and_encode_the_password() {
        let vars = [("DB_HOST", "db.internal"), ("DB_PASSWORD", "p@ss:w/rd"), ("DB_NAME", "bd")];
        let s = settings(None, &vars).unwrap();
        assert_eq!(
            s.database_url().expose(),
            "postgres://postgres:p%40ss%3Aw%2Frd@db.internal:5432/bd"
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "[jira]\nurl = \"https://file.example\"\npage_size = 50\n";
        let s = settings(Some(file), &[("JIRA_URL", "https://env.example")]).unwrap();
        assert_eq!(s.jira.url.as_deref(), Some("https://env.example"));
        assert_eq!(s.jira.page_size, 50);
    }

    #[test]
    fn malformed_values_name_the_setting() {
        let error = settings(None, &[("DB_PORT", "five")]).unwrap_err().to_string();
        assert!(error.contains("DB_PORT") && error.contains("five"), "{error}");
        let error = settings(Some("[jira]\nurll = 1\n"), &[]).unwrap_err().to_string();
        assert!(error.contains("unknown field"), "{error}");
    }

    #[test]
    fn jira_credentials_pick_the_auth_scheme() {
        let pat = [("JIRA_URL", "https://jira.example"), ("JIRA_PAT", "p")];
        let config = settings(None, &pat).unwrap().jira.client_config().unwrap();
        assert_eq!(config.auth.scheme(), "Bearer");
        let basic = [("JIRA_URL", "https://x"), ("JIRA_EMAIL", "a@b"), ("JIRA_API_TOKEN", "t")];
        let config = settings(None, &basic).unwrap().jira.client_config().unwrap();
        assert_eq!(config.auth.scheme(), "Basic");
        let no_email = [("JIRA_URL", "https://x"), ("JIRA_API_TOKEN", "t")];
        let error = settings(None, &no_email).unwrap().jira.client_config().unwrap_err();
        assert!(error.to_string().contains("JIRA_EMAIL"), "{error}");
        let error = settings(None, &[]).unwrap().jira.client_config().unwrap_err();
        assert!(error.to_string().contains("JIRA_URL"), "{error}");
    }

    #[test]
    fn service_settings_have_the_documented_defaults() {
        let s = settings(None, &[]).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:5001");
        assert_eq!((s.server.public_url.as_deref(), s.server.trust_proxy), (None, false));
        assert_eq!(s.auth.session_timeout_hours, 8);
        assert_eq!(s.auth.idle_timeout_minutes, 30);
        assert_eq!(s.auth.max_concurrent_users, 150);
        assert_eq!(s.auth.token_ttl_minutes, 15);
        assert_eq!(s.cache.redis_url, None);
        assert_eq!(s.limits, RateLimitSettings::default());
        assert_eq!((s.limits.login_per_minute, s.limits.api_burst), (5, 20));
    }

    #[test]
    fn service_settings_come_from_the_guide_names_and_the_file() {
        let file = "[auth]\nsession_timeout_hours = 4\n[limits]\napi_per_minute = 60\n\
                    [server]\nbind = \"0.0.0.0:8080\"\n";
        let vars = [
            ("FLASK_SECRET_KEY", "flask-key"),
            ("MAX_CONCURRENT_USERS", "200"),
            ("SESSION_IDLE_MINUTES", "10"),
            ("RATE_LIMIT_LOGIN_BURST", "2"),
            ("BUGDASH_PUBLIC_URL", "https://bugdash.example.com/"),
            ("BUGDASH_TRUST_PROXY", "yes"),
            ("LOG_FORMAT", "JSON"),
            ("REDIS_HOST", "cache.internal"),
            ("REDIS_DB", "3"),
        ];
        let s = settings(Some(file), &vars).unwrap();
        assert_eq!(s.auth.secret_key.as_ref().map(Secret::expose), Some("flask-key"));
        assert_eq!((s.auth.session_timeout_hours, s.auth.idle_timeout_minutes), (4, 10));
        assert_eq!(s.auth.max_concurrent_users, 200);
        assert_eq!((s.limits.api_per_minute, s.limits.login_burst), (60, 2));
        assert_eq!(s.server.bind, "0.0.0.0:8080");
        assert_eq!(s.server.public_url.as_deref(), Some("https://bugdash.example.com"));
        assert!(s.server.trust_proxy);
        assert_eq!(s.server.log_format, LogFormat::Json);
        let url = s.cache.redis_url.unwrap();
        assert_eq!(url.expose(), "redis://cache.internal:6379/3");
    }

    #[test]
    fn sentry_is_off_by_default_and_read_from_the_environment_or_the_file() {
        let off = settings(None, &[]).unwrap().sentry;
        assert_eq!((off.dsn, off.environment.as_str()), (None, "production"));

        let file = "[sentry]\ndsn = \"https://k@file.example/1\"\nenvironment = \"staging\"\n";
        let from_file = settings(Some(file), &[]).unwrap().sentry;
        let env = [("SENTRY_DSN", "http://k@127.0.0.1:9/2")];
        let from_env = settings(Some(file), &env).unwrap().sentry;

        assert_eq!(from_file.dsn.unwrap().expose(), "https://k@file.example/1");
        assert_eq!(from_file.environment, "staging");
        assert_eq!(from_env.dsn.unwrap().expose(), "http://k@127.0.0.1:9/2");
        assert_eq!(from_env.environment, "staging");
    }

    #[test]
    fn redis_url_wins_over_its_parts() {
        let vars = [("REDIS_URL", "redis://127.0.0.1:6380/1"), ("REDIS_HOST", "other")];
        let s = settings(None, &vars).unwrap();
        assert_eq!(s.cache.redis_url.unwrap().expose(), "redis://127.0.0.1:6380/1");
    }

    #[test]
    fn bad_service_settings_name_the_setting() {
        let cases = [
            ("JWT_SECRET_KEY", "short"),
            ("MAX_CONCURRENT_USERS", "0"),
            ("RATE_LIMIT_API_BURST", "many"),
            ("BUGDASH_TRUST_PROXY", "perhaps"),
            ("BUGDASH_PUBLIC_URL", "bugdash.example.com"),
            ("LOG_FORMAT", "xml"),
            ("REDIS_URL", "http://127.0.0.1:6379"),
            ("SENTRY_DSN", "https://sentry.example.com/1"),
            ("SENTRY_ENVIRONMENT", "pre prod"),
        ];
        for (name, value) in cases {
            let error = settings(None, &[(name, value)]).unwrap_err().to_string();
            assert!(error.contains(name), "{name}: {error}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let vars = [
            ("JIRA_API_TOKEN", "tok-123"),
            ("DB_PASSWORD", "pw-456"),
            ("JWT_SECRET_KEY", "jwt-789-jwt-789-jwt-789-jwt-789-jwt"),
            ("REDIS_HOST", "h"),
            ("REDIS_PASSWORD", "redis-000"),
            ("SENTRY_DSN", "https://sentry-key-111@o1.ingest.sentry.io/42"),
        ];
        let s = settings(None, &vars).unwrap();
        let debug = format!("{s:?}");
        for secret in ["tok-123", "pw-456", "jwt-789", "redis-000", "sentry-key-111"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
