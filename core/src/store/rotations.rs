//! The `rotations` journal and its `rotation_events`: a rotation's step is written before the
//! provider call it makes and its result right after (`crate::rotation` decides the steps).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::path_bytes;
use crate::Error;
use crate::time;

/// A rotation as stored.
#[derive(Debug, Clone)]
pub(crate) struct RotationRow {
    pub id: String,
    pub key_id: String,
    pub connector_id: i64,
    pub provider: String,
    pub old_external_id: String,
    pub owner: Option<String>,
    pub kind: String,
    pub name: String,
    /// The owner's key ids at the provider when the rotation was planned (JSON, as stored:
    /// the MAC covers this text).
    pub held_before: String,
    /// The user's command that gets the new secret on stdin.
    pub hook: Option<String>,
    pub new_key_id: Option<String>,
    pub new_external_id: Option<String>,
    /// The last step begun.
    pub step: String,
    /// Whether that step's result is recorded.
    pub step_done: bool,
    pub state: String,
    pub grace_secs: i64,
    pub grace_until: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// When the rotation began; `None` only in a vault edited by hand.
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub mac: Option<Vec<u8>>,
    pub new_mac: Option<Vec<u8>>,
}

const SELECT: &str =
    "SELECT id, key_id, connector_id, provider, old_external_id, owner, kind, name, held_before, hook, new_key_id,
        new_external_id, step, step_done, state, grace_secs, grace_until, error, started_at, updated_at, mac, new_mac
    FROM rotations";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RotationRow> {
    Ok(RotationRow {
        id: r.get("id")?,
        key_id: r.get("key_id")?,
        connector_id: r.get("connector_id")?,
        provider: r.get("provider")?,
        old_external_id: r.get("old_external_id")?,
        owner: r.get("owner")?,
        kind: r.get("kind")?,
        name: r.get("name")?,
        held_before: r.get("held_before")?,
        hook: r.get("hook")?,
        new_key_id: r.get("new_key_id")?,
        new_external_id: r.get("new_external_id")?,
        step: r.get("step")?,
        step_done: r.get::<_, i64>("step_done")? != 0,
        state: r.get("state")?,
        grace_secs: r.get("grace_secs")?,
        grace_until: super::instant(r, "grace_until")?,
        error: r.get("error")?,
        started_at: super::instant(r, "started_at")?,
        updated_at: super::instant(r, "updated_at")?,
        mac: r.get("mac")?,
        new_mac: r.get("new_mac")?,
    })
}

/// What a rotation acts on — its key, connector, provider ids, owner, what the owner held, the
/// user's hook and grace — as its row MAC covers it: given when it begins, read back from its row.
pub(crate) struct Identity<'a> {
    pub id: &'a str,
    pub key_id: &'a str,
    pub connector_id: i64,
    pub provider: &'a str,
    pub old_external_id: &'a str,
    pub owner: Option<&'a str>,
    pub kind: &'a str,
    pub name: &'a str,
    /// JSON text.
    pub held_before: &'a str,
    pub hook: Option<&'a str>,
    pub grace_secs: i64,
}

impl RotationRow {
    /// What the rotation acts on.
    pub(crate) fn identity(&self) -> Identity<'_> {
        Identity {
            id: &self.id,
            key_id: &self.key_id,
            connector_id: self.connector_id,
            provider: &self.provider,
            old_external_id: &self.old_external_id,
            owner: self.owner.as_deref(),
            kind: &self.kind,
            name: &self.name,
            held_before: &self.held_before,
            hook: self.hook.as_deref(),
            grace_secs: self.grace_secs,
        }
    }
}

/// Records a new rotation at its `plan` step (done). Fails (a constraint) when the key already
/// has one under way.
pub(crate) fn insert(conn: &Connection, r: &Identity<'_>, at: DateTime<Utc>, mac: &[u8]) -> Result<(), Error> {
    let when = time::to_string(at);
    conn.execute(
        "INSERT INTO rotations (id, key_id, connector_id, provider, old_external_id, owner, kind, name, held_before, hook,
             step, step_done, state, grace_secs, started_at, updated_at, mac)
         VALUES (:id, :key_id, :connector_id, :provider, :old_external_id, :owner, :kind, :name, :held_before, :hook, 'plan', 1,
             'running', :grace_secs, :at, :at, :mac)",
        rusqlite::named_params! {
            ":id": r.id,
            ":key_id": r.key_id,
            ":connector_id": r.connector_id,
            ":provider": r.provider,
            ":old_external_id": r.old_external_id,
            ":owner": r.owner,
            ":kind": r.kind,
            ":name": r.name,
            ":held_before": r.held_before,
            ":hook": r.hook,
            ":mac": mac,
            ":grace_secs": r.grace_secs,
            ":at": when,
        },
    )?;
    event(conn, r.id, at, "plan", "done", "")
}

/// One rotation.
pub(crate) fn by_id(conn: &Connection, id: &str) -> Result<Option<RotationRow>, Error> {
    Ok(conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], row).optional()?)
}

