//! The one surface the CLI and the desktop app call. Each function is a whole user action
//! (open the vault, add a key, sync, audit) and returns DTOs: these `Serialize` types are the
//! only shapes that reach JSON output or the webview, and none of them can hold a secret.

mod desktop;
pub mod jobs;
mod notifications;
mod rotation;
mod scan;
mod session;
mod table;
mod views;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Secret;
use crate::activity::{self, Entry};
use crate::audit::{self, AuditContext, Snapshot};
use crate::connector::{self, Connector};
use crate::exposure;
use crate::findings::{self, Change};
pub use crate::findings::{FindingEvent, FindingView, RiskPart, State as FindingState};
use crate::inventory;
use crate::model::{Account, ApiKey, Resource};
use crate::sync;
use crate::{Error, policy, time};

pub use desktop::*;
pub use notifications::*;
pub use rotation::*;
pub use scan::*;
pub use session::Session;
pub use table::*;
pub use views::*;

// The types the front ends hold, from the modules behind this one.
pub use crate::activity::{Activity, LogCheck};
pub use crate::audit::practice::{Filter as PracticeFilter, PracticeSummary, Tally};
pub use crate::connector::{ConnectorSettings, Credentials};
pub use crate::inventory::NewKey;
pub use crate::report::Format as ReportFormat;
pub use crate::scan::Progress as ScanProgress;
pub use crate::sync::{SyncProgress, SyncReport};
pub use crate::time::parse as parse_time;
pub use crate::vault::{Vault, VaultError, files};

/// A Keyward home: the folder that holds the vault.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    /// A home at `dir` (not created until `init`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The home the CLI and the desktop use when none is given: `<OS data dir>/keyward`.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("keyward"))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The vault file.
    pub fn vault_path(&self) -> PathBuf {
        self.dir.join("vault.db")
    }

    /// Whether a vault exists here.
    pub fn is_initialized(&self) -> bool {
        self.vault_path().exists()
    }
}

/// The credential fields a provider's connector reads, each with its environment variable and
/// label, every alternative set in turn (from the provider registry).
pub fn credential_fields(provider: &str) -> Vec<&'static keyward_connectors::providers::Credential> {
    keyward_connectors::providers::get(provider)
        .map(|p| p.credentials.iter().flat_map(|set| set.iter()).collect())
        .unwrap_or_default()
}

/// A provider as the UI shows it: from its registry entry, so no list of providers is copied
/// into the UI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ProviderView {
    /// The stored id (`datadog`).
    pub id: &'static str,
    /// What users read (`Datadog`).
    pub name: &'static str,
    /// Whether a connector lists its keys; when not, why (its keys are registered by hand).
    pub connectable: bool,
    /// Why it has no connector, when it has none.
    pub not_connectable_why: Option<&'static str>,
    /// The harmless read that checks a key of it found on disk, when there is one.
    pub verify_found: Option<&'static str>,
    /// The credential fields a connector needs: alternatives, each a set of fields.
    pub credentials: Vec<Vec<CredentialFieldView>>,
    /// The settings a connector reads.
    pub settings: Vec<SettingView>,
    /// What its connector reads, with which calls (the permissions it needs, and why).
    pub reads: Option<&'static str>,
    /// What a rotation does there (create, disable, delete), or why it cannot.
    pub rotation: Vec<String>,
}

/// One credential field of a provider's connector.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct CredentialFieldView {
    /// The field's name (`api_key`).
    pub field: &'static str,
    /// What users read ("API key").
    pub label: &'static str,
    /// The environment variable the CLI reads it from.
    pub env: &'static str,
}

/// One setting of a provider's connector.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct SettingView {
    /// Its key in the stored settings (`site`).
    pub key: &'static str,
    /// The CLI flag (`--site`).
    pub flag: &'static str,
    /// What it means for this provider.
    pub help: &'static str,
    /// What kind of value it holds: `text`, `list`, `numbers` or `flag` (the form's field).
    #[cfg_attr(feature = "bindings", ts(type = "\"text\" | \"list\" | \"numbers\" | \"flag\""))]
    pub kind: &'static str,
}

/// Every provider Keyward knows, in the order users see.
pub fn providers() -> Vec<ProviderView> {
    use keyward_connectors::providers::{REGISTRY, Support, VerifyFound};
    REGISTRY
        .iter()
        .map(|p| ProviderView {
            id: p.id,
            name: p.name,
            connectable: p.connect.is_some(),
            not_connectable_why: match p.inventory {
                Support::No(why) => Some(why),
                Support::Yes(_) => None,
            },
            verify_found: match &p.verify_found {
                VerifyFound::Yes { call, .. } => Some(call),
                VerifyFound::No(_) => None,
            },
            credentials: p
                .credentials
                .iter()
                .map(|set| {
                    set.iter().map(|c| CredentialFieldView { field: c.field, label: c.label, env: c.env }).collect()
                })
                .collect(),
            settings: p
                .settings
                .iter()
                .map(|s| SettingView { key: s.key, flag: s.flag, help: s.help, kind: s.kind.name() })
                .collect(),
            reads: match p.inventory {
                Support::Yes(calls) => Some(calls),
                Support::No(_) => None,
            },
            rotation: [
                ("create", &p.rotation.create),
                ("disable", &p.rotation.disable),
                ("delete", &p.rotation.delete),
            ]
            .into_iter()
            .map(|(step, s)| match s {
                Support::Yes(how) => format!("{step}: {how}"),
                Support::No(why) => format!("{step}: not possible ({why})"),
            })
            .collect(),
        })
        .collect()
}

/// The environment variable that carries the passphrase for headless use.
const PASSPHRASE_VAR: &str = "KEYWARD_PASSPHRASE";

/// `KEYWARD_PASSPHRASE`, taken out of the environment by [`harden_process`].
static TAKEN_PASSPHRASE: std::sync::OnceLock<Option<Secret>> = std::sync::OnceLock::new();

/// The passphrase for headless use, from `KEYWARD_PASSPHRASE` (unset or empty: none).
pub fn env_passphrase() -> Option<Secret> {
    match TAKEN_PASSPHRASE.get() {
        Some(taken) => taken.clone(),
        None => std::env::var(PASSPHRASE_VAR).ok().filter(|p| !p.is_empty()).map(Secret::new),
    }
}

