use super::*;
use crate::crypto::KdfParams;

const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

fn pass(s: &str) -> Secret {
    Secret::new(s.into())
}

fn new_vault(dir: &tempfile::TempDir) -> (PathBuf, Vault) {
    let path = dir.path().join("vault.db");
    let v = Vault::create_with(&path, Some(&pass("correct horse")), FAST).unwrap();
    (path, v)
}

#[test]
fn a_new_vault_is_at_the_latest_schema_with_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = new_vault(&dir);
    let version: u32 = v.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = v.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = v.conn().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn reopening_with_the_passphrase_works_and_a_wrong_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = new_vault(&dir);
    let id = v.id().to_owned();
    drop(v);
    assert_eq!(Vault::open(&path, Some(&pass("correct horse"))).unwrap().id(), id);
    assert!(matches!(Vault::open(&path, Some(&pass("wrong horse"))), Err(VaultError::WrongPassphrase)));
    assert!(matches!(Vault::open(&path, None), Err(VaultError::Locked)));
}

#[test]
fn create_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = new_vault(&dir);
    drop(v);
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(Vault::create_with(&path, Some(&pass("x")), FAST), Err(VaultError::AlreadyExists(_))));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn opening_a_missing_vault_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    assert!(matches!(Vault::open(&path, None), Err(VaultError::NotInitialized(_))));
    assert!(!path.exists());
}

