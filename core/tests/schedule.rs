//! The scheduler on a manual clock: fires on its cron, catches up missed runs once, never
//! overlaps a job with itself, jitters within its bound, cancels cleanly; and its state persists
//! in a real vault.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use keyward_core::schedule::{
    self, BoxFuture, Event, Host, Job, JobRun, JobSpec, ManualClock, Options, RunStatus, due, jitter,
};
use keyward_core::{Error, Secret, api};
use tokio::sync::{Semaphore, mpsc, watch};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, h, m, 0).unwrap()
}

#[derive(Default)]
struct TestHost {
    specs: Mutex<Vec<JobSpec>>,
    runs: Mutex<Vec<(Job, DateTime<Utc>)>>,
    recorded: Mutex<Vec<(Job, JobRun)>>,
    /// When set, runs wait for a permit (a long job).
    gate: Option<Arc<Semaphore>>,
    clock: Option<Arc<ManualClock>>,
    /// Runs that find the vault locked under them (the app locked mid-run).
    locked_runs: std::sync::atomic::AtomicUsize,
}

impl Host for TestHost {
    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobSpec>, Error>> {
        Box::pin(async move { Ok(self.specs.lock().unwrap().clone()) })
    }

    fn run(&self, job: Job) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let now = self.clock.as_ref().map(|c| schedule::Clock::now(&**c)).unwrap_or_default();
            self.runs.lock().unwrap().push((job, now));
            let locked = self.locked_runs.fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            );
            if locked.is_ok() {
                return Err(Error::Vault(keyward_core::vault::VaultError::Locked));
            }
            if let Some(g) = &self.gate {
                g.acquire().await.unwrap().forget();
            }
            Ok("done".into())
        })
    }

    fn record(&self, job: Job, run: JobRun) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            if run.status != RunStatus::Cancelled {
                for s in self.specs.lock().unwrap().iter_mut().filter(|s| s.job == job) {
                    s.last_fire_at = Some(run.fire_at);
                }
            }
            self.recorded.lock().unwrap().push((job, run));
            Ok(())
        })
    }
}

struct Running {
    clock: Arc<ManualClock>,
    host: Arc<TestHost>,
    events: mpsc::UnboundedReceiver<Event>,
    cancel: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

fn start(start: DateTime<Utc>, specs: Vec<JobSpec>, gate: Option<Arc<Semaphore>>, opts: Options) -> Running {
    let clock = Arc::new(ManualClock::new(start));
    let host = Arc::new(TestHost { specs: Mutex::new(specs), gate, clock: Some(clock.clone()), ..Default::default() });
    let (tx, events) = mpsc::unbounded_channel();
    let (cancel, rx) = watch::channel(false);
    let task = tokio::spawn(schedule::run(
        host.clone(),
        clock.clone(),
        opts,
        rx,
        Arc::new(move |e| {
            let _ = tx.send(e);
        }),
    ));
    Running { clock, host, events, cancel, task }
}

/// Starts the scheduler and lets it take its first look at the clock before the test moves it.
async fn started(at: DateTime<Utc>, specs: Vec<JobSpec>, gate: Option<Arc<Semaphore>>, opts: Options) -> Running {
    let mut s = start(at, specs, gate, opts);
    s.quiet().await;
    s
}

impl Running {
    async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv()).await.expect("an event in time").unwrap()
    }

    async fn quiet(&mut self) {
        let extra = tokio::time::timeout(Duration::from_millis(150), self.events.recv()).await;
        assert!(extra.is_err(), "unexpected event {extra:?}");
    }

    fn runs(&self) -> usize {
        self.host.runs.lock().unwrap().len()
    }
}

fn hourly(job: Job, last: Option<DateTime<Utc>>) -> JobSpec {
    JobSpec { job, cron: "0 0 * * * *".into(), last_fire_at: last }
}

fn no_jitter() -> Options {
    Options { max_jitter: Duration::ZERO, grace: Duration::from_millis(100), seed: 1 }
}

