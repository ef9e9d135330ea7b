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
    let bytes =
        std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    read_bytes(&path.display().to_string(), &bytes, options)
}

/// Reads every issue in `bytes`, recognising the format from the content; `source_name`
/// labels errors.
pub fn read_bytes(source_name: &str, bytes: &[u8], options: &ReadOptions) -> Result<Vec<Issue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match first.map(|at| (at, bytes[at])) {
        None => Err(Error::input(source_name, Position::Whole, "the file is empty")),
        Some((_, b'{' | b'[')) => json::read_json(source_name, bytes),
        Some(_) if json::is_json_scalar(bytes) => json::read_json(source_name, bytes),
        Some((at, b'<')) => Err(Error::input(
            source_name,
            line_column(bytes, at),
            "found an HTML or XML page (perhaps an error page saved as a file); expected \
             JIRA JSON or a CSV file",
        )),
        Some(_) => delimited::read_delimited(source_name, bytes, options),
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
