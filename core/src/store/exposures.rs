//! The `exposures`, `shadow_keys`, `not_keys` and `scan_runs` tables: what the scans found (a
//! key at a path and line), the found keys Keyward does not manage, the found tokens the user
//! said are not keys, and the runs that found them. Kept together because a scan's recording
//! writes them in one transaction, and a shadow key is read with the count and first place of
//! its current exposures.
//!
//! How a place is stored is this module's business: a path that is not UTF-8 keeps its bytes in
//! `path_bytes` beside its text, and a hit not in git history has the empty `revision`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;

/// A stored path: its bytes when it is not UTF-8, else its text.
fn stored_path(text: String, bytes: Option<Vec<u8>>) -> PathBuf {
    bytes.map_or_else(|| PathBuf::from(text), super::path_from_bytes)
}

/// The bytes to store beside a path that is not UTF-8.
fn path_bytes(path: &Path) -> Option<&[u8]> {
    path.to_str().is_none().then(|| super::path_bytes(path))
}

/// A stored revision: `None` for a hit in the working tree (stored as the empty string).
fn revision(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<String>> {
    Ok(Some(r.get::<_, String>("revision")?).filter(|s| !s.is_empty()))
}

// --- scan_runs ---

/// A finished scan run, as written.
pub(crate) struct NewScanRun<'a> {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The roots' JSON array.
    pub roots: &'a str,
    pub git_history: bool,
    pub files: i64,
    pub bytes: i64,
    pub hits: i64,
    /// The skipped files' JSON counts.
    pub skipped: &'a str,
    pub errors: i64,
    pub cancelled: bool,
}

/// Inserts a scan run; returns its id.
pub(crate) fn insert_scan_run(conn: &Connection, run: &NewScanRun<'_>) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO scan_runs (started_at, finished_at, roots, git_history, files, bytes, hits, skipped, errors, cancelled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            crate::time::to_string(run.started_at),
            crate::time::to_string(run.finished_at),
            run.roots,
            run.git_history,
            run.files,
            run.bytes,
            run.hits,
            run.skipped,
            run.errors,
            run.cancelled,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

// --- exposures ---

/// An exposure's row, as stored (its place decoded).
#[derive(Debug, Clone)]
pub(crate) struct ExposureRow {
    pub id: i64,
    pub path: PathBuf,
    pub line: u64,
    pub revision: Option<String>,
    pub provider: String,
    pub kind: String,
    pub secret: bool,
    pub key_id: Option<String>,
    pub connector: Option<String>,
    pub evidence: Option<String>,
    pub held_as: Option<String>,
    pub shadow_id: Option<String>,
    pub label: String,
    pub excerpt: String,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    pub first_seen_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Whether a scan marked it gone (`gone_at` is set, even to text that is not an instant).
    pub gone_at_set: bool,
    pub gone_at: Option<DateTime<Utc>>,
}

const EXPOSURE_COLUMNS: &str = "id, path, line, revision, provider, kind, secret, key_id, connector, evidence, held_as,
    shadow_id, label, excerpt, confidence, first_seen_at, last_seen_at, gone_at, path_bytes";

fn exposure_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExposureRow> {
    Ok(ExposureRow {
        id: r.get("id")?,
        path: stored_path(r.get("path")?, r.get("path_bytes")?),
        line: r.get::<_, i64>("line")? as u64,
        revision: revision(r)?,
        provider: r.get("provider")?,
        kind: r.get("kind")?,
        secret: r.get("secret")?,
        key_id: r.get("key_id")?,
        connector: r.get("connector")?,
        evidence: r.get("evidence")?,
        held_as: r.get("held_as")?,
        shadow_id: r.get("shadow_id")?,
        label: r.get("label")?,
        excerpt: r.get("excerpt")?,
        confidence: r.get("confidence")?,
        first_seen_at: super::instant(r, "first_seen_at")?,
        last_seen_at: super::instant(r, "last_seen_at")?,
        gone_at_set: r.get::<_, Option<String>>("gone_at")?.is_some(),
        gone_at: super::instant(r, "gone_at")?,
    })
}

/// A current exposure's place, as a scan reconciles it.
#[derive(Debug, Clone)]
pub(crate) struct CurrentPlace {
    pub id: i64,
    pub path: PathBuf,
    pub revision: Option<String>,
}

/// The current (not gone) exposures' places.
pub(crate) fn current_places(conn: &Connection) -> Result<Vec<CurrentPlace>, Error> {
    let mut stmt = conn.prepare("SELECT id, path, revision, path_bytes FROM exposures WHERE gone_at IS NULL")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(CurrentPlace {
                id: r.get("id")?,
                path: stored_path(r.get("path")?, r.get("path_bytes")?),
                revision: revision(r)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// A hit, as written to its exposure.
pub(crate) struct NewExposure<'a> {
    pub fingerprint: &'a [u8],
    pub path: &'a Path,
    pub line: u64,
    pub revision: Option<&'a str>,
    pub provider: &'a str,
    pub kind: &'a str,
    pub secret: bool,
    pub key_id: Option<&'a str>,
    pub connector: Option<&'a str>,
    pub evidence: Option<&'a str>,
    pub held_as: Option<&'a str>,
    pub shadow_id: Option<&'a str>,
    pub label: &'a str,
    pub excerpt: &'a str,
    /// `high`, `medium` or `low`.
    pub confidence: &'a str,
    pub seen_at: DateTime<Utc>,
}

/// Inserts a hit's exposure, or updates the one at its place (first seen again if it was gone);
/// returns its id.
pub(crate) fn upsert_exposure(conn: &Connection, e: &NewExposure<'_>) -> Result<i64, Error> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO exposures (fingerprint, path, line, revision, provider, kind, secret, key_id, connector, evidence,
             held_as, shadow_id, label, excerpt, first_seen_at, last_seen_at, path_bytes, confidence)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17)
         ON CONFLICT (fingerprint, path, line, revision) DO UPDATE SET
             key_id = excluded.key_id, connector = excluded.connector, evidence = excluded.evidence,
             confidence = excluded.confidence,
             held_as = excluded.held_as, shadow_id = excluded.shadow_id, excerpt = excluded.excerpt,
             last_seen_at = excluded.last_seen_at, path_bytes = excluded.path_bytes,
             first_seen_at = CASE WHEN exposures.gone_at IS NULL THEN exposures.first_seen_at ELSE excluded.first_seen_at END,
             gone_at = NULL
         RETURNING id",
    )?;
    Ok(stmt.query_row(
        params![
            e.fingerprint,
            e.path.display().to_string(),
            e.line as i64,
            e.revision.unwrap_or_default(),
            e.provider,
            e.kind,
            e.secret,
            e.key_id,
            e.connector,
            e.evidence,
            e.held_as,
            e.shadow_id,
            e.label,
            e.excerpt,
            crate::time::to_string(e.seen_at),
            path_bytes(e.path),
            e.confidence,
        ],
        |r| r.get("id"),
    )?)
}

