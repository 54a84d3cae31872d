//! The `findings`, `finding_events` and `audit_runs` tables: findings that live across audits
//! (one row per rule and subject), the history of every change to them, and the audits that
//! reconciled them. They move together because an audit writes all three in one transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// Firing findings (not resolved) on the keys of a connector: (id, severity).
pub(crate) fn firing_on_connector(conn: &Connection, connector_id: i64) -> Result<Vec<(i64, String)>, Error> {
    let mut stmt = conn.prepare(
        "SELECT f.id AS id, f.severity AS severity FROM findings f JOIN api_keys k ON k.id = f.key_id
         WHERE k.connector_id = ?1 AND f.state != 'resolved'",
    )?;
    Ok(stmt.query_map([connector_id], |r| Ok((r.get("id")?, r.get("severity")?)))?.collect::<Result<_, _>>()?)
}

/// How many findings fire on the keys of a connector.
pub(crate) fn count_firing_on_connector(conn: &Connection, connector_id: i64) -> Result<usize, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) AS n FROM findings f JOIN api_keys k ON k.id = f.key_id
         WHERE k.connector_id = ?1 AND f.state != 'resolved'",
        [connector_id],
        |r| r.get("n"),
    )?;
    Ok(n as usize)
}

/// Resolves a finding as `reason`, with its history event.
pub(crate) fn resolve(
    conn: &Connection,
    id: i64,
    severity: &str,
    at: &str,
    reason: &str,
    detail: &str,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE findings SET state = 'resolved', resolution = ?3, state_changed_at = ?2, snoozed_until = NULL
         WHERE id = ?1",
        rusqlite::params![id, at, reason],
    )?;
    conn.execute(
        "INSERT INTO finding_events (finding_id, at, event, severity, detail, reason)
         VALUES (?1, ?2, 'resolved', ?3, ?4, ?5)",
        rusqlite::params![id, at, severity, detail, reason],
    )?;
    Ok(())
}

/// What an audit needs of a stored finding to reconcile it.
pub(crate) struct StoredRow {
    pub fingerprint: String,
    pub id: i64,
    /// The stored state (`open`, `acknowledged`, `snoozed`, `resolved`).
    pub state: String,
    pub severity: String,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub key_id: Option<String>,
}

