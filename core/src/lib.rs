//! BugDash core: the issue model, readers for JIRA data, and the bug-risk analysis.
//!
//! Frontends (the `bugdash` CLI, later the HTTP service and the Python module) parse their
//! own input, call one function of this crate and render what it returns. Every rule about
//! JIRA data and about risk lives here.
//!
//! ```
//! use bugdash::jira::{read_bytes, ReadOptions};
//!
//! let page = br#"{"startAt":0,"maxResults":50,"total":1,"issues":[{"id":"10001",
//!   "key":"DEMO-1","fields":{"issuetype":{"name":"Bug"},"status":{"name":"Open",
//!   "statusCategory":{"key":"new"}},"created":"2024-01-02T10:00:00.000+0000",
//!   "summary":"Crash on start","components":[{"name":"server"}]}}]}"#;
//! let issues = read_bytes("page.json", page, &ReadOptions::default()).unwrap();
//! assert_eq!(issues[0].key.as_str(), "DEMO-1");
//! assert_eq!(issues[0].components[0].as_str(), "server");
//! ```

pub mod analysis;
pub mod analytics;
pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod ingest;
pub mod jira;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod secret;
pub mod service;
pub mod store;
pub mod time;

pub use error::{Error, Position, Result};
pub use model::{Issue, StatusCategory, StatusChange, Timestamp};
