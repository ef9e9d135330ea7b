//! `Store`: the issues BugDash keeps in PostgreSQL or SQLite, as synced or imported by the
//! CLI.

use std::sync::Arc;

use bugdash::store::{ProjectInfo, Store as CoreStore};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{to_py, Domain};
use crate::issues::Issues;
use crate::runtime::wait;

/// A BugDash store: list its projects and load their issues.
///
/// Opening applies pending migrations, as every BugDash frontend does.
///
/// Args:
///     url: "sqlite:///path/bugdash.db" or "postgres://user@host:5432/db".
///
/// Raises:
///     StoreError: the URL is not a supported database or the database cannot be opened.
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
    fn new(py: Python<'_>, url: &str) -> PyResult<Self> {
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
    ///     StoreError: the database failed.
    #[pyo3(signature = (project=None))]
    fn load(&self, py: Python<'_>, project: Option<Bound<'_, PyAny>>) -> PyResult<Issues> {
        let mut projects: Vec<String> = match project {
            None => Vec::new(),
            Some(value) => match value.extract::<String>() {
                Ok(one) => vec![one],
                Err(_) => value.extract::<Vec<String>>()?,
            },
        };
        if projects.iter().any(|p| p.eq_ignore_ascii_case("ALL")) {
            projects.clear();
        }
        let store = Arc::clone(&self.store);
        let issues = wait(py, async move { store.issues(&projects).await })?
            .map_err(|error| to_py(error, Domain::Store))?;
        Ok(py.detach(|| Issues::new(issues)))
    }

    fn __repr__(&self) -> String {
        format!("<bugdash.Store {}>", self.url)
    }
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
