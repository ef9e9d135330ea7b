//! End-to-end tests: BugDash's JIRA client against the fake JIRA, the fake itself, and
//! syncs into SQLite and PostgreSQL stores.

mod binary;
mod browser;
mod cli;
mod client;
mod client_faults;
mod common;
mod fake;
mod jira_calls;
mod kill_resume;
mod nginx;
mod pg;
mod sentry;
mod serve_access;
mod serve_api;
mod serve_app;
mod serve_auth;
mod serve_instances;
mod serve_limits;
mod serve_redis;
mod serve_tokens;
mod serve_usage;
mod serve_web;
mod source;
mod stores;
mod sync;
mod sync_faults;
mod sync_restarts;
