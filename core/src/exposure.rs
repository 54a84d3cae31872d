//! What the scans found, kept in the vault: exposures (a key at a path and line), shadow keys
//! (found keys Keyward does not manage), and the index the next scan matches against.
//!
//! Why separate from [`crate::scan`]: the scan reads files and knows nothing of the vault; this
//! module turns its hits into lasting facts — an exposure is first seen, seen again, and gone
//! when a later scan of its path no longer finds it; a shadow key stays until the user links it
//! to an inventoried key or dismisses it. Exposures of inventoried keys are their consumer
//! locations, which rotation hands the new secret over to.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::audit::{ExposureFact, SHADOW_KEY};
use crate::connector;
use crate::inventory;
use crate::model::Resource;
use crate::scan::{Confidence, Fingerprint, Hit, Index, Options, Summary, Target};
use crate::store::exposures as store;
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
    for linked in store::linked_shadow_keys(vault.conn())? {
        let (Ok(fp), Some(k)) =
            (<Fingerprint>::try_from(linked.fingerprint.as_slice()), keys.iter().find(|k| k.id == linked.key_id))
        else {
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
    /// Hits left out because the user marked their token "not a key".
    pub not_keys: usize,
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
    let roots: Vec<String> = options.roots.iter().map(|r| r.display().to_string()).collect();
    let roots = serde_json::to_string(&roots).expect("paths serialize");
    let skipped = serde_json::json!({"binary": summary.binary, "too_large": summary.too_large,
        "symlinks_out": summary.symlinks_out, "special": summary.special})
    .to_string();
    let run = store::insert_scan_run(
        &tx,
        &store::NewScanRun {
            started_at: started,
            finished_at: now,
            roots: &roots,
            git_history: options.git_history,
            files: summary.progress.files as i64,
            bytes: summary.progress.bytes as i64,
            hits: hits.len() as i64,
            skipped: &skipped,
            errors: summary.error_count as i64,
            cancelled: summary.cancelled,
        },
    )?;
    let mut out = Recorded { run, ..Default::default() };
    // The exposures current before this scan, read once: a hit whose row is not among them is
    // new (first seen, or back after being gone); one of them not found again may be gone.
    let before = store::current_places(&tx)?;
    let current: std::collections::HashSet<i64> = before.iter().map(|p| p.id).collect();
    let mut found: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let not_keys = store::not_key_fingerprints(&tx)?;
    for h in hits {
        // A token the user said is not a key stays out, unless it is one Keyward holds.
        if h.inventory.is_none() && not_keys.contains(h.fingerprint.as_slice()) {
            out.not_keys += 1;
            continue;
        }
        let (mut key_id, connector, mut evidence, held_as) = match &h.inventory {
            Some((t, e)) => (t.key_id.clone(), t.connector.clone(), Some(e.as_str()), Some(t.label.clone())),
            None => (None, None, None, None),
        };
        let mut shadow_id = None;
        if h.inventory.is_none() {
            let id = match store::shadow_key_by_fingerprint(&tx, h.fingerprint.as_slice())? {
                Some(existing) => {
                    store::touch_shadow_key(&tx, &existing.id, now)?;
                    if existing.status == "linked" && existing.linked_key_id.is_some() {
                        key_id = existing.linked_key_id;
                        evidence = Some("linked");
                    }
                    existing.id
                }
                None => {
                    let id = uuid::Uuid::now_v7().to_string();
                    store::insert_shadow_key(
                        &tx,
                        &store::NewShadowKey {
                            id: &id,
                            fingerprint: h.fingerprint.as_slice(),
                            provider: &h.provider,
                            kind: &h.kind,
                            label: &h.label,
                            seen_at: now,
                        },
                    )?;
                    out.new_shadow += 1;
                    id
                }
            };
            shadow_id = Some(id);
        }
        let exposure_id = store::upsert_exposure(
            &tx,
            &store::NewExposure {
                fingerprint: h.fingerprint.as_slice(),
                path: &h.path,
                line: h.line,
                revision: h.revision.as_deref(),
                provider: &h.provider,
                kind: &h.kind,
                secret: h.secret,
                key_id: key_id.as_deref(),
                connector: connector.as_deref(),
                evidence,
                held_as: held_as.as_deref(),
                shadow_id: shadow_id.as_deref(),
                label: &h.label,
                excerpt: &h.excerpt,
                confidence: h.confidence.as_str(),
                seen_at: now,
            },
        )?;
        // The same place twice in one scan (two hits on one line) is counted once.
        if found.insert(exposure_id) && !current.contains(&exposure_id) {
            out.new += 1;
        }
        out.exposures.push(exposure_id);
    }
    if !summary.cancelled {
        for store::CurrentPlace { id, path, revision } in before {
            if found.contains(&id) {
                continue;
            }
            let read = if revision.is_none() { &summary.read } else { &summary.read_history };
            // A file deleted since holds nothing: gone, when it was under what this scan looked at.
            let deleted = revision.is_none()
                && options.roots.iter().any(|r| path.starts_with(r))
                && path.symlink_metadata().is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if read.contains(&path) || deleted {
                store::mark_gone(&tx, id, now)?;
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
    /// How sure the scan was that the token is a key.
    pub confidence: Confidence,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen_at: DateTime<Utc>,
    /// When a scan no longer found it.
    pub gone_at: Option<DateTime<Utc>>,
}

/// An exposure from its row; an instant that does not read (a vault edited by hand) is the epoch.
fn from_row(r: store::ExposureRow) -> Exposure {
    Exposure {
        id: r.id,
        path: r.path,
        line: r.line,
        revision: r.revision,
        provider: r.provider,
        kind: r.kind,
        secret: r.secret,
        key_id: r.key_id,
        connector: r.connector,
        evidence: r.evidence,
        held_as: r.held_as,
        shadow_id: r.shadow_id,
        label: r.label,
        excerpt: r.excerpt,
        confidence: Confidence::parse(&r.confidence),
        first_seen_at: r.first_seen_at.unwrap_or_default(),
        last_seen_at: r.last_seen_at.unwrap_or_default(),
        gone_at: r.gone_at_set.then(|| r.gone_at.unwrap_or_default()),
    }
}

/// The files of the current exposures: what a scan must say it read before any of them can be
/// marked gone ([`Options::watch`]).
pub fn watched(vault: &Vault) -> Result<std::collections::HashSet<PathBuf>, Error> {
    Ok(store::current_paths(vault.conn())?.into_iter().collect())
}

/// Stored exposures, newest first; only current ones unless `include_gone`.
pub fn list(vault: &Vault, include_gone: bool) -> Result<Vec<Exposure>, Error> {
    Ok(store::list(vault.conn(), include_gone)?.into_iter().map(from_row).collect())
}

/// The exposures with these ids, in the order given.
pub fn by_ids(vault: &Vault, ids: &[i64]) -> Result<Vec<Exposure>, Error> {
    ids.iter().map(|&id| Ok(from_row(store::by_id(vault.conn(), id)?))).collect()
}

/// Where an inventoried key is used: its current exposures.
pub fn consumers(vault: &Vault, key_id: &str) -> Result<Vec<Exposure>, Error> {
    Ok(store::current_of_key(vault.conn(), key_id)?.into_iter().map(from_row).collect())
}

/// A shadow key's current exposures, by place.
pub fn of_shadow_key(vault: &Vault, shadow_id: &str) -> Result<Vec<Exposure>, Error> {
    Ok(store::current_of_shadow_key(vault.conn(), shadow_id)?.into_iter().map(from_row).collect())
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
    /// The surest confidence of its current exposures (`None` without any).
    pub confidence: Option<Confidence>,
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
    // An instant that does not read (a vault edited by hand) is the epoch.
    Ok(store::shadow_keys(vault.conn(), id)?
        .into_iter()
        .map(|r| ShadowKey {
            id: r.id,
            provider: r.provider,
            kind: r.kind,
            label: r.label,
            status: r.status,
            linked_key_id: r.linked_key_id,
            first_seen_at: r.first_seen_at.unwrap_or_default(),
            last_seen_at: r.last_seen_at.unwrap_or_default(),
            exposures: r.exposures,
            first_place: r.first_place,
            confidence: r.confidence.as_deref().map(Confidence::parse),
            verified: match (r.verified_at_set, r.verify_result) {
                (true, Some(result)) => Some((r.verified_at.unwrap_or_default(), result)),
                _ => None,
            },
        })
        .collect())
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
    if !store::link_shadow_key(&tx, shadow_id, &key.id)? {
        return Err(Error::NotFound { what: "shadow key", id: shadow_id.to_owned() });
    }
    store::link_exposures(&tx, shadow_id, &key.id, &format!("key {} (linked)", key.name))?;
    tx.commit()?;
    Ok(())
}

/// Dismisses a shadow key (not a key to manage: a test fixture, someone else's); it raises no
/// finding any more, and its exposures stay listed.
pub fn dismiss(vault: &Vault, shadow_id: &str) -> Result<(), Error> {
    if !store::dismiss_shadow_key(vault.conn(), shadow_id)? {
        return Err(Error::NotFound { what: "shadow key", id: shadow_id.to_owned() });
    }
    Ok(())
}

/// A found token the user said is not a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotKey {
    /// Its id on the list.
    pub id: i64,
    /// The provider its shape suggested.
    pub provider: String,
    /// The kind its shape suggested.
    pub kind: String,
    /// Redacted token.
    pub label: String,
    /// Where it was when marked (`path:line`).
    pub place: Option<String>,
    /// When it was marked.
    pub marked_at: DateTime<Utc>,
}

/// Marks a shadow key's token "not a key" (a hash, an id, a fixture that only looks like one):
/// the shadow key and its places are removed, and later scans leave the token out wherever
/// they find it. Its keyed fingerprint is what is kept, never the token.
pub fn mark_not_a_key(vault: &mut Vault, shadow_id: &str, now: DateTime<Utc>) -> Result<(), Error> {
    let tx = vault.write()?;
    match store::mark_not_a_key(&tx, shadow_id, now)? {
        store::NotAKey::Marked => {}
        store::NotAKey::Missing => return Err(Error::NotFound { what: "shadow key", id: shadow_id.to_owned() }),
        store::NotAKey::Linked => {
            return Err(Error::Conflict(format!(
                "shadow key {shadow_id} is linked to an inventoried key: its places are that key's consumers, so it is a key"
            )));
        }
    }
    tx.commit()?;
    Ok(())
}

/// The tokens marked not a key, newest first.
pub fn not_keys(vault: &Vault) -> Result<Vec<NotKey>, Error> {
    Ok(store::not_keys(vault.conn())?
        .into_iter()
        .map(|r| NotKey {
            id: r.id,
            provider: r.provider,
            kind: r.kind,
            label: r.label,
            place: r.place,
            marked_at: r.marked_at.unwrap_or_default(),
        })
        .collect())
}

/// Takes a token off the not-a-key list: the next scan that finds it reports it again.
pub fn unmark_not_a_key(vault: &Vault, id: i64) -> Result<(), Error> {
    if !store::unmark_not_a_key(vault.conn(), id)? {
        return Err(Error::NotFound { what: "not-a-key entry", id: id.to_string() });
    }
    Ok(())
}

/// What the audit judges of the scans: current exposures of held or listed secrets, and
/// unmanaged shadow keys with current exposures (as resources of kind [`SHADOW_KEY`]).
pub fn audit_facts(vault: &Vault) -> Result<(Vec<ExposureFact>, Vec<Resource>), Error> {
    let facts = store::held_secret_places(vault.conn())?
        .into_iter()
        .map(|p| ExposureFact {
            key_id: p.key_id,
            connector: p.connector,
            place: match p.revision {
                None => format!("{}:{}", p.path, p.line),
                Some(rev) => format!("{}:{}@{}", p.path, p.line, &rev[..rev.len().min(12)]),
            },
        })
        .collect();
    // An unknown access key id alone is not a secret; its secret next to it is the finding.
    let secret_shadows: std::collections::HashSet<String> =
        store::shadow_keys_with_current_secret(vault.conn())?.into_iter().collect();
    let shadows = shadow_keys(vault)?
        .into_iter()
        // A guess (low confidence everywhere it was found) is shown, not alerted on: the user
        // confirms it by linking it, or marks it not a key.
        .filter(|s| {
            s.status == "unmanaged"
                && s.exposures > 0
                && secret_shadows.contains(&s.id)
                && s.confidence.is_some_and(|c| c != Confidence::Low)
        })
        .map(|s| Resource {
            provider: s.provider,
            account: "scan".into(),
            kind: SHADOW_KEY.into(),
            external_id: s.id,
            name: s.label,
            region: None,
            details: serde_json::json!({"kind": s.kind, "exposures": s.exposures, "first_place": s.first_place,
                "confidence": s.confidence.map(Confidence::as_str)}),
        })
        .collect();
    Ok((facts, shadows))
}

/// A shadow key's stored facts needed to check it: provider, kind, fingerprint.
pub fn shadow_key(vault: &Vault, id: &str) -> Result<(String, String, Fingerprint), Error> {
    let store::ShadowKeyFacts { provider, kind, fingerprint } = store::shadow_key_facts(vault.conn(), id)?
        .ok_or_else(|| Error::NotFound { what: "shadow key", id: id.to_owned() })?;
    let fp = Fingerprint::try_from(fingerprint.as_slice())
        .map_err(|_| Error::Unreadable { what: format!("shadow key {id}") })?;
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
    let places = of_shadow_key(vault, shadow_id)?;
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
        // As the scan read it: a file named for a provider is that provider's context.
        detector.detect_named(&buf, e.path.file_name().and_then(|n| n.to_str()), &mut found);
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
    let result = match detail {
        Some(d) => format!("{outcome}: {d}"),
        None => outcome.to_owned(),
    };
    store::set_verification(vault.conn(), shadow_id, now, &result)?;
    let mut entry = crate::activity::Entry::new("verify", outcome).provider(provider).subject(shadow_id);
    if let Some(d) = detail {
        entry = entry.detail(d);
    }
    crate::activity::record_at(vault, entry, now);
    Ok(())
}

