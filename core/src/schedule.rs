//! Scheduled jobs: a sync per connector, the audit and the exposure scan, each on a cron
//! expression, run by the desktop app while it sits in the tray and by `keyward daemon`.
//!
//! What a user relies on, and where it is kept:
//! - **Last run persisted** (`jobs` table): a restart knows what it missed.
//! - **Catch-up once**: a job whose fire times passed while nothing ran (laptop asleep, app
//!   closed) runs once at start, not once per missed time.
//! - **No overlap**: a job never runs twice at once; a fire time that passes during a run is
//!   caught up once when it ends.
//! - **One process drives a job**: the desktop app and `keyward daemon` (or two daemons) share
//!   the vault; before a run, the host claims the job's lease for its fire time (see
//!   [`crate::lease`]). A fire time another process covered is skipped; a job another process is
//!   running is left to it ("running in …"); a holder that died is taken over when its lease
//!   expires.
//! - **Jitter**: each fire is delayed by a stable pseudo-random amount up to a bound, so many
//!   syncs set to the same minute do not hit a provider together.
//! - **Clean cancellation**: cancelling stops scheduling, lets running jobs finish within a grace
//!   period, aborts the rest (syncs write in one transaction, so an aborted one changes nothing)
//!   and records them as cancelled.
//!
//! Time comes from a [`Clock`], so tests drive the scheduler on a manual clock. The work itself is
//! the [`Host`]'s: the scheduler only decides when.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::store::jobs as store;
use crate::vault::Vault;
use crate::{Error, connector, time};

/// A boxed future, for the object-safe traits below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the scheduler reads the time and waits.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once `now() >= t`.
    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Re-check after waking: a suspended machine's monotonic clock may lag the wall clock.
            loop {
                let left = t - Utc::now();
                if left <= chrono::Duration::zero() {
                    return;
                }
                tokio::time::sleep(left.to_std().unwrap_or_default().min(Duration::from_secs(60))).await;
            }
        })
    }
}

/// A clock that moves only when told: scheduler tests advance it by days in microseconds.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self { now: watch::channel(start).0 }
    }

    /// Moves the clock forward (or to `t`); waiters whose time came wake up.
    pub fn set(&self, t: DateTime<Utc>) {
        self.now.send_replace(t);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: chrono::Duration) {
        let t = *self.now.borrow() + d;
        self.set(t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|now| *now >= t).await;
        })
    }
}

/// A schedulable piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Sync one connector.
    Sync(String),
    /// Run the audit (and notify).
    Audit,
    /// Scan this machine for keys (the default locations and configured folders), then audit.
    Scan,
    /// Finish the rotations whose grace period is over (delete their old keys), then propose or
    /// start the ones the policy says are due.
    Rotations,
}

impl Job {
    /// The stored id: `audit`, `scan` or `sync:<connector>`.
    pub fn id(&self) -> String {
        match self {
            Job::Sync(c) => format!("sync:{c}"),
            Job::Audit => "audit".to_owned(),
            Job::Scan => "scan".to_owned(),
            Job::Rotations => "rotations".to_owned(),
        }
    }

    /// Parses a stored id.
    pub fn parse(id: &str) -> Option<Self> {
        match id {
            "audit" => Some(Job::Audit),
            "scan" => Some(Job::Scan),
            "rotations" => Some(Job::Rotations),
            _ => id.strip_prefix("sync:").filter(|c| !c.is_empty()).map(|c| Job::Sync(c.to_owned())),
        }
    }
}

/// Default: every connector syncs every six hours on the hour; the audit follows at :30.
pub const DEFAULT_SYNC_CRON: &str = "0 0 */6 * * *";
/// Default audit schedule.
pub const DEFAULT_AUDIT_CRON: &str = "0 30 */6 * * *";
/// Default exposure scan: once a day, at lunchtime, when the machine is likely on.
pub const DEFAULT_SCAN_CRON: &str = "0 15 12 * * *";
/// Rotations past their grace period are finished within ten minutes.
pub const DEFAULT_ROTATIONS_CRON: &str = "0 */10 * * * *";

