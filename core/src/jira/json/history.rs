//! An issue's status history: from its changelog when the input has one, otherwise the
//! reopen count from Apache's "Time in Status" field.

use super::raw::{Changelog, DateText, HistoryItem};
use crate::model::{HistorySource, StatusChange};
use crate::time::{check_plausible, parse_timestamp};

/// What an issue's input says about its past statuses.
#[derive(Debug, Default)]
pub(crate) struct StatusHistory {
    /// Status transitions, oldest first.
    pub(crate) changes: Box<[StatusChange]>,
    /// Where the history came from.
    pub(crate) source: HistorySource,
    /// True when the changelog held every entry JIRA counted.
    pub(crate) complete: bool,
    /// Reopens, when the input tells.
    pub(crate) reopen_count: Option<u32>,
}

/// Reads the status transitions of a changelog, oldest first.
///
/// A changelog without `total` is taken as complete: nothing says entries are missing.
/// Errors name the history date that could not be read.
pub(crate) fn from_changelog(changelog: Changelog<'_>) -> Result<StatusHistory, String> {
    let histories = changelog.histories.unwrap_or_default();
    let held = histories.len() as u64;
    let mut changes = Vec::new();
    for history in histories {
        let items = history.items.unwrap_or_default();
        let mut status_items = items.into_iter().filter(is_status_change).peekable();
        if status_items.peek().is_none() {
            continue;
        }
        let at = history_time(history.created)?;
        for item in status_items {
            if let Some(to) = item.to_string {
                let from = item.from_string.map(|from| from.into_boxed());
                changes.push(StatusChange { at, from, to: to.into_boxed() });
            }
        }
    }
    // JIRA Cloud lists histories newest first, Server oldest first; a stable sort keeps
    // two transitions made in one edit in their written order.
    changes.sort_by_key(|change| change.at);
    let reopens = changes.iter().filter(|change| change.is_reopen()).count() as u32;
    Ok(StatusHistory {
        changes: changes.into_boxed_slice(),
        source: HistorySource::Changelog,
        complete: changelog.total.is_none_or(|total| held >= total),
        reopen_count: Some(reopens),
    })
}

fn is_status_change(item: &HistoryItem<'_>) -> bool {
    let system_field = item.fieldtype.as_ref().is_none_or(|kind| kind.as_str() == "jira");
    system_field && item.field.as_ref().is_some_and(|field| field.as_str() == "status")
}

fn history_time(created: Option<DateText<'_>>) -> Result<crate::Timestamp, String> {
    let Some(DateText(text)) = created else {
        return Err("a changelog entry with a status change has no `created` date; expected \
                    a date-time such as 2013-07-03T00:16:13.737+0000"
            .to_owned());
    };
    let at = parse_timestamp(text.as_str()).ok_or_else(|| {
        format!(
            "changelog entry `created` holds {:?}, which is not a date-time; expected one \
             such as 2013-07-03T00:16:13.737+0000",
            text.as_str()
        )
    })?;
    check_plausible(at, text.as_str()).map_err(|why| format!("changelog entry `created`: {why}"))
}

/// The status id Apache's JIRA gives "Reopened".
const APACHE_REOPENED_STATUS_ID: &str = "4";

/// Reads Apache's "Time in Status" value into a history that knows only the reopen count.
///
/// Returns `None` when the text is not in the field's format, so that the same custom
/// field id holding something else on another instance is simply not used.
pub(crate) fn from_time_in_status(text: &str) -> Option<StatusHistory> {
    let mut reopens = 0u32;
    for entry in text.trim().split("_*|*_") {
        let mut parts = entry.split("_*:*_");
        let (Some(status_id), Some(times_entered), Some(total_millis), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let times_entered: u32 = times_entered.parse().ok()?;
        total_millis.parse::<u64>().ok()?;
        status_id.parse::<u64>().ok()?;
        if status_id == APACHE_REOPENED_STATUS_ID {
            reopens = times_entered;
        }
    }
    Some(StatusHistory {
        source: HistorySource::TimeInStatus,
        reopen_count: Some(reopens),
        ..StatusHistory::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_in_status_counts_entries_into_reopened() {
        let text = "1_*:*_1_*:*_10_*|*_4_*:*_2_*:*_5_*|*_5_*:*_3_*:*_0";
        assert_eq!(from_time_in_status(text).and_then(|h| h.reopen_count), Some(2));
        let never_reopened = "1_*:*_1_*:*_4406570744_*|*_5_*:*_1_*:*_0";
        assert_eq!(from_time_in_status(never_reopened).and_then(|h| h.reopen_count), Some(0));
    }

    #[test]
    fn time_in_status_in_another_format_is_not_used() {
        assert!(from_time_in_status("").is_none());
        assert!(from_time_in_status("Story points: 3").is_none());
        assert!(from_time_in_status("4_*:*_x_*:*_5").is_none());
    }
}
