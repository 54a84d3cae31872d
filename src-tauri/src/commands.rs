//! Tauri commands: each takes the state, calls one `keyward_core::api` function and maps the
//! error. No logic lives here. Secrets cross IPC only through `reveal_key`.

use chrono::Utc;
use keyward_core::api::{self, AuditReport, FindingEvent, FindingView, PolicyView};
use keyward_core::{Error, Secret};
use serde::Serialize;
use tauri::{Emitter, State};

use crate::error::UiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, UiError>;

#[derive(Serialize)]
pub struct Status {
    home: String,
    initialized: bool,
    unlocked: bool,
    locked_reason: Option<UiError>,
}

async fn status_of(state: &AppState) -> Status {
    Status {
        home: state.home.dir().display().to_string(),
        initialized: state.home.is_initialized(),
        unlocked: state.session.is_open().await,
        locked_reason: state.locked_reason.lock().await.clone(),
    }
}

#[tauri::command]
pub async fn vault_status(state: State<'_, AppState>) -> Result<Status> {
    Ok(status_of(&state).await)
}

/// Locks the vault now (the window's Lock, the tray's Lock, the idle timer).
#[tauri::command]
pub async fn lock_vault(app: tauri::AppHandle, state: State<'_, AppState>) -> Result<Status> {
    state.lock().await;
    crate::clipboard::forget(&app);
    Ok(status_of(&state).await)
}

#[tauri::command]
pub async fn unlock_vault(state: State<'_, AppState>, passphrase: Option<String>) -> Result<Status> {
    state.unlock(passphrase.filter(|p| !p.is_empty()).map(Secret::new)).await?;
    Ok(status_of(&state).await)
}

#[tauri::command]
pub async fn create_vault(state: State<'_, AppState>, passphrase: Option<String>) -> Result<Status> {
    state.create(passphrase.filter(|p| !p.is_empty()).map(Secret::new)).await?;
    Ok(status_of(&state).await)
}

/// Reads the inventory's table for the window's pages of rows (a key's page asks for the rest
/// with `key_detail`): what the window shows of it at once, the menus and the dashboard.
#[tauri::command]
pub async fn load_key_table(state: State<'_, AppState>) -> Result<api::KeyTableSummary> {
    let summary = state.load_table().await;
    crate::trim::soon();
    summary
}

/// The most rows one page sends (the window asks for a screenful and a margin).
const PAGE_ROWS: usize = 2_000;

/// Up to `count` of the rows `filter` keeps in `sort`'s order, from the `first`.
#[tauri::command]
pub async fn key_table_rows(
    state: State<'_, AppState>,
    filter: api::KeyFilter,
    sort: api::KeySort,
    first: usize,
    count: usize,
) -> Result<api::KeyTablePage> {
    state.with_table(|table, generation| api::KeyTablePage {
        generation,
        ..table.page(&filter, sort, first, count.min(PAGE_ROWS))
    })
}

/// The names of the keys among `ids` (for the views that name a key by its id).
#[tauri::command]
pub async fn key_names(
    state: State<'_, AppState>,
    ids: Vec<String>,
) -> Result<std::collections::BTreeMap<String, String>> {
    state.with_table(|table, _| table.names(&ids))
}

/// Firing findings (open, acknowledged, snoozed): the Findings view's, loaded when it opens.
#[tauri::command]
pub async fn list_findings(state: State<'_, AppState>) -> Result<api::FindingsListing> {
    let findings = state.read_vault(|v| api::list_findings_once(v, api::FindingState::FIRING)).await;
    crate::trim::soon();
    findings
}

/// How many findings are open (the count beside Findings).
#[tauri::command]
pub async fn count_open_findings(state: State<'_, AppState>) -> Result<usize> {
    state.read_vault(|v| api::count_open_findings(v)).await
}

