//! The issues as Arrow columns for pandas, built with the interpreter lock released.
//!
//! Each column is laid out in Rust exactly as Arrow keeps it in memory: little-endian
//! values, a validity bitmap (one bit per row, absent when every row has a value),
//! 64-bit offsets into one byte buffer for text. Repeated names (project, type, status,
//! priority …) become dictionary indices over the distinct names, lists of names become
//! list offsets over one text buffer. No Python object is made per issue: the buffers
//! leave as a handful of `bytes` objects that `bugdash._frames.issues_frame` wraps
//! without copying (`pyarrow.Array.from_buffers`) and hands to `Table.to_pandas()`.
//! The columns are built on several threads, each walking the issues once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bugdash::model::{Issue, Text as ArcText};
use bugdash::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

/// Every column of `Issues.to_pandas()`, in frame order, as the builder that makes it.
fn builders() -> Vec<Builder> {
    use Builder::{Dictionary, Int, List, Text, Time, UInt};
    vec![
        UInt(|i| i.id, Ints::default()),
        Text(|i| Some(&i.key), Strings::default(), Validity::default()),
        Dictionary(|i| Some(i.project.as_str()), Names::default()),
        Dictionary(|i| Some(i.issue_type.as_str()), Names::default()),
        Dictionary(|i| Some(i.status.as_str()), Names::default()),
        Dictionary(|i| Some(i.category().as_str()), Names::default()),
        Dictionary(|i| i.priority.as_deref(), Names::default()),
        Dictionary(|i| i.resolution.as_deref(), Names::default()),
        Time(|i| i.created, Ints::default()),
        Time(|i| i.updated, Ints::default()),
        Time(|i| i.resolved, Ints::default()),
        List(|i| &i.components, list_offsets(), Strings::default()),
        List(|i| &i.labels, list_offsets(), Strings::default()),
        List(|i| &i.fix_versions, list_offsets(), Strings::default()),
        List(|i| &i.affects_versions, list_offsets(), Strings::default()),
        Dictionary(|i| i.environment.as_deref(), Names::default()),
        Dictionary(|i| i.assignee.as_deref(), Names::default()),
        Dictionary(|i| i.reporter.as_deref(), Names::default()),
        Text(|i| Some(&i.summary), Strings::default(), Validity::default()),
        Int(|i| i.reopen_count.map(i64::from), Ints::default()),
    ]
}

/// List offsets before the first row.
fn list_offsets() -> Vec<u8> {
    0_i64.to_le_bytes().to_vec()
}

/// The column names, in the order of [`builders`].
const NAMES: [&str; 20] = [
    "id",
    "key",
    "project",
    "type",
    "status",
    "status_category",
    "priority",
    "resolution",
    "created",
    "updated",
    "resolved",
    "components",
    "labels",
    "fix_versions",
    "affects_versions",
    "environment",
    "assignee",
    "reporter",
    "summary",
    "reopen_count",
];

/// A column under construction: the field it reads and what it has gathered so far.
enum Builder {
    Int(fn(&Issue) -> Option<i64>, Ints),
    /// JIRA ids are unsigned: kept whole above `i64::MAX`.
    UInt(fn(&Issue) -> Option<u64>, Ints),
    Time(fn(&Issue) -> Option<Timestamp>, Ints),
    Dictionary(for<'a> fn(&'a Issue) -> Option<&'a str>, Names),
    Text(for<'a> fn(&'a Issue) -> Option<&'a ArcText>, Strings, Validity),
    List(for<'a> fn(&'a Issue) -> &'a [ArcText], Vec<u8>, Strings),
}

impl Builder {
    fn push(&mut self, issue: &Issue) {
        match self {
            Builder::Int(field, ints) => ints.push(field(issue)),
            Builder::UInt(field, ints) => ints.push_bytes(field(issue).map(u64::to_le_bytes)),
            Builder::Time(field, ints) => ints.push(field(issue).map(Timestamp::millis)),
            Builder::Dictionary(field, names) => names.push(field(issue)),
            Builder::Text(field, strings, validity) => {
                let value = field(issue);
                strings.push(value.map_or("", |t| t.as_str()));
                validity.push(value.is_some());
            }
            Builder::List(field, offsets, values) => {
                for name in field(issue) {
                    values.push(name);
                }
                offsets.extend_from_slice(&(values.count as i64).to_le_bytes());
            }
        }
    }

    fn finish(self) -> Column {
        match self {
            Builder::Int(_, ints) => {
                Column::Int { values: ints.values, validity: ints.validity.finish() }
            }
            Builder::UInt(_, ints) => {
                Column::UInt { values: ints.values, validity: ints.validity.finish() }
            }
            Builder::Time(_, ints) => {
                Column::Time { millis: ints.values, validity: ints.validity.finish() }
            }
            Builder::Dictionary(_, names) => Column::Dictionary {
                indices: names.indices,
                validity: names.validity.finish(),
                names: names.names,
            },
            Builder::Text(_, strings, validity) => {
                Column::Text { strings, validity: validity.finish() }
            }
            Builder::List(_, offsets, values) => Column::List { offsets, values },
        }
    }
}

