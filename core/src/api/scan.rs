//! The exposure sweep as user actions: scan (files, bytes and hits as it goes), the scan's
//! folders and excludes, exposures, shadow keys (link, dismiss) and a key's consumer locations.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::Home;
use crate::exposure::{self, Exposure, ShadowKey};
pub use crate::scan::Confidence;
use crate::scan::{self, Detector, Options, Progress};
use crate::vault::Vault;
use crate::{Error, time};

/// Where a user's keys usually sit, relative to their home folder: credentials files, shell
/// histories, tool configs. `.config` is scanned whole.
pub const DEFAULT_LOCATIONS: &[&str] = &[
    ".aws/credentials",
    ".aws/config",
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".histfile",
    ".sh_history",
    ".local/share/fish/fish_history",
    ".config",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".docker/config.json",
    ".kube/config",
];

/// The scan's settings, kept in the vault.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ScanSettings {
    /// Project folders scanned besides the default locations (every text file in them,
    /// `.env*` files included).
    #[serde(default)]
    pub folders: Vec<PathBuf>,
    /// `.gitignore`-style patterns left out of every scan.
    #[serde(default)]
    pub excludes: Vec<String>,
    /// Whether the scheduled scan reads git history too.
    #[serde(default)]
    pub git_history: bool,
    /// Providers the user allows Keyward to send found keys to, to check whether they work.
    #[serde(default)]
    pub verify: Vec<String>,
}

const SETTINGS_KEY: &str = "scan";

/// Providers whose found keys Keyward can check (with the user's consent), by name: those whose
/// registry entry has a liveness check.
pub fn verifiable() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = keyward_connectors::providers::REGISTRY
        .iter()
        .filter(|p| matches!(p.verify_found, keyward_connectors::providers::VerifyFound::Yes { .. }))
        .map(|p| p.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// The scan's settings.
pub fn scan_settings(vault: &Vault) -> Result<ScanSettings, Error> {
    crate::settings::get(vault, SETTINGS_KEY)
}

/// Saves the scan's settings: folders must exist (stored absolute), patterns must parse.
pub fn save_scan_settings(vault: &Vault, mut settings: ScanSettings) -> Result<ScanSettings, Error> {
    for f in &mut settings.folders {
        *f = std::fs::canonicalize(&*f)
            .map_err(|e| Error::Invalid { field: "folder", reason: format!("{}: {e}", f.display()) })?;
    }
    settings.folders.sort();
    settings.folders.dedup();
    scan::check_excludes(&settings.excludes).map_err(|reason| Error::Invalid { field: "exclude", reason })?;
    // The same pattern twice is one pattern (order kept: it is the user's).
    let mut seen = std::collections::HashSet::new();
    settings.excludes.retain(|e| seen.insert(e.clone()));
    let verifiable = verifiable();
    for p in &settings.verify {
        if !verifiable.contains(&p.as_str()) {
            return Err(Error::Invalid {
                field: "verify",
                reason: format!("{p:?}: found keys can be checked for {} only", verifiable.join(", ")),
            });
        }
    }
    settings.verify.sort();
    settings.verify.dedup();
    let before = scan_settings(vault)?;
    crate::settings::set(vault, SETTINGS_KEY, &settings)?;
    let changes = settings_changes(&before, &settings);
    if !changes.is_empty() {
        crate::activity::record(vault, crate::activity::Entry::new("settings.scan", "ok").detail(changes.join("; ")));
    }
    Ok(settings)
}

/// What changed between two scan settings, in words (for the activity log).
fn settings_changes(before: &ScanSettings, after: &ScanSettings) -> Vec<String> {
    use crate::settings::list_changes;
    let mut out = Vec::new();
    list_changes("folders", &before.folders, &after.folders, &mut out);
    list_changes("excludes", &before.excludes, &after.excludes, &mut out);
    list_changes("check consent", &before.verify, &after.verify, &mut out);
    if before.git_history != after.git_history {
        out.push(format!("git history {}", if after.git_history { "on" } else { "off" }));
    }
    out
}

/// What to scan now.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// Paths to scan; empty = the default locations and the configured folders.
    pub paths: Vec<PathBuf>,
    /// Read git history too (besides what the settings say).
    pub git_history: bool,
    /// Patterns to leave out, besides the configured ones.
    pub excludes: Vec<String>,
    /// Skip files larger than this (default [`scan::DEFAULT_MAX_FILE_SIZE`]).
    pub max_file_size: Option<u64>,
}

