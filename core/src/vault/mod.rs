//! The vault: one SQLite file holding the inventory, with every secret sealed.
//!
//! Why one file: the user can back it up, move it, and reason about it. Why this module: it is
//! the only place that opens the file, runs migrations and holds the unwrapped data key, so the
//! rules that protect the user's data live in one place:
//!
//! - opening never creates, overwrites or "repairs" a file; errors leave the file as it was;
//! - a vault written by a newer Keyward is refused before anything is changed;
//! - the data key exists unwrapped only in memory, inside [`Vault`];
//! - a vault is never left on disk without the key that opens it (see [`Vault::create`]).

pub mod files;
pub(crate) mod log;
mod master;
pub mod recovery;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::Secret;
use crate::crypto::{self, CryptoError, Key};
use crate::time;

pub use master::{KEYCHAIN_SERVICE, Protection};

/// How long a command waits for another process (the daemon, the app, another command) to finish
/// writing the vault before it gives up: the longest sync a user would sit through.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Each entry is one migration; the index + 1 is the schema version it produces.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_providers.sql"),
    include_str!("migrations/0003_findings.sql"),
    include_str!("migrations/0004_exposures.sql"),
    include_str!("migrations/0005_run_owner_and_removed_connectors.sql"),
    include_str!("migrations/0006_activity_chain.sql"),
    include_str!("migrations/0007_recovery_kit.sql"),
    include_str!("migrations/0008_leases.sql"),
    include_str!("migrations/0009_rotations.sql"),
    include_str!("migrations/0010_rotation_proposals.sql"),
    include_str!("migrations/0011_scan_confidence.sql"),
    include_str!("migrations/0012_sync_calls.sql"),
    include_str!("migrations/0013_audit_health.sql"),
];