/// int64 values with their validity.
#[derive(Default)]
struct Ints {
    values: Vec<u8>,
    validity: Validity,
}

impl Ints {
    fn push(&mut self, value: Option<i64>) {
        self.push_bytes(value.map(i64::to_le_bytes));
    }

    /// A value already in its eight little-endian bytes (signed or not).
    fn push_bytes(&mut self, value: Option<[u8; 8]>) {
        self.values.extend_from_slice(&value.unwrap_or([0; 8]));
        self.validity.push(value.is_some());
    }
}

/// Dictionary indices over the distinct names, numbered in order of first appearance.
#[derive(Default)]
struct Names {
    index_of: HashMap<Box<str>, i32, BuildHasherDefault<ShortNameHasher>>,
    names: Strings,
    indices: Vec<u8>,
    validity: Validity,
    /// The previous row's name and index: neighbouring issues mostly share a value (one
    /// project, a few types and statuses), so comparing with it skips most lookups.
    previous: Option<(usize, usize, i32)>,
}

impl Names {
    fn push(&mut self, value: Option<&str>) {
        let index = match value {
            None => 0,
            Some(name) => self.index(name),
        };
        self.indices.extend_from_slice(&index.to_le_bytes());
        self.validity.push(value.is_some());
    }

    fn index(&mut self, name: &str) -> i32 {
        if let Some((start, end, index)) = self.previous {
            if &self.names.data[start..end] == name.as_bytes() {
                return index;
            }
        }
        let index = match self.index_of.get(name) {
            Some(&index) => index,
            None => {
                self.names.push(name);
                let index = (self.names.count - 1) as i32;
                self.index_of.insert(name.into(), index);
                index
            }
        };
        let end = self.names.offset(index as usize + 1);
        self.previous = Some((self.names.offset(index as usize), end, index));
        index
    }
}

/// FxHash-style multiply-rotate hashing: names are short and come from our own data,
/// so the flooding resistance of the standard hasher buys nothing and costs most of
/// the lookup.
#[derive(Default)]
struct ShortNameHasher(u64);

impl Hasher for ShortNameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0_u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// One column in Arrow's layout; every buffer is little-endian bytes.
enum Column {
    /// int64 values.
    Int { values: Vec<u8>, validity: Option<Vec<u8>> },
    /// uint64 values.
    UInt { values: Vec<u8>, validity: Option<Vec<u8>> },
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

impl Default for Strings {
    fn default() -> Self {
        Strings { offsets: 0_i64.to_le_bytes().to_vec(), data: Vec::new(), count: 0 }
    }
}

impl Strings {
    /// Where string `at` starts in `data` (`count` gives the end of the last one).
    fn offset(&self, at: usize) -> usize {
        let bytes = self.offsets[at * 8..at * 8 + 8].try_into().expect("eight bytes");
        i64::from_le_bytes(bytes) as usize
    }

    fn push(&mut self, text: &str) {
        self.data.extend_from_slice(text.as_bytes());
        self.offsets.extend_from_slice(&(self.data.len() as i64).to_le_bytes());
        self.count += 1;
    }
}

/// A validity bitmap under construction; bit set means the row has a value.
#[derive(Default)]
struct Validity {
    bits: Vec<u8>,
    rows: usize,
    nulls: usize,
}

impl Validity {
    fn push(&mut self, present: bool) {
        if self.rows.is_multiple_of(8) {
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
    for (name, column) in NAMES.iter().zip(built) {
        columns.set_item(*name, column_tuple(py, rows, column)?)?;
    }
    Ok(columns)
}

/// Builds every column. Each thread walks the issues once, filling its share of the
/// columns row by row: a million issues are hundreds of megabytes, so one pass per
/// column would spend its time streaming them from memory again and again.
fn build_all(issues: &[Issue]) -> Vec<Column> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let mut groups: Vec<Vec<(usize, Builder)>> = (0..workers).map(|_| Vec::new()).collect();
    for (at, builder) in builders().into_iter().enumerate() {
        groups[at % workers].push((at, builder));
    }
    let mut built: Vec<(usize, Column)> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|mut group| {
                scope.spawn(move || {
                    for issue in issues {
                        for (_, builder) in group.iter_mut() {
                            builder.push(issue);
                        }
                    }
                    group.into_iter().map(|(at, b)| (at, b.finish())).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a column builder panicked")).collect()
    });
    built.sort_by_key(|(at, _)| *at);
    built.into_iter().map(|(_, column)| column).collect()
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
        Column::UInt { values, validity } => {
            vec![tag(py, "uint"), rows_of(py, rows)?, optional(validity), bytes(&values)]
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
