//! What the frontends share beyond the analysis itself: one parser for analysis options,
//! analyses of stored projects with a cache keyed by data version, the project list with
//! risk summaries, issue paging and CSV exports.
//!
//! The HTTP service and the CLI call these and only translate their input and output.

pub mod analysis;
pub mod csv;
pub mod issues;
pub mod options;
pub mod projects;
pub mod syncs;