/// Parses a cron expression: the cron crate's six or seven fields (seconds first), or the
/// classic five (a `0` seconds field is put in front).
/// A schedule that never fires (`0 0 30 2 *`) is refused too. Errors name the field at fault in
/// the user's own terms, never the crate's internal six-field form.
pub fn parse_cron(expr: &str) -> Result<cron::Schedule, Error> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let parse = |fields: &[&str]| {
        let full = if fields.len() == 5 { format!("0 {}", fields.join(" ")) } else { fields.join(" ") };
        cron::Schedule::from_str(&full)
    };
    let schedule = parse(&fields).map_err(|_| Error::Invalid {
        field: "cron",
        reason: format!(
            "{expr:?} is not a cron expression: {}; e.g. \"0 */6 * * *\" for every six hours",
            cron_culprit(&fields, parse)
        ),
    })?;
    if schedule.after(&chrono::Utc::now()).next().is_none() {
        return Err(Error::Invalid { field: "cron", reason: format!("{expr:?} never fires (no such date)") });
    }
    Ok(schedule)
}

/// Which field of a refused expression is wrong: each is tried alone, the others `*`.
fn cron_culprit<E>(fields: &[&str], parse: impl Fn(&[&str]) -> Result<cron::Schedule, E>) -> String {
    const SECOND: (&str, &str) = ("second", "0–59");
    const CLASSIC: [(&str, &str); 5] = [
        ("minute", "0–59"),
        ("hour", "0–23"),
        ("day-of-month", "1–31"),
        ("month", "1–12 or JAN–DEC"),
        ("day-of-week", "SUN–SAT, or 1–7 with 1 for Sunday"),
    ];
    let names: Vec<(&str, &str)> = match fields.len() {
        5 => CLASSIC.to_vec(),
        6 => std::iter::once(SECOND).chain(CLASSIC).collect(),
        7 => std::iter::once(SECOND).chain(CLASSIC).chain([("year", "1970–2099")]).collect(),
        n => {
            return format!("it has {n} fields; five are expected (minute hour day-of-month month day-of-week)");
        }
    };
    for (i, (name, range)) in names.iter().enumerate() {
        let probe: Vec<&str> = (0..fields.len()).map(|j| if j == i { fields[j] } else { "*" }).collect();
        if parse(&probe).is_err() {
            return format!("the {name} field {:?} is not valid ({range})", fields[i]);
        }
    }
    "its fields do not fit together".to_owned()
}

/// A job, its schedule and its last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct JobView {
    /// `audit`, `scan` or `sync:<connector>`.
    pub id: String,
    /// Its cron expression.
    pub cron: String,
    /// Whether it runs.
    pub enabled: bool,
    /// The scheduled time the last run covered.
    pub last_fire_at: Option<String>,
    /// When the last run started.
    pub last_started_at: Option<String>,
    /// When it ended.
    pub last_finished_at: Option<String>,
    /// `ok`, `failed` or `cancelled`.
    pub last_status: Option<String>,
    /// What it reported, or why it failed.
    pub last_message: Option<String>,
    /// The next fire time (before jitter) after now.
    pub next_fire_at: Option<String>,
    /// The process running it now, if any ("keyward daemon (pid 4242 on build-1)").
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "bindings", ts(optional))]
    pub running_in: Option<String>,
}

/// Creates the default jobs that do not exist yet (a sync per connector, the audit, the scan)
/// and drops the syncs of connectors that are gone. Writes only what differs: the scheduler of
/// every process calls this at each wake, and an `INSERT OR IGNORE` takes the write lock even
/// when it ignores. Two processes doing it at once agree (ignored inserts, idempotent deletes).
pub fn ensure_jobs(vault: &Vault) -> Result<(), Error> {
    let connectors: Vec<String> = connector::list(vault)?.into_iter().map(|c| c.name).collect();
    let conn = vault.conn();
    let existing = store::ids(conn)?;
    let wanted = [(Job::Audit, DEFAULT_AUDIT_CRON), (Job::Scan, DEFAULT_SCAN_CRON), (Job::Rotations, DEFAULT_ROTATIONS_CRON)]
        .into_iter()
        .chain(connectors.iter().map(|c| (Job::Sync(c.clone()), DEFAULT_SYNC_CRON)));
    for (job, cron) in wanted {
        let id = job.id();
        if !existing.contains(&id) {
            store::ensure(conn, &id, cron)?;
        }
    }
    for id in existing {
        if let Some(Job::Sync(c)) = Job::parse(&id)
            && !connectors.contains(&c)
        {
            store::delete(conn, &id)?;
        }
    }
    Ok(())
}

