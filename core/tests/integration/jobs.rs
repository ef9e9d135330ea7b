//! Background jobs: two schedulers sharing one store run a due job once, a run by hand is
//! recorded, the usage report reaches a local SMTP sink started by the test (or is
//! skipped, saying why, without SMTP), and a run whose process died is marked abandoned
//! while a run whose process lives is left alone.

use std::sync::Arc;

use bugdash::analytics::{Action, Event};
use bugdash::auth::{Auth, ManualClock, Role};
use bugdash::config::{CacheSettings, Settings, SmtpSecurity};
use bugdash::jobs::{job_lock, job_status, run_job, Attempt, Job, JobContext, Scheduler};
use bugdash::metrics::Metrics;
use bugdash::model::Timestamp;
use bugdash::store::analytics::JobOutcome;
use bugdash::store::{Backend, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::analytics::{add_account, fixture};

/// 2026-12-04T10:00:00Z, a Friday.
const NOW: i64 = 1_796_378_400_000;

async fn context(store: Arc<dyn Store>, settings: Settings, instance: &str) -> JobContext {
    let clock = ManualClock::new(Timestamp::from_millis(NOW));
    let cache = bugdash::cache::open(&CacheSettings::default()).await.expect("cache");
    let auth = Auth::with_clock(Arc::clone(&store), cache, &settings, Arc::new(clock.clone()))
        .await
        .expect("auth");
    JobContext {
        store,
        auth,
        settings: Arc::new(settings),
        clock: Arc::new(clock),
        metrics: Arc::new(Metrics::new()),
        instance: instance.into(),
    }
}

fn settings() -> Settings {
    Settings::from_sources(None, None, &|_| None).expect("default settings")
}

async fn two_schedulers_on_one_store_run_each_due_job_once(backend: Backend) {
    let fixture = fixture(backend).await;
    // The second instance opens the database on its own connections, as a second process.
    let second = bugdash::store::open(&fixture.url).await.expect("second instance");
    let jobs = [Job::SessionCleanup, Job::AnalyticsRollup, Job::RetentionPurge, Job::Sync];
    let a = Scheduler::with_jobs(context(Arc::clone(&fixture.store), settings(), "a").await, &jobs);
    let b = Scheduler::with_jobs(context(second, settings(), "b").await, &jobs);

    let (from_a, from_b) = tokio::join!(a.run_due(), b.run_due());
    let again = a.run_due().await;
    let third = context(Arc::clone(&fixture.store), settings(), "c").await;
    let from_c = Scheduler::with_jobs(third, &jobs).run_due().await;

    let runs = fixture.store.job_runs(None, 100).await.expect("job runs");
    assert_eq!(runs.len(), jobs.len(), "one run per job: {runs:#?}");
    for job in jobs {
        let ran = |results: &[(Job, bugdash::Result<Attempt>)]| {
            let found = results.iter().find(|(j, _)| *j == job);
            found.is_some_and(|(_, attempt)| matches!(attempt, Ok(Attempt::Ran(_))))
        };
        assert!(ran(&from_a) ^ ran(&from_b), "{} ran on exactly one instance", job.name());
        assert!(!ran(&again), "{} does not run twice in one slot", job.name());
        assert!(!ran(&from_c), "{} does not run on a third instance", job.name());
    }
    let sync = runs.iter().find(|r| r.job == "sync").unwrap();
    assert_eq!(sync.outcome, JobOutcome::Skipped, "no JIRA configured");
    let rollup = runs.iter().find(|r| r.job == "analytics-rollup").unwrap();
    assert_eq!(rollup.slot, "2026-12-04");
    assert_eq!(rollup.outcome, JobOutcome::Succeeded, "{:?}", rollup.message);
    assert!(runs.iter().all(|r| r.finished_at.is_some() && r.duration_ms.is_some()));
}

async fn a_run_by_hand_is_recorded_beside_the_scheduled_one(backend: Backend) {
    let fixture = fixture(backend).await;
    let ctx = context(Arc::clone(&fixture.store), settings(), "cli").await;
    Scheduler::with_jobs(ctx.clone(), &[Job::RetentionPurge]).run_due().await;

    let run = run_job(Job::RetentionPurge, &ctx).await.expect("run by hand");

    assert_eq!(run.outcome, JobOutcome::Succeeded, "{:?}", run.message);
    assert!(run.slot.starts_with("manual-"));
    let runs = fixture.store.job_runs(Some("retention-purge"), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    if backend == Backend::Postgres {
        let partitions = fixture.store.event_partitions().await.unwrap();
        assert_eq!(partitions.len(), 4, "this month and three ahead: {partitions:?}");
    }
    let error = "no-such-job".parse::<Job>().unwrap_err().to_string();
    assert!(error.contains("session-cleanup") && error.contains("usage-report"), "{error}");
}

/// A minimal SMTP server on 127.0.0.1 that accepts every message and sends each one's
/// envelope recipients and data down the channel.
async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let (mut recipients, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let message = std::mem::take(&mut data);
                            let _ = sender.send((std::mem::take(&mut recipients), message));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "RCPT" => {
                            recipients.push(line[8..].trim().to_owned());
                            b"250 ok\r\n"
                        }
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, receiver)
}

async fn the_usage_report_email_reaches_every_admin_at_a_local_smtp_sink(backend: Backend) {
    let fixture = fixture(backend).await;
    let store = fixture.store.as_ref();
    let created = Timestamp::from_millis(NOW - 86_400_000);
    let admin = add_account(store, "admin@example.com", Role::Admin, created).await;
    add_account(store, "user@example.com", Role::User, created).await;
    let mut analysis = Event::new(Action::AnalyzeProject, Timestamp::from_millis(NOW - 60_000));
    analysis.account_id = Some(admin);
    analysis.project = Some("ZOOKEEPER".into());
    store.insert_events(&[analysis]).await.unwrap();
    let (port, mut inbox) = smtp_sink().await;
    let mut settings = settings();
    settings.smtp.host = Some("127.0.0.1".into());
    settings.smtp.port = port;
    settings.smtp.security = SmtpSecurity::None;
    settings.smtp.from = "BugDash <bugdash@example.com>".into();
    let ctx = context(Arc::clone(&fixture.store), settings, "a").await;

    let run = run_job(Job::UsageReport, &ctx).await.expect("run the report");

    assert_eq!(run.outcome, JobOutcome::Succeeded, "{:?}", run.message);
    let (recipients, message) = inbox.recv().await.expect("a message arrived");
    assert_eq!(recipients, ["<admin@example.com>"], "admins only");
    assert!(message.contains("Subject: BugDash usage 2026-11-28 to 2026-12-04"), "{message}");
    assert!(message.contains("ZOOKEEPER"), "{message}");
    assert!(inbox.try_recv().is_err(), "one message per admin");
}

async fn without_smtp_the_usage_report_is_skipped_saying_why(backend: Backend) {
    let fixture = fixture(backend).await;
    let ctx = context(Arc::clone(&fixture.store), settings(), "a").await;

    let run = run_job(Job::UsageReport, &ctx).await.expect("run the report");

    assert_eq!(run.outcome, JobOutcome::Skipped);
    assert!(run.message.unwrap().contains("SMTP_HOST is not set"));
}

/// What an instance leaves behind when it is killed in the middle of a run of `job`: it
/// took the job's lock, claimed `slot` and started, and then its process (and with it the
/// lock) was gone. Returns the run's id.
async fn leave_a_run_of_a_dead_instance(url: &str, job: Job, slot: &str) -> i64 {
    let (dead, name) = (bugdash::store::open(url).await.expect("doomed store"), job_lock(job));
    let lock = dead.lock_sync(&name).await.unwrap().expect("the job's lock is free");
    let started = Timestamp::from_millis(NOW - 60_000);
    let claim = dead.claim_job_run(job.name(), slot, "doomed:4242", &name, started);
    let id = claim.await.unwrap().expect("the slot is free");
    lock.release().await;
    id
}

async fn a_run_whose_process_died_is_marked_abandoned_when_the_jobs_are_listed(backend: Backend) {
    let fixture = fixture(backend).await;
    let id = leave_a_run_of_a_dead_instance(&fixture.url, Job::Sync, "interval-1").await;

    let listed = job_status(fixture.store.as_ref()).await.expect("the jobs list");
    let again = job_status(fixture.store.as_ref()).await.expect("the jobs list again");

    let sync = listed.iter().find(|status| status.job == "sync").expect("the sync job");
    let run = sync.last_run.as_ref().expect("the dead run");
    assert_eq!((run.id, run.outcome), (id, JobOutcome::Abandoned));
    assert_eq!((run.finished_at, run.duration_ms), (None, None), "its end is unknown");
    let message = run.message.as_deref().unwrap_or_default();
    assert!(message.contains("doomed:4242") && message.contains("job:sync"), "{message}");
    assert_eq!(listed, again, "a second listing changes nothing");
}

async fn a_scheduler_abandons_the_dead_run_of_its_slot_and_runs_the_slot_again(backend: Backend) {
    let fixture = fixture(backend).await;
    let job = Job::AnalyticsRollup;
    let slot = job.slot(Timestamp::from_millis(NOW), &settings());
    let dead = leave_a_run_of_a_dead_instance(&fixture.url, job, &slot).await;
    let ctx = context(Arc::clone(&fixture.store), settings(), "b").await;

    let attempts = Scheduler::with_jobs(ctx, &[job]).run_due().await;

    let ran = match &attempts[..] {
        [(_, Ok(Attempt::Ran(run)))] => run.clone(),
        other => panic!("the slot did not run again: {other:?}"),
    };
    assert_eq!((ran.slot.as_str(), ran.outcome), (slot.as_str(), JobOutcome::Succeeded));
    assert_eq!((ran.instance.as_str(), ran.lock.as_str()), ("b", "job:analytics-rollup"));
    let runs = fixture.store.job_runs(Some(job.name()), 10).await.unwrap();
    let outcomes: Vec<(i64, JobOutcome)> = runs.iter().map(|run| (run.id, run.outcome)).collect();
    assert_eq!(outcomes, [(ran.id, JobOutcome::Succeeded), (dead, JobOutcome::Abandoned)]);
}

async fn a_starting_scheduler_abandons_the_dead_runs_of_every_job(backend: Backend) {
    let fixture = fixture(backend).await;
    let purge = leave_a_run_of_a_dead_instance(&fixture.url, Job::RetentionPurge, "a").await;
    let cleanup = leave_a_run_of_a_dead_instance(&fixture.url, Job::SessionCleanup, "b").await;
    let ctx = context(Arc::clone(&fixture.store), settings(), "starting").await;

    let abandoned = Scheduler::new(ctx).abandon_lost_runs().await.expect("looked");

    let mut ids: Vec<i64> = abandoned.iter().map(|run| run.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [purge, cleanup]);
    assert!(abandoned.iter().all(|run| run.message.as_deref().unwrap().contains("starting")));
    let running = fixture.store.running_job_runs().await.unwrap();
    assert!(running.is_empty(), "{running:?}");
}

async fn a_run_whose_process_lives_stays_running_and_keeps_its_job_locked(backend: Backend) {
    let fixture = fixture(backend).await;
    let job = Job::RetentionPurge;
    let alive = bugdash::store::open(&fixture.url).await.expect("the live instance's store");
    let name = job_lock(job);
    let lock = alive.lock_sync(&name).await.unwrap().expect("the job's lock is free");
    let started = Timestamp::from_millis(NOW - 60_000);
    let claim = alive.claim_job_run(job.name(), "slow", "alive:1", &name, started);
    let id = claim.await.unwrap().expect("the slot is free");
    let ctx = context(Arc::clone(&fixture.store), settings(), "b").await;

    let listed = job_status(fixture.store.as_ref()).await.expect("the jobs list");
    let attempts = Scheduler::with_jobs(ctx.clone(), &[job]).run_due().await;
    let at_start = Scheduler::new(ctx).abandon_lost_runs().await.expect("looked");
    lock.release().await;

    let purge = listed.iter().find(|status| status.job == job.name()).unwrap();
    let run = purge.last_run.as_ref().unwrap();
    assert_eq!((run.id, run.outcome), (id, JobOutcome::Running));
    assert!(matches!(attempts[..], [(_, Ok(Attempt::Locked))]), "{attempts:?}");
    assert!(at_start.is_empty(), "{at_start:?}");
}

/// The daily rollup stores only a day that is over: run early today, it leaves today to be
/// computed from its events, so use later today shows in the reports at once.
async fn the_daily_rollup_leaves_today_open_for_later_events(backend: Backend) {
    let fixture = fixture(backend).await;
    let ctx = context(Arc::clone(&fixture.store), settings(), "a").await;
    let now = Timestamp::from_millis(NOW);
    let today = now.date();
    let yesterday = today.pred_opt().unwrap();
    let at = |millis_ago: i64| Timestamp::from_millis(NOW - millis_ago);
    let mut before = Event::new(Action::AnalyzeProject, at(86_400_000));
    before.account_id = Some(1);
    fixture.store.insert_events(&[before]).await.expect("yesterday's event");

    let run = run_job(Job::AnalyticsRollup, &ctx).await.expect("rollup");
    let mut later = Event::new(Action::AnalyzeProject, at(60_000));
    later.account_id = Some(2);
    fixture.store.insert_events(&[later]).await.expect("today's event");
    let days = bugdash::analytics::report::days(fixture.store.as_ref(), yesterday, today).await;

    assert_eq!(run.outcome, JobOutcome::Succeeded, "{:?}", run.message);
    let stored = fixture.store.rollups(yesterday, today).await.expect("stored rollups");
    assert_eq!(stored.iter().map(|r| r.day).collect::<Vec<_>>(), vec![yesterday]);
    let days = days.expect("days");
    assert_eq!(
        days.iter().map(|d| (d.day, d.analyses)).collect::<Vec<_>>(),
        [(yesterday, 1), (today, 1)]
    );
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(bugdash::store::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(bugdash::store::Backend::Postgres).await;
            })*
        }
    };
}

on_both_backends!(
    two_schedulers_on_one_store_run_each_due_job_once,
    a_run_by_hand_is_recorded_beside_the_scheduled_one,
    the_usage_report_email_reaches_every_admin_at_a_local_smtp_sink,
    without_smtp_the_usage_report_is_skipped_saying_why,
    a_run_whose_process_died_is_marked_abandoned_when_the_jobs_are_listed,
    a_scheduler_abandons_the_dead_run_of_its_slot_and_runs_the_slot_again,
    a_starting_scheduler_abandons_the_dead_runs_of_every_job,
    a_run_whose_process_lives_stays_running_and_keeps_its_job_locked,
    the_daily_rollup_leaves_today_open_for_later_events,
);
