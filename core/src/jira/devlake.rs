//! DevLake's raw tables: CSV dumps with the columns `id,params,data,url,input,created_at`,
//! where `data` is the JSON of one REST object exactly as JIRA sent it and `url` the
//! request that fetched it.
//!
//! Only a table of issues can become issues; each of its rows goes through the REST JSON
//! reader. Tables of other objects (changelogs, worklogs, fields, statuses, …) are
//! recognised from their request URL and refused by name, so that a user who picked the
//! wrong file of a DevLake dump learns which one to pick.

use csv::StringRecord;

use super::delimited::read_record;
use super::json::read_issue_json;
use crate::model::Issue;
use crate::{Error, Position, Result};

/// The header of every DevLake raw table.
const RAW_TABLE_HEADER: [&str; 6] = ["id", "params", "data", "url", "input", "created_at"];

/// Column of the object's JSON.
const DATA: usize = 2;

/// Column of the request URL.
const URL: usize = 3;

/// True when `header` is that of a DevLake raw table.
pub(super) fn is_raw_table(header: &[String]) -> bool {
    header.len() == RAW_TABLE_HEADER.len()
        && header.iter().zip(RAW_TABLE_HEADER).all(|(name, expected)| name == expected)
}

/// Reads every issue of a raw table of issues, handing each to `sink`.
pub(super) fn stream_raw_table<R: std::io::Read>(
    source_name: &str,
    reader: &mut csv::Reader<R>,
    header: &[String],
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    let mut record = StringRecord::new();
    let mut number = 0;
    while read_record(source_name, reader, &mut record)? {
        number += 1;
        let line = record.position().map(|p| p.line());
        let position = Position::Record { record: number, line };
        if record.len() != header.len() {
            let why = format!(
                "the row has {} cells; expected {} as in a DevLake raw table ({})",
                record.len(),
                header.len(),
                RAW_TABLE_HEADER.join(",")
            );
            return Err(Error::input(source_name, position, why));
        }
        let url = record.get(URL).unwrap_or_default();
        if let Some(holds) = other_objects(url) {
            let why = format!(
                "this DevLake raw table holds {holds} (request {url}), not issues; read the \
                 table of issues (_raw_jira_api_issues) instead"
            );
            return Err(Error::input(source_name, position, why));
        }
        let data = record.get(DATA).unwrap_or_default();
        sink(read_issue_json(source_name, data, position)?)?;
    }
    Ok(())
}

/// What a request URL fetched when it is not issues; `None` for issue requests (board,
/// sprint or search pages, single issues) and for URLs not recognised, which are then
/// tried as issues.
fn other_objects(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let last = segments.next().unwrap_or_default();
    let before = segments.next().unwrap_or_default();
    let holds = match (before, last) {
        (_, "changelog") | ("changelog", _) => "issue changelogs",
        (_, "worklog") | ("worklog", _) => "worklogs",
        (_, "comment") | ("comment", _) => "comments",
        (_, "remotelink") | ("remotelink", _) => "remote links",
        (_, "field") => "field definitions",
        (_, "issuetype") | ("issuetype", _) => "issue types",
        (_, "status" | "statuscategory") | ("status" | "statuscategory", _) => "statuses",
        (_, "project") | ("project", _) => "projects",
        (_, "versions" | "version") | ("version", _) => "versions",
        (_, "sprint") | ("sprint", _) => "sprints",
        (_, "board") | ("board", _) => "boards",
        (_, "epic") => "epics",
        (_, "user" | "users") => "users",
        _ => return None,
    };
    Some(holds)
}
