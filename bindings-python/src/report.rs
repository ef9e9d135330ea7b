//! `analyze` and the `Report` it returns.
//!
//! The report keeps the core's value; its JSON (the CLI's `--format json`, byte for
//! byte) is made once on first use, and every dict and DataFrame is built from it, so
//! that all views of a report show the same numbers.

use std::sync::{Arc, OnceLock};

use bugdash::analysis;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::{to_py, Domain};
use crate::issues::Issues;
use crate::options::Options;

/// The bug-risk report of a set of issues.
///
/// Attributes:
///     summary: headline numbers, a dict with the keys of the JSON report's `summary`.
///     areas: one row per area by descending `risk`, a DataFrame.
///     trends: one row per week or month, a DataFrame.
///     insights: one row per finding, most severe first, a DataFrame.
///     forecast: expected bugs over the horizon for the whole selection and each area.
///     backtest: the model's own track record beside the naive baseline.
///
/// Example:
///     >>> report = bugdash.analyze(issues, window="all")
///     >>> report.summary["open"]
///     573
#[pyclass(frozen, module = "bugdash")]
pub struct Report {
    report: Arc<analysis::Report>,
    json: OnceLock<String>,
}

impl Report {
    fn json(&self) -> &str {
        self.json.get_or_init(|| {
            let mut text =
                serde_json::to_string_pretty(&*self.report).expect("a report always serialises");
            text.push('\n');
            text
        })
    }

    /// A fresh dict of the whole report.
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (self.json(),))
    }

    /// Calls `bugdash._frames.<name>(report_dict)`.
    fn frame<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let frames = py.import("bugdash._frames")?;
        frames.call_method1(name, (self.dict(py)?,))
    }
}

#[pymethods]
impl Report {
    /// The report as the CLI's `--format json` prints it, byte for byte.
    ///
    /// Returns:
    ///     str: pretty-printed JSON ending with a newline (schema in docs/report-schema.md).
    fn to_json<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.json())
    }

    /// The whole report as plain Python values (a fresh copy each call).
    ///
    /// Returns:
    ///     dict: the JSON report parsed.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py)
    }

    /// Headline numbers over the window, with the keys of the JSON report's `summary`.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.dict(py)?.get_item("summary")
    }

    /// Areas by descending risk: name, risk (0-100), level, counts, metrics, forecast.
    #[getter]
    fn areas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "areas")
    }

    /// Created, resolved and open bugs per period, oldest first.
    #[getter]
    fn trends<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "trends")
    }

    /// Rule-based findings, most severe first.
    #[getter]
    fn insights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "insights")
    }

    /// Expected bugs over the horizon with 80% intervals: the whole selection first
    /// (area None), then each area.
    #[getter]
    fn forecast<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "forecast")
    }

    /// AUC, Brier score and MAE of the model beside the naive baseline; the cut-offs,
    /// pairs and verdict are in the frame's `attrs`.
    #[getter]
    fn backtest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "backtest")
    }

    /// The report as an HTML page fragment, for notebooks.
    fn _repr_html_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.frame(py, "report_html")
    }

    /// Pickling and `copy`: the report travels as its JSON and is rebuilt from it, so a
    /// copy's `to_json()` equals the original's.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let rebuild = py.import("bugdash._bugdash")?.getattr("_report_from_json")?;
        Ok((rebuild, (self.json().to_owned(),)))
    }

    fn __repr__(&self) -> String {
        let report = &self.report;
        format!(
            "<bugdash.Report as of {}: {} bugs, {} open, {} areas by {}>",
            report.as_of,
            report.summary.bugs,
            report.summary.open,
            report.areas.len(),
            serde_json::to_value(report.parameters.area)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        )
    }
}

/// Rebuilds a pickled `Report` from its JSON (`Report.__reduce__`); not public.
#[pyfunction]
pub fn _report_from_json(json: &str) -> PyResult<Report> {
    let report: analysis::Report = serde_json::from_str(json)
        .map_err(|e| crate::errors::input(format!("cannot read a pickled report: {e}")))?;
    Ok(Report { report: Arc::new(report), json: OnceLock::new() })
}

/// Analyses issues: summary, trends, per-area risk, forecast, backtest and insights.
///
/// The options are those of `bugdash analyze`, with the same defaults, so the same
/// options give the same report as the CLI. The interpreter lock is released while the
/// analysis runs, so several threads may analyse at once.
///
/// Args:
///     issues: the issues, from `bugdash.load`, `Jira.fetch` or `Store.load`.
///     as_of: analysis date ("2019-01-11", a datetime or date; a naive datetime is UTC);
///         default the latest timestamp in the data.
///     window: days of summary and trends before `as_of`, or "all"; default 90.
///     period: "week" or "month".
///     area: "component", "label", "fix_version", "affects_version", "assignee" or
///         "project".
///     horizon: forecast horizon in days (1-3650).
///     half_life: half-life of the bug-score decay in days (1-3650).
///     bug_types: issue types counted as bugs besides Bug, Defect and types whose
///         name contains "bug".
///     **filters: project, type, priority, status, status_category, component, label,
///         fix_version, affects_version, assignee, resolution, exclude_resolution (each a
///         string, comma-separated, or a list of strings; "none" matches issues without
///         one), environment (text the environment field contains), since and until
///         (creation dates), resolved_since (resolution date).
///
/// Returns:
///     Report: the report.
///
/// Raises:
///     InputError: an option is out of range, unknown or of the wrong type (such as
///         `horizon=30.0` or `half_life="30"`), a date is NaT, or no date could be found.
///
/// Example:
///     >>> report = bugdash.analyze(issues, window="all", exclude_resolution="Duplicate")
///     >>> report.areas[["name", "risk", "level"]].head(3)
#[pyfunction]
#[pyo3(signature = (
    issues, as_of=None, window=None, period=None, area=None, horizon=None,
    half_life=None, bug_types=None, **filters
))]
#[allow(clippy::too_many_arguments)] // the Python signature mirrors the CLI's options
pub fn analyze(
    py: Python<'_>,
    issues: &Bound<'_, PyAny>,
    as_of: Option<Bound<'_, PyAny>>,
    window: Option<Bound<'_, PyAny>>,
    period: Option<Bound<'_, PyAny>>,
    area: Option<Bound<'_, PyAny>>,
    horizon: Option<Bound<'_, PyAny>>,
    half_life: Option<Bound<'_, PyAny>>,
    bug_types: Option<Bound<'_, PyAny>>,
    filters: Option<Bound<'_, PyDict>>,
) -> PyResult<Report> {
    let issues = issues.cast::<Issues>().map_err(|_| {
        crate::errors::input(
            "analyze needs Issues (from bugdash.load, Jira.fetch or Store.load) as its first \
             argument",
        )
    })?;
    let issues = issues.get();
    let options = Options { as_of, window, period, area, horizon, half_life, bug_types, filters };
    let params = options.params()?;
    let shared = Arc::clone(&issues.issues);
    let report = py
        .detach(|| analysis::analyze(&shared, &params))
        .map_err(|error| to_py(error, Domain::Input))?;
    Ok(Report { report: Arc::new(report), json: OnceLock::new() })
}
