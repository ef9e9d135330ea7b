//! The one error type of the core crate and where in an input a fault was found.

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in an input file a fault sits, as precisely as the reader knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Position {
    /// A line and column, both counted from 1 (JSON and delimited text).
    LineColumn {
        /// Line number, from 1.
        line: u64,
        /// Column number, from 1.
        column: u64,
    },
    /// A data record (CSV row or element of a JSON array), counted from 1, with the line
    /// it starts on when known.
    Record {
        /// Record number, from 1 (header rows not counted).
        record: u64,
        /// Line the record starts on, from 1.
        line: Option<u64>,
    },
    /// The whole input; no finer position makes sense.
    Whole,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Position::Record { record, line: Some(line) } => {
                write!(f, "record {record} (line {line})")
            }
            Position::Record { record, line: None } => write!(f, "record {record}"),
            Position::Whole => f.write_str("whole file"),
        }
    }
}

/// Everything that can go wrong in the core crate.
///
/// Input faults ([`Error::Input`], [`Error::Io`]) are the caller's to fix and are worded for
/// the person who gave the input; [`Error::InvalidParameter`] names the parameter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file was read but does not hold what was expected.
    #[error("{source_name}: {position}: {message}")]
    Input {
        /// File name (or other label) of the input.
        source_name: String,
        /// Where the fault was found.
        position: Position,
        /// What was wrong and what was expected instead.
        message: String,
    },
    /// An input file could not be read at all.
    #[error("failed to read {}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The store (database) failed to do what was asked.
    #[error("store failed to {operation}")]
    Store {
        /// What the store was doing, as "failed to …" completes it.
        operation: String,
        /// The database driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Settings are missing, malformed or contradict each other.
    #[error("configuration: {0}")]
    Config(String),
    /// A JIRA request failed (refused credentials, a removed endpoint, JIRA unreachable
    /// or overloaded after retries …); the inner error says which.
    #[error(transparent)]
    Jira(#[from] crate::jira::client::JiraError),
    /// The same work is already running elsewhere (another process, possibly on another
    /// machine sharing the database); running it twice at once would only duplicate it.
    /// Holds what is running, such as `sync of ZOOKEEPER`.
    #[error("another {0} is running; try again when it ends")]
    Busy(String),
    /// An analysis or reader parameter is out of range or malformed.
    #[error("invalid {name}: {message}")]
    InvalidParameter {
        /// Name of the parameter as the user wrote it (for example `--columns`).
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A missing, expired or revoked session or API token.
    #[error("not signed in: the request carries no valid session or API token")]
    Unauthorized,
    /// A failed login, worded the same whether or not the account exists.
    #[error("the email or password is wrong")]
    LoginRefused,
    /// Signed in, but the account's role does not allow this.
    #[error("this needs a role the account does not have")]
    Forbidden,
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, such as `account 12`.
        what: String,
    },
    /// The request contradicts what is stored, such as an email already in use.
    #[error("{message}")]
    Conflict {
        /// What collided, in words.
        message: String,
    },
    /// Too many attempts in too short a time; the caller may try again after the wait.
    #[error("too many requests; try again in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait before the next attempt is allowed.
        retry_after: std::time::Duration,
    },
    /// The service has as many signed-in users as it accepts; a new session may start
    /// after the wait.
    #[error("the service is at its limit of signed-in users; try again in {} s", retry_after.as_secs().max(1))]
    Capacity {
        /// When a place is expected to free up.
        retry_after: std::time::Duration,
    },
    /// The cache (Redis) failed; callers that can do without it fall back instead.
    #[error("cache failed to {operation}")]
    Cache {
        /// What the cache was doing, as "failed to …" completes it.
        operation: String,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Our own fault that fits no other variant (a hashing library refusing its own
    /// parameters, a background task that died); reported to callers as an internal error.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Builds an [`Error::Input`].
    pub fn input(
        source_name: impl Into<String>,
        position: Position,
        message: impl Into<String>,
    ) -> Self {
        Error::Input { source_name: source_name.into(), position, message: message.into() }
    }

    /// Builds an [`Error::Store`] from a driver error.
    pub fn store(
        operation: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Store { operation: operation.into(), source: Box::new(source) }
    }

    /// Builds an [`Error::InvalidParameter`].
    pub fn invalid(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.into(), message: message.into() }
    }
}
