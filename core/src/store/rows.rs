//! What both backends share between the store's values and their rows: preparing a batch
//! (storage ids, duplicates, text the databases cannot hold, the content hash), deciding
//! which issues a batch really changes, the lists kept as JSON in the issue row, putting
//! issues, projects, sync states and runs back together from their rows, reading issues
//! page by page, and which migrations are pending. Each backend keeps only its SQL and its
//! driver's types.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use serde::Serialize;

use super::{storage_id, ProjectInfo, SchemaMigration, SyncRun, SyncState, WriteStats};
use crate::model::{HistorySource, Issue, StatusCategory, StatusChange, Timestamp};
use crate::{Error, Result};

/// An issue ready to be written: its storage id, content hash and text fit for storage.
pub(crate) struct Prepared<'a> {
    /// Storage id (see [`storage_id`]).
    pub id: i64,
    /// Hash of every stored field.
    pub hash: i64,
    /// The issue, copied only when text had to be cleaned.
    pub issue: Cow<'a, Issue>,
}

/// The migrations of `migrator` whose versions are not among `applied`, oldest first:
/// what running it will apply. Read before running it, since sqlx does not say what it
/// applied; a migration another process applies in between is counted by both.
pub(crate) fn pending(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> Vec<SchemaMigration> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
        .map(|m| SchemaMigration { version: m.version, description: m.description.to_string() })
        .collect()
}

/// Prepares issues for writing: refuses ids beyond what the databases hold, keeps of each
/// id only the copy updated last (the later one on a tie), removes NUL characters and
/// computes content hashes. Input order is kept otherwise.
pub(crate) fn prepare(issues: &[Issue]) -> Result<Vec<Prepared<'_>>> {
    let mut winner: HashMap<i64, usize> = HashMap::with_capacity(issues.len());
    for (index, issue) in issues.iter().enumerate() {
        if let Some(id) = issue.id.filter(|id| *id > i64::MAX as u64) {
            return Err(Error::invalid(
                "issue id",
                format!("{}: id {id} is larger than a store can hold", issue.key),
            ));
        }
        let id = storage_id(issue);
        let entry = winner.entry(id).or_insert(index);
        if issues[*entry].updated <= issue.updated {
            *entry = index;
        }
    }
    let prepared = issues
        .iter()
        .enumerate()
        .filter(|(index, issue)| winner.get(&storage_id(issue)) == Some(index))
        .map(|(_, issue)| {
            let issue = without_nul(issue);
            Prepared { id: storage_id(&issue), hash: content_hash(&issue), issue }
        })
        .collect();
    Ok(prepared)
}

/// The issue with NUL characters removed from all its text. PostgreSQL cannot store NUL in
/// text at all; removing it on both backends keeps them storing the same thing.
fn without_nul(issue: &Issue) -> Cow<'_, Issue> {
    if !has_nul(issue) {
        return Cow::Borrowed(issue);
    }
    let clean = |text: &str| -> crate::model::Text { text.replace('\0', "").into() };
    let clean_opt = |text: &Option<crate::model::Text>| text.as_deref().map(clean);
    let clean_list = |list: &[crate::model::Text]| list.iter().map(|t| clean(t)).collect();
    Cow::Owned(Issue {
        id: issue.id,
        key: clean(&issue.key),
        project: clean(&issue.project),
        issue_type: clean(&issue.issue_type),
        status: clean(&issue.status),
        status_category: issue.status_category,
        priority: clean_opt(&issue.priority),
        resolution: clean_opt(&issue.resolution),
        created: issue.created,
        updated: issue.updated,
        resolved: issue.resolved,
        components: clean_list(&issue.components),
        labels: clean_list(&issue.labels),
        fix_versions: clean_list(&issue.fix_versions),
        affects_versions: clean_list(&issue.affects_versions),
        environment: clean_opt(&issue.environment),
        assignee: clean_opt(&issue.assignee),
        reporter: clean_opt(&issue.reporter),
        summary: clean(&issue.summary),
        description: clean_opt(&issue.description),
        comments: clean_list(&issue.comments),
        status_history: issue
            .status_history
            .iter()
            .map(|c| StatusChange { at: c.at, from: clean_opt(&c.from), to: clean(&c.to) })
            .collect(),
        history_source: issue.history_source,
        history_complete: issue.history_complete,
        reopen_count: issue.reopen_count,
    })
}

