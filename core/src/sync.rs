//! Sync: ask a connector for its inventory, then reconcile it into the vault.
//!
//! Fetching and applying are separate steps: the fetch talks to the provider and may take
//! minutes; the apply is one SQLite transaction, so a sync either lands whole or not at all.
//! Every change a sync observes becomes a `key_history` row; keys a sync no longer sees are
//! marked removed (never deleted: their history and findings stay explainable).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use keyward_connectors::providers::Source;
use keyward_connectors::{Check, Inventory, Progress, RemoteKey};
use rusqlite::{ToSql, params};

use crate::connector::{Connector, Credentials};
use crate::vault::Vault;
use crate::{Error, time};

/// Progress of a sync, for a terminal bar or the UI.
#[derive(Debug, Clone)]
pub struct SyncProgress {
    /// The connector's name.
    pub connector: String,
    /// What the connector is doing.
    pub phase: &'static str,
    /// Units done.
    pub done: usize,
    /// Units in all, when known.
    pub total: Option<usize>,
}

/// What one sync run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// The connector's name.
    pub connector: String,
    /// The sync run's row id.
    pub run_id: i64,
    /// Keys the provider listed.
    pub seen: usize,
    /// New keys.
    pub added: usize,
    /// Keys with at least one changed field.
    pub changed: usize,
    /// Keys no longer listed.
    pub removed: usize,
    /// Wall time of the run, in milliseconds.
    pub elapsed_ms: u128,
}