/// Every finding, resolved ones too, as an audit reconciles them.
pub(crate) fn stored(conn: &Connection) -> Result<Vec<StoredRow>, Error> {
    let mut stmt = conn.prepare("SELECT fingerprint, id, state, severity, snoozed_until, key_id FROM findings")?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredRow {
            fingerprint: r.get("fingerprint")?,
            id: r.get("id")?,
            state: r.get("state")?,
            severity: r.get("severity")?,
            snoozed_until: super::instant(r, "snoozed_until")?,
            key_id: r.get("key_id")?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Records an audit run (its changes counted later by [`finish_run`]); returns its id.
pub(crate) fn insert_run(
    conn: &Connection,
    at: DateTime<Utc>,
    findings: usize,
    policy_digest: &str,
) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO audit_runs (at, findings, policy_digest) VALUES (?1, ?2, ?3)",
        params![crate::time::to_string(at), findings as i64, policy_digest],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Sets how many findings an audit run opened and resolved, and what it left open (by severity,
/// and the open findings' weights summed) for the dashboard's risk over time.
pub(crate) fn finish_run(conn: &Connection, run: i64, opened: usize, resolved: usize) -> Result<(), Error> {
    conn.execute(
        "UPDATE audit_runs SET opened = ?2, resolved = ?3,
           open_critical = (SELECT COUNT(*) FROM findings WHERE state = 'open' AND severity = 'critical'),
           open_high = (SELECT COUNT(*) FROM findings WHERE state = 'open' AND severity = 'high'),
           open_medium = (SELECT COUNT(*) FROM findings WHERE state = 'open' AND severity = 'medium'),
           open_low = (SELECT COUNT(*) FROM findings WHERE state = 'open' AND severity = 'low'),
           risk = (SELECT COALESCE(SUM(weight), 0) FROM findings WHERE state = 'open')
         WHERE id = ?1",
        params![run, opened as i64, resolved as i64],
    )?;
    Ok(())
}

/// The policy digest of the latest audit run, if any (and if it recorded one).
pub(crate) fn last_policy_digest(conn: &Connection) -> Result<Option<String>, Error> {
    Ok(conn
        .query_row("SELECT policy_digest FROM audit_runs ORDER BY id DESC LIMIT 1", [], |r| r.get("policy_digest"))
        .optional()?
        .flatten())
}

/// What an audit saw of a finding: the columns every audit that finds it rewrites.
pub(crate) struct Sighting<'a> {
    pub severity: &'a str,
    pub weight: u32,
    pub title: &'a str,
    pub detail: &'a str,
    pub owner: Option<&'a str>,
}

/// A finding seen for the first time: its subject, and what the audit saw.
pub(crate) struct NewFinding<'a> {
    pub fingerprint: &'a str,
    pub rule_id: &'a str,
    pub key_id: Option<&'a str>,
    pub provider: &'a str,
    pub account: &'a str,
    pub external_id: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub seen: Sighting<'a>,
}

/// Inserts a new finding, open and first and last seen at `at`; returns its id.
pub(crate) fn insert(conn: &Connection, f: &NewFinding<'_>, at: DateTime<Utc>) -> Result<i64, Error> {
    conn.prepare_cached(
        "INSERT INTO findings (fingerprint, rule_id, key_id, provider, account, external_id, owner, resource, severity,
             weight, title, detail, state, first_seen_at, last_seen_at, state_changed_at)
         VALUES (:fingerprint, :rule_id, :key_id, :provider, :account, :external_id, :owner, :resource, :severity,
             :weight, :title, :detail, 'open', :at, :at, :at)",
    )?
    .execute(rusqlite::named_params! {
        ":fingerprint": f.fingerprint,
        ":rule_id": f.rule_id,
        ":key_id": f.key_id,
        ":provider": f.provider,
        ":account": f.account,
        ":external_id": f.external_id,
        ":owner": f.seen.owner,
        ":resource": f.resource,
        ":severity": f.seen.severity,
        ":weight": f.seen.weight,
        ":title": f.seen.title,
        ":detail": f.seen.detail,
        ":at": crate::time::to_string(at),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Rewrites what an audit saw of a known finding, last seen at `at` (its state is left alone).
pub(crate) fn update_seen(conn: &Connection, id: i64, seen: &Sighting<'_>, at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE findings SET severity = ?2, weight = ?3, title = ?4, detail = ?5, owner = ?6, last_seen_at = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        seen.severity,
        seen.weight,
        seen.title,
        seen.detail,
        seen.owner,
        crate::time::to_string(at)
    ])?;
    Ok(())
}

/// An audit's change of a finding's state (and resolution): the snooze date is cleared unless
/// the state is `snoozed`; the note is kept.
pub(crate) fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    resolution: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE findings SET state = ?2, state_changed_at = ?3, resolution = ?4,
             snoozed_until = CASE WHEN ?2 = 'snoozed' THEN snoozed_until END
         WHERE id = ?1",
    )?
    .execute(params![id, state, crate::time::to_string(at), resolution])?;
    Ok(())
}

/// The user's change of a firing finding's state: its snooze date, and its note (kept when
/// `note` is `None`, dropped when it reopens).
pub(crate) fn set_state_by_user(
    conn: &Connection,
    id: i64,
    state: &str,
    until: Option<DateTime<Utc>>,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE findings SET state = ?2, snoozed_until = ?3,
             note = CASE WHEN ?2 = 'open' THEN NULL ELSE COALESCE(?4, note) END, state_changed_at = ?5
         WHERE id = ?1",
        params![id, state, until.map(crate::time::to_string), note, crate::time::to_string(at)],
    )?;
    Ok(())
}

/// An entry of a finding's history, to be written.
pub(crate) struct NewEvent<'a> {
    pub finding_id: i64,
    /// The audit run that made it; `None` for the user's changes.
    pub audit_run: Option<i64>,
    pub at: DateTime<Utc>,
    pub event: &'a str,
    pub severity: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// Appends an entry to a finding's history.