/// A finished scan.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ScanView {
    /// The run's id.
    pub run: i64,
    /// What was scanned.
    pub roots: Vec<String>,
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Every hit, as the exposure it is stored as.
    pub hits: Vec<ExposureView>,
    /// Exposures new since the last scan.
    pub new: usize,
    /// Exposures no longer found.
    pub gone: usize,
    /// Unknown keys seen for the first time.
    pub new_shadow_keys: usize,
    /// Hits left out because their token was marked "not a key".
    pub not_keys: usize,
    /// Files skipped as binary.
    pub binary: u64,
    /// Files skipped as too large.
    pub too_large: u64,
    /// Symlinks leading out of the roots, not followed.
    pub symlinks_out: u64,
    /// FIFOs, sockets and devices, skipped.
    pub special: u64,
    /// Files that could not be read and why (the first 100).
    pub errors: Vec<(String, String)>,
    /// How many could not be read.
    pub error_count: u64,
    /// Paths asked for that do not exist.
    pub missing: Vec<String>,
    /// Repositories whose history was read.
    pub repositories: Vec<String>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
}

/// The roots of a scan: the paths asked for, or the default locations under the user's home
/// folder and the configured project folders.
pub fn scan_roots(vault: &Vault, paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    if !paths.is_empty() {
        return paths
            .iter()
            .map(|p| {
                std::fs::canonicalize(p)
                    .map_err(|e| Error::Invalid { field: "path", reason: format!("{}: {e}", p.display()) })
            })
            .collect();
    }
    let mut roots: Vec<PathBuf> = match dirs::home_dir() {
        Some(h) => DEFAULT_LOCATIONS.iter().map(|l| h.join(l)).filter(|p| p.exists()).collect(),
        None => Vec::new(),
    };
    roots.extend(scan_settings(vault)?.folders);
    Ok(roots)
}

