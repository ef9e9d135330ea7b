//! The fake JIRA as a process, for test suites that are not written in Rust (the Python
//! module's pytest suite).
//!
//! Starts the fake on a random port of 127.0.0.1, prints its base URL as the first line
//! of standard output, and serves until standard input closes (so it ends with the
//! process that started it) or it is killed.
//!
//! ```text
//! fake_jira [--flavor cloud|data-center] [--page-latency-ms N] [--fault unauthorized]
//! ```

use std::io::{Read, Write};
use std::time::Duration;

use bugdash_tests::fake_jira::{BodyForm, Dataset, FakeJira, Fault, Flavor};

/// What the command line asked for.
struct Options {
    flavor: Flavor,
    page_latency: Duration,
    unauthorized: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options =
        Options { flavor: Flavor::Cloud, page_latency: Duration::ZERO, unauthorized: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--flavor" => {
                options.flavor = match value()?.as_str() {
                    "cloud" => Flavor::Cloud,
                    "data-center" => Flavor::DataCenter,
                    other => return Err(format!("unknown flavor {other:?}")),
                }
            }
            "--page-latency-ms" => {
                let millis = value()?.parse().map_err(|_| "expected milliseconds".to_owned())?;
                options.page_latency = Duration::from_millis(millis);
            }
            "--fault" => match value()?.as_str() {
                "unauthorized" => options.unauthorized = true,
                other => return Err(format!("unknown fault {other:?}")),
            },
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("fake_jira: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let fake = FakeJira::start(Dataset::apache(options.flavor)).await;
    fake.set_page_latency(options.page_latency);
    if options.unauthorized {
        // Every request is refused, as JIRA Cloud refuses a wrong API token.
        fake.inject_at("/rest", Fault::Unauthorized(BodyForm::Json), 1_000_000);
    }
    let mut stdout = std::io::stdout().lock();
    let announced = writeln!(stdout, "{}", fake.url()).and_then(|()| stdout.flush());
    if let Err(fault) = announced {
        eprintln!("fake_jira: cannot write the URL: {fault}");
        return std::process::ExitCode::FAILURE;
    }
    // Serve until the parent closes our standard input (or ends).
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    drop(fake);
    std::process::ExitCode::SUCCESS
}
