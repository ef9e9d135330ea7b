//! Which columns of a delimited file feed which issue field, and turning one row into an
//! [`Issue`] through that plan.
//!
//! A plan comes from the header (well-known column names, matched case-insensitively and
//! ignoring spaces, `_` and `-`), then the user's `--columns` mapping overrides it entry by
//! entry. A field may draw on several columns, as JIRA's export repeats `Labels`,
//! `Component/s` and `Comment` once per value.

use crate::model::{Issue, StatusCategory, Timestamp};
use crate::time::{check_plausible, parse_export_datetime};
use crate::{Error, Position, Result};

/// An issue field a column can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Id,
    Key,
    Project,
    Type,
    Status,
    StatusCategory,
    Priority,
    Resolution,
    Created,
    Updated,
    Resolved,
    Components,
    Labels,
    FixVersions,
    AffectsVersions,
    Environment,
    Assignee,
    Reporter,
    Summary,
    Description,
    Comments,
}

/// Each target with its `--columns` name and the header names it is found under
/// (normalised by [`normalise`]).
const TARGETS: [(Target, &str, &[&str]); 21] = [
    (Target::Id, "id", &["issueid"]),
    (Target::Key, "key", &["key", "issuekey"]),
    (Target::Project, "project", &["project", "projectkey"]),
    (Target::Type, "type", &["type", "issuetype"]),
    (Target::Status, "status", &["status"]),
    (Target::StatusCategory, "status_category", &["statuscategory"]),
    (Target::Priority, "priority", &["priority"]),
    (Target::Resolution, "resolution", &["resolution"]),
    (Target::Created, "created", &["created", "creationdate", "createddate"]),
    (Target::Updated, "updated", &["updated", "lastupdatedate", "lastupdated", "updateddate"]),
    (Target::Resolved, "resolved", &["resolved", "resolutiondate", "resolveddate"]),
    (Target::Components, "components", &["components", "component", "component/s"]),
    (Target::Labels, "labels", &["labels", "label"]),
    (Target::FixVersions, "fix_versions", &["fixversions", "fixversion", "fixversion/s"]),
    (
        Target::AffectsVersions,
        "affects_versions",
        &["affectsversions", "affectsversion/s", "affectedversions", "affectedversion"],
    ),
    (Target::Environment, "environment", &["environment"]),
    (Target::Assignee, "assignee", &["assignee"]),
    (Target::Reporter, "reporter", &["reporter"]),
    (Target::Summary, "summary", &["summary"]),
    (Target::Description, "description", &["description"]),
    (Target::Comments, "comments", &["comment", "comments"]),
];

/// How list cells (components, labels, versions) hold their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListCells {
    /// One value per cell, the column repeated for more (JIRA's export).
    OneValue,
    /// Several values in one cell: components split on `,`, labels and versions on `,`
    /// and whitespace (hand-made and research datasets).
    Joined,
}

/// The columns (indexes into the header) feeding each target.
#[derive(Debug, Clone)]
pub(super) struct ColumnPlan {
    columns: Vec<Vec<usize>>,
    list_cells: ListCells,
}

impl ColumnPlan {
    /// Maps every header name that is a known alias of a target, all columns of a
    /// repeated name included.
    pub(super) fn from_header(header: &[String], list_cells: ListCells) -> Self {
        let mut columns = vec![Vec::new(); TARGETS.len()];
        for (index, name) in header.iter().enumerate() {
            let name = normalise(name);
            let known = TARGETS.iter().position(|(_, _, aliases)| aliases.contains(&name.as_str()));
            if let Some(slot) = known {
                columns[slot].push(index);
            }
        }
        ColumnPlan { columns, list_cells }
    }

