//! `Store`: the issues BugDash keeps in PostgreSQL or SQLite, as synced or imported by the
//! CLI.

use std::sync::Arc;

use bugdash::store::{ProjectInfo, Store as CoreStore};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::{input, to_py, BugDashError, Domain, StoreError};
use crate::issues::Issues;
use crate::runtime::wait;

/// A BugDash store: list its projects and load their issues.
///
/// Opening applies pending migrations, as every BugDash frontend does.
///
/// Args:
///     url: "sqlite:///path/bugdash.db" or "postgres://user@host:5432/db".
///     create: make a missing SQLite database (and its folder); by default a missing
///         file is refused, so that a mistyped path cannot give an empty store.
///
/// Raises:
///     StoreError: the URL is not a supported database, the SQLite file does not exist
///         (and `create` is false) or the database cannot be opened.
///
/// Example:
///     >>> store = bugdash.Store("sqlite:///home/me/.local/share/bugdash/bugdash.db")
///     >>> [p["key"] for p in store.projects()]
///     ['ZOOKEEPER']
///     >>> issues = store.load("ZOOKEEPER")
#[pyclass(frozen, module = "bugdash")]
pub struct Store {
    store: Arc<dyn CoreStore>,
    url: String,
}

#[pymethods]
impl Store {
    #[new]
    #[pyo3(signature = (url, *, create=false))]
    fn new(py: Python<'_>, url: &Bound<'_, PyAny>, create: bool) -> PyResult<Self> {
        let url: String = url.extract().map_err(|_| {
            StoreError::new_err(format!(
                "a store URL must be text such as \"sqlite:///path/bugdash.db\"; got {}",
                repr(url)
            ))
        })?;
        let url = url.as_str();
        if !create {
            if let Some(path) = sqlite_file(url) {
                if !std::path::Path::new(&path).is_file() {
                    return Err(StoreError::new_err(format!(
                        "no SQLite database at {path:?}; check the path, or pass create=True \
                         to make a new empty store"
                    )));
                }
            }
        }
        let owned = url.to_owned();
        let store = wait(py, async move { bugdash::store::open(&owned).await })?
            .map_err(|error| to_py(error, Domain::Store))?;
        Ok(Store { store, url: without_password(url) })
    }

    /// The projects the store holds, ordered by key.
    ///
    /// Returns:
    ///     list[dict]: one dict per project with `key`, `name`, `issues`, `removed`,
    ///     `updated_at` and `last_synced` (the sync watermark, None if never synced).
    fn projects<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let store = Arc::clone(&self.store);
        let projects = wait(py, async move { store.projects().await })?
            .map_err(|error| to_py(error, Domain::Store))?;
        projects.iter().map(|project| project_dict(py, project)).collect()
    }

    /// Loads the issues of one project, several, or all of them.
    ///
    /// Args:
    ///     project: a key, a list of keys, or None (or "ALL") for every project.
    ///
    /// Returns:
    ///     Issues: the stored issues (removed ones left out).
    ///
    /// Raises:
    ///     InputError: `project` is not a key or a list of keys, or names a project the
    ///         store does not hold (the message lists those it holds).
    ///     StoreError: the database failed.
    #[pyo3(signature = (project=None))]
    fn load(&self, py: Python<'_>, project: Option<Bound<'_, PyAny>>) -> PyResult<Issues> {
        let mut projects: Vec<String> = match project {
            None => Vec::new(),
            Some(value) if value.is_none() => Vec::new(),
            Some(value) => match value.cast::<PyString>() {
                Ok(one) => vec![one.extract()?],
                Err(_) => value.extract::<Vec<String>>().map_err(|_| {
                    input(format!(
                        "project must be a key, a list of keys or None; got {}",
                        repr(&value)
                    ))
                })?,
            },
        };
        if projects.iter().any(|p| p.eq_ignore_ascii_case("ALL")) {
            projects.clear();
        }
        let store = Arc::clone(&self.store);
        let (issues, held) = wait(py, async move {
            let held = store.projects().await?;
            let keys: Vec<String> = held.into_iter().map(|p| p.key).collect();
            if projects.iter().any(|p| !keys.contains(p)) {
                return Ok((Vec::new(), Some((projects, keys))));
            }
            store.issues(&projects).await.map(|issues| (issues, None))
        })?
        .map_err(|error| to_py(error, Domain::Store))?;
        if let Some((asked, keys)) = held {
            let unknown: Vec<&String> = asked.iter().filter(|p| !keys.contains(p)).collect();
            let known = if keys.is_empty() { "none".to_owned() } else { keys.join(", ") };
            return Err(input(format!(
                "the store holds no project {}; it holds: {known}",
                unknown.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(py.detach(|| Issues::new(issues)))
    }

    fn __repr__(&self) -> String {
        format!("<bugdash.Store {}>", self.url)
    }

    /// A store holds a database connection, which cannot be pickled or copied.
    fn __reduce__(&self) -> PyResult<()> {
        Err(BugDashError::new_err(
            "a bugdash.Store cannot be pickled or copied (it holds a database connection); \
             open a new Store with the same URL instead",
        ))
    }
}

/// The file an SQLite URL names, or None for another database or an in-memory one.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    let in_memory = path.is_empty() || path.contains(":memory:") || url.contains("mode=memory");
    (!in_memory).then(|| path.to_owned())
}

fn repr(value: &Bound<'_, PyAny>) -> String {
    value.repr().map_or_else(|_| "an unprintable value".to_owned(), |r| r.to_string())
}

fn project_dict<'py>(py: Python<'py>, project: &ProjectInfo) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("key", &project.key)?;
    dict.set_item("name", &project.name)?;
    dict.set_item("issues", project.issues)?;
    dict.set_item("removed", project.removed)?;
    dict.set_item("updated_at", project.updated_at.map(|t| t.to_datetime()))?;
    let watermark = project.sync.as_ref().and_then(|s| s.watermark);
    dict.set_item("last_synced", watermark.map(|t| t.to_datetime()))?;
    Ok(dict)
}

/// The URL with any password replaced, for `repr`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}