/// Per practice: what its rules judge and what fails (the Findings view's practice table).
#[tauri::command]
pub async fn list_practices(state: State<'_, AppState>) -> Result<Vec<api::PracticeSummary>> {
    let practices = state.read_vault(|v| api::practices(v)).await;
    crate::trim::soon();
    practices
}

#[tauri::command]
pub async fn run_audit(state: State<'_, AppState>) -> Result<AuditReport> {
    let home = state.home.clone();
    let report = state.with_vault(|v| api::run_audit(&home, v, Utc::now())).await;
    crate::trim::soon();
    report
}

#[tauri::command]
pub async fn finding_history(state: State<'_, AppState>, id: i64) -> Result<Vec<FindingEvent>> {
    state.with_vault(|v| api::finding_history(v, id)).await
}

#[tauri::command]
pub async fn acknowledge_finding(state: State<'_, AppState>, id: i64, note: Option<String>) -> Result<FindingView> {
    state.with_vault(|v| api::acknowledge_finding(v, id, note.as_deref())).await
}

/// Snoozes until `until` (RFC 3339).
#[tauri::command]
pub async fn snooze_finding(
    state: State<'_, AppState>,
    id: i64,
    until: String,
    note: Option<String>,
) -> Result<FindingView> {
    let until = api::parse_time(&until)
        .ok_or_else(|| Error::Invalid { field: "until", reason: format!("{until:?} is not a date") })?;
    state.with_vault(|v| api::snooze_finding(v, id, until, note.as_deref())).await
}

#[tauri::command]
pub async fn reopen_finding(state: State<'_, AppState>, id: i64) -> Result<FindingView> {
    state.with_vault(|v| api::reopen_finding(v, id)).await
}

#[tauri::command]
pub async fn get_policy(state: State<'_, AppState>) -> Result<PolicyView> {
    let home = state.home.clone();
    state.with_vault(|v| api::policy(&home, v)).await
}

/// Saves the policy only if it parses; otherwise the error names the line and nothing changes.
#[tauri::command]
pub async fn save_policy(state: State<'_, AppState>, text: String) -> Result<PolicyView> {
    let home = state.home.clone();
    state.with_vault(|v| api::save_policy(&home, v, &text)).await
}

#[tauri::command]
pub async fn reveal_key(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    limit: State<'_, crate::confirm::RevealLimit>,
    id: String,
) -> Result<String> {
    limit.check()?;
    let key = state.with_vault(|v| api::key(v, &id)).await?;
    let text = format!(
        "Show the secret of {} key \"{}\" in the window?\n\nThe reveal is written to the activity log.",
        crate::confirm::shown(&key.provider),
        crate::confirm::shown(&key.name)
    );
    if !crate::confirm::ask(&app, "Keyward: reveal a secret", &text, "_Reveal").await {
        return Err(crate::confirm::declined("reveal"));
    }
    limit.take()?;
    let secret = state.with_vault(|v| api::reveal_key(v, &id)).await?;
    Ok(secret.expose().to_owned())
}

/// First run: creates the vault (like `create_vault`) and builds the demo workspace in it,
/// with the sync's progress reported as `sync-progress` events.
#[tauri::command]
pub async fn explore_demo(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    passphrase: Option<String>,
) -> Result<Status> {
    if !state.home.is_initialized() {
        state.create(passphrase.filter(|p| !p.is_empty()).map(Secret::new)).await?;
    }
    // The demo syncs too: it takes the window's one sync slot.
    let _turn = state.sync.start(DEMO_TICKET)?;
    // Locking the vault stops it too: no handle outlives the lock.
    let locked = state.session.closed();
    let mut vault = state.detached().await?;
    api::demo(&state.home, &mut vault, &progress_to(app), locked).await?;
    Ok(status_of(&state).await)
}

fn progress_to(app: tauri::AppHandle) -> impl Fn(api::SyncProgress) + Send + Sync {
    move |p| {
        let _ = app.emit(
            "sync-progress",
            ProgressEvent { connector: p.connector, phase: p.phase, done: p.done, total: p.total },
        );
    }
}