fn has_nul(issue: &Issue) -> bool {
    let mut found = false;
    visit_text(issue, &mut |text| found |= text.contains('\0'));
    found
}

/// Calls `visit` on every piece of text of the issue.
fn visit_text(issue: &Issue, visit: &mut impl FnMut(&str)) {
    for text in [&issue.key, &issue.project, &issue.issue_type, &issue.status, &issue.summary] {
        visit(text);
    }
    let optional = [
        &issue.priority,
        &issue.resolution,
        &issue.environment,
        &issue.assignee,
        &issue.reporter,
        &issue.description,
    ];
    optional.into_iter().flatten().for_each(|text| visit(text));
    let lists = [
        &issue.components,
        &issue.labels,
        &issue.fix_versions,
        &issue.affects_versions,
        &issue.comments,
    ];
    lists.into_iter().flat_map(|list| list.iter()).for_each(|text| visit(text));
    for change in issue.status_history.iter() {
        change.from.as_deref().into_iter().for_each(&mut *visit);
        visit(&change.to);
    }
}

/// A hash of every stored field of an issue, stable across runs and builds (it is stored).
///
/// Each field is written with a length or presence prefix, so no two different issues give
/// the same byte sequence; the sequence is then mixed a word at a time.
pub(crate) fn content_hash(issue: &Issue) -> i64 {
    let mut bytes = Vec::with_capacity(1024);
    let put_text = |bytes: &mut Vec<u8>, text: Option<&str>| match text {
        None => bytes.push(0),
        Some(text) => {
            bytes.push(1);
            bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
            bytes.extend_from_slice(text.as_bytes());
        }
    };
    let put_number = |bytes: &mut Vec<u8>, number: Option<i64>| match number {
        None => bytes.push(0),
        Some(number) => {
            bytes.push(1);
            bytes.extend_from_slice(&number.to_le_bytes());
        }
    };

    put_number(&mut bytes, issue.id.map(|id| id as i64));
    for text in [&issue.key, &issue.project, &issue.issue_type, &issue.status] {
        put_text(&mut bytes, Some(text));
    }
    put_text(&mut bytes, issue.status_category.map(StatusCategory::as_str));
    put_text(&mut bytes, issue.priority.as_deref());
    put_text(&mut bytes, issue.resolution.as_deref());
    for instant in [issue.created, issue.updated, issue.resolved] {
        put_number(&mut bytes, instant.map(Timestamp::millis));
    }
    let lists = [&issue.components, &issue.labels, &issue.fix_versions, &issue.affects_versions];
    for list in lists.into_iter().chain([&issue.comments]) {
        put_number(&mut bytes, Some(list.len() as i64));
        list.iter().for_each(|text| put_text(&mut bytes, Some(text)));
    }
    for text in [&issue.environment, &issue.assignee, &issue.reporter] {
        put_text(&mut bytes, text.as_deref());
    }
    put_text(&mut bytes, Some(&issue.summary));
    put_text(&mut bytes, issue.description.as_deref());
    put_number(&mut bytes, Some(issue.status_history.len() as i64));
    for change in issue.status_history.iter() {
        put_number(&mut bytes, Some(change.at.millis()));
        put_text(&mut bytes, change.from.as_deref());
        put_text(&mut bytes, Some(&change.to));
    }
    put_text(&mut bytes, Some(history_source_name(issue.history_source)));
    put_number(&mut bytes, Some(i64::from(issue.history_complete)));
    put_number(&mut bytes, issue.reopen_count.map(i64::from));
    mix(&bytes) as i64
}

/// Mixes bytes into 64 bits a word at a time; every step is a bijection of the state, so
/// two inputs of equal length that differ in one word always hash differently.
fn mix(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut state: u64 = 0x243f_6a88_85a3_08d3 ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut buffer = [0u8; 8];
        buffer.copy_from_slice(word);
        state = (state ^ u64::from_le_bytes(buffer)).wrapping_mul(MULTIPLIER);
        state ^= state >> 29;
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    state = (state ^ u64::from_le_bytes(tail)).wrapping_mul(MULTIPLIER);
    // Final avalanche (the finaliser of MurmurHash3).
    state ^= state >> 33;
    state = state.wrapping_mul(0xff51_afd7_ed55_8ccd);
    state ^= state >> 33;
    state = state.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    state ^ (state >> 33)
}

