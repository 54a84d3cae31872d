//! Small user settings (notification preferences, scan folders), one JSON value per key in the
//! vault's `settings` table, so they travel with the vault and need no config file.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::vault::Vault;

/// A setting, or its default when unset or unreadable.
pub(crate) fn get<T: for<'de> Deserialize<'de> + Default>(vault: &Vault, key: &str) -> Result<T, Error> {
    let v: Option<String> =
        vault.conn().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
}

/// Stores a setting.
pub(crate) fn set<T: Serialize>(vault: &Vault, key: &str, value: &T) -> Result<(), Error> {
    vault.conn().execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, serde_json::to_string(value).expect("settings serialize")],
    )?;
    Ok(())
}