/// Every job with its state.
pub fn list_jobs(vault: &Vault, now: DateTime<Utc>) -> Result<Vec<JobView>, Error> {
    ensure_jobs(vault)?;
    let mut jobs = Vec::new();
    for r in store::all(vault.conn())? {
        jobs.push(JobView {
            running_in: crate::lease::holder_of(vault, &lease_name(&r.id), now)?.map(|h| h.holder),
            next_fire_at: parse_cron(&r.cron).ok().and_then(|s| s.after(&now).next()).map(time::to_string),
            id: r.id,
            cron: r.cron,
            enabled: r.enabled,
            last_fire_at: r.last_fire_at,
            last_started_at: r.last_started_at,
            last_finished_at: r.last_finished_at,
            last_status: r.last_status,
            last_message: r.last_message,
        });
    }
    Ok(jobs)
}

/// The lease a job's runs take.
fn lease_name(job_id: &str) -> String {
    format!("job:{job_id}")
}

/// Changes a job's schedule or switches it on or off.
pub fn set_job(vault: &Vault, id: &str, cron: Option<&str>, enabled: Option<bool>) -> Result<(), Error> {
    ensure_jobs(vault)?;
    if let Some(c) = cron {
        parse_cron(c)?;
    }
    if !store::update(vault.conn(), id, cron, enabled)? {
        return Err(Error::NotFound { what: "job", id: id.to_owned() });
    }
    let mut changed = Vec::new();
    if let Some(c) = cron {
        changed.push(format!("schedule {c}"));
    }
    if let Some(e) = enabled {
        changed.push(if e { "on" } else { "off" }.to_owned());
    }
    crate::activity::record(
        vault,
        crate::activity::Entry::new("settings.schedule", "ok").subject(id).detail(changed.join(", ")),
    );
    Ok(())
}

/// A job as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The job.
    pub job: Job,
    /// Its cron expression.
    pub cron: String,
    /// The scheduled time its last run covered.
    pub last_fire_at: Option<DateTime<Utc>>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// Done; what it reported.
    Ok(String),
    /// Failed; why.
    Failed(String),
    /// Stopped by cancellation.
    Cancelled,
}

/// One run of a job, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// The fire time it covered.
    pub fire_at: DateTime<Utc>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// Outcome.
    pub status: RunStatus,
}

/// Enabled jobs from the vault.
pub fn enabled_jobs(vault: &Vault) -> Result<Vec<JobSpec>, Error> {
    ensure_jobs(vault)?;
    Ok(store::enabled(vault.conn())?
        .into_iter()
        .filter_map(|r| Job::parse(&r.id).map(|job| JobSpec { job, cron: r.cron, last_fire_at: r.last_fire_at }))
        .collect())
}

/// Records a run in the vault. A cancelled run does not cover its fire time.
pub fn record_run(vault: &Vault, job: &Job, run: &JobRun) -> Result<(), Error> {
    record_in(vault.conn(), job, run)
}

/// Records a run and gives its lease back, in one transaction: whoever claims the job next sees
/// the fire time covered.
pub fn finish_run(vault: &mut Vault, job: &Job, run: &JobRun, holder: &crate::lease::Holder) -> Result<(), Error> {
    let tx = vault.write()?;
    record_in(&tx, job, run)?;
    crate::lease::release_in(&tx, &lease_name(&job.id()), holder)?;
    tx.commit()?;
    Ok(())
}

/// What a host's claim on a job's fire time came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Run it; renew the lease this often while it runs (`None`: nothing to renew).
    Granted {
        /// How often to call [`Host::renew`].
        renew_every: Option<Duration>,
    },
    /// Another process already ran this fire time (or a later one).
    Covered,
    /// Another process is running the job now.
    Held(crate::lease::HeldElsewhere),
}