/// Marks an exposure gone at `at`.
pub(crate) fn mark_gone(conn: &Connection, id: i64, at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE exposures SET gone_at = ?1 WHERE id = ?2")?
        .execute(params![crate::time::to_string(at), id])?;
    Ok(())
}

/// The distinct files of the current exposures.
pub(crate) fn current_paths(conn: &Connection) -> Result<Vec<PathBuf>, Error> {
    let mut stmt = conn.prepare("SELECT DISTINCT path, path_bytes FROM exposures WHERE gone_at IS NULL")?;
    Ok(stmt.query_map([], |r| Ok(stored_path(r.get("path")?, r.get("path_bytes")?)))?.collect::<Result<Vec<_>, _>>()?)
}

/// Exposures, last seen first; only current ones unless `include_gone`.
pub(crate) fn list(conn: &Connection, include_gone: bool) -> Result<Vec<ExposureRow>, Error> {
    let sql = format!(
        "SELECT {EXPOSURE_COLUMNS} FROM exposures {} ORDER BY last_seen_at DESC, path, line",
        if include_gone { "" } else { "WHERE gone_at IS NULL" }
    );
    let mut stmt = conn.prepare(&sql)?;
    Ok(stmt.query_map([], exposure_row)?.collect::<Result<Vec<_>, _>>()?)
}

/// The exposure with this id (an error when there is none).
pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<ExposureRow, Error> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {EXPOSURE_COLUMNS} FROM exposures WHERE id = ?1"))?;
    Ok(stmt.query_row([id], exposure_row)?)
}

/// The current exposures of an inventoried key, by place.
pub(crate) fn current_of_key(conn: &Connection, key_id: &str) -> Result<Vec<ExposureRow>, Error> {
    current_where(conn, "key_id", key_id)
}

/// The current exposures of a shadow key, by place.
pub(crate) fn current_of_shadow_key(conn: &Connection, shadow_id: &str) -> Result<Vec<ExposureRow>, Error> {
    current_where(conn, "shadow_id", shadow_id)
}

