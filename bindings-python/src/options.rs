//! Python keyword arguments of `analyze` turned into the core's analysis parameters.
//!
//! Every option is written out as the name/value text the CLI and the HTTP query take and
//! read by the core's one parser (`bugdash::service::options`), so the binding has the
//! same defaults, ranges, list splitting and messages as the other frontends and cannot
//! drift from them. This module only turns Python values into that text: numbers,
//! `"all"`, lists of names and date or datetime objects. `project` is the one filter the
//! core's parser leaves to each frontend (the URL path names it); it is read with the
//! core's project-key check, as the CLI's `--project` is.

use bugdash::analysis::Params;
use bugdash::service::options::{params_from_pairs, project_key, OPTION_NAMES};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};

use crate::errors::{input, to_py, Domain};

/// Options `analyze` takes as named parameters rather than filter keywords.
const NAMED: [&str; 7] = ["as_of", "window", "period", "area", "horizon", "half_life", "bug_type"];

/// Options whose value is a date or an instant.
const INSTANTS: [&str; 4] = ["as_of", "since", "until", "resolved_since"];

/// The analysis options as Python gave them.
pub struct Options<'py> {
    /// `as_of`: a date or instant as text, `datetime.date`, `datetime.datetime` or
    /// `pandas.Timestamp`.
    pub as_of: Option<Bound<'py, PyAny>>,
    /// `window`: days, `"all"`, or None for the default.
    pub window: Option<Bound<'py, PyAny>>,
    /// `period`: `"week"` or `"month"`; None for the default.
    pub period: Option<Bound<'py, PyAny>>,
    /// `area`: which field defines an area; None for the default.
    pub area: Option<Bound<'py, PyAny>>,
    /// `horizon`: forecast days, an integer; None for the default.
    pub horizon: Option<Bound<'py, PyAny>>,
    /// `half_life`: decay half-life in days, a number; None for the default.
    pub half_life: Option<Bound<'py, PyAny>>,
    /// `bug_types`: more issue types counted as bugs.
    pub bug_types: Option<Bound<'py, PyAny>>,
    /// The filter keywords.
    pub filters: Option<Bound<'py, PyDict>>,
}

impl Options<'_> {
    /// The core parameters, or an `InputError` naming the option that is wrong.
    pub fn params(&self) -> PyResult<Params> {
        let mut pairs: Vec<(String, String)> = vec![
            ("period".into(), text_or("period", self.period.as_ref(), "week")?),
            ("area".into(), text_or("area", self.area.as_ref(), "component")?),
            ("horizon".into(), number_or("horizon", self.horizon.as_ref(), false, "30")?),
            ("half_life".into(), number_or("half_life", self.half_life.as_ref(), true, "30")?),
        ];
        if let Some(as_of) = &self.as_of {
            pairs.push(("as_of".into(), instant("as_of", as_of)?));
        }
        if let Some(window) = &self.window {
            pairs.push(("window".into(), window_text(window)?));
        }
        if let Some(types) = &self.bug_types {
            for name in names("bug_types", types)? {
                pairs.push(("bug_type".into(), name));
            }
        }
        let mut projects = Vec::new();
        if let Some(filters) = &self.filters {
            filter_pairs(filters, &mut pairs, &mut projects)?;
        }
        let borrowed = pairs.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        let mut params = params_from_pairs(borrowed).map_err(|e| to_py(e, Domain::Input))?;
        params.filters.projects = projects;
        Ok(params)
    }
}

/// The filter keywords `analyze` accepts: every option of the core's parser that is not
/// a named parameter, and `project`.
pub fn filter_keywords() -> Vec<&'static str> {
    let mut keywords = vec!["project"];
    keywords.extend(OPTION_NAMES.iter().filter(|name| !NAMED.contains(name)));
    keywords
}