/// Scans and records: every hit becomes an exposure (a consumer location of an inventoried
/// key, or of a new shadow key), and what the scanned roots no longer hold is marked gone.
/// Blocking; `progress` is called a few times a second.
pub fn scan(
    home: &Home,
    vault: &mut Vault,
    request: &ScanRequest,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ScanView, Error> {
    let (options, index) = prepare(home, vault, request)?;
    let started = Utc::now();
    let (hits, summary) = scan::scan(&options, &Detector::new(), &index, progress, cancel);
    finish(vault, &options, &hits, &summary, started)
}

/// The options and the index of a scan (the index needs the vault; the scan itself does not).
fn prepare(home: &Home, vault: &Vault, request: &ScanRequest) -> Result<(Options, scan::Index), Error> {
    let settings = scan_settings(vault)?;
    let mut excludes = settings.excludes.clone();
    excludes.extend(request.excludes.iter().cloned());
    scan::check_excludes(&excludes).map_err(|reason| Error::Invalid { field: "exclude", reason })?;
    let mut options = Options::new(scan_roots(vault, &request.paths)?);
    options.excludes = excludes;
    // The home (vault, log) is never scanned, unless asked for (the demo project lives there).
    let home_dir = std::fs::canonicalize(home.dir()).unwrap_or_else(|_| home.dir().to_owned());
    if !options.roots.iter().any(|r| r.starts_with(&home_dir)) {
        options.skip_dirs = vec![home_dir];
    }
    options.git_history = request.git_history || (request.paths.is_empty() && settings.git_history);
    if let Some(max) = request.max_file_size {
        options.max_file_size = max;
    }
    options.watch = exposure::watched(vault)?;
    let index = exposure::index(vault)?;
    tracing::info!(
        roots = options.roots.len(),
        held = index.secrets(),
        git_history = options.git_history,
        "scan started"
    );
    Ok((options, index))
}

/// Records a finished (or cancelled) scan and makes its view.
fn finish(
    vault: &mut Vault,
    options: &Options,
    hits: &[scan::Hit],
    summary: &scan::Summary,
    started: chrono::DateTime<Utc>,
) -> Result<ScanView, Error> {
    let recording = std::time::Instant::now();
    let recorded = exposure::record(vault, options, hits, summary, started, Utc::now())?;
    tracing::info!(
        files = summary.progress.files,
        bytes = summary.progress.bytes,
        hits = hits.len(),
        scan_ms = summary.elapsed.as_millis() as u64,
        record_ms = recording.elapsed().as_millis() as u64,
        new = recorded.new,
        gone = recorded.gone,
        errors = summary.error_count,
        cancelled = summary.cancelled,
        "scan recorded"
    );
    crate::activity::record(
        vault,
        crate::activity::Entry::new("scan", if summary.cancelled { "cancelled" } else { "ok" }).detail(format!(
            "{} roots, {} files, {} hits ({} new, {} gone){}",
            options.roots.len(),
            summary.progress.files,
            hits.len(),
            recorded.new,
            recorded.gone,
            if options.git_history { ", with git history" } else { "" }
        )),
    );
    let shown = |p: &Path| p.display().to_string();
    Ok(ScanView {
        run: recorded.run,
        roots: options.roots.iter().map(|r| shown(r)).collect(),
        files: summary.progress.files,
        bytes: summary.progress.bytes,
        hits: exposure::by_ids(vault, &recorded.exposures)?.into_iter().map(Into::into).collect(),
        new: recorded.new,
        gone: recorded.gone,
        new_shadow_keys: recorded.new_shadow,
        not_keys: recorded.not_keys,
        binary: summary.binary,
        too_large: summary.too_large,
        symlinks_out: summary.symlinks_out,
        special: summary.special,
        errors: summary.errors.iter().map(|(p, e)| (shown(p), e.clone())).collect(),
        error_count: summary.error_count,
        missing: summary.missing_roots.iter().map(|p| shown(p)).collect(),
        repositories: summary.repositories.iter().map(|p| shown(p)).collect(),
        elapsed_ms: summary.elapsed.as_millis() as u64,
        cancelled: summary.cancelled,
    })
}

/// The scheduled scan: the default locations and configured folders, then the audit (which
/// notifies of new exposures). Returns a one-line summary.
pub async fn scan_and_notify(
    home: &Home,
    vault: &mut Vault,
    desktop: Option<super::DesktopNotifier<'_>>,
    retry: crate::notify::Retry,
) -> Result<String, Error> {
    // The walk runs on a blocking thread; if the scheduler drops this future (cancellation
    // after its grace period), the guard raises the flag and the walk stops at its next file.
    struct CancelOnDrop(std::sync::Arc<AtomicBool>);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let (options, index) = prepare(home, vault, &ScanRequest::default())?;
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let started = Utc::now();
    let (options, hits, summary) = tokio::task::spawn_blocking(move || {
        let (hits, summary) = scan::scan(&options, &Detector::new(), &index, &|_| {}, &cancel);
        (options, hits, summary)
    })
    .await
    .map_err(|e| Error::Conflict(format!("the scan stopped: {e}")))?;
    let view = finish(vault, &options, &hits, &summary, started)?;
    let audit = super::audit_and_notify(home, vault, Utc::now(), desktop, retry).await?;
    Ok(format!(
        "scanned {} files ({} MiB): {} hits, {} new, {} gone; audit: {audit}",
        view.files,
        view.bytes / (1024 * 1024),
        view.hits.len(),
        view.new,
        view.gone
    ))
}

/// A stored exposure.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ExposureView {
    /// Row id.
    pub id: i64,
    /// File, as text (a name that is not UTF-8 shows U+FFFD here; see `path_hex`).
    pub path: String,
    /// The file's name as bytes, in hex, when it is not UTF-8: the name itself, recoverable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// 1-based line.
    pub line: u64,
    /// Commit, for history.
    pub revision: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Kind.
    pub kind: String,
    /// Whether it is a secret.
    pub secret: bool,
    /// The inventoried key it is; `null` for unknown keys.
    pub inventory_key_id: Option<String>,
    /// The connector whose own credential it is.
    pub connector: Option<String>,
    /// How it was matched: `secret` (its keyed hash), `id`, `last4`, `linked`.
    pub evidence: Option<String>,
    /// Where Keyward holds it, when it does (a key, a connector's credential).
    pub held_as: Option<String>,
    /// The shadow key, for keys Keyward does not manage.
    pub shadow_key_id: Option<String>,
    /// The token, redacted: its format prefix and last four characters at most.
    pub redacted: String,
    /// The line around it, every key on it redacted.
    pub excerpt: String,
    /// How sure the scan was that the token is a key: `high` (its own format, or a secret
    /// Keyward holds), `medium` (a provider's shape in a field named for it), `low` (a guess).
    pub confidence: Confidence,
    /// First seen.
    pub first_seen_at: String,
    /// Last seen.
    pub last_seen_at: String,
    /// When a scan no longer found it.
    pub gone_at: Option<String>,
}

