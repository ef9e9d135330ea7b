//! The project list and the project page: the analysis a person came for, made through
//! the same cached core call as `GET /api/projects/{key}/analysis` with the same options.
//!
//! The project page's filter form sends every analysis option by its own name, so the
//! page's address is the analysis and can be shared; an option left blank is dropped from
//! the address (one redirect) rather than read as an empty value.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use bugdash::analysis::report::Level;
use bugdash::analysis::{AreaField, Params};
use bugdash::auth::{Clock, SystemClock};
use bugdash::model::Timestamp;
use bugdash::service::analysis::{analyze_stored, params_for_store, CachedReport, ALL_PROJECTS};
use bugdash::service::options::{params_from_pairs, project_key};
use bugdash::service::projects::{project_overviews, ProjectOverview};
use std::sync::Arc;

use super::charts::{self, Svg};
use super::drill::{Drill, Scope};
use super::filters::FilterForm;
use super::format;
use super::report_view::{self, AreaRow, BacktestView, Figure, InsightView};
use super::session::{moved, see_other, Viewer};
use super::view::{render, Layout, Link, Section};
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryPairs;
use crate::state::AppState;

/// An instant both ways: how long ago, and exactly.
#[derive(Debug, Clone)]
pub struct When {
    /// `3 hours ago`.
    pub ago: String,
    /// `2019-05-20 14:03 UTC`.
    pub exact: String,
}

impl When {
    /// `at` as seen now.
    pub fn of(at: Timestamp) -> When {
        When { ago: format::ago(at, SystemClock.now()), exact: format::exact(at) }
    }
}

/// One row of the project list.
struct ProjectRow {
    key: String,
    name: String,
    href: String,
    issues: String,
    level: Option<Level>,
    levels: String,
    open_bugs: String,
    open_href: String,
    bugs_in_window: String,
    created_href: String,
    top_areas: String,
    forecast: String,
    sparkline: Svg,
    synced: Option<When>,
    newest: Option<When>,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    layout: Layout,
    rows: Vec<ProjectRow>,
    total_open: String,
}

/// `GET /projects`: every project with its risk, open bugs, trend and freshness.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Response {
    viewer.respond(list_page(&state, &viewer).await)
}

async fn list_page(state: &AppState, viewer: &Viewer) -> ApiResult<Response> {
    let environment = state.settings.jira.environment.as_deref();
    let overviews = project_overviews(state.store.as_ref(), &state.analyses, environment).await?;
    let mut rows = Vec::with_capacity(overviews.len());
    let mut total_open = 0;
    for overview in overviews {
        // The overview just made this analysis: this is a cache hit.
        let cached = default_report(state, &overview).await?;
        total_open += overview.risk.as_ref().map_or(0, |risk| risk.open_bugs);
        rows.push(project_row(overview, cached.as_deref()));
    }
    let page = ProjectsPage {
        layout: Layout::new("Projects", Some(viewer.nav(Section::Projects))),
        rows,
        total_open: format::count(total_open),
    };
    render(&page)
}

async fn default_report(
    state: &AppState,
    overview: &ProjectOverview,
) -> ApiResult<Option<Arc<CachedReport>>> {
    if overview.issues == 0 {
        return Ok(None);
    }
    let mut params = Params::default();
    params_for_store(&mut params, state.settings.jira.environment.as_deref());
    Ok(analyze_stored(state.store.as_ref(), &state.analyses, &overview.key, params).await?)
}