    /// Applies a `--columns` mapping such as `key=Key,created=CreationDate` over the plan;
    /// `target=` with no column unmaps a target.
    pub(super) fn apply_mapping(&mut self, mapping: &str, header: &[String]) -> Result<()> {
        let entries = parse_mapping(mapping)
            .map_err(|(entry, why)| mapping_error(entry, &why, Some(header)))?;
        for MappingEntry { text, target, column } in entries {
            self.columns[slot(target)] = match column {
                "" => Vec::new(),
                _ => vec![find_column(header, column).ok_or_else(|| {
                    mapping_error(text, "names no column of the header", Some(header))
                })?],
            };
        }
        Ok(())
    }

    /// The columns feeding `target`.
    pub(super) fn columns(&self, target: Target) -> &[usize] {
        &self.columns[slot(target)]
    }

    /// Turns one data row into an issue.
    pub(super) fn issue(&self, row: &Row<'_>) -> Result<Issue> {
        let key = self.text(row, Target::Key).ok_or_else(|| {
            row.error(self.first(Target::Key), "the issue key is empty; every issue needs one")
        })?;
        let status = self.text(row, Target::Status).unwrap_or_default();
        Ok(Issue {
            id: self.id(row)?,
            key: key.into(),
            project: self.project(row, key).into(),
            // Files without a type column are bug datasets (see the module doc of
            // `delimited`).
            issue_type: self.text(row, Target::Type).unwrap_or("Bug").into(),
            status: status.into(),
            status_category: self.status_category(row, status),
            priority: self.boxed(row, Target::Priority),
            resolution: self.resolution(row),
            created: self.date(row, key, Target::Created, true)?,
            updated: self.date(row, key, Target::Updated, false)?,
            resolved: self.date(row, key, Target::Resolved, true)?,
            components: self.list(row, Target::Components, &[',']),
            labels: self.list(row, Target::Labels, &[',', ' ', '\t', '\n']),
            fix_versions: self.list(row, Target::FixVersions, &[',', ' ', '\t', '\n']),
            affects_versions: self.list(row, Target::AffectsVersions, &[',', ' ', '\t', '\n']),
            environment: self.boxed(row, Target::Environment),
            assignee: self.boxed(row, Target::Assignee),
            reporter: self.boxed(row, Target::Reporter),
            summary: self.text(row, Target::Summary).unwrap_or_default().into(),
            description: self.boxed(row, Target::Description),
            comments: self.comments(row),
            ..Issue::default()
        })
    }

    /// True when the row's components are space-joined: read through a mapping (not
    /// JIRA's export), with a space in a cell and no comma in any, so that they must be cut
    /// against the file's vocabulary (see `joined_components`).
    pub(super) fn components_joined_by_space(&self, row: &Row<'_>) -> bool {
        let mut cells = self.columns(Target::Components).iter().map(|&at| row.cell(at));
        self.list_cells == ListCells::Joined
            && !cells.clone().any(|cell| cell.contains(','))
            && cells.any(|cell| cell.contains(char::is_whitespace))
    }

    /// The row's components split on commas, as [`ColumnPlan::issue`] gives them: what a
    /// file's vocabulary of component names is made of.
    pub(super) fn components(&self, row: &Row<'_>) -> Box<[crate::model::Text]> {
        self.list(row, Target::Components, &[','])
    }

    fn first(&self, target: Target) -> Option<usize> {
        self.columns(target).first().copied()
    }

