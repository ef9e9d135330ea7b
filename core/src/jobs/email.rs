//! The weekly usage report by email, over SMTP with lettre: one message per active admin,
//! so admins never see each other's addresses.

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::analytics::report::UsageReport;
use crate::auth::Role;
use crate::config::{SmtpSecurity, SmtpSettings};
use crate::store::analytics::JobOutcome;
use crate::store::Store;
use crate::{Error, Result};

/// Emails `report` to every active admin; skipped, saying why, when SMTP is not set or
/// there is no admin to write to.
pub async fn send_usage_report(
    store: &dyn Store,
    smtp: &SmtpSettings,
    report: &UsageReport,
) -> Result<(JobOutcome, String)> {
    let Some(host) = &smtp.host else {
        return Ok((JobOutcome::Skipped, "SMTP_HOST is not set; no email sent".into()));
    };
    let admins: Vec<String> = store
        .account_records()
        .await?
        .into_iter()
        .filter(|a| a.active && a.role == Role::Admin)
        .map(|a| a.email)
        .collect();
    if admins.is_empty() {
        return Ok((JobOutcome::Skipped, "no active admin to send the report to".into()));
    }
    let transport = transport(host, smtp)?;
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| Error::Config(format!("SMTP_FROM {:?} is not an address: {e}", smtp.from)))?;
    let subject = format!("BugDash usage {} to {}", report.from, report.to);
    let body = report.summary_text();
    for admin in &admins {
        let to: Mailbox =
            admin.parse().map_err(|e| Error::invalid("admin email", format!("{admin:?}: {e}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(&subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.clone())
            .map_err(|e| Error::Internal(format!("cannot build the report email: {e}")))?;
        transport.send(message).await.map_err(|e| {
            Error::Internal(format!("failed to send the usage report through {host}: {e}"))
        })?;
    }
    Ok((JobOutcome::Succeeded, format!("usage report sent to {} admins", admins.len())))
}

fn transport(host: &str, smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let bad = |e: lettre::transport::smtp::Error| {
        Error::Config(format!("SMTP_HOST {host:?} cannot be used: {e}"))
    };
    let builder = match smtp.security {
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(bad)?
        }
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(bad)?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut builder = builder.port(smtp.port);
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}
