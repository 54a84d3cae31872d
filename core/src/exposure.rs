//! What the scans found, kept in the vault: exposures (a key at a path and line), shadow keys
//! (found keys Keyward does not manage), and the index the next scan matches against.
//!
//! Why separate from [`crate::scan`]: the scan reads files and knows nothing of the vault; this
//! module turns its hits into lasting facts — an exposure is first seen, seen again, and gone
//! when a later scan of its path no longer finds it; a shadow key stays until the user links it
//! to an inventoried key or dismisses it. Exposures of inventoried keys are their consumer
//! locations, which rotation hands the new secret over to.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::Error;
use crate::audit::{ExposureFact, SHADOW_KEY};
use crate::connector;
use crate::inventory;
use crate::model::Resource;
use crate::scan::{Fingerprint, Hit, Index, Options, Summary, Target};
use crate::time;
use crate::vault::Vault;

/// Builds the scan's index from what the vault holds: every sealed key secret and connector
/// credential (opened one at a time, hashed, and dropped — zeroized — at once), the public ids
/// of inventoried keys, Datadog's and New Relic's last characters, and linked shadow keys.
pub fn index(vault: &Vault) -> Result<Index, Error> {
    let key = vault.fingerprint_key();
    let mut index = Index::new(&key);
    let keys: Vec<_> = inventory::list(vault)?.into_iter().filter(|k| k.removed_at.is_none()).collect();
    let target = |k: &crate::model::ApiKey, label: String| Target {
        key_id: Some(k.id.clone()),
        provider: k.provider.clone(),
        kind: k.kind.clone().unwrap_or_else(|| "api_key".into()),
        connector: None,
        label,
    };
    for k in &keys {
        if k.has_secret {
            let secret = inventory::reveal(vault, &k.id)?;
            index.add_secret(secret.expose(), target(k, format!("key {}", k.name)));
        }
        let id_in_files = keyward_connectors::providers::get(&k.provider)
            .is_some_and(|p| k.kind.as_deref().is_some_and(|kind| p.ids_in_files.contains(&kind)));
        if let (true, Some(id)) = (id_in_files, &k.external_id) {
            index.add_id(id, target(k, format!("key {}", k.name)));
        }
        let last4 = k.details["last4"].as_str().map(str::to_owned).or_else(|| {
            k.details["obfuscated_key"].as_str().and_then(|o| o.get(o.len().saturating_sub(4)..)).map(str::to_owned)
        });
        if let Some(last4) = last4 {
            index.add_last4(&last4, target(k, format!("key {}", k.name)));
        }
    }
    for c in connector::list(vault)? {
        // A connector whose row was changed outside Keyward (or whose endpoint is no longer
        // accepted) is not unsealed: the scan goes on without its credentials, and says so.
        let creds = match connector::credentials(vault, &c) {
            Ok(creds) => creds,
            Err(e) => {
                tracing::warn!(connector = %c.name, error = %e, "its credentials are left out of the scan");
                continue;
            }
        };
        for field in creds.names().map(str::to_owned).collect::<Vec<_>>() {
            let Some(secret) = creds.get(&field) else { continue };
            let (kind, key) = credential_key(&c, &field, secret.expose(), &keys);
            index.add_secret(
                secret.expose(),
                Target {
                    key_id: key.map(|k| k.id.clone()),
                    provider: c.provider.clone(),
                    kind,
                    connector: Some(c.name.clone()),
                    label: format!("connector {}: {field}", c.name),
                },
            );
        }
    }
    let mut stmt = vault.conn().prepare(
        "SELECT s.fingerprint, s.linked_key_id FROM shadow_keys s WHERE s.status = 'linked' AND s.linked_key_id IS NOT NULL",
    )?;
    let linked = stmt
        .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (fp, key_id) in linked {
        let (Ok(fp), Some(k)) = (<Fingerprint>::try_from(fp.as_slice()), keys.iter().find(|k| k.id == key_id)) else {
            continue;
        };
        index.add_fingerprint(fp, target(k, format!("key {} (linked)", k.name)));
    }
    Ok(index)
}

