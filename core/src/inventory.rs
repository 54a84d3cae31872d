//! Reading and writing the key inventory: listing, registering keys by hand, revealing a secret.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::Secret;
use crate::model::{ApiKey, KeyStatus, LastUse, MANUAL_ACCOUNT, provider_ids};
use crate::vault::Vault;
use crate::{Error, time};

pub(crate) const KEY_COLUMNS: &str = "k.id, k.provider, COALESCE(c.name, 'manual'), k.external_id, k.name, k.owner, k.status, \
     k.created_at, k.last_used_at, k.last_used_service, k.last_used_region, k.usage_tracked, k.expires_at, k.scopes, \
     k.raw_scopes, k.secret IS NOT NULL, k.first_seen_at, k.last_seen_at, k.removed_at, k.kind, k.secret_readable, \
     k.details, k.checked_at, k.check_result, k.tags, \
     COALESCE((SELECT MAX(h.at) FROM key_history h WHERE h.key_id = k.id AND h.field = 'status'), k.first_seen_at)";

fn ts(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(r.get::<_, Option<String>>(i)?.as_deref().and_then(time::parse))
}

pub(crate) fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    let status: String = r.get(6)?;
    let last_used =
        ts(r, 8)?.map(|at| LastUse { at, service: r.get(9).ok().flatten(), region: r.get(10).ok().flatten() });
    let scopes: String = r.get(13)?;
    let raw: String = r.get(14)?;
    Ok(ApiKey {
        id: r.get(0)?,
        provider: r.get(1)?,
        account: r.get(2)?,
        external_id: r.get(3)?,
        name: r.get(4)?,
        owner: r.get(5)?,
        status: if status == "active" { KeyStatus::Active } else { KeyStatus::Inactive },
        created_at: ts(r, 7)?,
        last_used,
        usage_tracked: r.get::<_, i64>(11)? != 0,
        expires_at: ts(r, 12)?,
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        raw_scopes: serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null),
        has_secret: r.get(15)?,
        first_seen_at: ts(r, 16)?.unwrap_or_default(),
        last_seen_at: ts(r, 17)?.unwrap_or_default(),
        removed_at: ts(r, 18)?,
        kind: r.get(19)?,
        secret_readable: r.get::<_, i64>(20)? != 0,
        details: serde_json::from_str(&r.get::<_, String>(21)?).unwrap_or(serde_json::Value::Null),
        check: match (ts(r, 22)?, r.get::<_, Option<String>>(23)?) {
            (Some(at), Some(result)) => Some((at, result)),
            _ => None,
        },
        tags: serde_json::from_str(&r.get::<_, String>(24)?).unwrap_or_default(),
        status_since: ts(r, 25)?.unwrap_or_default(),
    })
}

/// Every key in the inventory, removed ones included (callers filter on `removed_at`), ordered
/// by provider, account and name.
pub fn list(vault: &Vault) -> Result<Vec<ApiKey>, Error> {
    let mut stmt = vault.conn().prepare(&format!(
        "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN connectors c ON c.id = k.connector_id
         ORDER BY k.provider, COALESCE(c.name, 'manual'), k.name, k.id"
    ))?;
    let keys = stmt.query_map([], key_from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(keys)
}

/// One key by Keyward id.
pub fn get(vault: &Vault, id: &str) -> Result<ApiKey, Error> {
    get_in(vault.conn(), id)
}

/// One key by Keyward id, inside a transaction.
pub(crate) fn get_in(conn: &rusqlite::Connection, id: &str) -> Result<ApiKey, Error> {
    conn.query_row(
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys k LEFT JOIN connectors c ON c.id = k.connector_id WHERE k.id = ?1"
        ),
        [id],
        key_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound { what: "key", id: id.to_owned() })
}

/// A key registered by hand, for providers without a list API (or keys outside any connector).
#[derive(Debug)]
pub struct NewKey {
    /// Provider id.
    pub provider: String,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: Option<String>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret itself.
    pub secret: Secret,
}

/// Registers a key by hand; its secret is sealed to the new row.
pub fn add_manual(vault: &mut Vault, new: NewKey) -> Result<ApiKey, Error> {
    if !provider_ids().contains(&new.provider.as_str()) {
        return Err(Error::Invalid {
            field: "provider",
            reason: format!("unknown provider {:?} (known: {})", new.provider, provider_ids().join(", ")),
        });
    }
    if new.name.trim().is_empty() {
        return Err(Error::Invalid { field: "name", reason: "must not be empty".into() });
    }
    if new.secret.is_empty() {
        return Err(Error::Invalid { field: "secret", reason: "is empty (pass it on standard input)".into() });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = vault.seal("api_keys", "secret", &id, &new.secret)?;
    let now = time::now_string();
    let tx = vault.write()?;
    tx.execute(
        "INSERT INTO api_keys (id, provider, connector_id, name, owner, status, expires_at, secret, first_seen_at, last_seen_at)
         VALUES (?1, ?2, NULL, ?3, ?4, 'active', ?5, ?6, ?7, ?7)",
        params![id, new.provider, new.name, new.owner, new.expires_at.map(time::to_string), sealed, now],
    )?;
    tx.execute("INSERT INTO key_history (key_id, at, change) VALUES (?1, ?2, 'registered')", params![id, now])?;
    tx.commit()?;
    let key = get(vault, &id)?;
    debug_assert_eq!(key.account, MANUAL_ACCOUNT);
    Ok(key)
}

/// Replaces a key's tags (trimmed, deduplicated, sorted). Tags are the user's; syncs keep them.
pub fn set_tags(vault: &Vault, id: &str, tags: &[String]) -> Result<Vec<String>, Error> {
    let mut clean: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    if let Some(bad) = clean.iter().find(|t| t.len() > 64 || t.chars().any(|c| c.is_control() || c == ',')) {
        return Err(Error::Invalid { field: "tag", reason: format!("{bad:?}: at most 64 characters, no commas") });
    }
    clean.sort();
    clean.dedup();
    let json = serde_json::to_string(&clean).expect("tags serialize");
    let n = vault.conn().execute("UPDATE api_keys SET tags = ?2 WHERE id = ?1", params![id, json])?;
    if n == 0 {
        return Err(Error::NotFound { what: "key", id: id.to_owned() });
    }
    Ok(clean)
}

/// Records a liveness check of a key.
pub fn record_check(vault: &Vault, id: &str, at: DateTime<Utc>, result: &str) -> Result<(), Error> {
    let n = vault.conn().execute(
        "UPDATE api_keys SET checked_at = ?2, check_result = ?3 WHERE id = ?1",
        params![id, time::to_string(at), result],
    )?;
    if n == 0 {
        return Err(Error::NotFound { what: "key", id: id.to_owned() });
    }
    Ok(())
}

/// The secret of a key: the only way a secret leaves the vault.
pub fn reveal(vault: &Vault, id: &str) -> Result<Secret, Error> {
    let blob: Option<Vec<u8>> = vault
        .conn()
        .query_row("SELECT secret FROM api_keys WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::NotFound { what: "key", id: id.to_owned() })?;
    let blob = blob.ok_or_else(|| Error::NoSecret(id.to_owned()))?;
    Ok(vault.open_sealed("api_keys", "secret", id, &blob)?)
}