/// Makes this process a poor place to find secrets in: takes `KEYWARD_PASSPHRASE` out of the
/// environment (its bytes overwritten where the kernel shows them, `/proc/PID/environ`, and
/// not inherited by any child such as `git`), keeps it for [`env_passphrase`], and turns core
/// dumps off (`RLIMIT_CORE` 0, `PR_SET_DUMPABLE` 0: no dump, no ptrace by other processes of
/// the user) so a crash cannot write the data key to disk.
///
/// # Safety
/// Call first thing in `main`, before any other thread exists: it changes the environment.
pub unsafe fn harden_process() {
    let name = std::ffi::CString::new(PASSPHRASE_VAR).expect("no NUL");
    let taken = std::env::var(PASSPHRASE_VAR).ok().filter(|p| !p.is_empty()).map(Secret::new);
    // The variable may appear more than once in the environment the process was given: every
    // copy is found first, the variable unset, then each copy's `NAME=VALUE` bytes erased
    // (unsetenv only drops the pointers; glibc frees none of the process's first strings).
    unsafe extern "C" {
        static mut environ: *mut *mut libc::c_char;
    }
    let prefix = format!("{PASSPHRASE_VAR}=");
    // SAFETY: single-threaded (the caller's promise); `environ` is a NULL-terminated array of
    // NUL-terminated strings that no other code changes meanwhile.
    unsafe {
        let mut copies = Vec::new();
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            let text = std::ffi::CStr::from_ptr(*entry);
            if text.to_bytes().starts_with(prefix.as_bytes()) {
                copies.push((*entry, text.to_bytes().len()));
            }
            entry = entry.add(1);
        }
        libc::unsetenv(name.as_ptr());
        for (start, len) in copies {
            for i in 0..len {
                std::ptr::write_volatile(start.add(i), 0);
            }
        }
    }
    let _ = TAKEN_PASSPHRASE.set(taken);
    let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls with valid arguments; failure leaves the defaults.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Creates the vault in `home`; with a passphrase it is passphrase-protected, else keychain.
pub fn init(home: &Home, passphrase: Option<&Secret>) -> Result<Vault, Error> {
    Ok(Vault::create(&home.vault_path(), passphrase)?)
}

/// Moves the master key to a new passphrase, or to the OS keychain when `passphrase` is `None`
/// (re-wrapping only: see [`Vault::protect`]).
pub fn change_protection(vault: &mut Vault, passphrase: Option<&Secret>) -> Result<(), Error> {
    vault.protect(passphrase)?;
    let to = if passphrase.is_some() { "passphrase" } else { "keychain" };
    tracing::info!(to, "vault protection changed");
    activity::record(
        vault,
        Entry::new("vault.protect", "ok").detail(format!("the master key is now protected by the {to}")),
    );
    Ok(())
}

/// A recovery kit, to be shown once: whoever holds `recovery_key` can open the vault.
#[derive(Debug)]
pub struct RecoveryKit {
    /// The vault it opens.
    pub vault_id: String,
    /// The recovery key in its printed form.
    pub recovery_key: Secret,
    /// When it was made.
    pub created_at: String,
}

/// Makes a new recovery kit for the vault (a kit made before stops working).
pub fn create_recovery_kit(vault: &Vault) -> Result<RecoveryKit, Error> {
    let recovery_key = vault.create_recovery_key()?;
    activity::record(
        vault,
        Entry::new("vault.recovery_kit", "ok").detail("a new recovery kit was made; any older one stopped working"),
    );
    tracing::info!("recovery kit made");
    Ok(RecoveryKit { vault_id: vault.id().to_owned(), recovery_key, created_at: time::now_string() })
}

/// Whether a recovery kit opens the vault.
pub fn has_recovery_kit(vault: &Vault) -> Result<bool, Error> {
    Ok(vault.has_recovery_key()?)
}

/// Makes the vault's recovery kit stop working.
pub fn remove_recovery_kit(vault: &Vault) -> Result<(), Error> {
    vault.remove_recovery_key()?;
    activity::record(vault, Entry::new("vault.recovery_kit", "removed"));
    Ok(())
}

/// Opens the vault in `home` with its recovery key (its keychain entry gone, its passphrase
/// forgotten) and protects the master key anew: by `new_passphrase`, or by this machine's OS
/// keychain when `None`. The recovery kit keeps working.
pub fn recover(home: &Home, recovery_key: &Secret, new_passphrase: Option<&Secret>) -> Result<Vault, Error> {
    let mut vault = Vault::open_with_recovery_key(&home.vault_path(), recovery_key)?;
    vault.protect(new_passphrase)?;
    let to = if new_passphrase.is_some() { "a new passphrase" } else { "this machine's OS keychain" };
    activity::record(
        &vault,
        Entry::new("vault.recover", "ok").detail(format!("opened with the recovery key; now protected by {to}")),
    );
    tracing::info!("vault recovered with its recovery key");
    Ok(vault)
}

/// Opens and unlocks the vault in `home`.
pub fn open(home: &Home, passphrase: Option<&Secret>) -> Result<Vault, Error> {
    Ok(Vault::open(&home.vault_path(), passphrase)?)
}

/// A key as shown to users. Never carries a secret; `has_secret` says whether one is stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyView {
    /// Keyward's id.
    pub id: String,
    /// Provider id.
    pub provider: String,
    /// Connector name or `manual`.
    pub account: String,
    /// The provider's id for the key.
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: Option<String>,
    /// `active` or `inactive`.
    #[cfg_attr(feature = "bindings", ts(type = "\"active\" | \"inactive\""))]
    pub status: &'static str,
    /// Creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Age in whole days at the time of listing.
    pub age_days: Option<i64>,
    /// Last use (RFC 3339).
    pub last_used_at: Option<String>,
    /// Where it was last used.
    pub last_used_service: Option<String>,
    /// Region of last use.
    pub last_used_region: Option<String>,
    /// Whether the provider reports use (if so, no `last_used_at` means never used).
    pub usage_tracked: bool,
    /// Expiry.
    pub expires_at: Option<String>,
    /// Normalised scopes.
    pub scopes: Vec<String>,
    /// Whether the vault holds the secret (reveal with `keys reveal`).
    pub has_secret: bool,
    /// First seen.
    pub first_seen_at: String,
    /// Last seen by a sync.
    pub last_seen_at: String,
    /// When a sync stopped seeing it.
    pub removed_at: Option<String>,
    /// Open findings on this key (its own and its owner's).
    pub open_findings: usize,
    /// Risk score: the sum of the weights of those findings.
    pub risk: u32,
    /// The parts of the risk score, heaviest first.
    pub risk_parts: Vec<RiskPart>,
    /// Tags.
    pub tags: Vec<String>,
    /// What kind of credential (`access_key`, `api_key`, `user_token`...); null when registered by hand.
    pub kind: Option<String>,
    /// Whether anyone with read access at the provider can copy the secret again.
    pub secret_readable: bool,
    /// Provider facts (access lists, last address, leak reports, usage plans...).
    pub details: serde_json::Value,
    /// Keys registered by hand: when liveness was last checked.
    pub checked_at: Option<String>,
    /// And what the provider said (`live`, `rejected`, or why it could not be asked).
    pub check_result: Option<String>,
}

