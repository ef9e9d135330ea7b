//! JIRA REST JSON in every shape BugDash meets: `/rest/api/2/search` and
//! `/rest/api/3/search/jql` pages, single-issue responses, JSON arrays of issues, GrimoireLab
//! (Perceval) items and Airbyte's issue records.
//!
//! The document is read record by record (the elements of a top-level array or of a
//! search page's `issues`): serde_json parses a record lying whole in the window read so
//! far in one pass; a byte scanner finds the end of one cut by the window's edge. Each is
//! read into borrowed structs that name only the keys BugDash uses and turned into an
//! [`Issue`] before the next is read, so a document of any size is read in memory bounded
//! by its largest record. A search answer from JIRA, already whole in memory, is read
//! whole when it is well-formed ([`read_search_answer`]), which is faster, and record by
//! record otherwise. Every fault becomes [`Error::Input`] with the file name, a position
//! and what was expected.

mod convert;
mod history;
mod raw;
mod scan;

use serde_json::error::Category;

use crate::model::Issue;
use crate::{Error, Position, Result};
use raw::{Document, RawObject};
use scan::Scanner;

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
    let mut issues = Vec::new();
    stream_json(source_name, bytes, &mut |issue| {
        issues.push(issue);
        Ok(())
    })?;
    Ok(issues)
}

/// Reads a JSON document from `reader` and hands its issues to `sink` one at a time, in
/// document order, holding one record at a time: a search page's `issues` and a
/// top-level array are read element by element, so memory stays bounded by the largest
/// record (an element that is itself a search page is read whole).
///
/// Faults are reported as [`read_json`] reports them, but only once reading reaches them:
/// issues before a fault have already gone to `sink`. An error returned by `sink` stops
/// the reading and is returned as it is.
pub fn stream_json<R: std::io::Read>(
    source_name: &str,
    reader: R,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    let mut scan = Scanner::new(source_name, reader)?;
    match scan.peek()? {
        Some(b'[') => {
            scan.at += 1;
            let mut records = Records { source_name, layout: Layout::Array, index: 0, sink };
            records.read_array(&mut scan)?;
            scan.expect_end()
        }
        Some(b'{') => read_object(source_name, scan, sink, None),
        _ => read_scalar(source_name, &scan.into_window()?),
    }
}

/// A search answer read in one pass: its issues and its paging keys.
#[derive(Debug, Default)]
pub struct SearchAnswer {
    /// The issues, in the order of the answer.
    pub issues: Vec<Issue>,
    /// Elements of the answer's `issues` array (to compare with the issues read).
    pub listed: u64,
    /// `total` (Data Center).
    pub total: Option<u64>,
    /// `isLast` (Cloud).
    pub is_last: Option<bool>,
    /// `nextPageToken` (Cloud).
    pub next_page_token: Option<String>,
}

/// Reads a search page (`/rest/api/2/search`, `/rest/api/3/search/jql`) with its paging
/// keys. A well-formed page of issues is read whole, in one pass; anything else record by
/// record, so that a fault is worded as in any other document. A document that is not a
/// search page, or whose paging keys have the wrong type, is an error.
///
/// ```
/// let page = br#"{"startAt":0,"total":9,"issues":[{"id":"7","key":"ZK-7","fields":{}}]}"#;
/// let answer = bugdash::jira::json::read_search_answer("page", page).unwrap();
/// assert_eq!((answer.issues.len(), answer.listed, answer.total), (1, 1, Some(9)));
/// ```
pub fn read_search_answer(source_name: &str, bytes: &[u8]) -> Result<SearchAnswer> {
    match whole_search_answer(bytes) {
        Some(answer) => Ok(answer),
        None => search_answer_by_record(source_name, bytes),
    }
}