/// The current exposures whose `column` (`key_id` or `shadow_id`) is `value`, by place.
fn current_where(conn: &Connection, column: &'static str, value: &str) -> Result<Vec<ExposureRow>, Error> {
    let sql =
        format!("SELECT {EXPOSURE_COLUMNS} FROM exposures WHERE {column} = ?1 AND gone_at IS NULL ORDER BY path, line");
    let mut stmt = conn.prepare(&sql)?;
    Ok(stmt.query_map([value], exposure_row)?.collect::<Result<Vec<_>, _>>()?)
}

/// Makes a shadow key's exposures (current and gone) those of an inventoried key, held as
/// `held_as`, with the evidence `linked`.
pub(crate) fn link_exposures(conn: &Connection, shadow_id: &str, key_id: &str, held_as: &str) -> Result<(), Error> {
    conn.execute(
        "UPDATE exposures SET key_id = ?1, evidence = 'linked', held_as = ?2 WHERE shadow_id = ?3",
        params![key_id, held_as, shadow_id],
    )?;
    Ok(())
}

/// A current exposure of a secret Keyward holds or lists (an inventoried key's, a connector's).
#[derive(Debug, Clone)]
pub(crate) struct HeldPlace {
    pub key_id: Option<String>,
    pub connector: Option<String>,
    /// The path's text (lossy for a path that is not UTF-8).
    pub path: String,
    pub line: i64,
    pub revision: Option<String>,
}

