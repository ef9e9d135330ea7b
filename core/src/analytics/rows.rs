//! Usage events encoded for the store: one JSON array that both backends unpack in a single
//! statement.
//!
//! The recorder encodes each event into the batch it is filling as the event is recorded,
//! so that the buffer holds bytes rather than events with a dozen owned strings each: the
//! writer task frees nothing the request threads allocated, and it hands the database one
//! parameter per batch instead of twelve per event (SQLite's per-event cost of binding,
//! measured by `benches/examples/events_write.rs`, was most of its cost of writing).
//!
//! A row is `[occurred_at_ms, account_id, session_id, department, action, project, filters,
//! method, endpoint, status, latency_ms, client_addr]`, absent values as `null`; `filters` is
//! the JSON value itself, every other field a number or a string (a `filters` of JSON
//! `null` is stored as no filters, and a latency that is not a finite number as none). A
//! NUL character, which
//! PostgreSQL cannot hold in text or JSON, becomes U+FFFD, so that one hostile request path
//! cannot get a whole batch refused.

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::Event;
use crate::model::Timestamp;

/// A batch of events as a JSON array of rows (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRows {
    /// Always a complete JSON array: `[]`, or `[` rows separated by `,` `]`.
    json: String,
    count: usize,
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
        EventRows::with_capacity(0)
    }

    /// No events, with room for about `bytes` bytes of rows.
    pub fn with_capacity(bytes: usize) -> EventRows {
        let mut json = String::with_capacity(bytes.max(2));
        json.push_str("[]");
        EventRows { json, count: 0, months: Vec::new(), last_month: 0..0 }
    }

    /// The rows of `events`, in order.
    pub fn from_events(events: &[Event]) -> EventRows {
        let mut rows = EventRows::with_capacity(events.len() * 160);
        for event in events {
            rows.push(event);
        }
        rows
    }

    /// Adds `event` as the last row.
    pub fn push(&mut self, event: &Event) {
        let json = &mut self.json;
        json.pop(); // the closing bracket
        if self.count > 0 {
            json.push(',');
        }
        json.push('[');
        push_int(json, event.at.millis());
        json.push(',');
        push_opt_int(json, event.account_id);
        json.push(',');
        push_opt_int(json, event.session_id);
        json.push(',');
        push_opt_str(json, event.department.as_deref());
        json.push(',');
        push_str(json, event.action.as_str());
        json.push(',');
        push_opt_str(json, event.project.as_deref());
        json.push(',');
        match &event.filters {
            Some(filters) => push_value(json, filters),
            None => json.push_str("null"),
        }
        json.push(',');
        push_opt_str(json, event.method.as_deref());
        json.push(',');
        push_opt_str(json, event.endpoint.as_deref());
        json.push(',');
        push_opt_int(json, event.status.map(i64::from));
        json.push(',');
        match event.latency_ms {
            Some(ms) => push_float(json, ms),
            None => json.push_str("null"),
        }
        json.push(',');
        push_opt_str(json, event.client_addr.as_deref());
        json.push_str("]]");
        self.count += 1;
        self.note_month(event.at);
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
        self.count
    }

    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The rows as one JSON array.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The first day of each month (UTC) some event falls in, in order of first appearance.
    pub fn months(&self) -> &[NaiveDate] {
        &self.months
    }

    /// Bytes of memory the rows hold, used or not.
    pub fn capacity(&self) -> usize {
        self.json.capacity()
    }

    /// Removes every event and keeps the memory, for the next batch.
    pub fn clear(&mut self) {
        self.json.clear();
        self.json.push_str("[]");
        self.count = 0;
        self.months.clear();
        self.last_month = 0..0;
    }
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

/// A finite number as the shortest text that reads back the same; JSON has no NaN or
/// infinity, so those are `null`.
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

        let parsed: serde_json::Value = serde_json::from_str(rows.json()).expect("valid JSON");
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
        assert_eq!(rows.json(), "[]");
        rows.push(&event(0));
        rows.clear();

        assert_eq!((rows.json(), rows.len(), rows.months().len()), ("[]", 0, 0));
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
