//! The `connectors` table: one row per connected account, removed ones kept (renamed, their
//! credentials erased) for the history they anchor.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// A connector's row, as stored.
#[derive(Debug, Clone)]
pub(crate) struct ConnectorRow {
    pub id: i64,
    pub name: String,
    pub provider: String,
    /// The settings' JSON text, exactly as stored (its MAC covers this text).
    pub settings: String,
    pub settings_mac: Option<Vec<u8>>,
    pub account_id: Option<String>,
    pub root_access_key: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Account facts' JSON text.
    pub facts: String,
    /// When it was removed, exactly as stored (the MAC covers it).
    pub removed_at: Option<String>,
}

const COLUMNS: &str = "id, name, provider, settings, settings_mac, account_id, root_access_key, created_at, last_sync_at, \
                       facts, removed_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectorRow> {
    Ok(ConnectorRow {
        id: r.get("id")?,
        name: r.get("name")?,
        provider: r.get("provider")?,
        settings: r.get("settings")?,
        settings_mac: r.get("settings_mac")?,
        account_id: r.get("account_id")?,
        root_access_key: r.get::<_, Option<i64>>("root_access_key")?.map(|v| v != 0),
        created_at: super::instant(r, "created_at")?,
        last_sync_at: super::instant(r, "last_sync_at")?,
        facts: r.get("facts")?,
        removed_at: r.get("removed_at")?,
    })
}

/// The live connector with this name.
pub(crate) fn live_named(conn: &Connection, name: &str) -> Result<Option<ConnectorRow>, Error> {
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} FROM connectors WHERE name = ?1 AND removed_at IS NULL"), [name], row)
        .optional()?)
}

/// Every live connector, by name.
pub(crate) fn live(conn: &Connection) -> Result<Vec<ConnectorRow>, Error> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM connectors WHERE removed_at IS NULL ORDER BY name"))?;
    Ok(stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?)
}

/// The id a new connector gets: never one given before (removed connectors keep theirs).
pub(crate) fn next_id(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM connectors", [], |r| r.get("next"))?)
}

/// A new connector, written whole in one statement.
pub(crate) struct NewConnector<'a> {
    pub id: i64,
    pub name: &'a str,
    pub provider: &'a str,
    pub settings: &'a str,
    pub sealed_credentials: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub settings_mac: Vec<u8>,
}

/// Inserts a connector.
pub(crate) fn insert(conn: &Connection, c: &NewConnector<'_>) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO connectors (id, name, provider, settings, secret, created_at, settings_mac)
         VALUES (:id, :name, :provider, :settings, :secret, :created_at, :settings_mac)",
        rusqlite::named_params! {
            ":id": c.id,
            ":name": c.name,
            ":provider": c.provider,
            ":settings": c.settings,
            ":secret": c.sealed_credentials,
            ":created_at": crate::time::to_string(c.created_at),
            ":settings_mac": c.settings_mac,
        },
    )?;
    Ok(())
}

/// The sealed credentials of a connector (none for providers that use their own chain).
pub(crate) fn sealed_credentials(conn: &Connection, id: i64) -> Result<Option<Vec<u8>>, Error> {
    Ok(conn.query_row("SELECT secret FROM connectors WHERE id = ?1", [id], |r| r.get("secret"))?)
}

/// Rewrites a connector's settings and their MAC, and its sealed credentials when `sealed` is
/// given (`Some(None)`: none any more), in one statement.
pub(crate) fn update(
    conn: &Connection,
    id: i64,
    settings: &str,
    settings_mac: &[u8],
    sealed: Option<Option<&[u8]>>,
) -> Result<(), Error> {
    match sealed {
        None => conn.execute(
            "UPDATE connectors SET settings = ?2, settings_mac = ?3 WHERE id = ?1 AND removed_at IS NULL",
            params![id, settings, settings_mac],
        )?,
        Some(secret) => conn.execute(
            "UPDATE connectors SET settings = ?2, settings_mac = ?3, secret = ?4 WHERE id = ?1 AND removed_at IS NULL",
            params![id, settings, settings_mac, secret],
        )?,
    };
    Ok(())
}

/// Marks a connector removed: renamed (its name freed), credentials erased, a new MAC.
pub(crate) fn mark_removed(
    conn: &Connection,
    id: i64,
    removed_at: &str,
    new_name: &str,
    settings_mac: &[u8],
) -> Result<(), Error> {
    conn.execute(
        "UPDATE connectors SET removed_at = ?2, name = ?3, secret = NULL, settings_mac = ?4 WHERE id = ?1",
        params![id, removed_at, new_name, settings_mac],
    )?;
    Ok(())
}

/// What a sync learned of the account itself.
pub(crate) struct SyncedAccount<'a> {
    /// The provider's account id (kept when the provider no longer says it).
    pub account_id: Option<&'a str>,
    pub root_access_key: Option<bool>,
    /// Account facts' JSON text.
    pub facts: &'a str,
    pub synced_at: DateTime<Utc>,
}

/// Records what a sync learned of a connector's account, and when.
pub(crate) fn record_sync(conn: &Connection, id: i64, a: &SyncedAccount<'_>) -> Result<(), Error> {
    conn.execute(
        "UPDATE connectors SET account_id = COALESCE(?2, account_id), root_access_key = ?3, last_sync_at = ?4, facts = ?5
         WHERE id = ?1",
        params![id, a.account_id, a.root_access_key, crate::time::to_string(a.synced_at), a.facts],
    )?;
    Ok(())
}
