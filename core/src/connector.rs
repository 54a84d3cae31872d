//! Connector records: which provider accounts the user has connected, and how to reach them.
//!
//! Settings are plain JSON and never hold a secret; credentials a provider needs (not AWS,
//! which uses its own credential chain) go in the sealed `secret` column.

use rusqlite::{OptionalExtension, params};

use crate::Error;
use crate::time;
use crate::vault::Vault;

/// A connected provider account.
#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    /// Row id.
    pub id: i64,
    /// The user's name for it, unique in the vault; shown as the key's `account`.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Provider settings (region, profile...), no secrets.
    pub settings: ConnectorSettings,
    /// The provider's account id once a sync learned it.
    pub account_id: Option<String>,
    /// AWS: whether the root user has an access key.
    pub root_access_key: Option<bool>,
    /// When it was added.
    pub created_at: String,
    /// When a sync last succeeded.
    pub last_sync_at: Option<String>,
}

/// Settings per provider. Only AWS is connectable so far.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ConnectorSettings {
    /// AWS named profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// AWS region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Providers that can be connected (synced), as opposed to registered by hand.
pub const CONNECTABLE: &[&str] = &["aws"];

/// Adds a connector. Names are unique.
pub fn add(vault: &Vault, name: &str, provider: &str, settings: &ConnectorSettings) -> Result<Connector, Error> {
    if name.trim().is_empty() {
        return Err(Error::Invalid { field: "name", reason: "must not be empty".into() });
    }
    if !CONNECTABLE.contains(&provider) {
        return Err(Error::Invalid {
            field: "provider",
            reason: format!("{provider:?} cannot be connected yet (connectable: {})", CONNECTABLE.join(", ")),
        });
    }
    if find(vault, name)?.is_some() {
        return Err(Error::Conflict(format!("a connector named {name:?} already exists")));
    }
    let settings_json = serde_json::to_string(settings).expect("settings serialize");
    vault.conn().execute(
        "INSERT INTO connectors (name, provider, settings, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, provider, settings_json, time::now_string()],
    )?;
    find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })
}

const COLUMNS: &str = "id, name, provider, settings, account_id, root_access_key, created_at, last_sync_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Connector> {
    let settings: String = r.get(3)?;
    Ok(Connector {
        id: r.get(0)?,
        name: r.get(1)?,
        provider: r.get(2)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        account_id: r.get(4)?,
        root_access_key: r.get::<_, Option<i64>>(5)?.map(|v| v != 0),
        created_at: r.get(6)?,
        last_sync_at: r.get(7)?,
    })
}

/// The connector with this name, if any.
pub fn find(vault: &Vault, name: &str) -> Result<Option<Connector>, Error> {
    Ok(vault
        .conn()
        .query_row(&format!("SELECT {COLUMNS} FROM connectors WHERE name = ?1"), [name], from_row)
        .optional()?)
}

/// Every connector, by name.
pub fn list(vault: &Vault) -> Result<Vec<Connector>, Error> {
    let mut stmt = vault.conn().prepare(&format!("SELECT {COLUMNS} FROM connectors ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
