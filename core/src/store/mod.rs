//! The store layer: the SQL of the vault, one module per group of tables. Modules above it keep
//! their logic (validation, sealing, MACs, reconciling) and call these functions; rows are read
//! by column name and instants come back typed. Statements that change rows take the caller's
//! transaction (`Vault::write`, which begins `IMMEDIATE`) when they are part of a larger change.
//!
//! Every table is here: `scripts/check-layering.sh` fails on SQL anywhere else in core (a
//! module's own `#[cfg(test)]` tests may still write rows by hand, as an attacker would).

pub(crate) mod connectors;
pub(crate) mod exposures;
pub(crate) mod findings;
pub(crate) mod inventory;
pub(crate) mod jobs;
pub(crate) mod leases;
pub(crate) mod notifications;
pub(crate) mod policies;
pub(crate) mod rotations;
pub(crate) mod settings;
pub(crate) mod sync_runs;

use chrono::{DateTime, Utc};

/// An instant as stored (RFC 3339, UTC); one that does not parse — a vault edited by hand —
/// reads as `None`, never as an error that would hide every other row.
pub(crate) fn instant(r: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(r.get::<_, Option<String>>(column)?.as_deref().and_then(crate::time::parse))
}

/// A path as the OS spells it, from its stored bytes (paths need not be UTF-8).
pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    std::path::PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// The bytes a path is stored as.
pub(crate) fn path_bytes(path: &std::path::Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt as _;
    path.as_os_str().as_bytes()
}

/// How many rows `table` holds (a table name from the code, never from input).
pub(crate) fn row_count(conn: &rusqlite::Connection, table: &'static str) -> Result<u64, crate::Error> {
    let n: i64 = conn.query_row(&format!("SELECT COUNT(*) AS n FROM {table}"), [], |r| r.get("n"))?;
    Ok(n as u64)
}
