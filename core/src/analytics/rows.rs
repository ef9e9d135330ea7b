//! Usage events buffered for the store: fixed-size rows whose text lives in one shared
//! string, so that recording an event allocates nothing of its own.
//!
//! The recorder copies each event, as it is recorded, into the batch it is filling: the
//! numbers into a [`Row`], every text into the batch's one `text` buffer, the row keeping
//! where. The writer task frees nothing the request threads allocated (emptied batches
//! are reused), and each backend reads the rows back without parsing them: SQLite binds
//! every field of a row to a prepared insert, PostgreSQL receives the batch as one JSON
//! array ([`EventRows::to_json`], built on the writer's thread).
//! Counted with callgrind (`BUGDASH_BENCH_SERVE=requests`, docs/performance.md), SQLite
//! unpacking a JSON array with `jsonb_each` and `->>` cost more than the rest of the
//! recording together.
//!
//! A `filters` value is kept as its JSON text (`null` counts as no filters); a latency
//! that is not a finite number as none. A NUL character, which PostgreSQL cannot hold in
//! text or JSON, becomes U+FFFD in every text, so that one hostile request path cannot get
//! a whole batch refused.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::{Action, Event};
use crate::model::Timestamp;

/// The filters of an event being recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FiltersRef<'a> {
    /// None applied.
    None,
    /// A JSON value, as given (`null` counts as none).
    Value(&'a serde_json::Value),
    /// Names, stored as a JSON array of strings (none when empty).
    Names(&'a [Cow<'a, str>]),
}

/// An event being recorded, borrowing its texts: what [`EventRows::push_ref`] copies. A
/// request builds one from what it has at hand without allocating; [`Event::as_ref`]
/// gives one of an owned event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRef<'a> {
    /// When it happened.
    pub at: Timestamp,
    /// The account, when signed in.
    pub account_id: Option<i64>,
    /// The session, when signed in.
    pub session_id: Option<i64>,
    /// The account's department at the time.
    pub department: Option<&'a str>,
    /// What was done.
    pub action: Action,
    /// The project it concerned.
    pub project: Option<&'a str>,
    /// Filters applied.
    pub filters: FiltersRef<'a>,
    /// HTTP method, for requests.
    pub method: Option<&'a str>,
    /// Route template, never the raw path.
    pub endpoint: Option<&'a str>,
    /// HTTP status answered.
    pub status: Option<u16>,
    /// Time to answer, in milliseconds.
    pub latency_ms: Option<f64>,
    /// Client address.
    pub client_addr: Option<&'a str>,
}

impl Event {
    /// The event borrowed, as [`EventRows::push_ref`] takes it.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            at: self.at,
            account_id: self.account_id,
            session_id: self.session_id,
            department: self.department.as_deref(),
            action: self.action,
            project: self.project.as_deref(),
            filters: self.filters.as_ref().map_or(FiltersRef::None, FiltersRef::Value),
            method: self.method.as_deref(),
            endpoint: self.endpoint.as_deref(),
            status: self.status,
            latency_ms: self.latency_ms,
            client_addr: self.client_addr.as_deref(),
        }
    }
}

/// Where one text of a row lies in the batch's `text`: `start..end`; `None` for no text.
type Span = Option<(usize, usize)>;

/// One event of a batch; its texts are spans of the batch's `text`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    at: i64,
    account_id: Option<i64>,
    session_id: Option<i64>,
    latency_ms: Option<f64>,
    status: Option<u16>,
    action: Action,
    department: Span,
    project: Span,
    filters: Span,
    method: Span,
    endpoint: Span,
    client_addr: Span,
}

