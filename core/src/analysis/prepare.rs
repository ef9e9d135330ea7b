//! One pass over the issues: filters, bug detection, name interning and the compact rows
//! every later step scans.
//!
//! A row is 32 bytes: instants as milliseconds, the priority as an index into a small table
//! and the areas as a range of a shared `u32` array. Names are interned once per distinct
//! spelling (and lowercased once per spelling), so no step allocates per issue. Rows are
//! sorted by creation once; "as known at instant c" is then a prefix found by binary search.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::filter::FilterSet;
use super::params::{AreaField, Params};
use super::priority::{Placement, Priority, Scale};
use crate::model::{HistorySource, Issue, StatusCategory};

/// Fewer rows than this sort on one thread: starting a second costs more than it saves.
const PARALLEL_SORT_MIN: usize = 50_000;

/// `resolved` of a row that is not resolved.
pub const UNRESOLVED: i64 = i64::MAX;

/// Whether a bug's reopen count is known, and if so whether it was reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopen {
    /// The input did not say.
    Unknown,
    /// Never reopened.
    No,
    /// Reopened at least once.
    Yes,
}

/// One bug, compactly.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Creation instant (ms).
    pub created: i64,
    /// Resolution instant (ms), [`UNRESOLVED`] when open.
    pub resolved: i64,
    /// Index of the issue in the caller's slice.
    pub issue: u32,
    /// Start of this bug's area ids in [`Prepared::area_ids`].
    pub area_start: u32,
    /// How many area ids.
    pub area_len: u32,
    /// Index into [`Prepared::priorities`]; 0 is "no priority".
    pub priority: u16,
    /// Reopen knowledge.
    pub reopen: Reopen,
}

impl Row {
    /// Open at instant `t`: created by then and not resolved by then.
    pub fn open_at(&self, t: i64) -> bool {
        self.created <= t && self.resolved > t
    }

    /// Resolved at or before `t`.
    pub fn resolved_by(&self, t: i64) -> bool {
        self.resolved <= t
    }

    /// Days from creation to resolution (never negative).
    pub fn resolution_days(&self) -> f64 {
        (self.resolved - self.created).max(0) as f64 / MS_PER_DAY
    }
}

/// Milliseconds per day as a float.
pub const MS_PER_DAY: f64 = crate::model::MILLIS_PER_DAY as f64;

/// Counts about the input, for [`super::report::DataInfo`]. Issues created after an
/// explicit `as_of` did not exist at the analysis instant and are in none of the counts but
/// `issues`.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Issues given.
    pub issues: u64,
    /// Issues with a creation date at or before `as_of` that passed the filters.
    pub matched: u64,
    /// Matched bugs.
    pub bugs: u64,
    /// Issues without a creation date.
    pub without_created: u64,
    /// Bugs with a complete changelog.
    pub changelog_complete: u64,
    /// Bugs with a truncated changelog.
    pub changelog_incomplete: u64,
    /// Bugs whose history is "Time in Status".
    pub time_in_status: u64,
    /// Bugs without history.
    pub no_history: u64,
}

/// The issues as the analysis sees them.
#[derive(Debug)]
pub struct Prepared<'a> {
    /// The caller's issues, for keys.
    pub issues: &'a [Issue],
    /// Bugs created at or before `as_of`, sorted by creation, ties by key.
    pub rows: Vec<Row>,
    /// Area ids of all rows, each row owning a range.
    pub area_ids: Vec<u32>,
    /// Area names by id.
    pub area_names: Vec<String>,
    /// Priorities by id; id 0 is the unknown bucket.
    pub priorities: Vec<Priority>,
    /// The scale in use.
    pub scale: Scale,
    /// Input counts.
    pub counts: Counts,
    /// Project keys among matched issues, sorted.
    pub projects: Vec<String>,
    /// Latest instant anywhere in the input (created, updated, resolved, history).
    pub latest: Option<i64>,
}

impl Prepared<'_> {
    /// The area ids of `row`.
    pub fn areas(&self, row: &Row) -> &[u32] {
        let start = row.area_start as usize;
        &self.area_ids[start..start + row.area_len as usize]
    }

    /// How many rows were created at or before `t`.
    pub fn known_at(&self, t: i64) -> usize {
        self.rows.partition_point(|row| row.created <= t)
    }

    /// The key of the issue behind `row`.
    pub fn key(&self, row: &Row) -> &str {
        self.issues.get(row.issue as usize).map_or("", |issue| &issue.key)
    }
}

/// A fast, deterministic hasher for interning short names (FxHash-style multiply-rotate).
#[derive(Default, Clone, Copy)]
pub struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

