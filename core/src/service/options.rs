//! Analysis options as people write them: one parser for every frontend, so that
//! `bugdash analyze --window all --component server` and
//! `GET /api/projects/KEY/analysis?window=all&component=server` mean the same analysis.
//!
//! Each value parser returns a message naming what was expected; [`params_from_pairs`]
//! reads name/value pairs (a URL query) into [`Params`], refusing unknown names.

use crate::analysis::{AreaField, Params, Period, Window};
use crate::model::{StatusCategory, Timestamp};
use crate::{Error, Result};

/// Reads a date (`2024-01-31`) or an instant (`2024-01-31T12:00:00Z`).
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    crate::time::parse_timestamp(text).ok_or_else(|| {
        format!("cannot read {text:?} as a date; expected 2024-01-31 or 2024-01-31T12:00:00Z")
    })
}

/// Reads a window: a number of days from 1 to 36500, or `all`.
pub fn parse_window(text: &str) -> Result<Window, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(Window::All);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=36_500).contains(&days) => Ok(Window::Days(days)),
        _ => Err(format!("expected a number of days from 1 to 36500, or `all`; got {text:?}")),
    }
}

/// Reads a decay half-life in days, from 1 to 3650.
pub fn parse_half_life(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(days) if days.is_finite() && (1.0..=3650.0).contains(&days) => Ok(days),
        _ => Err(format!("expected a number of days from 1 to 3650; got {text:?}")),
    }
}

/// Reads a forecast horizon in whole days, from 1 to 3650.
pub fn parse_horizon(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(days) if (1..=3650).contains(&days) => Ok(days),
        _ => Err(format!("expected a whole number of days from 1 to 3650; got {text:?}")),
    }
}

/// Reads a status category: `new`, `indeterminate` or `done`.
pub fn parse_category(text: &str) -> Result<StatusCategory, String> {
    StatusCategory::from_key(text)
        .ok_or_else(|| format!("expected new, indeterminate or done; got {text:?}"))
}

/// Reads a trend period: `week` or `month`.
pub fn parse_period(text: &str) -> Result<Period, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "week" => Ok(Period::Week),
        "month" => Ok(Period::Month),
        _ => Err(format!("expected week or month; got {text:?}")),
    }
}

/// Reads an area field: `component`, `label`, `fix-version`, `affects-version`,
/// `assignee` or `project` (`_` may stand for `-`).
pub fn parse_area(text: &str) -> Result<AreaField, String> {
    match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "component" => Ok(AreaField::Component),
        "label" => Ok(AreaField::Label),
        "fix-version" => Ok(AreaField::FixVersion),
        "affects-version" => Ok(AreaField::AffectsVersion),
        "assignee" => Ok(AreaField::Assignee),
        "project" => Ok(AreaField::Project),
        _ => Err(format!(
            "expected component, label, fix-version, affects-version, assignee or project; \
             got {text:?}"
        )),
    }
}

/// Reads a JIRA project key. JIRA keeps keys in capitals, so `zookeeper` means
/// `ZOOKEEPER`; anything but letters, digits and `_` (at most 64 of them, starting with a
/// letter) is refused. `ALL` names every stored project together.
pub fn project_key(text: &str) -> Result<String, String> {
    let key = text.trim().to_uppercase();
    let valid = key.len() <= 64
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Ok(key);
    }
    // A hostile key can be megabytes long; the message quotes its start only.
    let shown: String = text.chars().take(40).collect();
    let more = if text.chars().nth(40).is_some() { "…" } else { "" };
    Err(format!(
        "{shown:?}{more} is not a JIRA project key (letters, digits and _, such as ZOOKEEPER)"
    ))
}

/// The names [`params_from_pairs`] accepts, as written in a URL query; each is also the
/// CLI option of the same name with `-` for `_`. List options take several values,
/// repeated or comma-separated.
pub const OPTION_NAMES: [&str; 22] = [
    "as_of",
    "window",
    "period",
    "area",
    "horizon",
    "half_life",
    "bug_type",
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
    "resolved_since",
];

/// The options that are filters (every option after the first seven), which lists of
/// issues take as well.
pub const FILTER_NAMES: &[&str] = OPTION_NAMES.split_at(7).1;