/// One stored event as a backend reads it from a batch (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRef<'a> {
    /// When it happened, epoch milliseconds.
    pub at: i64,
    /// The account.
    pub account_id: Option<i64>,
    /// The session.
    pub session_id: Option<i64>,
    /// The department.
    pub department: Option<&'a str>,
    /// What was done.
    pub action: Action,
    /// The project.
    pub project: Option<&'a str>,
    /// The filters as JSON text.
    pub filters: Option<&'a str>,
    /// HTTP method.
    pub method: Option<&'a str>,
    /// Route template.
    pub endpoint: Option<&'a str>,
    /// HTTP status.
    pub status: Option<u16>,
    /// Latency in milliseconds, a finite number.
    pub latency_ms: Option<f64>,
    /// Client address.
    pub client_addr: Option<&'a str>,
}

/// A batch of events (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRows {
    rows: Vec<Row>,
    /// Every text of every row, one after the other.
    text: String,
    /// The first day of every month an event falls in, in order of first appearance.
    months: Vec<NaiveDate>,
    /// The instants (ms) of the month last added to `months`, to skip the date arithmetic
    /// for the next event of the same month.
    last_month: std::ops::Range<i64>,
}

impl Default for EventRows {
    fn default() -> Self {
        EventRows::new()
    }
}

impl EventRows {
    /// No events.
    pub fn new() -> EventRows {
        EventRows { rows: Vec::new(), text: String::new(), months: Vec::new(), last_month: 0..0 }
    }

    /// The rows of `events`, in order.
    pub fn from_events(events: &[Event]) -> EventRows {
        let mut rows = EventRows::new();
        for event in events {
            rows.push(event);
        }
        rows
    }

    /// Adds `event` as the last row.
    pub fn push(&mut self, event: &Event) {
        self.push_ref(&event.as_ref());
    }

    /// Adds `event` as the last row, copying its texts.
    pub fn push_ref(&mut self, event: &EventRef<'_>) {
        let text = &mut self.text;
        let filters = match event.filters {
            FiltersRef::None | FiltersRef::Value(serde_json::Value::Null) => None,
            FiltersRef::Names([]) => None,
            FiltersRef::Value(value) => Some(span(text, |text| push_value(text, value))),
            FiltersRef::Names(names) => Some(span(text, |text| {
                text.push('[');
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    push_str(text, name);
                }
                text.push(']');
            })),
        };
        let row = Row {
            at: event.at.millis(),
            account_id: event.account_id,
            session_id: event.session_id,
            latency_ms: event.latency_ms.filter(|ms| ms.is_finite()),
            status: event.status,
            action: event.action,
            department: plain(text, event.department),
            project: plain(text, event.project),
            filters,
            method: plain(text, event.method),
            endpoint: plain(text, event.endpoint),
            client_addr: plain(text, event.client_addr),
        };
        self.rows.push(row);
        self.note_month(event.at);
    }

    /// The events, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RowRef<'_>> + '_ {
        let text = |span: Span| span.map(|(start, end)| &self.text[start..end]);
        self.rows.iter().map(move |row| RowRef {
            at: row.at,
            account_id: row.account_id,
            session_id: row.session_id,
            department: text(row.department),
            action: row.action,
            project: text(row.project),
            filters: text(row.filters),
            method: text(row.method),
            endpoint: text(row.endpoint),
            status: row.status,
            latency_ms: row.latency_ms,
            client_addr: text(row.client_addr),
        })
    }

    /// The events as one JSON array of rows `[occurred_at_ms, account_id, session_id,
    /// department, action, project, filters, method, endpoint, status, latency_ms,
    /// client_addr]`, absent values as `null` and `filters` as the JSON value itself.
    pub fn to_json(&self) -> String {
        let mut json = String::with_capacity(self.text.len() * 2 + self.rows.len() * 64 + 2);
        json.push('[');
        for (i, row) in self.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push('[');
            push_int(&mut json, row.at);
            json.push(',');
            push_opt_int(&mut json, row.account_id);
            json.push(',');
            push_opt_int(&mut json, row.session_id);
            json.push(',');
            push_opt_str(&mut json, row.department);
            json.push(',');
            push_str(&mut json, row.action.as_str());
            json.push(',');
            push_opt_str(&mut json, row.project);
            json.push(',');
            // Valid JSON already: written by `push_value` or as an array of strings.
            json.push_str(row.filters.unwrap_or("null"));
            json.push(',');
            push_opt_str(&mut json, row.method);
            json.push(',');
            push_opt_str(&mut json, row.endpoint);
            json.push(',');
            push_opt_int(&mut json, row.status.map(i64::from));
            json.push(',');
            match row.latency_ms {
                Some(ms) => push_float(&mut json, ms),
                None => json.push_str("null"),
            }
            json.push(',');
            push_opt_str(&mut json, row.client_addr);
            json.push(']');
        }
        json.push(']');
        json
    }

    fn note_month(&mut self, at: Timestamp) {
        let millis = at.millis();
        if self.last_month.contains(&millis) {
            return;
        }
        let day = at.date();
        let first = day.with_day(1).unwrap_or(day);
        let next = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
        };
        let start_of = |date: NaiveDate| {
            Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp_millis()
        };
        self.last_month = start_of(first)..next.map_or(i64::MAX, start_of);
        if !self.months.contains(&first) {
            self.months.push(first);
        }
    }

    /// Events held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The first day of each month (UTC) some event falls in, in order of first appearance.
    pub fn months(&self) -> &[NaiveDate] {
        &self.months
    }

    /// Bytes of memory the rows hold, used or not.
    pub fn capacity(&self) -> usize {
        self.text.capacity() + self.rows.capacity() * std::mem::size_of::<Row>()
    }

    /// Removes every event and keeps the memory, for the next batch.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.text.clear();
        self.months.clear();
        self.last_month = 0..0;
    }
}

