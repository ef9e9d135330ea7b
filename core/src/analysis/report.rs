//! The analysis report: the stable JSON contract documented in `docs/report-schema.md`.
//!
//! Field order here is the order in the JSON. Adding a field is a compatible change;
//! renaming or removing one needs a new `schema_version`.

use serde::{Deserialize, Serialize};

use super::params::{AreaField, Filters, Period, RiskWeights, Window};
use crate::model::Timestamp;

/// Version of the report's JSON shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `analyze` found, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Version of this JSON shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The instant the analysis was made at.
    pub as_of: Timestamp,
    /// The summary and trend window.
    pub window: WindowInfo,
    /// The parameters the report was computed with, defaults filled in.
    pub parameters: ParamsEcho,
    /// What data went in and how complete it was.
    pub data: DataInfo,
    /// Headline numbers over the window.
    pub summary: Summary,
    /// Created, resolved and open bugs per period.
    pub trends: Trends,
    /// Areas by descending risk.
    pub areas: Vec<AreaRisk>,
    /// Expected bugs for the whole selection over the horizon.
    pub forecast: Forecast,
    /// How well the model predicted this data's own past.
    pub backtest: Backtest,
    /// Rule-based findings, most severe first.
    pub insights: Vec<Insight>,
}

/// The window the summary and trends cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowInfo {
    /// First instant inside the window.
    pub start: Timestamp,
    /// Last instant of the window (`as_of`).
    pub end: Timestamp,
    /// Length in days; absent for `--window all`.
    pub days: Option<u32>,
}

/// The parameters as applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamsEcho {
    /// Window as requested.
    pub window: Window,
    /// Trend period.
    pub period: Period,
    /// Area field.
    pub area: AreaField,
    /// Forecast horizon in days.
    pub horizon_days: u32,
    /// Decay half-life in days.
    pub half_life_days: f64,
    /// Issue types counted as bugs.
    pub bug_types: Vec<String>,
    /// Priority scale used, most severe first, with the weight of each.
    pub priority_scale: Vec<PriorityWeight>,
    /// Risk factor weights, normalised.
    pub weights: RiskWeights,
    /// Filters.
    pub filters: Filters,
}

/// One step of the priority scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityWeight {
    /// Priority name (or `Unknown`).
    pub priority: String,
    /// Severity weight used by the bug score and open load.
    pub weight: f64,
}

/// What data went in. Issues created after `as_of` did not exist at the analysis instant:
/// they count in `issues` only, in none of the other counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// Issues given to `analyze`.
    pub issues: u64,
    /// Issues created at or before `as_of` left after the filters (bugs and other types).
    pub matched: u64,
    /// Matching issues of a bug type (so also created at or before `as_of`).
    pub bugs: u64,
    /// Issues left out because they have no creation date.
    pub without_created: u64,
    /// Projects present among the matched issues.
    pub projects: Vec<String>,
    /// Earliest creation date among the counted bugs.
    pub first_created: Option<Timestamp>,
    /// Latest creation date among the counted bugs (never after `as_of`).
    pub last_created: Option<Timestamp>,
    /// Days of bug history before `as_of`.
    pub history_days: f64,
    /// Bugs with a complete changelog.
    pub changelog_complete: u64,
    /// Bugs whose changelog is truncated (JIRA counted more entries than it sent).
    pub changelog_incomplete: u64,
    /// Bugs whose reopen count comes from the "Time in Status" field.
    pub time_in_status: u64,
    /// Bugs with no status history at all.
    pub no_history: u64,
}

/// A distribution of durations in days.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// How many values.
    pub count: u64,
    /// Median, absent with no values.
    pub median: Option<f64>,
    /// 80th percentile.
    pub p80: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// Arithmetic mean.
    pub mean: Option<f64>,
}

/// Headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Bugs created in the window.
    pub bugs: u64,
    /// Bugs open at `as_of` (created at any time).
    pub open: u64,
    /// Bugs resolved in the window.
    pub resolved: u64,
    /// Days from creation to resolution of the bugs resolved in the window.
    pub resolution_days: Distribution,
    /// Age in days of the bugs open at `as_of`.
    pub open_age_days: Distribution,
    /// Reopens among the bugs resolved in the window whose history is known.
    pub reopen: ReopenStats,
    /// Bugs created in the window and open at `as_of`, by priority, most severe first,
    /// `Unknown` last.
    pub by_priority: Vec<PriorityCount>,
}

/// Reopen statistics.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReopenStats {
    /// Bugs whose history tells whether they were reopened.
    pub known: u64,
    /// Of those, bugs reopened at least once.
    pub reopened: u64,
    /// `reopened / known`; absent when nothing is known.
    pub rate: Option<f64>,
}

/// Bug counts for one priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityCount {
    /// Priority name, or `Unknown` for bugs without one.
    pub priority: String,
    /// Bugs of this priority created in the window.
    pub bugs: u64,
    /// Bugs of this priority open at `as_of`.
    pub open: u64,
}