/// The current exposures of secrets (not ids) that are an inventoried key or a connector's
/// credential, by place.
pub(crate) fn held_secret_places(conn: &Connection) -> Result<Vec<HeldPlace>, Error> {
    let mut stmt = conn.prepare(
        "SELECT key_id, connector, path, line, revision FROM exposures
         WHERE gone_at IS NULL AND secret = 1 AND (key_id IS NOT NULL OR connector IS NOT NULL) ORDER BY path, line",
    )?;
    Ok(stmt
        .query_map([], |r| {
            Ok(HeldPlace {
                key_id: r.get("key_id")?,
                connector: r.get("connector")?,
                path: r.get("path")?,
                line: r.get("line")?,
                revision: revision(r)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The shadow keys with a current exposure of a secret (not only of an id).
pub(crate) fn shadow_keys_with_current_secret(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT shadow_id FROM exposures WHERE secret = 1 AND gone_at IS NULL AND shadow_id IS NOT NULL",
    )?;
    Ok(stmt.query_map([], |r| r.get("shadow_id"))?.collect::<Result<Vec<_>, _>>()?)
}

// --- shadow_keys ---

/// A linked shadow key's fingerprint and the inventoried key it was linked to.
#[derive(Debug, Clone)]
pub(crate) struct LinkedShadow {
    pub fingerprint: Vec<u8>,
    pub key_id: String,
}

/// The linked shadow keys (those with a key to be linked to).
pub(crate) fn linked_shadow_keys(conn: &Connection) -> Result<Vec<LinkedShadow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT s.fingerprint AS fingerprint, s.linked_key_id AS key_id FROM shadow_keys s
         WHERE s.status = 'linked' AND s.linked_key_id IS NOT NULL",
    )?;
    Ok(stmt
        .query_map([], |r| Ok(LinkedShadow { fingerprint: r.get("fingerprint")?, key_id: r.get("key_id")? }))?
        .collect::<Result<Vec<_>, _>>()?)
}

/// A shadow key as a scan matches a hit against it.
#[derive(Debug, Clone)]
pub(crate) struct ShadowMatch {
    pub id: String,
    pub status: String,
    pub linked_key_id: Option<String>,
}

/// The shadow key with this fingerprint.
pub(crate) fn shadow_key_by_fingerprint(conn: &Connection, fingerprint: &[u8]) -> Result<Option<ShadowMatch>, Error> {
    Ok(conn
        .prepare_cached("SELECT id, status, linked_key_id FROM shadow_keys WHERE fingerprint = ?1")?
        .query_row([fingerprint], |r| {
            Ok(ShadowMatch { id: r.get("id")?, status: r.get("status")?, linked_key_id: r.get("linked_key_id")? })
        })
        .optional()?)
}

/// Sets when a shadow key was last seen.
pub(crate) fn touch_shadow_key(conn: &Connection, id: &str, seen_at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE shadow_keys SET last_seen_at = ?1 WHERE id = ?2")?
        .execute(params![crate::time::to_string(seen_at), id])?;
    Ok(())
}

/// A new shadow key, first and last seen at `seen_at`.
pub(crate) struct NewShadowKey<'a> {
    pub id: &'a str,
    pub fingerprint: &'a [u8],
    pub provider: &'a str,
    pub kind: &'a str,
    pub label: &'a str,
    pub seen_at: DateTime<Utc>,
}

/// Inserts a shadow key (unmanaged).
pub(crate) fn insert_shadow_key(conn: &Connection, s: &NewShadowKey<'_>) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO shadow_keys (id, fingerprint, provider, kind, label, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![s.id, s.fingerprint, s.provider, s.kind, s.label, crate::time::to_string(s.seen_at)])?;
    Ok(())
}

/// A shadow key's row, with the count and first place of its current exposures.
#[derive(Debug, Clone)]
pub(crate) struct ShadowKeyRow {
    pub id: String,
    pub provider: String,
    pub kind: String,
    pub label: String,
    pub status: String,
    pub linked_key_id: Option<String>,
    pub first_seen_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// How many current exposures it has.
    pub exposures: u64,
    /// The first current exposure's place (`path:line`), by path and line.
    pub first_place: Option<String>,
    /// The surest confidence of its current exposures (`None` without any).
    pub confidence: Option<String>,
    /// Whether a liveness check was recorded (`verified_at` is set, even to text that is not an
    /// instant).
    pub verified_at_set: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub verify_result: Option<String>,
}

/// Every shadow key (only the one with id `only`, when given), unmanaged ones first, then by
/// provider, kind and first sight.
pub(crate) fn shadow_keys(conn: &Connection, only: Option<&str>) -> Result<Vec<ShadowKeyRow>, Error> {
    let mut stmt = conn.prepare(
        "SELECT s.id AS id, s.provider AS provider, s.kind AS kind, s.label AS label, s.status AS status,
                s.linked_key_id AS linked_key_id, s.first_seen_at AS first_seen_at, s.last_seen_at AS last_seen_at,
                (SELECT COUNT(*) FROM exposures e WHERE e.shadow_id = s.id AND e.gone_at IS NULL) AS exposures,
                (SELECT e.path || ':' || e.line FROM exposures e WHERE e.shadow_id = s.id AND e.gone_at IS NULL ORDER BY e.path, e.line LIMIT 1)
                    AS first_place,
                (SELECT CASE WHEN COUNT(*) = 0 THEN NULL WHEN SUM(e.confidence = 'high') > 0 THEN 'high'
                             WHEN SUM(e.confidence = 'medium') > 0 THEN 'medium' ELSE 'low' END
                   FROM exposures e WHERE e.shadow_id = s.id AND e.gone_at IS NULL) AS confidence,
                s.verified_at AS verified_at, s.verify_result AS verify_result
         FROM shadow_keys s WHERE ?1 IS NULL OR s.id = ?1
         ORDER BY s.status = 'unmanaged' DESC, s.provider, s.kind, s.first_seen_at",
    )?;
    Ok(stmt
        .query_map([only], |r| {
            Ok(ShadowKeyRow {
                id: r.get("id")?,
                provider: r.get("provider")?,
                kind: r.get("kind")?,
                label: r.get("label")?,
                status: r.get("status")?,
                linked_key_id: r.get("linked_key_id")?,
                first_seen_at: super::instant(r, "first_seen_at")?,
                last_seen_at: super::instant(r, "last_seen_at")?,
                exposures: r.get::<_, i64>("exposures")? as u64,
                first_place: r.get("first_place")?,
                confidence: r.get("confidence")?,
                verified_at_set: r.get::<_, Option<String>>("verified_at")?.is_some(),
                verified_at: super::instant(r, "verified_at")?,
                verify_result: r.get("verify_result")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

/// A shadow key's facts needed to check it.
#[derive(Debug, Clone)]
pub(crate) struct ShadowKeyFacts {
    pub provider: String,
    pub kind: String,
    pub fingerprint: Vec<u8>,
}

/// The provider, kind and fingerprint of the shadow key with this id.
pub(crate) fn shadow_key_facts(conn: &Connection, id: &str) -> Result<Option<ShadowKeyFacts>, Error> {
    Ok(conn
        .query_row("SELECT provider, kind, fingerprint FROM shadow_keys WHERE id = ?1", [id], |r| {
            Ok(ShadowKeyFacts {
                provider: r.get("provider")?,
                kind: r.get("kind")?,
                fingerprint: r.get("fingerprint")?,
            })
        })
        .optional()?)
}

/// Marks a shadow key linked to an inventoried key; `false` when there is no such shadow key.
pub(crate) fn link_shadow_key(conn: &Connection, id: &str, key_id: &str) -> Result<bool, Error> {
    let n = conn
        .execute("UPDATE shadow_keys SET status = 'linked', linked_key_id = ?1 WHERE id = ?2", params![key_id, id])?;
    Ok(n > 0)
}

/// Marks a shadow key dismissed (and linked to nothing); `false` when there is no such shadow key.
pub(crate) fn dismiss_shadow_key(conn: &Connection, id: &str) -> Result<bool, Error> {
    let n = conn.execute("UPDATE shadow_keys SET status = 'dismissed', linked_key_id = NULL WHERE id = ?1", [id])?;
    Ok(n > 0)
}

/// Records a shadow key's last liveness check: when, and its result. Stored with milliseconds,
/// unlike the other instants (as it always was).
pub(crate) fn set_verification(conn: &Connection, id: &str, at: DateTime<Utc>, result: &str) -> Result<(), Error> {
    conn.execute(
        "UPDATE shadow_keys SET verified_at = ?1, verify_result = ?2 WHERE id = ?3",
        params![at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), result, id],
    )?;
    Ok(())
}

// --- not_keys ---

/// A found token the user said is not a key.
#[derive(Debug, Clone)]
pub(crate) struct NotKeyRow {
    pub id: i64,
    pub provider: String,
    pub kind: String,
    pub label: String,
    pub place: Option<String>,
    pub marked_at: Option<DateTime<Utc>>,
}

/// What marking a shadow key "not a key" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotAKey {
    /// Its fingerprint joined `not_keys`; it and its exposures are removed.
    Marked,
    /// No such shadow key.
    Missing,
    /// It is linked to an inventoried key (its places are that key's consumers): left alone.
    Linked,
}

/// Marks a shadow key's token "not a key": its fingerprint joins `not_keys` and the shadow key
/// and its exposures are removed — never one linked to a key, nor an exposure that carries one.
pub(crate) fn mark_not_a_key(conn: &Connection, shadow_id: &str, at: DateTime<Utc>) -> Result<NotAKey, Error> {
    let status: Option<String> =
        conn.query_row("SELECT status FROM shadow_keys WHERE id = ?1", [shadow_id], |r| r.get("status")).optional()?;
    match status.as_deref() {
        None => return Ok(NotAKey::Missing),
        Some("linked") => return Ok(NotAKey::Linked),
        Some(_) => {}
    }
    conn.execute(
        "INSERT INTO not_keys (fingerprint, provider, kind, label, place, marked_at)
         SELECT s.fingerprint, s.provider, s.kind, s.label,
                (SELECT e.path || ':' || e.line FROM exposures e WHERE e.shadow_id = s.id ORDER BY e.gone_at IS NOT NULL, e.path, e.line LIMIT 1),
                ?2
         FROM shadow_keys s WHERE s.id = ?1
         ON CONFLICT (fingerprint) DO NOTHING",
        params![shadow_id, crate::time::to_string(at)],
    )?;
    conn.execute("DELETE FROM exposures WHERE shadow_id = ?1 AND key_id IS NULL", [shadow_id])?;
    conn.execute("DELETE FROM shadow_keys WHERE id = ?1", [shadow_id])?;
    Ok(NotAKey::Marked)
}

/// Every token marked not a key, newest first.
pub(crate) fn not_keys(conn: &Connection) -> Result<Vec<NotKeyRow>, Error> {
    let mut stmt = conn
        .prepare("SELECT id, provider, kind, label, place, marked_at FROM not_keys ORDER BY marked_at DESC, id DESC")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(NotKeyRow {
                id: r.get("id")?,
                provider: r.get("provider")?,
                kind: r.get("kind")?,
                label: r.get("label")?,
                place: r.get("place")?,
                marked_at: super::instant(r, "marked_at")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The fingerprints scans leave out.
pub(crate) fn not_key_fingerprints(conn: &Connection) -> Result<std::collections::HashSet<Vec<u8>>, Error> {
    let mut stmt = conn.prepare("SELECT fingerprint FROM not_keys")?;
    Ok(stmt.query_map([], |r| r.get("fingerprint"))?.collect::<Result<_, _>>()?)
}

/// Takes a token off the not-a-key list (the next scan reports it again); `false` when there is
/// no such entry.
pub(crate) fn unmark_not_a_key(conn: &Connection, id: i64) -> Result<bool, Error> {
    Ok(conn.execute("DELETE FROM not_keys WHERE id = ?1", [id])? > 0)
}
