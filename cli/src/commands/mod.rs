//! One module per subcommand, each with its clap arguments and a `run` method.

pub mod analyze;
pub mod import;
pub mod jobs;
pub mod migrate;
pub mod projects;
pub mod report;
pub mod serve;
pub mod sync;
pub mod users;

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

/// Output of the commands that report what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people.
    Table,
    /// JSON for programs.
    Json,
}

/// Reads a JIRA project key. JIRA keeps keys in capitals, so `zookeeper` means
/// `ZOOKEEPER`; anything but letters, digits and `_` is refused.
pub fn project_key(text: &str) -> Result<String, String> {
    let key = text.trim().to_uppercase();
    let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(key)
    } else {
        Err(format!(
            "{text:?} is not a JIRA project key (letters, digits and _, such as ZOOKEEPER)"
        ))
    }
}

/// Writes `value` as pretty JSON and a newline to standard output.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    Ok(())
}

/// Writes lines to standard output.
pub fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        writeln!(stdout, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::project_key;

    #[test]
    fn project_keys_are_capitalised_and_checked() {
        assert_eq!(project_key("zookeeper").as_deref(), Ok("ZOOKEEPER"));
        assert_eq!(project_key("ALL").as_deref(), Ok("ALL"));
        assert!(
            project_key("a b").is_err() && project_key("").is_err() && project_key("1X").is_err()
        );
    }
}
