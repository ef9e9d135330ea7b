//! How BugDash proves who it is to JIRA, and how to tell that JIRA refused it.
//!
//! JIRA does not always refuse with a 401: Server answers a failed login with a 403 and a
//! CAPTCHA header once it has seen too many, and sometimes with a 200 served anonymously,
//! marked only by `X-Seraph-LoginReason: AUTHENTICATION_DENIED`. All three become
//! [`JiraError::Unauthorized`] naming the scheme that was sent.

use reqwest::header::HeaderMap;
use reqwest::RequestBuilder;

use super::error::JiraError;
use crate::secret::Secret;

/// The credentials sent with every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JiraAuth {
    /// Basic auth with an account email and an API token (JIRA Cloud).
    Basic {
        /// The account's email address.
        email: String,
        /// The API token.
        token: Secret,
    },
    /// A personal access token sent as a bearer token (JIRA Data Center).
    Bearer {
        /// The personal access token.
        token: Secret,
    },
    /// No credentials: only public projects are visible.
    Anonymous,
}

impl JiraAuth {
    /// The scheme's name as the error messages use it.
    pub fn scheme(&self) -> &'static str {
        match self {
            JiraAuth::Basic { .. } => "Basic",
            JiraAuth::Bearer { .. } => "Bearer",
            JiraAuth::Anonymous => "anonymous",
        }
    }

    /// The account the credentials name, when the scheme names one.
    pub fn account(&self) -> Option<&str> {
        match self {
            JiraAuth::Basic { email, .. } => Some(email),
            JiraAuth::Bearer { .. } | JiraAuth::Anonymous => None,
        }
    }

    /// Refuses credentials that cannot work, before any request is sent.
    pub(crate) fn check(&self) -> Result<(), JiraError> {
        let config = |message: &str| Err(JiraError::Config { message: message.to_owned() });
        match self {
            JiraAuth::Basic { email, .. } if email.trim().is_empty() => {
                config("Basic auth needs the account email (JIRA_EMAIL)")
            }
            JiraAuth::Basic { token, .. } if token.is_empty() => {
                config("Basic auth needs an API token (JIRA_API_TOKEN)")
            }
            JiraAuth::Bearer { token } if token.is_empty() => {
                config("Bearer auth needs a personal access token")
            }
            _ => Ok(()),
        }
    }

    /// Adds the `Authorization` header to a request.
    pub(crate) fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            JiraAuth::Basic { email, token } => request.basic_auth(email, Some(token.expose())),
            JiraAuth::Bearer { token } => request.bearer_auth(token.expose()),
            JiraAuth::Anonymous => request,
        }
    }

    /// The error for a refusal with `status` and the body JIRA sent.
    pub(crate) fn refused(&self, status: u16, message: String) -> JiraError {
        JiraError::Unauthorized {
            scheme: self.scheme().to_owned(),
            account: self.account().map(str::to_owned),
            status,
            message,
        }
    }
}

/// Why JIRA refused a login that did not come as a 401, read from its headers.
pub(crate) fn denial_in_headers(status: u16, headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(reason) = header("x-authentication-denied-reason") {
        return Some(format!(
            "login refused ({reason}); after repeated failed logins JIRA asks for a CAPTCHA: \
             log in once in a browser, then check the credentials"
        ));
    }
    let seraph = header("x-seraph-loginreason")?;
    let denied = seraph.split(',').any(|reason| reason.trim() == "AUTHENTICATION_DENIED");
    (denied && status < 300).then(|| {
        "login refused (X-Seraph-LoginReason: AUTHENTICATION_DENIED); JIRA answered \
         anonymously instead"
            .to_owned()
    })
}

/// A readable message from an error body, whatever its form: JSON (`errorMessages`,
/// `errors`, `message`), XML (`<message>`), an HTML page (its `<title>`) or plain text.
pub(crate) fn message_of_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = match text.as_bytes().first() {
        Some(b'{') => json_message(text),
        Some(b'<') => xml_element(text, "message")
            .or_else(|| xml_element(text, "title"))
            .or_else(|| Some("an HTML or XML page without a message".to_owned())),
        Some(_) => Some(text.to_owned()),
        None => None,
    };
    let message = message.unwrap_or_else(|| "no message".to_owned());
    shorten(collapse_whitespace(&message), 400)
}

fn json_message(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut parts: Vec<String> = Vec::new();
    if let Some(listed) = value.get("errorMessages").and_then(|list| list.as_array()) {
        parts.extend(listed.iter().filter_map(|text| text.as_str()).map(str::to_owned));
    }
    if let Some(errors) = value.get("errors").and_then(|errors| errors.as_object()) {
        for (field, text) in errors {
            parts.push(format!("{field}: {}", text.as_str().unwrap_or_default()));
        }
    }
    if let Some(message) = value.get("message").and_then(|text| text.as_str()) {
        parts.push(message.to_owned());
    }
    Some(if parts.is_empty() { text.to_owned() } else { parts.join("; ") })
}

/// The text of the first `<name>` element; enough for JIRA's small XML status bodies
/// without pulling in an XML parser.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find(&format!("<{name}"))?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find(&format!("</{name}"))?;
    Some(text[start..end].trim().to_owned()).filter(|inner| !inner.is_empty())
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: String, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_status_body_gives_its_message() {
        let body = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><status><status-code>401</status-code><message>Client must be authenticated to access this resource.</message></status>"#;
        assert_eq!(message_of_body(body), "Client must be authenticated to access this resource.");
    }

    #[test]
    fn json_error_body_joins_messages_and_field_errors() {
        let body = br#"{"errorMessages":["No project"],"errors":{"jql":"bad"}}"#;
        assert_eq!(message_of_body(body), "No project; jql: bad");
    }

    #[test]
    fn html_page_gives_its_title() {
        let body = b"<!DOCTYPE html><html><head><title>Oops - an error has occurred</title>";
        assert_eq!(message_of_body(body), "Oops - an error has occurred");
    }
}
