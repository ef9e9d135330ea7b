//! Reading JIRA data: REST JSON in its several shapes, CSV exports and other delimited
//! files through a column mapping. Every reader yields [`Issue`]s or an error naming the
//! file, the position and what was expected.

pub mod adf;
pub mod client;
mod columns;
pub mod delimited;
mod devlake;
mod joined_components;
pub mod json;

use std::io::Read;
use std::path::Path;

use crate::model::Issue;
use crate::{Error, Position, Result};

/// How to read files whose format cannot be recognised alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Column mapping for delimited files that are not a JIRA export, such as
    /// `key=Key,created=CreationDate`.
    pub columns: Option<String>,
}

/// Checks a `--columns` mapping (`key=Key,created=CreationDate,components=`) before any
/// file is read: an entry not of the form `target=column` or naming an unknown target is
/// [`Error::InvalidParameter`]. Whether the columns exist is known only once a file's
/// header is read.
///
/// ```
/// use bugdash::jira::check_columns;
/// assert!(check_columns("key=Key, created=CreationDate, components=").is_ok());
/// assert!(check_columns("garbage").is_err());
/// assert!(check_columns("severity=Priority").is_err());
/// ```
pub fn check_columns(mapping: &str) -> Result<()> {
    columns::check_mapping(mapping)
}

/// Reads every issue in the file at `path`.
pub fn read_path(path: &Path, options: &ReadOptions) -> Result<Vec<Issue>> {
    collect(|sink| stream_path(path, options, sink))
}

/// Reads every issue in `bytes`, recognising the format from the content; `source_name`
/// labels errors.
pub fn read_bytes(source_name: &str, bytes: &[u8], options: &ReadOptions) -> Result<Vec<Issue>> {
    collect(|sink| stream_bytes(source_name, bytes, options, sink))
}

/// Reads the file at `path` as [`read_path`] does, but hands the issues to `sink` one at a
/// time, in file order, without holding the file or its issues: memory stays bounded by
/// the largest record (a JSON array element, a CSV row) and a read buffer, whatever the
/// size of the file.
///
/// Faults are the same errors [`read_path`] gives, reported once reading reaches them:
/// the issues before a fault have already gone to `sink`. An error returned by `sink`
/// stops the reading and is returned as it is.
///
/// A delimited file whose components cells join names with spaces is read twice, the
/// first time only for its vocabulary of component names (see `delimited`).
///
/// ```no_run
/// use bugdash::jira::{stream_path, ReadOptions};
/// let mut count = 0;
/// stream_path("issues.json".as_ref(), &ReadOptions::default(), &mut |_issue| {
///     count += 1;
///     Ok(())
/// })?;
/// # Ok::<(), bugdash::Error>(())
/// ```
pub fn stream_path(
    path: &Path,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    let source = FileSource { path, name: path.display().to_string() };
    stream_source(&source, options, sink)
}

/// Reads `bytes` as [`read_bytes`] does, handing the issues to `sink` one at a time; see
/// [`stream_path`].
pub fn stream_bytes(
    source_name: &str,
    bytes: &[u8],
    options: &ReadOptions,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    stream_source(&BytesSource { name: source_name, bytes }, options, sink)
}

/// Runs a streaming reader and gathers what it hands over.
fn collect(
    read: impl FnOnce(&mut dyn FnMut(Issue) -> Result<()>) -> Result<()>,
) -> Result<Vec<Issue>> {
    let mut issues = Vec::new();
    read(&mut |issue| {
        issues.push(issue);
        Ok(())
    })?;
    Ok(issues)
}

/// An input that can be read from its start more than once.
pub(crate) trait Source {
    /// The label of errors.
    fn name(&self) -> &str;
    /// A reader from the first byte.
    fn open(&self) -> Result<Box<dyn Read + '_>>;
}

struct BytesSource<'a> {
    name: &'a str,
    bytes: &'a [u8],
}

impl Source for BytesSource<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn open(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.bytes))
    }
}

struct FileSource<'a> {
    path: &'a Path,
    name: String,
}

impl Source for FileSource<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self) -> Result<Box<dyn Read + '_>> {
        let file = std::fs::File::open(self.path)
            .map_err(|source| Error::Io { path: self.path.to_path_buf(), source })?;
        Ok(Box::new(FileReader { file, path: self.path }))
    }
}

/// A file whose read errors carry its path, to come out as [`Error::Io`] from the readers
/// that see only bytes.
struct FileReader<'a> {
    file: std::fs::File,
    path: &'a Path,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf).map_err(|source| {
            let kind = source.kind();
            std::io::Error::new(kind, Error::Io { path: self.path.to_path_buf(), source })
        })
    }
}

/// The error behind an I/O failure met while reading `source_name`: the [`Error`] a
/// wrapped reader put inside it, or else the failure itself in words.
pub(crate) fn io_fault(source_name: &str, fault: std::io::Error) -> Error {
    if fault.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(Ok(inner)) = fault.into_inner().map(|inner| inner.downcast::<Error>()) {
            return *inner;
        }
        unreachable!("the inner error was checked to be an Error");
    }
    Error::input(source_name, Position::Whole, format!("could not read the input: {fault}"))
}

/// Bytes read to recognise the format before streaming starts.
const PREFIX: usize = 64 * 1024;

/// Recognises the format from the first bytes and streams the rest through its reader.
fn stream_source(
    source: &dyn Source,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Issue) -> Result<()>,
) -> Result<()> {
    let name = source.name();
    let mut reader = source.open()?;
    let (prefix, complete) = read_prefix(name, &mut reader)?;
    let bytes = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&prefix);
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match first.map(|at| (at, bytes[at])) {
        None => Err(Error::input(name, Position::Whole, "the file is empty")),
        Some((_, b'{' | b'[')) => {
            json::stream_json(name, std::io::Cursor::new(prefix).chain(reader), sink)
        }
        Some(_) if complete && json::is_json_scalar(bytes) => {
            json::stream_json(name, &prefix[..], sink)
        }
        Some((at, b'<')) => Err(Error::input(
            name,
            line_column(bytes, at),
            "found an HTML or XML page (perhaps an error page saved as a file); expected \
             JIRA JSON or a CSV file",
        )),
        Some(_) => {
            let rest = Box::new(std::io::Cursor::new(prefix).chain(reader));
            delimited::stream_delimited(source, rest, options, sink)
        }
    }
}

/// The first [`PREFIX`] bytes at least, more until one is not whitespace; true when that
/// is the whole input.
fn read_prefix(name: &str, reader: &mut dyn Read) -> Result<(Vec<u8>, bool)> {
    let mut prefix = Vec::with_capacity(PREFIX);
    loop {
        let wanted = prefix.len().max(PREFIX) as u64;
        let read = (&mut *reader)
            .take(wanted)
            .read_to_end(&mut prefix)
            .map_err(|fault| io_fault(name, fault))?;
        let at_end = (read as u64) < wanted;
        let text = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&prefix);
        if at_end || !text.iter().all(u8::is_ascii_whitespace) {
            return Ok((prefix, at_end));
        }
    }
}

/// The line and column (from 1) of byte offset `at` in `bytes`.
pub(crate) fn line_column(bytes: &[u8], at: usize) -> Position {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
    Position::LineColumn { line, column }
}