/// Which inventoried key a connector's credential field is, where the inventory can tell.
fn credential_key<'k>(
    c: &connector::Connector,
    field: &str,
    secret: &str,
    keys: &'k [crate::model::ApiKey],
) -> (String, Option<&'k crate::model::ApiKey>) {
    let ends = |k: &crate::model::ApiKey| {
        k.details["last4"].as_str().is_some_and(|l| secret.ends_with(l))
            || k.details["obfuscated_key"].as_str().is_some_and(|o| o.len() > 4 && secret.ends_with(&o[o.len() - 4..]))
    };
    use keyward_connectors::providers::IsKey;
    let is_key = keyward_connectors::providers::get(&c.provider)
        .and_then(|p| p.credentials.iter().flat_map(|set| set.iter()).find(|cred| cred.field == field))
        .map_or(IsKey::No, |cred| cred.is_key);
    let (kind, wanted): (String, Option<&str>) = match is_key {
        IsKey::Kind(kind) => (kind.into(), Some(kind)),
        IsKey::AnyKind => (field.to_owned(), None),
        IsKey::No => return (field.to_owned(), None),
    };
    let candidates: Vec<&crate::model::ApiKey> = keys
        .iter()
        .filter(|k| k.account == c.name && wanted.is_none_or(|w| k.kind.as_deref() == Some(w)) && ends(k))
        .collect();
    (kind, if candidates.len() == 1 { Some(candidates[0]) } else { None })
}

/// What recording a scan changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The scan run's id.
    pub run: i64,
    /// Exposures seen for the first time (or back after being gone).
    pub new: usize,
    /// Exposures no longer found where a scan looked.
    pub gone: usize,
    /// Shadow keys seen for the first time.
    pub new_shadow: usize,
    /// The exposure each hit is stored as, in the hits' order.
    pub exposures: Vec<i64>,
}

/// Stores a finished scan: its run, every hit as an exposure (and a shadow key for keys the
/// inventory does not know), and marks gone the exposures whose file this scan read
/// ([`Summary::read`], [`Summary::read_history`]) without finding them again, or whose file no
/// longer exists under its roots — never one in a file it left out (excluded, too large,
/// unreadable, not under its roots). A cancelled scan
/// marks nothing gone. What is new and what is gone is told by rows, not times, so two scans
/// in the same second count alike.
pub fn record(
    vault: &mut Vault,
    options: &Options,
    hits: &[Hit],
    summary: &Summary,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Recorded, Error> {
    let tx = vault.write()?;
    let now_s = time::to_string(now);
    let roots: Vec<String> = options.roots.iter().map(|r| r.display().to_string()).collect();
    tx.execute(
        "INSERT INTO scan_runs (started_at, finished_at, roots, git_history, files, bytes, hits, skipped, errors, cancelled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            time::to_string(started),
            now_s,
            serde_json::to_string(&roots).expect("paths serialize"),
            options.git_history,
            summary.progress.files as i64,
            summary.progress.bytes as i64,
            hits.len() as i64,
            serde_json::json!({"binary": summary.binary, "too_large": summary.too_large,
                "symlinks_out": summary.symlinks_out, "special": summary.special}).to_string(),
            summary.error_count as i64,
            summary.cancelled,
        ],
    )?;
    let run = tx.last_insert_rowid();
    let mut out = Recorded { run, ..Default::default() };
    // The exposures current before this scan, read once: a hit whose row is not among them is
    // new (first seen, or back after being gone); one of them not found again may be gone.
    let before: Vec<(i64, PathBuf, String)> = tx
        .prepare("SELECT id, path, revision, path_bytes FROM exposures WHERE gone_at IS NULL")?
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, stored_path(r.get(1)?, r.get(3)?), r.get::<_, String>(2)?)))?
        .collect::<Result<_, _>>()?;
    let current: std::collections::HashSet<i64> = before.iter().map(|(id, _, _)| *id).collect();
    let mut found: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for h in hits {
        let (mut key_id, connector, mut evidence, held_as) = match &h.inventory {
            Some((t, e)) => (t.key_id.clone(), t.connector.clone(), Some(e.as_str()), Some(t.label.clone())),
            None => (None, None, None, None),
        };
        let mut shadow_id = None;
        if h.inventory.is_none() {
            let existing: Option<(String, String, Option<String>)> = tx
                .query_row(
                    "SELECT id, status, linked_key_id FROM shadow_keys WHERE fingerprint = ?1",
                    [h.fingerprint.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let id = match existing {
                Some((id, status, linked)) => {
                    tx.execute("UPDATE shadow_keys SET last_seen_at = ?1 WHERE id = ?2", params![now_s, id])?;
                    if status == "linked" && linked.is_some() {
                        key_id = linked;
                        evidence = Some("linked");
                    }
                    id
                }
                None => {
                    let id = uuid::Uuid::now_v7().to_string();
                    tx.execute(
                        "INSERT INTO shadow_keys (id, fingerprint, provider, kind, label, first_seen_at, last_seen_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                        params![id, h.fingerprint.as_slice(), h.provider, h.kind, h.label, now_s],
                    )?;
                    out.new_shadow += 1;
                    id
                }
            };
            shadow_id = Some(id);
        }
        let exposure_id: i64 = tx.query_row(
            "INSERT INTO exposures (fingerprint, path, line, revision, provider, kind, secret, key_id, connector, evidence,
                 held_as, shadow_id, label, excerpt, first_seen_at, last_seen_at, path_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)
             ON CONFLICT (fingerprint, path, line, revision) DO UPDATE SET
                 key_id = excluded.key_id, connector = excluded.connector, evidence = excluded.evidence,
                 held_as = excluded.held_as, shadow_id = excluded.shadow_id, excerpt = excluded.excerpt,
                 last_seen_at = excluded.last_seen_at, path_bytes = excluded.path_bytes,
                 first_seen_at = CASE WHEN exposures.gone_at IS NULL THEN exposures.first_seen_at ELSE excluded.first_seen_at END,
                 gone_at = NULL
             RETURNING id",
            params![
                h.fingerprint.as_slice(),
                h.path.display().to_string(),
                h.line as i64,
                h.revision.clone().unwrap_or_default(),
                h.provider,
                h.kind,
                h.secret,
                key_id,
                connector,
                evidence,
                held_as,
                shadow_id,
                h.label,
                h.excerpt,
                now_s,
                path_bytes(&h.path),
            ],
            |r| r.get(0),
        )?;
        // The same place twice in one scan (two hits on one line) is counted once.
        if found.insert(exposure_id) && !current.contains(&exposure_id) {
            out.new += 1;
        }
        out.exposures.push(exposure_id);
    }
    if !summary.cancelled {
        for (id, path, revision) in before {
            if found.contains(&id) {
                continue;
            }
            let read = if revision.is_empty() { &summary.read } else { &summary.read_history };
            // A file deleted since holds nothing: gone, when it was under what this scan looked at.
            let deleted = revision.is_empty()
                && options.roots.iter().any(|r| path.starts_with(r))
                && path.symlink_metadata().is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if read.contains(&path) || deleted {
                tx.execute("UPDATE exposures SET gone_at = ?1 WHERE id = ?2", params![now_s, id])?;
                out.gone += 1;
            }
        }
    }
    tx.commit()?;
    Ok(out)
}

