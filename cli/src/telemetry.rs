//! Where the commands' own diagnostics go: log lines on standard error and, when
//! `SENTRY_DSN` is set, our faults to Sentry.
//!
//! Sentry gets panics, and every error-level log line as an event: the 5xx answers of the
//! service (its error layer logs them with the route template and the request id) and
//! failed jobs. Warnings travel along as breadcrumbs; info and below stay local. Nothing
//! that identifies or authenticates a person is sent: the client sends no default personal
//! data, and each event is scrubbed before it leaves of request headers, cookies, query
//! strings, bodies and URLs, and of user fields other than the id, in case an integration
//! ever adds them. Without a DSN no client is started and nothing is sent.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::Context as _;
use bugdash::config::{LogFormat, SentrySettings};
use sentry::integrations::tracing::EventFilter;
use sentry::protocol::Event;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// Keeps the Sentry client running; dropping it sends what is queued, waiting at most two
/// seconds.
pub type SentryGuard = sentry::ClientInitGuard;

/// The fields of our log lines that Sentry shows as searchable tags.
const TAGGED_FIELDS: [&str; 4] = ["route", "request_id", "code", "job"];

/// The release events are filed under: `bugdash@<version>`.
pub fn release() -> String {
    format!("bugdash@{}", env!("CARGO_PKG_VERSION"))
}

/// Starts the Sentry client when the settings name a DSN; `None` (and nothing started)
/// otherwise. Keep the guard for as long as the command runs.
pub fn init_sentry(settings: &SentrySettings) -> anyhow::Result<Option<SentryGuard>> {
    let Some(dsn) = &settings.dsn else { return Ok(None) };
    // The settings checked the DSN's shape; the error still leaves the DSN out, as it
    // holds the project's key.
    let dsn: sentry::types::Dsn = dsn
        .expose()
        .parse()
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("SENTRY_DSN is not a DSN the Sentry client accepts")?;
    let options = sentry::ClientOptions {
        dsn: Some(dsn),
        release: Some(Cow::Owned(release())),
        environment: Some(Cow::Owned(settings.environment.clone())),
        send_default_pii: false,
        before_send: Some(Arc::new(|event| Some(scrub(event)))),
        ..Default::default()
    };
    Ok(Some(sentry::init(options)))
}

/// Installs the process's tracing subscriber: log lines on standard error in `logs`'s
/// format (none when `None`), and the Sentry layer when `sentry` is on. `RUST_LOG` chooses
/// what is logged (default: info, and only warnings of sqlx).
pub fn init_tracing(logs: Option<LogFormat>, sentry: bool) {
    if logs.is_none() && !sentry {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only on a terminal: a log file or journald gets no escape codes.
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let lines = match logs {
        None => None,
        Some(LogFormat::Text) => Some(lines.boxed()),
        Some(LogFormat::Json) => {
            Some(lines.json().with_current_span(true).with_span_list(false).boxed())
        }
    };
    let sentry = sentry.then(|| {
        sentry::integrations::tracing::layer()
            .event_filter(|metadata| match *metadata.level() {
                tracing::Level::ERROR => EventFilter::Event,
                tracing::Level::WARN => EventFilter::Breadcrumb,
                _ => EventFilter::Ignore,
            })
            // No performance tracing: spans stay local, so a request costs Sentry nothing
            // unless it fails, and the fields an event carries are the log line's own.
            .span_filter(|_| false)
    });
    // A second subscriber (a test harness's) may be in place already; its choice stands.
    let _ = tracing_subscriber::registry().with(filter).with(lines).with(sentry).try_init();
}

/// What leaves for Sentry: no request details, no user but its id, and the fields that
/// say where it happened as tags.
fn scrub(mut event: Event<'static>) -> Event<'static> {
    if let Some(request) = event.request.as_mut() {
        request.url = None;
        request.query_string = None;
        request.cookies = None;
        request.data = None;
        request.headers.clear();
        request.env.clear();
    }
    if let Some(user) = event.user.take() {
        event.user = Some(sentry::User { id: user.id, ..Default::default() });
    }
    for field in TAGGED_FIELDS {
        if let Some(value) = field_text(&event, field) {
            event.tags.entry(field.to_owned()).or_insert(value);
        }
    }
    event
}

/// A field of the log line an event came from, found wherever the tracing integration
/// put it (the extra data, or one of the contexts).
fn field_text(event: &Event<'static>, field: &str) -> Option<String> {
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if let Some(value) = event.extra.get(field) {
        return Some(text(value));
    }
    event.contexts.values().find_map(|context| match context {
        sentry::protocol::Context::Other(map) => map.get(field).map(text),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_dsn_starts_no_client() {
        let settings = SentrySettings::default();

        let guard = init_sentry(&settings).expect("no error");

        assert!(guard.is_none());
        assert!(sentry::Hub::current().client().is_none());
    }

    #[test]
    fn events_leave_without_request_details_or_personal_data() {
        let mut event = Event::default();
        let mut request = sentry::protocol::Request {
            query_string: Some("password=hunter2".into()),
            cookies: Some("bugdash_session=abc".into()),
            data: Some("{\"password\":\"hunter2\"}".into()),
            ..Default::default()
        };
        request.headers.insert("Authorization".into(), "Bearer xyz".into());
        event.request = Some(request);
        event.user = Some(sentry::User {
            id: Some("7".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        });
        event.extra.insert("route".into(), "/api/projects/{key}/issues".into());

        let sent = serde_json::to_string(&scrub(event)).unwrap();

        for secret in ["hunter2", "bugdash_session", "Bearer", "ada@example.com"] {
            assert!(!sent.contains(secret), "{secret} left in {sent}");
        }
        assert!(sent.contains("\"route\":\"/api/projects/{key}/issues\""), "{sent}");
    }
}
