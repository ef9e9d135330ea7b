//! Python keyword arguments of `analyze` turned into the core's analysis parameters.
//!
//! The mapping follows `bugdash analyze` option by option, with the same defaults and
//! ranges, so that the same options give the same report. It lives here, not in core,
//! because the CLI keeps its own copy in its argument parser; once core offers one
//! mapping of analysis options, both frontends should call it and this module shrinks
//! to reading Python values.

use bugdash::analysis::{AreaField, Filters, Params, Period, Window};
use bugdash::model::StatusCategory;
use bugdash::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::input;

/// Filter keywords `analyze` accepts, named as the CLI's options with `_` for `-`.
pub const FILTER_KEYWORDS: &[&str] = &[
    "project",
    "type",
    "priority",
    "status",
    "status_category",
    "component",
    "label",
    "fix_version",
    "affects_version",
    "assignee",
    "environment",
    "resolution",
    "exclude_resolution",
    "since",
    "until",
];

/// The analysis options as Python gave them.
pub struct Options<'py> {
    /// `as_of`: a date or instant as text, `datetime.date`, `datetime.datetime` or
    /// `pandas.Timestamp`.
    pub as_of: Option<Bound<'py, PyAny>>,
    /// `window`: days, `"all"`, or None for 90 days.
    pub window: Option<Bound<'py, PyAny>>,
    /// `period`: `"week"` or `"month"`.
    pub period: String,
    /// `area`: which field defines an area.
    pub area: String,
    /// `horizon`: forecast days.
    pub horizon: i64,
    /// `half_life`: decay half-life in days.
    pub half_life: f64,
    /// `bug_types`: more issue types counted as bugs.
    pub bug_types: Option<Bound<'py, PyAny>>,
    /// The filter keywords.
    pub filters: Option<Bound<'py, PyDict>>,
}

impl Options<'_> {
    /// The core parameters, or an `InputError` naming the option that is wrong.
    pub fn params(&self) -> PyResult<Params> {
        let mut bug_types = Params::default().bug_types;
        if let Some(extra) = &self.bug_types {
            bug_types.extend(names("bug_types", extra)?);
        }
        Ok(Params {
            as_of: self.as_of.as_ref().map(|v| instant("as_of", v)).transpose()?,
            window: self.window.as_ref().map(window).transpose()?.unwrap_or_default(),
            period: period(&self.period)?,
            area: area(&self.area)?,
            horizon_days: horizon(self.horizon)?,
            half_life_days: half_life(self.half_life)?,
            bug_types,
            filters: filters(self.filters.as_ref())?,
            ..Params::default()
        })
    }
}

fn window(value: &Bound<'_, PyAny>) -> PyResult<Window> {
    let days = if let Ok(text) = value.cast::<PyString>() {
        let text = text.extract::<String>()?.trim().to_owned();
        if text.eq_ignore_ascii_case("all") {
            return Ok(Window::All);
        }
        text.parse::<i64>().ok()
    } else if value.is_instance_of::<pyo3::types::PyBool>() {
        None
    } else {
        value.extract::<i64>().ok()
    };
    match days {
        Some(days @ 1..=36_500) => Ok(Window::Days(days as u32)),
        _ => Err(input(format!(
            "invalid window: expected a number of days from 1 to 36500, or \"all\"; got {}",
            value.repr()?
        ))),
    }
}

fn period(text: &str) -> PyResult<Period> {
    match text.trim().to_ascii_lowercase().as_str() {
        "week" => Ok(Period::Week),
        "month" => Ok(Period::Month),
        _ => Err(input(format!("invalid period: expected \"week\" or \"month\"; got {text:?}"))),
    }
}

fn area(text: &str) -> PyResult<AreaField> {
    let key = text.trim().to_ascii_lowercase().replace('_', "-");
    Ok(match key.as_str() {
        "component" => AreaField::Component,
        "label" => AreaField::Label,
        "fix-version" => AreaField::FixVersion,
        "affects-version" => AreaField::AffectsVersion,
        "assignee" => AreaField::Assignee,
        "project" => AreaField::Project,
        _ => {
            return Err(input(format!(
                "invalid area: expected component, label, fix_version, affects_version, \
                 assignee or project; got {text:?}"
            )))
        }
    })
}