/// One stored exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// Row id.
    pub id: i64,
    /// File.
    pub path: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// Commit, for hits in git history.
    pub revision: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Kind of credential.
    pub kind: String,
    /// Whether it is a secret (not an id).
    pub secret: bool,
    /// The inventoried key.
    pub key_id: Option<String>,
    /// The connector whose credential it is.
    pub connector: Option<String>,
    /// How it was matched to the inventory.
    pub evidence: Option<String>,
    /// Where Keyward holds it.
    pub held_as: Option<String>,
    /// The shadow key, for keys Keyward does not manage.
    pub shadow_id: Option<String>,
    /// Redacted token.
    pub label: String,
    /// Redacted line.
    pub excerpt: String,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen_at: DateTime<Utc>,
    /// When a scan no longer found it.
    pub gone_at: Option<DateTime<Utc>>,
}

const EXPOSURE_COLUMNS: &str = "id, path, line, revision, provider, kind, secret, key_id, connector, evidence, held_as,
    shadow_id, label, excerpt, first_seen_at, last_seen_at, gone_at, path_bytes";

/// A stored path: its bytes when it is not UTF-8, else its text.
fn stored_path(text: String, bytes: Option<Vec<u8>>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt as _;
    bytes.map_or_else(|| PathBuf::from(text), |b| PathBuf::from(std::ffi::OsString::from_vec(b)))
}

/// The bytes to store beside a path that is not UTF-8.
fn path_bytes(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt as _;
    path.to_str().is_none().then(|| path.as_os_str().as_bytes())
}

