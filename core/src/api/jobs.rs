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

/// Whether the schedule `new` runs a job clearly less often than `old` (a tenth fewer runs or
/// more over the next 400 days, counted up to 10,000): an audit moved to once a year tells of
/// nothing in between, so the window confirms such a change outside the page. An `old` that does
/// not parse ran nothing: nothing is lost.
pub fn runs_less_often(old: &str, new: &str, now: chrono::DateTime<Utc>) -> Result<bool, Error> {
    let horizon = now + chrono::Duration::days(400);
    let runs = |schedule: &cron::Schedule| schedule.after(&now).take_while(|t| *t < horizon).take(10_000).count();
    let new = runs(&crate::schedule::parse_cron(new)?);
    let Ok(old) = crate::schedule::parse_cron(old) else { return Ok(false) };
    Ok(new * 10 < runs(&old) * 9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rarer_schedule_is_told_and_a_shifted_or_busier_one_is_not() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 2, 12, 20, 0).unwrap();
        assert!(runs_less_often("0 30 */6 * * *", "0 0 0 * * *", now).unwrap());
        assert!(runs_less_often("0 30 */6 * * *", "0 0 0 1 1 * 2099", now).unwrap());
        assert!(runs_less_often("0 0 0 * * *", "0 0 0 1 1 *", now).unwrap());
        assert!(!runs_less_often("0 30 */6 * * *", "15 */6 * * *", now).unwrap(), "shifted, as often");
        assert!(!runs_less_often("0 30 */6 * * *", "*/5 * * * *", now).unwrap());
        assert!(!runs_less_often("not a cron", "0 0 0 * * *", now).unwrap());
        assert!(runs_less_often("0 0 0 * * *", "nonsense", now).is_err());
    }
}