/// Interns names without regard to case: one id per lowercase form, shown by its smallest
/// spelling so the choice does not depend on input order.
#[derive(Default)]
struct Interner<'a> {
    by_spelling: NameMap<&'a str, u32>,
    by_lower: NameMap<String, u32>,
    names: Vec<String>,
}

impl<'a> Interner<'a> {
    /// The id of `spelling` (already trimmed) and whether its lowercase form is new.
    fn intern(&mut self, spelling: &'a str) -> (u32, bool) {
        if let Some(&id) = self.by_spelling.get(spelling) {
            return (id, false);
        }
        let lower = spelling.to_lowercase();
        let next = self.names.len() as u32;
        let id = *self.by_lower.entry(lower).or_insert(next);
        let new = id == next;
        if new {
            self.names.push(spelling.to_string());
        } else if spelling < self.names[id as usize].as_str() {
            self.names[id as usize] = spelling.to_string();
        }
        self.by_spelling.insert(spelling, id);
        (id, new)
    }
}

/// State of the single pass.
struct Builder<'a> {
    params: &'a Params,
    /// The explicit analysis instant; without one, `as_of` becomes the latest instant in
    /// the input, which no creation date follows.
    as_of: Option<i64>,
    filters: FilterSet,
    bug_types: Vec<String>,
    type_is_bug: NameMap<&'a str, bool>,
    status_category: NameMap<&'a str, StatusCategory>,
    areas: Interner<'a>,
    none_area: Option<u32>,
    priority_names: Interner<'a>,
    priorities: Vec<Priority>,
    scale: Scale,
    projects: Interner<'a>,
    rows: Vec<Row>,
    /// The sort key of each row, same index.
    order: Vec<OrderKey>,
    area_ids: Vec<u32>,
    counts: Counts,
    latest: Option<i64>,
}

/// Converts `issues` into sorted compact rows of the bugs that pass the filters and were
/// created at or before `params.as_of`.
pub fn prepare<'a>(issues: &'a [Issue], params: &'a Params) -> Prepared<'a> {
    let scale = Scale::new(&params.priority_order);
    let mut builder = Builder {
        params,
        as_of: params.as_of.map(|t| t.millis()),
        filters: FilterSet::new(&params.filters),
        bug_types: params.bug_types.iter().map(|t| t.trim().to_lowercase()).collect(),
        type_is_bug: NameMap::default(),
        status_category: NameMap::default(),
        areas: Interner::default(),
        none_area: None,
        priority_names: Interner::default(),
        priorities: vec![Scale::unknown()],
        scale,
        projects: Interner::default(),
        rows: Vec::new(),
        order: Vec::new(),
        area_ids: Vec::new(),
        counts: Counts { issues: issues.len() as u64, ..Counts::default() },
        latest: None,
    };
    for (index, issue) in issues.iter().enumerate() {
        builder.add(index as u32, issue);
    }
    builder.finish(issues)
}

impl<'a> Builder<'a> {
    fn add(&mut self, index: u32, issue: &'a Issue) {
        self.note_latest(issue);
        let Some(created) = issue.created.map(|t| t.millis()) else {
            self.counts.without_created += 1;
            return;
        };
        if self.as_of.is_some_and(|as_of| created > as_of) {
            return;
        }
        let category = self.category(issue);
        let resolved_at = resolved_at(issue, category, created);
        if !self.filters.keeps(issue, created, category, resolved_at) {
            return;
        }
        self.counts.matched += 1;
        self.projects.intern(issue.project.trim());
        if !self.is_bug(&issue.issue_type) {
            return;
        }
        self.counts.bugs += 1;
        self.count_history(issue);
        let (area_start, area_len) = self.push_areas(issue);
        let priority = self.priority_id(issue.priority.as_deref());
        let reopen = match issue.reopen_count {
            None => Reopen::Unknown,
            Some(0) => Reopen::No,
            Some(_) => Reopen::Yes,
        };
        let resolved = resolved_at.unwrap_or(UNRESOLVED);
        let row = self.rows.len() as u32;
        self.order.push(OrderKey { created, key_head: key_head(&issue.key), row });
        self.rows.push(Row {
            created,
            resolved,
            issue: index,
            area_start,
            area_len,
            priority,
            reopen,
        });
    }

    fn note_latest(&mut self, issue: &Issue) {
        let history = issue.status_history.iter().map(|change| change.at);
        let instants = [issue.created, issue.updated, issue.resolved].into_iter().flatten();
        if let Some(max) = instants.chain(history).map(|t| t.millis()).max() {
            self.latest = Some(self.latest.map_or(max, |latest| latest.max(max)));
        }
    }

