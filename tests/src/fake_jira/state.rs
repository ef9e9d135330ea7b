//! What a running fake holds: its issues (kept sorted the way searches return them), the
//! armed faults, its settings and the log of requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::dataset::{Dataset, Flavor};
use super::fault::Fault;
use super::jql::Clause;

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The raw query string (percent-encoded), empty when there was none.
    pub query: String,
    /// The `Authorization` header as sent, if any.
    pub authorization: Option<String>,
    /// When the request arrived, from the fake's start.
    pub started: Duration,
    /// When the answer was ready, from the fake's start.
    pub finished: Duration,
    /// The status answered.
    pub status: u16,
}

impl RequestRecord {
    /// The decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key) == name).then(|| decode(value))
        })
    }
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' if at + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        at += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Tunable behaviour.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) page_latency: Duration,
    /// Replaces `page_latency` for searches of ids alone (a census) when not zero.
    pub(crate) id_page_latency: Duration,
    pub(crate) page_cap: usize,
    pub(crate) changelog_page_cap: usize,
    /// Mixed into every Cloud page token; changing it makes every token handed out before
    /// invalid, as Cloud's tokens expire.
    pub(crate) token_epoch: u64,
    /// Keep each search answer and send the same bytes when the same search comes again,
    /// until the issues change (see `FakeJira::remember_search_answers`).
    pub(crate) remember_answers: bool,
}

/// An injected fault and how often it still fires.
#[derive(Debug)]
struct Armed {
    path: Option<String>,
    /// Only search requests for the page at this position (offset) when set.
    position: Option<u64>,
    fault: Fault,
    remaining: usize,
}

/// One served issue with the keys searches filter and sort by.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) updated: i64,
    pub(crate) id: u64,
    pub(crate) project: String,
    pub(crate) key: String,
    pub(crate) doc: Arc<Value>,
}

impl Entry {
    fn of(doc: Arc<Value>) -> Entry {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let key = text(&doc["key"]);
        let id = doc["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or(0);
        let updated = doc["fields"]["updated"].as_str().and_then(bugdash::time::parse_timestamp);
        let mut project = text(&doc["fields"]["project"]["key"]);
        if project.is_empty() {
            project = key.rsplit_once('-').map_or(key.clone(), |(project, _)| project.to_owned());
        }
        Entry { updated: updated.map_or(0, |at| at.millis()), id, project, key, doc }
    }

    fn matches(&self, clause: &Clause) -> bool {
        match clause {
            Clause::Project(project) => self.project.eq_ignore_ascii_case(project),
            Clause::UpdatedSince { millis, inclusive: true } => self.updated >= *millis,
            Clause::UpdatedSince { millis, inclusive: false } => self.updated > *millis,
            Clause::Id(id) => self.id == *id,
            Clause::Key(key) => self.key.eq_ignore_ascii_case(key),
        }
    }
}

/// The issues and whole changelogs.
#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) issues: Vec<Entry>,
    pub(crate) changelogs: HashMap<String, Vec<Value>>,
    matches: HashMap<String, Arc<Vec<usize>>>,
    /// Search answers kept by request, when the settings ask for it.
    answers: HashMap<String, axum::body::Bytes>,
    /// Counts the changes to the issues, so that an answer made while they changed is not
    /// kept.
    generation: u64,
}

impl Data {
    fn new(dataset: Dataset) -> Data {
        let issues = dataset.issues.into_iter().map(Entry::of).collect();
        let mut data = Data {
            issues,
            changelogs: dataset.changelogs,
            matches: HashMap::new(),
            answers: HashMap::new(),
            generation: 0,
        };
        data.reorder();
        data
    }

    fn reorder(&mut self) {
        self.issues.sort_by_key(|entry| (entry.updated, entry.id));
        self.matches.clear();
        self.answers.clear();
        self.generation += 1;
    }

    /// The answer kept for the search `request`, or else the generation of the issues
    /// to give [`Data::keep_answer`] with the answer made now.
    pub(crate) fn answer(&self, request: &str) -> Result<axum::body::Bytes, u64> {
        self.answers.get(request).cloned().ok_or(self.generation)
    }

    /// Keeps the answer to the search `request`, made from the issues of `generation`,
    /// unless they have changed since.
    pub(crate) fn keep_answer(
        &mut self,
        request: String,
        generation: u64,
        body: axum::body::Bytes,
    ) {
        if generation == self.generation {
            self.answers.insert(request, body);
        }
    }

    /// Positions of the issues matching `clauses`, remembered per query text so that
    /// paging through a large set does not filter it again for every page.
    pub(crate) fn matching(&mut self, jql: &str, clauses: &[Clause]) -> Arc<Vec<usize>> {
        if let Some(found) = self.matches.get(jql) {
            return Arc::clone(found);
        }
        let found: Vec<usize> = (0..self.issues.len())
            .filter(|&at| clauses.iter().all(|clause| self.issues[at].matches(clause)))
            .collect();
        let found = Arc::new(found);
        self.matches.insert(jql.to_owned(), Arc::clone(&found));
        found
    }

