//! Turning one raw JIRA issue object into the [`Issue`] model.
//!
//! Faults are returned as messages without a position; the caller knows which record it
//! was reading and adds the file name and position.

use super::history::{self, StatusHistory};
use super::raw::{
    Changelog, Comment, DateText, Fields, Named, RawObject, RichText, Status, Text, User,
};
use crate::jira::adf;
use crate::model::{Issue, StatusCategory, Timestamp};
use crate::time::{check_plausible, parse_timestamp};

/// Converts one issue object (already unwrapped from any Perceval item).
pub(crate) fn issue_from_raw(raw: RawObject<'_>) -> Result<Issue, String> {
    let key = match raw.key {
        Some(key) if !key.as_str().trim().is_empty() => key.into_boxed(),
        _ => return Err(missing_key_message(raw.id.map(|id| id.0))),
    };
    let fields = raw.fields.unwrap_or_default();
    let project = project_of(&key, &fields, raw.project_key);
    let history = status_history(raw.changelog, &fields).map_err(|fault| at_key(&key, fault))?;
    let created = read_date(&key, "created", fields.created.or(raw.created))?;
    let updated = read_date(&key, "updated", fields.updated.or(raw.updated))?;
    let resolved = read_date(&key, "resolutiondate", fields.resolutiondate)?;
    let mut comments = comment_texts(fields.comment.and_then(|page| page.comments));
    comments.extend(comment_texts(raw.comments_data));
    let (status, status_category) = status_of(fields.status);
    Ok(Issue {
        id: raw.id.map(|id| id.0),
        project,
        issue_type: name_of(fields.issuetype).unwrap_or_default(),
        status,
        status_category,
        priority: name_of(fields.priority),
        resolution: name_of(fields.resolution),
        created,
        updated,
        resolved,
        components: names(fields.components),
        labels: fields.labels.unwrap_or_default().into_iter().map(Text::into_boxed).collect(),
        fix_versions: names(fields.fix_versions),
        affects_versions: names(fields.versions),
        environment: fields.environment.and_then(plain_text),
        assignee: person(fields.assignee),
        reporter: person(fields.reporter),
        summary: fields.summary.map(Text::into_boxed).unwrap_or_default(),
        description: fields.description.and_then(plain_text),
        comments: comments.into_boxed_slice(),
        status_history: history.changes,
        history_source: history.source,
        history_complete: history.complete,
        reopen_count: history.reopen_count,
        key,
    })
}

/// The status name and the category JIRA gave it (absent on JIRA before 6).
fn status_of(status: Option<Status<'_>>) -> (crate::model::Text, Option<StatusCategory>) {
    let Some(status) = status else { return (crate::model::Text::default(), None) };
    let category = status.category.and_then(|category| category.key);
    let category = category.and_then(|key| StatusCategory::from_key(key.as_str()));
    (status.name.map(Text::into_boxed).unwrap_or_default(), category)
}

fn missing_key_message(id: Option<u64>) -> String {
    let which = id.map_or_else(|| "an issue".to_owned(), |id| format!("issue id {id}"));
    format!(
        "{which} has no `key`; expected a JIRA issue object with `key` and `fields` (a \
         /search/jql request returns only ids unless it asks for fields)"
    )
}

fn at_key(key: &str, fault: String) -> String {
    format!("issue {key}: {fault}")
}

/// The project key: from the project field, else Airbyte's top-level copy, else the part
/// of the issue key before its last `-`.
fn project_of(key: &str, fields: &Fields<'_>, project_key: Option<Text<'_>>) -> crate::model::Text {
    let from_field = fields.project.as_ref().and_then(|project| project.key.as_ref());
    match from_field.or(project_key.as_ref()) {
        Some(project) if !project.as_str().is_empty() => project.as_str().into(),
        _ => key.rsplit_once('-').map_or(key, |(project, _)| project).into(),
    }
}

fn status_history(
    changelog: Option<Changelog<'_>>,
    fields: &Fields<'_>,
) -> Result<StatusHistory, String> {
    if let Some(changelog) = changelog {
        return history::from_changelog(changelog);
    }
    let time_in_status = fields.time_in_status.as_ref().and_then(|text| text.0.as_ref());
    Ok(time_in_status
        .and_then(|text| history::from_time_in_status(text.as_str()))
        .unwrap_or_default())
}

/// Reads a date field; an empty string counts as absent, any other unreadable or
/// implausible text is a fault naming the issue, the field and the text.
fn read_date(
    key: &str,
    field: &str,
    text: Option<DateText<'_>>,
) -> Result<Option<Timestamp>, String> {
    let Some(DateText(text)) = text else { return Ok(None) };
    if text.as_str().trim().is_empty() {
        return Ok(None);
    }
    match parse_timestamp(text.as_str()) {
        Some(at) => check_plausible(at, text.as_str())
            .map(Some)
            .map_err(|why| format!("issue {key}: field `{field}`: {why}")),
        None => Err(format!(
            "issue {key}: field `{field}` holds {:?}, which is not a date-time; expected JIRA's \
             form such as 2013-07-03T00:16:13.737+0000",
            text.as_str()
        )),
    }
}

fn name_of(named: Option<Named<'_>>) -> Option<crate::model::Text> {
    named.and_then(|named| named.name).map(Text::into_boxed)
}

fn names(list: Option<Vec<Named<'_>>>) -> Box<[crate::model::Text]> {
    list.unwrap_or_default()
        .into_iter()
        .filter_map(|named| named.name)
        .map(Text::into_boxed)
        .collect()
}

/// The display name, or the login name on instances that send no display name.
fn person(user: Option<User<'_>>) -> Option<crate::model::Text> {
    let user = user?;
    user.display_name.or(user.name).map(Text::into_boxed)
}

/// Plain text of a string or ADF field; empty text counts as absent.
fn plain_text(text: RichText<'_>) -> Option<crate::model::Text> {
    let text: crate::model::Text = rich_text(text);
    (!text.trim().is_empty()).then_some(text)
}

fn rich_text(text: RichText<'_>) -> crate::model::Text {
    match text {
        RichText::Plain(text) => text.into_boxed(),
        RichText::Document(document) => adf::to_text(&document).into(),
    }
}

fn comment_texts(comments: Option<Vec<Comment<'_>>>) -> Vec<crate::model::Text> {
    let comments = comments.unwrap_or_default();
    comments.into_iter().map(|comment| comment.body.map(rich_text).unwrap_or_default()).collect()
}
