//! The one place core errors become Python exceptions.
//!
//! Every exception raised by the module derives from `BugDashError`. The caller's faults
//! (unreadable or malformed input, a bad option) are `InputError`; JIRA refusing or
//! failing is `JiraError`; the database failing is `StoreError`.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pyo3::create_exception!(
    bugdash,
    BugDashError,
    PyException,
    "Base class of every error the bugdash module raises."
);
pyo3::create_exception!(
    bugdash,
    InputError,
    BugDashError,
    "An input the caller gave cannot be used: a file that cannot be read or holds no \
     issues in a known form, a malformed column mapping, an option out of range."
);
pyo3::create_exception!(
    bugdash,
    JiraError,
    BugDashError,
    "JIRA refused the request or failed to answer it (after retries), or the JIRA \
     settings are unusable."
);
pyo3::create_exception!(
    bugdash,
    StoreError,
    BugDashError,
    "The store (PostgreSQL or SQLite) could not be opened or failed to answer."
);

/// Which frontend object a fault came through: a settings fault ([`bugdash::Error::Config`])
/// belongs to whatever was being set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Reading files and analysing.
    Input,
    /// The JIRA client.
    Jira,
    /// The store.
    Store,
}

/// Converts a core error into the exception of its kind, keeping the core's wording
/// (which never holds a secret) and its cause chain in one message.
pub fn to_py(error: bugdash::Error, domain: Domain) -> PyErr {
    let message = with_causes(&error);
    match error {
        bugdash::Error::Jira(_) => JiraError::new_err(message),
        bugdash::Error::Store { .. } | bugdash::Error::Busy(_) => StoreError::new_err(message),
        // The store's own files (an SQLite database and its folder) are the store's.
        bugdash::Error::Io { .. } if domain == Domain::Store => StoreError::new_err(message),
        bugdash::Error::Config(_) => match domain {
            Domain::Input => InputError::new_err(message),
            Domain::Jira => JiraError::new_err(message),
            Domain::Store => StoreError::new_err(message),
        },
        _ => InputError::new_err(message),
    }
}

/// An [`InputError`] with this message.
pub fn input(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// The error's message followed by each cause's, joined by ": ".
fn with_causes(error: &bugdash::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