impl KeyView {
    fn new(k: &ApiKey, now: DateTime<Utc>, mut risk_parts: Vec<RiskPart>) -> Self {
        risk_parts.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.finding_id.cmp(&b.finding_id)));
        let ts = |t: Option<DateTime<Utc>>| t.map(time::to_string);
        Self {
            id: k.id.clone(),
            provider: k.provider.clone(),
            account: k.account.clone(),
            external_id: k.external_id.clone(),
            name: k.name.clone(),
            owner: k.owner.clone(),
            status: k.status.as_str(),
            created_at: ts(k.created_at),
            age_days: k.created_at.map(|c| time::age_days(c, now)),
            last_used_at: ts(k.last_used.as_ref().map(|l| l.at)),
            last_used_service: k.last_used.as_ref().and_then(|l| l.service.clone()),
            last_used_region: k.last_used.as_ref().and_then(|l| l.region.clone()),
            usage_tracked: k.usage_tracked,
            expires_at: ts(k.expires_at),
            scopes: k.scopes.clone(),
            has_secret: k.has_secret,
            first_seen_at: time::to_string(k.first_seen_at),
            last_seen_at: time::to_string(k.last_seen_at),
            removed_at: ts(k.removed_at),
            open_findings: risk_parts.len(),
            risk: risk_parts.iter().map(|p| p.weight).sum(),
            risk_parts,
            tags: k.tags.clone(),
            kind: k.kind.clone(),
            secret_readable: k.secret_readable,
            details: k.details.clone(),
            checked_at: k.check.as_ref().map(|(at, _)| time::to_string(*at)),
            check_result: k.check.as_ref().map(|(_, r)| r.clone()),
        }
    }
}

/// A connector as shown to users.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct ConnectorView {
    /// Name.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Settings (no secrets).
    pub profile: Option<String>,
    /// Region (AWS, New Relic).
    pub region: Option<String>,
    /// Settings, as stored (never a secret).
    #[cfg_attr(feature = "bindings", ts(type = "Record<string, unknown>"))]
    pub settings: ConnectorSettings,
    /// Which credential fields are stored (names only).
    pub credential_fields: Vec<String>,
    /// The provider's account id, once known.
    pub account_id: Option<String>,
    /// Last successful sync.
    pub last_sync_at: Option<String>,
    /// Account-level facts from the latest sync.
    #[cfg_attr(feature = "bindings", ts(type = "unknown"))]
    pub facts: serde_json::Value,
    /// False when its settings were changed outside Keyward: it will not sync until edited with its
    /// credentials typed again (or re-added).
    pub settings_intact: bool,
    /// Its latest sync run (also a failed or running one), when it ever ran.
    pub last_run: Option<SyncRunView>,
}

/// A connector's latest sync run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct SyncRunView {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// `running`, `ok` or `failed`.
    pub status: String,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// Keys it saw.
    pub keys_seen: i64,
    /// Requests it sent to the provider (where counted).
    pub api_calls: Option<i64>,
}

impl From<&Connector> for ConnectorView {
    fn from(c: &Connector) -> Self {
        Self {
            name: c.name.clone(),
            provider: c.provider.clone(),
            profile: c.settings.text("profile").map(str::to_owned),
            region: c.settings.text("region").map(str::to_owned),
            settings: c.settings.clone(),
            credential_fields: Vec::new(),
            account_id: c.account_id.clone(),
            last_sync_at: c.last_sync_at.map(time::to_string),
            facts: c.facts.clone(),
            settings_intact: c.settings_intact,
            last_run: None,
        }
    }
}

fn connector_view(vault: &Vault, c: &Connector) -> Result<ConnectorView, Error> {
    let mut view = ConnectorView::from(c);
    view.last_run = crate::store::sync_runs::last_of(vault.conn(), c.id)?.map(|r| SyncRunView {
        started_at: r.started_at,
        status: r.status,
        error: r.error,
        keys_seen: r.keys_seen,
        api_calls: r.api_calls,
    });
    // A tampered connector is still listed (with `settings_intact` false), never unsealed.
    if c.settings_intact {
        view.credential_fields = connector::credentials(vault, c)?.names().map(str::to_owned).collect();
    }
    Ok(view)
}

/// Adds a connector with its credentials (sealed in the vault).
pub fn add_connector(
    vault: &mut Vault,
    name: &str,
    provider: &str,
    settings: ConnectorSettings,
    credentials: &Credentials,
) -> Result<ConnectorView, Error> {
    // Only the demo workspace marks its connectors (they then go to the stand-ins).
    if settings.get(keyward_connectors::providers::DEMO).is_some() {
        return Err(Error::Invalid { field: "settings", reason: "\"demo\" is not a setting".into() });
    }
    let c = connector::add(vault, name, provider, &settings, credentials)?;
    tracing::info!(connector = %c.name, provider = %c.provider, "connector added");
    activity::record(vault, Entry::new("connector.add", "ok").provider(&c.provider).subject(&c.name));
    connector_view(vault, &c)
}

/// Changes a connector's settings, and its credentials when `credentials` is given (else the
/// sealed ones are kept); see [`connector::edit`]. The change goes to the activity log by setting
/// name (values are not logged: an endpoint may carry a token in its path).
pub fn edit_connector(
    vault: &mut Vault,
    name: &str,
    settings: ConnectorSettings,
    credentials: Option<&Credentials>,
) -> Result<ConnectorView, Error> {
    let (c, edit) = connector::edit(vault, name, &settings, credentials)?;
    let mut said = Vec::new();
    if !edit.settings.is_empty() {
        said.push(format!("settings changed: {}", edit.settings.join(", ")));
    }
    if edit.credentials {
        said.push("credentials replaced".to_owned());
    }
    if edit.retrusted {
        said.push("settings changed outside Keyward trusted again, as saved".to_owned());
    }
    if !said.is_empty() {
        tracing::info!(connector = %c.name, provider = %c.provider, "connector edited");
        activity::record(
            vault,
            Entry::new("connector.edit", "ok").provider(&c.provider).subject(&c.name).detail(said.join("; ")),
        );
    }
    connector_view(vault, &c)
}

pub use connector::changed_settings;