fn exposure_row(r: &rusqlite::Row) -> rusqlite::Result<Exposure> {
    let t = |s: String| time::parse(&s).unwrap_or_default();
    Ok(Exposure {
        id: r.get(0)?,
        path: stored_path(r.get(1)?, r.get(17)?),
        line: r.get::<_, i64>(2)? as u64,
        revision: Some(r.get::<_, String>(3)?).filter(|s| !s.is_empty()),
        provider: r.get(4)?,
        kind: r.get(5)?,
        secret: r.get(6)?,
        key_id: r.get(7)?,
        connector: r.get(8)?,
        evidence: r.get(9)?,
        held_as: r.get(10)?,
        shadow_id: r.get(11)?,
        label: r.get(12)?,
        excerpt: r.get(13)?,
        first_seen_at: t(r.get(14)?),
        last_seen_at: t(r.get(15)?),
        gone_at: r.get::<_, Option<String>>(16)?.map(t),
    })
}

/// The files of the current exposures: what a scan must say it read before any of them can be
/// marked gone ([`Options::watch`]).
pub fn watched(vault: &Vault) -> Result<std::collections::HashSet<PathBuf>, Error> {
    let mut stmt = vault.conn().prepare("SELECT DISTINCT path, path_bytes FROM exposures WHERE gone_at IS NULL")?;
    let paths = stmt.query_map([], |r| Ok(stored_path(r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(paths.into_iter().collect())
}

/// Stored exposures, newest first; only current ones unless `include_gone`.
pub fn list(vault: &Vault, include_gone: bool) -> Result<Vec<Exposure>, Error> {
    let sql = format!(
        "SELECT {EXPOSURE_COLUMNS} FROM exposures {} ORDER BY last_seen_at DESC, path, line",
        if include_gone { "" } else { "WHERE gone_at IS NULL" }
    );
    let mut stmt = vault.conn().prepare(&sql)?;
    Ok(stmt.query_map([], exposure_row)?.collect::<Result<Vec<_>, _>>()?)
}

/// The exposures with these ids, in the order given.
pub fn by_ids(vault: &Vault, ids: &[i64]) -> Result<Vec<Exposure>, Error> {
    let mut stmt = vault.conn().prepare(&format!("SELECT {EXPOSURE_COLUMNS} FROM exposures WHERE id = ?1"))?;
    ids.iter().map(|id| Ok(stmt.query_row([id], exposure_row)?)).collect()
}

/// Where an inventoried key is used: its current exposures.
pub fn consumers(vault: &Vault, key_id: &str) -> Result<Vec<Exposure>, Error> {
    current_of(vault, "key_id", key_id)
}

/// The current exposures whose `column` (`key_id` or `shadow_id`) is `value`, by place.
/// A shadow key's current exposures.
pub fn of_shadow_key(vault: &Vault, shadow_id: &str) -> Result<Vec<Exposure>, Error> {
    current_of(vault, "shadow_id", shadow_id)
}

fn current_of(vault: &Vault, column: &str, value: &str) -> Result<Vec<Exposure>, Error> {
    let sql =
        format!("SELECT {EXPOSURE_COLUMNS} FROM exposures WHERE {column} = ?1 AND gone_at IS NULL ORDER BY path, line");
    let mut stmt = vault.conn().prepare(&sql)?;
    Ok(stmt.query_map([value], exposure_row)?.collect::<Result<Vec<_>, _>>()?)
}

/// A key found in files that Keyward does not manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowKey {
    /// Keyward's id.
    pub id: String,
    /// Provider id.
    pub provider: String,
    /// Kind.
    pub kind: String,
    /// Redacted token.
    pub label: String,
    /// `unmanaged`, `linked` or `dismissed`.
    pub status: String,
    /// The key it was linked to.
    pub linked_key_id: Option<String>,
    /// Current exposures.
    pub exposures: u64,
    /// The first current exposure's place (`path:line`).
    pub first_place: Option<String>,
    /// The last liveness check's result, and when.
    pub verified: Option<(DateTime<Utc>, String)>,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen_at: DateTime<Utc>,
}

/// Every shadow key, unmanaged ones first.
pub fn shadow_keys(vault: &Vault) -> Result<Vec<ShadowKey>, Error> {
    shadow_keys_where(vault, None)
}

/// One shadow key with its current exposures.
pub fn shadow_key_view(vault: &Vault, id: &str) -> Result<ShadowKey, Error> {
    shadow_keys_where(vault, Some(id))?.pop().ok_or_else(|| Error::NotFound { what: "shadow key", id: id.to_owned() })
}

fn shadow_keys_where(vault: &Vault, id: Option<&str>) -> Result<Vec<ShadowKey>, Error> {
    let mut stmt = vault.conn().prepare(
        "SELECT s.id, s.provider, s.kind, s.label, s.status, s.linked_key_id, s.first_seen_at, s.last_seen_at,
                (SELECT COUNT(*) FROM exposures e WHERE e.shadow_id = s.id AND e.gone_at IS NULL),
                (SELECT e.path || ':' || e.line FROM exposures e WHERE e.shadow_id = s.id AND e.gone_at IS NULL ORDER BY e.path, e.line LIMIT 1),
                s.verified_at, s.verify_result
         FROM shadow_keys s WHERE ?1 IS NULL OR s.id = ?1
         ORDER BY s.status = 'unmanaged' DESC, s.provider, s.kind, s.first_seen_at",
    )?;
    let t = |s: String| time::parse(&s).unwrap_or_default();
    Ok(stmt
        .query_map([id], |r| {
            Ok(ShadowKey {
                id: r.get(0)?,
                provider: r.get(1)?,
                kind: r.get(2)?,
                label: r.get(3)?,
                status: r.get(4)?,
                linked_key_id: r.get(5)?,
                first_seen_at: t(r.get(6)?),
                last_seen_at: t(r.get(7)?),
                exposures: r.get::<_, i64>(8)? as u64,
                first_place: r.get(9)?,
                verified: match (r.get::<_, Option<String>>(10)?, r.get::<_, Option<String>>(11)?) {
                    (Some(at), Some(result)) => Some((t(at), result)),
                    _ => None,
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

/// Links a shadow key to an inventoried key: its exposures become that key's consumer
/// locations, now and in later scans.
pub fn link(vault: &mut Vault, shadow_id: &str, key_id: &str) -> Result<(), Error> {
    let key = inventory::get(vault, key_id)?;
    // Linking makes the shadow key's files the key's consumers, which rotation rewrites: only
    // a key of the same provider can be the same credential.
    let (provider, _, _) = shadow_key(vault, shadow_id)?;
    if provider != key.provider {
        return Err(Error::Invalid {
            field: "key",
            reason: format!(
                "a {provider} token found in files cannot be the {} key {}; link it to a {provider} key",
                key.provider, key.name
            ),
        });
    }
    let tx = vault.write()?;
    let n = tx.execute(
        "UPDATE shadow_keys SET status = 'linked', linked_key_id = ?1 WHERE id = ?2",
        params![key.id, shadow_id],
    )?;
    if n == 0 {
        return Err(Error::NotFound { what: "shadow key", id: shadow_id.to_owned() });
    }
    tx.execute(
        "UPDATE exposures SET key_id = ?1, evidence = 'linked', held_as = ?2 WHERE shadow_id = ?3",
        params![key.id, format!("key {} (linked)", key.name), shadow_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Dismisses a shadow key (not a key to manage: a test fixture, someone else's); it raises no
/// finding any more, and its exposures stay listed.
pub fn dismiss(vault: &Vault, shadow_id: &str) -> Result<(), Error> {
    let n = vault
        .conn()
        .execute("UPDATE shadow_keys SET status = 'dismissed', linked_key_id = NULL WHERE id = ?1", [shadow_id])?;
    if n == 0 {
        return Err(Error::NotFound { what: "shadow key", id: shadow_id.to_owned() });
    }
    Ok(())
}

/// What the audit judges of the scans: current exposures of held or listed secrets, and
/// unmanaged shadow keys with current exposures (as resources of kind [`SHADOW_KEY`]).
pub fn audit_facts(vault: &Vault) -> Result<(Vec<ExposureFact>, Vec<Resource>), Error> {
    let mut stmt = vault.conn().prepare(
        "SELECT key_id, connector, path, line, revision FROM exposures
         WHERE gone_at IS NULL AND secret = 1 AND (key_id IS NOT NULL OR connector IS NOT NULL) ORDER BY path, line",
    )?;
    let facts = stmt
        .query_map([], |r| {
            let (path, line, rev): (String, i64, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
            Ok(ExposureFact {
                key_id: r.get(0)?,
                connector: r.get(1)?,
                place: if rev.is_empty() {
                    format!("{path}:{line}")
                } else {
                    format!("{path}:{line}@{}", &rev[..rev.len().min(12)])
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // An unknown access key id alone is not a secret; its secret next to it is the finding.
    let secret_shadows: std::collections::HashSet<String> = vault
        .conn()
        .prepare(
            "SELECT DISTINCT shadow_id FROM exposures WHERE secret = 1 AND gone_at IS NULL AND shadow_id IS NOT NULL",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let shadows = shadow_keys(vault)?
        .into_iter()
        .filter(|s| s.status == "unmanaged" && s.exposures > 0 && secret_shadows.contains(&s.id))
        .map(|s| Resource {
            provider: s.provider,
            account: "scan".into(),
            kind: SHADOW_KEY.into(),
            external_id: s.id,
            name: s.label,
            region: None,
            details: serde_json::json!({"kind": s.kind, "exposures": s.exposures, "first_place": s.first_place}),
        })
        .collect();
    Ok((facts, shadows))
}

/// A shadow key's stored facts needed to check it: provider, kind, fingerprint.
pub fn shadow_key(vault: &Vault, id: &str) -> Result<(String, String, Fingerprint), Error> {
    let row: Option<(String, String, Vec<u8>)> = vault
        .conn()
        .query_row("SELECT provider, kind, fingerprint FROM shadow_keys WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (provider, kind, fp) = row.ok_or_else(|| Error::NotFound { what: "shadow key", id: id.to_owned() })?;
    let fp =
        Fingerprint::try_from(fp.as_slice()).map_err(|_| Error::Unreadable { what: format!("shadow key {id}") })?;
    Ok((provider, kind, fp))
}

/// Reads a shadow key's token back from a file where the last scan found it (the vault never
/// holds it), with the AWS access key id next to it for AWS secrets. `Err` says why it cannot
/// be read (moved, edited, only in git history).
pub fn recover_token(
    vault: &Vault,
    shadow_id: &str,
    fp: &Fingerprint,
) -> Result<(crate::Secret, Option<String>), Error> {
    use crate::scan::detect::{Detector, NEAR_LINES};
    let index = Index::new(&vault.fingerprint_key());
    let places = current_of(vault, "shadow_id", shadow_id)?;
    let detector = Detector::new();
    for e in places.iter().filter(|e| e.revision.is_none()) {
        // Read as the scan reads: checked on the open file, so a FIFO or a huge file swapped in
        // since cannot hang or exhaust this.
        let mut buf = zeroize::Zeroizing::new(Vec::new());
        let Ok(crate::scan::Content::Text) =
            crate::scan::read_file(&e.path, crate::scan::DEFAULT_MAX_FILE_SIZE, &mut buf)
        else {
            continue;
        };
        let mut found = Vec::new();
        detector.detect(&buf, &mut found);
        let Some(hit) = found.iter().find(|d| index.fingerprint(&buf[d.start..d.end]) == *fp) else { continue };
        let token = String::from_utf8_lossy(&buf[hit.start..hit.end]).into_owned();
        let line_of = |at: usize| memchr::memchr_iter(b'\n', &buf[..at]).count();
        let partner_kind = match keyward_connectors::providers::get(hit.provider).map(|p| &p.verify_found) {
            Some(keyward_connectors::providers::VerifyFound::Yes { partner, .. }) => *partner,
            _ => None,
        };
        let partner = partner_kind.and_then(|partner_kind| {
            found
                .iter()
                .filter(|d| d.kind == partner_kind && line_of(d.start).abs_diff(line_of(hit.start)) <= NEAR_LINES)
                .min_by_key(|d| d.start.abs_diff(hit.start))
                .map(|d| String::from_utf8_lossy(&buf[d.start..d.end]).into_owned())
        });
        return Ok((crate::Secret::new(token), partner));
    }
    Err(Error::Conflict(if places.iter().any(|e| e.revision.is_none()) {
        "the key is no longer where the last scan found it: scan again".to_owned()
    } else if places.is_empty() {
        "the key is not in any file the last scans found: scan again".to_owned()
    } else {
        "the key is only in git history: check it by hand".to_owned()
    }))
}

/// Records one liveness attempt: on the shadow key, and in the activity log.
pub fn record_verification(
    vault: &Vault,
    shadow_id: &str,
    provider: &str,
    outcome: &str,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let result = match detail {
        Some(d) => format!("{outcome}: {d}"),
        None => outcome.to_owned(),
    };
    vault.conn().execute(
        "UPDATE shadow_keys SET verified_at = ?1, verify_result = ?2 WHERE id = ?3",
        params![at, result, shadow_id],
    )?;
    let mut entry = crate::activity::Entry::new("verify", outcome).provider(provider).subject(shadow_id);
    if let Some(d) = detail {
        entry = entry.detail(d);
    }
    crate::activity::record_at(vault, entry, now);
    Ok(())
}