/// Claims `job`'s lease for the run covering `fire_at`, in one transaction: refused when the
/// vault says the fire time is covered, or while another holder's lease is live.
pub fn claim_run(
    vault: &mut Vault,
    job: &Job,
    fire_at: DateTime<Utc>,
    holder: &crate::lease::Holder,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Claim, Error> {
    let tx = vault.write()?;
    if store::last_fire_at(&tx, &job.id())?.is_some_and(|l| l >= fire_at) {
        return Ok(Claim::Covered);
    }
    if let Some(held) = crate::lease::take(&tx, &lease_name(&job.id()), holder, lease, now)? {
        return Ok(Claim::Held(held));
    }
    tx.commit()?;
    Ok(Claim::Granted { renew_every: Some(lease / 3) })
}

/// How long a job's lease lasts unless renewed: `KEYWARD_LEASE_SECS`, two minutes by default.
/// A holder that dies is taken over this long after its last renewal.
pub fn lease_duration() -> Duration {
    let secs = std::env::var("KEYWARD_LEASE_SECS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(120);
    Duration::from_secs(secs.clamp(1, crate::lease::LONGEST.as_secs()))
}

/// Records a run; a cancelled one leaves the job's last fire time as it was (uncovered).
fn record_in(conn: &rusqlite::Connection, job: &Job, run: &JobRun) -> Result<(), Error> {
    let (status, message, covers) = match &run.status {
        RunStatus::Ok(m) => ("ok", Some(m.as_str()), Some(run.fire_at)),
        RunStatus::Failed(m) => ("failed", Some(m.as_str()), Some(run.fire_at)),
        RunStatus::Cancelled => ("cancelled", None, None),
    };
    store::record_run(
        conn,
        &job.id(),
        &store::FinishedRun { covers, started_at: run.started_at, finished_at: run.finished_at, status, message },
    )
}

/// What the scheduler drives: where jobs are listed, run and recorded.
pub trait Host: Send + Sync + 'static {
    /// The enabled jobs and their last fire times (read again before every decision, so schedule
    /// changes and new connectors apply without a restart).
    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobSpec>, Error>>;
    /// Runs one job to completion; the text is what the run reports.
    fn run(&self, job: Job) -> BoxFuture<'_, Result<String, Error>>;
    /// Persists a run (and gives back the lease [`Host::claim`] took).
    fn record(&self, job: Job, run: JobRun) -> BoxFuture<'_, Result<(), Error>>;
    /// Claims the job's run covering `fire_at` before it starts. A host alone on its jobs (tests)
    /// keeps the default: always granted.
    fn claim(&self, job: &Job, fire_at: DateTime<Utc>) -> BoxFuture<'_, Result<Claim, Error>> {
        let _ = (job, fire_at);
        Box::pin(async { Ok(Claim::Granted { renew_every: None }) })
    }
    /// Renews the lease of a running job; false when another process took it over.
    fn renew(&self, job: &Job) -> BoxFuture<'_, Result<bool, Error>> {
        let _ = job;
        Box::pin(async { Ok(true) })
    }
}

/// What the scheduler tells its owner (the daemon prints it; the desktop shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A job started (`catch_up`: it covers fire times missed while nothing ran).
    Started {
        /// The job.
        job: Job,
        /// The fire time it covers.
        fire_at: DateTime<Utc>,
        /// Whether it is a catch-up.
        catch_up: bool,
    },
    /// A job ended.
    Finished {
        /// The job.
        job: Job,
        /// How.
        status: RunStatus,
    },
    /// A job was due, and another process is running it: left to that one.
    Elsewhere {
        /// The job.
        job: Job,
        /// Who runs it, as stored in the vault (sanitise to show).
        holder: String,
    },
}

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Each fire is delayed by up to this much (stable per job and fire time).
    pub max_jitter: Duration,
    /// How long running jobs may take to finish after cancellation before they are aborted.
    pub grace: Duration,
    /// Mixed into the jitter, so two machines do not pick the same delays.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self { max_jitter: Duration::from_secs(120), grace: Duration::from_secs(10), seed: 0 }
    }
}

