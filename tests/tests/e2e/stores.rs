//! A store of either backend for one test: SQLite in a temporary folder, or a fresh
//! PostgreSQL database; both opened through `store::open`, as the CLI opens them.

use std::sync::Arc;

use bugdash::store::{self, Store};

use crate::pg::TestDatabase;

/// A migrated store and the URL it was opened with.
pub struct TestStore {
    /// The database URL, for a child `bugdash` process.
    pub url: String,
    /// The open store.
    pub store: Arc<dyn Store>,
    /// The SQLite file's folder, deleted when the test ends.
    _folder: Option<tempfile::TempDir>,
    /// The PostgreSQL database, dropped when the test ends.
    _database: Option<Box<TestDatabase>>,
}

impl TestStore {
    /// An SQLite store in a file of a new temporary folder.
    pub async fn sqlite() -> TestStore {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("store.db").display());
        let store = store::open(&url).await.expect("open the SQLite store");
        TestStore { url, store, _folder: Some(folder), _database: None }
    }

    /// A PostgreSQL store in a database of its own.
    pub async fn postgres() -> TestStore {
        let database = TestDatabase::create().await;
        let url = database.url.clone();
        let store = store::open(&url).await.expect("open the PostgreSQL store");
        TestStore { url, store, _folder: None, _database: Some(Box::new(database)) }
    }

    /// The store as a trait object.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }
}

/// Runs an async test body taking a [`TestStore`] once per backend, as
/// `<name>::sqlite` and `<name>::postgres`.
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::stores::TestStore::sqlite().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::stores::TestStore::postgres().await).await
            }
        }
    };
}

pub(crate) use both_backends;
