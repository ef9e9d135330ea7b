//! A fresh PostgreSQL database per test, on the server named by `BUGDASH_TEST_POSTGRES_URL`
//! (default: the local server, user `postgres`, trust authentication).
//!
//! Shared by the core and CLI crates' integration tests and the end-to-end tests. The core
//! and CLI tests include this file by path: core cannot depend on this crate, which
//! depends on core, and the CLI needs nothing else of it.
//!
//! Databases are called `bugdash_test_<unix seconds>_<process>_<serial>` and dropped when
//! the guard is dropped, also when the test panics. A test process killed before that
//! leaves its database behind; every new guard drops such leftovers once they are an hour
//! old, which no running test is. The suite never skips when the server is missing: it
//! fails saying what to start.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PREFIX: &str = "bugdash_test_";
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// A database that exists for as long as this guard does.
pub struct TestDatabase {
    /// URL of the test database.
    pub url: String,
    name: String,
    server: PgConnectOptions,
}

fn server_url() -> String {
    std::env::var("BUGDASH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A name no other test of any running process uses: tests of one binary may run in one
/// process (cargo test) or one process each (nextest).
fn unique_name() -> String {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    let serial = SERIAL.fetch_add(1, Ordering::SeqCst);
    format!("{PREFIX}{}_{}_{serial}", unix_seconds(), std::process::id())
}

async fn connect_server(server: &PgConnectOptions, url: &str) -> PgConnection {
    match server.connect().await {
        Ok(conn) => conn,
        Err(error) => panic!(
            "the PostgreSQL test server at {url} is unreachable ({error}); the PostgreSQL \
             suite never skips: start PostgreSQL on 127.0.0.1:5432 (user postgres, trust \
             authentication) or set BUGDASH_TEST_POSTGRES_URL"
        ),
    }
}

impl TestDatabase {
    /// Creates an empty database; panics with what to do when the server is unreachable.
    pub async fn create() -> TestDatabase {
        let url = server_url();
        let server = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("BUGDASH_TEST_POSTGRES_URL {url:?} is unreadable: {e}"));
        let mut conn = connect_server(&server, &url).await;
        drop_stale(&mut conn).await;
        let name = unique_name();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = conn.close().await;
        TestDatabase { url: database_url(&url, &name), name, server }
    }
}

/// The server URL with its database replaced by `name`, its query kept.
fn database_url(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    let authority_end = base.find("://").map_or(0, |at| at + 3);
    let base = match base[authority_end..].find('/') {
        Some(at) => &base[..authority_end + at],
        None => base,
    };
    format!("{base}/{name}{query}")
}

/// Drops test databases older than [`STALE_AFTER`], left by killed test processes.
async fn drop_stale(conn: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'bugdash\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let cutoff = unix_seconds().saturating_sub(STALE_AFTER.as_secs());
    for name in names {
        let created = name[PREFIX.len()..].split('_').next().and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|created| created < cutoff) {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await;
        }
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own: the test's runtime may be shutting
    /// down or panicking, and `WITH (FORCE)` ends connections a pool still holds.
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                if let Ok(mut conn) = server.connect().await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(error) = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await {
                        eprintln!("could not drop test database {name}: {error}");
                    }
                }
            });
        });
        let _ = dropper.join();
    }
}

#[test]
fn the_database_replaces_the_servers_and_keeps_the_query() {
    let url = database_url("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "db1");
    assert_eq!(url, "postgres://postgres@127.0.0.1:5432/db1?sslmode=disable");
    assert_eq!(database_url("postgres://u@h", "db2"), "postgres://u@h/db2");
}