/// [`read_search_answer`] for any input, reading the issues record by record, so that a
/// fault is placed and worded as in any other document.
fn search_answer_by_record(source_name: &str, bytes: &[u8]) -> Result<SearchAnswer> {
    let mut answer = SearchAnswer::default();
    let mut keys = PageKeys::default();
    let mut scan = Scanner::new(source_name, bytes)?;
    let not_a_page = || Error::input(source_name, Position::Whole, "not a search page");
    if scan.peek()? != Some(b'{') {
        return Err(not_a_page());
    }
    let issues = &mut answer.issues;
    let mut keep = |issue| {
        issues.push(issue);
        Ok(())
    };
    read_object(source_name, scan, &mut keep, Some(&mut keys))?;
    if !keys.page {
        return Err(not_a_page());
    }
    let bad_key = |key: &str, fault: serde_json::Error| {
        Error::input(source_name, Position::Whole, format!("`{key}`: {fault}"))
    };
    answer.listed = keys.listed;
    answer.total = serde_json::from_slice(&keys.total).map_err(|e| bad_key("total", e))?;
    answer.is_last = serde_json::from_slice(&keys.is_last).map_err(|e| bad_key("isLast", e))?;
    answer.next_page_token =
        serde_json::from_slice(&keys.next_page_token).map_err(|e| bad_key("nextPageToken", e))?;
    Ok(answer)
}

/// A search page read whole, for [`whole_search_answer`]: a JSON object only, each paging
/// key at most once and written without escapes, as the record reader, which compares
/// the keys' raw bytes, finds them; anything else is refused, for the record reader.
#[derive(Default)]
struct WholePage<'a> {
    issues: Option<Vec<RawObject<'a>>>,
    total: Option<u64>,
    is_last: Option<bool>,
    next_page_token: Option<String>,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for WholePage<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(WholePageVisitor)
    }
}

struct WholePageVisitor;

impl<'de> serde::de::Visitor<'de> for WholePageVisitor {
    type Value = WholePage<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a search page")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::{Error as _, IgnoredAny};
        let mut page = WholePage::default();
        let mut seen = [false; 4];
        while let Some(PlainKey(key)) = map.next_key()? {
            let slot = match key {
                "issues" => 0,
                "total" => 1,
                "isLast" => 2,
                "nextPageToken" => 3,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(A::Error::custom(format!("`{key}` twice")));
            }
            match slot {
                0 => page.issues = map.next_value()?,
                1 => page.total = map.next_value()?,
                2 => page.is_last = map.next_value()?,
                _ => page.next_page_token = map.next_value()?,
            }
        }
        Ok(page)
    }
}

/// An object key written without escapes (serde_json lends only those from the input).
struct PlainKey<'a>(&'a str);

impl<'de> serde::Deserialize<'de> for PlainKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = PlainKey<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key without escapes")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                key: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(PlainKey(key))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A well-formed search page whose records are all issues, read in one pass over text
/// checked as UTF-8 once: 40% less time than reading it record by record (a page of
/// 876 ZooKeeper issues, 3.4 MB: 7.4 ms against 12.6 ms), as serde_json then checks no
/// string's UTF-8 again. `None` for anything else, which the record-by-record reader
/// reads again to word what is wrong, exactly as it always has.
fn whole_search_answer(bytes: &[u8]) -> Option<SearchAnswer> {
    let text = std::str::from_utf8(bytes).ok()?;
    let page: WholePage<'_> = serde_json::from_str(text).ok()?;
    let records = page.issues?;
    if !records.iter().all(|record| shape(record) == Shape::Issue) {
        return None;
    }
    let listed = records.len() as u64;
    let issues = records.into_iter().map(issue_of_record).collect::<std::result::Result<_, _>>();
    Some(SearchAnswer {
        issues: issues.ok()?,
        listed,
        total: page.total,
        is_last: page.is_last,
        next_page_token: page.next_page_token,
    })
}

/// The raw values of a search page's paging keys (`null` when absent), and whether the
/// object had an `issues` array and how many elements.
struct PageKeys {
    page: bool,
    listed: u64,
    total: Vec<u8>,
    is_last: Vec<u8>,
    next_page_token: Vec<u8>,
}

