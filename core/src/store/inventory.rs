//! The inventory's tables: `api_keys` and their `key_history`, and what a sync learns beside the
//! keys (`owners`, `resources`). Reading a key is one statement (`KEY_SELECT`) so a key looks the
//! same from every caller; a sync's reconcile (`crate::sync`) decides what changed and writes it
//! here, in the caller's transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;
use crate::model::{ApiKey, KeyStatus, LastUse, Owner, Resource};
use crate::time;

/// A key with its account (connector name or `manual`) and the time its status last changed.
const KEY_SELECT: &str = "SELECT k.id AS id, k.provider AS provider, COALESCE(c.name, 'manual') AS account,
         k.external_id AS external_id, k.name AS name, k.owner AS owner, k.status AS status,
         k.created_at AS created_at, k.last_used_at AS last_used_at, k.last_used_service AS last_used_service,
         k.last_used_region AS last_used_region, k.usage_tracked AS usage_tracked, k.expires_at AS expires_at,
         k.scopes AS scopes, k.raw_scopes AS raw_scopes, k.secret IS NOT NULL AS has_secret,
         k.first_seen_at AS first_seen_at, k.last_seen_at AS last_seen_at, k.removed_at AS removed_at,
         k.kind AS kind, k.secret_readable AS secret_readable, k.details AS details, k.checked_at AS checked_at,
         k.check_result AS check_result, k.tags AS tags,
         COALESCE((SELECT MAX(h.at) FROM key_history h WHERE h.key_id = k.id AND h.field = 'status'),
                  k.first_seen_at) AS status_since
     FROM api_keys k LEFT JOIN connectors c ON c.id = k.connector_id";

fn key(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    let instant = |column| super::instant(r, column);
    let json = |column| -> rusqlite::Result<serde_json::Value> {
        Ok(serde_json::from_str(&r.get::<_, String>(column)?).unwrap_or(serde_json::Value::Null))
    };
    let last_used = instant("last_used_at")?.map(|at| LastUse {
        at,
        service: r.get("last_used_service").ok().flatten(),
        region: r.get("last_used_region").ok().flatten(),
    });
    Ok(ApiKey {
        id: r.get("id")?,
        provider: r.get("provider")?,
        account: r.get("account")?,
        external_id: r.get("external_id")?,
        name: r.get("name")?,
        owner: r.get("owner")?,
        status: if r.get::<_, String>("status")? == "active" { KeyStatus::Active } else { KeyStatus::Inactive },
        created_at: instant("created_at")?,
        last_used,
        usage_tracked: r.get::<_, i64>("usage_tracked")? != 0,
        expires_at: instant("expires_at")?,
        scopes: serde_json::from_str(&r.get::<_, String>("scopes")?).unwrap_or_default(),
        raw_scopes: json("raw_scopes")?,
        has_secret: r.get("has_secret")?,
        first_seen_at: instant("first_seen_at")?.unwrap_or_default(),
        last_seen_at: instant("last_seen_at")?.unwrap_or_default(),
        removed_at: instant("removed_at")?,
        kind: r.get("kind")?,
        secret_readable: r.get::<_, i64>("secret_readable")? != 0,
        details: json("details")?,
        check: match (instant("checked_at")?, r.get::<_, Option<String>>("check_result")?) {
            (Some(at), Some(result)) => Some((at, result)),
            _ => None,
        },
        tags: serde_json::from_str(&r.get::<_, String>("tags")?).unwrap_or_default(),
        status_since: instant("status_since")?.unwrap_or_default(),
    })
}

/// Every key, removed ones included, by provider, account and name.
pub(crate) fn keys(conn: &Connection) -> Result<Vec<ApiKey>, Error> {
    let mut stmt = conn.prepare(&format!("{KEY_SELECT} ORDER BY k.provider, account, k.name, k.id"))?;
    Ok(stmt.query_map([], key)?.collect::<Result<Vec<_>, _>>()?)
}

/// One key by Keyward id.
pub(crate) fn key_by_id(conn: &Connection, id: &str) -> Result<Option<ApiKey>, Error> {
    Ok(conn.query_row(&format!("{KEY_SELECT} WHERE k.id = ?1"), [id], key).optional()?)
}

/// A key's sealed secret: `None` when there is no such key, `Some(None)` when it holds none.
pub(crate) fn sealed_secret(conn: &Connection, id: &str) -> Result<Option<Option<Vec<u8>>>, Error> {
    Ok(conn.query_row("SELECT secret FROM api_keys WHERE id = ?1", [id], |r| r.get("secret")).optional()?)
}

