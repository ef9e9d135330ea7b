//! The issues as Arrow columns for pandas, built with the interpreter lock released.
//!
//! Each column is laid out in Rust exactly as Arrow keeps it in memory: little-endian
//! values, a validity bitmap (one bit per row, absent when every row has a value),
//! 64-bit offsets into one byte buffer for text. Repeated names (project, type, status,
//! priority …) become dictionary indices over the distinct names, lists of names become
//! list offsets over one text buffer. No Python object is made per issue: the buffers
//! leave as a handful of `bytes` objects that `bugdash._frames.issues_frame` wraps
//! without copying (`pyarrow.Array.from_buffers`) and hands to `Table.to_pandas()`.
//! The columns are built on several threads, one column per task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bugdash::model::{Issue, Text};
use bugdash::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

/// How one column is built from the issues.
type Builder = fn(&[Issue]) -> Column;

/// Every column of `Issues.to_pandas()`, in frame order.
const COLUMNS: [(&str, Builder); 20] = [
    ("id", |issues| int(issues, |i| i.id.map(|id| id as i64))),
    ("key", |issues| text(issues, |i| Some(&i.key))),
    ("project", |issues| dictionary(issues, |i| Some(i.project.as_str()))),
    ("type", |issues| dictionary(issues, |i| Some(i.issue_type.as_str()))),
    ("status", |issues| dictionary(issues, |i| Some(i.status.as_str()))),
    ("status_category", |issues| dictionary(issues, |i| Some(i.category().as_str()))),
    ("priority", |issues| dictionary(issues, |i| i.priority.as_deref())),
    ("resolution", |issues| dictionary(issues, |i| i.resolution.as_deref())),
    ("created", |issues| time(issues, |i| i.created)),
    ("updated", |issues| time(issues, |i| i.updated)),
    ("resolved", |issues| time(issues, |i| i.resolved)),
    ("components", |issues| list(issues, |i| &i.components)),
    ("labels", |issues| list(issues, |i| &i.labels)),
    ("fix_versions", |issues| list(issues, |i| &i.fix_versions)),
    ("affects_versions", |issues| list(issues, |i| &i.affects_versions)),
    ("environment", |issues| dictionary(issues, |i| i.environment.as_deref())),
    ("assignee", |issues| dictionary(issues, |i| i.assignee.as_deref())),
    ("reporter", |issues| dictionary(issues, |i| i.reporter.as_deref())),
    ("summary", |issues| text(issues, |i| Some(&i.summary))),
    ("reopen_count", |issues| int(issues, |i| i.reopen_count.map(i64::from))),
];

/// One column in Arrow's layout; every buffer is little-endian bytes.
enum Column {
    /// int64 values.
    Int { values: Vec<u8>, validity: Option<Vec<u8>> },
    /// Milliseconds since the epoch, UTC.
    Time { millis: Vec<u8>, validity: Option<Vec<u8>> },
    /// int32 indices into the distinct names.
    Dictionary { indices: Vec<u8>, validity: Option<Vec<u8>>, names: Strings },
    /// One string per row.
    Text { strings: Strings, validity: Option<Vec<u8>> },
    /// int64 offsets of each row's names in `values`.
    List { offsets: Vec<u8>, values: Strings },
}

/// Strings end to end in one buffer with int64 offsets (Arrow's `large_string`).
struct Strings {
    offsets: Vec<u8>,
    data: Vec<u8>,
    count: usize,
}

impl Strings {
    fn with_capacity(count: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity((count + 1) * 8);
        offsets.extend_from_slice(&0_i64.to_le_bytes());
        Strings { offsets, data: Vec::with_capacity(bytes), count: 0 }
    }

    fn push(&mut self, text: &str) {
        self.data.extend_from_slice(text.as_bytes());
        self.offsets.extend_from_slice(&(self.data.len() as i64).to_le_bytes());
        self.count += 1;
    }
}

/// A validity bitmap under construction; bit set means the row has a value.
struct Validity {
    bits: Vec<u8>,
    rows: usize,
    nulls: usize,
}

impl Validity {
    fn with_capacity(rows: usize) -> Self {
        Validity { bits: Vec::with_capacity(rows.div_ceil(8)), rows: 0, nulls: 0 }
    }

    fn push(&mut self, present: bool) {
        if self.rows % 8 == 0 {
            self.bits.push(0);
        }
        if present {
            *self.bits.last_mut().expect("a byte was pushed") |= 1 << (self.rows % 8);
        } else {
            self.nulls += 1;
        }
        self.rows += 1;
    }

    /// The bitmap, or None when no row is null (Arrow's cheaper form).
    fn finish(self) -> Option<Vec<u8>> {
        (self.nulls > 0).then_some(self.bits)
    }
}

/// The columns of `Issues.to_pandas()` as a dict from column name to a tagged tuple of
/// buffers (`bugdash._frames` documents the tags); the buffers are built with the
/// interpreter lock released.
pub fn issue_columns<'py>(py: Python<'py>, issues: &[Issue]) -> PyResult<Bound<'py, PyDict>> {
    let built = py.detach(|| build_all(issues));
    let rows = issues.len();
    let columns = PyDict::new(py);
    for ((name, _), column) in COLUMNS.iter().zip(built) {
        columns.set_item(*name, column_tuple(py, rows, column)?)?;
    }
    Ok(columns)
}

/// Builds every column, one column per task, on up to four threads.
fn build_all(issues: &[Issue]) -> Vec<Column> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Column>>> = Mutex::new(COLUMNS.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, build)) = COLUMNS.get(at) else { break };
                let column = build(issues);
                done.lock().expect("a column builder panicked")[at] = Some(column);
            });
        }
    });
    let done = done.into_inner().expect("a column builder panicked");
    done.into_iter().map(|column| column.expect("every column was built")).collect()
}