impl Default for PageKeys {
    fn default() -> Self {
        let null = || b"null".to_vec();
        PageKeys { page: false, listed: 0, total: null(), is_last: null(), next_page_token: null() }
    }
}

impl PageKeys {
    /// Keeps the value of `key` when it is a paging key.
    fn keep(&mut self, key: &[u8], value: &[u8]) {
        let slot = match key {
            b"\"total\"" => &mut self.total,
            b"\"isLast\"" => &mut self.is_last,
            b"\"nextPageToken\"" => &mut self.next_page_token,
            _ => return,
        };
        *slot = value.to_vec();
    }
}

/// A document that is neither an object nor an array: `null`, a scalar or nothing, each
/// an error worded by serde_json's view of the whole text.
fn read_scalar(source_name: &str, bytes: &[u8]) -> Result<()> {
    let document: Document = serde_json::from_slice(bytes).map_err(|fault| {
        Error::input(source_name, fault_position(&fault), describe_fault(&fault))
    })?;
    match document {
        Document::Null => {
            let why = format!("the file holds JSON `null`, not JIRA data; {EXPECTED}");
            Err(Error::input(source_name, Position::Whole, why))
        }
        Document::Array | Document::Object => Err(not_jira(source_name, Position::Whole)),
    }
}

/// A top-level object: a search page, whose `issues` are read one by one as they come,
/// or else one issue, a Perceval item or an error body, read whole.
///
/// With `keys`, the paging keys' values and the count of `issues` are noted there.
fn read_object<R: std::io::Read>(
    source_name: &str,
    mut scan: Scanner<R>,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
    mut keys: Option<&mut PageKeys>,
) -> Result<()> {
    let start = scan.at;
    scan.at += 1;
    let mut records = Records { source_name, layout: Layout::Page, index: 0, sink };
    let mut page = false;
    let mut first = true;
    loop {
        match scan.peek()? {
            None => return Err(scan.truncated()),
            Some(b'}') if first => break,
            Some(b'"') => {}
            Some(_) if page => return Err(scan.unexpected("a key in double quotes")),
            // Not the shape of a JSON object: serde_json words what is wrong.
            Some(_) => return read_scalar(source_name, &scan.into_window()?),
        }
        first = false;
        let key_start = scan.at;
        let key_end = scan.value_end()?.ok_or_else(|| scan.truncated())?;
        let is_issues = scan.slice(key_start, key_end) == b"\"issues\"";
        scan.at = key_end;
        match scan.peek()? {
            None => return Err(scan.truncated()),
            Some(b':') => scan.at += 1,
            Some(_) if page => return Err(scan.unexpected("`:` after a key")),
            Some(_) => return read_scalar(source_name, &scan.into_window()?),
        }
        match scan.peek()? {
            None => return Err(scan.truncated()),
            Some(b'[') if is_issues && !page => {
                page = true;
                scan.at += 1;
                records.read_array(&mut scan)?;
                if let Some(keys) = keys.as_deref_mut() {
                    (keys.page, keys.listed) = (true, records.index);
                }
            }
            Some(_) => {
                let value_start = scan.at;
                let value_end = scan.value_end()?.ok_or_else(|| scan.truncated())?;
                if let Some(keys) = keys.as_deref_mut() {
                    keys.keep(scan.slice(key_start, key_end), scan.slice(value_start, value_end));
                }
                scan.at = value_end;
            }
        }
        match scan.peek()? {
            None => return Err(scan.truncated()),
            Some(b',') => scan.at += 1,
            Some(b'}') => break,
            Some(_) if page => return Err(scan.unexpected("`,` or `}` after a value")),
            Some(_) => return read_scalar(source_name, &scan.into_window()?),
        }
    }
    scan.at += 1;
    let end = scan.at;
    scan.expect_end()?;
    if page {
        return Ok(());
    }
    // No `issues` array: the whole object is still in the window.
    let text = scan.slice(start, end);
    let object: RawObject<'_> = serde_json::from_slice(text).map_err(|fault| {
        let position = scan.translate(start, fault.line() as u64, fault.column() as u64);
        Error::input(source_name, position, describe_fault(&fault))
    })?;
    match shape(&object) {
        Shape::Page => {
            for record in object.issues.unwrap_or_default() {
                let issue = issue_of_record(record)
                    .map_err(|why| Error::input(source_name, Position::Whole, why))?;
                (records.sink)(issue)?;
            }
            Ok(())
        }
        Shape::Issue => {
            let issue = issue_of_record(object)
                .map_err(|why| Error::input(source_name, Position::Whole, why))?;
            (records.sink)(issue)
        }
        Shape::ErrorBody => Err(error_body(source_name, &object)),
        Shape::Unknown => Err(not_jira(source_name, Position::Whole)),
    }
}