#[tokio::test]
async fn fires_on_its_cron_and_only_then() {
    let mut s = start(at(0, 30), vec![hourly(Job::Audit, None)], None, no_jitter());
    s.quiet().await;
    s.clock.set(at(0, 59));
    s.quiet().await;
    s.clock.set(at(1, 0));
    assert_eq!(s.next().await, Event::Started { job: Job::Audit, fire_at: at(1, 0), catch_up: false });
    assert!(matches!(s.next().await, Event::Finished { status: RunStatus::Ok(_), .. }));
    s.quiet().await;
    s.clock.set(at(2, 0));
    assert_eq!(s.next().await, Event::Started { job: Job::Audit, fire_at: at(2, 0), catch_up: false });
    s.next().await;
    assert_eq!(s.runs(), 2);
    s.cancel.send(true).unwrap();
    s.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn missed_runs_are_caught_up_once_at_start() {
    // Last covered 03:00 three days ago; now 10:30: 79 hourly fire times were missed.
    let last = at(3, 0) - chrono::Duration::days(3);
    let mut s = start(
        at(10, 30),
        vec![hourly(Job::Sync("dd".into()), Some(last)), hourly(Job::Audit, Some(at(10, 0)))],
        None,
        no_jitter(),
    );
    assert_eq!(s.next().await, Event::Started { job: Job::Sync("dd".into()), fire_at: at(10, 0), catch_up: true });
    s.next().await;
    s.quiet().await;
    assert_eq!(s.runs(), 1, "one catch-up, not 79; the audit was up to date");
    s.clock.set(at(11, 0));
    let mut started = vec![];
    for _ in 0..4 {
        if let Event::Started { job, catch_up, .. } = s.next().await {
            assert!(!catch_up);
            started.push(job);
        }
    }
    started.sort();
    assert_eq!(started, vec![Job::Sync("dd".into()), Job::Audit]);
    s.cancel.send(true).unwrap();
    s.task.await.unwrap().unwrap();
}

/// The vault locked under a run: the run is cancelled, its fire time stays uncovered, and it
/// runs again (in the app: once the vault is unlocked and the job listed again).
#[tokio::test]
async fn a_run_the_lock_stopped_is_run_again_not_lost() {
    let mut s = start(at(0, 30), vec![hourly(Job::Audit, None)], None, no_jitter());
    s.host.locked_runs.store(1, std::sync::atomic::Ordering::SeqCst);
    s.quiet().await;
    s.clock.set(at(1, 0));
    assert_eq!(s.next().await, Event::Started { job: Job::Audit, fire_at: at(1, 0), catch_up: false });
    assert_eq!(s.next().await, Event::Finished { job: Job::Audit, status: RunStatus::Cancelled });
    assert_eq!(s.next().await, Event::Started { job: Job::Audit, fire_at: at(1, 0), catch_up: false });
    assert!(matches!(s.next().await, Event::Finished { status: RunStatus::Ok(_), .. }));
    s.cancel.send(true).unwrap();
    s.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_job_never_overlaps_itself() {
    let gate = Arc::new(Semaphore::new(0));
    let every_minute = JobSpec { job: Job::Audit, cron: "0 * * * * *".into(), last_fire_at: None };
    let mut s = started(at(0, 0), vec![every_minute], Some(gate.clone()), no_jitter()).await;
    s.clock.set(at(0, 1));
    assert!(matches!(s.next().await, Event::Started { .. }));
    // Five more fire times pass while it runs: no second run starts.
    for m in 2..=6 {
        s.clock.set(at(0, m));
    }
    s.quiet().await;
    assert_eq!(s.runs(), 1);
    gate.add_permits(1);
    assert!(matches!(s.next().await, Event::Finished { .. }));
    // What it missed is caught up by one run, covering the latest fire time.
    assert_eq!(s.next().await, Event::Started { job: Job::Audit, fire_at: at(0, 6), catch_up: false });
    gate.add_permits(1);
    s.next().await;
    s.quiet().await;
    assert_eq!(s.runs(), 2);
    s.cancel.send(true).unwrap();
    s.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn cancellation_waits_for_the_grace_period_then_aborts_and_records() {
    let gate = Arc::new(Semaphore::new(0));
    let mut s = started(at(0, 30), vec![hourly(Job::Sync("slow".into()), None)], Some(gate), no_jitter()).await;
    s.clock.set(at(1, 0));
    assert!(matches!(s.next().await, Event::Started { .. }));
    s.cancel.send(true).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), s.task).await.expect("stops after the grace period");
    ended.unwrap().unwrap();
    let recorded = s.host.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1.status, RunStatus::Cancelled);
    // The cancelled run did not cover 01:00: a new start catches it up.
    let spec = s.host.specs.lock().unwrap()[0].clone();
    assert_eq!(spec.last_fire_at, None);
}

#[test]
fn jitter_is_bounded_stable_and_spread() {
    let max = Duration::from_secs(120);
    let mut seen = std::collections::BTreeSet::new();
    for h in 0..24 {
        for job in [Job::Audit, Job::Sync("a".into()), Job::Sync("b".into())] {
            let j = jitter(7, &job, at(h, 0), max);
            assert!(j < max);
            assert_eq!(j, jitter(7, &job, at(h, 0), max), "stable for one fire");
            seen.insert(j.as_secs());
        }
    }
    assert!(seen.len() > 30, "spread over the window: {}", seen.len());
    let opts = Options { max_jitter: max, ..Options::default() };
    let spec = hourly(Job::Audit, Some(at(1, 0)));
    let (when, fire, catch_up) = due(&spec, at(1, 10), at(1, 10), &opts).unwrap();
    assert_eq!((fire, catch_up), (at(2, 0), false));
    assert!(when >= at(2, 0) && when < at(2, 2));
    assert_eq!(jitter(7, &Job::Audit, at(1, 0), Duration::ZERO), Duration::ZERO);
}

