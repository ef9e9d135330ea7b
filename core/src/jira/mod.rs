//! Reading JIRA data: REST JSON in its several shapes, CSV exports and other delimited
//! files through a column mapping. Every reader yields [`Issue`]s or an error naming the
//! file, the position and what was expected.

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

/// Reads every issue in the file at `path`.
pub fn read_path(path: &Path, options: &ReadOptions) -> Result<Vec<Issue>> {
    let bytes =
        std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    read_bytes(&path.display().to_string(), &bytes, options)
}

/// Reads every issue in `bytes`; `source_name` labels errors.
pub fn read_bytes(source_name: &str, bytes: &[u8], options: &ReadOptions) -> Result<Vec<Issue>> {
    let _ = options;
    Err(Error::input(source_name, Position::Whole, format!("{} bytes: no reader yet", bytes.len())))
}