/// A key registered by hand (no connector), with its `registered` history row.
pub(crate) struct ManualKey<'a> {
    pub id: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub owner: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
    pub sealed_secret: &'a [u8],
    pub at: DateTime<Utc>,
}

/// Inserts a key registered by hand and its `registered` history row.
pub(crate) fn insert_manual(conn: &Connection, k: &ManualKey<'_>) -> Result<(), Error> {
    let at = time::to_string(k.at);
    conn.execute(
        "INSERT INTO api_keys (id, provider, connector_id, name, owner, status, expires_at, secret, first_seen_at, last_seen_at)
         VALUES (:id, :provider, NULL, :name, :owner, 'active', :expires_at, :secret, :at, :at)",
        rusqlite::named_params! {
            ":id": k.id,
            ":provider": k.provider,
            ":name": k.name,
            ":owner": k.owner,
            ":expires_at": k.expires_at.map(time::to_string),
            ":secret": k.sealed_secret,
            ":at": at,
        },
    )?;
    conn.execute("INSERT INTO key_history (key_id, at, change) VALUES (?1, ?2, 'registered')", params![k.id, at])?;
    Ok(())
}

/// Replaces a key's tags (a JSON array); false when there is no such key.
pub(crate) fn set_tags(conn: &Connection, id: &str, tags_json: &str) -> Result<bool, Error> {
    Ok(conn.execute("UPDATE api_keys SET tags = ?2 WHERE id = ?1", params![id, tags_json])? == 1)
}

/// Records a liveness check of a key; false when there is no such key.
pub(crate) fn set_check(conn: &Connection, id: &str, at: DateTime<Utc>, result: &str) -> Result<bool, Error> {
    Ok(conn.execute(
        "UPDATE api_keys SET checked_at = ?2, check_result = ?3 WHERE id = ?1",
        params![id, time::to_string(at), result],
    )? == 1)
}

/// How many live keys a connector has.
pub(crate) fn count_live_keys_of(conn: &Connection, connector_id: i64) -> Result<usize, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) AS n FROM api_keys WHERE connector_id = ?1 AND removed_at IS NULL",
        [connector_id],
        |r| r.get("n"),
    )?;
    Ok(n as usize)
}

/// Marks a connector's live keys and resources removed at `at`, and forgets its owners.
pub(crate) fn detach_connector(conn: &Connection, connector_id: i64, at: &str) -> Result<(), Error> {
    conn.execute(
        "UPDATE api_keys SET removed_at = ?2 WHERE connector_id = ?1 AND removed_at IS NULL",
        rusqlite::params![connector_id, at],
    )?;
    conn.execute(
        "UPDATE resources SET removed_at = ?2 WHERE connector_id = ?1 AND removed_at IS NULL",
        rusqlite::params![connector_id, at],
    )?;
    conn.execute("DELETE FROM owners WHERE connector_id = ?1", [connector_id])?;
    Ok(())
}

/// The fields a sync compares, by column, in the order [`SyncedFields`] holds them.
pub(crate) const SYNCED: [&str; 10] = [
    "name",
    "owner",
    "status",
    "created_at",
    "last_used_at",
    "last_used_service",
    "last_used_region",
    "expires_at",
    "scopes",
    "details",
];

/// A key's synced fields in their stored form (text, as compared and as kept in history), in
/// [`SYNCED`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncedFields(pub [Option<String>; 10]);

/// A key of a connector as the sync left it.
pub(crate) struct StoredKey {
    pub id: String,
    pub external_id: String,
    /// When a sync stopped seeing it, as stored (kept in the `reappeared` history row).
    pub removed_at: Option<String>,
    pub fields: SyncedFields,
}

impl StoredKey {
    /// The account the key belongs to within its connector (an organization's member account),
    /// from its stored details.
    ///
    /// A key a rotation made has no details until a sync reads it: its owner (`<account>/<user>`)
    /// names the account then.
    pub(crate) fn part(&self) -> Option<String> {
        let details =
            self.fields.0[SYNCED.len() - 1].as_deref().and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
        if let Some(id) = details.as_ref().and_then(|d| d.get("account_id")?.as_str()) {
            return Some(id.to_owned());
        }
        let (account, _) = self.fields.0[1].as_deref()?.split_once('/')?;
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
    }
}

