//! The drill-down list: the issues behind a number of the analysis, page by page, with the
//! filters that select them shown above. It reads the same filters as
//! `GET /api/projects/{key}/issues` through the same core call; pages are numbered from 1.
//!
//! A drill-down link also names the analysis it came from (`back`); the list's way back
//! leads there, and without it to the analysis made of the list's own filters.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use bugdash::service::analysis::params_for_store;
use bugdash::service::issues::{issue_page, IssueRow};
use bugdash::service::options::{params_from_pairs, FILTER_NAMES};

use super::drill::{back_address, BACK};
use super::format;
use super::projects::{canonical_address, path_key, title};
use super::report_view::{jira_base, jira_link};
use super::session::Viewer;
use super::view::{render, Layout, Link, Section};
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryPairs;
use crate::state::AppState;

/// Issues on one page.
const PAGE_SIZE: u32 = 50;
/// The highest page number accepted.
const MAX_PAGE: u64 = 1_000_000;

/// One issue as the list shows it.
struct IssueView {
    key: String,
    href: Option<String>,
    summary: String,
    issue_type: String,
    status: String,
    category: &'static str,
    priority: String,
    components: String,
    created: String,
    resolved: String,
}

/// A filter shown above the list.
struct Chip {
    name: String,
    value: String,
}

#[derive(Template)]
#[template(path = "issues.html")]
struct IssuesPage {
    layout: Layout,
    heading: String,
    total: String,
    first: u64,
    last: u64,
    page: u64,
    pages: u64,
    rows: Vec<IssueView>,
    chips: Vec<Chip>,
    previous: Option<String>,
    next: Option<String>,
    analysis: String,
    export: String,
    jira: bool,
}

/// `GET /projects/{key}/issues`: a page of the issues matching the filters.
pub async fn issues(
    State(state): State<AppState>,
    viewer: Viewer,
    key: Result<Path<String>, PathRejection>,
    uri: Uri,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let (typed, key) = match path_key(key) {
        Ok(key) => key,
        Err(error) => return viewer.refuse(error),
    };
    if let Some(redirect) = canonical_address(&typed, &key, "/issues", &uri, &pairs) {
        return redirect;
    }
    let back = Link {
        href: format!("/projects/{}", format::encode(&key)),
        label: format!("{} analysis", title(&key)),
    };
    match issues_page(&state, &viewer, &key, &pairs).await {
        Ok(page) => page,
        Err(error) => viewer.refuse_with(error, Some(back)),
    }
}

/// What the list's query asks for.
#[derive(Debug, PartialEq)]
struct ListQuery {
    /// The page, from 1.
    page: u64,
    /// The filter pairs, names with `_`.
    filters: Vec<(String, String)>,
    /// The analysis the list was opened from, as given (`back`), and as a checked link.
    back: Option<(String, String)>,
}

/// The page number, the filter pairs and the analysis to go back to; any other name is a
/// 400 naming it.
fn read_query(pairs: &[(String, String)]) -> ApiResult<ListQuery> {
    let mut page = None;
    let mut filters = Vec::new();
    let mut back = None;
    for (name, value) in pairs {
        let normal = name.replace('-', "_");
        if normal == BACK {
            if back.is_some() {
                return Err(bugdash::Error::invalid(name, "given twice; give it once").into());
            }
            back = Some((value.clone(), back_address(value)?));
        } else if normal == "page" {
            let number = value.trim().parse::<u64>().ok().filter(|n| (1..=MAX_PAGE).contains(n));
            let Some(number) = number.filter(|_| page.is_none()) else {
                let message =
                    format!("expected one whole number from 1 to {MAX_PAGE}; got {value:?}");
                return Err(bugdash::Error::invalid(name, message).into());
            };
            page = Some(number);
        } else if FILTER_NAMES.contains(&normal.as_str()) {
            filters.push((normal, value.clone()));
        } else {
            let known = ["page", BACK].iter().chain(FILTER_NAMES).copied();
            let known = known.collect::<Vec<_>>().join(", ");
            let message = format!("unknown parameter; the parameters are {known}");
            return Err(bugdash::Error::invalid(name, message).into());
        }
    }
    Ok(ListQuery { page: page.unwrap_or(1), filters, back })
}