fn horizon(days: i64) -> PyResult<u32> {
    match days {
        1..=3650 => Ok(days as u32),
        _ => Err(input(format!("invalid horizon: expected 1 to 3650 days; got {days}"))),
    }
}

fn half_life(days: f64) -> PyResult<f64> {
    if days.is_finite() && (1.0..=3650.0).contains(&days) {
        Ok(days)
    } else {
        Err(input(format!("invalid half_life: expected 1 to 3650 days; got {days}")))
    }
}

/// A date or instant: text as the CLI reads it, or a date/datetime object (a naive
/// datetime is taken as UTC).
pub fn instant(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let text = if let Ok(text) = value.cast::<PyString>() {
        text.extract::<String>()?
    } else if value.hasattr("isoformat")? {
        let text: String = value.call_method0("isoformat")?.extract()?;
        let naive = value.hasattr("tzinfo")? && value.getattr("tzinfo")?.is_none();
        if naive {
            format!("{text}Z")
        } else {
            text
        }
    } else {
        return Err(input(format!(
            "invalid {name}: expected a date such as \"2024-01-31\", a datetime or a date; \
             got {}",
            value.repr()?
        )));
    };
    bugdash::time::parse_timestamp(&text).ok_or_else(|| {
        input(format!(
            "invalid {name}: cannot read {text:?} as a date; expected 2024-01-31 or \
             2024-01-31T12:00:00Z"
        ))
    })
}

/// Names given as one string (comma-separated, as on the command line) or a sequence of
/// strings.
fn names(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let pieces: Vec<String> = if let Ok(text) = value.cast::<PyString>() {
        vec![text.extract::<String>()?]
    } else {
        value
            .extract::<Vec<String>>()
            .map_err(|_| input(format!("invalid {name}: expected a string or a list of strings")))?
    };
    Ok(pieces
        .iter()
        .flat_map(|piece| piece.split(','))
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(str::to_owned)
        .collect())
}

fn filters(given: Option<&Bound<'_, PyDict>>) -> PyResult<Filters> {
    let mut filters = Filters::default();
    let Some(given) = given else { return Ok(filters) };
    for (key, value) in given.iter() {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        match key.as_str() {
            "project" => filters.projects = names(&key, &value)?,
            "type" => filters.types = names(&key, &value)?,
            "priority" => filters.priorities = names(&key, &value)?,
            "status" => filters.statuses = names(&key, &value)?,
            "status_category" => filters.status_categories = categories(&value)?,
            "component" => filters.components = names(&key, &value)?,
            "label" => filters.labels = names(&key, &value)?,
            "fix_version" => filters.fix_versions = names(&key, &value)?,
            "affects_version" => filters.affects_versions = names(&key, &value)?,
            "assignee" => filters.assignees = names(&key, &value)?,
            "resolution" => filters.resolutions = names(&key, &value)?,
            "exclude_resolution" => filters.exclude_resolutions = names(&key, &value)?,
            "environment" => filters.environment = Some(value.extract::<String>()?),
            "since" => filters.created_since = Some(instant(&key, &value)?),
            "until" => filters.created_until = Some(instant(&key, &value)?),
            _ => {
                return Err(input(format!(
                    "unknown filter {key:?}; the filters are {}",
                    FILTER_KEYWORDS.join(", ")
                )))
            }
        }
    }
    Ok(filters)
}

fn categories(value: &Bound<'_, PyAny>) -> PyResult<Vec<StatusCategory>> {
    names("status_category", value)?
        .iter()
        .map(|name| {
            StatusCategory::from_key(name).ok_or_else(|| {
                input(format!(
                    "invalid status_category: expected new, indeterminate or done; got {name:?}"
                ))
            })
        })
        .collect()
}