/// One live connector, as listed.
pub fn connector(vault: &Vault, name: &str) -> Result<ConnectorView, Error> {
    let c = connector::find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    connector_view(vault, &c)
}

/// Lists connectors.
pub fn list_connectors(vault: &Vault) -> Result<Vec<ConnectorView>, Error> {
    connector::list(vault)?.iter().map(|c| connector_view(vault, c)).collect()
}

/// Removes a connector and the keys it synced (their history goes with them).
pub fn remove_connector(vault: &mut Vault, name: &str) -> Result<connector::Removal, Error> {
    let removal = connector::remove(vault, name)?;
    tracing::info!(connector = %name, keys = removal.keys, findings = removal.findings, "connector removed");
    activity::record(
        vault,
        Entry::new("connector.remove", "ok")
            .subject(name)
            .detail(format!("{} keys marked removed, {} findings resolved", removal.keys, removal.findings)),
    );
    Ok(removal)
}

/// What [`remove_connector`] would change, to ask the user first.
pub fn connector_removal(vault: &Vault, name: &str) -> Result<connector::Removal, Error> {
    let c = connector::find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    connector::removal_of(vault, &c)
}

/// One check of `connector test`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct CheckView {
    /// What was checked (`credentials`, a permission...).
    pub what: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was seen, or what to do.
    pub detail: String,
}

/// Checks a connector's credentials and each permission it needs, without syncing.
pub async fn test_connector(vault: &mut Vault, name: &str) -> Result<Vec<CheckView>, Error> {
    let c = connector::find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    let mut credentials = connector::credentials(vault, &c)?;
    let demo = crate::demo::for_connectors(std::slice::from_ref(&c)).await?;
    let c = demo.as_ref().map_or(c.clone(), |d| d.redirect(&c, &mut credentials));
    let checks = sync::check(&c, &credentials).await?;
    Ok(checks.into_iter().map(|c| CheckView { what: c.what, ok: c.ok, detail: c.detail }).collect())
}

/// Syncs one connector (by name) or all of them. Each connector's outcome is reported
/// separately: one failing account does not stop the others, and a failed sync changes nothing
/// in the inventory.
pub async fn sync(
    vault: &mut Vault,
    only: Option<&str>,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<Vec<(String, Result<SyncReport, Error>)>, Error> {
    sync_recording_runs(vault, only, progress, &Default::default()).await
}

/// [`sync`], noting in `began` the runs it begins (so a cancel closes those, and no other
/// sync's of this process).
async fn sync_recording_runs(
    vault: &mut Vault,
    only: Option<&str>,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    began: &std::sync::Mutex<Vec<i64>>,
) -> Result<Vec<(String, Result<SyncReport, Error>)>, Error> {
    let connectors = match only {
        Some(name) => vec![
            connector::find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?,
        ],
        None => connector::list(vault)?,
    };
    // Demo connectors talk to the built-in stand-ins, started for the length of the sync.
    let demo = crate::demo::for_connectors(&connectors).await?;
    sync_connectors(vault, connectors, demo.as_ref(), progress, began).await
}

/// [`sync`], stopped as soon as `cancel` completes (the user's Cancel): the fetches in flight
/// are dropped, nothing of them is stored (a connector already applied stays applied), and the
/// unfinished runs are recorded as cancelled.
pub async fn sync_cancellable(
    vault: &mut Vault,
    only: Option<&str>,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: impl std::future::Future<Output = ()>,
) -> Result<Vec<(String, Result<SyncReport, Error>)>, Error> {
    let began = std::sync::Mutex::new(Vec::new());
    let finished = tokio::select! {
        outcomes = sync_recording_runs(vault, only, progress, &began) => Some(outcomes),
        () = cancel => None,
    };
    match finished {
        Some(outcomes) => outcomes,
        None => {
            let closed =
                close_stopped_runs(vault, &began, "cancelled", "cancelled by the user; nothing of it was stored")?;
            Err(Error::Conflict(format!(
                "sync cancelled: {closed} connectors stopped before they finished; nothing of theirs was stored"
            )))
        }
    }
}

/// Closes the sync runs a stopped piece of work began (they would show as running for as long
/// as this process lives), and says so in the activity log as `outcome`; returns how many.
fn close_stopped_runs(
    vault: &Vault,
    began: &std::sync::Mutex<Vec<i64>>,
    outcome: &str,
    why: &str,
) -> Result<usize, Error> {
    let began = std::mem::take(&mut *began.lock().expect("not poisoned"));
    let closed = sync::close_runs(vault, &began, why)?;
    tracing::info!(closed, outcome, "sync stopped");
    activity::record(vault, Entry::new("sync", outcome).detail(format!("{closed} connectors stopped")));
    Ok(closed)
}

/// Connectors fetched at once: providers are independent, and one slow provider must not hold
/// the others up. The vault is written one connector at a time, after the fetches.
const SYNC_CONCURRENCY: usize = 4;

/// The longest one connector's fetch may take (a 2,000-user AWS account takes about a minute
/// and a half on moto): past it that connector fails, named, and changes nothing.
pub const SYNC_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Syncs `connectors`, fetching up to [`SYNC_CONCURRENCY`] at once, each within
/// [`SYNC_DEADLINE`]; demo connectors go to `demo`'s stand-ins. Every error names its connector.
async fn sync_connectors(
    vault: &mut Vault,
    connectors: Vec<Connector>,
    demo: Option<&crate::demo::Demo>,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    began: &std::sync::Mutex<Vec<i64>>,
) -> Result<Vec<(String, Result<SyncReport, Error>)>, Error> {
    sync::recover_interrupted(vault)?;
    let mut prepared = Vec::with_capacity(connectors.len());
    for c in connectors {
        let run_id = sync::begin(vault, &c)?;
        began.lock().expect("not poisoned").push(run_id);
        tracing::info!(connector = %c.name, provider = %c.provider, "sync started");
        let credentials = connector::credentials(vault, &c);
        prepared.push((c, run_id, credentials));
    }
    let limit = tokio::sync::Semaphore::new(SYNC_CONCURRENCY);
    let fetches = prepared.into_iter().map(|(c, run_id, credentials)| {
        let limit = &limit;
        async move {
            let _permit = limit.acquire().await.expect("the semaphore is never closed");
            let started = std::time::Instant::now();
            let fetched = match credentials {
                Ok(mut credentials) => {
                    let target = demo.map_or(c.clone(), |d| d.redirect(&c, &mut credentials));
                    tokio::time::timeout(SYNC_DEADLINE, sync::fetch(&target, &credentials, progress))
                        .await
                        .unwrap_or_else(|_| {
                            Err(Error::Conflict(format!(
                                "{}: no complete answer within {} minutes; nothing was changed",
                                c.provider,
                                SYNC_DEADLINE.as_secs() / 60
                            )))
                        })
                }
                Err(e) => Err(e),
            };
            (c, run_id, started, fetched)
        }
    });
    let fetched = futures_util::future::join_all(fetches).await;
    let mut outcomes = Vec::with_capacity(fetched.len());
    for (c, run_id, started, fetched) in fetched {
        let outcome = match fetched {
            Ok(inventory) => sync::apply(vault, &c, run_id, &inventory, Utc::now(), started),
            Err(e) => Err(e),
        };
        let entry =
            Entry::new("sync", if outcome.is_ok() { "ok" } else { "failed" }).provider(&c.provider).subject(&c.name);
        match &outcome {
            Ok(r) => {
                tracing::info!(connector = %c.name, seen = r.seen, added = r.added, changed = r.changed, removed = r.removed, "sync finished");
                activity::record(
                    vault,
                    entry.detail(format!(
                        "{} seen, {} added, {} changed, {} removed",
                        r.seen, r.added, r.changed, r.removed
                    )),
                );
            }
            Err(e) => {
                tracing::warn!(connector = %c.name, error = %e, "sync failed");
                sync::fail(vault, run_id, e)?;
                activity::record(vault, entry.detail(e.to_string()));
            }
        }
        outcomes.push((c.name.clone(), outcome));
    }
    Ok(outcomes)
}

/// Loads what the audit judges: live keys, owners and accounts.
pub fn snapshot(vault: &Vault) -> Result<Snapshot, Error> {
    let keys = inventory::list(vault)?.into_iter().filter(|k| k.removed_at.is_none()).collect();
    let owners = crate::store::inventory::owners(vault.conn())?;
    let mut resources = crate::store::inventory::resources(vault.conn())?;
    let mut accounts = Vec::new();
    for c in connector::list(vault)? {
        // An organization's connector: each member account judged for its own root user.
        if let Some(members) = c.facts.get("accounts").and_then(|a| a.as_array()) {
            accounts.extend(members.iter().filter(|m| m.get("root_access_key").is_some()).map(|m| Account {
                provider: c.provider.clone(),
                account: c.name.clone(),
                account_id: m["account_id"].as_str().map(str::to_owned),
                root_access_key: m["root_access_key"].as_bool(),
                facts: serde_json::Value::Null,
                member: Some(m["account_name"].as_str().unwrap_or_default().to_owned()),
            }));
        }
        accounts.push(Account {
            provider: c.provider,
            account: c.name,
            account_id: c.account_id,
            root_access_key: c.root_access_key,
            facts: c.facts,
            member: None,
        });
    }
    let (exposures, shadows) = crate::exposure::audit_facts(vault)?;
    resources.extend(shadows);
    Ok(Snapshot { keys, owners, accounts, resources, exposures })
}

/// What `audit` reports.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct AuditReport {
    /// Every firing finding (open, acknowledged, snoozed), most severe first.
    pub findings: Vec<FindingView>,
    /// Findings new in this audit (first seen or back after resolving).
    pub opened: usize,
    /// Findings whose severity rose.
    pub escalated: usize,
    /// Findings that stopped firing.
    pub resolved: usize,
    /// What changed, finding by finding (for notifications).
    pub changes: Vec<Change>,
    /// Set when the policy file is broken: its error; the previous policy was used.
    pub policy_problem: Option<String>,
}

