//! Where the master key lives: the OS keychain by default, or wrapped by a passphrase.
//!
//! The passphrase path exists for headless machines and CI, where no keychain is unlocked; the
//! Argon2id parameters and salt are stored in the vault so it always opens with what made it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::VaultError;
use crate::Secret;
use crate::crypto::{self, CryptoError, KdfParams, Key};

/// The keychain service name; the account is `vault-<vault id>`.
pub const KEYCHAIN_SERVICE: &str = "keyward";

/// How the master key is protected, with the columns that describe it.
pub enum Protection {
    /// In the OS keychain.
    Keychain,
    /// Wrapped by a passphrase-derived key.
    Passphrase {
        /// Argon2id parameters, as JSON.
        params: String,
        /// The salt.
        salt: Vec<u8>,
        /// The sealed master key.
        wrapped_master: Vec<u8>,
    },
}

type Columns<'a> = (&'static str, Option<&'a str>, Option<&'a [u8]>, Option<&'a [u8]>);

impl Protection {
    /// `(protection, kdf_params, kdf_salt, wrapped_master)` for the `vault_meta` row.
    pub(super) fn columns(&self) -> Columns<'_> {
        match self {
            Protection::Keychain => ("keychain", None, None, None),
            Protection::Passphrase { params, salt, wrapped_master } => {
                ("passphrase", Some(params), Some(salt), Some(wrapped_master))
            }
        }
    }
}

/// The data key's wrapping before row MACs (schema ≤ 4): opening a vault wrapped so is the one
/// moment its rows are trusted as they are (see `Vault::authenticate_existing_rows`).
pub(super) fn data_key_aad_legacy(vault_id: &str) -> Vec<u8> {
    format!("keyward/v1/{vault_id}/vault_meta/wrapped_data_key").into_bytes()
}

/// The data key's wrapping since row MACs: only someone holding the master key can produce it,
/// so a file edited back to an older schema cannot get its rows trusted again.
pub(super) fn data_key_aad(vault_id: &str) -> Vec<u8> {
    format!("keyward/v2/{vault_id}/vault_meta/wrapped_data_key/row-macs").into_bytes()
}

fn master_aad(vault_id: &str) -> Vec<u8> {
    format!("keyward/v1/{vault_id}/vault_meta/wrapped_master").into_bytes()
}

fn keychain_account(vault_id: &str) -> String {
    format!("vault-{vault_id}")
}

pub(super) fn wrap_with_passphrase(
    master: &Key,
    passphrase: &Secret,
    vault_id: &str,
    params: KdfParams,
) -> Result<Protection, VaultError> {
    let salt = crypto::random_bytes::<16>()?.to_vec();
    let kek = crypto::derive_key(passphrase.expose(), &salt, params)?;
    let wrapped_master = crypto::seal(&kek, master.expose(), &master_aad(vault_id))?;
    let params = serde_json::to_string(&params).expect("KdfParams serializes");
    Ok(Protection::Passphrase { params, salt, wrapped_master })
}

pub(super) fn unlock(
    vault_id: &str,
    protection: &str,
    params: Option<String>,
    salt: Option<Vec<u8>>,
    wrapped_master: Option<Vec<u8>>,
    passphrase: Option<&Secret>,
) -> Result<Key, VaultError> {
    let corrupt = |detail: &str| VaultError::Corrupt { path: Default::default(), detail: detail.into() };
    match protection {
        "keychain" => load_from_keychain(vault_id),
        "passphrase" => {
            let passphrase = passphrase.ok_or(VaultError::Locked)?;
            let params: KdfParams = params
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .ok_or_else(|| corrupt("missing or unreadable KDF parameters"))?;
            let salt = salt.ok_or_else(|| corrupt("missing KDF salt"))?;
            let wrapped = wrapped_master.ok_or_else(|| corrupt("missing wrapped master key"))?;
            let kek = crypto::derive_key(passphrase.expose(), &salt, params)?;
            let bytes = crypto::open(&kek, &wrapped, &master_aad(vault_id)).map_err(|e| match e {
                CryptoError::Unauthentic => VaultError::WrongPassphrase,
                other => VaultError::Crypto(other),
            })?;
            Key::from_bytes(&bytes).ok_or_else(|| corrupt("master key has the wrong length"))
        }
        other => Err(corrupt(&format!("unknown protection {other:?}"))),
    }
}

fn entry(vault_id: &str) -> Result<keyring::Entry, VaultError> {
    keyring::Entry::new(KEYCHAIN_SERVICE, &keychain_account(vault_id)).map_err(keychain_error)
}

pub(super) fn store_in_keychain(vault_id: &str, master: &Key) -> Result<(), VaultError> {
    let encoded = zeroize::Zeroizing::new(B64.encode(master.expose()));
    entry(vault_id)?.set_password(&encoded).map_err(keychain_error)
}

/// Removes the vault's master key from the keychain (after it moved to a passphrase).
pub(super) fn forget_in_keychain(vault_id: &str) -> Result<(), VaultError> {
    match entry(vault_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keychain_error(e)),
    }
}

fn load_from_keychain(vault_id: &str) -> Result<Key, VaultError> {
    let encoded = zeroize::Zeroizing::new(entry(vault_id)?.get_password().map_err(|e| match e {
        keyring::Error::NoEntry => VaultError::MasterKeyMissing(vault_id.to_owned()),
        other => keychain_error(other),
    })?);
    let bytes = zeroize::Zeroizing::new(
        B64.decode(encoded.as_bytes()).map_err(|_| VaultError::MasterKeyMissing(vault_id.to_owned()))?,
    );
    Key::from_bytes(&bytes).ok_or_else(|| VaultError::MasterKeyMissing(vault_id.to_owned()))
}

fn keychain_error(e: keyring::Error) -> VaultError {
    // keyring's messages name the platform failure, never the stored secret.
    VaultError::KeychainUnavailable(e.to_string())
}