    /// The first non-empty cell among the target's columns, trimmed.
    fn text<'r>(&self, row: &Row<'r>, target: Target) -> Option<&'r str> {
        self.columns(target).iter().map(|&at| row.cell(at)).find(|cell| !cell.is_empty())
    }

    fn boxed(&self, row: &Row<'_>, target: Target) -> Option<crate::model::Text> {
        self.text(row, target).map(Into::into)
    }

    fn id(&self, row: &Row<'_>) -> Result<Option<u64>> {
        let Some(text) = self.text(row, Target::Id) else { return Ok(None) };
        let id = text.parse::<u64>().map_err(|_| {
            let why = format!("cannot read {text:?} as an issue id; expected a whole number");
            row.error(self.first(Target::Id), &why)
        })?;
        Ok(Some(id))
    }

    /// The project column, else the key without its number (`KAFKA-42` gives `KAFKA`).
    fn project<'r>(&self, row: &Row<'r>, key: &'r str) -> &'r str {
        self.text(row, Target::Project)
            .or_else(|| key.rsplit_once('-').map(|(project, _)| project))
            .unwrap_or(key)
    }

    fn status_category(&self, row: &Row<'_>, status: &str) -> Option<StatusCategory> {
        // A category cell JIRA would not write (a translated name, say) falls back to the
        // guess from the status name rather than losing the category.
        let given = self.text(row, Target::StatusCategory).and_then(StatusCategory::from_key);
        given.or_else(|| (!status.is_empty()).then(|| StatusCategory::from_status_name(status)))
    }

    /// JIRA's screens and some exports spell a missing resolution "Unresolved".
    fn resolution(&self, row: &Row<'_>) -> Option<crate::model::Text> {
        self.text(row, Target::Resolution)
            .filter(|text| !text.eq_ignore_ascii_case("unresolved"))
            .map(Into::into)
    }

    /// Reads a date; an unreadable one is an error when `required`, else left out, so a
    /// spreadsheet-mangled cell in a column the analysis hardly needs does not sink the row.
    /// A readable date outside [`crate::time::PLAUSIBLE_RANGE`] is always an error: it is a
    /// placeholder that would pass for the newest or oldest event of the file.
    fn date(
        &self,
        row: &Row<'_>,
        key: &str,
        target: Target,
        required: bool,
    ) -> Result<Option<Timestamp>> {
        for &at in self.columns(target) {
            let text = row.cell(at);
            if text.is_empty() {
                continue;
            }
            match parse_export_datetime(text) {
                Some(instant) => {
                    return check_plausible(instant, text).map(Some).map_err(|why| {
                        let field = target_name(target);
                        row.error(Some(at), &format!("issue {key}, field `{field}`: {why}"))
                    });
                }
                None if required => {
                    let why = format!(
                        "cannot read {text:?} as a date; expected a JIRA date such as \
                         2017-02-16T15:29:00.000+0000, 16/Feb/17 3:29 PM or 2017-02-16 15:29"
                    );
                    return Err(row.error(Some(at), &why));
                }
                None => {}
            }
        }
        Ok(None)
    }

    /// The values of a list target, empty cells dropped, duplicates dropped.
    fn list(
        &self,
        row: &Row<'_>,
        target: Target,
        separators: &[char],
    ) -> Box<[crate::model::Text]> {
        let mut values: Vec<crate::model::Text> = Vec::new();
        let mut push = |part: &str| {
            if !part.is_empty() && !values.iter().any(|seen| seen.as_str() == part) {
                values.push(part.into());
            }
        };
        for &at in self.columns(target) {
            let cell = row.cell(at);
            match self.list_cells {
                ListCells::OneValue => push(cell),
                ListCells::Joined => cell.split(separators).for_each(|part| push(part.trim())),
            }
        }
        values.into_boxed_slice()
    }

    fn comments(&self, row: &Row<'_>) -> Box<[crate::model::Text]> {
        let cells = self.columns(Target::Comments).iter().map(|&at| row.cell(at));
        cells.filter(|cell| !cell.is_empty()).map(|cell| comment_text(cell).into()).collect()
    }
}

/// The text of an export comment cell, `16/Feb/17 3:29 PM;author;text`: JIRA prefixes the
/// date and author id, and the text itself may hold `;`. A cell without that prefix is
/// all text.
pub(super) fn comment_text(cell: &str) -> &str {
    let mut parts = cell.splitn(3, ';');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(date), Some(_author), Some(text)) if parse_export_datetime(date).is_some() => {
            text.trim()
        }
        _ => cell,
    }
}