impl From<Exposure> for ExposureView {
    fn from(e: Exposure) -> Self {
        Self {
            id: e.id,
            path: e.path.display().to_string(),
            path_hex: e.path.to_str().is_none().then(|| {
                use std::os::unix::ffi::OsStrExt as _;
                e.path.as_os_str().as_bytes().iter().map(|b| format!("{b:02x}")).collect()
            }),
            line: e.line,
            revision: e.revision,
            provider: e.provider,
            kind: e.kind,
            secret: e.secret,
            inventory_key_id: e.key_id,
            connector: e.connector,
            evidence: e.evidence,
            held_as: e.held_as,
            shadow_key_id: e.shadow_id,
            redacted: e.label,
            excerpt: e.excerpt,
            confidence: e.confidence,
            first_seen_at: time::to_string(e.first_seen_at),
            last_seen_at: time::to_string(e.last_seen_at),
            gone_at: e.gone_at.map(time::to_string),
        }
    }
}

/// Stored exposures (current ones unless `include_gone`).
pub fn list_exposures(vault: &Vault, include_gone: bool) -> Result<Vec<ExposureView>, Error> {
    Ok(exposure::list(vault, include_gone)?.into_iter().map(Into::into).collect())
}

/// Where a key is used: its current exposures (what rotation hands the new secret to).
pub fn key_consumers(vault: &Vault, key_id: &str) -> Result<Vec<ExposureView>, Error> {
    crate::inventory::get(vault, key_id)?;
    Ok(exposure::consumers(vault, key_id)?.into_iter().map(Into::into).collect())
}