    /// The issue with this key or id.
    pub(crate) fn find(&self, key_or_id: &str) -> Option<&Entry> {
        let id: Option<u64> = key_or_id.parse().ok();
        self.issues.iter().find(|entry| entry.key == key_or_id || Some(entry.id) == id)
    }

    pub(crate) fn upsert(&mut self, issue: Value) {
        let entry = Entry::of(Arc::new(issue));
        match self.issues.iter_mut().find(|old| old.id == entry.id) {
            Some(old) => *old = entry,
            None => self.issues.push(entry),
        }
        self.reorder();
    }

    pub(crate) fn modify(&mut self, key: &str, edit: impl FnOnce(&mut Value)) -> bool {
        let id: Option<u64> = key.parse().ok();
        let Some(entry) = self.issues.iter_mut().find(|e| e.key == key || Some(e.id) == id) else {
            return false;
        };
        let mut doc = Value::clone(&entry.doc);
        edit(&mut doc);
        *entry = Entry::of(Arc::new(doc));
        self.reorder();
        true
    }

    pub(crate) fn delete(&mut self, key: &str) -> bool {
        let before = self.issues.len();
        let id: Option<u64> = key.parse().ok();
        self.issues.retain(|entry| entry.key != key && Some(entry.id) != id);
        self.reorder();
        self.issues.len() != before
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) base_url: String,
    pub(crate) fields: Value,
    data: Mutex<Data>,
    faults: Mutex<Vec<Armed>>,
    settings: Mutex<Settings>,
    log: Mutex<Vec<RequestRecord>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    id_searches: AtomicUsize,
    started: Instant,
}

/// Locks a mutex; a test that panicked while holding it leaves data that is still the
/// best there is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(dataset: Dataset, base_url: String) -> Shared {
        Shared {
            flavor: dataset.flavor,
            fields: dataset.fields.clone(),
            base_url,
            data: Mutex::new(Data::new(dataset)),
            faults: Mutex::new(Vec::new()),
            settings: Mutex::new(Settings {
                page_latency: Duration::ZERO,
                id_page_latency: Duration::ZERO,
                page_cap: 50,
                changelog_page_cap: 100,
                token_epoch: 0,
                remember_answers: false,
            }),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            id_searches: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.data)
    }

    pub(crate) fn settings(&self) -> MutexGuard<'_, Settings> {
        lock(&self.settings)
    }

    pub(crate) fn arm(&self, path: Option<String>, fault: Fault, times: usize) {
        lock(&self.faults).push(Armed { path, position: None, fault, remaining: times });
    }

    /// Arms `fault` for the search requests of the page at `position`.
    pub(crate) fn arm_at_position(&self, position: u64, fault: Fault, times: usize) {
        let armed = Armed { path: None, position: Some(position), fault, remaining: times };
        lock(&self.faults).push(armed);
    }

    pub(crate) fn pending_faults(&self) -> usize {
        lock(&self.faults).iter().map(|armed| armed.remaining).sum()
    }

    /// Takes one use of the first fault armed for `path` (one that wraps the answer only
    /// when `token` allows it to act); `position` is the offset a search asks for.
    pub(crate) fn take_fault(
        &self,
        path: &str,
        token: Option<&str>,
        position: Option<u64>,
    ) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let applies = |armed: &Armed| {
            let on_path = match &armed.path {
                Some(prefix) => path.starts_with(prefix.as_str()),
                None => is_search(path),
            };
            let at = armed.position.is_none_or(|wanted| position == Some(wanted));
            let usable = armed.fault != Fault::RepeatedToken || token.is_some();
            armed.remaining > 0 && on_path && at && usable
        };
        let armed = faults.iter_mut().find(|armed| applies(armed))?;
        armed.remaining -= 1;
        let fault = armed.fault.clone();
        faults.retain(|armed| armed.remaining > 0);
        Some(fault)
    }

    pub(crate) fn since_start(&self) -> Duration {
        self.started.elapsed()
    }

    /// Counts a request in progress until the guard is dropped, also when the server
    /// drops the request because its client went away.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }

    /// Logs an answered request.
    pub(crate) fn leave(&self, record: RequestRecord) {
        lock(&self.log).push(record);
    }

    pub(crate) fn log(&self) -> Vec<RequestRecord> {
        lock(&self.log).clone()
    }

    pub(crate) fn clear_log(&self) {
        lock(&self.log).clear();
        self.max_in_flight.store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Counts a search of ids alone as it arrives.
    pub(crate) fn id_search_arrived(&self) {
        self.id_searches.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn id_searches(&self) -> usize {
        self.id_searches.load(Ordering::SeqCst)
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// True for the search endpoints of both dialects.
pub(crate) fn is_search(path: &str) -> bool {
    matches!(path, "/rest/api/3/search/jql" | "/rest/api/2/search" | "/rest/api/3/search")
}

/// A request the fake has in progress; see [`Shared::enter`].
pub(crate) struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