#[derive(Serialize)]
pub struct SyncOutcome {
    connector: String,
    ok: bool,
    seen: usize,
    added: usize,
    changed: usize,
    removed: usize,
    error: Option<UiError>,
}

#[derive(Clone, Serialize)]
struct ProgressEvent {
    connector: String,
    phase: &'static str,
    done: usize,
    total: Option<usize>,
}

/// The demo's sync ticket: the window's are 1 to 2^32, so no Cancel of a sync names it.
const DEMO_TICKET: u64 = 0;

#[tauri::command]
pub async fn run_sync(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    ticket: u64,
    connector: Option<String>,
) -> Result<Vec<SyncOutcome>> {
    let turn = state.sync.start(ticket)?;
    // Locking the vault stops the sync too.
    let locked = state.session.closed();
    let mut vault = state.detached().await?;
    let cancelled = async {
        tokio::select! {
            () = async {
                while !turn.cancelled() {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            } => {}
            () = locked => {}
        }
    };
    let outcomes = api::sync_cancellable(&mut vault, connector.as_deref(), &progress_to(app), cancelled).await;
    drop(turn);
    crate::trim::soon();
    let outcomes = outcomes?;
    Ok(outcomes
        .into_iter()
        .map(|(connector, r)| match r {
            Ok(r) => SyncOutcome {
                connector,
                ok: true,
                seen: r.seen,
                added: r.added,
                changed: r.changed,
                removed: r.removed,
                error: None,
            },
            Err(e) => {
                SyncOutcome { connector, ok: false, seen: 0, added: 0, changed: 0, removed: 0, error: Some(e.into()) }
            }
        })
        .collect())
}

/// Stops the sync in progress, if any: what it had not finished is not stored.
#[tauri::command]
pub async fn cancel_sync(state: State<'_, AppState>, ticket: u64) -> Result<()> {
    // Seen by the sync however long it waited for the vault first, and by a sync this Cancel
    // overtook on its way in; never by another.
    state.sync.cancel(ticket);
    Ok(())
}

/// Current exposures (keys found in files).
#[tauri::command]
pub async fn list_exposures(state: State<'_, AppState>) -> Result<Vec<api::ExposureView>> {
    state.read_vault(|v| api::list_exposures(v, false)).await
}

/// The activity log, newest first.
#[tauri::command]
pub async fn activity_log(state: State<'_, AppState>) -> Result<Vec<api::Activity>> {
    state.with_vault(|v| api::activity(v, None)).await
}

/// Whether the activity log is intact (no entry edited, inserted or deleted).
#[tauri::command]
pub async fn verify_activity_log(state: State<'_, AppState>) -> Result<api::LogCheck> {
    state.read_vault(|v| api::verify_activity(v)).await
}

/// Keys found in files that Keyward does not manage.
#[tauri::command]
pub async fn list_shadow_keys(state: State<'_, AppState>) -> Result<Vec<api::ShadowKeyView>> {
    state.read_vault(|v| api::list_shadow_keys(v)).await
}

#[tauri::command]
pub async fn link_shadow_key(state: State<'_, AppState>, id: String, key: String) -> Result<()> {
    state.with_vault(|v| api::link_shadow_key(v, &id, &key)).await
}

#[tauri::command]
pub async fn dismiss_shadow_key(state: State<'_, AppState>, id: String) -> Result<()> {
    state.with_vault(|v| api::dismiss_shadow_key(v, &id)).await
}

/// Marks a found token "not a key": later scans leave it out.
#[tauri::command]
pub async fn mark_not_a_key(state: State<'_, AppState>, id: String) -> Result<()> {
    state.with_vault(|v| api::mark_not_a_key(v, &id)).await
}

/// The tokens marked not a key.
#[tauri::command]
pub async fn list_not_keys(state: State<'_, AppState>) -> Result<Vec<api::NotKeyView>> {
    state.read_vault(|v| api::list_not_keys(v)).await
}

/// Takes a token off the not-a-key list.
#[tauri::command]
pub async fn unmark_not_a_key(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.with_vault(|v| api::unmark_not_a_key(v, id)).await
}

/// Every provider, from the registry (the UI copies no list of them).
#[tauri::command]
pub fn list_providers() -> Vec<api::ProviderView> {
    api::providers()
}

#[tauri::command]
pub async fn get_scan_settings(state: State<'_, AppState>) -> Result<api::ScanSettings> {
    state.with_vault(|v| api::scan_settings(v)).await
}

/// Saves folders and excludes only if every folder exists and every pattern parses.
#[tauri::command]
pub async fn save_scan_settings(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    settings: api::ScanSettings,
) -> Result<api::ScanSettings> {
    let before = state.with_vault(|v| api::scan_settings(v)).await?;
    let mut wider = Vec::new();
    // A folder that does not exist is refused below, unasked.
    let new_folders =
        settings.folders.iter().filter_map(|f| std::fs::canonicalize(f).ok()).filter(|f| !before.folders.contains(f));
    for f in new_folders {
        wider.push(format!("scan the folder {} and everything in it", crate::confirm::shown(&f.display().to_string())));
    }
    for p in settings.verify.iter().filter(|p| !before.verify.contains(p)) {
        wider.push(format!("send keys found in files to {}, to check whether they work", crate::confirm::shown(p)));
    }
    for e in before.excludes.iter().filter(|e| !settings.excludes.contains(e)) {
        wider.push(format!("stop leaving out {}", crate::confirm::shown(e)));
    }
    if settings.git_history && !before.git_history {
        wider.push("read the whole git history of repositories in the scanned folders".to_owned());
    }
    if !wider.is_empty() {
        let text = format!("Allow Keyward to:\n\n• {}", wider.join("\n• "));
        if !crate::confirm::ask(&app, "Keyward: widen the scan", &text, "_Allow").await {
            return Err(crate::confirm::declined("scan settings"));
        }
    }
    state.with_vault(|v| api::save_scan_settings(v, settings)).await
}

/// Scans the default locations and configured folders (progress as `scan-progress` events:
/// files, bytes, hits), then audits; returns the scan without its hits (the view lists
/// exposures).
#[tauri::command]
pub async fn run_scan(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    running: State<'_, RunningScan>,
) -> Result<api::ScanView> {
    let home = state.home.clone();
    let progress = move |p: api::ScanProgress| {
        let _ = app.emit("scan-progress", p);
    };
    // The walk runs on a blocking thread, on a handle of its own; locking the vault stops it at
    // its next file.
    let locked = state.session.closed();
    let vault = state.detached().await?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let was_locked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    *running.0.lock().expect("not poisoned") = Some(stop.clone());
    let watcher = {
        let (stop, was_locked) = (stop.clone(), was_locked.clone());
        tauri::async_runtime::spawn(async move {
            locked.await;
            was_locked.store(true, std::sync::atomic::Ordering::Relaxed);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    let walked = tauri::async_runtime::spawn_blocking(move || {
        let mut vault = vault;
        // Cancel stops the walk at its next file: what it read is stored and audited (a
        // stopped scan marks nothing gone).
        let view = api::scan(&home, &mut vault, &api::ScanRequest::default(), &progress, &stop)?;
        if was_locked.load(std::sync::atomic::Ordering::Relaxed) {
            // Locked during the walk: what it read is stored (a stopped scan marks nothing
            // gone), and nothing more is done with the vault.
            return Err(Error::Vault(api::VaultError::Locked));
        }
        api::run_audit(&home, &mut vault, Utc::now())?;
        Ok::<_, Error>(view)
    })
    .await;
    watcher.abort();
    running.0.lock().expect("not poisoned").take();
    let mut view = walked.map_err(|e| UiError::new("internal", e.to_string()))??;
    view.hits.clear();
    Ok(view)
}

/// The window's running scan, for its Cancel.
#[derive(Default)]
pub struct RunningScan(std::sync::Mutex<Option<std::sync::Arc<std::sync::atomic::AtomicBool>>>);

/// Stops the window's running scan at its next file; false when none runs.
#[tauri::command]
pub fn cancel_scan(running: State<'_, RunningScan>) -> bool {
    match running.0.lock().expect("not poisoned").as_ref() {
        Some(stop) => {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Checks a found key at its provider (only with the user's consent for that provider).
#[tauri::command]
pub async fn verify_shadow_key(state: State<'_, AppState>, id: String) -> Result<api::ShadowKeyView> {
    let locked = state.session.closed();
    let mut vault = state.detached().await?;
    let endpoints = api::Endpoints::new();
    tokio::select! {
        checked = api::verify_shadow_key(&mut vault, &id, &endpoints) => Ok(checked?),
        () = locked => Err(Error::Vault(api::VaultError::Locked).into()),
    }
}

/// What rotating a key would do: the owner's keys at the provider, the steps, the lines the
/// hand-over changes (values masked), the files left to the user, or why it cannot go ahead.
/// Nothing is changed. It asks the provider, so it runs on a handle of its own.
#[tauri::command]
pub async fn plan_rotation(state: State<'_, AppState>, key_id: String) -> Result<api::RotationPlanView> {
    let home = state.home.clone();
    let mut vault = state.detached().await?;
    let grace = api::policy_grace(&home, &vault, &key_id)?;
    Ok(api::plan_rotation(&mut vault, &key_id, &api::RotationOptions { grace, ..Default::default() }).await?)
}

fn rotation_progress_to(app: tauri::AppHandle) -> impl Fn(&str) + Send + Sync {
    move |line| {
        let _ = app.emit("rotation-progress", line.to_owned());
    }
}

/// Rotates a key, after a native confirmation: each step as a `rotation-progress` event, the
/// policy's grace period, the hand-over the plan showed. The new secret never crosses IPC.
#[tauri::command]
pub async fn rotate_key(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    key_id: String,
) -> Result<api::RotationView> {
    let home = state.home.clone();
    let key = state.with_vault(|v| api::key(v, &key_id)).await?;
    let grace = state.with_vault(|v| api::policy_grace(&home, v, &key_id)).await?;
    let text = format!(
        "Rotate {} key \"{}\"?\n\nA new key is made and checked before the old one is touched, the files the plan \
         showed get the new key, and the old key is deleted after {} h.",
        key.provider,
        crate::confirm::shown(&key.name),
        grace.as_secs() / 3_600
    );
    if !crate::confirm::ask(&app, "Keyward: rotate a key", &text, "_Rotate").await {
        return Err(crate::confirm::declined("rotation"));
    }
    let mut vault = state.detached().await?;
    let opts = api::RotationOptions { grace, ..Default::default() };
    Ok(api::rotate(&mut vault, &key_id, &opts, &rotation_progress_to(app)).await?)
}

/// Every rotation, newest first (the app's banner shows the unfinished ones).
#[tauri::command]
pub async fn list_rotations(state: State<'_, AppState>) -> Result<Vec<api::RotationView>> {
    state.read_vault(|v| api::list_rotations(v)).await
}

/// Goes on with an unfinished rotation (after a crash or a failed step), reconciling with the
/// provider first.
#[tauri::command]
pub async fn resume_rotation(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<api::RotationView> {
    let mut vault = state.detached().await?;
    Ok(api::resume_rotation(&mut vault, &id, &rotation_progress_to(app)).await?)
}

/// Undoes an unfinished rotation: the old key comes back, the new one goes.
#[tauri::command]
pub async fn abort_rotation(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<api::RotationView> {
    let mut vault = state.detached().await?;
    Ok(api::abort_rotation(&mut vault, &id, &rotation_progress_to(app)).await?)
}