/// Runs every rule the policy in force enables at `now`, reconciles the findings with the stored
/// ones (open, escalate, resolve with a reason) and returns the firing ones.
pub fn run_audit(home: &Home, vault: &mut Vault, now: DateTime<Utc>) -> Result<AuditReport, Error> {
    let in_force = policy::load(home.dir(), vault, now)?;
    let previous = match findings::last_policy_digest(vault)? {
        Some(d) if d != in_force.digest => policy::by_digest(vault, &d)?,
        _ => None,
    };
    let snap = snapshot(vault)?;
    let found = audit::evaluate(&snap, &AuditContext { now, policy: &in_force.policy });
    let run = findings::record(vault, &snap, &found, &in_force.policy, previous.as_ref(), &in_force.digest, now)?;
    tracing::info!(
        firing = run.firing,
        opened = run.count("opened") + run.count("reopened"),
        resolved = run.count("resolved"),
        "audit recorded"
    );
    activity::record(
        vault,
        Entry::new("audit", "ok").detail(format!(
            "{} firing, {} opened, {} resolved",
            run.firing,
            run.count("opened") + run.count("reopened"),
            run.count("resolved")
        )),
    );
    Ok(AuditReport {
        findings: findings::list(vault, FindingState::FIRING)?,
        opened: run.count("opened") + run.count("reopened"),
        escalated: run.count("escalated"),
        resolved: run.count("resolved"),
        changes: run.changes,
        policy_problem: in_force.problem,
    })
}

/// More notifications than this from one audit are shown on the desktop as one summary.
pub const DESKTOP_BATCH: usize = 3;

/// Shows one notification on the desktop; `Err` says why it could not.
pub type DesktopNotifier<'a> = &'a (dyn Fn(&crate::notify::Notification) -> Result<(), String> + Send + Sync);

/// The scheduled audit: runs it, decides what to tell (see [`crate::notify`]), shows it on the
/// desktop when there is one and the user wants it, sends it to the webhooks, and logs every
/// delivery. Returns a one-line summary.
pub async fn audit_and_notify(
    home: &Home,
    vault: &mut Vault,
    now: DateTime<Utc>,
    desktop: Option<DesktopNotifier<'_>>,
    retry: crate::notify::Retry,
) -> Result<String, Error> {
    let report = run_audit(home, vault, now)?;
    let notes = crate::notify::after_audit(vault, &report.changes, now)?;
    let mut shown = Vec::new();
    if let Some(show) = desktop.filter(|_| crate::notify::preferences(vault).map(|p| p.desktop).unwrap_or(true)) {
        // A first audit can find dozens of keys at once: past a few, the desktop gets one summary
        // (webhooks still get every notification).
        let summary;
        let on_desktop: &[crate::notify::Notification] = if notes.len() > DESKTOP_BATCH {
            summary = [crate::notify::summary(&notes)];
            &summary
        } else {
            &notes
        };
        for n in on_desktop {
            let outcome = show(n);
            shown.push(crate::notify::Delivery {
                channel: "desktop".into(),
                event: n.event.clone(),
                subject: n.subject.clone(),
                at: time::now_string(),
                attempts: 1,
                status: if outcome.is_ok() { "delivered" } else { "failed" }.into(),
                http_status: None,
                error: outcome.err(),
            });
        }
        crate::notify::record_deliveries(vault, &shown)?;
    }
    let sent = crate::notify::deliver(vault, &notes, retry).await?;
    if let Some(p) = &report.policy_problem {
        tracing::warn!(problem = %p, "scheduled audit used the previous policy");
    }
    Ok(format!(
        "{} firing ({} new, {} escalated, {} resolved); {} notifications, {} webhook deliveries failed",
        report.findings.len(),
        report.opened,
        report.escalated,
        report.resolved,
        notes.len(),
        sent.iter().filter(|d| d.status != "delivered").count()
    ))
}