/// Analysis parameters from name/value pairs, starting from the defaults `bugdash analyze`
/// uses. Names may use `-` or `_`; an unknown name or an unreadable value is an
/// [`Error::InvalidParameter`] naming it. Extra `bug_type`s add to the default bug types,
/// as `--bug-type` does.
///
/// ```
/// use bugdash::analysis::Window;
/// use bugdash::service::options::params_from_pairs;
///
/// let pairs = [("window", "all"), ("component", "server,client")];
/// let params = params_from_pairs(pairs).unwrap();
/// assert_eq!(params.window, Window::All);
/// assert_eq!(params.filters.components, ["server", "client"]);
/// assert!(params_from_pairs([("colour", "red")]).is_err());
/// ```
pub fn params_from_pairs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Params> {
    let mut params = Params::default();
    let mut seen = Vec::new();
    for (name, value) in pairs {
        let normal = name.replace('-', "_");
        if SINGLE_VALUED.contains(&normal.as_str()) {
            if seen.contains(&normal) {
                return Err(Error::invalid(name, "given twice; give it once".to_owned()));
            }
            seen.push(normal.clone());
        }
        apply(&mut params, &normal, value).map_err(|message| Error::invalid(name, message))?;
    }
    Ok(params)
}

/// Options that take one value: given twice, which one was meant is unknown.
const SINGLE_VALUED: [&str; 10] = [
    "as_of",
    "window",
    "period",
    "area",
    "horizon",
    "half_life",
    "since",
    "until",
    "resolved_since",
    "environment",
];

/// Values of a list option: comma-separated, blanks dropped.
fn list(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn apply(params: &mut Params, name: &str, value: &str) -> Result<(), String> {
    let filters = &mut params.filters;
    match name {
        "as_of" => params.as_of = Some(parse_instant(value)?),
        "window" => params.window = parse_window(value)?,
        "period" => params.period = parse_period(value)?,
        "area" => params.area = parse_area(value)?,
        "horizon" => params.horizon_days = parse_horizon(value)?,
        "half_life" => params.half_life_days = parse_half_life(value)?,
        "bug_type" => params.bug_types.extend(list(value)),
        "type" => filters.types.extend(list(value)),
        "priority" => filters.priorities.extend(list(value)),
        "status" => filters.statuses.extend(list(value)),
        "status_category" => {
            for category in list(value) {
                filters.status_categories.push(parse_category(&category)?);
            }
        }
        "component" => filters.components.extend(list(value)),
        "label" => filters.labels.extend(list(value)),
        "fix_version" => filters.fix_versions.extend(list(value)),
        "affects_version" => filters.affects_versions.extend(list(value)),
        "assignee" => filters.assignees.extend(list(value)),
        "environment" => filters.environment = Some(value.to_owned()),
        "resolution" => filters.resolutions.extend(list(value)),
        "exclude_resolution" => filters.exclude_resolutions.extend(list(value)),
        "since" => filters.created_since = Some(parse_instant(value)?),
        "until" => filters.created_until = Some(parse_instant(value)?),
        "resolved_since" => filters.resolved_since = Some(parse_instant(value)?),
        _ => {
            return Err(format!(
                "unknown analysis option; the options are {}",
                OPTION_NAMES.join(", ")
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_fill_the_same_fields_as_the_cli_options() {
        let params = params_from_pairs([
            ("window", "30"),
            ("period", "month"),
            ("area", "fix_version"),
            ("status-category", "new,done"),
            ("bug_type", "Incident"),
            ("since", "2018-01-01"),
        ])
        .unwrap();
        assert_eq!(params.window, Window::Days(30));
        assert_eq!(params.period, Period::Month);
        assert_eq!(params.area, AreaField::FixVersion);
        assert_eq!(params.filters.status_categories.len(), 2);
        assert_eq!(params.bug_types, ["Bug", "Defect", "Incident"]);
        assert!(params.filters.created_since.is_some());
    }

    #[test]
    fn bad_values_name_the_option() {
        let error = params_from_pairs([("window", "forever")]).unwrap_err().to_string();
        assert!(error.contains("window") && error.contains("36500"), "{error}");
        assert!(params_from_pairs([("horizon", "0")]).is_err());
    }

    #[test]
    fn filter_names_are_the_options_that_filter() {
        assert_eq!(FILTER_NAMES.first(), Some(&"type"));
        assert!(FILTER_NAMES.contains(&"resolved_since") && FILTER_NAMES.contains(&"component"));
        let shaping = ["as_of", "window", "period", "area", "horizon", "half_life", "bug_type"];
        assert!(shaping.iter().all(|name| !FILTER_NAMES.contains(name)));
    }

    #[test]
    fn project_keys_are_capitalised_and_checked() {
        assert_eq!(project_key("zookeeper").as_deref(), Ok("ZOOKEEPER"));
        assert!(project_key("a b").is_err() && project_key("").is_err());
        assert!(project_key("1X").is_err() && project_key(&"A".repeat(65)).is_err());
    }
}
