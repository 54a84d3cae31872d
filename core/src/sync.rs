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
use crate::connector::{Connector, Credentials};
use crate::store::inventory::{HistoryRow, StoredKey, SyncedFields, SyncedKey};
use crate::vault::Vault;
use crate::{Error, store, time};

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
    /// Requests sent to the provider's API, retries included (`None`: its connector does not
    /// count them).
    pub api_calls: Option<u64>,
    /// What went wrong without failing the sync (an organization's account that could not be
    /// read, whose keys were kept as they were).
    pub warnings: Vec<String>,
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
    store::sync_runs::begin(vault.conn(), connector.id, Utc::now(), std::process::id())
}

/// Closes the runs `ids` still `running` (a sync stopped by the user; other syncs of this
/// process, such as a scheduled one in the app, go on): each is recorded as failed with `why`.
pub fn close_runs(vault: &Vault, ids: &[i64], why: &str) -> Result<usize, Error> {
    let mut closed = 0;
    for id in ids {
        closed += usize::from(store::sync_runs::fail(vault.conn(), *id, Utc::now(), why, true)?);
    }
    Ok(closed)
}

/// Marks failed the runs still `running` whose process is gone (killed, crashed, power lost):
/// without this they would show as running for ever. Runs from before the process was
/// recorded count as gone. Returns how many were closed.
pub fn recover_interrupted(vault: &Vault) -> Result<usize, Error> {
    let mut closed = 0;
    for run in store::sync_runs::running(vault.conn())? {
        if run.pid.is_some_and(crate::lease::process_alive) {
            continue;
        }
        let why = "interrupted: the process running this sync ended before it finished; nothing of it was stored";
        closed += usize::from(store::sync_runs::fail(vault.conn(), run.id, Utc::now(), why, true)?);
    }
    Ok(closed)
}

/// Records a failed sync run; the inventory is left as it was.
pub fn fail(vault: &Vault, run_id: i64, error: &Error) -> Result<(), Error> {
    store::sync_runs::fail(vault.conn(), run_id, Utc::now(), &error.to_string(), false)?;
    Ok(())
}

/// The connector's new facts, where the entry of each member account the sync could not read
/// keeps what the previous sync learned of it (its root user's keys), marked with why it failed.
fn facts_keeping_unreached(new: &serde_json::Value, old: &serde_json::Value, unreached: &[String]) -> serde_json::Value {
    let mut facts = new.clone();
    let (Some(entries), Some(before)) =
        (facts.get_mut("accounts").and_then(|a| a.as_array_mut()), old.get("accounts").and_then(|a| a.as_array()))
    else {
        return facts;
    };
    for entry in entries.iter_mut().filter(|e| e["account_id"].as_str().is_some_and(|id| unreached.iter().any(|u| u == id))) {
        let Some(previous) = before.iter().find(|b| b["account_id"] == entry["account_id"]) else { continue };
        if let (Some(entry), Some(previous)) = (entry.as_object_mut(), previous.as_object()) {
            for (k, v) in previous {
                if k != "failed" {
                    entry.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
    }
    facts
}

/// The stored form of a key's compared fields, in [`store::inventory::SYNCED`] order.
fn fields_of(k: &RemoteKey) -> SyncedFields {
    let lu = k.last_used.as_ref();
    SyncedFields([
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
    ])
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
    let tx = vault.write()?;
    let mut existing: HashMap<String, StoredKey> = store::inventory::keys_of_connector(&tx, connector.id)?
        .into_iter()
        .map(|k| (k.external_id.clone(), k))
        .collect();
    let note = |key_id: &str, change: &str, field: Option<&str>, old: Option<&str>, new: Option<&str>| {
        let row = HistoryRow { key_id, sync_run_id: Some(run_id), at: now, change, field, old_value: old, new_value: new };
        store::inventory::note(&tx, &row)
    };

    let (mut added, mut changed, mut removed) = (0, 0, 0);
    for key in &inventory.keys {
        let fields = fields_of(key);
        let raw = serde_json::to_string(&key.raw_scopes).expect("raw scopes serialize");
        let (id, is_new) = match existing.remove(&key.external_id) {
            None => (uuid::Uuid::now_v7().to_string(), true),
            Some(old) => {
                let mut any = false;
                if old.removed_at.is_some() {
                    note(&old.id, "reappeared", None, old.removed_at.as_deref(), None)?;
                    any = true;
                }
                for ((column, old_v), new_v) in store::inventory::SYNCED.iter().zip(&old.fields.0).zip(&fields.0) {
                    if old_v != new_v {
                        note(&old.id, "changed", Some(column), old_v.as_deref(), new_v.as_deref())?;
                        any = true;
                    }
                }
                changed += usize::from(any);
                (old.id, false)
            }
        };
        let synced = SyncedKey {
            id: &id,
            fields: &fields,
            usage_tracked: key.usage_tracked,
            raw_scopes: &raw,
            kind: key.kind,
            secret_readable: key.secret_readable,
            seen_at: now,
        };
        if is_new {
            store::inventory::insert_synced(&tx, &connector.provider, connector.id, &key.external_id, &synced)?;
            note(&id, "added", None, None, None)?;
            added += 1;
        } else {
            store::inventory::update_synced(&tx, &synced)?;
        }
    }
    // A part the provider could not read this time (an organization's account whose role is
    // missing) is not a part whose keys were deleted.
    let parts: std::collections::HashSet<&str> = inventory.unreached.iter().map(String::as_str).collect();
    let unreached = |k: &StoredKey| k.part().is_some_and(|p| parts.contains(p.as_str()));
    for gone in existing.into_values().filter(|k| k.removed_at.is_none() && !unreached(k)) {
        store::inventory::mark_removed(&tx, &gone.id, now)?;
        note(&gone.id, "removed", None, None, None)?;
        removed += 1;
    }

    store::inventory::replace_owners(&tx, connector.id, &inventory.owners, now, &parts)?;
    store::inventory::replace_resources(&tx, connector.id, &inventory.resources, now)?;
    let facts = facts_keeping_unreached(&inventory.facts, &connector.facts, &inventory.unreached).to_string();
    let account = store::connectors::SyncedAccount {
        account_id: inventory.account_id.as_deref(),
        root_access_key: inventory.root_access_key,
        facts: &facts,
        synced_at: now,
    };
    store::connectors::record_sync(&tx, connector.id, &account)?;
    let elapsed_ms = started.elapsed().as_millis();
    let counts =
        store::sync_runs::Counts { seen: inventory.keys.len(), added, changed, removed, calls: &inventory.calls };
    store::sync_runs::succeed(&tx, run_id, Utc::now(), &counts)?;
    tx.commit()?;
    Ok(SyncReport {
        connector: connector.name.clone(),
        run_id,
        seen: inventory.keys.len(),
        added,
        changed,
        removed,
        elapsed_ms,
        api_calls: (!inventory.calls.0.is_empty()).then(|| inventory.calls.total()),
        warnings: inventory.warnings.clone(),
    })
}