/// What the store already holds for an id.
pub(crate) struct Existing {
    /// Content hash of the stored version.
    pub hash: i64,
    /// Whether the stored version is marked removed.
    pub removed: bool,
    /// Project of the stored version (differs from the new one when the issue moved).
    pub project: String,
    /// JIRA's `updated` of the stored version, in epoch milliseconds.
    pub updated: Option<i64>,
}

/// Which issues of a batch must be written.
#[derive(Default)]
pub(crate) struct Plan {
    /// Positions in the batch of issues not stored before.
    pub inserted: Vec<usize>,
    /// Positions of issues stored before whose content changed (or that were removed).
    pub updated: Vec<usize>,
    /// Issues stored before and identical, or stored with a later `updated` (see [`plan`]).
    pub unchanged: u64,
    /// Projects whose issues change: new and, for moved issues, old ones.
    pub touched_projects: BTreeSet<String>,
}

impl Plan {
    /// Positions of every issue to write, inserted and updated.
    pub fn changed(&self) -> impl Iterator<Item = usize> + '_ {
        self.inserted.iter().chain(self.updated.iter()).copied()
    }

    /// Projects whose data version must increase, in key order.
    pub fn touched(&self) -> Vec<&str> {
        self.touched_projects.iter().map(String::as_str).collect()
    }

    /// What the batch does, as counts.
    pub fn stats(&self) -> WriteStats {
        WriteStats {
            inserted: self.inserted.len() as u64,
            updated: self.updated.len() as u64,
            unchanged: self.unchanged,
        }
    }
}

/// A stored row of what the store already holds for an id: id, content hash, removed,
/// project, `updated` in epoch milliseconds.
pub(crate) type ExistingRow = (i64, i64, bool, String, Option<i64>);

/// What is stored, by id.
pub(crate) fn existing_by_id(found: Vec<ExistingRow>) -> HashMap<i64, Existing> {
    found
        .into_iter()
        .map(|(id, hash, removed, project, updated)| {
            (id, Existing { hash, removed, project, updated })
        })
        .collect()
}

