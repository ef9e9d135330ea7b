//! The web dashboard in a real headless Chromium: a user and an admin walk through it as
//! `tests/browser/journey.mjs` describes (login, projects, a project's risk page, filters,
//! drill-down, CSV export, logout, admin pages, a phone-width layout), with every request
//! that leaves the service blocked and every console error counted as a failure.
//!
//! Chromium is Debian's package and the driver is playwright-core from npm at the version
//! `tests/browser/package-lock.json` pins; `scripts/test` installs both (see
//! `scripts/services.sh`). When either, or Node.js, is missing the test fails saying how
//! to get them: it never skips.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::serve_app::{test_settings, Service, ADMIN, PASSWORD, USER};
use crate::stores::TestStore;

/// How long the journey may run before it is taken to hang; only a guard, far above what
/// it needs even on a loaded machine.
const HANG_GUARD: Duration = Duration::from_secs(600);

/// A JIRA site for the issue links: the discard port of the loopback address.
const NO_JIRA: &str = "http://127.0.0.1:9";

const HOW_TO_INSTALL: &str = "scripts/test installs it (as root); by hand: \
    `source scripts/services.sh && ensure_chromium && ensure_browser_driver`";

/// What the journey needs besides the service.
struct BrowserTools {
    chromium: PathBuf,
    node: PathBuf,
    driver: PathBuf,
}

impl BrowserTools {
    /// The tools, or a panic naming the missing one and how to install it.
    fn find() -> BrowserTools {
        BrowserTools { chromium: chromium(), node: node(), driver: driver() }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|file| file.is_file())
}

/// `BUGDASH_TEST_CHROMIUM`, else `chromium` on PATH.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("BUGDASH_TEST_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "BUGDASH_TEST_CHROMIUM names no file: {}", path.display());
        return path;
    }
    on_path("chromium").unwrap_or_else(|| {
        panic!(
            "Chromium is missing: the browser test never skips. Install Debian's chromium \
             package or set BUGDASH_TEST_CHROMIUM to a Chromium binary; {HOW_TO_INSTALL}"
        )
    })
}

fn node() -> PathBuf {
    on_path("node").unwrap_or_else(|| {
        panic!(
            "Node.js is missing: the browser test runs tests/browser/journey.mjs under \
             Node.js 20 or later (Debian: apt-get install nodejs npm)"
        )
    })
}

/// `BUGDASH_BROWSER_DRIVER`, else the cache folder `ensure_browser_driver` installs to.
fn driver() -> PathBuf {
    let folder = match std::env::var_os("BUGDASH_BROWSER_DRIVER") {
        Some(folder) => PathBuf::from(folder),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
                .expect("HOME or XDG_CACHE_HOME is set");
            cache.join("bugdash-tools").join("browser")
        }
    };
    let package = folder.join("node_modules").join("playwright-core").join("package.json");
    assert!(
        package.is_file(),
        "the browser driver (playwright-core) is missing from {}; {HOW_TO_INSTALL}",
        folder.display()
    );
    folder
}

fn journey_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser").join("journey.mjs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_and_an_admin_walk_through_the_dashboard_in_chromium() {
    let tools = BrowserTools::find();
    let mut settings = test_settings();
    // Issue keys link to JIRA only when the service knows a JIRA site. The journey checks
    // the links without following them, so the site is an address where nothing listens.
    settings.jira.url = Some(NO_JIRA.to_owned());
    let service = Service::start(TestStore::sqlite().await, settings).await;

    let child = tokio::process::Command::new(&tools.node)
        .arg(journey_script())
        .env("BASE_URL", &service.base)
        .env("ADMIN_EMAIL", ADMIN)
        .env("USER_EMAIL", USER)
        .env("PASSWORD", PASSWORD)
        .env("CHROMIUM", &tools.chromium)
        .env("DRIVER_DIR", &tools.driver)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let output = tokio::time::timeout(HANG_GUARD, child.wait_with_output())
        .await
        .expect("the browser journey hung")
        .expect("node's output is read");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser journey failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
