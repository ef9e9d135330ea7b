//! Drill-down links: from a number of the analysis to the issue list that shows the issues
//! behind it.
//!
//! The issue list takes the analysis filters only, so a link carries the person's filters
//! and adds what the number means: the bug types, the window (created or resolved since
//! its start), "open" (a status in the new or in-progress category), one area, or one
//! trend period. Where the person's own filter already narrows the same field, the two are
//! combined (the later start, the earlier end, the shared types) rather than both sent,
//! which the list would read as alternatives.
//!
//! Every link also carries `back`, the address of the analysis it was made on, so that the
//! list's way back returns to that very analysis rather than to one made of the list's own
//! filters (see [`back_address`] for what the list accepts there).
//!
//! Shortcoming: the list selects open issues by their current status category and bug
//! types by name, while the analysis also reads resolution dates and counts any type whose
//! name contains "bug"; on data with resolved issues left in an open status, or such
//! types, a list can differ from its number by those issues. Passing the analysis's own
//! selection to the issue list (a core change) would lift that.

use axum::extract::Query;
use axum::http::Uri;
use bugdash::analysis::{AreaField, Params, Report};
use bugdash::model::{StatusCategory, Timestamp, MILLIS_PER_DAY};
use bugdash::service::options::{params_from_pairs, project_key, FILTER_NAMES};

use super::format;

/// What a link shows.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Bugs created in the window.
    Created,
    /// Bugs open now.
    Open,
    /// Bugs resolved in the window.
    Resolved,
    /// Bugs created from the first instant to before the second.
    CreatedBetween(Timestamp, Timestamp),
}

/// Builds the drill-down links of one analysis.
#[derive(Debug, Clone)]
pub struct Drill {
    project: String,
    /// The person's filter pairs, names with `_`, minus those a link recomputes.
    kept: Vec<(String, String)>,
    /// Every filter pair of the person, for links that add nothing.
    filters: Vec<(String, String)>,
    bug_types: Vec<String>,
    user_types: Vec<String>,
    user_categories: Vec<StatusCategory>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    resolved_since: Option<Timestamp>,
    window_start: Timestamp,
    /// The end of the analysis when it was asked for explicitly (`as_of`); otherwise the
    /// data's newest instant, after which nothing was created.
    end: Option<Timestamp>,
    area: AreaField,
    /// The address of the analysis the links are made on, the page's query as it came.
    back: String,
}

/// The issue-list option that holds the address of the analysis a link was made on.
pub const BACK: &str = "back";

/// Names a link recomputes from the person's filters.
const RECOMPUTED: [&str; 5] = ["since", "until", "resolved_since", "type", "status_category"];

impl Drill {
    /// The links of the analysis of `project` made from `pairs` (the page's query, already
    /// read into `params`) with the result `report`.
    pub fn new(
        project: &str,
        pairs: &[(String, String)],
        params: &Params,
        report: &Report,
    ) -> Drill {
        let filters: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.replace('-', "_"), value.clone()))
            .filter(|(name, _)| FILTER_NAMES.contains(&name.as_str()))
            .collect();
        let kept = filters
            .iter()
            .filter(|(name, _)| !RECOMPUTED.contains(&name.as_str()))
            .cloned()
            .collect();
        let given = &params.filters;
        Drill {
            project: project.to_owned(),
            kept,
            filters,
            bug_types: report.parameters.bug_types.clone(),
            user_types: given.types.clone(),
            user_categories: given.status_categories.clone(),
            since: given.created_since,
            until: given.created_until,
            resolved_since: given.resolved_since,
            window_start: report.window.start,
            end: params.as_of.map(|at| Timestamp::from_millis(at.millis() + 1)),
            area: report.parameters.area,
            back: format::link(&format!("/projects/{}", format::encode(project)), pairs),
        }
    }

    /// Every issue the person's filters select, bugs or not.
    pub fn everything(&self) -> String {
        let mut pairs = self.filters.clone();
        pairs.push((BACK.into(), self.back.clone()));
        format::link(&self.path(None), &pairs)
    }

    /// The person's filter pairs.
    pub fn filters(&self) -> &[(String, String)] {
        &self.filters
    }

    /// The issue list of `scope`, within `area` when given.
    pub fn link(&self, scope: Scope, area: Option<&str>) -> String {
        let area_option = area.and_then(|_| area_option(self.area));
        let mut pairs: Vec<(String, String)> = self
            .kept
            .iter()
            .filter(|(name, _)| Some(name.as_str()) != area_option)
            .cloned()
            .collect();
        pairs.push(("type".into(), self.types().join(",")));
        let (mut since, mut until, mut resolved_since) = (self.since, self.end, None);
        match scope {
            Scope::Created => since = later(since, Some(self.window_start)),
            Scope::Open => pairs.push(("status_category".into(), self.open_categories())),
            Scope::Resolved => resolved_since = Some(self.window_start),
            Scope::CreatedBetween(from, to) => {
                since = later(since, Some(from));
                until = earlier(until, Some(to));
            }
        }
        until = earlier(until, self.until);
        resolved_since = later(resolved_since, self.resolved_since);
        if !matches!(scope, Scope::Open) && !self.user_categories.is_empty() {
            let categories: Vec<&str> = self.user_categories.iter().map(|c| c.as_str()).collect();
            pairs.push(("status_category".into(), categories.join(",")));
        }
        for (name, at) in [("since", since), ("until", until), ("resolved_since", resolved_since)] {
            if let Some(at) = at {
                pairs.push((name.into(), instant(at)));
            }
        }
        if let (Some(option), Some(area)) = (area_option, area) {
            pairs.push((option.into(), area.to_owned()));
        }
        pairs.push((BACK.into(), self.back.clone()));
        format::link(&self.path(area), &pairs)
    }

    fn path(&self, area: Option<&str>) -> String {
        let project = match (self.area, area) {
            (AreaField::Project, Some(project)) if project != "none" => project,
            _ => &self.project,
        };
        format!("/projects/{}/issues", format::encode(project))
    }

    /// The bug types to list: the person's types that are bug types, else every bug type.
    fn types(&self) -> Vec<String> {
        let is_bug = |name: &String| {
            let lower = name.trim().to_lowercase();
            lower.contains("bug") || self.bug_types.iter().any(|t| t.to_lowercase() == lower)
        };
        let chosen: Vec<String> = self.user_types.iter().filter(|t| is_bug(t)).cloned().collect();
        if chosen.is_empty() {
            self.bug_types.clone()
        } else {
            chosen
        }
    }

    fn open_categories(&self) -> String {
        let open = [StatusCategory::New, StatusCategory::Indeterminate];
        let chosen: Vec<&str> =
            self.user_categories.iter().filter(|c| open.contains(c)).map(|c| c.as_str()).collect();
        if chosen.is_empty() {
            "new,indeterminate".to_owned()
        } else {
            chosen.join(",")
        }
    }
}