/// Trends per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    /// Period length.
    pub period: Period,
    /// Periods in chronological order.
    pub points: Vec<TrendPoint>,
    /// Linear trend of bugs created per complete period (the period holding `as_of` is
    /// left out unless it ends there).
    pub created_slope: Slope,
    /// Linear trend of the open backlog per period.
    pub open_slope: Slope,
}

/// One period of the trends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// First day of the period (ISO date, UTC).
    pub start: chrono::NaiveDate,
    /// Bugs created in the period (the whole period, also when it begins before the
    /// window).
    pub created: u64,
    /// Bugs resolved in the period.
    pub resolved: u64,
    /// Bugs open at the end of the period (or at `as_of` for the last one).
    pub open: u64,
    /// Median days to resolve of the bugs resolved in the period.
    pub resolution_days_median: Option<f64>,
}

/// A least-squares slope with its significance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Slope {
    /// Change per period.
    pub per_period: f64,
    /// Two-sided p-value of a t-test against no slope; absent with fewer than 3 points.
    pub p_value: Option<f64>,
    /// `rising`, `falling` or `flat` (flat unless p < 0.05).
    pub direction: String,
}

/// Risk level bands of the 0–100 score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Below 25.
    Low,
    /// 25 to below 50.
    Medium,
    /// 50 to below 75.
    High,
    /// 75 and above.
    Critical,
}

/// One area's risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaRisk {
    /// Area name (`none` for bugs without a value of the area field).
    pub name: String,
    /// Bugs of this area created in the window.
    pub bugs: u64,
    /// Bugs of this area open at `as_of`.
    pub open: u64,
    /// Bugs of this area resolved in the window.
    pub resolved: u64,
    /// Risk score, 0 to 100.
    pub risk: f64,
    /// Level band of the score.
    pub level: Level,
    /// Contributing factors, largest contribution first.
    pub factors: Vec<Factor>,
    /// Raw measurements behind the factors.
    pub metrics: AreaMetrics,
    /// Expected bugs in this area over the horizon.
    pub forecast: Forecast,
}

/// One factor's share of an area's risk score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Stable factor name: `decayed_bugs`, `open_load`, `inflow_trend`, `reopen_rate`,
    /// `resolution_time`.
    pub kind: String,
    /// Points this factor adds to the score.
    pub points: f64,
    /// The factor in words, with its numbers.
    pub message: String,
}

/// Raw per-area measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaMetrics {
    /// Severity-weighted, time-decayed bug score.
    pub decayed_bugs: f64,
    /// Open bugs weighted by priority and age.
    pub open_load: f64,
    /// Bugs created in the last horizon.
    pub inflow_recent: u64,
    /// Bugs created in the three horizons before that.
    pub inflow_previous: u64,
    /// Recent daily rate over previous daily rate; absent when previous is zero.
    pub inflow_ratio: Option<f64>,
    /// One-sided p-value that the recent inflow is higher than before.
    pub inflow_p_value: Option<f64>,
    /// Reopened share of resolved bugs with known history (shrunk towards the project's).
    pub reopen_rate: Option<f64>,
    /// Median resolution days of the area's bugs resolved before `as_of`.
    pub resolution_days_median: Option<f64>,
    /// That median over the project's median.
    pub resolution_ratio: Option<f64>,
}

/// Expected bug count over a horizon with an 80% interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Horizon in days.
    pub horizon_days: u32,
    /// Expected number of bugs.
    pub expected: f64,
    /// 10th percentile of the predictive distribution.
    pub low: u64,
    /// 90th percentile of the predictive distribution.
    pub high: u64,
    /// Variance over mean of weekly counts (1 is Poisson); intervals widen above 1.
    pub dispersion: f64,
}

/// How well the model ranked and forecast this data's own past.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// Cut-off dates used.
    pub cutoffs: u32,
    /// Horizon in days after each cut-off.
    pub horizon_days: u32,
    /// (cut-off, area) pairs scored.
    pub pairs: u64,
    /// Pairs where the area got at least one bug in the horizon.
    pub positives: u64,
    /// ROC AUC of the risk score for "area gets a bug in the next horizon".
    pub auc: Option<f64>,
    /// The same AUC for the naive baseline (bugs in the last horizon).
    pub baseline_auc: Option<f64>,
    /// Brier score of the model's probability of at least one bug.
    pub brier: Option<f64>,
    /// Brier score of the baseline.
    pub baseline_brier: Option<f64>,
    /// Mean absolute error of the per-area forecast counts.
    pub mae: Option<f64>,
    /// The same for the baseline.
    pub baseline_mae: Option<f64>,
    /// Plain-language verdict.
    pub verdict: String,
}

/// Severity of an insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth acting on.
    Warning,
    /// Needs attention now.
    Critical,
}

/// A rule-based finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insight {
    /// Stable rule name, such as `inflow_spike`.
    pub kind: String,
    /// Severity.
    pub severity: Severity,
    /// The finding in words.
    pub message: String,
    /// Area the finding is about, if any.
    pub area: Option<String>,
    /// The numbers behind the finding, by name.
    pub evidence: std::collections::BTreeMap<String, f64>,
    /// Keys of issues behind the finding (at most 10).
    pub issues: Vec<String>,
}
