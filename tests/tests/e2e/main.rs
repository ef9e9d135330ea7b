//! End-to-end tests: BugDash's JIRA client against the fake JIRA, and the fake itself.

mod client;
mod client_faults;
mod common;
mod fake;