pub(crate) fn insert_event(conn: &Connection, e: &NewEvent<'_>) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO finding_events (finding_id, audit_run_id, at, event, severity, detail, reason)
         VALUES (:finding_id, :audit_run_id, :at, :event, :severity, :detail, :reason)",
    )?
    .execute(rusqlite::named_params! {
        ":finding_id": e.finding_id,
        ":audit_run_id": e.audit_run,
        ":at": crate::time::to_string(e.at),
        ":event": e.event,
        ":severity": e.severity,
        ":detail": e.detail,
        ":reason": e.reason,
    })?;
    Ok(())
}

/// A finding as stored, with its key's name: what a `FindingView` shows. Its instants stay the
/// stored text, as the view shows them.
pub(crate) struct FindingRow {
    pub id: i64,
    pub rule_id: String,
    pub severity: String,
    pub weight: u32,
    /// The stored state (`open`, `acknowledged`, `snoozed`, `resolved`).
    pub state: String,
    pub key_id: Option<String>,
    pub provider: String,
    pub account: String,
    pub external_id: Option<String>,
    pub owner: Option<String>,
    pub resource: Option<String>,
    pub title: String,
    pub detail: String,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub snoozed_until: Option<String>,
    pub resolution: Option<String>,
    pub note: Option<String>,
    /// The name of its key (key findings whose key row still exists).
    pub key_name: Option<String>,
}

const COLUMNS: &str = "id, rule_id, severity, weight, state, key_id, provider, account, external_id, owner, resource, \
     title, detail, first_seen_at, last_seen_at, snoozed_until, resolution, note, \
     (SELECT k.name FROM api_keys k WHERE k.id = findings.key_id) AS key_name";

fn finding_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FindingRow> {
    Ok(FindingRow {
        id: r.get("id")?,
        rule_id: r.get("rule_id")?,
        severity: r.get("severity")?,
        weight: r.get("weight")?,
        state: r.get("state")?,
        key_id: r.get("key_id")?,
        provider: r.get("provider")?,
        account: r.get("account")?,
        external_id: r.get("external_id")?,
        owner: r.get("owner")?,
        resource: r.get("resource")?,
        title: r.get("title")?,
        detail: r.get("detail")?,
        first_seen_at: r.get("first_seen_at")?,
        last_seen_at: r.get("last_seen_at")?,
        snoozed_until: r.get("snoozed_until")?,
        resolution: r.get("resolution")?,
        note: r.get("note")?,
        key_name: r.get("key_name")?,
    })
}

/// Every finding, by id.
pub(crate) fn all(conn: &Connection) -> Result<Vec<FindingRow>, Error> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM findings ORDER BY id"))?;
    Ok(stmt.query_map([], finding_row)?.collect::<Result<Vec<_>, _>>()?)
}

/// One key's findings: its own, and its owner's on its connector when `owner` is given (provider,
/// account, owner); only the open ones when `open_only`. A key's page and its risk ask for these
/// alone, not for every finding of the vault (300,000 at 100,000 keys).
pub(crate) fn of_key(
    conn: &Connection,
    key_id: &str,
    owner: Option<(&str, &str, &str)>,
    open_only: bool,
) -> Result<Vec<FindingRow>, Error> {
    let (provider, account, name) = owner.map_or((None, None, None), |(p, a, o)| (Some(p), Some(a), Some(o)));
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM findings WHERE key_id = ?1 AND (?5 = 0 OR state = 'open')
         UNION ALL
         SELECT {COLUMNS} FROM findings
         WHERE ?4 IS NOT NULL AND key_id IS NULL AND resource IS NULL
           AND provider = ?2 AND account = ?3 AND owner = ?4 AND (?5 = 0 OR state = 'open')
         ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![key_id, provider, account, name, open_only], finding_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The finding with this id.
pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<Option<FindingRow>, Error> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM findings WHERE id = ?1"), [id], finding_row).optional()?)
}