/// Asks the connector's provider for its inventory.
pub async fn fetch(
    connector: &Connector,
    credentials: &Credentials,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<Inventory, Error> {
    let report = |p: Progress| {
        progress(SyncProgress { connector: connector.name.clone(), phase: p.phase, done: p.done, total: p.total })
    };
    Ok(open(connector, credentials).await?.inventory(&report).await?)
}

/// Checks a connector's credentials and the permissions it needs, without syncing.
pub async fn check(connector: &Connector, credentials: &Credentials) -> Result<Vec<Check>, Error> {
    Ok(open(connector, credentials).await?.check().await?)
}

/// The connected account, made by the connector's provider from its settings and credentials.
async fn open(connector: &Connector, credentials: &Credentials) -> Result<Box<dyn Source>, Error> {
    let provider = keyward_connectors::providers::get(&connector.provider)
        .ok_or_else(|| Error::Unsupported(format!("{:?} has no connector", connector.provider)))?;
    Ok(provider.open(&connector.settings, credentials).await?)
}

/// Records the start of a sync run (by this process); [`recover_interrupted`] first closes the
/// runs of processes that ended without finishing theirs.
pub fn begin(vault: &Vault, connector: &Connector) -> Result<i64, Error> {
    vault.conn().execute(
        "INSERT INTO sync_runs (connector_id, started_at, status, pid) VALUES (?1, ?2, 'running', ?3)",
        params![connector.id, time::now_string(), std::process::id()],
    )?;
    Ok(vault.conn().last_insert_rowid())
}

/// Closes the runs `ids` still `running` (a sync stopped by the user; other syncs of this
/// process, such as a scheduled one in the app, go on): each is recorded as failed with `why`.
pub fn close_runs(vault: &Vault, ids: &[i64], why: &str) -> Result<usize, Error> {
    let mut closed = 0;
    for id in ids {
        closed += vault.conn().execute(
            "UPDATE sync_runs SET finished_at = ?1, status = 'failed', error = ?2 WHERE status = 'running' AND id = ?3",
            params![time::now_string(), why, id],
        )?;
    }
    Ok(closed)
}

/// Marks failed the runs still `running` whose process is gone (killed, crashed, power lost):
/// without this they would show as running for ever. Runs from before the process was
/// recorded count as gone. Returns how many were closed.
pub fn recover_interrupted(vault: &Vault) -> Result<usize, Error> {
    let mut stmt = vault.conn().prepare("SELECT id, pid FROM sync_runs WHERE status = 'running'")?;
    let running = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    let alive = |pid: i64| {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        pid > 0
            && (unsafe { libc::kill(pid, 0) } == 0
                || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
    };
    let mut closed = 0;
    for (id, pid) in running {
        if pid.is_some_and(alive) {
            continue;
        }
        closed += vault.conn().execute(
            "UPDATE sync_runs SET finished_at = ?2, status = 'failed',
                 error = 'interrupted: the process running this sync ended before it finished; nothing of it was stored'
             WHERE id = ?1 AND status = 'running'",
            params![id, time::now_string()],
        )?;
    }
    Ok(closed)
}

/// Records a failed sync run; the inventory is left as it was.
pub fn fail(vault: &Vault, run_id: i64, error: &Error) -> Result<(), Error> {
    vault.conn().execute(
        "UPDATE sync_runs SET finished_at = ?2, status = 'failed', error = ?3 WHERE id = ?1",
        params![run_id, time::now_string(), error.to_string()],
    )?;
    Ok(())
}

/// The fields a sync compares, as SQL named parameters (`:column`), in the order `Fields` holds
/// them and the existing-keys query selects them.
const FIELDS: [&str; 10] = [
    ":name",
    ":owner",
    ":status",
    ":created_at",
    ":last_used_at",
    ":last_used_service",
    ":last_used_region",
    ":expires_at",
    ":scopes",
    ":details",
];

/// The comparable, stored form of a key's fields, in [`FIELDS`] order.
struct Fields {
    values: [Option<String>; 10],
}

impl Fields {
    fn of(k: &RemoteKey) -> Self {
        let lu = k.last_used.as_ref();
        let values = [
            Some(k.name.clone()),
            k.owner.clone(),
            Some(k.status.as_str().to_owned()),
            k.created_at.map(time::to_string),
            lu.map(|l| time::to_string(l.at)),
            lu.and_then(|l| l.service.clone()),
            lu.and_then(|l| l.region.clone()),
            k.expires_at.map(time::to_string),
            Some(serde_json::to_string(&k.scopes).expect("scopes serialize")),
            Some(k.details.to_string()),
        ];
        Self { values }
    }

    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let mut values: [Option<String>; 10] = Default::default();
        for (i, value) in values.iter_mut().enumerate() {
            *value = r.get(i + 3)?;
        }
        Ok(Self { values })
    }
}

/// Reconciles a fetched inventory into the vault in one transaction.
pub fn apply(
    vault: &mut Vault,
    connector: &Connector,
    run_id: i64,
    inventory: &Inventory,
    now: DateTime<Utc>,
    started: std::time::Instant,
) -> Result<SyncReport, Error> {
    let now_s = time::to_string(now);
    let tx = vault.write()?;
    let mut existing: HashMap<String, (String, Option<String>, Fields)> = HashMap::new();
    {
        let mut stmt = tx.prepare(
            "SELECT id, external_id, removed_at, name, owner, status, created_at, last_used_at, last_used_service,
                    last_used_region, expires_at, scopes, details
             FROM api_keys WHERE connector_id = ?1",
        )?;
        let rows = stmt.query_map([connector.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, Fields::from_row(r)?))
        })?;
        for row in rows {
            let (id, ext, removed, fields) = row?;
            existing.insert(ext, (id, removed, fields));
        }
    }

    let (mut added, mut changed, mut removed) = (0, 0, 0);
    {
        let mut insert = tx.prepare(
            "INSERT INTO api_keys (id, provider, connector_id, external_id, name, owner, status, created_at, last_used_at,
                 last_used_service, last_used_region, expires_at, scopes, details, usage_tracked, raw_scopes, kind,
                 secret_readable, first_seen_at, last_seen_at)
             VALUES (:id, :provider, :connector_id, :external_id, :name, :owner, :status, :created_at, :last_used_at,
                 :last_used_service, :last_used_region, :expires_at, :scopes, :details, :usage_tracked, :raw_scopes, :kind,
                 :secret_readable, :now, :now)",
        )?;
        let mut update = tx.prepare(
            "UPDATE api_keys SET name = :name, owner = :owner, status = :status, created_at = :created_at,
                 last_used_at = :last_used_at, last_used_service = :last_used_service, last_used_region = :last_used_region,
                 expires_at = :expires_at, scopes = :scopes, details = :details, usage_tracked = :usage_tracked,
                 raw_scopes = :raw_scopes, kind = :kind, secret_readable = :secret_readable, last_seen_at = :now,
                 removed_at = NULL
             WHERE id = :id",
        )?;
        let mut history = tx.prepare(
            "INSERT INTO key_history (key_id, sync_run_id, at, change, field, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut note = |id: &str, change: &str, field: Option<&str>, old: Option<&str>, new: Option<&str>| {
            history.execute(params![id, run_id, now_s, change, field, old, new])
        };
        for key in &inventory.keys {
            let fields = Fields::of(key);
            let raw = serde_json::to_string(&key.raw_scopes).expect("raw scopes serialize");
            let (id, is_new) = match existing.remove(&key.external_id) {
                None => (uuid::Uuid::now_v7().to_string(), true),
                Some((id, was_removed, old)) => {
                    let mut any = false;
                    if was_removed.is_some() {
                        note(&id, "reappeared", None, was_removed.as_deref(), None)?;
                        any = true;
                    }
                    for ((param, old_v), new_v) in FIELDS.iter().zip(&old.values).zip(&fields.values) {
                        if old_v != new_v {
                            note(&id, "changed", Some(&param[1..]), old_v.as_deref(), new_v.as_deref())?;
                            any = true;
                        }
                    }
                    changed += usize::from(any);
                    (id, false)
                }
            };
            let mut named: Vec<(&str, &dyn ToSql)> =
                FIELDS.iter().zip(&fields.values).map(|(p, v)| (*p, v as &dyn ToSql)).collect();
            named.extend([
                (":id", &id as &dyn ToSql),
                (":usage_tracked", &key.usage_tracked),
                (":raw_scopes", &raw),
                (":kind", &key.kind),
                (":secret_readable", &key.secret_readable),
                (":now", &now_s),
            ]);
            if is_new {
                named.extend([
                    (":provider", &connector.provider as &dyn ToSql),
                    (":connector_id", &connector.id),
                    (":external_id", &key.external_id),
                ]);
                insert.execute(named.as_slice())?;
                note(&id, "added", None, None, None)?;
                added += 1;
            } else {
                update.execute(named.as_slice())?;
            }
        }
        for (_, (id, was_removed, _)) in existing {
            if was_removed.is_none() {
                tx.execute("UPDATE api_keys SET removed_at = ?2 WHERE id = ?1", params![id, now_s])?;
                note(&id, "removed", None, None, None)?;
                removed += 1;
            }
        }
    }

    tx.execute("DELETE FROM owners WHERE connector_id = ?1", [connector.id])?;
    {
        let mut owner = tx.prepare(
            "INSERT OR REPLACE INTO owners (connector_id, name, admin_via, disabled, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for o in &inventory.owners {
            owner.execute(params![connector.id, o.name, o.admin_via, o.disabled, now_s])?;
        }
    }
    {
        let mut upsert = tx.prepare(
            "INSERT INTO resources (connector_id, kind, external_id, name, region, details, first_seen_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (connector_id, kind, external_id) DO UPDATE SET name = excluded.name, region = excluded.region,
                 details = excluded.details, last_seen_at = excluded.last_seen_at, removed_at = NULL",
        )?;
        for r in &inventory.resources {
            upsert.execute(params![
                connector.id,
                r.kind,
                r.external_id,
                r.name,
                r.region,
                r.details.to_string(),
                now_s
            ])?;
        }
        tx.execute(
            "UPDATE resources SET removed_at = ?2 WHERE connector_id = ?1 AND last_seen_at <> ?2 AND removed_at IS NULL",
            params![connector.id, now_s],
        )?;
    }
    tx.execute(
        "UPDATE connectors SET account_id = COALESCE(?2, account_id), root_access_key = ?3, last_sync_at = ?4, facts = ?5
         WHERE id = ?1",
        params![connector.id, inventory.account_id, inventory.root_access_key, now_s, inventory.facts.to_string()],
    )?;
    let elapsed_ms = started.elapsed().as_millis();
    tx.execute(
        "UPDATE sync_runs SET finished_at = ?2, status = 'ok', keys_seen = ?3, keys_added = ?4, keys_changed = ?5, keys_removed = ?6
         WHERE id = ?1",
        params![run_id, time::now_string(), inventory.keys.len() as i64, added as i64, changed as i64, removed as i64],
    )?;
    tx.commit()?;
    Ok(SyncReport {
        connector: connector.name.clone(),
        run_id,
        seen: inventory.keys.len(),
        added,
        changed,
        removed,
        elapsed_ms,
    })
}
