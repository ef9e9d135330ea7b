//! `bugdash analyze`: read JIRA files, analyse them, print the report.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use bugdash::analysis::{self, AreaField, Filters, Params, Period, Window};
use bugdash::jira::{read_path, ReadOptions};
use bugdash::model::{dedupe_issues, Issue, StatusCategory};
use bugdash::service::analysis::{params_for_store, ALL_PROJECTS};
use bugdash::service::options::{
    parse_area, parse_category, parse_half_life, parse_horizon, parse_instant, parse_period,
    parse_window,
};
use bugdash::Timestamp;
use clap::{ArgGroup, Args};

use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::failure::UsageError;
use crate::render;

/// Arguments of `bugdash analyze`.
#[derive(Debug, Args)]
// Files, a stored project, or both: the group puts both in the usage line when neither
// is given.
#[command(group = ArgGroup::new("input").required(true).multiple(true))]
pub struct AnalyzeArgs {
    /// JIRA files to read: REST JSON (search pages, single issues, arrays of issues),
    /// JIRA's CSV export, or any delimited file (see --columns). Without files, the
    /// issues of --project are read from the store.
    #[arg(value_name = "FILE", group = "input")]
    pub files: Vec<PathBuf>,

    /// Only issues of this project (repeatable, or comma-separated; `ALL` for every
    /// project); without FILE, the stored project to analyse. A project the files (or
    /// the store) hold no issue of is refused, naming those they hold.
    #[arg(long, value_name = "KEY", value_delimiter = ',', value_parser = super::project_key,
          group = "input")]
    pub project: Vec<String>,

    /// Analyse as of this date or instant (default: the latest timestamp in the data).
    #[arg(long, value_name = "DATE", value_parser = parse_instant)]
    pub as_of: Option<Timestamp>,

    /// Summary and trend window in days before --as-of, or `all`.
    #[arg(long, value_name = "DAYS|all", default_value = "90", value_parser = parse_window)]
    pub window: Window,

    /// Trend period: week (ISO weeks, from Monday) or month.
    #[arg(long, value_name = "week|month", default_value = "week", value_parser = parse_period)]
    pub period: Period,

    /// Which field defines an area: component, label, fix-version, affects-version,
    /// assignee or project.
    #[arg(long, value_name = "FIELD", default_value = "component", value_parser = parse_area)]
    pub area: AreaField,

    /// Forecast horizon in days.
    #[arg(long, value_name = "DAYS", default_value = "30", value_parser = parse_horizon)]
    pub horizon: u32,

    /// Half-life of the bug-score decay in days.
    #[arg(long, value_name = "DAYS", default_value_t = 30.0, value_parser = parse_half_life)]
    pub half_life: f64,

    /// Issue types counted as bugs, in addition to types whose name contains "bug"
    /// (default: Bug, Defect).
    #[arg(long, value_name = "TYPE", value_delimiter = ',')]
    pub bug_type: Vec<String>,

    /// Only issues of this type (repeatable, or comma-separated).
    #[arg(long = "type", value_name = "T", value_delimiter = ',')]
    pub issue_type: Vec<String>,

    /// Only issues of this priority; `none` for issues without one.
    #[arg(long, value_name = "P", value_delimiter = ',')]
    pub priority: Vec<String>,

    /// Only issues in this status.
    #[arg(long, value_name = "S", value_delimiter = ',')]
    pub status: Vec<String>,

    /// Only issues in this status category: new, indeterminate or done.
    #[arg(long, value_name = "CATEGORY", value_delimiter = ',', value_parser = parse_category)]
    pub status_category: Vec<StatusCategory>,

    /// Only issues in this component; `none` for issues without one.
    #[arg(long, value_name = "C", value_delimiter = ',')]
    pub component: Vec<String>,

    /// Only issues with this label; `none` for issues without one.
    #[arg(long, value_name = "L", value_delimiter = ',')]
    pub label: Vec<String>,

    /// Only issues with this fix version.
    #[arg(long, value_name = "V", value_delimiter = ',')]
    pub fix_version: Vec<String>,

    /// Only issues with this affects version.
    #[arg(long, value_name = "V", value_delimiter = ',')]
    pub affects_version: Vec<String>,

    /// Only issues assigned to this person.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub assignee: Vec<String>,

    /// Only issues whose environment field contains this text (any case), such as
    /// Production.
    #[arg(long, value_name = "TEXT")]
    pub environment: Option<String>,

    /// Only issues with this resolution (unresolved issues are dropped).
    #[arg(long, value_name = "R", value_delimiter = ',')]
    pub resolution: Vec<String>,

    /// Leave out issues with this resolution, such as Duplicate or "Won't Fix".
    #[arg(long, value_name = "R", value_delimiter = ',')]
    pub exclude_resolution: Vec<String>,

    /// Only issues created on or after this date.
    #[arg(long, value_name = "DATE", value_parser = parse_instant)]
    pub since: Option<Timestamp>,

    /// Only issues created before this date.
    #[arg(long, value_name = "DATE", value_parser = parse_instant)]
    pub until: Option<Timestamp>,

    /// Column mapping for delimited files that are not JIRA exports, such as
    /// key=Key,created=CreationDate,resolved=ResolutionDate,components=Components.
    #[arg(long, value_name = "MAP")]
    pub columns: Option<String>,

    /// Fail when any file cannot be read (by default the other files still count).
    #[arg(long)]
    pub strict: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = render::Format::Table)]
    pub format: render::Format,

    /// How many areas the table and markdown formats show (JSON and CSV show all).
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub top: u16,
}