#[test]
fn a_corrupt_file_is_refused_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    assert!(matches!(Vault::open(&path, Some(&pass("p"))), Err(VaultError::Corrupt { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), garbage);

    // A real SQLite file that is not a vault.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    let before = std::fs::read(&other).unwrap();
    assert!(matches!(Vault::open(&other, Some(&pass("p"))), Err(VaultError::Corrupt { .. })));
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn a_truncated_vault_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = new_vault(&dir);
    drop(v);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = Vault::open(&path, Some(&pass("correct horse"))).unwrap_err();
    assert!(matches!(err, VaultError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_newer_schema_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = new_vault(&dir);
    v.conn().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    drop(v);
    let before = std::fs::read(&path).unwrap();
    let err = Vault::open(&path, Some(&pass("correct horse"))).unwrap_err();
    assert!(
        matches!(err, VaultError::NewerSchema { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn migrations_apply_from_zero_in_order() {
    let conn = Connection::open_in_memory().unwrap();
    migrate(&conn, 0, None).unwrap();
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // Re-running from the current version is a no-op.
    migrate(&conn, version, None).unwrap();
}

#[test]
fn sealed_values_are_bound_to_their_row() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = new_vault(&dir);
    let blob = v.seal("api_keys", "secret", "row-1", &pass("lin_api_abc")).unwrap();
    assert_eq!(v.open_sealed("api_keys", "secret", "row-1", &blob).unwrap().expose(), "lin_api_abc");
    assert!(v.open_sealed("api_keys", "secret", "row-2", &blob).is_err());
    assert!(v.open_sealed("connectors", "secret", "row-1", &blob).is_err());
}

/// The real OS keychain (Secret Service). `make test` runs inside a D-Bus session with
/// gnome-keyring and sets KEYWARD_REQUIRE_KEYCHAIN=1, so there this test cannot skip.
#[test]
fn keychain_protected_vault_round_trips_through_the_os_keychain() {
    let required = std::env::var_os("KEYWARD_REQUIRE_KEYCHAIN").is_some();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let v = match Vault::create(&path, None) {
        Ok(v) => v,
        Err(VaultError::KeychainUnavailable(why)) if !required => {
            eprintln!("skipped: no OS keychain here ({why})");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let id = v.id().to_owned();
    drop(v);
    assert_eq!(Vault::open(&path, None).unwrap().id(), id);
    // A passphrase is irrelevant to a keychain vault.
    assert_eq!(Vault::open(&path, Some(&pass("anything"))).unwrap().id(), id);
    let entry = keyring::Entry::new(KEYCHAIN_SERVICE, &format!("vault-{id}")).unwrap();
    entry.delete_credential().unwrap();
    assert!(matches!(Vault::open(&path, None), Err(VaultError::MasterKeyMissing(_))));
}

#[test]
fn row_macs_bind_rows_to_the_vaults_key_and_existing_rows_are_trusted_once_at_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let (_, v) = new_vault(&dir);
    let parts: [&[u8]; 3] = [b"1", b"datadog", br#"{"site":"datadoghq.com"}"#];
    let mac = v.row_mac("connectors", &parts);
    assert!(v.row_mac_ok("connectors", &parts, Some(&mac)));
    assert!(!v.row_mac_ok("connectors", &[b"1", b"datadog", br#"{"endpoint":"https://evil"}"#], Some(&mac)));
    assert!(!v.row_mac_ok("settings", &parts, Some(&mac)), "bound to its table");
    assert!(!v.row_mac_ok("connectors", &parts, None));
    // Length-prefixed: moving bytes between fields changes the MAC.
    assert!(!v.row_mac_ok("connectors", &[b"1d", b"atadog", br#"{"site":"datadoghq.com"}"#], Some(&mac)));
    let other = tempfile::tempdir().unwrap();
    let (_, w) = new_vault(&other);
    assert!(!w.row_mac_ok("connectors", &parts, Some(&mac)), "another vault's key");

    // A row written before row MACs existed (schema 4) is authenticated by the upgrade.
    v.conn()
        .execute(
            "INSERT INTO connectors (id, name, provider, settings, created_at) VALUES (7, 'old', 'datadog', '{}', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    v.conn().execute("INSERT INTO settings (key, value) VALUES ('scan', '{}')", []).unwrap();
    let master = crate::crypto::Key::generate().unwrap();
    v.authenticate_existing_rows(&master).unwrap();
    let mac: Vec<u8> =
        v.conn().query_row("SELECT settings_mac FROM connectors WHERE id = 7", [], |r| r.get(0)).unwrap();
    assert!(mac_eq(Some(&mac), &v.connector_mac(7, "old", "datadog", "{}", None)));
    assert!(!mac_eq(Some(&mac), &v.connector_mac(7, "renamed", "datadog", "{}", None)), "the name is covered");
    assert!(
        !mac_eq(Some(&mac), &v.connector_mac(7, "old", "datadog", "{}", Some("2026-01-01T00:00:00Z"))),
        "removal too"
    );
    let mac: Vec<u8> = v.conn().query_row("SELECT mac FROM settings WHERE key = 'scan'", [], |r| r.get(0)).unwrap();
    assert!(v.row_mac_ok("settings", &[b"scan", b"{}"], Some(&mac)));
}

#[test]
fn the_recovery_key_opens_the_vault_whatever_protects_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut v) = new_vault(&dir);
    let sealed = v.seal("t", "c", "r", &pass("a secret")).unwrap();
    assert!(!v.has_recovery_key().unwrap());
    let key = v.create_recovery_key().unwrap();
    assert!(v.has_recovery_key().unwrap());
    // The passphrase changes: the kit still opens it (the master key is the same).
    v.protect(Some(&pass("another passphrase"))).unwrap();
    drop(v);
    let v = Vault::open_with_recovery_key(&path, &key).unwrap();
    assert_eq!(v.open_sealed("t", "c", "r", &sealed).unwrap().expose(), "a secret");
    // A new kit: the old key stops working.
    let newer = v.create_recovery_key().unwrap();
    drop(v);
    assert!(matches!(Vault::open_with_recovery_key(&path, &key), Err(VaultError::WrongRecoveryKey)));
    assert!(Vault::open_with_recovery_key(&path, &newer).is_ok());
    // Malformed, and removed.
    assert!(matches!(Vault::open_with_recovery_key(&path, &pass("ABCD")), Err(VaultError::RecoveryKey(_))));
    Vault::open(&path, Some(&pass("another passphrase"))).unwrap().remove_recovery_key().unwrap();
    assert!(matches!(Vault::open_with_recovery_key(&path, &newer), Err(VaultError::NoRecoveryKit)));
    // A recovery key of one vault does not open another.
    let other_dir = tempfile::tempdir().unwrap();
    let (other_path, other) = new_vault(&other_dir);
    let other_key = other.create_recovery_key().unwrap();
    drop(other);
    assert!(Vault::open_with_recovery_key(&other_path, &other_key).is_ok());
    let v = Vault::open(&path, Some(&pass("another passphrase"))).unwrap();
    v.create_recovery_key().unwrap();
    drop(v);
    assert!(matches!(Vault::open_with_recovery_key(&path, &other_key), Err(VaultError::WrongRecoveryKey)));
}

#[test]
fn another_handle_opens_only_the_same_vault_and_writes_nothing_to_a_stranger() {
    let dir = tempfile::tempdir().unwrap();
    let (path, v) = new_vault(&dir);
    let other = v.try_clone().unwrap();
    assert_eq!(other.id(), v.id());

    // Another vault moved into its place while it is open: refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let (stranger, s) = new_vault(&elsewhere);
    drop(s);
    std::fs::rename(&stranger, &path).unwrap();
    let err = v.try_clone().unwrap_err().to_string();
    assert!(err.contains("replaced by another"), "{err}");

    // An SQLite file that is no vault at all: refused, not a byte written (not even WAL mode).
    std::fs::remove_file(&path).unwrap();
    let plain = rusqlite::Connection::open(&path).unwrap();
    plain.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    drop(plain);
    let before = std::fs::read(&path).unwrap();
    assert!(v.try_clone().is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before, "the stranger was changed");
    assert!(!path.with_extension("db-wal").exists(), "the stranger was put in WAL mode");
}