/// Compares a batch with what is stored for its ids.
///
/// The newer copy wins: an issue whose `updated` is older than the stored one's is not
/// written and counts as unchanged, so files imported in any order, or a sync overlapping
/// an import, never put old data over new. An absent `updated` is older than any instant
/// (as in [`prepare`]). An equally recent copy is written when its content differs (a
/// fuller changelog, say). An older copy does not bring back an issue marked removed.
pub(crate) fn plan(batch: &[Prepared<'_>], existing: &HashMap<i64, Existing>) -> Plan {
    let mut plan = Plan::default();
    for (index, prepared) in batch.iter().enumerate() {
        let incoming = prepared.issue.updated.map(Timestamp::millis);
        match existing.get(&prepared.id) {
            None => plan.inserted.push(index),
            Some(stored) if incoming < stored.updated => {
                plan.unchanged += 1;
                continue;
            }
            Some(stored) if stored.hash == prepared.hash && !stored.removed => {
                plan.unchanged += 1;
                continue;
            }
            Some(stored) => {
                plan.updated.push(index);
                plan.touched_projects.insert(stored.project.clone());
            }
        }
        plan.touched_projects.insert(prepared.issue.project.to_string());
    }
    plan
}

/// Distinct projects named by a batch.
pub(crate) fn batch_projects<'a>(batch: &'a [Prepared<'_>]) -> Vec<&'a str> {
    let set: BTreeSet<&str> = batch.iter().map(|p| &*p.issue.project).collect();
    set.into_iter().collect()
}

/// The stored name of a history source.
pub(crate) fn history_source_name(source: HistorySource) -> &'static str {
    match source {
        HistorySource::None => "none",
        HistorySource::Changelog => "changelog",
        HistorySource::TimeInStatus => "time_in_status",
    }
}

fn history_source_from_name(name: &str) -> Result<HistorySource> {
    match name {
        "none" => Ok(HistorySource::None),
        "changelog" => Ok(HistorySource::Changelog),
        "time_in_status" => Ok(HistorySource::TimeInStatus),
        other => Err(corrupt(format!("unknown history source {other:?}"))),
    }
}

/// An error for stored data this build cannot read back.
pub(crate) fn corrupt(message: String) -> Error {
    Error::store(
        "read stored issues",
        std::io::Error::new(std::io::ErrorKind::InvalidData, message),
    )
}

/// The issue columns as both backends read them back (instants in epoch milliseconds).
#[derive(sqlx::FromRow)]
pub(crate) struct IssueRow {
    pub id: i64,
    pub key: String,
    pub project: String,
    pub issue_type: String,
    pub status: String,
    pub status_category: Option<String>,
    pub priority: Option<String>,
    pub resolution: Option<String>,
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub resolved: Option<i64>,
    pub environment: Option<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    pub comments: String,
    pub history_source: String,
    pub history_complete: bool,
    pub reopen_count: Option<i64>,
    pub components: String,
    pub labels: String,
    pub fix_versions: String,
    pub affects_versions: String,
    pub status_changes: String,
}

impl IssueRow {
    /// The issue the row holds.
    pub fn into_issue(self) -> Result<Issue> {
        let status_category = match self.status_category.as_deref() {
            None => None,
            Some(key) => Some(
                StatusCategory::from_key(key)
                    .ok_or_else(|| corrupt(format!("{}: status category {key:?}", self.key)))?,
            ),
        };
        let comments: Vec<crate::model::Text> = serde_json::from_str(&self.comments)
            .map_err(|e| corrupt(format!("{}: comments are not a JSON list: {e}", self.key)))?;
        let key = self.key.as_str();
        let names = |what, json: &str| {
            stored_list::<Vec<crate::model::Text>>(key, what, json).map(Vec::into_boxed_slice)
        };
        let components = names("components", &self.components)?;
        let labels = names("labels", &self.labels)?;
        let fix_versions = names("fix versions", &self.fix_versions)?;
        let affects_versions = names("affects versions", &self.affects_versions)?;
        let changes: Vec<(i64, Option<crate::model::Text>, crate::model::Text)> =
            stored_list(key, "status changes", &self.status_changes)?;
        let status_history = changes
            .into_iter()
            .map(|(at, from, to)| StatusChange { at: Timestamp::from_millis(at), from, to })
            .collect();
        let reopen_count = match self.reopen_count {
            None => None,
            Some(count) => Some(
                u32::try_from(count)
                    .map_err(|_| corrupt(format!("{}: reopen count {count}", self.key)))?,
            ),
        };
        Ok(Issue {
            id: u64::try_from(self.id).ok(),
            key: self.key.into(),
            project: self.project.into(),
            issue_type: self.issue_type.into(),
            status: self.status.into(),
            status_category,
            priority: self.priority.map(Into::into),
            resolution: self.resolution.map(Into::into),
            created: self.created.map(Timestamp::from_millis),
            updated: self.updated.map(Timestamp::from_millis),
            resolved: self.resolved.map(Timestamp::from_millis),
            environment: self.environment.map(Into::into),
            assignee: self.assignee.map(Into::into),
            reporter: self.reporter.map(Into::into),
            summary: self.summary.into(),
            description: self.description.map(Into::into),
            comments: comments.into_boxed_slice(),
            history_source: history_source_from_name(&self.history_source)?,
            history_complete: self.history_complete,
            reopen_count,
            components,
            labels,
            fix_versions,
            affects_versions,
            status_history,
        })
    }
}

/// An issue's lists as the issues table keeps them: each a JSON array in a text column of
/// the issue's row, written and replaced with it. Comments are stored the same way.
///
/// They were rows of four tables of their own. Every read and write takes an issue's lists
/// whole, so the rows bought nothing, and they cost: about seven rows per issue, each with
/// its index entry, took a third of PostgreSQL's time in a sync of 100k issues.
pub(crate) struct ListsJson {
    /// Comment bodies, oldest first.
    pub comments: String,
    /// Component names.
    pub components: String,
    /// Labels.
    pub labels: String,
    /// Fix versions.
    pub fix_versions: String,
    /// Affects versions.
    pub affects_versions: String,
    /// Status changes (see [`StatusChanges`]).
    pub status_changes: String,
}

impl ListsJson {
    /// The lists of `issue` as JSON text.
    pub fn new(issue: &Issue) -> Self {
        let names = |names: &[crate::model::Text]| {
            serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned())
        };
        ListsJson {
            comments: names(&issue.comments),
            components: names(&issue.components),
            labels: names(&issue.labels),
            fix_versions: names(&issue.fix_versions),
            affects_versions: names(&issue.affects_versions),
            status_changes: serde_json::to_string(&StatusChanges(&issue.status_history))
                .unwrap_or_else(|_| "[]".to_owned()),
        }
    }
}