impl AnalyzeArgs {
    /// Reads the files (or the store), analyses the issues and prints the report.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        if let Some(columns) = &self.columns {
            bugdash::jira::check_columns(columns)?;
        }
        let mut params = self.params();
        let issues = if self.files.is_empty() {
            self.stored_issues(global, &mut params)?
        } else {
            self.read_issues()?
        };
        let report = analysis::analyze(&issues, &params).context("failed to analyse the issues")?;
        let mut stdout = std::io::stdout().lock();
        render::write(&mut stdout, &report, self.format, usize::from(self.top))?;
        stdout.flush()?;
        Ok(ExitCode::SUCCESS)
    }

    /// The stored issues of the requested projects. The shared `JIRA_ENVIRONMENT` setting
    /// is the default environment filter for stored data.
    fn stored_issues(
        &self,
        global: &GlobalArgs,
        params: &mut Params,
    ) -> anyhow::Result<Vec<Issue>> {
        let settings = global.settings()?;
        let projects = self.projects();
        params_for_store(params, settings.jira.environment.as_deref());
        let issues = runtime()?.block_on(async {
            let store = open_store(&settings, Missing::Refuse).await?;
            let held = store.project_versions(&[]).await?;
            let held: BTreeSet<String> =
                held.into_iter().filter(|p| p.has_issues).map(|p| p.key).collect();
            if held.is_empty() {
                return Err(UsageError(
                    "the store holds no issues yet; fill it with `bugdash sync --project KEY` \
                     or `bugdash import FILE --project KEY`"
                        .into(),
                )
                .into());
            }
            check_projects(&self.named_projects(), &held, "the store holds", "it holds")?;
            anyhow::Ok(store.issues(&projects).await?)
        })?;
        Ok(issues)
    }

    /// The projects asked for; none (meaning every one) for `ALL`.
    fn projects(&self) -> Vec<String> {
        let all = self.project.iter().any(|p| p.eq_ignore_ascii_case(ALL_PROJECTS));
        if all {
            Vec::new()
        } else {
            self.project.clone()
        }
    }

    /// The keys named beside `ALL`, which must exist all the same: `ALL,NOPE` is as
    /// mistyped as `NOPE`.
    fn named_projects(&self) -> Vec<String> {
        let named = self.project.iter().filter(|p| !p.eq_ignore_ascii_case(ALL_PROJECTS));
        named.cloned().collect()
    }

    fn read_issues(&self) -> anyhow::Result<Vec<Issue>> {
        let options = ReadOptions { columns: self.columns.clone() };
        let mut progress = Progress::new(self.files.len());
        let results = read_all(&self.files, &options, &mut progress);
        let mut issues = Vec::new();
        let mut failures = 0;
        for result in results {
            match result {
                Ok(mut read) => issues.append(&mut read),
                Err(error) if self.strict => return Err(error.into()),
                Err(error) => {
                    failures += 1;
                    eprintln!("warning: skipped a file: {}", crate::failure::one_line(&error));
                }
            }
        }
        progress.finish(issues.len());
        if failures == self.files.len() {
            return Err(UsageError(format!(
                "none of the {} file(s) could be read; nothing to analyse",
                self.files.len()
            ))
            .into());
        }
        let (issues, dropped) = dedupe_issues(issues);
        if dropped > 0 {
            eprintln!("note: {dropped} duplicate issue record(s) merged (same id or key)");
        }
        let held = issues.iter().map(|issue| issue.project.to_string()).collect();
        check_projects(&self.named_projects(), &held, "the files hold", "they hold")?;
        Ok(issues)
    }

    fn params(&self) -> Params {
        let mut bug_types = Params::default().bug_types;
        bug_types.extend(self.bug_type.iter().cloned());
        Params {
            as_of: self.as_of,
            window: self.window,
            period: self.period,
            area: self.area,
            horizon_days: self.horizon,
            half_life_days: self.half_life,
            bug_types,
            filters: self.filters(),
            ..Params::default()
        }
    }

    fn filters(&self) -> Filters {
        Filters {
            projects: self.projects(),
            created_since: self.since,
            created_until: self.until,
            types: self.issue_type.clone(),
            priorities: self.priority.clone(),
            statuses: self.status.clone(),
            status_categories: self.status_category.clone(),
            components: self.component.clone(),
            labels: self.label.clone(),
            fix_versions: self.fix_version.clone(),
            affects_versions: self.affects_version.clone(),
            resolutions: self.resolution.clone(),
            exclude_resolutions: self.exclude_resolution.clone(),
            environment: self.environment.clone(),
            assignees: self.assignee.clone(),
            ..Filters::default()
        }
    }
}