    /// The status category, guessing from the status name once per distinct name.
    fn category(&mut self, issue: &'a Issue) -> StatusCategory {
        if let Some(category) = issue.status_category {
            return category;
        }
        *self
            .status_category
            .entry(&issue.status)
            .or_insert_with(|| StatusCategory::from_status_name(&issue.status))
    }

    fn is_bug(&mut self, issue_type: &'a str) -> bool {
        let bug_types = &self.bug_types;
        *self.type_is_bug.entry(issue_type).or_insert_with(|| {
            let lower = issue_type.trim().to_lowercase();
            lower.contains("bug") || bug_types.contains(&lower)
        })
    }

    fn count_history(&mut self, issue: &Issue) {
        let counts = &mut self.counts;
        match issue.history_source {
            HistorySource::Changelog if issue.history_complete => counts.changelog_complete += 1,
            HistorySource::Changelog => counts.changelog_incomplete += 1,
            HistorySource::TimeInStatus => counts.time_in_status += 1,
            HistorySource::None => counts.no_history += 1,
        }
    }

    /// Interns the bug's area values, each once, into the shared id array.
    fn push_areas(&mut self, issue: &'a Issue) -> (u32, u32) {
        let start = self.area_ids.len();
        let (many, one) = area_values(issue, self.params.area);
        let values = many.iter().map(|v| &**v).chain(one);
        for value in values.map(str::trim).filter(|v| !v.is_empty()) {
            let (id, _) = self.areas.intern(value);
            if !self.area_ids[start..].contains(&id) {
                self.area_ids.push(id);
            }
        }
        if self.area_ids.len() == start {
            let none = *self.none_area.get_or_insert_with(|| self.areas.intern("none").0);
            self.area_ids.push(none);
        }
        (start as u32, (self.area_ids.len() - start) as u32)
    }

    fn priority_id(&mut self, name: Option<&'a str>) -> u16 {
        let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return 0;
        };
        let (id, new) = self.priority_names.intern(name);
        if new {
            let lower = name.to_lowercase();
            self.priorities.push(self.scale.lookup(&lower, name));
        }
        // More than 65 534 distinct priority names is not a real scheme; lump the rest in
        // with the unknown bucket rather than fail.
        u16::try_from(id + 1).unwrap_or(0)
    }

    fn finish(mut self, issues: &'a [Issue]) -> Prepared<'a> {
        // Off-scale priorities are shown by their smallest spelling, chosen only now.
        for (id, name) in self.priority_names.names.iter().enumerate() {
            if let Some(priority) = self.priorities.get_mut(id + 1) {
                if priority.placement == Placement::OffScale {
                    priority.name = name.clone();
                }
            }
        }
        let rows = sorted_rows(self.rows, self.order, issues);
        let (rows, area_ids) = in_row_order(rows, &self.area_ids);
        let (area_ids, area_names) = by_name(area_ids, self.areas.names);
        let mut projects = self.projects.names;
        projects.sort();
        Prepared {
            issues,
            rows,
            area_ids,
            area_names,
            priorities: self.priorities,
            scale: self.scale,
            counts: self.counts,
            projects,
            latest: self.latest,
        }
    }
}

/// What rows are sorted by, gathered while the issue is at hand: comparing keys through
/// the issues would read a scattered issue (and its key) on every comparison.
#[derive(Debug, Clone, Copy)]
struct OrderKey {
    created: i64,
    /// The key's first 16 bytes, big-endian and zero-padded: comparing these orders two
    /// keys as their strings would unless they are equal.
    key_head: [u64; 2],
    /// Index of the row, which is also input order.
    row: u32,
}

/// The [`OrderKey::key_head`] of `key`.
fn key_head(key: &str) -> [u64; 2] {
    let mut bytes = [0u8; 16];
    let len = key.len().min(16);
    bytes[..len].copy_from_slice(&key.as_bytes()[..len]);
    let (high, low) = bytes.split_at(8);
    let word = |half: &[u8]| half.iter().fold(0u64, |word, &b| word << 8 | u64::from(b));
    [word(high), word(low)]
}

