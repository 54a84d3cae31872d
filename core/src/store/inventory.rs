//! The `api_keys`, `resources` and `owners` tables (moving in: so far what removing a connector
//! does).

use rusqlite::Connection;

use crate::Error;

/// How many live keys a connector has.
pub(crate) fn count_live_keys_of(conn: &Connection, connector_id: i64) -> Result<usize, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) AS n FROM api_keys WHERE connector_id = ?1 AND removed_at IS NULL",
        [connector_id],
        |r| r.get("n"),
    )?;
    Ok(n as usize)
}

/// Marks a connector's live keys and resources removed at `at`, and forgets its owners.
pub(crate) fn detach_connector(conn: &Connection, connector_id: i64, at: &str) -> Result<(), Error> {
    conn.execute(
        "UPDATE api_keys SET removed_at = ?2 WHERE connector_id = ?1 AND removed_at IS NULL",
        rusqlite::params![connector_id, at],
    )?;
    conn.execute(
        "UPDATE resources SET removed_at = ?2 WHERE connector_id = ?1 AND removed_at IS NULL",
        rusqlite::params![connector_id, at],
    )?;
    conn.execute("DELETE FROM owners WHERE connector_id = ?1", [connector_id])?;
    Ok(())
}
