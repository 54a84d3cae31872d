//! The `sync_runs` table: one row per sync of a connector, from its start (`running`, with the
//! process that runs it) to its end (`ok` with counts, or `failed` with why): the record of what
//! each sync did, and what recovery reads after a crash to close the runs of a dead process.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::Error;
use crate::time;

/// Records the start of a sync run by process `pid`; returns the run's id.
pub(crate) fn begin(conn: &Connection, connector_id: i64, at: DateTime<Utc>, pid: u32) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO sync_runs (connector_id, started_at, status, pid) VALUES (?1, ?2, 'running', ?3)",
        params![connector_id, time::to_string(at), pid],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A run still marked running.
pub(crate) struct RunningRow {
    pub id: i64,
    /// The process that began it (runs from before this was recorded have none).
    pub pid: Option<i64>,
}

/// The runs still marked running.
pub(crate) fn running(conn: &Connection) -> Result<Vec<RunningRow>, Error> {
    let mut stmt = conn.prepare("SELECT id, pid FROM sync_runs WHERE status = 'running'")?;
    let rows = stmt.query_map([], |r| Ok(RunningRow { id: r.get("id")?, pid: r.get("pid")? }))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Records run `id` as failed with `error`. `only_running`: leave it be when it has already
/// ended. Returns whether the row changed.
pub(crate) fn fail(
    conn: &Connection,
    id: i64,
    at: DateTime<Utc>,
    error: &str,
    only_running: bool,
) -> Result<bool, Error> {
    let sql = if only_running {
        "UPDATE sync_runs SET finished_at = ?2, status = 'failed', error = ?3 WHERE id = ?1 AND status = 'running'"
    } else {
        "UPDATE sync_runs SET finished_at = ?2, status = 'failed', error = ?3 WHERE id = ?1"
    };
    Ok(conn.execute(sql, params![id, time::to_string(at), error])? == 1)
}

/// What a sync run that landed counted.
pub(crate) struct Counts<'a> {
    pub seen: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Requests sent to the provider, where its connector counts them.
    pub calls: &'a keyward_connectors::Calls,
}

/// Records run `id` as ended well, with its counts.
pub(crate) fn succeed(conn: &Connection, id: i64, at: DateTime<Utc>, counts: &Counts) -> Result<(), Error> {
    conn.execute(
        "UPDATE sync_runs SET finished_at = ?2, status = 'ok', keys_seen = ?3, keys_added = ?4, keys_changed = ?5,
             keys_removed = ?6, api_calls = ?7, api_calls_by_operation = ?8
         WHERE id = ?1",
        params![
            id,
            time::to_string(at),
            counts.seen as i64,
            counts.added as i64,
            counts.changed as i64,
            counts.removed as i64,
            (!counts.calls.0.is_empty()).then(|| counts.calls.total() as i64),
            (!counts.calls.0.is_empty()).then(|| serde_json::to_string(&counts.calls.0).expect("counts serialize")),
        ],
    )?;
    Ok(())
}

/// A connector's latest sync run, as the connectors page shows it.
pub(crate) struct LastRow {
    pub started_at: String,
    pub status: String,
    pub error: Option<String>,
    pub keys_seen: i64,
    pub api_calls: Option<i64>,
}

/// The latest run of a connector, if it ever ran.
pub(crate) fn last_of(conn: &Connection, connector_id: i64) -> Result<Option<LastRow>, Error> {
    use rusqlite::OptionalExtension as _;
    Ok(conn
        .query_row(
            "SELECT started_at, status, error, keys_seen, api_calls FROM sync_runs WHERE connector_id = ?1
             ORDER BY id DESC LIMIT 1",
            [connector_id],
            |r| {
                Ok(LastRow {
                    started_at: r.get("started_at")?,
                    status: r.get("status")?,
                    error: r.get("error")?,
                    keys_seen: r.get("keys_seen")?,
                    api_calls: r.get("api_calls")?,
                })
            },
        )
        .optional()?)
}