async fn issues_page(
    state: &AppState,
    viewer: &Viewer,
    key: &str,
    pairs: &[(String, String)],
) -> ApiResult<Response> {
    let ListQuery { page, filters, back } = read_query(pairs)?;
    let mut params = params_from_pairs(filters.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
    params_for_store(&mut params, state.settings.jira.environment.as_deref());
    let Some(issues) = state.analyses.issues(state.store.as_ref(), key).await? else {
        return Err(ApiError::NotFound(format!("the store holds no issues of project {key}")));
    };
    let offset = (page - 1) * u64::from(PAGE_SIZE);
    let found = issue_page(&issues, &params.filters, offset, PAGE_SIZE);
    let jira = jira_base(state);
    let pages = found.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let path = format!("/projects/{}/issues", format::encode(key));
    let page_link = |number: u64| {
        let mut query = filters.clone();
        if number > 1 {
            query.push(("page".into(), number.to_string()));
        }
        if let Some((given, _)) = &back {
            query.push((BACK.into(), given.clone()));
        }
        format::link(&path, &query)
    };
    let shown = found.issues.len() as u64;
    let view = IssuesPage {
        layout: Layout::new(format!("{} issues", title(key)), Some(viewer.nav(Section::Projects))),
        heading: format!("{} issues", title(key)),
        total: format::count(found.total),
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        page,
        pages,
        rows: found.issues.iter().map(|row| issue_view(row, jira.as_deref())).collect(),
        chips: filters
            .iter()
            .map(|(name, value)| Chip { name: name.replace('_', " "), value: value.clone() })
            .collect(),
        previous: (page > 1).then(|| page_link(page.min(pages + 1) - 1)),
        next: found.next_offset.map(|_| page_link(page + 1)),
        analysis: back.map_or_else(
            || format::link(&format!("/projects/{}", format::encode(key)), &filters),
            |(_, link)| link,
        ),
        export: format::link(
            &format!("/api/projects/{}/issues.csv", format::encode(key)),
            &filters,
        ),
        jira: jira.is_some(),
    };
    render(&view)
}

fn issue_view(row: &IssueRow, jira: Option<&str>) -> IssueView {
    let date = |at: Option<bugdash::model::Timestamp>| at.map(format::day).unwrap_or_default();
    IssueView {
        href: jira_link(jira, &row.key),
        key: row.key.clone(),
        summary: row.summary.clone(),
        issue_type: row.issue_type.clone(),
        status: row.status.clone(),
        category: row.status_category.as_str(),
        priority: row.priority.clone().unwrap_or_default(),
        components: row.components.join(", "),
        created: date(row.created),
        resolved: date(row.resolved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_list_takes_a_page_number_and_the_filters_only() {
        let query = read_query(&pairs(&[("page", "3"), ("fix-version", "3.5")])).unwrap();
        assert_eq!((query.page, query.filters), (3, pairs(&[("fix_version", "3.5")])));

        for bad in [("page", "0"), ("page", "x"), ("window", "30")] {
            let error = read_query(&pairs(&[bad])).unwrap_err().to_string();
            assert!(error.contains(bad.0), "{error}");
        }
    }

    #[test]
    fn the_way_back_leads_to_the_analysis_the_list_came_from() {
        let given = "/projects/zookeeper?window=30&component=c%20client";
        let query = read_query(&pairs(&[("type", "Bug"), ("back", given)])).unwrap();

        let (_, link) = query.back.expect("a way back");
        assert_eq!(link, "/projects/ZOOKEEPER?window=30&component=c%20client");
        assert_eq!(query.filters, pairs(&[("type", "Bug")]));
    }

    #[test]
    fn a_way_back_to_anywhere_but_an_analysis_is_refused() {
        let hostile = [
            "//evil.example/projects/X",
            "https://evil.example/projects/X",
            "/admin/users",
            "/projects/X/issues",
            "/projects/%2F%2Fevil.example",
            "/projects/X?colour=red",
            "/projects/X?window=forever",
            "javascript:alert(1)",
            "/projects/X\\evil",
        ];
        for value in hostile {
            let error = read_query(&pairs(&[("back", value)])).unwrap_err().to_string();
            assert!(error.contains("back"), "{value}: {error}");
        }
        let twice = pairs(&[("back", "/projects/X"), ("back", "/projects/Y")]);
        assert!(read_query(&twice).is_err());
    }
}
