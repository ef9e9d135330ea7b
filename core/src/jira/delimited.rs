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
//! Rows are read and handed over one at a time, so a file of any size is read in bounded
//! memory. The vocabulary needs the whole file: when the first cell to cut comes, the file
//! is read once more from its start for its components values alone.
//!
//! A file with no issue type column is taken to be a bug dataset: its issues get the type
//! `Bug`. The project comes from a project column or else from the key (`KAFKA-42` is in
//! `KAFKA`), and the status category from a category column or else from the status name.

use std::collections::HashSet;
use std::io::Read;

use csv::StringRecord;

use super::columns::{quoted_list, ColumnPlan, ListCells, Row, Target};
use super::joined_components::Vocabulary;
use super::{devlake, BytesSource, ReadOptions, Source};
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
    let source = BytesSource { name: source_name, bytes };
    let mut issues = Vec::new();
    stream_delimited(&source, Box::new(bytes), options, &mut |issue| {
        issues.push(issue);
        Ok(())
    })?;
    Ok(issues)
}

/// Reads the delimited text of `reader` (the start of `source`) row by row, handing each
/// issue to `sink`. `source` is opened again, once, when a components cell must be cut
/// against the vocabulary of the whole file.
pub(super) fn stream_delimited<'a>(
    source: &'a dyn Source,
    reader: Box<dyn Read + 'a>,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    let source_name = source.name();
    let Some(mut opened) = open_table(source_name, reader)? else { return Ok(()) };
    if devlake::is_raw_table(&opened.header) {
        return devlake::stream_raw_table(source_name, &mut opened.reader, &opened.header, sink);
    }
    let plan = plan_columns(source_name, &opened.header, opened.header_line, options)?;
    let table = Table { source_name, header: &opened.header, delimiter: opened.delimiter };
    table.stream_issues(&mut opened.reader, &plan, source, sink)
}

/// A delimited text being read, past its header.
struct Opened<'a> {
    reader: csv::Reader<TextCheck<Box<dyn Read + 'a>>>,
    header: Vec<String>,
    header_line: u64,
    delimiter: u8,
}

/// Opens delimited text: checks that it is UTF-8 text, picks the delimiter from its first
/// records and reads the header; `None` when there is no record at all.
fn open_table<'a>(source_name: &str, mut reader: Box<dyn Read + 'a>) -> Result<Option<Opened<'a>>> {
    let mut sample = read_sample(source_name, &mut reader)?;
    if sample.starts_with(b"\xEF\xBB\xBF") {
        sample.drain(..3);
    }
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        let why = "the file is UTF-16 text; expected UTF-8 (save or export it as UTF-8)";
        return Err(Error::input(source_name, Position::Whole, why));
    }
    let delimiter = detect_delimiter(&sample);
    let text: Box<dyn Read + 'a> = Box::new(std::io::Cursor::new(sample).chain(reader));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(TextCheck::new(source_name, text));

    let mut record = StringRecord::new();
    if !read_record(source_name, &mut reader, &mut record)? {
        return Ok(None);
    }
    let header: Vec<String> = record.iter().map(|name| name.trim().to_string()).collect();
    let header_line = record.position().map_or(1, |p| p.line());
    Ok(Some(Opened { reader, header, header_line, delimiter }))
}

/// Bytes the CSV reader reads at a time.
const BUFFER: usize = 256 * 1024;

/// The start of the text: enough for [`detect_delimiter`] to see its first
/// [`SAMPLE_RECORDS`] records, unless they are longer than [`MAX_SAMPLE`] bytes.
fn read_sample(source_name: &str, reader: &mut dyn Read) -> Result<Vec<u8>> {
    let mut sample = Vec::new();
    loop {
        let wanted = sample.len().max(BUFFER) as u64;
        let read = (&mut *reader)
            .take(wanted)
            .read_to_end(&mut sample)
            .map_err(|fault| super::io_fault(source_name, fault))?;
        let (_, complete) = sample_counts(&sample);
        if complete || (read as u64) < wanted || sample.len() >= MAX_SAMPLE {
            return Ok(sample);
        }
    }
}

/// The most text read to pick the delimiter.
const MAX_SAMPLE: usize = 16 * 1024 * 1024;

/// Passes text through while refusing what is not UTF-8 text (UTF-16 is caught before),
/// naming the line and column where it stops being text. Its faults travel inside the
/// I/O error the CSV reader returns; [`read_record`] takes them out again.
struct TextCheck<R> {
    inner: R,
    source_name: String,
    /// Line (from 1) of the next byte.
    line: u64,
    /// Characters before the next byte on its line.
    column: u64,
    /// The start of a character cut by the end of the last read.
    pending: Vec<u8>,
}