/// A key found in files that Keyward does not manage.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ShadowKeyView {
    /// Keyward's id.
    pub id: String,
    /// Provider id.
    pub provider: String,
    /// Kind.
    pub kind: String,
    /// Redacted token.
    pub redacted: String,
    /// `unmanaged`, `linked` or `dismissed`.
    #[cfg_attr(feature = "bindings", ts(type = "\"unmanaged\" | \"linked\" | \"dismissed\""))]
    pub status: String,
    /// Always false: it is not synced from a connector.
    pub managed: bool,
    /// The key it was linked to.
    pub linked_key_id: Option<String>,
    /// Current exposures.
    pub exposures: u64,
    /// Where it was first found (`path:line`).
    pub first_place: Option<String>,
    /// The surest confidence of its current places; `low` ones are guesses and raise no
    /// finding until linked. `null` when it has no current place.
    pub confidence: Option<Confidence>,
    /// How it can be checked with its provider, or why it cannot.
    pub check: String,
    /// Whether a check can be made (the provider has a harmless read for it).
    pub checkable: bool,
    /// When it was last checked.
    pub verified_at: Option<String>,
    /// What the check said: `live`, `live: <who>`, `rejected`, `error: <why>`.
    pub verify_result: Option<String>,
    /// First seen.
    pub first_seen_at: String,
    /// Last seen.
    pub last_seen_at: String,
}

impl From<ShadowKey> for ShadowKeyView {
    fn from(s: ShadowKey) -> Self {
        let check = keyward_connectors::liveness::probe_for(&s.provider, &s.kind);
        Self {
            checkable: check.is_ok(),
            check: check.map(str::to_owned).unwrap_or_else(|e| e),
            verified_at: s.verified.as_ref().map(|v| time::to_string(v.0)),
            verify_result: s.verified.map(|v| v.1),
            id: s.id,
            provider: s.provider,
            kind: s.kind,
            redacted: s.label,
            status: s.status,
            managed: false,
            linked_key_id: s.linked_key_id,
            exposures: s.exposures,
            first_place: s.first_place,
            confidence: s.confidence,
            first_seen_at: time::to_string(s.first_seen_at),
            last_seen_at: time::to_string(s.last_seen_at),
        }
    }
}

/// Every shadow key.
pub fn list_shadow_keys(vault: &Vault) -> Result<Vec<ShadowKeyView>, Error> {
    Ok(exposure::shadow_keys(vault)?.into_iter().map(Into::into).collect())
}

/// Links a shadow key to an inventoried key.
pub fn link_shadow_key(vault: &mut Vault, shadow_id: &str, key_id: &str) -> Result<(), Error> {
    exposure::link(vault, shadow_id, key_id)?;
    crate::activity::record(
        vault,
        crate::activity::Entry::new("shadow.link", "ok").subject(shadow_id).detail(format!("to key {key_id}")),
    );
    Ok(())
}

/// Dismisses a shadow key.
pub fn dismiss_shadow_key(vault: &Vault, shadow_id: &str) -> Result<(), Error> {
    exposure::dismiss(vault, shadow_id)?;
    crate::activity::record(vault, crate::activity::Entry::new("shadow.dismiss", "ok").subject(shadow_id));
    Ok(())
}

/// A found token the user said is not a key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct NotKeyView {
    /// Its id on the list (for `unmark_not_a_key`).
    pub id: i64,
    /// The provider its shape suggested.
    pub provider: String,
    /// The kind its shape suggested.
    pub kind: String,
    /// Redacted token.
    pub redacted: String,
    /// Where it was when marked (`path:line`).
    pub place: Option<String>,
    /// When it was marked.
    pub marked_at: String,
}

/// Marks a shadow key's token "not a key": it and its places are removed, and later scans
/// leave the token out (by its keyed fingerprint) wherever they find it.
pub fn mark_not_a_key(vault: &mut Vault, shadow_id: &str) -> Result<(), Error> {
    let shadow = exposure::shadow_key_view(vault, shadow_id)?;
    exposure::mark_not_a_key(vault, shadow_id, Utc::now())?;
    crate::activity::record(
        vault,
        crate::activity::Entry::new("shadow.not_a_key", "ok")
            .provider(&shadow.provider)
            .subject(shadow_id)
            .detail(format!("{} {} {}", shadow.provider, shadow.kind, shadow.label)),
    );
    Ok(())
}