/// The scheduled sync of one connector, summarised in a line.
pub async fn sync_one(vault: &mut Vault, connector: &str) -> Result<String, Error> {
    let mut outcomes = sync(vault, Some(connector), &|_| {}).await?;
    match outcomes.pop() {
        Some((_, Ok(r))) => {
            Ok(format!("{} keys ({} new, {} changed, {} removed)", r.seen, r.added, r.changed, r.removed))
        }
        Some((_, Err(e))) => Err(e),
        None => Err(Error::NotFound { what: "connector", id: connector.to_owned() }),
    }
}

/// Findings in the given states (every state when empty), most severe first.
pub fn list_findings(vault: &Vault, states: &[FindingState]) -> Result<Vec<FindingView>, Error> {
    findings::list(vault, states)
}

/// One finding.
pub fn finding(vault: &Vault, id: i64) -> Result<FindingView, Error> {
    findings::get(vault, id)
}

/// A finding's history.
pub fn finding_history(vault: &Vault, id: i64) -> Result<Vec<FindingEvent>, Error> {
    findings::history(vault, id)
}

/// Acknowledges a firing finding (it reopens if it escalates).
pub fn acknowledge_finding(vault: &mut Vault, id: i64, note: Option<&str>) -> Result<FindingView, Error> {
    let f = findings::acknowledge(vault, id, note, Utc::now())?;
    activity::record(vault, Entry::new("finding.acknowledge", "ok").subject(id.to_string()));
    Ok(f)
}

/// Snoozes a firing finding until a date.
pub fn snooze_finding(
    vault: &mut Vault,
    id: i64,
    until: DateTime<Utc>,
    note: Option<&str>,
) -> Result<FindingView, Error> {
    let f = findings::snooze(vault, id, until, note, Utc::now())?;
    activity::record(
        vault,
        Entry::new("finding.snooze", "ok").subject(id.to_string()).detail(format!("until {until}")),
    );
    Ok(f)
}

/// Reopens an acknowledged or snoozed finding.
pub fn reopen_finding(vault: &mut Vault, id: i64) -> Result<FindingView, Error> {
    let f = findings::reopen(vault, id, Utc::now())?;
    activity::record(vault, Entry::new("finding.reopen", "ok").subject(id.to_string()));
    Ok(f)
}

/// Per practice, the keys, resources and accounts its rules judge and how many of them the
/// firing findings fail.
pub fn practices(vault: &Vault) -> Result<Vec<PracticeSummary>, Error> {
    Ok(crate::audit::practice::summarise(&snapshot(vault)?, &findings::list(vault, FindingState::FIRING)?))
}

/// Parses `--practice` and `--control` values into a filter; an unknown name is an error that
/// lists the known ones.
pub fn practice_filter(practices: &[String], controls: &[String]) -> Result<PracticeFilter, Error> {
    use crate::audit::practice::{ALL_PRACTICES, CONTROLS, Practice, control};
    let mut filter = PracticeFilter::default();
    for p in practices {
        filter.practices.push(Practice::parse(p).ok_or_else(|| Error::Invalid {
            field: "practice",
            reason: format!(
                "no practice {p:?}; the practices are {}",
                ALL_PRACTICES.iter().map(|p| p.id()).collect::<Vec<_>>().join(", ")
            ),
        })?);
    }
    for c in controls {
        filter.controls.push(
            control(&c.to_ascii_lowercase())
                .ok_or_else(|| Error::Invalid {
                    field: "control",
                    reason: format!(
                        "no control {c:?}; the controls are {}",
                        CONTROLS.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
                    ),
                })?
                .id,
        );
    }
    Ok(filter)
}

/// A report of the findings in `states` (every state when empty) that `filter` keeps, rendered in
/// `format`.
pub fn report(
    vault: &Vault,
    format: crate::report::Format,
    states: &[FindingState],
    filter: &PracticeFilter,
) -> Result<String, Error> {
    let mut rows = Vec::new();
    for f in findings::list(vault, states)?.into_iter().filter(|f| filter.keeps(f)) {
        let exposures = match (f.rule_id.as_str(), &f.key_id, &f.resource) {
            ("key_exposed_in_file", Some(key), _) => exposure::consumers(vault, key)?,
            ("unknown_key_found", _, Some(shadow)) => exposure::of_shadow_key(vault, shadow)?,
            _ => Vec::new(),
        };
        let places = exposures
            .into_iter()
            .filter(|e| e.secret)
            .map(|e| crate::report::ReportPlace {
                path: e.path.display().to_string(),
                line: e.line,
                revision: e.revision,
            })
            .collect();
        rows.push(crate::report::ReportRow { finding: f, places });
    }
    let text = crate::report::render(format, &rows, &practices(vault)?, Utc::now());
    activity::record(
        vault,
        Entry::new("export", "ok").detail(format!(
            "{} report of {} findings",
            format!("{format:?}").to_lowercase(),
            rows.len()
        )),
    );
    Ok(text)
}

/// The policy as shown to users.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct PolicyView {
    /// The policy file.
    pub path: String,
    /// The text in force.
    pub text: String,
    /// Its digest.
    pub digest: String,
    /// When it was adopted.
    pub adopted_at: Option<String>,
    /// The file's error, when it is broken and the previous policy is in force.
    pub problem: Option<String>,
}

impl PolicyView {
    fn new(home: &Home, p: policy::PolicyInForce) -> Self {
        Self {
            path: policy::path_in(home.dir()).display().to_string(),
            text: p.text,
            digest: p.digest,
            adopted_at: p.adopted_at.map(time::to_string),
            problem: p.problem,
        }
    }
}

/// The policy in force (adopting the file when it changed and parses).
pub fn policy(home: &Home, vault: &Vault) -> Result<PolicyView, Error> {
    Ok(PolicyView::new(home, policy::load(home.dir(), vault, Utc::now())?))
}

