//! `Issues`: the issues read from files, JIRA or the store, shared without copying by
//! every analysis made of them, and turned into a pandas frame through Arrow columns.

use std::path::PathBuf;
use std::sync::Arc;

use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::{dedupe_issues, Issue, Text};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PySlice};

use crate::errors::{to_py, Domain};

/// A collection of JIRA issues, read once and shared by every analysis made of it.
///
/// Made by `bugdash.load`, `Jira.fetch` or `Store.load`; immutable. `len(issues)` counts
/// them, iterating yields one dict per issue, `issues[i]` gives the i-th one, and
/// `issues.to_pandas()` gives a DataFrame with one row per issue.
///
/// Example:
///     >>> issues = bugdash.load("examples/zookeeper/*.json")
///     >>> len(issues)
///     1827
#[pyclass(frozen, module = "bugdash", sequence)]
pub struct Issues {
    pub(crate) issues: Arc<Vec<Issue>>,
}

impl Issues {
    /// Wraps issues, merging copies of one issue as every reader of several sources does.
    pub fn new(issues: Vec<Issue>) -> Self {
        let (issues, _dropped) = dedupe_issues(issues);
        Issues { issues: Arc::new(issues) }
    }
}

#[pymethods]
impl Issues {
    fn __len__(&self) -> usize {
        self.issues.len()
    }

    /// `issues[i]` is the i-th issue as a dict; `issues[a:b:c]` is an `Issues` of those.
    /// An index out of range raises `IndexError` (the sequence protocol needs it); an
    /// index that is neither an integer nor a slice raises `InputError`.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let len = self.issues.len();
        if let Ok(slice) = index.cast::<PySlice>() {
            let picked = slice.indices(len as isize)?;
            let mut chosen = Vec::with_capacity(picked.slicelength);
            let mut at = picked.start;
            for _ in 0..picked.slicelength {
                chosen.push(self.issues[at as usize].clone());
                at += picked.step;
            }
            // Already merged when first made: a subset has no copies left to merge.
            let issues = Issues { issues: Arc::new(chosen) };
            return Ok(Bound::new(py, issues)?.into_any());
        }
        if !index.hasattr("__index__")? || index.is_instance_of::<PyBool>() {
            return Err(crate::errors::input(format!(
                "an issue index must be an integer or a slice; got {}",
                index.repr().map_or_else(|_| "an unprintable value".into(), |r| r.to_string())
            )));
        }
        let out_of_range = || {
            pyo3::exceptions::PyIndexError::new_err(format!(
                "issue index {index} is out of range for {len} issues"
            ))
        };
        let wanted: i128 =
            index.call_method0("__index__")?.extract().map_err(|_| out_of_range())?;
        let at = if wanted < 0 { wanted + len as i128 } else { wanted };
        if !(0..len as i128).contains(&at) {
            return Err(out_of_range());
        }
        Ok(issue_dict(py, &self.issues[at as usize])?.into_any())
    }

    fn __iter__(slf: PyRef<'_, Self>) -> IssueIter {
        IssueIter { issues: Arc::clone(&slf.issues), next: 0 }
    }

    fn __repr__(&self) -> String {
        let mut projects: Vec<&str> = self.issues.iter().map(|i| i.project.as_str()).collect();
        projects.sort_unstable();
        projects.dedup();
        let shown = if projects.len() > 5 {
            format!("{} … ({} projects)", projects[..5].join(", "), projects.len())
        } else {
            projects.join(", ")
        };
        match self.issues.len() {
            0 => "<bugdash.Issues: no issues>".to_owned(),
            1 => format!("<bugdash.Issues: 1 issue of {shown}>"),
            count => format!("<bugdash.Issues: {count} issues of {shown}>"),
        }
    }

    /// Pickling and `copy`: the issues travel as their JSON form and are rebuilt from it.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let issues = Arc::clone(&self.issues);
        let json = py
            .detach(|| serde_json::to_string(&*issues))
            .map_err(|e| crate::errors::input(format!("cannot serialise the issues: {e}")))?;
        let rebuild = py.import("bugdash._bugdash")?.getattr("_issues_from_json")?;
        Ok((rebuild, (json,)))
    }

    /// One row per issue as a pandas DataFrame, built from Arrow columns.
    ///
    /// Columns and dtypes: id `UInt64` and reopen_count `Int64` (nullable); key and summary
    /// `string[pyarrow]`; project, type, status, status_category, priority, resolution,
    /// environment, assignee and reporter `category`; created, updated and resolved
    /// `datetime64[ms, UTC]`; components, labels, fix_versions and affects_versions lists
    /// of names (`pandas.ArrowDtype` of `large_list<large_string>`, an empty list when an
    /// issue has none). Descriptions and comments stay out of the frame: iterate to read
    /// them. The columns are built in Rust with the interpreter lock released; no Python
    /// object is made per issue.
    ///
    /// Returns:
    ///     pandas.DataFrame: the issues.
    ///
    /// Example:
    ///     >>> frame = issues.to_pandas()
    ///     >>> frame.explode("components")["components"].value_counts().head()
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let columns = self._columns(py)?;
        py.import("bugdash._frames")?.call_method1("issues_frame", (columns,))
    }

    /// The columns of `to_pandas()` in their raw form: a dict from column name to a
    /// tagged tuple that `bugdash._frames` assembles; not part of the public API.
    fn _columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        crate::columns::issue_columns(py, &self.issues)
    }
}