fn project_row(overview: ProjectOverview, cached: Option<&CachedReport>) -> ProjectRow {
    let key = overview.key;
    let href = format!("/projects/{}", format::encode(&key));
    let risk = overview.risk.as_ref();
    let levels = risk.map_or_else(String::new, |risk| {
        let counts = &risk.areas_by_level;
        let parts =
            [(counts.critical, "critical"), (counts.high, "high"), (counts.medium, "medium")];
        let said: Vec<String> =
            parts.iter().filter(|(n, _)| *n > 0).map(|(n, word)| format!("{n} {word}")).collect();
        if said.is_empty() {
            "all areas low".to_owned()
        } else {
            said.join(", ")
        }
    });
    let level = risk.and_then(|risk| risk.top_areas.first().map(|area| area.level));
    let drill = cached.map(|cached| {
        let params = Params::default();
        Drill::new(&key, &[], &params, &cached.report)
    });
    let link = |scope| drill.as_ref().map_or_else(String::new, |d| d.link(scope, None));
    let created: Vec<f64> = cached.map_or_else(Vec::new, |cached| {
        cached.report.trends.points.iter().map(|p| p.created as f64).collect()
    });
    let sparkline_label = format!("Bugs created per week in {key}, last 90 days");
    ProjectRow {
        name: overview.name.clone().unwrap_or_default(),
        issues: format::count(overview.issues),
        level,
        levels,
        open_bugs: risk.map_or_else(|| "–".to_owned(), |risk| format::count(risk.open_bugs)),
        open_href: link(Scope::Open),
        bugs_in_window: risk.map_or_else(|| "–".to_owned(), |r| format::count(r.bugs_in_window)),
        created_href: link(Scope::Created),
        top_areas: risk.map_or_else(String::new, |risk| {
            let field = cached.map_or(AreaField::Component, |cached| cached.report.parameters.area);
            let names: Vec<String> =
                risk.top_areas.iter().map(|a| report_view::area_name(field, &a.name)).collect();
            names.join(", ")
        }),
        forecast: risk.map_or_else(String::new, |risk| {
            format!(
                "≈ {} in {} days",
                format::decimal(risk.forecast_expected, 0),
                risk.horizon_days
            )
        }),
        sparkline: charts::sparkline(&created, &sparkline_label),
        synced: overview.freshness.synced_up_to.or(overview.freshness.updated_at).map(When::of),
        newest: overview.freshness.data_as_of.map(When::of),
        href,
        key,
    }
}

impl ProjectRow {
    fn level_word(&self) -> &'static str {
        self.level.map_or("no data", report_view::level_word)
    }
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    heading: String,
    scope: String,
    as_of: When,
    data_note: String,
    headline: String,
    figures: Vec<Figure>,
    area_heading: &'static str,
    areas: Vec<AreaRow>,
    areas_left_out: usize,
    horizon: u32,
    trend_chart: Svg,
    trend_words: String,
    backlog_chart: Svg,
    backlog_words: String,
    insights: Vec<InsightView>,
    insights_left_out: usize,
    analysis_json: String,
    backtest: BacktestView,
    export_areas: String,
    export_issues: String,
    all_issues: String,
    form: FilterForm,
}

/// Areas listed on the page; the rest are in the areas CSV export.
const LISTED_AREAS: usize = 60;
/// Findings listed on the page, most severe first; the rest are in the analysis JSON. An
/// organisation with hundreds of areas gets a finding per slow area, which would bury the
/// few that matter and weigh the page down.
const LISTED_INSIGHTS: usize = 25;

/// `GET /projects/{key}`: the analysis of a project (or `ALL`) with the options in the
/// query.
pub async fn project(
    State(state): State<AppState>,
    viewer: Viewer,
    key: Result<Path<String>, PathRejection>,
    uri: Uri,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let (typed, key) = match path_key(key) {
        Ok(key) => key,
        Err(error) => return viewer.refuse_with(error, Some(projects_link())),
    };
    if let Some(redirect) = canonical_address(&typed, &key, "", &uri, &pairs) {
        return redirect;
    }
    let path = format!("/projects/{}", format::encode(&key));
    match project_page(&state, &viewer, &key, &pairs).await {
        Ok(page) => page,
        Err(error @ ApiError::Core(bugdash::Error::InvalidParameter { .. })) => {
            let back = Link { href: path, label: format!("{} without these options", title(&key)) };
            viewer.refuse_with(error, Some(back))
        }
        Err(error) => viewer.refuse_with(error, Some(projects_link())),
    }
}

fn projects_link() -> Link {
    Link { href: "/projects".into(), label: "All projects".into() }
}

/// A project key from the path, `ALL` included; anything else is a 400 naming it.
pub fn key_of(text: &str) -> ApiResult<String> {
    project_key(text).map_err(|message| bugdash::Error::invalid("project key", message).into())
}

/// The project key of a page's path: as typed, and as the service spells it. A key that is
/// not one, or not even text (`%ff`), is a 400 naming the project key.
pub fn path_key(path: Result<Path<String>, PathRejection>) -> ApiResult<(String, String)> {
    let Ok(Path(typed)) = path else {
        let message = "the address does not hold a readable project key (letters, digits and _, \
                       such as ZOOKEEPER)";
        return Err(bugdash::Error::invalid("project key", message.to_owned()).into());
    };
    let key = key_of(&typed)?;
    Ok((typed, key))
}

