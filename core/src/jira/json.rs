//! JIRA REST JSON in every shape BugDash meets: `/rest/api/2/search` and
//! `/rest/api/3/search/jql` pages, single-issue responses, JSON arrays of issues, GrimoireLab
//! (Perceval) items and Airbyte's issue records.
//!
//! The document is read in one pass into borrowed structs that name only the keys BugDash
//! uses, then each issue object becomes an [`Issue`]. Every fault becomes
//! [`Error::Input`] with the file name, a position and what was expected.

mod convert;
mod history;
mod raw;

use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::model::Issue;
use crate::{Error, Position, Result};
use raw::{Document, RawObject};

/// Reads every issue in a JSON document.
///
/// An empty search page gives an empty list. A record without `fields` (as Perceval
/// sometimes stores) gives an issue with only its id and key, not an error.
///
/// ```
/// let page = br#"{"issues":[{"id":"7","key":"ZK-7","fields":{"summary":"Leak"}}],
///                 "isLast":true}"#;
/// let issues = bugdash::jira::json::read_json("page.json", page).unwrap();
/// assert_eq!((issues[0].id, issues[0].project.as_ref()), (Some(7), "ZK"));
/// ```
pub fn read_json(source_name: &str, bytes: &[u8]) -> Result<Vec<Issue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document: Document<'_> = serde_json::from_slice(bytes).map_err(|fault| {
        Error::input(source_name, fault_position(&fault), describe_fault(&fault))
    })?;
    let (records, layout) = match document {
        Document::Null => {
            let why = format!("the file holds JSON `null`, not JIRA data; {EXPECTED}");
            return Err(Error::input(source_name, Position::Whole, why));
        }
        Document::Array(records) => (records, Layout::Array),
        Document::Object(object) => match shape(&object) {
            Shape::Page => (object.issues.unwrap_or_default(), Layout::Page),
            Shape::Issue => (vec![*object], Layout::Single),
            Shape::ErrorBody => return Err(error_body(source_name, &object)),
            Shape::Unknown => return Err(not_jira(source_name, Position::Whole)),
        },
    };
    let mut issues = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let fault_at = |message: String| {
            Error::input(source_name, record_position(bytes, layout, index), message)
        };
        match shape(&record) {
            Shape::Issue => issues.push(issue_of_record(record).map_err(fault_at)?),
            Shape::Page if layout == Layout::Array => {
                // An array of saved search pages: each page's issues, in order.
                for issue in record.issues.unwrap_or_default() {
                    issues.push(issue_of_record(issue).map_err(fault_at)?);
                }
            }
            Shape::ErrorBody | Shape::Unknown | Shape::Page => {
                return Err(fault_at(format!("found no issue here; {EXPECTED}")));
            }
        }
    }
    Ok(issues)
}

/// True when `bytes` is one JSON value that is neither an object, an array nor a string
/// (`null`, `true`, a number): JSON, though not JIRA data, to be refused as such rather
/// than read as a one-column CSV file. A lone string stays with the CSV reader, as
/// `"Key"` is also a quoted header.
pub(super) fn is_json_scalar(bytes: &[u8]) -> bool {
    use serde_json::Value;
    let looks_scalar = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'n' | b't' | b'f' | b'-' | b'0'..=b'9'));
    looks_scalar
        && matches!(
            serde_json::from_slice::<Value>(bytes),
            Ok(Value::Null | Value::Bool(_) | Value::Number(_))
        )
}

/// Reads one issue object given as JSON text, as found inside other containers (for
/// example a cell of a CSV file); `position` locates it in `source_name`.
///
/// A Perceval item (the issue under `data`) is accepted too. Faults are reported at
/// `position`, with the line and column inside `text` in the message.
pub fn read_issue_json(source_name: &str, text: &str, position: Position) -> Result<Issue> {
    let object: RawObject<'_> = match serde_json::from_str(text) {
        Ok(object) => object,
        Err(fault) => {
            let inner = fault_position(&fault);
            let message = format!("in the issue JSON ({inner} of it): {}", describe_fault(&fault));
            return Err(Error::input(source_name, position, message));
        }
    };
    match shape(&object) {
        Shape::Issue => {
            issue_of_record(object).map_err(|message| Error::input(source_name, position, message))
        }
        Shape::ErrorBody => Err(error_body(source_name, &object)),
        Shape::Page | Shape::Unknown => Err(not_jira(source_name, position)),
    }
}

