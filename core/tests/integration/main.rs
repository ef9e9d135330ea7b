//! Integration tests of the core crate, in one binary: readers against the real recorded
//! JIRA data in `tests/fixtures`, and the analysis against hand-computed fixtures.

mod accounts;
mod analysis;
mod analytics;
mod cache;
mod common;
mod jobs;
mod metrics_check;
#[path = "../../../tests/tests/e2e/pg.rs"]
mod pg;
mod read_delimited;
mod read_json;
mod store;
