//! Analysis parameters: filters, window, period, area field, horizon and model weights,
//! each with a documented default.

use serde::{Deserialize, Serialize};

use crate::model::{StatusCategory, Timestamp};

/// How far back the summary and trends look from `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The last N days up to `as_of`.
    Days(u32),
    /// All the data up to `as_of`.
    All,
}

impl Default for Window {
    /// The last 90 days: one quarter.
    fn default() -> Self {
        Window::Days(90)
    }
}

/// Length of one trend period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// ISO weeks, starting on Monday.
    #[default]
    Week,
    /// Calendar months.
    Month,
}

/// Which issue field defines an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AreaField {
    /// Components (the default).
    #[default]
    Component,
    /// Labels.
    Label,
    /// Fix versions.
    FixVersion,
    /// Affects versions.
    AffectsVersion,
    /// Assignee.
    Assignee,
    /// Project key (useful when several projects are analysed together).
    Project,
}

/// Which issues to keep. Empty lists keep everything; several values in one list are
/// alternatives (any may match); different lists must all match. Names compare without
/// regard to case. `none` in priorities, components, labels, versions or assignees matches
/// issues that have none. Issues without a creation date are left out before any filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Project keys.
    pub projects: Vec<String>,
    /// Keep issues created at or after this instant.
    pub created_since: Option<Timestamp>,
    /// Keep issues created before this instant.
    pub created_until: Option<Timestamp>,
    /// Keep issues resolved at or after this instant (unresolved issues are dropped). An
    /// issue in a done-category status without a resolution date counts as resolved at its
    /// last update.
    pub resolved_since: Option<Timestamp>,
    /// Keep issues resolved before this instant (unresolved issues are dropped).
    pub resolved_until: Option<Timestamp>,
    /// Issue type names.
    pub types: Vec<String>,
    /// Priority names.
    pub priorities: Vec<String>,
    /// Status names.
    pub statuses: Vec<String>,
    /// Status categories.
    pub status_categories: Vec<StatusCategory>,
    /// Component names.
    pub components: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Fix version names.
    pub fix_versions: Vec<String>,
    /// Affects version names.
    pub affects_versions: Vec<String>,
    /// Resolutions to keep. Issues without a resolution are dropped unless the list also
    /// names `none` (or `unresolved`).
    pub resolutions: Vec<String>,
    /// Resolutions to leave out, such as `Duplicate` or `Won't Fix`.
    pub exclude_resolutions: Vec<String>,
    /// Case-insensitive text the environment field must contain (such as `Production`).
    pub environment: Option<String>,
    /// Assignee names.
    pub assignees: Vec<String>,
}

/// Weights of the five risk factors; they are normalised to sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RiskWeights {
    /// Severity-weighted, time-decayed bug inflow.
    pub decayed_bugs: f64,
    /// Open bugs weighted by priority and age.
    pub open_load: f64,
    /// Recent inflow against the previous period.
    pub inflow_trend: f64,
    /// Share of resolved bugs that were reopened.
    pub reopen_rate: f64,
    /// Resolution time against the project's.
    pub resolution_time: f64,
}

impl Default for RiskWeights {
    fn default() -> Self {
        RiskWeights {
            decayed_bugs: 0.35,
            open_load: 0.25,
            inflow_trend: 0.15,
            reopen_rate: 0.10,
            resolution_time: 0.15,
        }
    }
}

/// Everything `analyze` needs besides the issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Params {
    /// The instant the analysis is made at; defaults to the latest timestamp in the data.
    pub as_of: Option<Timestamp>,
    /// Summary and trend window.
    pub window: Window,
    /// Trend period.
    pub period: Period,
    /// Area field.
    pub area: AreaField,
    /// Forecast horizon in days (default 30).
    pub horizon_days: u32,
    /// Half-life of the bug-score decay in days (default 30).
    pub half_life_days: f64,
    /// Issue type names counted as bugs, compared without case. Types whose name contains
    /// "bug" always count.
    pub bug_types: Vec<String>,
    /// Priority names from most to least severe, for instances with their own scheme;
    /// empty means the built-in JIRA Server and Cloud scales.
    pub priority_order: Vec<String>,
    /// Risk factor weights.
    pub weights: RiskWeights,
    /// Which issues to keep.
    pub filters: Filters,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            as_of: None,
            window: Window::default(),
            period: Period::default(),
            area: AreaField::default(),
            horizon_days: 30,
            half_life_days: 30.0,
            bug_types: vec!["Bug".into(), "Defect".into()],
            priority_order: Vec::new(),
            weights: RiskWeights::default(),
            filters: Filters::default(),
        }
    }
}
