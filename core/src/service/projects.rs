//! The project list of the service: every stored project with its current risk summary
//! and how fresh its data is.

use serde::{Deserialize, Serialize};

use crate::analysis::report::Level;
use crate::analysis::Params;
use crate::model::Timestamp;
use crate::service::analysis::{analyze_stored, params_for_store, AnalysisCache};
use crate::store::Store;
use crate::Result;

/// A stored project with its risk summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectOverview {
    /// Project key.
    pub key: String,
    /// Display name, when known.
    pub name: Option<String>,
    /// Issues stored.
    pub issues: u64,
    /// How fresh the data is.
    pub freshness: Freshness,
    /// The default analysis in a few numbers; absent when the project holds no issue.
    pub risk: Option<RiskSummary>,
}

/// How fresh a project's data is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Freshness {
    /// Increases on every write to the project's issues.
    pub data_version: i64,
    /// When the store last changed the project's issues.
    pub updated_at: Option<Timestamp>,
    /// Latest JIRA update instant fully synced, when the project is synced.
    pub synced_up_to: Option<Timestamp>,
    /// Latest timestamp in the data: what the analysis is made as of.
    pub data_as_of: Option<Timestamp>,
}

/// The default analysis (last 90 days, areas by component) in a few numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskSummary {
    /// Bugs open at the analysis instant.
    pub open_bugs: u64,
    /// Bugs created in the window.
    pub bugs_in_window: u64,
    /// Areas per risk level.
    pub areas_by_level: LevelCounts,
    /// The riskiest areas, at most three.
    pub top_areas: Vec<TopArea>,
    /// Bugs expected over the forecast horizon.
    pub forecast_expected: f64,
    /// The forecast horizon in days.
    pub horizon_days: u32,
}

/// Number of areas at each risk level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCounts {
    /// Critical areas.
    pub critical: u32,
    /// High-risk areas.
    pub high: u32,
    /// Medium-risk areas.
    pub medium: u32,
    /// Low-risk areas.
    pub low: u32,
}

/// One area in a risk summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopArea {
    /// Area name.
    pub name: String,
    /// Risk score, 0 to 100.
    pub risk: f64,
    /// Its level.
    pub level: Level,
}

/// Every stored project with its risk summary, by key; the analyses go through `cache`.
pub async fn project_overviews(
    store: &dyn Store,
    cache: &AnalysisCache,
    default_environment: Option<&str>,
) -> Result<Vec<ProjectOverview>> {
    let mut overviews = Vec::new();
    for project in store.projects().await? {
        let mut params = Params::default();
        params_for_store(&mut params, default_environment);
        let report = if project.issues > 0 {
            analyze_stored(store, cache, &project.key, params).await?
        } else {
            None
        };
        let report = report.as_ref().map(|cached| &cached.report);
        overviews.push(ProjectOverview {
            freshness: Freshness {
                data_version: project.data_version,
                updated_at: project.updated_at,
                synced_up_to: project.sync.as_ref().and_then(|s| s.watermark),
                data_as_of: report.map(|r| r.as_of),
            },
            risk: report.map(risk_summary),
            key: project.key,
            name: project.name,
            issues: project.issues,
        });
    }
    Ok(overviews)
}

fn risk_summary(report: &crate::analysis::Report) -> RiskSummary {
    let mut levels = LevelCounts::default();
    for area in &report.areas {
        match area.level {
            Level::Critical => levels.critical += 1,
            Level::High => levels.high += 1,
            Level::Medium => levels.medium += 1,
            Level::Low => levels.low += 1,
        }
    }
    let top_areas = report
        .areas
        .iter()
        .take(3)
        .map(|a| TopArea { name: a.name.clone(), risk: a.risk, level: a.level })
        .collect();
    RiskSummary {
        open_bugs: report.summary.open,
        bugs_in_window: report.summary.bugs,
        areas_by_level: levels,
        top_areas,
        forecast_expected: report.forecast.expected,
        horizon_days: report.forecast.horizon_days,
    }
}
