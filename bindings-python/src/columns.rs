//! The issues as columns for pandas, built in one pass per column with the interpreter
//! lock held only for the Python objects themselves.
//!
//! Numbers and instants leave as raw little buffers that numpy reads without copying
//! element by element; repeated names (project, type, status, priority …) leave as
//! category codes over the distinct names; lists of names leave as tuples shared by
//! every issue with the same list. `bugdash._frames.issues_frame` assembles the frame.

use std::collections::HashMap;

use bugdash::model::{Issue, Text};
use bugdash::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::issues::{bytes_of, list_tuples};

/// Instants as milliseconds since the epoch; numpy's NaT for absent ones.
const NOT_A_TIME: i64 = i64::MIN;

/// Every column of `Issues.to_pandas()`, in order, as tagged tuples.
pub fn issue_columns<'py>(py: Python<'py>, issues: &[Issue]) -> PyResult<Bound<'py, PyDict>> {
    let columns = PyDict::new(py);
    let ids = |i: &Issue| i.id.map(|id| id as i64);
    columns.set_item("id", nullable_ints(py, issues, ids))?;
    columns.set_item("key", ("text", text_list(py, issues, |i| Some(&i.key))?))?;
    columns.set_item("project", category(py, issues, |i| Some(i.project.as_str()))?)?;
    columns.set_item("type", category(py, issues, |i| Some(i.issue_type.as_str()))?)?;
    columns.set_item("status", category(py, issues, |i| Some(i.status.as_str()))?)?;
    let status_category = |i: &Issue| Some(i.category().as_str());
    columns.set_item("status_category", category(py, issues, status_category)?)?;
    columns.set_item("priority", category(py, issues, |i| i.priority.as_deref())?)?;
    columns.set_item("resolution", category(py, issues, |i| i.resolution.as_deref())?)?;
    columns.set_item("created", times(py, issues, |i| i.created))?;
    columns.set_item("updated", times(py, issues, |i| i.updated))?;
    columns.set_item("resolved", times(py, issues, |i| i.resolved))?;
    columns.set_item("components", ("tuples", list_tuples(py, issues, |i| &i.components)?))?;
    columns.set_item("labels", ("tuples", list_tuples(py, issues, |i| &i.labels)?))?;
    columns.set_item("fix_versions", ("tuples", list_tuples(py, issues, |i| &i.fix_versions)?))?;
    let affects = list_tuples(py, issues, |i| &i.affects_versions)?;
    columns.set_item("affects_versions", ("tuples", affects))?;
    columns.set_item("environment", category(py, issues, |i| i.environment.as_deref())?)?;
    columns.set_item("assignee", category(py, issues, |i| i.assignee.as_deref())?)?;
    columns.set_item("reporter", category(py, issues, |i| i.reporter.as_deref())?)?;
    columns.set_item("summary", ("text", text_list(py, issues, |i| Some(&i.summary))?))?;
    let reopens = |i: &Issue| i.reopen_count.map(i64::from);
    columns.set_item("reopen_count", nullable_ints(py, issues, reopens))?;
    Ok(columns)
}

/// `("time", int64 milliseconds)`.
fn times<'py>(
    py: Python<'py>,
    issues: &[Issue],
    field: fn(&Issue) -> Option<Timestamp>,
) -> (&'static str, Bound<'py, pyo3::types::PyBytes>) {
    let mut bytes = Vec::with_capacity(issues.len() * 8);
    for issue in issues {
        let millis = field(issue).map_or(NOT_A_TIME, Timestamp::millis);
        bytes.extend_from_slice(&millis.to_le_bytes());
    }
    ("time", bytes_of(py, &bytes))
}

/// `("int", int64 values, bool mask of the absent ones)`.
fn nullable_ints<'py>(
    py: Python<'py>,
    issues: &[Issue],
    field: impl Fn(&Issue) -> Option<i64>,
) -> (&'static str, Bound<'py, pyo3::types::PyBytes>, Bound<'py, pyo3::types::PyBytes>) {
    let mut values = Vec::with_capacity(issues.len() * 8);
    let mut mask = Vec::with_capacity(issues.len());
    for issue in issues {
        let value = field(issue);
        values.extend_from_slice(&value.unwrap_or(0).to_le_bytes());
        mask.push(u8::from(value.is_none()));
    }
    ("int", bytes_of(py, &values), bytes_of(py, &mask))
}

/// `("category", int32 codes, the distinct names)`; code -1 is an absent value.
fn category<'py, 'a>(
    py: Python<'py>,
    issues: &'a [Issue],
    field: fn(&'a Issue) -> Option<&'a str>,
) -> PyResult<(&'static str, Bound<'py, pyo3::types::PyBytes>, Bound<'py, PyList>)> {
    let mut codes_of: HashMap<&'a str, i32> = HashMap::new();
    let mut names: Vec<&'a str> = Vec::new();
    let mut codes = Vec::with_capacity(issues.len() * 4);
    for issue in issues {
        let code = match field(issue) {
            None => -1,
            Some(name) => *codes_of.entry(name).or_insert_with(|| {
                names.push(name);
                (names.len() - 1) as i32
            }),
        };
        codes.extend_from_slice(&code.to_le_bytes());
    }
    Ok(("category", bytes_of(py, &codes), PyList::new(py, names)?))
}

/// A list with one Python string (or None) per issue, for text that is mostly unique
/// (keys, summaries), where interning would cost more than it saves.
fn text_list<'py, 'a>(
    py: Python<'py>,
    issues: &'a [Issue],
    field: fn(&'a Issue) -> Option<&'a Text>,
) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<Option<Bound<'py, PyString>>> =
        issues.iter().map(|issue| field(issue).map(|t| PyString::new(py, t.as_str()))).collect();
    PyList::new(py, items)
}
