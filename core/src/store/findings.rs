//! The `findings` and `finding_events` tables (moving in: so far what removing a connector does).

use rusqlite::Connection;

use crate::Error;

/// Firing findings (not resolved) on the keys of a connector: (id, severity).
pub(crate) fn firing_on_connector(conn: &Connection, connector_id: i64) -> Result<Vec<(i64, String)>, Error> {
    let mut stmt = conn.prepare(
        "SELECT f.id AS id, f.severity AS severity FROM findings f JOIN api_keys k ON k.id = f.key_id
         WHERE k.connector_id = ?1 AND f.state != 'resolved'",
    )?;
    Ok(stmt.query_map([connector_id], |r| Ok((r.get("id")?, r.get("severity")?)))?.collect::<Result<_, _>>()?)
}

/// How many findings fire on the keys of a connector.
pub(crate) fn count_firing_on_connector(conn: &Connection, connector_id: i64) -> Result<usize, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) AS n FROM findings f JOIN api_keys k ON k.id = f.key_id
         WHERE k.connector_id = ?1 AND f.state != 'resolved'",
        [connector_id],
        |r| r.get("n"),
    )?;
    Ok(n as usize)
}

/// Resolves a finding as `reason`, with its history event.
pub(crate) fn resolve(
    conn: &Connection,
    id: i64,
    severity: &str,
    at: &str,
    reason: &str,
    detail: &str,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE findings SET state = 'resolved', resolution = ?3, state_changed_at = ?2, snoozed_until = NULL
         WHERE id = ?1",
        rusqlite::params![id, at, reason],
    )?;
    conn.execute(
        "INSERT INTO finding_events (finding_id, at, event, severity, detail, reason)
         VALUES (?1, ?2, 'resolved', ?3, ?4, ?5)",
        rusqlite::params![id, at, severity, detail, reason],
    )?;
    Ok(())
}