/// A status history as stored: a JSON array of `[epoch milliseconds, from, to]`, `from`
/// being `null` when the changelog did not say.
pub(crate) struct StatusChanges<'a>(pub &'a [StatusChange]);

impl Serialize for StatusChanges<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for change in self.0 {
            seq.serialize_element(&(change.at.millis(), change.from.as_deref(), &*change.to))?;
        }
        seq.end()
    }
}

/// Reads a stored list column back; `what` names it in the error.
fn stored_list<T: serde::de::DeserializeOwned>(key: &str, what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json)
        .map_err(|e| corrupt(format!("{key}: {what} are not a JSON list as stored: {e}")))
}

/// One issue of a batch as a JSON array, in the column order of the issues table (SQLite
/// reads batches with `json_each`).
#[derive(Serialize)]
pub(crate) struct IssueJson<'a>(
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'static str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    &'a [crate::model::Text],
    &'static str,
    bool,
    Option<u32>,
    i64,
    &'a [crate::model::Text],
    &'a [crate::model::Text],
    &'a [crate::model::Text],
    &'a [crate::model::Text],
    StatusChanges<'a>,
);

impl<'a> IssueJson<'a> {
    /// The row of a prepared issue.
    pub fn new(prepared: &'a Prepared<'a>) -> Self {
        let issue = &*prepared.issue;
        IssueJson(
            prepared.id,
            &issue.key,
            &issue.project,
            &issue.issue_type,
            &issue.status,
            issue.status_category.map(StatusCategory::as_str),
            issue.priority.as_deref(),
            issue.resolution.as_deref(),
            issue.created.map(Timestamp::millis),
            issue.updated.map(Timestamp::millis),
            issue.resolved.map(Timestamp::millis),
            issue.environment.as_deref(),
            issue.assignee.as_deref(),
            issue.reporter.as_deref(),
            &issue.summary,
            issue.description.as_deref(),
            &issue.comments,
            history_source_name(issue.history_source),
            issue.history_complete,
            issue.reopen_count,
            prepared.hash,
            &issue.components,
            &issue.labels,
            &issue.fix_versions,
            &issue.affects_versions,
            StatusChanges(&issue.status_history),
        )
    }
}

/// Issues read per query by [`Store::issues`](super::Store::issues).
pub(crate) const READ_PAGE: i64 = 5_000;

/// A page of issues put together from its rows.
pub(crate) fn page(found: Vec<IssueRow>) -> Result<Vec<Issue>> {
    found.into_iter().map(IssueRow::into_issue).collect()
}

/// Every issue, read page by page: `read_page` gets the last id of the page before (the
/// smallest id first) and returns up to [`READ_PAGE`] issues ordered by id.
pub(crate) async fn read_pages<F, Fut>(mut read_page: F) -> Result<Vec<Issue>>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Vec<Issue>>>,
{
    let mut all = Vec::new();
    let mut after_id = i64::MIN;
    loop {
        let page = read_page(after_id).await?;
        let Some(last) = page.last() else { break };
        after_id = storage_id(last);
        let full = page.len() as i64 == READ_PAGE;
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}

/// The current instant.
pub(crate) fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

/// A count stored as a signed 64-bit integer.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::invalid(what, format!("{value} is too large to store")))
}

/// Maps a driver error to the store error for `operation` ("failed to …").
pub(crate) fn failed(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::store(operation, source)
}

