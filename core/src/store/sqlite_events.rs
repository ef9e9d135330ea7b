//! SQLite's writer of usage events: a connection of its own to the database file, on which
//! each batch is one `BEGIN IMMEDIATE` transaction of one prepared single-row insert run
//! once per event, its fields bound straight from the batch.
//!
//! Counted with callgrind (`BUGDASH_BENCH_SERVE=requests`, docs/performance.md), an event
//! cost SQLite's worker about 22,700 instructions when unpacked from one JSON parameter
//! (`jsonb_each`, `->>`) and about 15,000 through sqlx's bound multi-row inserts, most of
//! those in the driver's copies of 12 arguments per event rather than in SQLite; bound here
//! straight from the batch, about 9,700. The batch is copied once to reach the blocking
//! pool (a few hundred bytes per event).
//!
//! The connection is opened at the first batch and kept; after a failed batch it is closed,
//! and the next batch opens a new one. It runs on Tokio's blocking pool. A database in
//! memory, which no second connection can open, is written through the pool instead
//! ([`super::SqliteStore`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};

use crate::analytics::EventRows;
use crate::{Error, Result};

/// The single-row insert run once per event.
const INSERT_EVENT: &str = "INSERT INTO analytics_events (occurred_at, account_id, session_id, \
     department, action, project, filters, method, endpoint, status, latency_ms, client_addr) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/// The events connection of one database file; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct EventWriter {
    file: PathBuf,
    busy_timeout: std::time::Duration,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Open since the last batch that succeeded.
    connection: Option<Connection>,
    /// Set by [`EventWriter::close`]: later batches fail, as the pool's calls do.
    closed: bool,
}

impl EventWriter {
    /// A writer of the database at `file` (opened at the first batch), waiting up to
    /// `busy_timeout` for other writers.
    pub(crate) fn new(file: &Path, busy_timeout: std::time::Duration) -> EventWriter {
        EventWriter {
            file: file.to_path_buf(),
            busy_timeout,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// Writes `rows` in one transaction, on the blocking pool.
    pub(crate) async fn write(&self, rows: &EventRows) -> Result<()> {
        let writer = self.clone();
        let rows = rows.clone();
        tokio::task::spawn_blocking(move || writer.write_now(&rows))
            .await
            .map_err(|e| Error::Internal(format!("the usage event writer stopped: {e}")))?
    }

    /// Closes the connection; later batches fail.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        drop(state.connection.take());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a connection or none, valid either way.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_now(&self, rows: &EventRows) -> Result<()> {
        let mut state = self.lock();
        if state.closed {
            return Err(Error::Internal("the SQLite store is closed".into()));
        }
        let mut connection = match state.connection.take() {
            Some(connection) => connection,
            None => self.open().map_err(|e| Error::store("open SQLite for usage events", e))?,
        };
        let outcome = insert(&mut connection, rows);
        // A connection that failed a batch is closed rather than trusted with the next.
        if outcome.is_ok() {
            state.connection = Some(connection);
        }
        outcome.map_err(|e| Error::store("write usage events", e))
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.file, flags)?;
        connection.busy_timeout(self.busy_timeout)?;
        // The journal mode (WAL) is the file's own, set by the pool when it opened it.
        connection.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {}",
            super::sqlite::WAL_CHECKPOINT_PAGES
        ))?;
        Ok(connection)
    }
}

fn insert(connection: &mut Connection, rows: &EventRows) -> rusqlite::Result<()> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare(INSERT_EVENT)?;
        for event in rows.iter() {
            insert.execute(params![
                event.at,
                event.account_id,
                event.session_id,
                event.department,
                event.action.as_str(),
                event.project,
                event.filters,
                event.method,
                event.endpoint,
                event.status,
                event.latency_ms,
                event.client_addr,
            ])?;
        }
    }
    tx.commit()
}