/// The schema that added the activity log's MACs: migrating to it chains the entries there.
const ACTIVITY_CHAIN_SCHEMA: usize = 6;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Why the vault could not be created, opened or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No vault at the path yet.
    #[error("no vault at {0} (run `keyward init` first)")]
    NotInitialized(PathBuf),
    /// `create` found a file already there; it is left untouched.
    #[error("a vault already exists at {0}; it was left untouched")]
    AlreadyExists(PathBuf),
    /// The file is not a readable Keyward vault.
    #[error("the vault file {path} is corrupt or not a Keyward vault ({detail}); it was left untouched")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite or the format check said.
        detail: String,
    },
    /// Written by a newer Keyward.
    #[error("the vault uses schema version {found}, newer than this Keyward supports ({supported}); upgrade Keyward")]
    NewerSchema {
        /// The file's version.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// The vault is passphrase-protected and no passphrase was given.
    #[error("the vault is locked: it is protected by a passphrase (set KEYWARD_PASSPHRASE, or unlock in the app)")]
    Locked,
    /// The passphrase does not open the vault.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The OS keychain could not be reached.
    #[error("the OS keychain is unavailable ({0}); set KEYWARD_PASSPHRASE to use a passphrase instead")]
    KeychainUnavailable(String),
    /// The keychain is reachable but holds no key for this vault.
    #[error("the OS keychain has no master key for vault {0}; the vault cannot be opened without it")]
    MasterKeyMissing(String),
    /// The vault has no recovery kit (`keyward recovery kit` makes one).
    #[error("this vault has no recovery kit, so a recovery key cannot open it")]
    NoRecoveryKit,
    /// The recovery key is well-formed but is not this vault's (or the kit was replaced).
    #[error("this recovery key does not open this vault (it belongs to another vault, or a newer kit replaced it)")]
    WrongRecoveryKey,
    /// The typed recovery key is malformed.
    #[error(transparent)]
    RecoveryKey(#[from] recovery::RecoveryKeyError),
    /// A sealed value failed to open.
    #[error("a sealed value could not be opened: {0}")]
    Crypto(#[from] CryptoError),
    /// A database error not covered above (said without the SQL it came from).
    /// Not `#[from]`: as an error source, rusqlite's error would print its SQL after ours.
    #[error("vault database error: {}", without_sql(.0))]
    Database(rusqlite::Error),
    /// A filesystem error.
    #[error("vault file error at {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// An open, unlocked vault.
pub struct Vault {
    conn: Connection,
    data_key: Key,
    vault_id: String,
    path: PathBuf,
    tightened: Vec<String>,
    /// The master key, kept (zeroized on drop, like the data key) so the protection can change
    /// without asking for the old one again.
    master: Key,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("path", &self.path).field("vault_id", &self.vault_id).finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault at `path`. With a passphrase, the master key is wrapped by an Argon2id
    /// key derived from it; without one, the master key goes to the OS keychain.
    ///
    /// The file is built under a temporary name and linked into place only once its master key
    /// is safely stored, so a failure leaves no half-made vault and never replaces an existing one.
    pub fn create(path: &Path, passphrase: Option<&Secret>) -> Result<Vault, VaultError> {
        Self::create_with(path, passphrase, crypto::KdfParams::default())
    }

    /// [`Vault::create`] with explicit KDF parameters (tests use cheap ones).
    pub fn create_with(path: &Path, passphrase: Option<&Secret>, kdf: crypto::KdfParams) -> Result<Vault, VaultError> {
        if path.exists() {
            return Err(VaultError::AlreadyExists(path.to_owned()));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        files::create_dir(dir).map_err(|source| VaultError::Io { path: dir.to_owned(), source })?;
        let tmp = dir.join(format!(
            ".{}.creating-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("vault.db"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        // Made private before SQLite writes a byte; its `-wal` and `-shm` take the same mode.
        let result = files::create_new(&tmp)
            .map_err(|source| VaultError::Io { path: tmp.clone(), source })
            .and_then(|_| Self::build(&tmp, passphrase, kdf))
            .and_then(|vault_id| {
                std::fs::hard_link(&tmp, path).map_err(|source| match source.kind() {
                    std::io::ErrorKind::AlreadyExists => VaultError::AlreadyExists(path.to_owned()),
                    _ => VaultError::Io { path: path.to_owned(), source },
                })?;
                Ok(vault_id)
            });
        let _ = std::fs::remove_file(&tmp);
        let vault_id = result?;
        log::write_empty_head(path).map_err(|source| VaultError::Io { path: log::head_path(path), source })?;
        let vault = Self::open(path, passphrase)?;
        debug_assert_eq!(vault.vault_id, vault_id);
        Ok(vault)
    }

    fn build(tmp: &Path, passphrase: Option<&Secret>, kdf: crypto::KdfParams) -> Result<String, VaultError> {
        let conn = Connection::open(tmp)?;
        configure(&conn)?;
        migrate(&conn, 0, None)?;
        let vault_id = uuid::Uuid::now_v7().to_string();
        let master = Key::generate()?;
        let data_key = Key::generate()?;
        let wrapped_data_key = crypto::seal(&master, data_key.expose(), &master::data_key_aad(&vault_id))?;
        let protection = match passphrase {
            Some(p) => master::wrap_with_passphrase(&master, p, &vault_id, kdf)?,
            None => Protection::Keychain,
        };
        let (name, params, salt, wrapped_master) = protection.columns();
        conn.execute(
            "INSERT INTO vault_meta (id, vault_id, created_at, protection, kdf_params, kdf_salt, wrapped_master, wrapped_data_key)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![vault_id, time::now_string(), name, params, salt, wrapped_master, wrapped_data_key],
        )?;
        // Closing checkpoints the WAL into the main file, so the hard link carries everything.
        conn.close().map_err(|(_, e)| VaultError::Database(e))?;
        if matches!(protection, Protection::Keychain) {
            master::store_in_keychain(&vault_id, &master)?;
        }
        Ok(vault_id)
    }

    /// Opens and unlocks an existing vault. Never creates or changes anything except running
    /// pending migrations of an older schema.
    pub fn open(path: &Path, passphrase: Option<&Secret>) -> Result<Vault, VaultError> {
        Self::open_unlocking(path, Unlock::Protection(passphrase))
    }

    /// Opens the vault with its recovery key instead of its passphrase or keychain (see
    /// [`recovery`]); the caller then re-protects it ([`Vault::protect`]).
    pub fn open_with_recovery_key(path: &Path, typed: &Secret) -> Result<Vault, VaultError> {
        Self::open_unlocking(path, Unlock::RecoveryKey(typed))
    }

    fn open_unlocking(path: &Path, unlock: Unlock<'_>) -> Result<Vault, VaultError> {
        if !path.exists() {
            return Err(VaultError::NotInitialized(path.to_owned()));
        }
        check_header(path)?;
        let tightened = files::tighten(path);
        let (conn, version) = connect(path)?;
        // Read the metadata before `configure`, which writes (journal mode): a file that is
        // SQLite but not a vault must be refused without a single byte changed.
        let meta = conn
            .query_row(
                "SELECT vault_id, protection, kdf_params, kdf_salt, wrapped_master, wrapped_data_key FROM vault_meta WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                        r.get::<_, Option<Vec<u8>>>(4)?,
                        r.get::<_, Vec<u8>>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| corrupt_or(path, e))?
            .ok_or_else(|| VaultError::Corrupt { path: path.to_owned(), detail: "no vault metadata".into() })?;
        let (vault_id, protection, kdf_params, salt, wrapped_master, wrapped_data_key) = meta;
        configure(&conn).map_err(|e| corrupt_or(path, e))?;
        let master = match unlock {
            Unlock::Protection(passphrase) => {
                master::unlock(&vault_id, &protection, kdf_params, salt, wrapped_master, passphrase)
            }
            Unlock::RecoveryKey(typed) => unlock_with_recovery_key(&conn, &vault_id, typed),
        }
        .map_err(|e| match e {
            VaultError::Corrupt { detail, .. } => VaultError::Corrupt { path: path.to_owned(), detail },
            other => other,
        })?;
        let (data_key_bytes, legacy) =
            match crypto::open(&master, &wrapped_data_key, &master::data_key_aad(&vault_id)) {
                Ok(bytes) => (bytes, false),
                Err(_) => {
                    let bytes = crypto::open(&master, &wrapped_data_key, &master::data_key_aad_legacy(&vault_id))
                        .map_err(|_| {
                            // The master key opened (or came from the keychain) but does not fit this vault.
                            match protection.as_str() {
                                "passphrase" => VaultError::WrongPassphrase,
                                _ => VaultError::MasterKeyMissing(vault_id.clone()),
                            }
                        })?;
                    (bytes, true)
                }
            };
        let data_key = Key::from_bytes(&data_key_bytes).ok_or_else(|| VaultError::Corrupt {
            path: path.to_owned(),
            detail: "data key has the wrong length".into(),
        })?;
        if version < SCHEMA_VERSION {
            // The entries of a log from before its chain are chained as found — unless a head
            // file says this log was chained already: then the file was made to look old (its
            // MACs dropped to have edits trusted), and its entries stay unchained, to be reported.
            let log_key = log_key(&data_key, &vault_id);
            let chain =
                ((version as usize) < ACTIVITY_CHAIN_SCHEMA && !log::head_path(path).exists()).then_some(&*log_key);
            migrate(&conn, version, chain).map_err(|e| corrupt_or(path, e))?;
            if chain.is_some()
                && let Ok(Some(head)) = log::current_head(&conn)
                && let Err(e) = log::write_head(path, &head)
            {
                tracing::warn!(error = %e, "the activity log's head could not be written beside the vault");
            }
        }
        let vault = Vault { conn, data_key, vault_id, path: path.to_owned(), tightened, master };
        if legacy {
            // Written before row MACs: its rows are trusted once, as they are now, and the data key
            // re-wrapped so that this never happens again for this vault.
            vault.authenticate_existing_rows(&vault.master).map_err(|e| match e {
                VaultError::Database(e) => corrupt_or(path, e),
                other => other,
            })?;
        }
        Ok(vault)
    }

    /// How the master key is protected now: `passphrase` or `keychain`.
    pub fn protection(&self) -> Result<String, VaultError> {
        Ok(self.conn.query_row("SELECT protection FROM vault_meta WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Moves the master key to a new protection — a (new) passphrase, or the OS keychain when
    /// `passphrase` is `None` — by re-wrapping the master key alone: no secret is re-encrypted,
    /// one row changes in one transaction. Moving to the keychain stores the key there first;
    /// moving away from it removes the entry only after the new wrapping is committed, so a
    /// failure at any point leaves a vault that opens as before.
    pub fn protect(&mut self, passphrase: Option<&Secret>) -> Result<(), VaultError> {
        let before = self.protection()?;
        let protection = match passphrase {
            Some(p) => master::wrap_with_passphrase(&self.master, p, &self.vault_id, crypto::KdfParams::default())?,
            None => {
                master::store_in_keychain(&self.vault_id, &self.master)?;
                Protection::Keychain
            }
        };
        let (name, params, salt, wrapped) = protection.columns();
        self.conn.execute(
            "UPDATE vault_meta SET protection = ?1, kdf_params = ?2, kdf_salt = ?3, wrapped_master = ?4 WHERE id = 1",
            params![name, params, salt, wrapped],
        )?;
        if before == "keychain" && passphrase.is_some() {
            master::forget_in_keychain(&self.vault_id)?;
        }
        Ok(())
    }

    /// Makes a new recovery kit: a random recovery key that unwraps the master key (see
    /// [`recovery`]), returned in its printed form to be shown once. A kit made before stops
    /// working.
    pub fn create_recovery_key(&self) -> Result<Secret, VaultError> {
        let (bytes, printed) = recovery::generate()?;
        let wrapping = recovery::wrapping_key(&bytes, &self.vault_id);
        let wrapped = crypto::seal(&wrapping, self.master.expose(), &recovery::aad(&self.vault_id))?;
        self.conn.execute("UPDATE vault_meta SET recovery_master = ?1 WHERE id = 1", [wrapped])?;
        Ok(printed)
    }

    /// Whether a recovery kit opens this vault.
    pub fn has_recovery_key(&self) -> Result<bool, VaultError> {
        Ok(self.conn.query_row("SELECT recovery_master IS NOT NULL FROM vault_meta WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Makes the recovery kit stop working.
    pub fn remove_recovery_key(&self) -> Result<(), VaultError> {
        self.conn.execute("UPDATE vault_meta SET recovery_master = NULL WHERE id = 1", [])?;
        Ok(())
    }

    /// The vault's id (also the keychain entry's account name).
    pub fn id(&self) -> &str {
        &self.vault_id
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What opening changed to make the home and its files private again (see [`files`]).
    pub fn tightened(&self) -> &[String] {
        &self.tightened
    }

    /// Another handle on this open vault: its own SQLite connection, the same keys. Long work
    /// (a sync waiting on a provider, a scan walking the disk, a scheduled job) runs on one, so
    /// whoever shares the first handle is never kept waiting behind the network or the disk;
    /// SQLite's WAL lets the handles read side by side, and each write is short.
    pub fn try_clone(&self) -> Result<Vault, VaultError> {
        check_header(&self.path)?;
        let (conn, version) = connect(&self.path)?;
        // Who the file is, before `configure` writes to it (as `open` does).
        let vault_id: Option<String> = conn
            .query_row("SELECT vault_id FROM vault_meta WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| corrupt_or(&self.path, e))?;
        if version < SCHEMA_VERSION || vault_id.as_deref() != Some(self.vault_id.as_str()) {
            return Err(VaultError::Corrupt {
                path: self.path.clone(),
                detail: "the file was replaced by another while the vault was open; open it again".into(),
            });
        }
        configure(&conn).map_err(|e| corrupt_or(&self.path, e))?;
        Ok(Vault {
            conn,
            data_key: self.data_key.clone(),
            vault_id: self.vault_id.clone(),
            path: self.path.clone(),
            tightened: Vec::new(),
            master: self.master.clone(),
        })
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A write transaction, begun `IMMEDIATE`: it takes the write lock up front (waiting up to
    /// [`BUSY_TIMEOUT`] for another process's), so it can never fail half-way when it upgrades
    /// from reading to writing, as a deferred one does when the daemon, the app and a command
    /// write the same vault at once (`database is locked`, SQLite 5 / 517).
    pub(crate) fn write(&mut self) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
        self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }

    /// The key of the scan's fingerprints: derived from the data key, so fingerprints stored in
    /// this vault mean nothing without it and differ from any other vault's.
    pub(crate) fn fingerprint_key(&self) -> zeroize::Zeroizing<[u8; 32]> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.data_key.expose()).expect("any key length");
        mac.update(format!("keyward/v1/{}/scan-fingerprint", self.vault_id).as_bytes());
        zeroize::Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// A MAC over a row's security-relevant fields (`parts`, each length-prefixed), under a key
    /// derived from the data key: a row changed by anyone without the vault's key fails
    /// [`Vault::row_mac_ok`].
    pub(crate) fn row_mac(&self, table: &str, parts: &[&[u8]]) -> Vec<u8> {
        use hmac::{Hmac, Mac};
        let mut key = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.data_key.expose()).expect("any key length");
        key.update(format!("keyward/v1/{}/row-mac", self.vault_id).as_bytes());
        let key: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(key.finalize().into_bytes().into());
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_slice()).expect("any key length");
        for part in std::iter::once(table.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `mac` is the row MAC of `parts` (in constant time).
    pub(crate) fn row_mac_ok(&self, table: &str, parts: &[&[u8]], mac: Option<&[u8]>) -> bool {
        mac_eq(mac, &self.row_mac(table, parts))
    }

    /// The one-time upgrade of a vault wrapped before row MACs: every connector and setting
    /// authenticated as it is, and the data key re-wrapped (`data_key_aad`), in one transaction —
    /// a crash leaves the vault as it was, to be upgraded at the next open.
    fn authenticate_existing_rows(&self, master: &Key) -> Result<(), VaultError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        let rows: Vec<(i64, String, String, String, Option<String>)> = tx
            .prepare("SELECT id, name, provider, settings, removed_at FROM connectors")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        for (id, name, provider, settings, removed_at) in rows {
            let mac = self.connector_mac(id, &name, &provider, &settings, removed_at.as_deref());
            tx.execute("UPDATE connectors SET settings_mac = ?2 WHERE id = ?1", params![id, mac])?;
        }
        let rows: Vec<(String, String)> = tx
            .prepare("SELECT key, value FROM settings")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (key, value) in rows {
            let mac = self.row_mac("settings", &[key.as_bytes(), value.as_bytes()]);
            tx.execute("UPDATE settings SET mac = ?2 WHERE key = ?1", params![key, mac])?;
        }
        let wrapped = crypto::seal(master, self.data_key.expose(), &master::data_key_aad(&self.vault_id))?;
        tx.execute("UPDATE vault_meta SET wrapped_data_key = ?1 WHERE id = 1", [wrapped])?;
        tx.commit()?;
        Ok(())
    }

    /// The MAC of a connector row: what steers its credentials (provider, settings) and what
    /// names it (name, and whether it was removed), bound to its id.
    pub(crate) fn connector_mac(
        &self,
        id: i64,
        name: &str,
        provider: &str,
        settings: &str,
        removed_at: Option<&str>,
    ) -> Vec<u8> {
        self.row_mac(
            "connectors",
            &[
                id.to_string().as_bytes(),
                name.as_bytes(),
                provider.as_bytes(),
                settings.as_bytes(),
                removed_at.unwrap_or("").as_bytes(),
            ],
        )
    }

    /// Appends an entry to the activity log, chained to the one before (see [`log`]), in its own
    /// write transaction; then records the new head beside the vault. A head that cannot be
    /// written is said in the log file, not failed on: the entry itself is safely in.
    pub(crate) fn append_activity(&self, entry: log::Row) -> Result<(), VaultError> {
        let key = log_key(&self.data_key, &self.vault_id);
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        log::record_break(&tx, &key, &self.path, &entry.at)?;
        let head = log::append(&tx, &key, entry)?;
        tx.commit()?;
        if let Err(e) = log::write_head(&self.path, &head) {
            tracing::warn!(error = %e, "the activity log's head could not be written beside the vault");
        }
        Ok(())
    }

    /// Every activity log entry, oldest first, as stored (MACs unchecked: see
    /// [`Vault::verify_activity`]).
    pub(crate) fn activity_entries(&self) -> Result<Vec<log::Row>, VaultError> {
        Ok(log::read(&self.conn)?.into_iter().map(|(row, _)| row).collect())
    }

    /// Checks the activity log's chain and its head (see [`log::verify`]).
    pub(crate) fn verify_activity(&self) -> Result<log::LogCheck, VaultError> {
        let key = log_key(&self.data_key, &self.vault_id);
        Ok(log::verify(&self.conn, &key, log::read_head(&self.path))?)
    }

    /// Seals a secret for `table.column` of row `row`.
    pub(crate) fn seal(&self, table: &str, column: &str, row: &str, secret: &Secret) -> Result<Vec<u8>, VaultError> {
        Ok(crypto::seal(&self.data_key, secret.expose().as_bytes(), &field_aad(&self.vault_id, table, column, row))?)
    }

    /// Opens a secret sealed by [`Vault::seal`] for the same place.
    pub(crate) fn open_sealed(&self, table: &str, column: &str, row: &str, blob: &[u8]) -> Result<Secret, VaultError> {
        let bytes = crypto::open(&self.data_key, blob, &field_aad(&self.vault_id, table, column, row))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::Crypto(CryptoError::BadFormat))?;
        Ok(Secret::new(text.to_owned()))
    }
}

/// The key of the activity log's MACs, derived from the data key.
fn log_key(data_key: &Key, vault_id: &str) -> zeroize::Zeroizing<[u8; 32]> {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(data_key.expose()).expect("any key length");
    mac.update(format!("keyward/v1/{vault_id}/activity-log").as_bytes());
    zeroize::Zeroizing::new(mac.finalize().into_bytes().into())
}

/// How an open unlocks the master key.
enum Unlock<'a> {
    /// As the vault says: its passphrase (if any is given), or the keychain.
    Protection(Option<&'a Secret>),
    /// With the recovery key, whatever the protection.
    RecoveryKey(&'a Secret),
}

fn unlock_with_recovery_key(conn: &Connection, vault_id: &str, typed: &Secret) -> Result<Key, VaultError> {
    let bytes = recovery::parse(typed.expose())?;
    // A vault older than the kit has no column for it: it has no kit.
    let wrapped: Option<Vec<u8>> =
        conn.query_row("SELECT recovery_master FROM vault_meta WHERE id = 1", [], |r| r.get(0)).unwrap_or(None);
    let wrapped = wrapped.ok_or(VaultError::NoRecoveryKit)?;
    let master = crypto::open(&recovery::wrapping_key(&bytes, vault_id), &wrapped, &recovery::aad(vault_id))
        .map_err(|_| VaultError::WrongRecoveryKey)?;
    Key::from_bytes(&master).ok_or_else(|| VaultError::Corrupt {
        path: Default::default(),
        detail: "recovered master key has the wrong length".into(),
    })
}

fn field_aad(vault_id: &str, table: &str, column: &str, row: &str) -> Vec<u8> {
    format!("keyward/v1/{vault_id}/{table}/{column}/{row}").into_bytes()
}

/// Opens the vault file (never creating it) without writing a byte: the connection, waiting up
/// to [`BUSY_TIMEOUT`] for other processes, and its schema version, refused when newer than
/// this build's.
fn connect(path: &Path) -> Result<(Connection, u32), VaultError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| corrupt_or(path, e))?;
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| corrupt_or(path, e))?;
    if version > SCHEMA_VERSION {
        return Err(VaultError::NewerSchema { found: version, supported: SCHEMA_VERSION });
    }
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| corrupt_or(path, e))?;
    Ok((conn, version))
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    debug_assert_eq!(mode.to_lowercase(), "wal");
    // Deleted secrets are overwritten, not left in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// Runs the migrations after `from`. `log_key` chains the activity entries already there when
/// the log gains its MACs (absent only for a new, empty vault).
fn migrate(conn: &Connection, from: u32, log_key: Option<&[u8; 32]>) -> Result<(), rusqlite::Error> {
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        // Two processes may open an old vault at once: the second waits, then finds it done.
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        let now: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as u32 {
            continue;
        }
        tx.execute_batch(sql)?;
        if i + 1 == ACTIVITY_CHAIN_SCHEMA
            && let Some(key) = log_key
        {
            log::chain_existing(&tx, key, &time::now_string())?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
        tx.commit()?;
    }
    Ok(())
}

/// Refuses anything that is not an SQLite file before SQLite itself touches it.
fn check_header(path: &Path) -> Result<(), VaultError> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|source| VaultError::Io { path: path.to_owned(), source })?;
    let n = f.read(&mut header).map_err(|source| VaultError::Io { path: path.to_owned(), source })?;
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(VaultError::Corrupt { path: path.to_owned(), detail: "not an SQLite database".into() });
    }
    Ok(())
}

/// Compares a stored MAC with the expected one in constant time (every byte, whatever the
/// first difference).
pub(crate) fn mac_eq(stored: Option<&[u8]>, expected: &[u8]) -> bool {
    stored.is_some_and(|m| m.len() == expected.len() && m.iter().zip(expected).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0)
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        VaultError::Database(e)
    }
}

/// What SQLite said, without the statement it said it about: a user reads "no such column:
/// name — the vault's structure is not what this Keyward expects", not a screen of SQL.
fn without_sql(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => {
            format!("{msg} (the vault's structure is not what this Keyward expects: a damaged or hand-edited file)")
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure) =>
        {
            format!("{e} — is the disk full? The change was not written; the vault holds what it held before")
        }
        other => other.to_string(),
    }
}

fn corrupt_or(path: &Path, e: rusqlite::Error) -> VaultError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, DatabaseCorrupt | NotADatabase) => {
            VaultError::Corrupt { path: path.to_owned(), detail: e.to_string() }
        }
        rusqlite::Error::SqliteFailure(..) if e.to_string().contains("no such table") => {
            VaultError::Corrupt { path: path.to_owned(), detail: e.to_string() }
        }
        _ => VaultError::Database(e),
    }
}

#[cfg(test)]
mod tests;
