//! Scheduled jobs as users see and change them, and the scheduler that the daemon and the app
//! drive (one host, [`VaultHost`], for both).

use chrono::Utc;

use crate::Error;
use crate::schedule;
use crate::vault::Vault;

pub use crate::schedule::{
    BoxFuture, Claim, Event, Host, Job, JobRun, JobSpec, JobView, Options, RunStatus, SystemClock, VaultHost, run,
};

/// Every job with its schedule, last run and next fire time.
pub fn list_jobs(vault: &Vault) -> Result<Vec<JobView>, Error> {
    schedule::list_jobs(vault, Utc::now())
}

/// Changes a job's cron expression and/or whether it runs; at least one must be given.
pub fn set_job(vault: &Vault, id: &str, cron: Option<&str>, enabled: Option<bool>) -> Result<(), Error> {
    if cron.is_none() && enabled.is_none() {
        return Err(Error::Invalid {
            field: "job",
            reason: "nothing to change: give --cron, --enable or --disable".into(),
        });
    }
    schedule::set_job(vault, id, cron, enabled)
}