/// Replaces the policy file with `text` if it parses; otherwise an error naming the line, and
/// nothing changes.
pub fn save_policy(home: &Home, vault: &Vault, text: &str) -> Result<PolicyView, Error> {
    let view = PolicyView::new(home, policy::save(home.dir(), vault, text, Utc::now())?);
    activity::record(vault, Entry::new("settings.policy", "ok").detail(format!("policy {}", view.digest)));
    Ok(view)
}

/// Where the policy file of this home is (it may not exist: the defaults are then in force).
pub fn policy_path(home: &Home) -> PathBuf {
    policy::path_in(home.dir())
}

/// Checks a policy text without adopting it: the error names the line.
pub fn check_policy(text: &str) -> Result<(), String> {
    audit::Policy::parse(text).map(drop).map_err(|e| e.to_string())
}

/// Writes the default policy (with its comments) to the home's policy file; never over one.
pub fn init_policy(home: &Home) -> Result<PathBuf, Error> {
    if !home.is_initialized() {
        return Err(Error::Invalid {
            field: "home",
            reason: format!("no vault in {} (run `keyward init` first)", home.dir().display()),
        });
    }
    let path = policy_path(home);
    let mut file = crate::vault::files::create_new(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Conflict(format!("{} already exists", path.display())),
        _ => Error::Io { what: format!("cannot write {}", path.display()), source: e },
    })?;
    std::io::Write::write_all(&mut file, audit::policy::DEFAULT_TEXT.as_bytes())
        .map_err(|source| Error::Io { what: format!("cannot write {}", path.display()), source })?;
    Ok(path)
}

fn key_view(vault: &Vault, key: &ApiKey) -> Result<KeyView, Error> {
    Ok(KeyView::new(key, Utc::now(), findings::risk_of(vault, key)?))
}

/// One key, as the inventory lists it.
pub fn key(vault: &Vault, id: &str) -> Result<KeyView, Error> {
    key_view(vault, &inventory::get(vault, id)?)
}

/// Adds and removes tags on a key; returns the key.
pub fn tag_key(vault: &Vault, id: &str, add: &[String], remove: &[String]) -> Result<KeyView, Error> {
    let key = inventory::get(vault, id)?;
    let tags: Vec<String> = key.tags.iter().filter(|t| !remove.contains(t)).chain(add).cloned().collect();
    inventory::set_tags(vault, id, &tags)?;
    activity::record(vault, Entry::new("key.tag", "ok").subject(id).detail(format!("tags: {}", tags.join(", "))));
    key_view(vault, &inventory::get(vault, id)?)
}

/// Tags as they would be stored, or why one is refused: checked before a key is registered with
/// them, so a bad tag cannot leave a key registered without its tags.
pub fn check_tags(tags: &[String]) -> Result<Vec<String>, Error> {
    inventory::clean_tags(tags)
}

/// Lists keys with their risk (open findings and their weights); removed keys only when asked.
pub fn list_keys(vault: &Vault, include_removed: bool, now: DateTime<Utc>) -> Result<Vec<KeyView>, Error> {
    let keys = inventory::list(vault)?;
    let mut risk = findings::risk(vault, &keys)?;
    Ok(keys
        .iter()
        .filter(|k| include_removed || k.removed_at.is_none())
        .map(|k| KeyView::new(k, now, risk.remove(&k.id).unwrap_or_default()))
        .collect())
}

/// Registers a key by hand with its secret.
pub fn add_key(vault: &mut Vault, new: NewKey) -> Result<KeyView, Error> {
    let key = inventory::add_manual(vault, new)?;
    tracing::info!(key_id = %key.id, provider = %key.provider, "key registered");
    activity::record(vault, Entry::new("key.add", "ok").provider(&key.provider).subject(&key.id));
    key_view(vault, &key)
}

/// A posture resource as shown to users (an API Gateway stage, route or API).
#[derive(Debug, Clone, Serialize)]
pub struct ResourceView {
    /// Provider id.
    pub provider: String,
    /// Connector name.
    pub account: String,
    /// `apigw_route`, `apigw_stage`, `apigw_api`, `apigw_rest_stage`.
    pub kind: String,
    /// The provider's id (`region/api/...`).
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: Option<String>,
    /// The facts the audit judges.
    pub details: serde_json::Value,
}

impl From<Resource> for ResourceView {
    fn from(r: Resource) -> Self {
        let Resource { provider, account, kind, external_id, name, region, details } = r;
        Self { provider, account, kind, external_id, name, region, details }
    }
}

/// The posture resources the latest syncs saw.
pub fn list_resources(vault: &Vault) -> Result<Vec<ResourceView>, Error> {
    // The providers' resources; the scan's shadow keys are listed by `shadow_keys`.
    Ok(snapshot(vault)?.resources.into_iter().filter(|r| r.kind != crate::audit::SHADOW_KEY).map(Into::into).collect())
}

/// Asks the provider whether a key registered by hand still works (Linear: `viewer { id }`),
/// and records the answer on the key. The registry says which providers' keys are checked so:
/// those with no connector and a harmless read that tells.
pub async fn check_key(vault: &mut Vault, id: &str) -> Result<KeyView, Error> {
    // In a demo workspace, its hand-registered keys are checked against the stand-ins.
    let demo = crate::demo::for_connectors(&connector::list(vault)?).await?;
    check_registered_key(vault, id, demo.as_ref()).await
}

/// Providers whose keys are registered by hand and checked one by one, with the kind of key
/// their check reads.
fn checked_by_hand() -> impl Iterator<Item = (&'static keyward_connectors::providers::Provider, &'static str)> {
    keyward_connectors::providers::REGISTRY.iter().copied().filter_map(|p| match &p.verify_found {
        keyward_connectors::providers::VerifyFound::Yes { kind, .. } if p.connect.is_none() => Some((p, *kind)),
        _ => None,
    })
}