/// Adds the pairs of the filter keywords; project keys go to `projects`.
fn filter_pairs(
    given: &Bound<'_, PyDict>,
    pairs: &mut Vec<(String, String)>,
    projects: &mut Vec<String>,
) -> PyResult<()> {
    let keywords = filter_keywords();
    for (key, value) in given.iter() {
        let key: String = key.extract()?;
        if !keywords.contains(&key.as_str()) {
            return Err(input(format!(
                "unknown filter {key:?}; the filters are {}",
                keywords.join(", ")
            )));
        }
        if value.is_none() {
            continue;
        }
        if key == "project" {
            for piece in names(&key, &value)? {
                for name in piece.split(',').map(str::trim).filter(|name| !name.is_empty()) {
                    let checked = project_key(name);
                    projects.push(checked.map_err(|m| input(format!("invalid project: {m}")))?);
                }
            }
        } else if INSTANTS.contains(&key.as_str()) {
            pairs.push((key.clone(), instant(&key, &value)?));
        } else if key == "environment" {
            let text = value.cast::<PyString>().map_err(|_| {
                input(format!("invalid environment: expected text; got {}", repr(&value)))
            })?;
            pairs.push((key, text.extract()?));
        } else {
            for name in names(&key, &value)? {
                pairs.push((key.clone(), name));
            }
        }
    }
    Ok(())
}

/// A text option, or `default` when not given.
fn text_or(name: &str, value: Option<&Bound<'_, PyAny>>, default: &str) -> PyResult<String> {
    match value.filter(|v| !v.is_none()) {
        None => Ok(default.to_owned()),
        Some(value) => match value.cast::<PyString>() {
            Ok(text) => text.extract(),
            Err(_) => Err(input(format!("invalid {name}: expected text; got {}", repr(value)))),
        },
    }
}

/// A number of days as the parser reads it (which checks the range): an integer of any
/// size, or any real number when `fractional`; `default` when not given.
fn number_or(
    name: &str,
    value: Option<&Bound<'_, PyAny>>,
    fractional: bool,
    default: &str,
) -> PyResult<String> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(default.to_owned()) };
    let kind = if fractional { "a number of days" } else { "a whole number of days" };
    let refuse = || input(format!("invalid {name}: expected {kind}; got {}", repr(value)));
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyString>() {
        return Err(refuse());
    }
    if value.is_instance_of::<PyInt>() || (!fractional && value.hasattr("__index__")?) {
        let whole = value.call_method0("__index__").map_err(|_| refuse())?;
        return Ok(whole.str()?.to_string());
    }
    if fractional {
        if let Ok(number) = value.extract::<f64>() {
            return Ok(number.to_string());
        }
    }
    Err(refuse())
}

/// A window as the parser reads it: a whole number of days, or text such as `"all"`.
fn window_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.extract::<String>()?.trim().to_owned());
    }
    match value.extract::<i64>() {
        Ok(days) if !value.is_instance_of::<PyBool>() => Ok(days.to_string()),
        _ => Err(input(format!(
            "invalid window: expected a number of days from 1 to 36500, or \"all\"; got {}",
            repr(value)
        ))),
    }
}

/// A date or instant as text: text as given, or a date/datetime object in ISO form (a
/// naive datetime is taken as UTC).
fn instant(name: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return text.extract();
    }
    let refuse_nat = || {
        input(format!(
            "invalid {name}: NaT (not a time) is not a date; give a date such as \"2024-01-31\""
        ))
    };
    // numpy.datetime64 (no isoformat): its text, in milliseconds, as UTC.
    let numpy_time = value.hasattr("dtype")? && value.get_type().name()? == "datetime64";
    if numpy_time {
        let numpy = value.py().import("numpy")?;
        if numpy.call_method1("isnat", (value,))?.is_truthy()? {
            return Err(refuse_nat());
        }
        let millis = value.call_method1("astype", ("datetime64[ms]",))?;
        let text: String = numpy.call_method1("datetime_as_string", (millis,))?.extract()?;
        return Ok(format!("{text}Z"));
    }
    if !value.hasattr("isoformat")? {
        return Err(input(format!(
            "invalid {name}: expected a date such as \"2024-01-31\", a datetime or a date; \
             got {}",
            repr(value)
        )));
    }
    let text: String = value.call_method0("isoformat")?.extract()?;
    if text == "NaT" {
        return Err(refuse_nat());
    }
    let naive = value.hasattr("tzinfo")? && value.getattr("tzinfo")?.is_none();
    Ok(if naive { format!("{text}Z") } else { text })
}

/// Names given as one string (comma-separated, as on the command line; the core's
/// parser splits it) or a sequence of strings.
fn names(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(vec![text.extract()?]);
    }
    value.extract::<Vec<String>>().map_err(|_| {
        input(format!(
            "invalid {name}: expected a string or a list of strings; got {}",
            repr(value)
        ))
    })
}

fn repr(value: &Bound<'_, PyAny>) -> String {
    value.repr().map_or_else(|_| "an unprintable value".to_owned(), |r| r.to_string())
}