/// Every key of a connector, removed ones included.
pub(crate) fn keys_of_connector(conn: &Connection, connector_id: i64) -> Result<Vec<StoredKey>, Error> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, external_id, removed_at, {} FROM api_keys WHERE connector_id = ?1",
        SYNCED.join(", ")
    ))?;
    let rows = stmt.query_map([connector_id], |r| {
        let mut fields: [Option<String>; 10] = Default::default();
        for (value, column) in fields.iter_mut().zip(SYNCED) {
            *value = r.get(column)?;
        }
        Ok(StoredKey {
            id: r.get("id")?,
            external_id: r.get("external_id")?,
            removed_at: r.get("removed_at")?,
            fields: SyncedFields(fields),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// What a sync writes of a key beside the compared fields.
pub(crate) struct SyncedKey<'a> {
    pub id: &'a str,
    pub fields: &'a SyncedFields,
    pub usage_tracked: bool,
    pub raw_scopes: &'a str,
    pub kind: &'a str,
    pub secret_readable: bool,
    pub seen_at: DateTime<Utc>,
}

impl SyncedKey<'_> {
    fn params(&self, seen_at: &str) -> Vec<(String, Box<dyn rusqlite::ToSql + '_>)> {
        let mut named: Vec<(String, Box<dyn rusqlite::ToSql + '_>)> = SYNCED
            .iter()
            .zip(&self.fields.0)
            .map(|(column, value)| (format!(":{column}"), Box::new(value) as Box<dyn rusqlite::ToSql>))
            .collect();
        named.push((":id".into(), Box::new(self.id)));
        named.push((":usage_tracked".into(), Box::new(self.usage_tracked)));
        named.push((":raw_scopes".into(), Box::new(self.raw_scopes)));
        named.push((":kind".into(), Box::new(self.kind)));
        named.push((":secret_readable".into(), Box::new(self.secret_readable)));
        named.push((":now".into(), Box::new(seen_at.to_owned())));
        named
    }
}

fn run(
    stmt: &mut rusqlite::CachedStatement<'_>,
    named: &[(String, Box<dyn rusqlite::ToSql + '_>)],
) -> Result<(), Error> {
    let refs: Vec<(&str, &dyn rusqlite::ToSql)> = named.iter().map(|(n, v)| (n.as_str(), v.as_ref())).collect();
    stmt.execute(refs.as_slice())?;
    Ok(())
}

/// Inserts a key a sync saw for the first time.
pub(crate) fn insert_synced(
    conn: &Connection,
    provider: &str,
    connector_id: i64,
    external_id: &str,
    key: &SyncedKey<'_>,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO api_keys (id, provider, connector_id, external_id, name, owner, status, created_at, last_used_at,
             last_used_service, last_used_region, expires_at, scopes, details, usage_tracked, raw_scopes, kind,
             secret_readable, first_seen_at, last_seen_at)
         VALUES (:id, :provider, :connector_id, :external_id, :name, :owner, :status, :created_at, :last_used_at,
             :last_used_service, :last_used_region, :expires_at, :scopes, :details, :usage_tracked, :raw_scopes, :kind,
             :secret_readable, :now, :now)",
    )?;
    let mut named = key.params(&time::to_string(key.seen_at));
    named.push((":provider".into(), Box::new(provider)));
    named.push((":connector_id".into(), Box::new(connector_id)));
    named.push((":external_id".into(), Box::new(external_id)));
    run(&mut stmt, &named)
}

/// Updates a key a sync saw again (a removed one comes back).
pub(crate) fn update_synced(conn: &Connection, key: &SyncedKey<'_>) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(
        "UPDATE api_keys SET name = :name, owner = :owner, status = :status, created_at = :created_at,
             last_used_at = :last_used_at, last_used_service = :last_used_service, last_used_region = :last_used_region,
             expires_at = :expires_at, scopes = :scopes, details = :details, usage_tracked = :usage_tracked,
             raw_scopes = :raw_scopes, kind = :kind, secret_readable = :secret_readable, last_seen_at = :now,
             removed_at = NULL
         WHERE id = :id",
    )?;
    run(&mut stmt, &key.params(&time::to_string(key.seen_at)))
}

/// Marks a key removed: a sync no longer saw it.
pub(crate) fn mark_removed(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE api_keys SET removed_at = ?2 WHERE id = ?1")?
        .execute(params![id, time::to_string(at)])?;
    Ok(())
}

/// One row of a key's history, written by a sync run or a rotation.
pub(crate) struct HistoryRow<'a> {
    pub key_id: &'a str,
    /// The sync run that saw it; `None` for a rotation's changes.
    pub sync_run_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// `added`, `changed`, `removed` or `reappeared`.
    pub change: &'a str,
    pub field: Option<&'a str>,
    pub old_value: Option<&'a str>,
    pub new_value: Option<&'a str>,
}

/// Adds a row to a key's history.
pub(crate) fn note(conn: &Connection, h: &HistoryRow<'_>) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO key_history (key_id, sync_run_id, at, change, field, old_value, new_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        h.key_id,
        h.sync_run_id,
        time::to_string(h.at),
        h.change,
        h.field,
        h.old_value,
        h.new_value
    ])?;
    Ok(())
}

