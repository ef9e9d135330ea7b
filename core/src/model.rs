//! The issue model every reader produces and the analysis consumes.
//!
//! Text is held in thin reference-counted strings and lists in boxed slices rather than
//! `String`/`Vec`, so that an issue costs little beyond its text: a million issues are a
//! normal analysis input.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text of an issue (names, summaries, descriptions): an immutable, reference-counted
/// string behind one 8-byte pointer, its length stored with the characters, so that the
/// many text fields of an issue stay small and copies of one name share their bytes.
pub type Text = arcstr::ArcStr;

/// An exact UTC instant with millisecond precision (what JIRA records).
///
/// Stored with its sign bit flipped in a non-zero integer, so that `Option<Timestamp>`
/// takes 8 bytes rather than 16: an issue carries several optional instants, and a million
/// issues are a normal input. The one value this cannot hold, `i64::MIN` milliseconds, is
/// 292 million years before the epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Timestamp(std::num::NonZeroI64);

/// Milliseconds in one day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// The instant `millis` milliseconds after 1970-01-01T00:00:00Z (`i64::MIN` is read
    /// as one millisecond later).
    pub const fn from_millis(millis: i64) -> Self {
        let millis = if millis == i64::MIN { i64::MIN + 1 } else { millis };
        match std::num::NonZeroI64::new(millis ^ i64::MIN) {
            Some(bits) => Timestamp(bits),
            None => unreachable!(),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0.get() ^ i64::MIN
    }

    /// Converts to a chrono UTC date-time.
    pub fn to_datetime(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.millis()).unwrap_or_default()
    }

    /// The UTC calendar date of this instant.
    pub fn date(self) -> chrono::NaiveDate {
        self.to_datetime().date_naive()
    }

    /// Days (fractional) from `earlier` to `self`; negative when `earlier` is later.
    pub fn days_since(self, earlier: Timestamp) -> f64 {
        (self.millis() - earlier.millis()) as f64 / MILLIS_PER_DAY as f64
    }

    /// This instant shifted by a whole number of days.
    pub const fn plus_days(self, days: i64) -> Self {
        Timestamp::from_millis(self.millis() + days * MILLIS_PER_DAY)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(value: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp::from_millis(value.timestamp_millis())
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.millis().cmp(&other.millis())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds, for example `2013-07-03T00:16:13.737Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_datetime().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        f.write_str(&text)
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> Self {
        value.to_string()
    }
}

impl TryFrom<String> for Timestamp {
    type Error = crate::Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        crate::time::parse_timestamp(&value)
            .ok_or_else(|| crate::Error::invalid("timestamp", format!("cannot read {value:?}")))
    }
}

/// JIRA's three status categories; every status of every workflow belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCategory {
    /// Not started ("To Do", "Open", "Reopened", "Backlog").
    New,
    /// Being worked on ("In Progress", "Patch Available", "In Review").
    Indeterminate,
    /// Finished ("Done", "Resolved", "Closed").
    Done,
}

impl StatusCategory {
    /// Reads JIRA's category key (`new`, `indeterminate`, `done`); the category id (2, 4, 3)
    /// and the English names are accepted too.
    pub fn from_key(key: &str) -> Option<Self> {
        match key.trim().to_ascii_lowercase().as_str() {
            "new" | "2" | "to do" | "todo" => Some(StatusCategory::New),
            "indeterminate" | "4" | "in progress" => Some(StatusCategory::Indeterminate),
            "done" | "3" | "complete" => Some(StatusCategory::Done),
            _ => None,
        }
    }

    /// Guesses the category of a status from its name, for sources that give only the
    /// name (CSV exports, changelog entries). Unknown names count as not started.
    pub fn from_status_name(name: &str) -> Self {
        let lower = name.trim().to_lowercase();
        const DONE: &[&str] = &[
            "done",
            "closed",
            "resolved",
            "fixed",
            "complete",
            "completed",
            "released",
            "cancelled",
            "canceled",
            "rejected",
            "won't fix",
            "wont fix",
            "duplicate",
            "verified",
            "finished",
            "invalid",
            "已关闭",
            "已解决",
            "完成",
        ];
        const STARTED: &[&str] = &[
            "in progress",
            "patch available",
            "in review",
            "review",
            "code review",
            "testing",
            "in testing",
            "qa",
            "in qa",
            "under review",
            "ready for review",
            "in development",
            "development",
            "进行中",
            "处理中",
        ];
        if DONE.contains(&lower.as_str()) {
            StatusCategory::Done
        } else if STARTED.contains(&lower.as_str()) || lower.starts_with("in ") {
            StatusCategory::Indeterminate
        } else {
            StatusCategory::New
        }
    }

    /// The lowercase key as JIRA spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCategory::New => "new",
            StatusCategory::Indeterminate => "indeterminate",
            StatusCategory::Done => "done",
        }
    }
}

/// One status transition from an issue's changelog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When the transition happened.
    pub at: Timestamp,
    /// Status name before the transition (absent when the changelog does not say).
    pub from: Option<Text>,
    /// Status name after the transition.
    pub to: Text,
}

impl StatusChange {
    /// True when this transition takes an issue from a done-category status back to a
    /// status that is not done: a reopen.
    pub fn is_reopen(&self) -> bool {
        let from_done = self
            .from
            .as_deref()
            .is_some_and(|from| StatusCategory::from_status_name(from) == StatusCategory::Done);
        from_done && StatusCategory::from_status_name(&self.to) != StatusCategory::Done
    }
}

/// Where an issue's status history came from, which says how far it can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistorySource {
    /// No history of any kind was in the input.
    #[default]
    None,
    /// The issue's changelog (see [`Issue::history_complete`]).
    Changelog,
    /// Apache's "Time in Status" field: counts per status, no order of transitions.
    TimeInStatus,
}

/// One JIRA issue as BugDash keeps it, whatever format it was read from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Issue {
    /// JIRA's numeric issue id; stable when an issue moves. Absent in some exports.
    pub id: Option<u64>,
    /// The issue key, such as `ZOOKEEPER-8`; changes when an issue moves project.
    pub key: Text,
    /// Project key, such as `ZOOKEEPER` (taken from the key when the input lacks it).
    pub project: Text,
    /// Issue type name as the instance spells it (`Bug`, `缺陷`, `extRequest`).
    pub issue_type: Text,
    /// Current status name.
    pub status: Text,
    /// Category of the current status.
    pub status_category: Option<StatusCategory>,
    /// Priority name; absent when JIRA left it null or out.
    pub priority: Option<Text>,
    /// Resolution name (`Fixed`, `Won't Fix`, `Duplicate` …); absent while unresolved.
    pub resolution: Option<Text>,
    /// When the issue was created; absent only in trimmed exports.
    pub created: Option<Timestamp>,
    /// When the issue was last updated.
    pub updated: Option<Timestamp>,
    /// When the issue was resolved (JIRA's resolution date).
    pub resolved: Option<Timestamp>,
    /// Component names.
    pub components: Box<[Text]>,
    /// Labels.
    pub labels: Box<[Text]>,
    /// Fix version names.
    pub fix_versions: Box<[Text]>,
    /// Affects version names.
    pub affects_versions: Box<[Text]>,
    /// Environment text (plain text, also when JIRA sent a document tree).
    pub environment: Option<Text>,
    /// Assignee display name.
    pub assignee: Option<Text>,
    /// Reporter display name.
    pub reporter: Option<Text>,
    /// Summary line; may be empty.
    pub summary: Text,
    /// Description as plain text.
    pub description: Option<Text>,
    /// Comment bodies as plain text, oldest first.
    pub comments: Box<[Text]>,
    /// Status transitions from the changelog, oldest first.
    pub status_history: Box<[StatusChange]>,
    /// Where the status history came from.
    pub history_source: HistorySource,
    /// True when the changelog held every history entry JIRA counted (`total`).
    pub history_complete: bool,
    /// How many times the issue was reopened, when the input tells (changelog or
    /// "Time in Status"); absent when it does not.
    pub reopen_count: Option<u32>,
}

impl Issue {
    /// The category of the current status, guessed from the status name when the input
    /// did not carry it.
    pub fn category(&self) -> StatusCategory {
        self.status_category.unwrap_or_else(|| StatusCategory::from_status_name(&self.status))
    }

    /// Counts the reopens in the status history.
    pub fn reopens_in_history(&self) -> u32 {
        self.status_history.iter().filter(|change| change.is_reopen()).count() as u32
    }
}

/// Turns a list of strings into the boxed form the model stores.
pub fn boxed_list<I, S>(items: I) -> Box<[Text]>
where
    I: IntoIterator<Item = S>,
    S: Into<Text>,
{
    items.into_iter().map(Into::into).collect::<Vec<_>>().into_boxed_slice()
}

/// Keeps one copy of each issue when the same issue arrives more than once (several files,
/// overlapping pages): issues with the same JIRA id, or with the same key when the id is
/// unknown, are one issue, and the copy updated last wins (the later one on a tie).
///
/// Returns the issues in their first-seen order and how many copies were dropped.
///
/// ```
/// use bugdash::model::{dedupe_issues, Issue};
///
/// let old = Issue { id: Some(7), key: "A-1".into(), ..Issue::default() };
/// let moved = Issue { id: Some(7), key: "B-4".into(), ..Issue::default() };
/// let (issues, dropped) = dedupe_issues(vec![old, moved]);
/// assert_eq!((issues.len(), dropped), (1, 1));
/// assert_eq!(issues[0].key.as_str(), "B-4");
/// ```
pub fn dedupe_issues(issues: Vec<Issue>) -> (Vec<Issue>, usize) {
    use std::collections::hash_map::Entry;
    use std::collections::HashMap;

    #[derive(Hash, PartialEq, Eq)]
    enum Identity {
        Id(u64),
        Key(Text),
    }

    let total = issues.len();
    let mut slot_of: HashMap<Identity, usize> = HashMap::with_capacity(total);
    let mut kept: Vec<Issue> = Vec::with_capacity(total);
    for issue in issues {
        let identity = match issue.id {
            Some(id) => Identity::Id(id),
            None => Identity::Key(issue.key.clone()),
        };
        match slot_of.entry(identity) {
            Entry::Vacant(entry) => {
                entry.insert(kept.len());
                kept.push(issue);
            }
            Entry::Occupied(entry) => {
                let current = &mut kept[*entry.get()];
                if issue.updated >= current.updated {
                    *current = issue;
                }
            }
        }
    }
    let dropped = total - kept.len();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_timestamps_cost_no_more_than_timestamps() {
        assert_eq!(std::mem::size_of::<Option<Timestamp>>(), 8);
    }

    #[test]
    fn timestamps_order_by_instant_across_the_epoch() {
        let instants = [i64::MIN + 1, -86_400_000, -1, 0, 1, 1_547_165_300_000, i64::MAX];
        let stamps: Vec<Timestamp> = instants.iter().map(|&m| Timestamp::from_millis(m)).collect();
        assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(instants.iter().zip(&stamps).all(|(m, t)| t.millis() == *m));
        assert_eq!(Timestamp::from_millis(0).to_string(), "1970-01-01T00:00:00.000Z");
    }
}