/// The redirect that replaces the page `/projects/{key}{rest}` asked for as `uri`, when it
/// has another address: [`respelt`] or, failing that, the address [`without_blanks`].
pub fn canonical_address(
    typed: &str,
    key: &str,
    rest: &str,
    uri: &Uri,
    pairs: &[(String, String)],
) -> Option<Response> {
    respelt(typed, key, rest, uri).or_else(|| {
        let path = format!("/projects/{}{rest}", format::encode(key));
        without_blanks(&path, pairs).map(|clean| see_other(&clean))
    })
}

/// When the path spells the key otherwise than the service (`zookeeper`, `all`), a
/// permanent redirect to the same page and query under the service's spelling, so that one
/// analysis has one address.
fn respelt(typed: &str, key: &str, rest: &str, uri: &Uri) -> Option<Response> {
    if typed == key {
        return None;
    }
    let path = format!("/projects/{}{rest}", format::encode(key));
    Some(moved(&uri.query().map_or_else(|| path.clone(), |query| format!("{path}?{query}"))))
}

/// The heading of a project key.
pub fn title(key: &str) -> String {
    if key == ALL_PROJECTS {
        "All projects".to_owned()
    } else {
        key.to_owned()
    }
}

/// The address without the blank options, when some are blank (a form sends every field).
fn without_blanks(path: &str, pairs: &[(String, String)]) -> Option<String> {
    if pairs.iter().all(|(_, value)| !value.trim().is_empty()) {
        return None;
    }
    let kept: Vec<(String, String)> =
        pairs.iter().filter(|(_, value)| !value.trim().is_empty()).cloned().collect();
    Some(format::link(path, &kept))
}

/// The analysis, as the API makes it.
async fn analysis(
    state: &AppState,
    key: &str,
    pairs: &[(String, String)],
) -> ApiResult<(Params, Arc<CachedReport>)> {
    let mut params = params_from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
    params_for_store(&mut params, state.settings.jira.environment.as_deref());
    let store = state.store.as_ref();
    let cached = analyze_stored(store, &state.analyses, key, params.clone()).await?;
    let cached = cached
        .ok_or_else(|| ApiError::NotFound(format!("the store holds no issues of project {key}")))?;
    Ok((params, cached))
}

async fn project_page(
    state: &AppState,
    viewer: &Viewer,
    key: &str,
    pairs: &[(String, String)],
) -> ApiResult<Response> {
    let (params, cached) = analysis(state, key, pairs).await?;
    let report = &cached.report;
    let drill = Drill::new(key, pairs, &params, report);
    let jira = report_view::jira_base(state);
    let query = format::query(pairs);
    let with_query = |path: String| if query.is_empty() { path } else { format!("{path}?{query}") };
    let api = format!("/api/projects/{}", format::encode(key));
    let (trend_chart, trend_words) = report_view::trend_chart(report, &drill);
    let (backlog_chart, backlog_words) = report_view::backlog_chart(report);
    let areas = report_view::area_rows(report, &drill, LISTED_AREAS);
    let page = ProjectPage {
        layout: Layout::new(title(key), Some(viewer.nav(Section::Projects))),
        heading: title(key),
        scope: report_view::scope_words(report),
        as_of: When::of(report.as_of),
        data_note: report_view::data_words(report),
        headline: report_view::headline(report),
        figures: report_view::figures(report, &drill),
        area_heading: report_view::area_heading(report.parameters.area),
        areas_left_out: report.areas.len().saturating_sub(areas.len()),
        horizon: report.forecast.horizon_days,
        areas,
        trend_chart,
        trend_words,
        backlog_chart,
        backlog_words,
        insights: report_view::insights(report, &drill, jira.as_deref(), LISTED_INSIGHTS),
        insights_left_out: report.insights.len().saturating_sub(LISTED_INSIGHTS),
        analysis_json: with_query(format!("{api}/analysis")),
        backtest: report_view::backtest(&report.backtest),
        export_areas: with_query(format!("{api}/areas.csv")),
        export_issues: format::link(&format!("{api}/issues.csv"), drill.filters()),
        all_issues: drill.everything(),
        form: FilterForm::new(key, pairs, report),
    };
    render(&page)
}