/// Distinct values, sorted.
pub(crate) fn distinct(values: &[String]) -> Vec<&str> {
    let set: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    set.into_iter().collect()
}

/// A stored count read back; negative counts (never written) read as 0.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A sync state as read back: project, watermark, checkpoint, issues written, census.
pub(crate) type StateRow = (String, Option<i64>, Option<String>, i64, Option<i64>);

/// The sync state of a row.
pub(crate) fn state_from_row(row: StateRow) -> Result<SyncState> {
    let (project, watermark, checkpoint, issues_written, last_census) = row;
    let checkpoint = match checkpoint {
        None => None,
        Some(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| corrupt(format!("{project}: checkpoint is not JSON: {e}")))?,
        ),
    };
    Ok(SyncState {
        project,
        watermark: watermark.map(Timestamp::from_millis),
        checkpoint,
        issues_written: to_u64(issues_written),
        last_census: last_census.map(Timestamp::from_millis),
    })
}

/// A run as read back: id, project, kind, start, end, outcome, API calls, issues written,
/// errors (JSON).
pub(crate) type RunRow = (i64, String, String, i64, Option<i64>, String, i64, i64, String);

/// The run of a row.
pub(crate) fn run_from_row(row: RunRow) -> Result<SyncRun> {
    let (id, project, kind, started_at, finished_at, outcome, api_calls, issues_written, errors) =
        row;
    let errors = serde_json::from_str(&errors)
        .map_err(|e| corrupt(format!("run {id}: errors are not a JSON list: {e}")))?;
    Ok(SyncRun {
        id,
        project,
        kind,
        started_at: Timestamp::from_millis(started_at),
        finished_at: finished_at.map(Timestamp::from_millis),
        outcome,
        api_calls: to_u64(api_calls),
        issues_written: to_u64(issues_written),
        errors,
    })
}

/// A sync state as written: project, watermark, checkpoint (JSON text), issues written,
/// census, in the order both backends bind them.
pub(crate) type StateValues<'a> = (&'a str, Option<i64>, Option<String>, i64, Option<i64>);

/// The values of a sync state to write.
pub(crate) fn state_values(state: &SyncState) -> Result<StateValues<'_>> {
    Ok((
        &state.project,
        state.watermark.map(Timestamp::millis),
        state.checkpoint.as_ref().map(|checkpoint| checkpoint.to_string()),
        to_i64(state.issues_written, "issues written")?,
        state.last_census.map(Timestamp::millis),
    ))
}

/// The end of a run as written: end, API calls, issues written, errors (JSON text).
pub(crate) fn run_end_values(run: &SyncRun) -> Result<(Option<i64>, i64, i64, String)> {
    let errors = serde_json::to_string(&run.errors)
        .map_err(|e| Error::store("encode the errors of a run", e))?;
    Ok((
        run.finished_at.map(Timestamp::millis),
        to_i64(run.api_calls, "API calls")?,
        to_i64(run.issues_written, "issues written")?,
        errors,
    ))
}

/// The error for finishing a run that was never started, when an update found no row.
pub(crate) fn run_found(rows_affected: u64, run: &SyncRun) -> Result<()> {
    if rows_affected == 0 {
        return Err(Error::invalid("run id", format!("no run {} was started", run.id)));
    }
    Ok(())
}

/// A project as read back: key, name, data version, last change, live issues, removed
/// issues, then its sync state's columns (all absent when never synced).
pub(crate) type ProjectRow = (
    String,
    Option<String>,
    i64,
    Option<i64>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
);

/// The project of a row.
pub(crate) fn project_from_row(row: ProjectRow) -> Result<ProjectInfo> {
    let (key, name, data_version, updated_at, issues, removed) =
        (row.0, row.1, row.2, row.3, row.4, row.5);
    let sync = match row.6 {
        Some(project) => Some(state_from_row((project, row.7, row.8, row.9, row.10))?),
        None => None,
    };
    Ok(ProjectInfo {
        key,
        name,
        issues: to_u64(issues),
        removed: to_u64(removed),
        data_version,
        updated_at: updated_at.map(Timestamp::from_millis),
        sync,
    })
}
