//! Reading and writing the key inventory: listing, registering keys by hand, revealing a secret.

use chrono::{DateTime, Utc};
use crate::Secret;
use crate::model::{ApiKey, MANUAL_ACCOUNT, provider_ids};
use crate::vault::Vault;
use crate::{Error, store};

/// Every key in the inventory, removed ones included (callers filter on `removed_at`), ordered
/// by provider, account and name.
pub fn list(vault: &Vault) -> Result<Vec<ApiKey>, Error> {
    store::inventory::keys(vault.conn())
}

/// One key by Keyward id.
pub fn get(vault: &Vault, id: &str) -> Result<ApiKey, Error> {
    get_in(vault.conn(), id)
}

/// One key by Keyward id, inside a transaction.
pub(crate) fn get_in(conn: &rusqlite::Connection, id: &str) -> Result<ApiKey, Error> {
    store::inventory::key_by_id(conn, id)?.ok_or_else(|| Error::NotFound { what: "key", id: id.to_owned() })
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
    let tx = vault.write()?;
    store::inventory::insert_manual(
        &tx,
        &store::inventory::ManualKey {
            id: &id,
            provider: &new.provider,
            name: &new.name,
            owner: new.owner.as_deref(),
            expires_at: new.expires_at,
            sealed_secret: &sealed,
            at: Utc::now(),
        },
    )?;
    tx.commit()?;
    let key = get(vault, &id)?;
    debug_assert_eq!(key.account, MANUAL_ACCOUNT);
    Ok(key)
}

/// Replaces a key's tags (trimmed, deduplicated, sorted). Tags are the user's; syncs keep them.
pub fn set_tags(vault: &Vault, id: &str, tags: &[String]) -> Result<Vec<String>, Error> {
    let clean = clean_tags(tags)?;
    let json = serde_json::to_string(&clean).expect("tags serialize");
    if !store::inventory::set_tags(vault.conn(), id, &json)? {
        return Err(Error::NotFound { what: "key", id: id.to_owned() });
    }
    Ok(clean)
}

/// Tags as stored: trimmed, empty ones dropped, sorted, once each; refused when one is over 64
/// characters or holds a comma or a control character.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, Error> {
    let mut clean: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    if let Some(bad) = clean.iter().find(|t| t.len() > 64 || t.chars().any(|c| c.is_control() || c == ',')) {
        return Err(Error::Invalid { field: "tag", reason: format!("{bad:?}: at most 64 characters, no commas") });
    }
    clean.sort();
    clean.dedup();
    Ok(clean)
}

/// Records a liveness check of a key.
pub fn record_check(vault: &Vault, id: &str, at: DateTime<Utc>, result: &str) -> Result<(), Error> {
    if !store::inventory::set_check(vault.conn(), id, at, result)? {
        return Err(Error::NotFound { what: "key", id: id.to_owned() });
    }
    Ok(())
}

/// The secret of a key: the only way a secret leaves the vault.
pub fn reveal(vault: &Vault, id: &str) -> Result<Secret, Error> {
    let blob = store::inventory::sealed_secret(vault.conn(), id)?
        .ok_or_else(|| Error::NotFound { what: "key", id: id.to_owned() })?;
    let blob = blob.ok_or_else(|| Error::NoSecret(id.to_owned()))?;
    Ok(vault.open_sealed("api_keys", "secret", id, &blob)?)
}
