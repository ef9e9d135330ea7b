//! Progress of long store and JIRA work: a bar with counts and rate on a terminal, plain
//! log lines (at most every few seconds) otherwise. Always on standard error.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bugdash::ingest::{Progress, ProgressSink};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// Shows ingest progress on standard error.
pub struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Option<Instant>>,
}

impl Reporter {
    const LINE_EVERY: Duration = Duration::from_secs(5);

    /// A bar when standard error is a terminal, log lines otherwise.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(Self::style(None));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter { bar, started: Instant::now(), last_line: Mutex::new(None) }
    }

    /// The bar's look: a count of a known total, or a plain count while the total is
    /// unknown (a sync learns it from the first page), what the store did with them, and
    /// a whole-number rate.
    fn style(total: Option<u64>) -> ProgressStyle {
        let template = match total {
            Some(_) => "{spinner} {prefix} {pos}/{len} issues{msg} [{elapsed_precise}] {rate}",
            None => "{spinner} {prefix} {pos} issues{msg} [{elapsed_precise}] {rate}",
        };
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key("rate", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.0} issues/s", state.per_sec());
            })
    }

    /// Removes the bar before the command prints its result.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn log_line(&self, progress: &Progress) {
        let Ok(mut last) = self.last_line.lock() else { return };
        if last.is_some_and(|at| at.elapsed() < Self::LINE_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let total = progress.total.map_or_else(String::new, |t| format!(" of {t}"));
        eprintln!(
            "{}: {}{total} issues{}, {:.0} issues/s",
            progress.stage,
            progress.done,
            written(progress),
            progress.done as f64 / seconds
        );
    }
}

/// What the store did with the issues done so far, in the words of the import's summary:
/// an issue read again unchanged is counted as such, not as written.
fn written(progress: &Progress) -> String {
    progress.written.map_or_else(String::new, |w| {
        format!(" ({} new, {} updated, {} unchanged)", w.inserted, w.updated, w.unchanged)
    })
}

impl ProgressSink for Reporter {
    fn update(&self, progress: &Progress) {
        match &self.bar {
            Some(bar) => {
                match progress.total {
                    Some(total) if bar.length().is_none() => {
                        bar.set_style(Self::style(Some(total)));
                        bar.set_length(total.max(progress.done));
                    }
                    Some(total) => bar.set_length(total.max(progress.done)),
                    None => {}
                }
                // The position goes first: each setter may draw the bar, and a draw of
                // the new counts beside the old position was the last one seen.
                bar.set_position(progress.done);
                bar.set_prefix(progress.stage);
                bar.set_message(written(progress));
            }
            None => self.log_line(progress),
        }
    }
}
