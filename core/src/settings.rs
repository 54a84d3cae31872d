//! Small user settings (notification preferences, scan folders), one JSON value per key in the
//! vault's `settings` table, so they travel with the vault and need no config file.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::vault::Vault;

/// A setting, or its default when unset or unreadable — or when its MAC does not match: a value
/// written into the file by anyone without the vault's key (scan folders, consents) is not
/// obeyed, and the default is the safe side (no extra folder, no consent).
pub(crate) fn get<T: for<'de> Deserialize<'de> + Default>(vault: &Vault, key: &str) -> Result<T, Error> {
    let Some(crate::store::settings::SettingRow { value, mac }) = crate::store::settings::read(vault.conn(), key)?
    else {
        return Ok(T::default());
    };
    if !vault.row_mac_ok("settings", &[key.as_bytes(), value.as_bytes()], mac.as_deref()) {
        tracing::warn!(setting = key, "setting changed outside Keyward; its defaults are used until it is saved again");
        return Ok(T::default());
    }
    Ok(serde_json::from_str(&value).unwrap_or_default())
}

/// Stores a setting, with its MAC.
pub(crate) fn set<T: Serialize>(vault: &Vault, key: &str, value: &T) -> Result<(), Error> {
    let value = serde_json::to_string(value).expect("settings serialize");
    let mac = vault.row_mac("settings", &[key.as_bytes(), value.as_bytes()]);
    crate::store::settings::write(vault.conn(), key, &value, &mac)
}

/// What was added to and removed from a list setting, in words (`folders added: [...]`), for the
/// activity log.
pub(crate) fn list_changes<T: PartialEq + std::fmt::Debug>(
    what: &str,
    before: &[T],
    after: &[T],
    out: &mut Vec<String>,
) {
    let added: Vec<_> = after.iter().filter(|x| !before.contains(x)).collect();
    let removed: Vec<_> = before.iter().filter(|x| !after.contains(x)).collect();
    if !added.is_empty() {
        out.push(format!("{what} added: {added:?}"));
    }
    if !removed.is_empty() {
        out.push(format!("{what} removed: {removed:?}"));
    }
}
