//! Error reporting to Sentry: the DSN (a secret, as it holds the project's key) and the
//! environment events are filed under. The client itself lives in the binary; core only
//! reads and checks the settings, so a malformed DSN stops the start with a clear error
//! instead of silently sending nothing.

use crate::secret::Secret;
use crate::{Error, Result};

/// Where errors are reported, when anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct SentrySettings {
    /// The project's DSN (`SENTRY_DSN`), such as `https://KEY@o1.ingest.sentry.io/42`;
    /// without it nothing is reported and no client is started.
    pub dsn: Option<Secret>,
    /// The environment events are filed under (`SENTRY_ENVIRONMENT`, default
    /// `production`).
    pub environment: String,
}

impl Default for SentrySettings {
    fn default() -> Self {
        SentrySettings { dsn: None, environment: "production".into() }
    }
}

/// Checks `dsn` has the shape `http[s]://PUBLIC_KEY[:SECRET]@HOST[:PORT][/PATH]/PROJECT_ID`.
/// The error names what is wrong and never repeats the DSN, which holds the key.
pub(super) fn check_dsn(dsn: &str) -> Result<()> {
    dsn_problem(dsn).map_or(Ok(()), |problem| {
        Err(Error::Config(format!(
            "SENTRY_DSN is not a Sentry DSN: {problem}; it looks like \
             https://PUBLIC_KEY@HOST/PROJECT_ID (copy it from the project's Client Keys page)"
        )))
    })
}

fn dsn_problem(dsn: &str) -> Option<&'static str> {
    if dsn.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("it contains spaces or control characters");
    }
    let Some((scheme, rest)) = dsn.split_once("://") else {
        return Some("it has no scheme (http:// or https://)");
    };
    if scheme != "https" && scheme != "http" {
        return Some("its scheme is neither http nor https");
    }
    let Some((key, location)) = rest.split_once('@') else {
        return Some("it has no PUBLIC_KEY@ before the host");
    };
    if key.split(':').next().unwrap_or("").is_empty() {
        return Some("its public key is empty");
    }
    let (authority, path) = location.split_once('/').unwrap_or((location, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    if host.is_empty() {
        return Some("its host is empty");
    }
    if port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return Some("its port is not a number from 0 to 65535");
    }
    if path.contains(['?', '#']) {
        return Some("it has a query or fragment");
    }
    let project = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if project.is_empty() || !project.bytes().all(|b| b.is_ascii_digit()) {
        return Some("it does not end in a numeric project id");
    }
    None
}

/// Checks an environment name as Sentry accepts it: 1 to 64 characters, no `/`, no spaces
/// or line breaks, and not `None`.
pub(super) fn check_environment(name: &str) -> Result<()> {
    let fits = (1..=64).contains(&name.chars().count())
        && !name.chars().any(|c| c == '/' || c.is_whitespace() || c.is_control())
        && name != "None";
    if fits {
        return Ok(());
    }
    Err(Error::Config(format!(
        "SENTRY_ENVIRONMENT must be 1 to 64 characters without `/`, spaces or line breaks \
         (such as production or staging), not {name:?}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_dsns_pass() {
        for dsn in [
            "https://abc123@o1.ingest.sentry.io/42",
            "http://key@127.0.0.1:9000/1",
            "https://key:secret@sentry.example.com/some/path/7",
            "https://key@[::1]:9000/3/",
        ] {
            assert!(check_dsn(dsn).is_ok(), "{dsn}");
        }
    }

    #[test]
    fn malformed_dsns_say_why_without_the_key() {
        let cases = [
            ("sentry.example.com/1", "no scheme"),
            ("ftp://key@host/1", "scheme"),
            ("https://host/1", "PUBLIC_KEY@"),
            ("https://@host/1", "public key is empty"),
            ("https://hunter2@/1", "host is empty"),
            ("https://hunter2@host:port/1", "port"),
            ("https://hunter2@host", "project id"),
            ("https://hunter2@host/project", "project id"),
            ("https://hunter2@host/1?x=y", "query"),
            ("https://hunter2@host/1 ", "spaces"),
        ];
        for (dsn, why) in cases {
            let error = check_dsn(dsn).unwrap_err().to_string();
            assert!(error.contains("SENTRY_DSN") && error.contains(why), "{dsn}: {error}");
            assert!(!error.contains("hunter2"), "the key leaked: {error}");
        }
    }

    #[test]
    fn environments_follow_sentrys_rules() {
        assert!(check_environment("staging").is_ok());
        for bad in ["", "pre prod", "a/b", "None", &"x".repeat(65)] {
            let error = check_environment(bad).unwrap_err().to_string();
            assert!(error.contains("SENTRY_ENVIRONMENT"), "{bad:?}: {error}");
        }
    }
}