/// [`check_key`] against `demo`'s stand-ins when given, else against the provider.
async fn check_registered_key(vault: &mut Vault, id: &str, demo: Option<&crate::demo::Demo>) -> Result<KeyView, Error> {
    let key = inventory::get(vault, id)?;
    let checked = checked_by_hand().find(|(p, _)| p.id == key.provider);
    let Some((provider, kind)) = checked.filter(|_| key.account == crate::model::MANUAL_ACCOUNT) else {
        let names: Vec<&str> = checked_by_hand().map(|(p, _)| p.name).collect();
        return Err(Error::Unsupported(format!(
            "liveness checks exist for {} keys registered by hand; {} keys are checked by syncing their connector",
            names.join(" and "),
            key.provider
        )));
    };
    let secret = inventory::reveal(vault, id)?;
    let endpoint = demo.and_then(|d| d.endpoint(provider.id));
    let outcome = keyward_connectors::liveness::probe_with(
        provider.id,
        kind,
        secret.expose(),
        None,
        endpoint.as_deref(),
        Default::default(),
    )
    .await;
    let name = provider.name;
    let result = match &outcome {
        Ok(keyward_connectors::liveness::Liveness::Live(who)) => {
            format!("live ({name} user {})", who.as_deref().unwrap_or("unknown"))
        }
        Ok(keyward_connectors::liveness::Liveness::Rejected) => {
            format!("rejected ({name} does not accept this key: revoked or mistyped)")
        }
        Err(e) => format!("unknown ({e})"),
    };
    inventory::record_check(vault, id, Utc::now(), &result)?;
    tracing::info!(key_id = %id, ok = matches!(outcome, Ok(keyward_connectors::liveness::Liveness::Live(_))), "key checked");
    activity::record(
        vault,
        Entry::new("key.check", result.split(' ').next().unwrap_or("unknown")).provider(provider.id).subject(id),
    );
    outcome?;
    key_view(vault, &inventory::get(vault, id)?)
}

/// A key's secret for the clipboard: like [`reveal_key`], recorded as a copy in the activity log
/// before it is handed out.
pub fn copy_key(vault: &Vault, id: &str) -> Result<Secret, Error> {
    let secret = inventory::reveal(vault, id)?;
    activity::record_before(vault, Entry::new("key.copy", "ok").subject(id), Utc::now())?;
    tracing::info!(key_id = %id, "secret copied");
    Ok(secret)
}

/// Reveals a key's secret. The caller shows it to the user and nowhere else.
/// Logged before it is returned: a reveal that cannot be logged does not happen.
pub fn reveal_key(vault: &Vault, id: &str) -> Result<Secret, Error> {
    let secret = inventory::reveal(vault, id)?;
    activity::record_before(vault, Entry::new("key.reveal", "ok").subject(id), Utc::now())?;
    tracing::info!(key_id = %id, "secret revealed");
    Ok(secret)
}

#[cfg(feature = "demo")]
/// What `demo` did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// Each demo connector's sync.
    pub syncs: Vec<SyncReport>,
    /// Linear keys registered by hand and checked: (name, result).
    pub checked: Vec<(String, String)>,
    /// Live keys in the inventory afterwards.
    pub keys: usize,
    /// Findings of the audit.
    pub findings: usize,
}

#[cfg(feature = "demo")]
/// Builds (or refreshes) the demo workspace in this vault: connectors to the built-in
/// stand-ins, Linear keys registered by hand and checked, a sync with progress, a scan of the
/// demo project folder, an audit. `stop` ending (the window's vault locked) stops it; the sync
/// runs it began are closed, and what it finished stays.
pub async fn demo(
    home: &Home,
    vault: &mut Vault,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    stop: impl std::future::Future<Output = ()>,
) -> Result<DemoReport, Error> {
    let began = std::sync::Mutex::new(Vec::new());
    let built = tokio::select! {
        report = build_demo(home, vault, progress, &began) => Some(report),
        () = stop => None,
    };
    match built {
        Some(report) => report,
        None => {
            // The last write of this handle, dropped after it: runs left `running` would show as
            // running for as long as the app lives.
            close_stopped_runs(vault, &began, "locked", "the vault was locked; nothing of it was stored")?;
            Err(Error::Vault(crate::vault::VaultError::Locked))
        }
    }
}

#[cfg(feature = "demo")]
async fn build_demo(
    home: &Home,
    vault: &mut Vault,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    began: &std::sync::Mutex<Vec<i64>>,
) -> Result<DemoReport, Error> {
    // One set of stand-ins serves the whole build: the sync and the Linear checks.
    let stand_ins = crate::demo::populate(vault).await?;
    let connectors = connector::list(vault)?;
    let mut syncs = Vec::new();
    let sync_started = Utc::now();
    let outcomes = sync_connectors(vault, connectors, Some(&stand_ins), progress, began).await?;
    // The demo ran what the scheduler would have: `schedule list` says so.
    crate::schedule::enabled_jobs(vault)?;
    for (name, outcome) in &outcomes {
        let status = match outcome {
            Ok(r) => crate::schedule::RunStatus::Ok(format!("{} keys (demo)", r.seen)),
            Err(e) => crate::schedule::RunStatus::Failed(e.to_string()),
        };
        let run = crate::schedule::JobRun {
            fire_at: sync_started,
            started_at: sync_started,
            finished_at: Utc::now(),
            status,
        };
        crate::schedule::record_run(vault, &crate::schedule::Job::Sync(name.clone()), &run)?;
    }
    for (name, outcome) in outcomes {
        syncs.push(outcome.map_err(|e| Error::Invalid { field: "demo", reason: format!("{name}: {e}") })?);
    }
    let mut checked = Vec::new();
    let linear: Vec<ApiKey> = inventory::list(vault)?
        .into_iter()
        .filter(|k| checked_by_hand().any(|(p, _)| p.id == k.provider) && k.account == crate::model::MANUAL_ACCOUNT)
        .collect();
    for k in linear {
        let view = check_registered_key(vault, &k.id, Some(&stand_ins)).await?;
        checked.push((view.name, view.check_result.unwrap_or_default()));
    }
    let aws_key = inventory::list(vault)?
        .into_iter()
        .find(|k| {
            let (provider, kind) = keyward_fakes::estate::PROJECT_KEY;
            k.provider == provider && k.kind.as_deref() == Some(kind) && k.removed_at.is_none()
        })
        .and_then(|k| k.external_id);
    let project = crate::demo::write_project(home.dir(), &stand_ins, aws_key.as_deref())
        .map_err(|source| Error::Io { what: "writing the demo project".into(), source })?;
    let request = ScanRequest { paths: vec![project], ..Default::default() };
    scan(home, vault, &request, &|_| {}, &std::sync::atomic::AtomicBool::new(false))?;
    let audit_started = Utc::now();
    let findings = run_audit(home, vault, audit_started)?.findings.len();
    let run = crate::schedule::JobRun {
        fire_at: audit_started,
        started_at: audit_started,
        finished_at: Utc::now(),
        status: crate::schedule::RunStatus::Ok(format!("{findings} findings (demo)")),
    };
    crate::schedule::record_run(vault, &crate::schedule::Job::Audit, &run)?;
    let keys = inventory::list(vault)?.iter().filter(|k| k.removed_at.is_none()).count();
    Ok(DemoReport { syncs, checked, keys, findings })
}
