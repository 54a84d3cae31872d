//! The `leases` table: which process drives a piece of work, and until when (`crate::lease`
//! decides who may take one; this is how a lease is stored).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;
use crate::time;

/// A lease as stored.
pub(crate) struct LeaseRow {
    /// The holder's id (one run of one process).
    pub holder: String,
    /// The holder's name, shown to other processes.
    pub holder_name: String,
    /// When it ends unless renewed; `None` when the stored time does not parse.
    pub expires_at: Option<DateTime<Utc>>,
    /// The holder's process and machine (rows from before schema 9 have none).
    pub pid: Option<i64>,
    pub host: Option<String>,
}

/// The lease on `name`. A row of the wrong types was not written by Keyward: it reads as none.
pub(crate) fn read(conn: &Connection, name: &str) -> Result<Option<LeaseRow>, Error> {
    Ok(conn
        .query_row("SELECT holder, holder_name, expires_at, pid, host FROM leases WHERE name = ?1", [name], |r| {
            Ok(LeaseRow {
                holder: r.get("holder")?,
                holder_name: r.get("holder_name")?,
                expires_at: super::instant(r, "expires_at")?,
                pid: r.get("pid")?,
                host: r.get("host")?,
            })
        })
        .optional()
        .or_else(|e| match e {
            rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => Ok(None),
            e => Err(e),
        })?)
}

/// Who takes a lease.
pub(crate) struct Taker<'a> {
    pub holder: &'a str,
    pub holder_name: &'a str,
    /// `None`: the lease outlives the process.
    pub pid: Option<u32>,
    pub host: &'a str,
}

/// Gives the lease on `name` to a holder from `taken_at` to `expires_at`, whoever had it.
pub(crate) fn put(
    conn: &Connection,
    name: &str,
    t: &Taker<'_>,
    taken_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO leases (name, holder, holder_name, taken_at, expires_at, pid, host) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (name) DO UPDATE SET holder = ?2, holder_name = ?3, taken_at = ?4, expires_at = ?5, pid = ?6,
             host = ?7",
        params![
            name,
            t.holder,
            t.holder_name,
            time::to_string(taken_at),
            time::to_string(expires_at),
            t.pid,
            t.host
        ],
    )?;
    Ok(())
}

/// Moves the end of `holder`'s lease on `name`; false when it is not theirs.
pub(crate) fn extend(conn: &Connection, name: &str, holder: &str, expires_at: DateTime<Utc>) -> Result<bool, Error> {
    Ok(conn.execute(
        "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2",
        params![name, holder, time::to_string(expires_at)],
    )? == 1)
}

/// Deletes `holder`'s lease on `name` (nothing when it is not theirs).
pub(crate) fn delete(conn: &Connection, name: &str, holder: &str) -> Result<(), Error> {
    conn.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder])?;
    Ok(())
}
