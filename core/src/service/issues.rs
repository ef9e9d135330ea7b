//! Listing a project's issues page by page, with the analysis filters.
//!
//! Issues come newest first (by creation, then key), so a page stays put while older issues
//! are added behind it. A page is cut from the filtered list by offset; the filtered list
//! is built on each request from the project's issues as
//! [`AnalysisCache::issues`](super::analysis::AnalysisCache::issues) keeps them in memory,
//! and only the rows of the page are made.
//!
//! Shortcoming: filtering runs over every issue of the project on each request (a few
//! milliseconds at 100,000 issues); a project too large for the issue cache is read from
//! the store each time. Filters and paging in the store's SQL would lift both.

use serde::{Deserialize, Serialize};

use crate::analysis::{issue_passes, FilterSet, Filters};
use crate::model::{Issue, StatusCategory, Timestamp};

/// Largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 1000;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;

/// One issue as lists and exports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueRow {
    /// JIRA's numeric id, when known.
    pub id: Option<u64>,
    /// Issue key.
    pub key: String,
    /// Project key.
    pub project: String,
    /// Issue type.
    pub issue_type: String,
    /// Status name.
    pub status: String,
    /// Status category.
    pub status_category: StatusCategory,
    /// Priority, when set.
    pub priority: Option<String>,
    /// Resolution, when resolved.
    pub resolution: Option<String>,
    /// Creation instant.
    pub created: Option<Timestamp>,
    /// Last update.
    pub updated: Option<Timestamp>,
    /// Resolution instant.
    pub resolved: Option<Timestamp>,
    /// Components.
    pub components: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Fix versions.
    pub fix_versions: Vec<String>,
    /// Assignee.
    pub assignee: Option<String>,
    /// Summary line.
    pub summary: String,
}

impl From<&Issue> for IssueRow {
    fn from(issue: &Issue) -> Self {
        let names = |list: &[crate::model::Text]| list.iter().map(|t| t.to_string()).collect();
        IssueRow {
            id: issue.id,
            key: issue.key.to_string(),
            project: issue.project.to_string(),
            issue_type: issue.issue_type.to_string(),
            status: issue.status.to_string(),
            status_category: issue.category(),
            priority: issue.priority.as_ref().map(|t| t.to_string()),
            resolution: issue.resolution.as_ref().map(|t| t.to_string()),
            created: issue.created,
            updated: issue.updated,
            resolved: issue.resolved,
            components: names(&issue.components),
            labels: names(&issue.labels),
            fix_versions: names(&issue.fix_versions),
            assignee: issue.assignee.as_ref().map(|t| t.to_string()),
            summary: issue.summary.to_string(),
        }
    }
}

/// One page of issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuePage {
    /// Issues matching the filters, in all pages.
    pub total: u64,
    /// Where this page starts in the filtered list.
    pub offset: u64,
    /// The page size asked for.
    pub limit: u32,
    /// The offset of the next page; absent on the last page.
    pub next_offset: Option<u64>,
    /// The issues of this page.
    pub issues: Vec<IssueRow>,
}

/// The issues passing `filters`, newest first.
pub fn matching<'a>(issues: &'a [Issue], filters: &Filters) -> Vec<&'a Issue> {
    let set = FilterSet::new(filters);
    let mut kept: Vec<&Issue> = issues.iter().filter(|i| issue_passes(&set, i)).collect();
    kept.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.key.cmp(&b.key)));
    kept
}

/// Rows of the issues passing `filters`, newest first.
pub fn matching_issues(issues: &[Issue], filters: &Filters) -> Vec<IssueRow> {
    matching(issues, filters).into_iter().map(IssueRow::from).collect()
}

/// The page of `limit` issues (capped at [`MAX_LIMIT`]) from `offset` among `issues`
/// passing `filters`.
pub fn issue_page(issues: &[Issue], filters: &Filters, offset: u64, limit: u32) -> IssuePage {
    page_of(&matching(issues, filters), offset, limit)
}

/// Cuts one page out of `kept`, making rows of that page only.
pub fn page_of(kept: &[&Issue], offset: u64, limit: u32) -> IssuePage {
    let limit = limit.clamp(1, MAX_LIMIT);
    let total = kept.len() as u64;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(kept.len());
    let issues: Vec<IssueRow> =
        kept[start..].iter().take(limit as usize).map(|issue| IssueRow::from(*issue)).collect();
    let end = start as u64 + issues.len() as u64;
    let next_offset = (end < total).then_some(end);
    IssuePage { total, offset, limit, next_offset, issues }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_and_say_where_the_next_starts() {
        let issues: Vec<Issue> =
            (0..5).map(|n| Issue { key: format!("A-{n}").into(), ..Issue::default() }).collect();
        let kept: Vec<&Issue> = issues.iter().collect();
        let first = page_of(&kept, 0, 2);
        assert_eq!((first.total, first.issues.len(), first.next_offset), (5, 2, Some(2)));
        assert_eq!(first.issues[1].key, "A-1");
        let last = page_of(&kept, 4, 2);
        assert_eq!((last.issues.len(), last.next_offset), (1, None));
        let beyond = page_of(&kept, 99, 2);
        assert!(beyond.issues.is_empty() && beyond.next_offset.is_none());
    }
}