/// The span of what `write` appends to `text`.
fn span(text: &mut String, write: impl FnOnce(&mut String)) -> (usize, usize) {
    let start = text.len();
    write(text);
    (start, text.len())
}

/// Appends `value` as it is, NUL as U+FFFD; its span, or `None` for no text.
fn plain(text: &mut String, value: Option<&str>) -> Span {
    let value = value?;
    Some(span(text, |text| {
        if !value.as_bytes().contains(&0) {
            text.push_str(value);
            return;
        }
        let mut pieces = value.split('\0');
        text.push_str(pieces.next().unwrap_or_default());
        for piece in pieces {
            text.push('\u{FFFD}');
            text.push_str(piece);
        }
    }))
}

fn push_int(json: &mut String, value: i64) {
    json.push_str(itoa::Buffer::new().format(value));
}

fn push_opt_int(json: &mut String, value: Option<i64>) {
    match value {
        Some(value) => push_int(json, value),
        None => json.push_str("null"),
    }
}

/// A number as the shortest text that reads back the same. Rows hold finite latencies
/// only; JSON has no NaN or infinity, so this writes `null` for them all the same.
fn push_float(json: &mut String, value: f64) {
    if value.is_finite() {
        json.push_str(ryu::Buffer::new().format_finite(value));
    } else {
        json.push_str("null");
    }
}

fn push_opt_str(json: &mut String, value: Option<&str>) {
    match value {
        Some(value) => push_str(json, value),
        None => json.push_str("null"),
    }
}