/// Replaces a connector's owners with those a sync saw.
pub(crate) fn replace_owners(
    conn: &Connection,
    connector_id: i64,
    owners: &[keyward_connectors::OwnerFacts],
    at: DateTime<Utc>,
    keep: &std::collections::HashSet<&str>,
) -> Result<(), Error> {
    let at = time::to_string(at);
    if keep.is_empty() {
        conn.execute("DELETE FROM owners WHERE connector_id = ?1", [connector_id])?;
    } else {
        // Owners of the parts the sync could not read (`<account id>/<user>`) stay as they were.
        let mut names = conn.prepare("SELECT name FROM owners WHERE connector_id = ?1")?;
        let stale: Vec<String> = names
            .query_map([connector_id], |r| r.get::<_, String>("name"))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|n| !n.split_once('/').is_some_and(|(part, _)| keep.contains(part)))
            .collect();
        let mut delete = conn.prepare_cached("DELETE FROM owners WHERE connector_id = ?1 AND name = ?2")?;
        for name in stale {
            delete.execute(params![connector_id, name])?;
        }
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO owners (connector_id, name, admin_via, disabled, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for o in owners {
        insert.execute(params![connector_id, o.name, o.admin_via, o.disabled, at])?;
    }
    Ok(())
}

/// Records the resources a sync saw and marks removed those of the connector it did not.
pub(crate) fn replace_resources(
    conn: &Connection,
    connector_id: i64,
    resources: &[keyward_connectors::Resource],
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let at = time::to_string(at);
    let mut upsert = conn.prepare_cached(
        "INSERT INTO resources (connector_id, kind, external_id, name, region, details, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (connector_id, kind, external_id) DO UPDATE SET name = excluded.name, region = excluded.region,
             details = excluded.details, last_seen_at = excluded.last_seen_at, removed_at = NULL",
    )?;
    for r in resources {
        upsert.execute(params![connector_id, r.kind, r.external_id, r.name, r.region, r.details.to_string(), at])?;
    }
    conn.execute(
        "UPDATE resources SET removed_at = ?2 WHERE connector_id = ?1 AND last_seen_at <> ?2 AND removed_at IS NULL",
        params![connector_id, at],
    )?;
    Ok(())
}

/// The owners of live connectors.
pub(crate) fn owners(conn: &Connection) -> Result<Vec<Owner>, Error> {
    let mut stmt = conn.prepare(
        "SELECT c.provider AS provider, c.name AS account, o.name AS name, o.admin_via AS admin_via,
                o.disabled AS disabled
         FROM owners o JOIN connectors c ON c.id = o.connector_id WHERE c.removed_at IS NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Owner {
            provider: r.get("provider")?,
            account: r.get("account")?,
            name: r.get("name")?,
            admin_via: r.get("admin_via")?,
            disabled: r.get::<_, i64>("disabled")? != 0,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The live resources of live connectors, by account, kind and id.
pub(crate) fn resources(conn: &Connection) -> Result<Vec<Resource>, Error> {
    let mut stmt = conn.prepare(
        "SELECT c.provider AS provider, c.name AS account, r.kind AS kind, r.external_id AS external_id,
                r.name AS name, r.region AS region, r.details AS details
         FROM resources r JOIN connectors c ON c.id = r.connector_id
         WHERE r.removed_at IS NULL AND c.removed_at IS NULL
         ORDER BY c.name, r.kind, r.external_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Resource {
            provider: r.get("provider")?,
            account: r.get("account")?,
            kind: r.get("kind")?,
            external_id: r.get("external_id")?,
            name: r.get("name")?,
            region: r.get("region")?,
            details: serde_json::from_str(&r.get::<_, String>("details")?).unwrap_or(serde_json::Value::Null),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A key a rotation created, with its secret sealed to the row.
pub(crate) struct RotatedKey<'a> {
    pub id: &'a str,
    pub provider: &'a str,
    pub connector_id: i64,
    pub external_id: &'a str,
    pub name: &'a str,
    pub owner: Option<&'a str>,
    pub kind: &'a str,
    /// The old key's normalised and raw scopes (the new key has the same permissions).
    pub scopes: &'a str,
    pub raw_scopes: &'a str,
    pub sealed_secret: &'a [u8],
    pub at: DateTime<Utc>,
    /// Written into its `added` history row.
    pub rotation_id: &'a str,
}

/// Inserts a key a rotation created, and its `added` history row (naming the rotation).
pub(crate) fn insert_rotated(conn: &Connection, k: &RotatedKey<'_>) -> Result<(), Error> {
    let at = time::to_string(k.at);
    conn.execute(
        "INSERT INTO api_keys (id, provider, connector_id, external_id, name, owner, status, created_at, scopes,
             raw_scopes, secret, kind, usage_tracked, first_seen_at, last_seen_at)
         VALUES (:id, :provider, :connector_id, :external_id, :name, :owner, 'active', :at, :scopes, :raw_scopes,
             :secret, :kind, 1, :at, :at)",
        rusqlite::named_params! {
            ":id": k.id,
            ":provider": k.provider,
            ":connector_id": k.connector_id,
            ":external_id": k.external_id,
            ":name": k.name,
            ":owner": k.owner,
            ":at": at,
            ":scopes": k.scopes,
            ":raw_scopes": k.raw_scopes,
            ":secret": k.sealed_secret,
            ":kind": k.kind,
        },
    )?;
    let detail = format!("rotation {}", k.rotation_id);
    let row = HistoryRow {
        key_id: k.id,
        sync_run_id: None,
        at: k.at,
        change: "added",
        field: None,
        old_value: None,
        new_value: Some(&detail),
    };
    note(conn, &row)
}

/// Sets a key's status (`active` or `inactive`), with its history row when it changed.
pub(crate) fn set_status(conn: &Connection, id: &str, status: &str, at: DateTime<Utc>) -> Result<(), Error> {
    let old: Option<String> =
        conn.query_row("SELECT status FROM api_keys WHERE id = ?1", [id], |r| r.get("status")).optional()?;
    if old.as_deref() == Some(status) || old.is_none() {
        return Ok(());
    }
    conn.execute("UPDATE api_keys SET status = ?2 WHERE id = ?1", params![id, status])?;
    let row = HistoryRow {
        key_id: id,
        sync_run_id: None,
        at,
        change: "changed",
        field: Some("status"),
        old_value: old.as_deref(),
        new_value: Some(status),
    };
    note(conn, &row)
}

/// Marks a key removed by a rotation (deleted at the provider), with its history row.
pub(crate) fn retire(conn: &Connection, id: &str, at: DateTime<Utc>, why: &str) -> Result<(), Error> {
    conn.execute(
        "UPDATE api_keys SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL",
        params![id, time::to_string(at)],
    )?;
    let row = HistoryRow {
        key_id: id,
        sync_run_id: None,
        at,
        change: "removed",
        field: None,
        old_value: None,
        new_value: Some(why),
    };
    note(conn, &row)
}

/// The provider ids of a connector's keys whose secret the vault holds (removed ones included).
pub(crate) fn external_ids_with_secret(conn: &Connection, connector_id: i64) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare(
        "SELECT external_id FROM api_keys WHERE connector_id = ?1 AND secret IS NOT NULL AND external_id IS NOT NULL",
    )?;
    Ok(stmt.query_map([connector_id], |r| r.get("external_id"))?.collect::<Result<Vec<_>, _>>()?)
}

/// One row of a key's `key_history`.
#[derive(Debug, Clone)]
pub(crate) struct HistoryEntry {
    pub at: String,
    pub change: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// What syncs and the user changed on a key, oldest first.
pub(crate) fn history_of(conn: &Connection, key_id: &str) -> Result<Vec<HistoryEntry>, Error> {
    let mut stmt = conn
        .prepare("SELECT at, change, field, old_value, new_value FROM key_history WHERE key_id = ?1 ORDER BY at, id")?;
    let rows = stmt.query_map([key_id], |r| {
        Ok(HistoryEntry {
            at: r.get("at")?,
            change: r.get("change")?,
            field: r.get("field")?,
            old_value: r.get("old_value")?,
            new_value: r.get("new_value")?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