impl<R: Read> TextCheck<R> {
    fn new(source_name: &str, inner: R) -> Self {
        TextCheck {
            inner,
            source_name: source_name.to_owned(),
            line: 1,
            column: 0,
            pending: Vec::new(),
        }
    }

    fn check(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(at) = chunk.iter().position(|&b| b == 0) {
            let why = "found a NUL byte: this is binary data, not text; expected a CSV file";
            return Err(self.fault(chunk, at, why));
        }
        let carried = self.pending.len();
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(chunk);
        if let Err(fault) = std::str::from_utf8(&joined) {
            let bad = fault.valid_up_to();
            if fault.error_len().is_some() {
                let why = "the text is not valid UTF-8 here; expected UTF-8 (save or export \
                           the file as UTF-8)";
                return Err(self.fault(chunk, bad.saturating_sub(carried), why));
            }
            self.pending = joined[bad..].to_vec();
        }
        self.advance(chunk);
        Ok(())
    }

    /// Counts the lines and characters of `bytes`.
    fn advance(&mut self, bytes: &[u8]) {
        let chars = |bytes: &[u8]| bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        match bytes.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
                self.column = chars(&bytes[last + 1..]);
            }
            None => self.column += chars(bytes),
        }
    }

    fn fault(&mut self, chunk: &[u8], at: usize, why: &str) -> Error {
        self.advance(&chunk[..at.min(chunk.len())]);
        let position = Position::LineColumn { line: self.line, column: self.column + 1 };
        Error::input(&self.source_name, position, why)
    }
}

impl<R: Read> Read for TextCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read == 0 && !self.pending.is_empty() {
            let why = "the text ends inside a character; expected UTF-8 (save or export the \
                       file as UTF-8)";
            let fault = self.fault(&[], 0, why);
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, fault));
        }
        match self.check(&buf[..read]) {
            Ok(()) => Ok(read),
            Err(fault) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, fault)),
        }
    }
}

/// Picks the delimiter that occurs equally often on each of the first records and most
/// often overall; `,` when none occurs.
fn detect_delimiter(bytes: &[u8]) -> u8 {
    let (counts, _) = sample_counts(bytes);
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
/// [`SAMPLE_RECORDS`] non-blank records; true when there were that many ended by a line
/// break (more text cannot change the counts).
fn sample_counts(bytes: &[u8]) -> (Vec<[usize; 4]>, bool) {
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
                    return (lines, true);
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
    (lines, false)
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
    /// Reads the rows after the header, handing each issue to `sink`. Components cells
    /// joined by spaces are cut against the file's vocabulary, read from `source` when the
    /// first such cell comes.
    fn stream_issues<R: Read>(
        &self,
        reader: &mut csv::Reader<R>,
        plan: &ColumnPlan,
        source: &dyn Source,
        sink: &mut dyn FnMut(Issue) -> Result<()>,
    ) -> Result<()> {
        let mut vocabulary: Option<Vocabulary> = None;
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
            let mut issue = plan.issue(&row)?;
            if plan.components_joined_by_space(&row) {
                if vocabulary.is_none() {
                    vocabulary = Some(self.vocabulary(source, plan)?);
                }
                if let Some(vocabulary) = &vocabulary {
                    vocabulary.cut(&mut issue);
                }
            }
            sink(issue)?;
        }
        Ok(())
    }

    /// The vocabulary of component names of the whole file, read from its start again.
    fn vocabulary(&self, source: &dyn Source, plan: &ColumnPlan) -> Result<Vocabulary> {
        let Some(mut opened) = open_table(self.source_name, source.open()?)? else {
            return Ok(Vocabulary::default());
        };
        let mut values: HashSet<crate::model::Text> = HashSet::new();
        let mut record = StringRecord::new();
        let mut number = 0;
        while read_record(self.source_name, &mut opened.reader, &mut record)? {
            number += 1;
            let row = Row {
                source_name: self.source_name,
                header: self.header,
                record: &record,
                number,
                line: 0,
            };
            values.extend(plan.components(&row));
        }
        Ok(Vocabulary::from_values(values.iter().map(AsRef::as_ref)))
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
pub(super) fn read_record<R: Read>(
    source_name: &str,
    reader: &mut csv::Reader<R>,
    record: &mut StringRecord,
) -> Result<bool> {
    reader.read_record(record).map_err(|fault| {
        let position = match fault.position() {
            Some(at) => Position::Record { record: at.record(), line: Some(at.line()) },
            None => Position::Whole,
        };
        let why = format!("cannot read the delimited text: {fault}");
        match fault.into_kind() {
            csv::ErrorKind::Io(io) => super::io_fault(source_name, io),
            _ => Error::input(source_name, position, why),
        }
    })
}