/// The analysis a list's `back` names, as a link: `/projects/KEY` and analysis options,
/// rebuilt from their parts. Anything else (another site, another page, an option or a
/// value the analysis does not read) is an error naming `back`, so the list's way back
/// can only lead to an analysis of this service.
pub fn back_address(value: &str) -> bugdash::Result<String> {
    let refuse = || {
        // A hostile value can be megabytes long; the message quotes its start only.
        let shown: String = value.chars().take(60).collect();
        let message = format!(
            "expected the address of an analysis, such as /projects/KEY?window=30; got {shown:?}"
        );
        bugdash::Error::invalid(BACK, message)
    };
    let uri: Uri = value.parse().map_err(|_| refuse())?;
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Err(refuse());
    }
    let segment = uri.path().strip_prefix("/projects/").filter(|key| !key.contains('/'));
    let key = project_key(segment.ok_or_else(refuse)?).map_err(|_| refuse())?;
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri).map_err(|_| refuse())?;
    params_from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).map_err(|_| refuse())?;
    Ok(format::link(&format!("/projects/{}", format::encode(&key)), &pairs))
}

/// The issue-list option that selects an area of `field`; `None` for the project, which
/// the list's path selects.
pub fn area_option(field: AreaField) -> Option<&'static str> {
    match field {
        AreaField::Component => Some("component"),
        AreaField::Label => Some("label"),
        AreaField::FixVersion => Some("fix_version"),
        AreaField::AffectsVersion => Some("affects_version"),
        AreaField::Assignee => Some("assignee"),
        AreaField::Project => None,
    }
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An instant as a query value: the date alone at midnight UTC, else RFC 3339.
pub fn instant(at: Timestamp) -> String {
    if at.millis().rem_euclid(MILLIS_PER_DAY) == 0 {
        at.date().to_string()
    } else {
        at.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bugdash::service::options::params_from_pairs;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    fn report_for(params: &Params) -> Report {
        let issue = bugdash::model::Issue {
            key: "DEMO-1".into(),
            project: "DEMO".into(),
            issue_type: "Bug".into(),
            status: "Open".into(),
            created: Some(Timestamp::from_millis(1_700_000_000_000)),
            components: vec!["server".into()].into(),
            ..bugdash::model::Issue::default()
        };
        bugdash::analysis::analyze(&[issue], params).expect("analysis")
    }

    #[test]
    fn an_area_link_replaces_the_persons_filter_of_the_same_field() {
        let given =
            pairs(&[("window", "30"), ("component", "server,client"), ("priority", "Major")]);
        let params =
            params_from_pairs(given.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
        let report = report_for(&params);
        let drill = Drill::new("DEMO", &given, &params, &report);

        let open = drill.link(Scope::Open, Some("server"));

        // What the list selects; `back` after it names the page's own analysis.
        let (open, _) = open.split_once("&back=").expect("a way back");
        assert!(open.starts_with("/projects/DEMO/issues?"), "{open}");
        assert!(open.contains("priority=Major") && open.contains("component=server"), "{open}");
        assert!(!open.contains("client") && !open.contains("window"), "{open}");
        assert!(open.contains("status_category=new%2Cindeterminate"), "{open}");
        assert!(open.contains("type=Bug%2CDefect"), "{open}");
    }

    #[test]
    fn a_window_link_starts_at_the_later_of_the_window_and_the_persons_since() {
        let given = pairs(&[("since", "2000-01-01")]);
        let params =
            params_from_pairs(given.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
        let report = report_for(&params);
        let drill = Drill::new("DEMO", &given, &params, &report);

        let created = drill.link(Scope::Created, None);

        assert_eq!(created.matches("since=").count(), 1, "{created}");
        assert!(!created.contains("since=2000-01-01"), "{created}");
    }

    #[test]
    fn every_link_names_the_analysis_it_was_made_on() {
        let given = pairs(&[("window", "30"), ("priority", "Major")]);
        let params =
            params_from_pairs(given.iter().map(|(n, v)| (n.as_str(), v.as_str()))).unwrap();
        let report = report_for(&params);
        let drill = Drill::new("DEMO", &given, &params, &report);

        let links = [drill.link(Scope::Open, Some("server")), drill.everything()];

        let back = "back=%2Fprojects%2FDEMO%3Fwindow%3D30%26priority%3DMajor";
        for link in links {
            assert!(link.ends_with(back), "{link}");
        }
        let address = back_address("/projects/DEMO?window=30&priority=Major").unwrap();
        assert_eq!(address, "/projects/DEMO?window=30&priority=Major");
    }
}
