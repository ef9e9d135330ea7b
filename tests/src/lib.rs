//! End-to-end test support for BugDash: a fake JIRA server that replays recorded JIRA
//! responses and serves paged searches over real Apache issues.
//!
//! The tests themselves live in `tests/e2e/`; this library holds what they share.

pub mod fake_jira;
