//! SQLite's sync locks: an operating-system lock on a file beside the database, which the
//! system releases when the holding process ends in any way; and, for in-memory databases
//! that no other process can see, a set of locked projects inside the store.

use std::collections::HashSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{LockHolder, SyncLock};
use crate::{Error, Result};

/// Takes the sync lock of `project` for the database file `database`, on the file
/// `<database>.sync-<project>.lock`.
///
/// The lock file stays after the lock is released: deleting it would let a process that
/// opened it just before lock a file no longer on disk while a third one locks a new one.
pub(crate) fn lock_beside(database: &Path, project: &str) -> Result<Option<SyncLock>> {
    let path = lock_path(database, project);
    let file =
        OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(
            |source| Error::store(format!("open the lock file {}", path.display()), source),
        )?;
    match file.try_lock() {
        Ok(()) => Ok(Some(SyncLock::new(project, Box::new(FileLock { _file: file })))),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(source)) => {
            Err(Error::store(format!("lock the file {}", path.display()), source))
        }
    }
}

/// The lock file of a project. Characters other than ASCII letters, digits, `-` and `_`
/// are written as `%XX` bytes, so that no key can name another folder and two keys never
/// share a file.
fn lock_path(database: &Path, project: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".sync-");
    for byte in project.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            name.push(char::from(byte).to_string());
        } else {
            name.push(format!("%{byte:02X}"));
        }
    }
    name.push(".lock");
    PathBuf::from(name)
}

/// An open, locked lock file; closing it (on drop) releases the lock at once.
struct FileLock {
    _file: File,
}

#[async_trait]
impl LockHolder for FileLock {
    async fn release(self: Box<Self>) {}
}

/// Projects whose sync lock is held, for a store whose database lives in memory; clones
/// of the store share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryLocks {
    held: Arc<Mutex<HashSet<String>>>,
}

impl MemoryLocks {
    /// Takes the sync lock of `project`, or `None` when it is held.
    pub(crate) fn lock(&self, project: &str) -> Option<SyncLock> {
        if !held(&self.held).insert(project.to_owned()) {
            return None;
        }
        let holder = MemoryLock { held: Arc::clone(&self.held), project: project.to_owned() };
        Some(SyncLock::new(project, Box::new(holder)))
    }
}

/// The set of held projects. A panic while it was locked cannot leave it half-changed
/// (each change is one insert or remove), so a poisoned mutex is used as it is.
fn held(set: &Mutex<HashSet<String>>) -> MutexGuard<'_, HashSet<String>> {
    set.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct MemoryLock {
    held: Arc<Mutex<HashSet<String>>>,
    project: String,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        held(&self.held).remove(&self.project);
    }
}

#[async_trait]
impl LockHolder for MemoryLock {
    async fn release(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_of_odd_keys_stay_beside_the_database_and_apart() {
        let database = Path::new("data/store.db");

        let plain = lock_path(database, "ZOOKEEPER");
        let climbing = lock_path(database, "../x");
        let percent = lock_path(database, "%2E%2E%2Fx");

        assert_eq!(plain, Path::new("data/store.db.sync-ZOOKEEPER.lock"));
        assert_eq!(climbing, Path::new("data/store.db.sync-%2E%2E%2Fx.lock"));
        assert_eq!(percent, Path::new("data/store.db.sync-%252E%252E%252Fx.lock"));
    }
}