/// Refuses projects asked for that are not among those `held` (any case), naming those
/// that are: a mistyped key would otherwise give an empty report. `source` and `pronoun`
/// word the message, as in "the files hold … ; they hold …".
fn check_projects(
    asked: &[String],
    held: &BTreeSet<String>,
    source: &str,
    pronoun: &str,
) -> Result<(), UsageError> {
    let absent: Vec<&str> = asked
        .iter()
        .filter(|key| !held.iter().any(|h| h.eq_ignore_ascii_case(key)))
        .map(String::as_str)
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    let holds = if held.is_empty() {
        format!("{pronoun} no issues at all")
    } else {
        let keys: Vec<&str> = held.iter().map(String::as_str).collect();
        format!("{pronoun} {}", keys.join(", "))
    };
    Err(UsageError(format!("{source} no issue of {}; {holds}", absent.join(", "))))
}

/// Reads the files on up to as many threads as there are cores, keeping their order.
fn read_all(
    files: &[PathBuf],
    options: &ReadOptions,
    progress: &mut Progress,
) -> Vec<bugdash::Result<Vec<Issue>>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
    let (sender, receiver) = std::sync::mpsc::channel();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<bugdash::Result<Vec<Issue>>>> =
        (0..files.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = files.get(index) else { break };
                if sender.send((index, read_path(path, options))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for (index, result) in receiver {
            let count = result.as_ref().map_or(0, Vec::len);
            progress.file_done(&files[index], count);
            results[index] = Some(result);
        }
    });
    results.into_iter().map(|result| result.expect("every file is read once")).collect()
}

/// Progress on standard error, shown only once reading takes more than a moment.
struct Progress {
    started: Instant,
    files: usize,
    done: usize,
    issues: usize,
    shown: bool,
    terminal: bool,
}

impl Progress {
    const QUIET_FOR: Duration = Duration::from_millis(700);

    fn new(files: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        Progress { started: Instant::now(), files, done: 0, issues: 0, shown: false, terminal }
    }

    fn file_done(&mut self, path: &std::path::Path, issues: usize) {
        self.done += 1;
        self.issues += issues;
        if self.started.elapsed() < Self::QUIET_FOR {
            return;
        }
        self.shown = true;
        let line = format!(
            "reading {}/{} files, {} issues ({})",
            self.done,
            self.files,
            self.issues,
            path.display()
        );
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self, issues: usize) {
        if self.shown {
            let seconds = self.started.elapsed().as_secs_f64();
            let end = if self.terminal { "\r\x1b[2K" } else { "" };
            eprintln!("{end}read {issues} issues from {} files in {seconds:.1} s", self.files);
        }
    }
}