/// The tokens marked not a key, newest first.
pub fn list_not_keys(vault: &Vault) -> Result<Vec<NotKeyView>, Error> {
    Ok(exposure::not_keys(vault)?
        .into_iter()
        .map(|n| NotKeyView {
            id: n.id,
            provider: n.provider,
            kind: n.kind,
            redacted: n.label,
            place: n.place,
            marked_at: time::to_string(n.marked_at),
        })
        .collect())
}

/// Takes a token off the not-a-key list: the next scan that finds it reports it again.
pub fn unmark_not_a_key(vault: &Vault, id: i64) -> Result<(), Error> {
    exposure::unmark_not_a_key(vault, id)?;
    crate::activity::record(vault, crate::activity::Entry::new("shadow.is_a_key", "ok").subject(id.to_string()));
    Ok(())
}

/// Liveness checks reach a provider at most once per this interval.
pub const VERIFY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// At most this many checks per `verify_shadow_keys` run.
pub const VERIFY_MAX_PER_RUN: usize = 50;

/// Provider id → the URL to send liveness checks to instead of the provider's public one.
pub type Endpoints = std::collections::BTreeMap<String, String>;

/// Checks whether a found key works by one harmless read at its provider, only if the user
/// allowed sending that provider's keys (`ScanSettings::verify`); at most one request per
/// provider per [`VERIFY_INTERVAL`]; every attempt is written to the activity log. The token is
/// read back from the file where the scan found it and never stored.
pub async fn verify_shadow_key(vault: &mut Vault, id: &str, endpoints: &Endpoints) -> Result<ShadowKeyView, Error> {
    let (provider, kind, fp) = exposure::shadow_key(vault, id)?;
    keyward_connectors::liveness::probe_for(&provider, &kind).map_err(Error::Unsupported)?;
    if !scan_settings(vault)?.verify.contains(&provider) {
        return Err(Error::ConsentRequired { provider });
    }
    let (token, partner) = exposure::recover_token(vault, id, &fp)?;
    pace(vault, &provider).await?;
    let endpoint = endpoints.get(&provider).map(String::as_str);
    let outcome =
        keyward_connectors::liveness::probe(&provider, &kind, token.expose(), partner.as_deref(), endpoint).await;
    drop(token);
    let (result, detail) = match &outcome {
        Ok(keyward_connectors::liveness::Liveness::Live(who)) => ("live", who.clone()),
        Ok(keyward_connectors::liveness::Liveness::Rejected) => ("rejected", None),
        Err(e) => ("error", Some(e.to_string())),
    };
    tracing::info!(provider = %provider, shadow = %id, result, "found key checked");
    exposure::record_verification(vault, id, &provider, result, detail.as_deref(), Utc::now())?;
    Ok(exposure::shadow_key_view(vault, id)?.into())
}

/// Waits for this provider's turn: a lease on `verify:<provider>` for [`VERIFY_INTERVAL`], taken
/// in the vault, so checks running side by side — two windows' clicks, the CLI beside the app —
/// still reach a provider at most once per interval. It is left to expire, never released.
async fn pace(vault: &mut Vault, provider: &str) -> Result<(), Error> {
    // A queue of checks moves one a second; a turn held far longer is a vault edited to stall.
    pace_within(vault, provider, std::time::Duration::from_secs(60)).await
}

/// [`pace`], giving up (naming the holder) when no turn comes within `patience`.
async fn pace_within(vault: &mut Vault, provider: &str, patience: std::time::Duration) -> Result<(), Error> {
    // A turn is a second of the provider's time, not the process's: it lasts when the CLI exits.
    let holder = crate::lease::Holder::this_process("a found-key check");
    let name = format!("verify:{provider}");
    let give_up = Utc::now() + chrono::Duration::from_std(patience).unwrap_or(chrono::Duration::seconds(60));
    while let Some(held) = crate::lease::acquire(vault, &name, &holder, VERIFY_INTERVAL, Utc::now())? {
        if Utc::now() > give_up {
            return Err(Error::Conflict(format!(
                "checks of found {provider} keys are held by {} until {}; try again later",
                held.holder.replace(|c: char| c.is_control(), " "),
                crate::time::to_string(held.until)
            )));
        }
        let wait = (held.until - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait.clamp(std::time::Duration::from_millis(10), VERIFY_INTERVAL * 2)).await;
    }
    Ok(())
}