/// Iterator over the issues as dicts.
#[pyclass(module = "bugdash")]
pub struct IssueIter {
    issues: Arc<Vec<Issue>>,
    next: usize,
}

#[pymethods]
impl IssueIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(issue) = self.issues.get(self.next) else { return Ok(None) };
        self.next += 1;
        issue_dict(py, issue).map(Some)
    }
}

/// One issue as a dict; times are timezone-aware UTC datetimes.
fn issue_dict<'py>(py: Python<'py>, issue: &Issue) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let text = |value: &Option<Text>| value.as_ref().map(|t| t.to_string());
    let list = |values: &[Text]| values.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    let time = |value: Option<bugdash::Timestamp>| value.map(|t| t.to_datetime());
    dict.set_item("id", issue.id)?;
    dict.set_item("key", issue.key.as_str())?;
    dict.set_item("project", issue.project.as_str())?;
    dict.set_item("type", issue.issue_type.as_str())?;
    dict.set_item("status", issue.status.as_str())?;
    dict.set_item("status_category", issue.category().as_str())?;
    dict.set_item("priority", text(&issue.priority))?;
    dict.set_item("resolution", text(&issue.resolution))?;
    dict.set_item("created", time(issue.created))?;
    dict.set_item("updated", time(issue.updated))?;
    dict.set_item("resolved", time(issue.resolved))?;
    dict.set_item("components", list(&issue.components))?;
    dict.set_item("labels", list(&issue.labels))?;
    dict.set_item("fix_versions", list(&issue.fix_versions))?;
    dict.set_item("affects_versions", list(&issue.affects_versions))?;
    dict.set_item("environment", text(&issue.environment))?;
    dict.set_item("assignee", text(&issue.assignee))?;
    dict.set_item("reporter", text(&issue.reporter))?;
    dict.set_item("summary", issue.summary.as_str())?;
    dict.set_item("description", text(&issue.description))?;
    dict.set_item("reopen_count", issue.reopen_count)?;
    Ok(dict)
}

/// Rebuilds pickled `Issues` from the JSON `Issues.__reduce__` made; not public.
#[pyfunction]
pub fn _issues_from_json(py: Python<'_>, json: &str) -> PyResult<Issues> {
    let issues: Vec<Issue> = py
        .detach(|| serde_json::from_str(json))
        .map_err(|e| crate::errors::input(format!("cannot read pickled issues: {e}")))?;
    Ok(Issues { issues: Arc::new(issues) })
}

/// Reads every file (on several threads, the interpreter lock released), returning the
/// issues and, when `strict` is false, a message for each file that was skipped.
#[pyfunction]
#[pyo3(signature = (paths, columns=None, strict=true))]
pub fn _load(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    columns: Option<String>,
    strict: bool,
) -> PyResult<(Issues, Vec<String>)> {
    if paths.is_empty() {
        return Err(crate::errors::input("no files given to load"));
    }
    if let Some(mapping) = &columns {
        bugdash::jira::check_columns(mapping).map_err(|e| {
            // The core speaks of the CLI's option; here the mapping is the `columns` argument.
            let fault = to_py(e, Domain::Input);
            let text = fault.value(py).to_string();
            crate::errors::input(text.replace("--columns", "columns").replace('`', ""))
        })?;
    }
    let options = ReadOptions { columns };
    let results = py.detach(|| read_all(&paths, &options));
    let mut issues = Vec::new();
    let mut skipped = Vec::new();
    for result in results {
        match result {
            Ok(mut read) => issues.append(&mut read),
            Err(error) if strict => return Err(to_py(error, Domain::Input)),
            Err(error) => skipped.push(error.to_string()),
        }
    }
    if skipped.len() == paths.len() {
        return Err(crate::errors::input(format!(
            "none of the {} file(s) could be read: {}",
            paths.len(),
            skipped.join("; ")
        )));
    }
    let issues = py.detach(|| Issues::new(issues));
    Ok((issues, skipped))
}

/// Reads the files on up to as many threads as there are cores, keeping their order.
fn read_all(paths: &[PathBuf], options: &ReadOptions) -> Vec<bugdash::Result<Vec<Issue>>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(paths.len());
    let chunk = paths.len().div_ceil(workers.max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk.max(1))
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|path| read_path(path, options)).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a reader thread panicked")).collect()
    })
}
