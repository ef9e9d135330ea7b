//! Delimited text: JIRA's "Export CSV (all fields)", DevLake raw tables and any other
//! delimited file read through a column mapping.
//!
//! The delimiter is found from the first records: of `,`, `;`, tab and `|`, the one that
//! occurs (outside quotes) the same number of times on each of them, and most often.
//! Cells may be quoted and hold newlines. Rows whose cells are all empty are skipped, as
//! spreadsheets leave hundreds of them at the end of a file.
//!
//! Three kinds of file are told apart by their header:
//!
//! - **JIRA's export** has an `Issue key` column. It repeats a column once per value
//!   (`Labels`, `Component/s`, `Comment`, `Fix Version/s`, …); the values are gathered into
//!   lists. Comment cells `16/Feb/17 3:29 PM;author;text` give their text.
//! - **DevLake raw tables** (`id,params,data,url,input,created_at`) hold one REST object as
//!   JSON per row; only a table of issues can be read, others are refused by name.
//! - **Any other file** is read through its header: well-known names (`Key`, `Created` or
//!   `CreationDate`, `Resolved` or `ResolutionDate`, `Components`, `Affected Versions`, …)
//!   are mapped without help, and `--columns` (`key=Key,created=CreationDate,…`) maps or
//!   overrides the rest. In such files labels and versions are split on `,` and
//!   whitespace (`1.5.0 1.4.0`, `"3.1.3, 4.0.0"`), and components on `,`.
//!
//! Components cells without a comma may still join names with spaces (the Kafka and
//! Camel bug-fix datasets write `clients core` for two components), while a name may hold
//! a space (`system tests`). Such cells are cut against the file's own **vocabulary**: the
//! components values that stand alone in some row, less those that are just other such
//! values written one after another. A cell in the vocabulary stays whole; any other is
//! cut from left to right into the longest run of words in the vocabulary, else into one
//! word. So `clients consumer system tests` gives `clients`, `consumer`, `system tests`.
//! A name never seen alone is cut into its words (`offset manager` in Kafka, which only
//! ever appears beside other components); JIRA's own export, which has one column per
//! component, is never cut.
//!
//! The `--columns` targets are `id`, `key`, `project`, `type`, `status`, `status_category`,
//! `priority`, `resolution`, `created`, `updated`, `resolved`, `components`, `labels`,
//! `fix_versions`, `affects_versions`, `environment`, `assignee`, `reporter`, `summary`,
//! `description` and `comments`; `target=` with no column unmaps a well-known column.
//!
//! Dates in exports carry no zone (`16/Feb/17 3:29 PM`); they are read as **UTC**, because
//! the file does not say which zone the exporting user had set. Dates with an offset
//! (`2011-07-19T21:32:09.000+0000`) are applied exactly. An unreadable `created` or
//! `resolved` date is an error; an unreadable `updated` date is left out. Any date outside
//! [`crate::time::PLAUSIBLE_RANGE`] (a `9999-12-31` placeholder) is an error naming the
//! issue, the column and the text.
//!
//! A file with no issue type column is taken to be a bug dataset: its issues get the type
//! `Bug`. The project comes from a project column or else from the key (`KAFKA-42` is in
//! `KAFKA`), and the status category from a category column or else from the status name.

use csv::StringRecord;

use super::columns::{quoted_list, ColumnPlan, ListCells, Row, Target};
use super::joined_components::split_joined_components;
use super::{devlake, line_column, ReadOptions};
use crate::model::Issue;
use crate::{Error, Position, Result};

/// The delimiters a file may use, in order of preference when counts tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records (header included) the delimiter is judged on.
const SAMPLE_RECORDS: usize = 6;

/// Reads every issue in a delimited file; `source_name` labels errors.
pub fn read_delimited(
    source_name: &str,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Vec<Issue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    check_text(source_name, bytes)?;
    let delimiter = detect_delimiter(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);

    let mut record = StringRecord::new();
    if !read_record(source_name, &mut reader, &mut record)? {
        return Ok(Vec::new());
    }
    let header: Vec<String> = record.iter().map(|name| name.trim().to_string()).collect();
    let header_line = record.position().map_or(1, |p| p.line());
    if devlake::is_raw_table(&header) {
        return devlake::read_raw_table(source_name, &mut reader, &header);
    }

    let plan = plan_columns(source_name, &header, header_line, options)?;
    let table = Table { source_name, header: &header, delimiter };
    table.read_issues(&mut reader, &plan)
}

/// Refuses input that is not UTF-8 text, naming where it stops being text.
fn check_text(source_name: &str, bytes: &[u8]) -> Result<()> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let why = "the file is UTF-16 text; expected UTF-8 (save or export it as UTF-8)";
        return Err(Error::input(source_name, Position::Whole, why));
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let why = "found a NUL byte: this is binary data, not text; expected a CSV file";
        return Err(Error::input(source_name, line_column(bytes, at), why));
    }
    if let Err(fault) = std::str::from_utf8(bytes) {
        let why = "the text is not valid UTF-8 here; expected UTF-8 (save or export the file \
                   as UTF-8)";
        return Err(Error::input(source_name, line_column(bytes, fault.valid_up_to()), why));
    }
    Ok(())
}