/// `text` as a JSON string, NUL as U+FFFD (see the module documentation).
fn push_str(json: &mut String, text: &str) {
    json.push('"');
    let mut plain = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0 => "\u{FFFD}",
            0x01..=0x1f => "",
            _ => continue,
        };
        json.push_str(&text[plain..at]);
        if escape.is_empty() {
            json.push_str("\\u00");
            json.push(char::from(HEX[usize::from(byte >> 4)]));
            json.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            json.push_str(escape);
        }
        plain = at + 1;
    }
    json.push_str(&text[plain..]);
    json.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_value(json: &mut String, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => json.push_str("null"),
        Value::Bool(true) => json.push_str("true"),
        Value::Bool(false) => json.push_str("false"),
        // A serde_json number is always valid JSON as it prints.
        Value::Number(number) => json.push_str(&number.to_string()),
        Value::String(text) => push_str(json, text),
        Value::Array(items) => {
            json.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                push_value(json, item);
            }
            json.push(']');
        }
        Value::Object(fields) => {
            json.push('{');
            for (i, (name, item)) in fields.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                push_str(json, name);
                json.push(':');
                push_value(json, item);
            }
            json.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::Action;

    fn event(at: i64) -> Event {
        Event {
            account_id: Some(7),
            department: Some("Plat\"form\\\n\u{1}\0é".into()),
            filters: Some(serde_json::json!(["window", {"a\tb": 1.5}])),
            status: Some(200),
            latency_ms: Some(0.1),
            ..Event::new(Action::AnalyzeProject, Timestamp::from_millis(at))
        }
    }

    #[test]
    fn rows_are_a_json_array_of_the_fields_in_column_order() {
        let rows = EventRows::from_events(&[event(1_764_000_000_000), event(5)]);

        let parsed: serde_json::Value = serde_json::from_str(&rows.to_json()).expect("valid JSON");
        let first = &parsed[0];
        assert_eq!(parsed.as_array().map(Vec::len), Some(2));
        assert_eq!(first[0], 1_764_000_000_000i64);
        assert_eq!(first[1], 7);
        assert_eq!(first[2], serde_json::Value::Null);
        assert_eq!(first[3], "Plat\"form\\\n\u{1}\u{FFFD}é");
        assert_eq!(first[4], "analyze_project");
        assert_eq!(first[6], serde_json::json!(["window", {"a\tb": 1.5}]));
        assert_eq!((first[9].clone(), first[10].clone()), (200.into(), 0.1.into()));
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn no_events_is_an_empty_array_and_clearing_returns_to_it() {
        let mut rows = EventRows::new();
        assert_eq!(rows.to_json(), "[]");
        rows.push(&event(0));
        rows.clear();

        assert_eq!((rows.to_json().as_str(), rows.len(), rows.months().len()), ("[]", 0, 0));
        assert_eq!(rows.iter().count(), 0);
    }

    #[test]
    fn rows_read_back_the_texts_as_recorded_with_nul_replaced() {
        let names = [Cow::Borrowed("window"), Cow::Owned("a\"b".to_owned())];
        let base = event(3);
        let recorded = EventRef {
            project: Some("ZK\0"),
            filters: FiltersRef::Names(&names),
            endpoint: Some("/api/projects/{key}/analysis"),
            latency_ms: Some(f64::NAN),
            ..base.as_ref()
        };
        let mut rows = EventRows::new();
        rows.push_ref(&recorded);
        rows.push_ref(&EventRef { filters: FiltersRef::Names(&[]), ..recorded });

        let read: Vec<RowRef<'_>> = rows.iter().collect();
        let first = read[0];
        assert_eq!(first.department, Some("Plat\"form\\\n\u{1}\u{FFFD}é"));
        assert_eq!(first.project, Some("ZK\u{FFFD}"));
        assert_eq!(first.filters, Some(r#"["window","a\"b"]"#));
        assert_eq!((first.session_id, first.method, first.latency_ms), (None, None, None));
        assert_eq!((first.at, first.account_id, first.status), (3, Some(7), Some(200)));
        assert_eq!(read[1].filters, None, "no names is no filters");
        let null = serde_json::Value::Null;
        rows.push_ref(&EventRef { filters: FiltersRef::Value(&null), ..recorded });
        assert_eq!(rows.iter().nth(2).map(|row| row.filters), Some(None), "null is no filters");
    }

    #[test]
    fn the_months_of_the_events_are_listed_once_each() {
        let day = 86_400_000;
        let jan_31 = 1_738_281_600_000; // 2025-01-31T00:00:00Z
        let times = [jan_31, jan_31 + day, jan_31 + day - 1, jan_31 + 2 * day, 0];
        let events: Vec<Event> = times.into_iter().map(event).collect();

        let rows = EventRows::from_events(&events);

        let months: Vec<String> = rows.months().iter().map(ToString::to_string).collect();
        assert_eq!(months, ["2025-01-01", "2025-02-01", "1970-01-01"]);
    }
}