const EXPECTED: &str = "expected JIRA data: a search page with an `issues` array, an issue \
                        object with `key` and `fields`, a Perceval item with the issue under \
                        `data`, or a JSON array of these";

/// How the records of a document were laid out, to find a record again for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// A top-level JSON array.
    Array,
    /// The `issues` array of a top-level search page.
    Page,
    /// One issue object making up the whole document.
    Single,
}

/// What a JSON object is, judged by its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Page,
    Issue,
    ErrorBody,
    Unknown,
}

fn shape(object: &RawObject<'_>) -> Shape {
    if object.issues.is_some() {
        Shape::Page
    } else if object.data.is_some() || object.key.is_some() || object.fields.is_some() {
        Shape::Issue
    } else if object.error_messages.is_some() || object.errors.is_some() {
        Shape::ErrorBody
    } else if object.id.is_some() {
        // An id alone: a /search/jql result fetched without fields. Converting it names
        // the missing key.
        Shape::Issue
    } else {
        Shape::Unknown
    }
}

/// Converts an issue object, or the issue inside a Perceval item.
fn issue_of_record(object: RawObject<'_>) -> std::result::Result<Issue, String> {
    match object.data {
        Some(data) => convert::issue_from_raw(*data),
        None => convert::issue_from_raw(object),
    }
}

/// Where serde_json stopped, when it says.
fn fault_position(fault: &serde_json::Error) -> Position {
    match (fault.line() as u64, fault.column() as u64) {
        (0, _) => Position::Whole,
        (line, column) => Position::LineColumn { line, column },
    }
}

/// Words a serde_json failure for the person who gave the file.
fn describe_fault(fault: &serde_json::Error) -> String {
    let (line, column) = (fault.line(), fault.column());
    let detail = fault.to_string();
    let detail =
        detail.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&detail);
    match fault.classify() {
        // The position is the error's own; repeating it here would say it twice.
        Category::Eof => "the JSON ends early - the file looks truncated".to_owned(),
        Category::Syntax => format!("this is not valid JSON ({detail})"),
        Category::Data => format!("unexpected content ({detail}); {EXPECTED}"),
        Category::Io => format!("could not read the JSON ({detail})"),
    }
}

fn not_jira(source_name: &str, position: Position) -> Error {
    Error::input(source_name, position, format!("found no JIRA issue data; {EXPECTED}"))
}

/// A JIRA error response saved in place of data: says so and quotes JIRA's messages.
fn error_body(source_name: &str, object: &RawObject<'_>) -> Error {
    let listed = object.error_messages.iter().flatten();
    let mut messages: Vec<String> =
        listed.filter_map(|text| text.0.as_ref()).map(|text| text.as_str().to_owned()).collect();
    for (field, text) in object.errors.iter().flatten() {
        let text = text.0.as_ref().map_or("", |text| text.as_str());
        messages.push(format!("{field}: {text}"));
    }
    let quoted = if messages.is_empty() { "no message".to_owned() } else { messages.join("; ") };
    let message =
        format!("this is a JIRA error response, not issue data (JIRA said: {quoted}); {EXPECTED}");
    Error::input(source_name, Position::Whole, message)
}

/// The position of record `index` for an error: its number, and the line it starts on.
///
/// Only faults need the line, so the document is scanned a second time, here, rather than
/// tracking positions while reading.
fn record_position(bytes: &[u8], layout: Layout, index: usize) -> Position {
    #[derive(serde::Deserialize)]
    struct Outline<'a> {
        #[serde(borrow)]
        issues: Vec<&'a RawValue>,
    }
    let record = match layout {
        Layout::Single => return Position::Whole,
        Layout::Array => serde_json::from_slice::<Vec<&RawValue>>(bytes)
            .ok()
            .and_then(|records| records.get(index).copied()),
        Layout::Page => serde_json::from_slice::<Outline<'_>>(bytes)
            .ok()
            .and_then(|outline| outline.issues.get(index).copied()),
    };
    let offset =
        record.and_then(|raw| (raw.get().as_ptr() as usize).checked_sub(bytes.as_ptr() as usize));
    let line =
        offset.filter(|&at| at < bytes.len()).and_then(|at| match super::line_column(bytes, at) {
            Position::LineColumn { line, .. } => Some(line),
            _ => None,
        });
    Position::Record { record: index as u64 + 1, line }
}
