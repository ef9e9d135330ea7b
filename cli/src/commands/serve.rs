//! `bugdash serve`: the multi-user HTTP service, with `--demo` to try it on the shipped
//! ZooKeeper data.
//!
//! With no configuration the service runs on the embedded SQLite store and the in-process
//! cache. It runs the job scheduler, reports its faults to Sentry when `SENTRY_DSN` is set,
//! and stops on Ctrl-C or SIGTERM after the requests in flight are answered and the usage
//! events they made are written.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bugdash::auth::{Account, NewAccount, Role};
use bugdash::config::{Origin, Settings};
use bugdash::jira::{read_bytes, ReadOptions};
use bugdash::jobs::Scheduler;
use bugdash::secret::Secret;
use bugdash::store::Store;
use bugdash_http::routes::system::job_context;
use bugdash_http::{app, AppState};
use clap::Args;
use rand::distr::{Alphanumeric, SampleString};

use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::telemetry;

/// How often the scheduler looks for due jobs.
const JOB_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// The admin account `--demo` creates.
pub const DEMO_ADMIN: &str = "admin@bugdash.local";

/// The ZooKeeper bugs shipped in `examples/zookeeper/`, inside the binary, so that the
/// demo runs the same from `cargo run` and from an installed binary.
const DEMO_FILES: [(&str, &[u8]); 3] = [
    (
        "ZOOKEEPER-bugs-part1-of-3.json",
        include_bytes!("../../../examples/zookeeper/ZOOKEEPER-bugs-part1-of-3.json"),
    ),
    (
        "ZOOKEEPER-bugs-part2-of-3.json",
        include_bytes!("../../../examples/zookeeper/ZOOKEEPER-bugs-part2-of-3.json"),
    ),
    (
        "ZOOKEEPER-bugs-part3-of-3.json",
        include_bytes!("../../../examples/zookeeper/ZOOKEEPER-bugs-part3-of-3.json"),
    ),
];

/// Arguments of `bugdash serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: BUGDASH_BIND, else 127.0.0.1:5001); port 0 picks a
    /// free port.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,

    /// Load the shipped ZooKeeper data into a fresh store (a new temporary data folder
    /// unless --data-dir or a database URL is given) and create the admin
    /// admin@bugdash.local with a generated password, printed once. A store that already
    /// has that admin keeps it and its password (`bugdash users set-password` sets a new
    /// one).
    #[arg(long)]
    pub demo: bool,
}

impl ServeArgs {
    /// Serves until Ctrl-C or SIGTERM.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let mut settings = global.settings()?;
        // Kept to the end, so that faults up to the last moment are sent.
        let sentry = telemetry::init_sentry(&settings.sentry)?;
        telemetry::init_tracing(Some(settings.server.log_format), sentry.is_some());
        let demo_dir = if self.demo && !database_chosen(global, &settings) {
            let dir = fresh_demo_dir()?;
            settings.data_dir = dir.clone();
            settings.data_dir_origin = Origin::Flag("--demo".into());
            Some(dir)
        } else {
            None
        };
        let bind = self.bind.clone().unwrap_or_else(|| settings.server.bind.clone());
        let served = runtime()?.block_on(self.serve(settings, &bind));
        if let Some(dir) = demo_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        served?;
        Ok(ExitCode::SUCCESS)
    }

    async fn serve(&self, settings: Settings, bind: &str) -> anyhow::Result<()> {
        let store = open_store(&settings, Missing::Create).await?;
        let state = AppState::new(Arc::clone(&store), settings)
            .await
            .context("failed to start accounts and sessions")?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("failed to listen on {bind}"))?;
        let address = listener.local_addr().context("failed to read the bound address")?;
        if self.demo {
            load_demo(store.as_ref()).await?;
            let mut lines = vec![format!("BugDash demo: http://{address}")];
            lines.extend(demo_admin(&state).await?.lines());
            super::print_lines(&lines)?;
        } else {
            super::print_lines(&[format!("BugDash listening on http://{address}")])?;
        }
        tracing::info!(%address, "serving");
        let scheduler = Scheduler::new(job_context(&state)).spawn(JOB_TICK);
        let recorder = state.recorder.clone();
        let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the server failed");
        scheduler.abort();
        // After the drain, so that the events of the last requests answered are written.
        if let Some(recorder) = recorder {
            recorder.shutdown().await.context("failed to write the last usage events")?;
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// True when the flags or the settings name a database, which the demo then fills.
fn database_chosen(global: &GlobalArgs, settings: &Settings) -> bool {
    global.data_dir.is_some()
        || global.database_url.is_some()
        || settings.database.url.is_some()
        || settings.database.host.is_some()
}

fn fresh_demo_dir() -> anyhow::Result<PathBuf> {
    let suffix = Alphanumeric.sample_string(&mut rand::rng(), 8);
    let dir = std::env::temp_dir().join(format!("bugdash-demo-{}-{suffix}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create the demo folder {}", dir.display()))?;
    Ok(dir)
}

async fn load_demo(store: &dyn Store) -> anyhow::Result<()> {
    let mut issues = Vec::new();
    for (name, bytes) in DEMO_FILES {
        issues.extend(read_bytes(name, bytes, &ReadOptions::default())?);
    }
    let (issues, _) = bugdash::model::dedupe_issues(issues);
    let written = store.upsert_issues(&issues).await.context("failed to load the demo data")?;
    tracing::info!(inserted = written.inserted, "demo data loaded");
    Ok(())
}

/// The demo admin as `serve --demo` found or made it.
enum DemoAdmin {
    /// Created now with this generated password.
    Created(String),
    /// Already in the store (a demo store served before): left as it is, since giving it
    /// a new password at every start would end its sessions and undo a password its
    /// owner chose.
    Existing(Account),
}

impl DemoAdmin {
    /// What the person who started the demo needs to sign in.
    fn lines(&self) -> Vec<String> {
        match self {
            DemoAdmin::Created(password) => vec![
                format!("  admin: {DEMO_ADMIN}"),
                format!("  password: {password}  (shown once)"),
            ],
            DemoAdmin::Existing(account) => {
                let mut lines = vec![
                    format!("  admin: {DEMO_ADMIN} (already in this store; password unchanged)"),
                    format!(
                        "  `bugdash users set-password {DEMO_ADMIN}` (with the same --data-dir \
                         or database settings) sets a new one"
                    ),
                ];
                if !account.active {
                    lines.push("  the account is disabled: `bugdash users enable` it".into());
                }
                if account.role != Role::Admin {
                    lines.push("  the account is no longer an admin".into());
                }
                lines
            }
        }
    }
}

/// Creates the demo admin with a generated password, unless the store has it already.
async fn demo_admin(state: &AppState) -> anyhow::Result<DemoAdmin> {
    if let Some(account) = state.auth.account_by_email(DEMO_ADMIN).await? {
        tracing::info!(email = DEMO_ADMIN, "the demo admin exists; its password is kept");
        return Ok(DemoAdmin::Existing(account));
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    let admin = NewAccount {
        email: DEMO_ADMIN.into(),
        name: "Demo admin".into(),
        department: None,
        role: Role::Admin,
        password: Secret::new(password.clone()),
    };
    state.auth.create_account(admin).await?;
    Ok(DemoAdmin::Created(password))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
