//! The `jobs` table: the scheduler's jobs (`audit`, `scan`, `sync:<connector>`), each with its
//! cron expression and the state of its last run, so a restart knows what it missed. The leases
//! that keep two processes from running a job at once are `crate::lease`'s.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// Adds a job with this schedule unless one with its id exists.
pub(crate) fn ensure(conn: &Connection, id: &str, cron: &str) -> Result<(), Error> {
    conn.prepare_cached("INSERT OR IGNORE INTO jobs (id, cron) VALUES (?1, ?2)")?.execute(params![id, cron])?;
    Ok(())
}

/// Every job's id.
pub(crate) fn ids(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare("SELECT id FROM jobs")?;
    Ok(stmt.query_map([], |r| r.get("id"))?.collect::<Result<_, _>>()?)
}

/// Deletes a job.
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM jobs WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// A job's row, its last run's times exactly as stored (they are shown as they are).
#[derive(Debug, Clone)]
pub(crate) struct JobRow {
    pub id: String,
    pub cron: String,
    pub enabled: bool,
    pub last_fire_at: Option<String>,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    /// `ok`, `failed` or `cancelled`.
    pub last_status: Option<String>,
    pub last_message: Option<String>,
}

/// Every job, by id, the audit last.
pub(crate) fn all(conn: &Connection) -> Result<Vec<JobRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT id, cron, enabled, last_fire_at, last_started_at, last_finished_at, last_status, last_message
         FROM jobs ORDER BY id = 'audit', id",
    )?;
    Ok(stmt
        .query_map([], |r| {
            Ok(JobRow {
                id: r.get("id")?,
                cron: r.get("cron")?,
                enabled: r.get::<_, i64>("enabled")? != 0,
                last_fire_at: r.get("last_fire_at")?,
                last_started_at: r.get("last_started_at")?,
                last_finished_at: r.get("last_finished_at")?,
                last_status: r.get("last_status")?,
                last_message: r.get("last_message")?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Changes a job's schedule and/or switches it on or off (`None` keeps it); false when no job
/// has this id.
pub(crate) fn update(conn: &Connection, id: &str, cron: Option<&str>, enabled: Option<bool>) -> Result<bool, Error> {
    let n = conn.execute(
        "UPDATE jobs SET cron = COALESCE(?2, cron), enabled = COALESCE(?3, enabled) WHERE id = ?1",
        params![id, cron, enabled],
    )?;
    Ok(n > 0)
}

/// An enabled job as the scheduler reads it.
#[derive(Debug, Clone)]
pub(crate) struct ScheduledRow {
    pub id: String,
    pub cron: String,
    /// The fire time its last run covered (`None` too in a vault edited by hand).
    pub last_fire_at: Option<DateTime<Utc>>,
}

/// The enabled jobs, by id.
pub(crate) fn enabled(conn: &Connection) -> Result<Vec<ScheduledRow>, Error> {
    let mut stmt = conn.prepare("SELECT id, cron, last_fire_at FROM jobs WHERE enabled = 1 ORDER BY id")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(ScheduledRow {
                id: r.get("id")?,
                cron: r.get("cron")?,
                last_fire_at: super::instant(r, "last_fire_at")?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The fire time a job's last run covered (`None`: never ran, no such job, or unreadable).
pub(crate) fn last_fire_at(conn: &Connection, id: &str) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(conn
        .query_row("SELECT last_fire_at FROM jobs WHERE id = ?1", [id], |r| super::instant(r, "last_fire_at"))
        .optional()?
        .flatten())
}

/// A run to record.
pub(crate) struct FinishedRun<'a> {
    /// The fire time it covered; `None` leaves the job's last one (a run that did not end).
    pub covers: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `ok`, `failed` or `cancelled`.
    pub status: &'a str,
    /// What it reported, or why it failed.
    pub message: Option<&'a str>,
}

/// Records a job's last run.
pub(crate) fn record_run(conn: &Connection, id: &str, run: &FinishedRun<'_>) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE jobs SET last_fire_at = COALESCE(:covers, last_fire_at), last_started_at = :started_at,
             last_finished_at = :finished_at, last_status = :status, last_message = :message
         WHERE id = :id",
    )?
    .execute(rusqlite::named_params! {
        ":id": id,
        ":covers": run.covers.map(crate::time::to_string),
        ":started_at": crate::time::to_string(run.started_at),
        ":finished_at": crate::time::to_string(run.finished_at),
        ":status": run.status,
        ":message": run.message,
    })?;
    Ok(())
}
