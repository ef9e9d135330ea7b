//! How failures reach the person at the terminal, and which exit code they get.

use std::io::Write;
use std::process::ExitCode;

/// Exit code for bad usage or bad input.
pub const EXIT_INPUT: u8 = 2;
/// Exit code for any other failure.
pub const EXIT_FAILURE: u8 = 1;

/// Prints `error` with its chain of causes to standard error and picks the exit code:
/// 2 when the input, the command line or the settings (including credentials JIRA
/// refuses) were at fault, 1 otherwise.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(error) {
        // The reader of our output went away (`bugdash … | head`): not a failure.
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    ExitCode::from(exit_code(error))
}

/// The exit code `error` deserves.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    let caller_fault = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<bugdash::Error>(),
            Some(
                bugdash::Error::Input { .. }
                    | bugdash::Error::InvalidParameter { .. }
                    | bugdash::Error::Io { .. }
                    | bugdash::Error::Config(_)
            )
        ) || matches!(
            cause.downcast_ref::<bugdash::Error>(),
            Some(bugdash::Error::Jira(jira)) if jira.is_configuration()
        ) || cause.downcast_ref::<UsageError>().is_some()
    });
    if caller_fault {
        EXIT_INPUT
    } else {
        EXIT_FAILURE
    }
}

/// `error` and its causes on one line, for warnings that do not end the command.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// A mistake in how the command was called that clap cannot see by itself.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    error.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == BrokenPipe);
        // serde_json and csv wrap the writer's error without exposing it as a source.
        let json = cause
            .downcast_ref::<serde_json::Error>()
            .is_some_and(|json| json.io_error_kind() == Some(BrokenPipe));
        let csv = cause.downcast_ref::<csv::Error>().is_some_and(
            |csv| matches!(csv.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
        );
        io || json || csv
    })
}