/// The rows sorted by creation, ties by key, id and input position: a total order, so the
/// result does not depend on the input order (unless two issues share key and id) nor on
/// how the work is split. Large inputs sort in two halves on two threads, then merge.
fn sorted_rows(rows: Vec<Row>, mut order: Vec<OrderKey>, issues: &[Issue]) -> Vec<Row> {
    let full_key = |key: &OrderKey| {
        let issue = rows.get(key.row as usize).and_then(|row| issues.get(row.issue as usize));
        issue.map(|i| (&i.key, i.id))
    };
    let compare = |a: &OrderKey, b: &OrderKey| {
        (a.created, a.key_head)
            .cmp(&(b.created, b.key_head))
            .then_with(|| full_key(a).cmp(&full_key(b)))
            .then_with(|| a.row.cmp(&b.row))
    };
    let sources: Vec<u32> = if order.len() < PARALLEL_SORT_MIN {
        order.sort_unstable_by(compare);
        order.iter().map(|key| key.row).collect()
    } else {
        sorted_in_halves(&mut order, compare)
    };
    drop(order);
    permuted(rows, sources)
}

/// Sorts the two halves of `order` on two threads, then merges them; the row of each key in
/// sorted order.
fn sorted_in_halves(
    order: &mut [OrderKey],
    compare: impl Fn(&OrderKey, &OrderKey) -> std::cmp::Ordering + Sync,
) -> Vec<u32> {
    let middle = order.len() / 2;
    let (front, back) = order.split_at_mut(middle);
    std::thread::scope(|scope| {
        let sorting = scope.spawn(|| front.sort_unstable_by(&compare));
        back.sort_unstable_by(&compare);
        sorting.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });
    let (front, back) = (&order[..middle], &order[middle..]);
    let (mut i, mut j) = (0, 0);
    let mut sources = Vec::with_capacity(order.len());
    while i < front.len() && j < back.len() {
        let take_front = compare(&front[i], &back[j]).is_le();
        let key = if take_front { &front[i] } else { &back[j] };
        sources.push(key.row);
        (i, j) = if take_front { (i + 1, j) } else { (i, j + 1) };
    }
    sources.extend(front[i..].iter().chain(&back[j..]).map(|key| key.row));
    sources
}

/// `rows` rearranged in place so that position `i` holds the row that was at `sources[i]`
/// (a permutation), following each cycle once: no second copy of the rows at the peak.
fn permuted(mut rows: Vec<Row>, mut sources: Vec<u32>) -> Vec<Row> {
    const DONE: u32 = u32::MAX;
    for start in 0..rows.len() {
        if sources[start] == DONE {
            continue;
        }
        let first = rows[start];
        let mut at = start;
        loop {
            let from = sources[at] as usize;
            sources[at] = DONE;
            if from == start {
                rows[at] = first;
                break;
            }
            rows[at] = rows[from];
            at = from;
        }
    }
    rows
}

/// The rows with their area ids laid out in row order, each row's range moved with it:
/// every step walks rows in order, and reading their areas should walk memory in order too
/// rather than jump to where the input order put them.
fn in_row_order(mut rows: Vec<Row>, area_ids: &[u32]) -> (Vec<Row>, Vec<u32>) {
    let mut ordered = Vec::with_capacity(area_ids.len());
    for row in &mut rows {
        let start = row.area_start as usize;
        ordered.extend_from_slice(&area_ids[start..start + row.area_len as usize]);
        row.area_start = (ordered.len() - row.area_len as usize) as u32;
    }
    (rows, ordered)
}

/// The values of the area field of `issue`: a list field, or a single value.
fn area_values(issue: &Issue, field: AreaField) -> (&[crate::model::Text], Option<&str>) {
    match field {
        AreaField::Component => (&issue.components, None),
        AreaField::Label => (&issue.labels, None),
        AreaField::FixVersion => (&issue.fix_versions, None),
        AreaField::AffectsVersion => (&issue.affects_versions, None),
        AreaField::Assignee => (&[], issue.assignee.as_deref()),
        AreaField::Project => (&[], Some(&issue.project)),
    }
}

/// Renumbers areas in name order, so that every sum over areas runs in the same order
/// whatever the order of the input.
fn by_name(mut area_ids: Vec<u32>, names: Vec<String>) -> (Vec<u32>, Vec<String>) {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut new_id = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old as usize] = new as u32;
    }
    for id in &mut area_ids {
        *id = new_id[*id as usize];
    }
    let sorted = order.iter().map(|&old| names[old as usize].clone()).collect();
    (area_ids, sorted)
}

/// When an issue counts as resolved: its resolution date; for an issue in a done-category
/// status without one, its last update (or its creation when that is missing too).
pub(super) fn resolved_at(issue: &Issue, category: StatusCategory, created: i64) -> Option<i64> {
    match issue.resolved {
        Some(resolved) => Some(resolved.millis()),
        None if category == StatusCategory::Done => {
            Some(issue.updated.map_or(created, |updated| updated.millis()))
        }
        None => None,
    }
}