/// `(tag, rows, buffers …)` for `bugdash._frames`; `None` stands for an absent bitmap.
fn column_tuple<'py>(
    py: Python<'py>,
    rows: usize,
    column: Column,
) -> PyResult<Bound<'py, PyTuple>> {
    let bytes = |buffer: &[u8]| PyBytes::new(py, buffer).into_any();
    let optional = |buffer: Option<Vec<u8>>| match buffer {
        Some(buffer) => bytes(&buffer),
        None => py.None().into_bound(py),
    };
    let items: Vec<Bound<'py, PyAny>> = match column {
        Column::Int { values, validity } => {
            vec![tag(py, "int"), rows_of(py, rows)?, optional(validity), bytes(&values)]
        }
        Column::Time { millis, validity } => {
            vec![tag(py, "time"), rows_of(py, rows)?, optional(validity), bytes(&millis)]
        }
        Column::Dictionary { indices, validity, names } => vec![
            tag(py, "dictionary"),
            rows_of(py, rows)?,
            optional(validity),
            bytes(&indices),
            rows_of(py, names.count)?,
            bytes(&names.offsets),
            bytes(&names.data),
        ],
        Column::Text { strings, validity } => vec![
            tag(py, "text"),
            rows_of(py, rows)?,
            optional(validity),
            bytes(&strings.offsets),
            bytes(&strings.data),
        ],
        Column::List { offsets, values } => vec![
            tag(py, "list"),
            rows_of(py, rows)?,
            bytes(&offsets),
            rows_of(py, values.count)?,
            bytes(&values.offsets),
            bytes(&values.data),
        ],
    };
    PyTuple::new(py, items)
}

fn tag<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyAny> {
    pyo3::types::PyString::new(py, name).into_any()
}

fn rows_of(py: Python<'_>, rows: usize) -> PyResult<Bound<'_, PyAny>> {
    Ok(rows.into_pyobject(py)?.into_any())
}

fn int(issues: &[Issue], field: fn(&Issue) -> Option<i64>) -> Column {
    let mut values = Vec::with_capacity(issues.len() * 8);
    let mut validity = Validity::with_capacity(issues.len());
    for issue in issues {
        let value = field(issue);
        values.extend_from_slice(&value.unwrap_or(0).to_le_bytes());
        validity.push(value.is_some());
    }
    Column::Int { values, validity: validity.finish() }
}

fn time(issues: &[Issue], field: fn(&Issue) -> Option<Timestamp>) -> Column {
    let mut millis = Vec::with_capacity(issues.len() * 8);
    let mut validity = Validity::with_capacity(issues.len());
    for issue in issues {
        let value = field(issue);
        millis.extend_from_slice(&value.map_or(0, Timestamp::millis).to_le_bytes());
        validity.push(value.is_some());
    }
    Column::Time { millis, validity: validity.finish() }
}

/// Indices over the distinct names, numbered in order of first appearance.
fn dictionary<'a>(issues: &'a [Issue], field: fn(&'a Issue) -> Option<&'a str>) -> Column {
    let mut index_of: HashMap<&'a str, i32> = HashMap::new();
    let mut names = Strings::with_capacity(16, 256);
    let mut indices = Vec::with_capacity(issues.len() * 4);
    let mut validity = Validity::with_capacity(issues.len());
    // Neighbouring issues mostly share a value (one project, a few types and statuses):
    // comparing with the previous one first skips most hash lookups.
    let mut previous: Option<(&'a str, i32)> = None;
    for issue in issues {
        let value = field(issue);
        let index = match (value, previous) {
            (None, _) => 0,
            (Some(name), Some((last, index))) if name == last => index,
            (Some(name), _) => {
                let index = *index_of.entry(name).or_insert_with(|| {
                    names.push(name);
                    (names.count - 1) as i32
                });
                previous = Some((name, index));
                index
            }
        };
        indices.extend_from_slice(&index.to_le_bytes());
        validity.push(value.is_some());
    }
    Column::Dictionary { indices, validity: validity.finish(), names }
}

/// One string per issue, for text that is mostly unique (keys, summaries).
fn text<'a>(issues: &'a [Issue], field: fn(&'a Issue) -> Option<&'a Text>) -> Column {
    let bytes = issues.iter().filter_map(field).map(|t| t.len()).sum();
    let mut strings = Strings::with_capacity(issues.len(), bytes);
    let mut validity = Validity::with_capacity(issues.len());
    for issue in issues {
        let value = field(issue);
        strings.push(value.map_or("", |t| t.as_str()));
        validity.push(value.is_some());
    }
    Column::Text { strings, validity: validity.finish() }
}

/// A list of names per issue; an issue without any has an empty list.
fn list<'a>(issues: &'a [Issue], field: fn(&'a Issue) -> &'a [Text]) -> Column {
    let (count, bytes) = issues
        .iter()
        .flat_map(field)
        .fold((0, 0), |(count, bytes), name| (count + 1, bytes + name.len()));
    let mut values = Strings::with_capacity(count, bytes);
    let mut offsets = Vec::with_capacity((issues.len() + 1) * 8);
    offsets.extend_from_slice(&0_i64.to_le_bytes());
    for issue in issues {
        for name in field(issue) {
            values.push(name);
        }
        offsets.extend_from_slice(&(values.count as i64).to_le_bytes());
    }
    Column::List { offsets, values }
}