/// One data row of a delimited file, with what an error about it must name.
pub(super) struct Row<'r> {
    pub(super) source_name: &'r str,
    pub(super) header: &'r [String],
    pub(super) record: &'r csv::StringRecord,
    /// Data record number from 1 (the header not counted).
    pub(super) number: u64,
    /// Line the record starts on, from 1.
    pub(super) line: u64,
}

impl<'r> Row<'r> {
    fn cell(&self, at: usize) -> &'r str {
        self.record.get(at).unwrap_or_default().trim()
    }

    /// An input error at this row, naming the column when there is one.
    fn error(&self, column: Option<usize>, why: &str) -> Error {
        let position = Position::Record { record: self.number, line: Some(self.line) };
        let message = match column.and_then(|at| self.header.get(at)) {
            Some(name) => format!("column {name:?}: {why}"),
            None => why.to_string(),
        };
        Error::input(self.source_name, position, message)
    }
}

/// The `--columns` name of a target, which error messages use as the field's name.
fn target_name(target: Target) -> &'static str {
    TARGETS.iter().find(|(t, _, _)| *t == target).map_or("", |(_, name, _)| name)
}

fn slot(target: Target) -> usize {
    TARGETS.iter().position(|(t, _, _)| *t == target).unwrap_or_default()
}

/// Lowercases a header name and drops spaces, `_` and `-`, so `Fix Version/s`,
/// `fix_versions` and `FixVersions` meet.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `--columns` target names are matched ignoring case, `_` and spaces; `issue_type` is
/// accepted for `type`.
fn target_matches(name: &str, given: &str) -> bool {
    let given = normalise(given);
    normalise(name) == given || (name == "type" && given == "issuetype")
}

/// The column named `name`: an exact match first, else the only one matching ignoring case.
fn find_column(header: &[String], name: &str) -> Option<usize> {
    if let Some(at) = header.iter().position(|h| h == name) {
        return Some(at);
    }
    let mut matches = header.iter().enumerate().filter(|(_, h)| h.eq_ignore_ascii_case(name));
    match (matches.next(), matches.next()) {
        (Some((at, _)), None) => Some(at),
        _ => None,
    }
}

/// One `target=column` entry of a `--columns` mapping.
struct MappingEntry<'m> {
    /// The entry as written, for error messages.
    text: &'m str,
    target: Target,
    /// The column name; empty to unmap the target.
    column: &'m str,
}

/// Splits a `--columns` mapping into its entries, or names the first malformed entry and
/// why; the columns are checked against a header later, when there is one.
fn parse_mapping(mapping: &str) -> std::result::Result<Vec<MappingEntry<'_>>, (&str, String)> {
    let mut entries = Vec::new();
    for text in mapping.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((target, column)) = text.split_once('=') else {
            return Err((text, "is not of the form target=column".to_owned()));
        };
        let Some(&(target, _, _)) =
            TARGETS.iter().find(|(_, name, _)| target_matches(name, target.trim()))
        else {
            let targets: Vec<&str> = TARGETS.iter().map(|(_, name, _)| *name).collect();
            return Err((text, format!("names no known target (targets: {})", targets.join(", "))));
        };
        entries.push(MappingEntry { text, target, column: column.trim() });
    }
    Ok(entries)
}

/// Checks the syntax and targets of a `--columns` mapping without a file: a malformed
/// entry or an unknown target is [`Error::InvalidParameter`].
pub(super) fn check_mapping(mapping: &str) -> Result<()> {
    parse_mapping(mapping).map(drop).map_err(|(entry, why)| mapping_error(entry, &why, None))
}

/// An error about a `--columns` entry, listing the file's columns when a file is read.
fn mapping_error(entry: &str, why: &str, header: Option<&[String]>) -> Error {
    let columns = header.map_or_else(String::new, |header| {
        format!("; the file's columns are: {}", quoted_list(header))
    });
    Error::invalid("--columns", format!("entry `{entry}` {why}{columns}"))
}

/// Header names quoted and comma-separated, for error messages.
pub(super) fn quoted_list(header: &[String]) -> String {
    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
}
