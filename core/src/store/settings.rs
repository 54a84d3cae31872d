//! The `settings` table: one JSON value per key, with its row MAC.

use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// A setting as stored.
pub(crate) struct SettingRow {
    /// Its JSON text (the MAC covers it).
    pub value: String,
    /// Its row MAC (missing in a row written by hand).
    pub mac: Option<Vec<u8>>,
}

/// A setting's stored value and MAC.
pub(crate) fn read(conn: &Connection, key: &str) -> Result<Option<SettingRow>, Error> {
    Ok(conn
        .query_row("SELECT value, mac FROM settings WHERE key = ?1", [key], |r| {
            Ok(SettingRow { value: r.get("value")?, mac: r.get("mac")? })
        })
        .optional()?)
}

/// Writes a setting's value and MAC.
pub(crate) fn write(conn: &Connection, key: &str, value: &str, mac: &[u8]) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO settings (key, value, mac) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, mac = excluded.mac",
        params![key, value, mac],
    )?;
    Ok(())
}
