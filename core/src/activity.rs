//! The activity log: what Keyward did and what the user did with it — syncs, audits, scans,
//! checks of found keys, reveals, exports, consents and settings changes — kept in the vault,
//! append-only and tamper-evident (the chain is in [`crate::vault`]'s `log`). It exists so that a
//! user (or an auditor) can answer "who revealed this key, and when did scanning of `/` get
//! turned on?" and trust the answer: an entry edited, inserted or deleted by anyone without the
//! vault's key is found by [`verify`].

use chrono::{DateTime, Utc};

use crate::Error;
use crate::vault::Vault;

pub use crate::vault::log::LogCheck;

/// One thing to record. `action` is a dotted noun (`sync`, `key.reveal`, `settings.scan`).
#[derive(Debug, Clone)]
pub struct Entry {
    action: &'static str,
    provider: Option<String>,
    subject: Option<String>,
    outcome: String,
    detail: Option<String>,
}

impl Entry {
    /// An entry for `action` that ended as `outcome` (`ok`, `failed`, `live`, …).
    pub fn new(action: &'static str, outcome: impl Into<String>) -> Self {
        Entry { action, provider: None, subject: None, outcome: outcome.into(), detail: None }
    }

    /// The provider it concerns.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// What it was about (a key id, a connector name, a finding id).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// More, in words (never a secret).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Appends `entry` to the log, stamped `now` (milliseconds: the pacing of liveness checks is
/// read back from here), failing when it cannot: for what must not happen unlogged (a reveal
/// is logged before the secret is returned).
pub fn record_before(vault: &Vault, entry: Entry, now: DateTime<Utc>) -> Result<(), Error> {
    vault.append_activity(Activity {
        id: 0,
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        action: entry.action.to_owned(),
        provider: entry.provider,
        subject: entry.subject,
        outcome: entry.outcome,
        detail: entry.detail,
    })?;
    Ok(())
}

/// Records what was just done. The action has happened (its transaction is committed), so a
/// log that cannot be written — busy past the timeout, a full disk, a damaged table — is said
/// in `keyward.log` rather than reported as the action's failure, which would make the user
/// believe nothing changed.
pub fn record(vault: &Vault, entry: Entry) {
    record_at(vault, entry, Utc::now());
}

/// [`record`], stamped `now`.
pub fn record_at(vault: &Vault, entry: Entry, now: DateTime<Utc>) {
    let action = entry.action;
    if let Err(e) = record_before(vault, entry, now) {
        tracing::error!(action, error = %e, "the activity log could not be written");
    }
}

/// One activity log entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct Activity {
    /// Its place in the chain (1 is the first).
    pub id: i64,
    /// When.
    pub at: String,
    /// What (`verify`, `sync`, `key.reveal`, …).
    pub action: String,
    /// Provider.
    pub provider: Option<String>,
    /// What it was about (a key, connector, finding or shadow key id).
    pub subject: Option<String>,
    /// How it ended (`ok`, `failed`, `live`, `rejected`, `error`, …).
    pub outcome: String,
    /// More (who the key acts as, the error, what changed).
    pub detail: Option<String>,
}

/// The activity log, newest first; only entries of `action` when given.
pub fn list(vault: &Vault, action: Option<&str>) -> Result<Vec<Activity>, Error> {
    let mut entries: Vec<Activity> =
        vault.activity_entries()?.into_iter().filter(|a| action.is_none_or(|x| a.action == x)).collect();
    entries.reverse();
    Ok(entries)
}