/// The records of one array being read, with what their errors must name.
struct Records<'s, 'k> {
    source_name: &'s str,
    layout: Layout,
    /// Records read so far in the document.
    index: u64,
    sink: &'k mut dyn FnMut(Issue) -> Result<()>,
}

impl Records<'_, '_> {
    /// Reads the elements of an array whose `[` is behind `scan`, through its `]`.
    fn read_array<R: std::io::Read>(&mut self, scan: &mut Scanner<R>) -> Result<()> {
        if scan.peek()? == Some(b']') {
            scan.at += 1;
            return Ok(());
        }
        loop {
            match scan.peek()? {
                None => return Err(scan.truncated()),
                Some(b']' | b',' | b'}' | b':') => return Err(scan.unexpected("a value")),
                Some(_) => {}
            }
            let end = self.next_record(scan)?;
            scan.at = end;
            scan.release();
            match scan.peek()? {
                None => return Err(scan.truncated()),
                Some(b',') => scan.at += 1,
                Some(b']') => {
                    scan.at += 1;
                    return Ok(());
                }
                Some(_) => return Err(scan.unexpected("`,` or `]` after an array element")),
            }
        }
    }

    /// Reads the element starting at `scan.at`, hands over its issues and returns where it
    /// ends.
    ///
    /// An object that lies whole in what has been read so far (nearly every record) is
    /// parsed in one pass, serde_json finding where it ends; otherwise, and whenever that
    /// pass fails, the scanner finds the end, reading more input, and the element is
    /// parsed from its own bytes, which is where faults are reported from.
    fn next_record<R: std::io::Read>(&mut self, scan: &mut Scanner<R>) -> Result<usize> {
        let start = scan.at;
        if scan.slice(start, start + 1) == b"{" {
            let mut stream =
                serde_json::Deserializer::from_slice(scan.rest(start)).into_iter::<RawObject<'_>>();
            if let Some(Ok(record)) = stream.next() {
                let end = start + stream.byte_offset();
                self.take_record(scan, start, record)?;
                return Ok(end);
            }
            // The element goes on past what has been read (which can look like a syntax
            // error too: `1.` cut before its digits), or it is malformed: its exact bytes,
            // below, tell which and word the fault as ever.
        }
        let end = scan.value_end()?.ok_or_else(|| scan.truncated())?;
        let record: RawObject<'_> = serde_json::from_slice(scan.slice(start, end))
            .map_err(|fault| self.parse_fault(scan, start, &fault))?;
        self.take_record(scan, start, record)?;
        Ok(end)
    }

    /// A serde_json fault in the element starting at `start`, placed in the whole input.
    fn parse_fault<R: std::io::Read>(
        &self,
        scan: &Scanner<R>,
        start: usize,
        fault: &serde_json::Error,
    ) -> Error {
        let position = scan.translate(start, fault.line() as u64, fault.column() as u64);
        Error::input(self.source_name, position, describe_fault(fault))
    }

