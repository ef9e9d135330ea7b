//! Applying [`Filters`] to one issue, comparing names without regard to case and without
//! allocating for ASCII names (the common case): a million issues pass through here.

use super::params::Filters;
use crate::model::{Issue, StatusCategory};

/// The word that, in a list filter, matches issues with no value.
const NONE: &str = "none";

/// [`Filters`] with every name lowercased once.
#[derive(Debug, Clone)]
pub struct FilterSet {
    projects: Vec<String>,
    created_since: Option<i64>,
    created_until: Option<i64>,
    resolved_since: Option<i64>,
    resolved_until: Option<i64>,
    types: Vec<String>,
    priorities: Vec<String>,
    statuses: Vec<String>,
    status_categories: Vec<StatusCategory>,
    components: Vec<String>,
    labels: Vec<String>,
    fix_versions: Vec<String>,
    affects_versions: Vec<String>,
    resolutions: Vec<String>,
    exclude_resolutions: Vec<String>,
    environment: Option<String>,
    assignees: Vec<String>,
}

fn lower_all(names: &[String]) -> Vec<String> {
    names.iter().map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()).collect()
}

impl FilterSet {
    /// Prepares `filters` for matching.
    pub fn new(filters: &Filters) -> Self {
        FilterSet {
            projects: lower_all(&filters.projects),
            created_since: filters.created_since.map(|t| t.millis()),
            created_until: filters.created_until.map(|t| t.millis()),
            resolved_since: filters.resolved_since.map(|t| t.millis()),
            resolved_until: filters.resolved_until.map(|t| t.millis()),
            types: lower_all(&filters.types),
            priorities: lower_all(&filters.priorities),
            statuses: lower_all(&filters.statuses),
            status_categories: filters.status_categories.clone(),
            components: lower_all(&filters.components),
            labels: lower_all(&filters.labels),
            fix_versions: lower_all(&filters.fix_versions),
            affects_versions: lower_all(&filters.affects_versions),
            resolutions: lower_all(&filters.resolutions),
            exclude_resolutions: lower_all(&filters.exclude_resolutions),
            environment: filters.environment.as_deref().map(|e| e.trim().to_lowercase()),
            assignees: lower_all(&filters.assignees),
        }
    }

    /// True when `issue` passes every filter. `created` is its creation instant,
    /// `category` its status category and `resolved_at` when it counts as resolved.
    pub fn keeps(
        &self,
        issue: &Issue,
        created: i64,
        category: StatusCategory,
        resolved_at: Option<i64>,
    ) -> bool {
        self.keeps_dates(created, resolved_at)
            && one_matches(&self.projects, Some(&issue.project))
            && one_matches(&self.types, Some(&issue.issue_type))
            && one_matches(&self.priorities, issue.priority.as_deref())
            && one_matches(&self.statuses, Some(&issue.status))
            && (self.status_categories.is_empty() || self.status_categories.contains(&category))
            && any_matches(&self.components, &issue.components)
            && any_matches(&self.labels, &issue.labels)
            && any_matches(&self.fix_versions, &issue.fix_versions)
            && any_matches(&self.affects_versions, &issue.affects_versions)
            && self.keeps_resolution(issue.resolution.as_deref())
            && self.keeps_environment(issue.environment.as_deref())
            && one_matches(&self.assignees, issue.assignee.as_deref())
    }

    fn keeps_dates(&self, created: i64, resolved_at: Option<i64>) -> bool {
        let created_ok = self.created_since.is_none_or(|since| created >= since)
            && self.created_until.is_none_or(|until| created < until);
        let resolved_filtered = self.resolved_since.is_some() || self.resolved_until.is_some();
        let resolved_ok = !resolved_filtered
            || resolved_at.is_some_and(|at| {
                self.resolved_since.is_none_or(|since| at >= since)
                    && self.resolved_until.is_none_or(|until| at < until)
            });
        created_ok && resolved_ok
    }

    fn keeps_resolution(&self, resolution: Option<&str>) -> bool {
        let resolution = resolution.map(str::trim).filter(|r| !r.is_empty());
        if let Some(name) = resolution {
            if self.exclude_resolutions.iter().any(|excluded| same_name(name, excluded)) {
                return false;
            }
        }
        if self.resolutions.is_empty() {
            return true;
        }
        match resolution {
            Some(name) => self.resolutions.iter().any(|kept| same_name(name, kept)),
            None => self.resolutions.iter().any(|kept| kept == NONE || kept == "unresolved"),
        }
    }

    fn keeps_environment(&self, environment: Option<&str>) -> bool {
        let Some(wanted) = &self.environment else {
            return true;
        };
        environment.is_some_and(|text| contains_without_case(text, wanted))
    }
}

/// Compares a name from the data with a lowercase filter value, ignoring case and
/// surrounding spaces; allocates only for non-ASCII names.
pub fn same_name(value: &str, lower: &str) -> bool {
    let value = value.trim();
    if value.is_ascii() {
        value.eq_ignore_ascii_case(lower)
    } else {
        value.to_lowercase() == lower
    }
}

/// True when `text` contains the lowercase `wanted`, ignoring case.
fn contains_without_case(text: &str, wanted: &str) -> bool {
    if text.is_ascii() && wanted.is_ascii() {
        let wanted = wanted.as_bytes();
        return wanted.is_empty()
            || text.as_bytes().windows(wanted.len()).any(|w| w.eq_ignore_ascii_case(wanted));
    }
    text.to_lowercase().contains(wanted)
}

/// A single-valued field against a filter list; an absent or blank value matches `none`.
fn one_matches(filter: &[String], value: Option<&str>) -> bool {
    if filter.is_empty() {
        return true;
    }
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => filter.iter().any(|wanted| same_name(value, wanted)),
        None => filter.iter().any(|wanted| wanted == NONE),
    }
}

/// A many-valued field against a filter list: any value may match; no value matches `none`.
fn any_matches(filter: &[String], values: &[crate::model::Text]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let mut present = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).peekable();
    if present.peek().is_none() {
        return filter.iter().any(|wanted| wanted == NONE);
    }
    present.any(|value| filter.iter().any(|wanted| same_name(value, wanted)))
}