/// An entry of a finding's history, as stored (its instant as the stored text, as shown).
pub(crate) struct EventRow {
    pub at: String,
    pub event: String,
    pub severity: Option<String>,
    pub detail: Option<String>,
    pub reason: Option<String>,
}

/// A finding's history, oldest first.
pub(crate) fn events_of(conn: &Connection, finding_id: i64) -> Result<Vec<EventRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT at, event, severity, detail, reason FROM finding_events WHERE finding_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt.query_map([finding_id], |r| {
        Ok(EventRow {
            at: r.get("at")?,
            event: r.get("event")?,
            severity: r.get("severity")?,
            detail: r.get("detail")?,
            reason: r.get("reason")?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// An open finding as a part of risk scores: what it adds, and whose it is.
pub(crate) struct RiskRow {
    pub id: i64,
    pub rule_id: String,
    pub severity: String,
    pub weight: u32,
    pub detail: String,
    pub key_id: Option<String>,
    pub provider: String,
    pub account: String,
    pub owner: Option<String>,
    pub resource: Option<String>,
}

/// The open findings (not acknowledged, snoozed or resolved), heaviest first, then by id.
pub(crate) fn open_by_weight(conn: &Connection) -> Result<Vec<RiskRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT id, rule_id, severity, weight, detail, key_id, provider, account, owner, resource FROM findings
         WHERE state = 'open' ORDER BY weight DESC, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RiskRow {
            id: r.get("id")?,
            rule_id: r.get("rule_id")?,
            severity: r.get("severity")?,
            weight: r.get("weight")?,
            detail: r.get("detail")?,
            key_id: r.get("key_id")?,
            provider: r.get("provider")?,
            account: r.get("account")?,
            owner: r.get("owner")?,
            resource: r.get("resource")?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many high and critical findings are open (the tray's figure).
pub(crate) fn count_open_serious(conn: &Connection) -> Result<usize, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) AS n FROM findings WHERE state = 'open' AND severity IN ('high', 'critical')",
        [],
        |r| r.get("n"),
    )?;
    Ok(n as usize)
}

/// How many findings are open (the window's count beside Findings).
pub(crate) fn count_open(conn: &Connection) -> Result<usize, Error> {
    let n: i64 = conn.query_row("SELECT COUNT(*) AS n FROM findings WHERE state = 'open'", [], |r| r.get("n"))?;
    Ok(n as usize)
}

/// The keys with a finding of their own acknowledged or snoozed.
pub(crate) fn quieted_keys(conn: &Connection) -> Result<HashSet<String>, Error> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT key_id FROM findings WHERE key_id IS NOT NULL AND state IN ('acknowledged', 'snoozed')",
    )?;
    let keys = stmt.query_map([], |r| r.get::<_, String>("key_id"))?;
    Ok(keys.collect::<Result<HashSet<_>, _>>()?)
}

/// How many findings fire (open, acknowledged or snoozed).
pub(crate) fn count_firing(conn: &Connection) -> Result<usize, Error> {
    let n: i64 = conn.query_row("SELECT COUNT(*) AS n FROM findings WHERE state <> 'resolved'", [], |r| r.get("n"))?;
    Ok(n as usize)
}

/// What one audit left open, for the dashboard's risk over time.
#[derive(Debug, Clone)]
pub(crate) struct HealthRow {
    pub at: String,
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub risk: i64,
}

/// The last `limit` audits that recorded what they left open, oldest first.
pub(crate) fn health(conn: &Connection, limit: usize) -> Result<Vec<HealthRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT at, open_critical, open_high, open_medium, open_low, risk FROM audit_runs
         WHERE risk IS NOT NULL ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(HealthRow {
            at: r.get("at")?,
            critical: r.get("open_critical")?,
            high: r.get("open_high")?,
            medium: r.get("open_medium")?,
            low: r.get("open_low")?,
            risk: r.get("risk")?,
        })
    })?;
    let mut rows = rows.collect::<Result<Vec<_>, _>>()?;
    rows.reverse();
    Ok(rows)
}