    /// Hands over the issues of one parsed element starting at `start`.
    fn take_record<R: std::io::Read>(
        &mut self,
        scan: &Scanner<R>,
        start: usize,
        record: RawObject<'_>,
    ) -> Result<()> {
        self.index += 1;
        let (source_name, index) = (self.source_name, self.index);
        let fault_at = |message: String| {
            let (line, _) = scan.position_of(start);
            let position = Position::Record { record: index, line: Some(line) };
            Error::input(source_name, position, message)
        };
        match shape(&record) {
            Shape::Issue => (self.sink)(issue_of_record(record).map_err(fault_at)?),
            Shape::Page if self.layout == Layout::Array => {
                // An array of saved search pages: each page's issues, in order.
                for issue in record.issues.unwrap_or_default() {
                    (self.sink)(issue_of_record(issue).map_err(fault_at)?)?;
                }
                Ok(())
            }
            Shape::ErrorBody | Shape::Unknown | Shape::Page => {
                Err(fault_at(format!("found no issue here; {EXPECTED}")))
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::{read_search_answer, search_answer_by_record, stream_json, whole_search_answer};

    fn fixture(path: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/jira/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Real pages (Data Center with changelogs, Cloud v3 with documents, a Perceval
    /// capture, the ZooKeeper bugs as one page) read whole give what the record reader
    /// gives, issue for issue.
    #[test]
    fn a_page_read_whole_gives_what_reading_it_record_by_record_gives() {
        let zookeeper = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/zookeeper/ZOOKEEPER-bugs-part3-of-3.json"
        ))
        .expect("ZooKeeper example");
        let mut page = br#"{"startAt":0,"total":9000,"issues":"#.to_vec();
        page.extend_from_slice(&zookeeper);
        page.push(b'}');
        let pages = [
            fixture("sling_apache_server_v2/search_fixVersion_committer-cli-1.0.0.json"),
            fixture("airbyte_cloud_v3/issues_search_v3_adf.json"),
            fixture("perceval_fiware_server_v2/jira_issues_page_1.json"),
            page,
        ];
        for page in pages {
            let whole = whole_search_answer(&page).expect("a page read whole");
            let by_record = search_answer_by_record("page", &page).expect("a page");
            assert!(!whole.issues.is_empty());
            assert_eq!(whole.issues, by_record.issues);
            assert_eq!((whole.listed, whole.total), (by_record.listed, by_record.total));
            assert_eq!(whole.is_last, by_record.is_last);
            assert_eq!(whole.next_page_token, by_record.next_page_token);
        }
    }

    /// What the whole reading does not take goes to the record reader, which reads it or
    /// words its fault as it always has.
    #[test]
    fn pages_the_whole_reading_leaves_are_read_record_by_record() {
        let issue = r#"{"id":"7","key":"ZK-7","fields":{"summary":"s"}}"#;
        let with_bom = format!("\u{FEFF}{{\"issues\":[{issue}],\"total\":1}}");
        let mut bad_utf8 = format!(r#"{{"issues":[{issue}],"total":1}}"#).into_bytes();
        let at = bad_utf8.windows(3).position(|w| w == b"\"s\"").expect("summary") + 1;
        bad_utf8[at] = 0xff;
        let error_record = format!(r#"{{"issues":[{issue},{{"errorMessages":["no"]}}]}}"#);
        let wrong_total = format!(r#"{{"issues":[{issue}],"total":-1}}"#);
        for page in
            [with_bom.as_bytes(), &bad_utf8, error_record.as_bytes(), wrong_total.as_bytes()]
        {
            assert!(whole_search_answer(page).is_none());
        }
        // Shapes serde would take for a page but the record reader does not: an array of
        // the fields in order, keys written with escapes, a key given twice.
        let odd = [
            format!(r#"[[{issue}],5,true,"token"]"#),
            format!(r#"{{"iss\u0075es":[{issue}]}}"#),
            format!(r#"{{"issues":[{issue}],"tot\u0061l":5}}"#),
            format!(r#"{{"issues":[{issue}],"total":5,"total":6}}"#),
        ];
        for page in &odd {
            assert!(whole_search_answer(page.as_bytes()).is_none(), "{page}");
            let read = read_search_answer("p", page.as_bytes()).map(|a| (a.listed, a.total));
            let by_record =
                search_answer_by_record("p", page.as_bytes()).map(|a| (a.listed, a.total));
            assert_eq!(format!("{read:?}"), format!("{by_record:?}"), "{page}");
        }
        let read = read_search_answer("p", with_bom.as_bytes()).expect("a page after a BOM");
        assert_eq!((read.listed, read.total), (1, Some(1)));
        for (page, fault) in [
            (bad_utf8.as_slice(), "line 1"),
            (error_record.as_bytes(), "record 2"),
            (wrong_total.as_bytes(), "`total`"),
        ] {
            let error = read_search_answer("p", page).expect_err("refused").to_string();
            let same = search_answer_by_record("p", page).expect_err("refused").to_string();
            assert_eq!(error, same);
            assert!(error.contains(fault), "{error}");
        }
    }

    #[test]
    fn a_search_answer_gives_its_paging_keys_before_or_after_its_issues() {
        let issue = r#"{"id":"7","key":"ZK-7","fields":{"summary":"s","total":3}}"#;
        let data_center = format!(r#"{{"startAt":0,"total":40,"issues":[{issue},{issue}]}}"#);
        let answer = read_search_answer("dc", data_center.as_bytes()).unwrap();
        assert_eq!((answer.issues.len(), answer.listed, answer.total), (2, 2, Some(40)));
        assert_eq!((answer.is_last, answer.next_page_token), (None, None));

        let cloud = format!(r#"{{"issues":[{issue}],"nextPageToken":"a\"b","isLast":false}}"#);
        let answer = read_search_answer("cloud", cloud.as_bytes()).unwrap();
        assert_eq!((answer.listed, answer.total, answer.is_last), (1, None, Some(false)));
        assert_eq!(answer.next_page_token.as_deref(), Some("a\"b"));

        let empty = read_search_answer("empty", br#"{"issues":[],"isLast":true}"#).unwrap();
        assert_eq!((empty.listed, empty.is_last), (0, Some(true)));
    }

    #[test]
    fn a_search_answer_with_a_bad_paging_key_or_no_issues_is_refused() {
        let wrong_type = read_search_answer("p", br#"{"issues":[],"total":"many"}"#);
        let error = wrong_type.unwrap_err().to_string();
        assert!(error.contains("`total`"), "{error}");
        let issue_alone = br#"{"id":"7","key":"ZK-7","fields":{}}"#;
        let error = read_search_answer("p", issue_alone).unwrap_err().to_string();
        assert!(error.contains("not a search page"), "{error}");
        let error = read_search_answer("p", b"[]").unwrap_err().to_string();
        assert!(error.contains("not a search page"), "{error}");
    }

    /// Records of varied lengths, each ending in a decimal number, so that the reading
    /// window's edge falls inside records at every kind of place (`1.` cut from `1.25`
    /// among them): every record is still read, whole and in order.
    #[test]
    fn records_cut_by_the_reading_window_are_read_whole() {
        let count = 30_000;
        let mut text = String::from("[");
        for n in 0..count {
            let separator = if n == 0 { "" } else { ",\n" };
            let summary = "x".repeat(n % 37);
            text.push_str(&format!(
                "{separator}{{\"id\":\"{n}\",\"key\":\"ZK-{n}\",\"fields\":{{\"summary\":\"{summary}\",\"customfield_1\":{n}.25}}}}"
            ));
        }
        text.push(']');
        assert!(text.len() > 3 * 256 * 1024, "the text spans several windows");
        let mut seen = Vec::new();
        stream_json("cut.json", text.as_bytes(), &mut |issue| {
            seen.push((issue.id, issue.summary.len()));
            Ok(())
        })
        .expect("every record reads");
        let expected: Vec<_> = (0..count).map(|n| (Some(n as u64), n % 37)).collect();
        assert_eq!(seen, expected);
    }
}