/// The rotation under way on a key (running, in its grace period, or failed and waiting for
/// the user), if any.
pub(crate) fn unfinished_of_key(conn: &Connection, key_id: &str) -> Result<Option<RotationRow>, Error> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE key_id = ?1 AND state IN ('running', 'grace', 'failed')"), [key_id], row)
        .optional()?)
}

/// Every rotation, newest first.
pub(crate) fn all(conn: &Connection) -> Result<Vec<RotationRow>, Error> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY started_at DESC, id DESC"))?;
    Ok(stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?)
}

/// Begins a step: written before the call it makes.
pub(crate) fn begin_step(conn: &Connection, id: &str, step: &str, at: DateTime<Utc>) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotations SET step = ?2, step_done = 0, updated_at = ?3 WHERE id = ?1",
        params![id, step, time::to_string(at)],
    )?;
    event(conn, id, at, step, "begin", "")
}

/// Records a step's result.
pub(crate) fn finish_step(
    conn: &Connection,
    id: &str,
    step: &str,
    at: DateTime<Utc>,
    detail: &str,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotations SET step = ?2, step_done = 1, updated_at = ?3 WHERE id = ?1",
        params![id, step, time::to_string(at)],
    )?;
    event(conn, id, at, step, "done", detail)
}

/// Records that a create the provider refused made nothing: the rotation stands where its
/// plan left it, and its next try creates without reconciling.
pub(crate) fn nothing_made(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotations SET step = 'plan', step_done = 1, updated_at = ?2 WHERE id = ?1 AND step = 'create'",
        params![id, time::to_string(at)],
    )?;
    event(conn, id, at, "create", "reconciled", "the provider refused the create: nothing was made")
}

/// Records that a step failed, and why (the rotation stays where it was).
pub(crate) fn step_failed(conn: &Connection, id: &str, step: &str, at: DateTime<Utc>, why: &str) -> Result<(), Error> {
    conn.execute("UPDATE rotations SET updated_at = ?2 WHERE id = ?1", params![id, time::to_string(at)])?;
    event(conn, id, at, step, "failed", why)
}

/// Records the new key, with the MAC that covers it.
pub(crate) fn set_new_key(
    conn: &Connection,
    id: &str,
    new_key_id: &str,
    new_external_id: &str,
    new_mac: &[u8],
) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotations SET new_key_id = ?2, new_external_id = ?3, new_mac = ?4 WHERE id = ?1",
        params![id, new_key_id, new_external_id, new_mac],
    )?;
    Ok(())
}

/// When the latest `begin` of `step` was written, as stored.
pub(crate) fn last_begin(conn: &Connection, id: &str, step: &str) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(conn
        .query_row(
            "SELECT at FROM rotation_events WHERE rotation_id = ?1 AND step = ?2 AND phase = 'begin'
             ORDER BY id DESC LIMIT 1",
            params![id, step],
            |r| super::instant(r, "at"),
        )
        .optional()?
        .flatten())
}

/// The old keys of unfinished rotations on a connector (their keys may not be touched by
/// anything else: another rotation's abort brings them back).
pub(crate) fn old_keys_under_way(conn: &Connection, connector_id: i64) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare(
        "SELECT old_external_id FROM rotations WHERE connector_id = ?1 AND state IN ('running', 'grace', 'failed')",
    )?;
    Ok(stmt.query_map([connector_id], |r| r.get("old_external_id"))?.collect::<Result<Vec<_>, _>>()?)
}

/// Moves a rotation to `state` (`running`, `grace`, `done`, `rolled_back`, `failed`).
pub(crate) fn set_state(
    conn: &Connection,
    id: &str,
    state: &str,
    grace_until: Option<DateTime<Utc>>,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotations SET state = ?2, grace_until = COALESCE(?3, grace_until), error = ?4, updated_at = ?5
         WHERE id = ?1",
        params![id, state, grace_until.map(time::to_string), error, time::to_string(at)],
    )?;
    Ok(())
}

/// Rotations whose grace period is over at `now`.
pub(crate) fn grace_over(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<String>, Error> {
    let mut stmt =
        conn.prepare("SELECT id FROM rotations WHERE state = 'grace' AND grace_until <= ?1 ORDER BY grace_until")?;
    Ok(stmt.query_map([time::to_string(now)], |r| r.get("id"))?.collect::<Result<Vec<_>, _>>()?)
}

/// One entry of a rotation's journal.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub at: String,
    pub step: String,
    pub phase: String,
    pub detail: String,
}

/// A rotation's journal, oldest first.
pub(crate) fn events(conn: &Connection, id: &str) -> Result<Vec<EventRow>, Error> {
    let mut stmt =
        conn.prepare("SELECT at, step, phase, detail FROM rotation_events WHERE rotation_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([id], |r| {
        Ok(EventRow { at: r.get("at")?, step: r.get("step")?, phase: r.get("phase")?, detail: r.get("detail")? })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn event(conn: &Connection, id: &str, at: DateTime<Utc>, step: &str, phase: &str, detail: &str) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO rotation_events (rotation_id, at, step, phase, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, time::to_string(at), step, phase, detail])?;
    Ok(())
}