#[test]
fn schedules_and_runs_persist_in_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    let home = api::Home::new(dir.path());
    let vault = api::init(&home, Some(&Secret::new("pw".into()))).unwrap();
    let jobs = schedule::list_jobs(&vault, at(0, 0)).unwrap();
    assert_eq!(jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["rotations", "scan", "audit"]);
    assert_eq!(jobs[0].next_fire_at.as_deref(), Some("2026-06-01T00:10:00Z"), "rotations: every ten minutes");
    assert_eq!(jobs[1].next_fire_at.as_deref(), Some("2026-06-01T12:15:00Z"), "the scan: daily");
    assert_eq!(jobs[2].next_fire_at.as_deref(), Some("2026-06-01T00:30:00Z"));
    schedule::set_job(&vault, "audit", Some("15 * * * *"), None).unwrap();
    let e = schedule::set_job(&vault, "audit", Some("every hour"), None).unwrap_err();
    assert!(e.to_string().contains("not a cron expression"), "{e}");
    assert!(matches!(schedule::set_job(&vault, "sync:nope", None, Some(false)), Err(Error::NotFound { .. })));
    let specs = schedule::enabled_jobs(&vault).unwrap();
    let spec = specs.iter().find(|s| s.job == Job::Audit).unwrap();
    assert_eq!((spec.cron.as_str(), spec.last_fire_at), ("15 * * * *", None));

    let run = |status| JobRun { fire_at: at(1, 15), started_at: at(1, 15), finished_at: at(1, 16), status };
    schedule::record_run(&vault, &Job::Audit, &run(RunStatus::Cancelled)).unwrap();
    assert_eq!(schedule::last_fire(&vault, &Job::Audit).unwrap(), None, "cancelled covers nothing");
    schedule::record_run(&vault, &Job::Audit, &run(RunStatus::Ok("3 findings".into()))).unwrap();
    assert_eq!(schedule::last_fire(&vault, &Job::Audit).unwrap(), Some(at(1, 15)));
    let view = &schedule::list_jobs(&vault, at(2, 0)).unwrap()[2];
    assert_eq!((view.last_status.as_deref(), view.last_message.as_deref()), (Some("ok"), Some("3 findings")));
    schedule::set_job(&vault, "audit", None, Some(false)).unwrap();
    schedule::set_job(&vault, "scan", None, Some(false)).unwrap();
    schedule::set_job(&vault, "rotations", None, Some(false)).unwrap();
    assert!(schedule::enabled_jobs(&vault).unwrap().is_empty());
}

/// The desktop app and the daemon (or two daemons) on one vault: each claims a job's lease for
/// its fire time before running it, so every fire time runs once, whichever of them gets there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_on_one_vault_run_each_fire_time_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = api::Home::new(dir.path());
    let vault = api::init(&home, Some(&Secret::new("pw".into()))).unwrap();
    schedule::set_job(&vault, "audit", Some("* * * * *"), None).unwrap();
    schedule::set_job(&vault, "scan", None, Some(false)).unwrap();
    // Covered up to midnight, so the first fire is 00:01 however late the schedulers start.
    let midnight =
        JobRun { fire_at: at(0, 0), started_at: at(0, 0), finished_at: at(0, 0), status: RunStatus::Ok("".into()) };
    schedule::record_run(&vault, &Job::Audit, &midnight).unwrap();
    let check = vault.try_clone().unwrap();
    let clock = Arc::new(ManualClock::new(at(0, 0) + chrono::Duration::seconds(30)));
    let (tx, mut events) = mpsc::unbounded_channel::<(usize, Event)>();
    let mut cancels = Vec::new();
    let mut tasks = Vec::new();
    for (n, v) in [vault.try_clone().unwrap(), vault].into_iter().enumerate() {
        let what = format!("scheduler {n}");
        let host = Arc::new(schedule::VaultHost::new(home.clone(), Arc::new(api::Session::with_vault(v)), &what));
        let (cancel, rx) = watch::channel(false);
        let tx = tx.clone();
        tasks.push(tokio::spawn(schedule::run(
            host,
            clock.clone(),
            no_jitter(),
            rx,
            Arc::new(move |e| {
                let _ = tx.send((n, e));
            }),
        )));
        cancels.push(cancel);
    }
    for minute in 1..=6 {
        clock.set(at(0, minute));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while schedule::last_fire(&check, &Job::Audit).unwrap() != Some(at(0, minute)) {
            if std::time::Instant::now() > deadline {
                let mut seen = Vec::new();
                while let Ok(e) = events.try_recv() {
                    seen.push(e);
                }
                panic!("the run due 00:{minute:02} was not recorded: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    for c in &cancels {
        c.send(true).unwrap();
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    drop(tx);
    let mut started = Vec::new();
    let mut by = [0, 0];
    while let Some((n, e)) = events.recv().await {
        if let Event::Started { fire_at, .. } = e {
            started.push(fire_at);
            by[n] += 1;
        }
    }
    started.sort();
    assert_eq!(started, (1..=6).map(|m| at(0, m)).collect::<Vec<_>>(), "each fire time once (by {by:?})");
    // Nothing left held: the leases were given back with each run.
    let jobs = schedule::list_jobs(&check, at(0, 7)).unwrap();
    assert!(jobs.iter().all(|j| j.running_in.is_none()), "{jobs:?}");
}