/// The jitter of one fire: stable for (seed, job, fire time), below `max`.
pub fn jitter(seed: u64, job: &Job, fire_at: DateTime<Utc>, max: Duration) -> Duration {
    let max_ms = max.as_millis() as u64;
    if max_ms == 0 {
        return Duration::ZERO;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in job.id().bytes().chain(fire_at.timestamp().to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Duration::from_millis(h % max_ms)
}

/// When a job is due, seen at `now` by a scheduler started at `since`: the first fire time
/// after the last one it covered (after `since` if it never ran), plus jitter. The run covers the
/// latest fire time not after `now`, so fire times missed while nothing ran (or while the job
/// ran long) are caught up by one run. Returns (due at, fire time covered, catch-up).
pub fn due(
    spec: &JobSpec,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    opts: &Options,
) -> Option<(DateTime<Utc>, DateTime<Utc>, bool)> {
    let schedule = parse_cron(&spec.cron).ok()?;
    let next = schedule.after(&spec.last_fire_at.unwrap_or(since)).next()?;
    let latest =
        if next <= now { schedule.after(&next).take_while(|t| *t <= now).last().unwrap_or(next) } else { next };
    let catch_up = next < since;
    let base = if catch_up { since } else { next };
    let at =
        base + chrono::Duration::from_std(jitter(opts.seed, &spec.job, latest, opts.max_jitter)).unwrap_or_default();
    Some((at, latest, catch_up))
}

/// Runs jobs until `cancel` turns true. Returns once every run has ended and been recorded.
pub async fn run<H: Host>(
    host: Arc<H>,
    clock: Arc<dyn Clock>,
    opts: Options,
    mut cancel: watch::Receiver<bool>,
    on_event: Arc<dyn Fn(Event) + Send + Sync>,
) -> Result<(), Error> {
    let running: Arc<Mutex<HashSet<Job>>> = Arc::default();
    let mut tasks: JoinSet<(Job, JobRun)> = JoinSet::new();
    // Fire times handed to a run, so a reloaded spec whose run has not been recorded yet is not
    // scheduled again for the same time.
    let mut covered: HashMap<Job, DateTime<Utc>> = HashMap::new();
    // Jobs another process is running: looked at again at the time kept here (the lease's expiry,
    // or sooner, to see the fire time covered), and told once per holder.
    let mut elsewhere: HashMap<Job, (DateTime<Utc>, String)> = HashMap::new();
    let since = clock.now();
    loop {
        if *cancel.borrow() {
            break;
        }
        let now = clock.now();
        let specs = host.jobs().await?;
        let busy = running.lock().expect("running set").clone();
        let mut next_wake: Option<DateTime<Utc>> = None;
        for spec in &specs {
            if busy.contains(&spec.job) {
                continue; // never two runs of one job; what it misses meanwhile is caught up after
            }
            let mut spec = spec.clone();
            if let Some(c) = covered.get(&spec.job) {
                spec.last_fire_at = Some(spec.last_fire_at.map_or(*c, |l| l.max(*c)));
            }
            let Some((at, fire_at, catch_up)) = due(&spec, since, now, &opts) else { continue };
            let at = match elsewhere.get(&spec.job) {
                Some((again, _)) => at.max(*again),
                None => at,
            };
            if at <= now {
                let claim = match host.claim(&spec.job, fire_at).await {
                    Ok(claim) => claim,
                    Err(e) => {
                        // The vault locked meanwhile, or busy past its timeout: looked at again
                        // at the next wake (within a minute).
                        tracing::warn!(job = %spec.job.id(), error = %e, "the job could not be claimed");
                        continue;
                    }
                };
                let renew_every = match claim {
                    Claim::Granted { renew_every } => renew_every,
                    Claim::Covered => {
                        covered.insert(spec.job.clone(), fire_at);
                        elsewhere.remove(&spec.job);
                        continue;
                    }
                    Claim::Held(held) => {
                        let again = held.until.min(now + chrono::Duration::seconds(5));
                        let told = elsewhere.get(&spec.job).is_some_and(|(_, h)| *h == held.holder);
                        if !told {
                            on_event(Event::Elsewhere { job: spec.job.clone(), holder: held.holder.clone() });
                        }
                        elsewhere.insert(spec.job.clone(), (again, held.holder));
                        next_wake = Some(next_wake.map_or(again, |w| w.min(again)));
                        continue;
                    }
                };
                elsewhere.remove(&spec.job);
                running.lock().expect("running set").insert(spec.job.clone());
                covered.insert(spec.job.clone(), fire_at);
                on_event(Event::Started { job: spec.job.clone(), fire_at, catch_up });
                let (host, clock, job) = (host.clone(), clock.clone(), spec.job.clone());
                tasks.spawn(async move {
                    let started_at = clock.now();
                    let work = host.run(job.clone());
                    tokio::pin!(work);
                    let outcome = loop {
                        let renewal = async {
                            match renew_every {
                                Some(every) => tokio::time::sleep(every).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            outcome = &mut work => break outcome,
                            () = renewal => match host.renew(&job).await {
                                Ok(true) => {}
                                // Another process took the job over (this one stalled past its
                                // lease: a suspended laptop): stop, so the run is not made twice.
                                Ok(false) => break Err(Error::Conflict(
                                    "stopped: another process took the job over while it ran".into(),
                                )),
                                Err(e) => tracing::warn!(job = %job.id(), error = %e, "the job's lease could not be renewed"),
                            },
                        }
                    };
                    let status = match outcome {
                        Ok(m) => RunStatus::Ok(m),
                        // Locked under it: nothing ran to the end; caught up after the unlock.
                        Err(Error::Vault(crate::vault::VaultError::Locked)) => RunStatus::Cancelled,
                        Err(e) => RunStatus::Failed(e.to_string()),
                    };
                    (job, JobRun { fire_at, started_at, finished_at: clock.now(), status })
                });
            } else {
                next_wake = Some(next_wake.map_or(at, |w| w.min(at)));
            }
        }
        // Wait for the next due time, a run ending, or cancellation. Look again at least every
        // minute: schedules may have been edited, a connector added, a locked vault unlocked.
        let wake = next_wake.unwrap_or(now + chrono::Duration::minutes(1)).min(now + chrono::Duration::minutes(1));
        tokio::select! {
            _ = clock.sleep_until(wake) => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                finish(&*host, &running, &mut covered, done, &*on_event).await;
            }
            _ = cancel.changed() => {}
        }
    }

    // Cancelled: let running jobs finish within the grace period, then abort the rest.
    let grace = tokio::time::sleep(opts.grace);
    tokio::pin!(grace);
    while !tasks.is_empty() {
        tokio::select! {
            Some(done) = tasks.join_next() => finish(&*host, &running, &mut covered, done, &*on_event).await,
            _ = &mut grace => break,
        }
    }
    let left: Vec<Job> = running.lock().expect("running set").iter().cloned().collect();
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    for job in left {
        let now = clock.now();
        let fire_at = covered.get(&job).copied().unwrap_or(now);
        on_event(Event::Finished { job: job.clone(), status: RunStatus::Cancelled });
        // Recorded as cancelled; its fire time stays uncovered (see `record_run`), so the next
        // start catches it up.
        let _ =
            host.record(job, JobRun { fire_at, started_at: now, finished_at: now, status: RunStatus::Cancelled }).await;
    }
    Ok(())
}

/// Ends a run: told, recorded (a record that fails is logged, not fatal: the scheduler goes on,
/// and the fire time, uncovered in the vault, is run again), its fire time left uncovered when
/// it did not run to the end.
async fn finish<H: Host + ?Sized>(
    host: &H,
    running: &Mutex<HashSet<Job>>,
    covered: &mut HashMap<Job, DateTime<Utc>>,
    done: Result<(Job, JobRun), tokio::task::JoinError>,
    on_event: &(dyn Fn(Event) + Send + Sync),
) {
    let Ok((job, run)) = done else { return };
    running.lock().expect("running set").remove(&job);
    on_event(Event::Finished { job: job.clone(), status: run.status.clone() });
    if run.status == RunStatus::Cancelled {
        covered.remove(&job);
    }
    if let Err(e) = host.record(job.clone(), run).await {
        tracing::warn!(job = %job.id(), error = %e, "the run could not be recorded");
        covered.remove(&job);
    }
}

/// The last fire time recorded for a job (tests and the UI).
pub fn last_fire(vault: &Vault, job: &Job) -> Result<Option<DateTime<Utc>>, Error> {
    store::last_fire_at(vault.conn(), &job.id())
}

/// A desktop notification shown by the host's owner (the app); what failed, if it did.
pub type ShowNotification = Arc<dyn Fn(&crate::notify::Notification) -> Result<(), String> + Send + Sync>;

/// The host of `keyward daemon` and of the desktop app: jobs of the vault open in a
/// [`crate::api::Session`], each run on a handle of its own (nothing shared is held while it
/// waits on a provider or walks the disk), claimed through the job's lease so no other process
/// runs it too. While the session is closed (the app locked), no job is listed, and a job running
/// when it closes stops.
pub struct VaultHost {
    /// The Keyward home (for the policy file).
    pub home: crate::api::Home,
    /// The open vault.
    pub session: Arc<crate::api::Session>,
    /// How webhook deliveries are retried.
    pub retry: crate::notify::Retry,
    /// This process, as other processes see it in the leases.
    pub holder: crate::lease::Holder,
    /// How long a lease lasts unless renewed ([`lease_duration`]).
    pub lease: Duration,
    /// Shows notifications on the desktop (the app); webhooks only without.
    pub desktop: Option<ShowNotification>,
}

impl VaultHost {
    /// A host without desktop notifications (the daemon), leases named after `what`.
    pub fn new(home: crate::api::Home, session: Arc<crate::api::Session>, what: &str) -> Self {
        Self {
            home,
            session,
            retry: Default::default(),
            holder: crate::lease::Holder::this_process(what),
            lease: lease_duration(),
            desktop: None,
        }
    }
}

impl Host for VaultHost {
    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobSpec>, Error>> {
        Box::pin(async move {
            match self.session.with(|v| enabled_jobs(v)).await {
                Err(Error::Vault(crate::vault::VaultError::Locked)) => Ok(Vec::new()),
                other => other,
            }
        })
    }

    fn run(&self, job: Job) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let closed = self.session.closed();
            let mut vault = self.session.detach().await?;
            let desktop = self.desktop.as_deref().map(|d| d as crate::api::DesktopNotifier<'_>);
            let work = async {
                match job {
                    Job::Sync(name) => crate::api::sync_one(&mut vault, &name).await,
                    Job::Audit => {
                        crate::api::audit_and_notify(&self.home, &mut vault, Utc::now(), desktop, self.retry).await
                    }
                    Job::Scan => crate::api::scan_and_notify(&self.home, &mut vault, desktop, self.retry).await,
                    Job::Rotations => crate::api::rotations_job(&self.home, &mut vault, desktop).await,
                }
            };
            tokio::select! {
                outcome = work => outcome,
                () = closed => Err(Error::Vault(crate::vault::VaultError::Locked)),
            }
        })
    }

    fn record(&self, job: Job, run: JobRun) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            match self.session.with(|v| finish_run(v, &job, &run, &self.holder)).await {
                // Locked meanwhile: the run is not recorded, its lease expires (or is taken
                // again by this holder), its fire time is caught up after the next unlock.
                Err(Error::Vault(crate::vault::VaultError::Locked)) => Ok(()),
                other => other,
            }
        })
    }

    fn claim(&self, job: &Job, fire_at: DateTime<Utc>) -> BoxFuture<'_, Result<Claim, Error>> {
        let job = job.clone();
        Box::pin(async move {
            self.session.with(|v| claim_run(v, &job, fire_at, &self.holder, self.lease, Utc::now())).await
        })
    }

    fn renew(&self, job: &Job) -> BoxFuture<'_, Result<bool, Error>> {
        let name = lease_name(&job.id());
        Box::pin(async move {
            self.session.with(|v| crate::lease::renew(v, &name, &self.holder, self.lease, Utc::now())).await
        })
    }
}

#[cfg(test)]
mod cron_tests {
    use super::*;

    #[test]
    fn cron_errors_name_the_field_in_the_users_terms_and_never_firing_is_refused() {
        let e = parse_cron("61 * * * *").unwrap_err().to_string();
        assert!(e.contains("the minute field \"61\" is not valid (0–59)"), "{e}");
        assert!(!e.contains("0 61"), "the internal six-field form leaked: {e}");
        let e = parse_cron("0 25 * * *").unwrap_err().to_string();
        assert!(e.contains("the hour field \"25\""), "{e}");
        let e = parse_cron("every minute").unwrap_err().to_string();
        assert!(e.contains("2 fields"), "{e}");
        let e = parse_cron("0 0 30 2 *").unwrap_err().to_string();
        assert!(e.contains("never fires"), "{e}");
        assert!(parse_cron("0 */6 * * *").is_ok());
        assert!(parse_cron(DEFAULT_SCAN_CRON).is_ok());
    }
}
