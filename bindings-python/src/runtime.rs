//! The async runtime behind the JIRA client and the store, and waiting on it from Python
//! without holding the interpreter lock and without becoming deaf to Ctrl-C.

use std::future::Future;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::prelude::*;

/// How often a waiting call looks for signals (Ctrl-C) while the work goes on.
const SIGNAL_CHECK_EVERY: Duration = Duration::from_millis(50);

/// One multi-threaded runtime for the process, started on first use.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bugdash-io")
        .enable_all()
        .build()
        .map_err(|fault| {
            crate::errors::BugDashError::new_err(format!("failed to start the runtime: {fault}"))
        })?;
    Ok(RUNTIME.get_or_init(|| built))
}

/// Runs `work` on the runtime and waits for it with the interpreter lock released,
/// checking for signals every few milliseconds. When a signal handler raises (Ctrl-C
/// raises `KeyboardInterrupt`), the work is cancelled at its next await point and the
/// exception propagates.
pub fn wait<F, T>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = mpsc::sync_channel(1);
    let task = runtime()?.spawn(async move {
        // The receiver is gone only when the caller gave up waiting; nothing to tell then.
        let _ = sender.send(work.await);
    });
    let mut receiver = receiver;
    loop {
        // The receiver goes into the lock-free section and comes back: it is Send, not Sync.
        let (received, back) = py.detach(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK_EVERY);
            (received, receiver)
        });
        receiver = back;
        match received {
            Ok(value) => return Ok(value),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(crate::errors::BugDashError::new_err(
                    "the background work ended without a result (it panicked)",
                ));
            }
        }
    }
}