/// Picks the delimiter that occurs equally often on each of the first records and most
/// often overall; `,` when none occurs.
fn detect_delimiter(bytes: &[u8]) -> u8 {
    let counts = sample_counts(bytes);
    let consistent = |at: usize| counts.iter().all(|line| line[at] == counts[0][at]);
    let total = |at: usize| counts.iter().map(|line| line[at]).sum::<usize>();
    let pick = |only_consistent: bool| {
        (0..DELIMITERS.len())
            .filter(|&at| total(at) > 0 && (consistent(at) || !only_consistent))
            .max_by_key(|&at| (total(at), std::cmp::Reverse(at)))
    };
    pick(true).or_else(|| pick(false)).map_or(b',', |at| DELIMITERS[at])
}

/// Occurrences of each candidate delimiter outside quotes, per record, for the first
/// [`SAMPLE_RECORDS`] non-blank records.
fn sample_counts(bytes: &[u8]) -> Vec<[usize; 4]> {
    let mut lines = Vec::new();
    let (mut current, mut quoted, mut blank) = ([0usize; 4], false, true);
    for &byte in bytes {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if !blank {
                    lines.push(current);
                }
                if lines.len() == SAMPLE_RECORDS {
                    return lines;
                }
                (current, blank) = ([0; 4], true);
                continue;
            }
            _ if !quoted => {
                if let Some(at) = DELIMITERS.iter().position(|&d| d == byte) {
                    current[at] += 1;
                }
            }
            _ => {}
        }
        blank &= byte.is_ascii_whitespace();
    }
    if !blank {
        lines.push(current);
    }
    lines
}

/// The column plan for a header: JIRA's export or well-known names, then `--columns`.
fn plan_columns(
    source_name: &str,
    header: &[String],
    header_line: u64,
    options: &ReadOptions,
) -> Result<ColumnPlan> {
    let is_export = header.iter().any(|name| name.eq_ignore_ascii_case("Issue key"));
    let list_cells = if is_export { ListCells::OneValue } else { ListCells::Joined };
    let mut plan = ColumnPlan::from_header(header, list_cells);
    if let Some(mapping) = &options.columns {
        plan.apply_mapping(mapping, header)?;
    }
    if plan.columns(Target::Key).is_empty() {
        let why = format!(
            "no issue key column: expected a column named Key or Issue key, or a mapping \
             key=<column> in --columns; the columns are: {}",
            quoted_list(header)
        );
        let position = Position::LineColumn { line: header_line, column: 1 };
        return Err(Error::input(source_name, position, why));
    }
    Ok(plan)
}

/// A delimited file being read, with what its errors must name.
struct Table<'a> {
    source_name: &'a str,
    header: &'a [String],
    delimiter: u8,
}

impl Table<'_> {
    fn read_issues(
        &self,
        reader: &mut csv::Reader<&[u8]>,
        plan: &ColumnPlan,
    ) -> Result<Vec<Issue>> {
        let mut issues = Vec::new();
        // Issues whose components cell joins names with spaces; cut once the whole file
        // has given its vocabulary.
        let mut joined = Vec::new();
        let mut record = StringRecord::new();
        let mut number = 0;
        while read_record(self.source_name, reader, &mut record)? {
            number += 1;
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line());
            let row = Row {
                source_name: self.source_name,
                header: self.header,
                record: &record,
                number,
                line,
            };
            self.check_width(&row)?;
            if plan.components_joined_by_space(&row) {
                joined.push(issues.len());
            }
            issues.push(plan.issue(&row)?);
        }
        split_joined_components(&mut issues, &joined);
        Ok(issues)
    }

    /// Refuses a row with more or fewer cells than the header.
    fn check_width(&self, row: &Row<'_>) -> Result<()> {
        let (found, expected) = (row.record.len(), self.header.len());
        if found == expected {
            return Ok(());
        }
        let delimiter = match self.delimiter {
            b'\t' => "tab".to_string(),
            other => format!("'{}'", other as char),
        };
        let why = format!(
            "the row has {found} cells but the header has {expected}; expected every row to \
             have as many cells as the header (cells separated by {delimiter}, text holding \
             the separator or a line break in double quotes)"
        );
        let position = Position::Record { record: row.number, line: Some(row.line) };
        Err(Error::input(self.source_name, position, why))
    }
}

/// Reads the next record; false at the end of the input.
pub(super) fn read_record(
    source_name: &str,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut StringRecord,
) -> Result<bool> {
    reader.read_record(record).map_err(|fault| {
        let position = match fault.position() {
            Some(at) => Position::Record { record: at.record(), line: Some(at.line()) },
            None => Position::Whole,
        };
        Error::input(source_name, position, format!("cannot read the delimited text: {fault}"))
    })
}