/// A planned hand-over to one file, as stored.
#[derive(Debug, Clone)]
pub(crate) struct HandoverRow {
    pub seq: i64,
    pub path: std::path::PathBuf,
    /// JSON text (the MAC covers it).
    pub edits: String,
    pub digest_before: Vec<u8>,
    pub digest_after: Option<Vec<u8>>,
    /// The file as it was, sealed.
    pub backup: Option<Vec<u8>>,
    /// `planned`, `writing`, `written`, `refused`, `restored` or `kept`.
    pub state: String,
    pub note: String,
    pub mac: Option<Vec<u8>>,
}

/// A hand-over about to be planned.
pub(crate) struct NewHandover<'a> {
    pub rotation_id: &'a str,
    pub seq: i64,
    pub path: &'a std::path::Path,
    pub edits: &'a str,
    pub digest_before: &'a [u8],
    pub mac: &'a [u8],
}

/// Records a planned hand-over.
pub(crate) fn insert_handover(conn: &Connection, h: &NewHandover<'_>) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO rotation_handovers (rotation_id, seq, path, edits, digest_before, state, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, 'planned', ?6)",
        params![h.rotation_id, h.seq, path_bytes(h.path), h.edits, h.digest_before, h.mac],
    )?;
    Ok(())
}

/// A rotation's hand-overs, in the order planned.
pub(crate) fn handovers(conn: &Connection, rotation_id: &str) -> Result<Vec<HandoverRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT seq, path, edits, digest_before, digest_after, backup, state, note, mac FROM rotation_handovers
         WHERE rotation_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([rotation_id], |r| {
        Ok(HandoverRow {
            seq: r.get("seq")?,
            path: super::path_from_bytes(r.get("path")?),
            edits: r.get("edits")?,
            digest_before: r.get("digest_before")?,
            digest_after: r.get("digest_after")?,
            backup: r.get("backup")?,
            state: r.get("state")?,
            note: r.get("note")?,
            mac: r.get("mac")?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Moves a hand-over to `state`; `backup` and `digest_after` are kept when not given.
pub(crate) fn set_handover(
    conn: &Connection,
    rotation_id: &str,
    seq: i64,
    state: &str,
    note: &str,
    backup: Option<&[u8]>,
    digest_after: Option<&[u8]>,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE rotation_handovers SET state = ?3, note = ?4, backup = COALESCE(?5, backup),
             digest_after = COALESCE(?6, digest_after)
         WHERE rotation_id = ?1 AND seq = ?2",
        params![rotation_id, seq, state, note, backup, digest_after],
    )?;
    Ok(())
}

/// Forgets the kept copies of a rotation's files (whole files, with whatever else they hold)
/// once it has ended.
pub(crate) fn drop_backups(conn: &Connection, rotation_id: &str) -> Result<(), Error> {
    conn.execute("UPDATE rotation_handovers SET backup = NULL WHERE rotation_id = ?1", [rotation_id])?;
    Ok(())
}

/// The last rotation of `key_id`, finished or not.
pub(crate) fn last_of_key(conn: &Connection, key_id: &str) -> Result<Option<RotationRow>, Error> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE key_id = ?1 ORDER BY started_at DESC, id DESC LIMIT 1"), [key_id], row)
        .optional()?)
}

/// When the rotation that made `key_id` began, if a rotation made it.
pub(crate) fn made_by_rotation_at(conn: &Connection, key_id: &str) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(conn
        .query_row(
            "SELECT started_at FROM rotations WHERE new_key_id = ?1 ORDER BY started_at DESC LIMIT 1",
            [key_id],
            |r| super::instant(r, "started_at"),
        )
        .optional()?
        .flatten())
}

/// A rotation the scheduler proposed.
#[derive(Debug, Clone)]
pub(crate) struct Proposal {
    pub proposed_at: Option<DateTime<Utc>>,
    /// The policy's `auto` then (`propose` or `on`).
    pub auto: String,
    /// What was said.
    pub why: String,
}

/// The scheduler's proposal to rotate `key_id`, if it made one.
pub(crate) fn proposal(conn: &Connection, key_id: &str) -> Result<Option<Proposal>, Error> {
    Ok(conn
        .query_row("SELECT proposed_at, auto, why FROM rotation_proposals WHERE key_id = ?1", [key_id], |r| {
            Ok(Proposal { proposed_at: super::instant(r, "proposed_at")?, auto: r.get("auto")?, why: r.get("why")? })
        })
        .optional()?)
}

/// Records that rotating `key_id` was proposed under `auto`, and what was said.
pub(crate) fn record_proposal(
    conn: &Connection,
    key_id: &str,
    auto: &str,
    at: DateTime<Utc>,
    why: &str,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO rotation_proposals (key_id, proposed_at, auto, why) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key_id) DO UPDATE SET proposed_at = excluded.proposed_at, auto = excluded.auto, why = excluded.why",
        params![key_id, time::to_string(at), auto, why],
    )?;
    Ok(())
}