/// Checks that no entry was edited, inserted or deleted, and that the log still reaches the
/// newest entry recorded beside the vault.
pub fn verify(vault: &Vault) -> Result<LogCheck, Error> {
    Ok(vault.verify_activity()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use crate::crypto::KdfParams;

    const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

    fn pass() -> Secret {
        Secret::new("correct horse".into())
    }

    /// A vault with `n` entries (`key.reveal` of k1..kn).
    fn vault_with(dir: &tempfile::TempDir, n: usize) -> (std::path::PathBuf, Vault) {
        let path = dir.path().join("vault.db");
        let v = Vault::create_with(&path, Some(&pass()), FAST).unwrap();
        for i in 1..=n {
            record_before(&v, Entry::new("key.reveal", "ok").subject(format!("k{i}")), Utc::now()).unwrap();
        }
        (path, v)
    }

    fn sql(v: &Vault, statement: &str) {
        v.conn().execute_batch(statement).unwrap();
    }

    #[test]
    fn an_untouched_log_verifies_up_to_its_head() {
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        let check = verify(&v).unwrap();
        assert!(check.intact, "{check:?}");
        assert_eq!((check.entries, check.head.as_str()), (5, "matches"));
        let listed = list(&v, Some("key.reveal")).unwrap();
        assert_eq!(listed.iter().map(|a| a.id).collect::<Vec<_>>(), vec![5, 4, 3, 2, 1]);
        assert!(list(&v, Some("sync")).unwrap().is_empty());
    }

    #[test]
    fn an_edited_entry_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        sql(&v, "UPDATE activity SET subject = 'someone-else' WHERE id = 3");
        let check = verify(&v).unwrap();
        assert!(!check.intact);
        assert_eq!(check.first_bad, Some(3), "{check:?}");
        // Its time, too.
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        sql(&v, "UPDATE activity SET at = '2020-01-01T00:00:00.000Z' WHERE id = 4");
        assert_eq!(verify(&v).unwrap().first_bad, Some(4));
    }

    #[test]
    fn a_deleted_entry_is_found_wherever_it_was() {
        for (gone, bad) in [(1, Some(2)), (3, Some(4))] {
            let dir = tempfile::tempdir().unwrap();
            let (_, v) = vault_with(&dir, 5);
            sql(&v, &format!("DELETE FROM activity WHERE id = {gone}"));
            let check = verify(&v).unwrap();
            assert!(!check.intact);
            assert_eq!(check.first_bad, bad, "{check:?}");
        }
        // Renumbered to hide the gap: the MACs bind the ids.
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        sql(&v, "DELETE FROM activity WHERE id = 3; UPDATE activity SET id = id - 1 WHERE id > 3");
        assert_eq!(verify(&v).unwrap().first_bad, Some(3));
    }

    #[test]
    fn entries_cut_from_the_end_are_told_by_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        sql(&v, "DELETE FROM activity WHERE id >= 4");
        let check = verify(&v).unwrap();
        assert!(!check.intact);
        assert!(check.problem.as_deref().unwrap().contains("reached entry 5"), "{check:?}");
        // Everything deleted.
        sql(&v, "DELETE FROM activity");
        assert!(!verify(&v).unwrap().intact);
    }

    #[test]
    fn an_inserted_entry_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 3);
        sql(
            &v,
            "INSERT INTO activity (id, at, action, outcome, mac) VALUES (4, '2026-01-01T00:00:00.000Z', 'settings.scan', 'ok', x'00')",
        );
        assert_eq!(verify(&v).unwrap().first_bad, Some(4));
        // A NULL MAC is no way around it.
        sql(&v, "UPDATE activity SET mac = NULL WHERE id = 4");
        assert_eq!(verify(&v).unwrap().first_bad, Some(4));
    }

    #[test]
    fn a_vault_file_put_back_from_an_older_copy_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 3);
        drop(v);
        let old = std::fs::read(&path).unwrap();
        let v = Vault::open(&path, Some(&pass())).unwrap();
        record_before(&v, Entry::new("settings.scan", "ok").detail("folders added: [\"/\"]"), Utc::now()).unwrap();
        drop(v);
        std::fs::write(&path, &old).unwrap();
        let v = Vault::open(&path, Some(&pass())).unwrap();
        let check = verify(&v).unwrap();
        assert!(!check.intact, "{check:?}");
        assert!(check.problem.as_deref().unwrap().contains("older copy"), "{check:?}");
    }

    #[test]
    fn the_head_file_missing_or_forged() {
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 2);
        let head = crate::vault::log::head_path(&path);
        assert!(head.exists());
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&head).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(&head, "keyward-activity-head v1\n2 AAAA\n").unwrap();
        assert_eq!(verify(&v).unwrap().first_bad, Some(2));
        std::fs::write(&head, "not a head").unwrap();
        assert!(!verify(&v).unwrap().intact);
        // A link in its place is refused, not followed.
        std::fs::remove_file(&head).unwrap();
        std::os::unix::fs::symlink(&path, &head).unwrap();
        assert!(!verify(&v).unwrap().intact);
        std::fs::remove_file(&head).unwrap();
        // Missing while the log has entries: entries cut from the end could not be told.
        let check = verify(&v).unwrap();
        assert!(!check.intact && check.problem.as_deref().unwrap().contains("missing"), "{check:?}");
    }

    #[test]
    fn a_break_found_before_an_append_stays_on_record() {
        let dir = tempfile::tempdir().unwrap();
        let (_, v) = vault_with(&dir, 5);
        sql(&v, "DELETE FROM activity WHERE id >= 4");
        // The next entry (a scheduled sync, say) writes a new head; the cut is recorded first.
        record_before(&v, Entry::new("sync", "ok"), Utc::now()).unwrap();
        let listed = list(&v, Some("log.break")).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].detail.as_deref().unwrap().contains("head said entry 5"), "{listed:?}");
        let check = verify(&v).unwrap();
        assert!(!check.intact && check.first_bad == Some(listed[0].id), "{check:?}");
        // Likewise a head removed.
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 2);
        std::fs::remove_file(crate::vault::log::head_path(&path)).unwrap();
        record_before(&v, Entry::new("sync", "ok"), Utc::now()).unwrap();
        assert!(list(&v, Some("log.break")).unwrap()[0].detail.as_deref().unwrap().contains("missing"));
        assert!(!verify(&v).unwrap().intact);
    }

    #[test]
    fn a_log_made_to_look_old_to_be_re_chained_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 3);
        // Whoever can write the folder: an entry edited, the MACs and the head dropped, the file
        // made to look like schema 5 so that the next open chains what it finds.
        sql(
            &v,
            "UPDATE activity SET subject = 'nobody' WHERE id = 2;
             ALTER TABLE activity DROP COLUMN mac; ALTER TABLE vault_meta DROP COLUMN recovery_master;
             DROP TABLE leases; DROP TABLE rotation_proposals; DROP TABLE rotation_events; DROP TABLE rotation_handovers;
             DROP TABLE rotations; DROP TABLE not_keys; ALTER TABLE exposures DROP COLUMN confidence;
             ALTER TABLE sync_runs DROP COLUMN api_calls; ALTER TABLE sync_runs DROP COLUMN api_calls_by_operation;
            ALTER TABLE audit_runs DROP COLUMN open_critical; ALTER TABLE audit_runs DROP COLUMN open_high; ALTER TABLE audit_runs DROP COLUMN open_medium; ALTER TABLE audit_runs DROP COLUMN open_low; ALTER TABLE audit_runs DROP COLUMN risk;
             PRAGMA user_version = 5;",
        );
        drop(v);
        std::fs::remove_file(crate::vault::log::head_path(&path)).unwrap();
        let v = Vault::open(&path, Some(&pass())).unwrap();
        let check = verify(&v).unwrap();
        assert!(!check.intact, "{check:?}");
        assert!(check.problem.as_deref().unwrap().contains("re-chained"), "{check:?}");
    }

    #[test]
    fn entries_from_before_the_chain_are_chained_once_at_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 0);
        // A schema 5 vault with two liveness checks logged, as an older Keyward left it.
        sql(
            &v,
            "ALTER TABLE activity DROP COLUMN mac;
             ALTER TABLE vault_meta DROP COLUMN recovery_master;
             INSERT INTO activity (at, action, provider, subject, outcome) VALUES
               ('2026-11-01T00:00:00.000Z', 'verify', 'datadog', 's1', 'live'),
               ('2026-11-01T00:00:01.000Z', 'verify', 'fastly', 's2', 'rejected');
             DROP TABLE leases; DROP TABLE rotation_proposals; DROP TABLE rotation_events; DROP TABLE rotation_handovers;
             DROP TABLE rotations; DROP TABLE not_keys; ALTER TABLE exposures DROP COLUMN confidence;
             ALTER TABLE sync_runs DROP COLUMN api_calls; ALTER TABLE sync_runs DROP COLUMN api_calls_by_operation;
            ALTER TABLE audit_runs DROP COLUMN open_critical; ALTER TABLE audit_runs DROP COLUMN open_high; ALTER TABLE audit_runs DROP COLUMN open_medium; ALTER TABLE audit_runs DROP COLUMN open_low; ALTER TABLE audit_runs DROP COLUMN risk;
             PRAGMA user_version = 5;",
        );
        drop(v);
        // An older Keyward wrote no head beside the vault.
        std::fs::remove_file(crate::vault::log::head_path(&path)).unwrap();
        let v = Vault::open(&path, Some(&pass())).unwrap();
        let check = verify(&v).unwrap();
        // The two checks, and the entry saying the chain started there.
        assert!(check.intact && check.entries == 3 && check.head == "matches", "{check:?}");
        assert!(list(&v, Some("log.start")).unwrap()[0].detail.as_deref().unwrap().contains("2 earlier entries"));
        record_before(&v, Entry::new("sync", "ok"), Utc::now()).unwrap();
        let check = verify(&v).unwrap();
        assert!(check.intact && check.entries == 4 && check.head == "matches", "{check:?}");
    }

    #[test]
    fn two_appenders_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let (path, v) = vault_with(&dir, 0);
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let v = Vault::open(&path, Some(&pass())).unwrap();
                    for i in 0..20 {
                        record_before(&v, Entry::new("sync", "ok").subject(format!("t{t}-{i}")), Utc::now()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let check = verify(&v).unwrap();
        assert!(check.intact && check.entries == 40, "{check:?}");
    }
}