/// Checks every unmanaged, never-checked shadow key of the providers the user allowed (up to
/// [`VERIFY_MAX_PER_RUN`]); returns each key's outcome.
pub async fn verify_shadow_keys(
    vault: &mut Vault,
    endpoints: &Endpoints,
) -> Result<Vec<(String, Result<ShadowKeyView, Error>)>, Error> {
    let allowed = scan_settings(vault)?.verify;
    let due: Vec<ShadowKeyView> = list_shadow_keys(vault)?
        .into_iter()
        .filter(|s| s.status == "unmanaged" && s.verified_at.is_none() && s.checkable && allowed.contains(&s.provider))
        .take(VERIFY_MAX_PER_RUN)
        .collect();
    let mut out = Vec::new();
    for s in due {
        let r = verify_shadow_key(vault, &s.id, endpoints).await;
        out.push((s.id, r));
    }
    Ok(out)
}

/// The activity log, newest first (only `action`'s entries when given).
pub fn activity(vault: &Vault, action: Option<&str>) -> Result<Vec<crate::activity::Activity>, Error> {
    crate::activity::list(vault, action)
}

/// Checks the activity log's chain (see [`crate::activity::verify`]).
pub fn verify_activity(vault: &Vault) -> Result<crate::activity::LogCheck, Error> {
    crate::activity::verify(vault)
}

#[cfg(test)]
mod pacing_tests {
    use super::*;
    use crate::crypto::KdfParams;

    /// Two checks of one provider side by side (the app's detached handles, the CLI beside the
    /// app) take turns a second apart; another provider is not held up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_side_by_side_take_turns_a_second_apart() {
        let dir = tempfile::tempdir().unwrap();
        let fast = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let v = Vault::create_with(&dir.path().join("vault.db"), Some(&crate::Secret::new("pw".into())), fast).unwrap();
        let (mut a, mut b, mut c) = (v.try_clone().unwrap(), v.try_clone().unwrap(), v.try_clone().unwrap());
        let t0 = std::time::Instant::now();
        let (ta, tb, tc) = tokio::join!(
            async {
                pace(&mut a, "datadog").await.unwrap();
                t0.elapsed()
            },
            async {
                pace(&mut b, "datadog").await.unwrap();
                t0.elapsed()
            },
            async {
                pace(&mut c, "fastly").await.unwrap();
                t0.elapsed()
            },
        );
        let apart = ta.max(tb) - ta.min(tb);
        assert!(apart >= std::time::Duration::from_millis(900), "{ta:?} {tb:?}");
        assert!(tc < std::time::Duration::from_millis(900), "another provider waits for nobody: {tc:?}");
    }

    /// A turn held far longer than checks take (a vault edited to stall them, or a stuck
    /// process) is given up, naming who holds it, instead of waiting for ever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_turn_held_far_too_long_is_given_up_naming_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let fast = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let mut v =
            Vault::create_with(&dir.path().join("vault.db"), Some(&crate::Secret::new("pw".into())), fast).unwrap();
        let stuck = crate::lease::Holder::this_process("a stuck check");
        let hour = std::time::Duration::from_secs(3600);
        assert!(crate::lease::acquire(&mut v, "verify:datadog", &stuck, hour, Utc::now()).unwrap().is_none());
        let t0 = std::time::Instant::now();
        let err = pace_within(&mut v, "datadog", std::time::Duration::from_millis(1500)).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains(stuck.name()), "{err}");
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "{:?}", t0.elapsed());
        // Another provider's checks go on.
        pace_within(&mut v, "fastly", std::time::Duration::from_millis(1500)).await.unwrap();
    }
}
