//! The commands of the app's management pages: a key's whole story, the dashboard's history,
//! connectors, keys registered by hand, schedules, notifications and webhooks, and exports. Like
//! `commands`, each calls one `keyward_core::api` function; what asks a provider runs on a
//! detached handle, and what writes a file or sends data somewhere new is chosen or confirmed in a
//! native dialog the page cannot click.

use std::collections::BTreeMap;

use chrono::Utc;
use keyward_core::api::{self, Credentials};
use keyward_core::{Error, Secret};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::confirm::{self, shown};
use crate::error::UiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, UiError>;

#[tauri::command]
pub async fn key_detail(state: State<'_, AppState>, id: String) -> Result<api::KeyDetailView> {
    state.with_vault(|v| api::key_detail(v, &id)).await
}

/// What the last audits left open, oldest first (at most a year of daily audits).
#[tauri::command]
pub async fn health_history(state: State<'_, AppState>) -> Result<Vec<api::HealthPoint>> {
    state.with_vault(|v| api::health_history(v, 366)).await
}

#[tauri::command]
pub async fn tag_key(
    state: State<'_, AppState>,
    id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<api::KeyView> {
    state.with_vault(|v| api::tag_key(v, &id, &add, &remove)).await
}

#[tauri::command]
pub async fn list_connectors(state: State<'_, AppState>) -> Result<Vec<api::ConnectorView>> {
    state.with_vault(|v| api::list_connectors(v)).await
}

/// Adds a connector from the form: settings as typed (read as the registry types them) and the
/// credentials, which are sealed at once and never sent back. A connector pointed at an endpoint
/// of the page's choosing would send requests signed with the user's credentials there, so an
/// endpoint is confirmed outside the page.
#[tauri::command]
pub async fn add_connector(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    name: String,
    provider: String,
    settings: BTreeMap<String, String>,
    credentials: BTreeMap<String, String>,
) -> Result<api::ConnectorView> {
    let settings = api::connector_settings(&provider, &settings)?;
    if let Some(endpoint) = settings.text("endpoint") {
        confirm_endpoint(&app, &name, &provider, endpoint, "its credentials").await?;
    }
    let typed = typed_credentials(credentials);
    state.with_vault(|v| api::add_connector(v, &name, &provider, settings, &typed)).await
}

/// Changes a connector's settings, and its credentials when any are typed (else the sealed ones
/// are kept and never leave the shell). Any change of its settings is confirmed natively, each
/// named with its new value: an endpoint would receive its signed requests, and a narrower scope
/// (fewer accounts, regions, an organisation off) would have the next sync mark the keys it no
/// longer reads removed and resolve their findings, as removing the connector does. A connector
/// whose stored settings were changed outside Keyward is confirmed too, saying so.
#[tauri::command]
pub async fn edit_connector(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    name: String,
    settings: BTreeMap<String, String>,
    credentials: BTreeMap<String, String>,
) -> Result<api::ConnectorView> {
    let before = state.with_vault(|v| api::connector(v, &name)).await?;
    let settings = api::connector_settings(&before.provider, &settings)?;
    let changed = api::changed_settings(&before.settings, &settings);
    if !changed.is_empty() || !before.settings_intact {
        let mut text = format!("Change connector \"{}\" ({})?\n", shown(&name), shown(&before.provider));
        if !before.settings_intact {
            text.push_str("\nIts stored settings were changed outside Keyward. Saving trusts them as shown here.\n");
        }
        for setting in &changed {
            let value = settings.get(setting).map_or("(cleared)".to_owned(), |v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            text.push_str(&format!("\n{}: {}", shown(setting), shown(&value)));
        }
        if let Some(endpoint) = settings.text("endpoint")
            && (changed.iter().any(|s| s == "endpoint") || !before.settings_intact)
        {
            let whose = if credentials.is_empty() { "its stored credentials" } else { "its new credentials" };
            text.push_str(&format!(
                "\n\nRequests signed with {whose} go to the host\n\n{}\n\ninstead of {}'s own address.",
                shown(&endpoint_host(endpoint)?),
                shown(&before.provider)
            ));
        }
        text.push_str("\n\nKeys it no longer reads are marked removed at its next sync, and their findings resolved.");
        if !confirm::ask(&app, "Keyward: change a connector", &text, "_Save").await {
            return Err(confirm::declined("change a connector"));
        }
    }
    let typed = (!credentials.is_empty()).then(|| typed_credentials(credentials));
    state.with_vault(|v| api::edit_connector(v, &name, settings, typed.as_ref())).await
}

/// Asks, outside the page, before a new connector's requests go to an endpoint other than its
/// provider's own.
async fn confirm_endpoint(
    app: &tauri::AppHandle,
    name: &str,
    provider: &str,
    endpoint: &str,
    whose: &str,
) -> Result<()> {
    let text = format!(
        "Send connector \"{}\"'s requests, signed with {whose}, to the host\n\n{}\n\n({}) instead of {}'s own address?",
        shown(name),
        shown(&endpoint_host(endpoint)?),
        shown(endpoint),
        shown(provider)
    );
    if confirm::ask(app, "Keyward: a connector endpoint", &text, "_Use it").await {
        Ok(())
    } else {
        Err(confirm::declined("connector endpoint"))
    }
}

/// An endpoint's host, as a dialog shows it on a line of its own, whole: a long name cut short
/// could hide where the credentials go (api.datadoghq.com.<…>.evil.example).
fn endpoint_host(endpoint: &str) -> Result<String> {
    let host = tauri::Url::parse(endpoint).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    if host.is_empty() || host.len() > 100 {
        return Err(UiError::new("invalid", "endpoint: a URL whose host is at most 100 characters"));
    }
    Ok(host)
}

fn typed_credentials(fields: BTreeMap<String, String>) -> Credentials {
    let mut typed = Credentials::default();
    for (field, value) in fields {
        typed.insert(&field, Secret::new(value));
    }
    typed
}

/// Checks a connector's credentials and permissions at its provider (on a handle of its own).
#[tauri::command]
pub async fn test_connector(state: State<'_, AppState>, name: String) -> Result<Vec<api::CheckView>> {
    let locked = state.session.closed();
    let mut vault = state.detached().await?;
    tokio::select! {
        checks = api::test_connector(&mut vault, &name) => Ok(checks?),
        () = locked => Err(Error::Vault(api::VaultError::Locked).into()),
    }
}

/// What removing a connector did.
#[derive(Serialize)]
pub struct Removed {
    keys: usize,
    findings: usize,
}

/// Removes a connector once the user confirms what goes with it (outside the page).
#[tauri::command]
pub async fn remove_connector(app: tauri::AppHandle, state: State<'_, AppState>, name: String) -> Result<Removed> {
    let what = state.with_vault(|v| api::connector_removal(v, &name)).await?;
    let text = format!(
        "Remove connector \"{}\"?\n\nIts {} keys become removed and {} firing findings resolve; their history is kept.",
        shown(&name),
        what.keys,
        what.findings
    );
    if !confirm::ask(&app, "Keyward: remove a connector", &text, "_Remove").await {
        return Err(confirm::declined("remove connector"));
    }
    let done = state.with_vault(|v| api::remove_connector(v, &name)).await?;
    Ok(Removed { keys: done.keys, findings: done.findings })
}

/// Registers a key by hand with its secret (typed into a masked field, sealed at once).
#[tauri::command]
pub async fn add_key(
    state: State<'_, AppState>,
    provider: String,
    name: String,
    owner: Option<String>,
    expires_at: Option<String>,
    tags: Vec<String>,
    secret: String,
) -> Result<api::KeyView> {
    let expires_at = match expires_at.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(text) => Some(expiry(text)?),
    };
    // Tags first: a bad one must not leave the key registered without them (a retry would
    // register it twice).
    let tags = api::check_tags(&tags)?;
    let owner = owner.map(|o| o.trim().to_owned()).filter(|o| !o.is_empty());
    let new = api::NewKey { provider, name, owner, expires_at, secret: Secret::new(secret) };
    state
        .with_vault(|v| {
            let key = api::add_key(v, new)?;
            if tags.is_empty() { Ok(key) } else { api::tag_key(v, &key.id, &tags, &[]) }
        })
        .await
}

/// An expiry as a date (`2027-03-01`, the end of that day in UTC) or an RFC 3339 time.
fn expiry(text: &str) -> Result<chrono::DateTime<Utc>> {
    if let Some(t) = api::parse_time(text) {
        return Ok(t);
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
        .ok_or_else(|| UiError::new("invalid", format!("expiry {:?}: a date such as 2027-03-01", shown(text))))
}

/// Asks the provider whether a key registered by hand still works, where it can tell (Linear).
#[tauri::command]
pub async fn check_key(state: State<'_, AppState>, id: String) -> Result<api::KeyView> {
    let locked = state.session.closed();
    let mut vault = state.detached().await?;
    tokio::select! {
        checked = api::check_key(&mut vault, &id) => Ok(checked?),
        () = locked => Err(Error::Vault(api::VaultError::Locked).into()),
    }
}

#[tauri::command]
pub async fn list_jobs(state: State<'_, AppState>) -> Result<Vec<api::jobs::JobView>> {
    state.with_vault(|v| api::jobs::list_jobs(v)).await
}

/// Changes a job's schedule or turns it on or off; the scheduler picks it up at its next wake.
/// Pausing one is confirmed outside the page (a paused audit tells of nothing).
#[tauri::command]
pub async fn set_job(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    id: String,
    cron: Option<String>,
    enabled: Option<bool>,
) -> Result<()> {
    if enabled == Some(false) {
        let text = format!(
            "Pause the scheduled job \"{}\"?\n\nIt will not run, and tell of nothing it would have found, until it is resumed.",
            shown(&id)
        );
        if !confirm::ask(&app, "Keyward: pause a job", &text, "_Pause").await {
            return Err(confirm::declined("pause a job"));
        }
    }
    if let Some(new) = cron.as_deref() {
        let jobs = state.with_vault(|v| api::jobs::list_jobs(v)).await?;
        if let Some(job) = jobs.iter().find(|j| j.id == id)
            && api::jobs::runs_less_often(&job.cron, new, Utc::now())?
        {
            let next = api::next_fires(new, Utc::now(), 3)?;
            let text = format!(
                "Run the scheduled job \"{}\" less often?\n\n{} (was {})\nNext runs: {}\n\nIt tells of nothing it would have found in between.",
                shown(&id),
                shown(new),
                shown(&job.cron),
                if next.is_empty() { "none".to_owned() } else { next.join(", ") }
            );
            if !confirm::ask(&app, "Keyward: run a job less often", &text, "_Save").await {
                return Err(confirm::declined("run a job less often"));
            }
        }
    }
    state.with_vault(|v| api::jobs::set_job(v, &id, cron.as_deref(), enabled)).await
}

/// The next five times a cron expression fires, to show beside the field as it is typed.
#[tauri::command]
pub fn next_fires(cron: String) -> Result<Vec<String>> {
    Ok(api::next_fires(&cron, Utc::now(), 5)?)
}

#[tauri::command]
pub async fn notification_preferences(state: State<'_, AppState>) -> Result<api::Preferences> {
    state.with_vault(|v| api::notification_preferences(v)).await
}

/// The form's fields, as the CLI's flags read them (`22-7`, `off`, `on`).
#[derive(serde::Deserialize)]
pub struct PreferenceForm {
    min_severity: Option<String>,
    quiet_hours: Option<String>,
    digest: Option<String>,
    desktop: Option<String>,
}

#[tauri::command]
pub async fn change_notification_preferences(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    changes: PreferenceForm,
) -> Result<api::Preferences> {
    let changes = api::PreferenceChanges {
        min_severity: changes.min_severity,
        quiet_hours: changes.quiet_hours,
        digest: changes.digest,
        desktop: changes.desktop,
    };
    // What the change would silence is confirmed outside the page: a script in it must not quiet
    // the alerts about the keys it is after.
    let before = state.with_vault(|v| api::notification_preferences(v)).await?;
    let silenced = api::silenced(&before, &api::preview_notification_preferences(&before, &changes)?);
    if !silenced.is_empty() {
        let text = format!("Change the notifications?\n\n{}", silenced.join("\n"));
        if !confirm::ask(&app, "Keyward: quieter notifications", &text, "_Quiet them").await {
            return Err(confirm::declined("quieter notifications"));
        }
    }
    state
        .with_vault(|v| {
            if api::notification_preferences(v)? != before {
                return Err(Error::Conflict("the preferences changed meanwhile; look again and save".into()));
            }
            api::change_notification_preferences(v, &changes)
        })
        .await
}

#[tauri::command]
pub async fn list_webhooks(state: State<'_, AppState>) -> Result<Vec<api::WebhookView>> {
    state.with_vault(|v| api::list_webhooks(v)).await
}

/// A webhook added, and its generated signing key (shown once).
#[derive(Serialize)]
pub struct AddedWebhook {
    webhook: api::WebhookView,
    signing_key: Option<String>,
}

/// Adds a webhook once the user confirms, outside the page, where findings will be sent: a page
/// that could add one unasked could send the inventory's findings anywhere.
#[tauri::command]
pub async fn add_webhook(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    name: String,
    kind: String,
    url: String,
) -> Result<AddedWebhook> {
    // The whole URL, not only its host: on a shared host (hooks.slack.com) the path says whose
    // workspace receives the findings. The dialog is outside the page, so showing it is safe.
    // Shown whole, in lines of 80 (Teams' URLs run past 200 characters).
    let url = url.trim().to_owned();
    if url.chars().count() > 600 || tauri::Url::parse(&url).is_err() {
        return Err(UiError::new("invalid", "webhook URL: an http(s) URL of at most 600 characters"));
    }
    let chars: Vec<char> = url.chars().collect();
    let lines: Vec<String> = chars.chunks(80).map(|line| shown(&line.iter().collect::<String>())).collect();
    let text = format!(
        "Send Keyward's notifications of risky keys (names, owners, findings; never a secret) to\n\n{}\n\nas webhook \"{}\" ({})?",
        lines.join("\n"),
        shown(&name),
        shown(&kind)
    );
    if !confirm::ask(&app, "Keyward: add a webhook", &text, "_Add").await {
        return Err(confirm::declined("webhook"));
    }
    let url = Secret::new(url);
    let added = state.with_vault(|v| api::add_webhook(v, &name, &kind, &url, None)).await?;
    Ok(AddedWebhook { webhook: added.view, signing_key: added.generated_key.map(|k| k.expose().to_owned()) })
}

/// Removes a webhook, confirmed outside the page (its channel stops hearing of findings).
#[tauri::command]
pub async fn remove_webhook(app: tauri::AppHandle, state: State<'_, AppState>, name: String) -> Result<()> {
    let text = format!("Remove webhook \"{}\"?\n\nKeyward stops sending it findings.", shown(&name));
    if !confirm::ask(&app, "Keyward: remove a webhook", &text, "_Remove").await {
        return Err(confirm::declined("remove a webhook"));
    }
    state.with_vault(|v| api::remove_webhook(v, &name)).await
}

/// Sends a test notification to one webhook and returns its delivery.
#[tauri::command]
pub async fn test_webhook(state: State<'_, AppState>, name: String) -> Result<api::Delivery> {
    let locked = state.session.closed();
    let vault = state.detached().await?;
    // The delivery borrows the vault across its awaits, and a vault is not shared between
    // threads: it runs on a thread of its own (bounded by the delivery's retries). Locking
    // answers the window at once; that thread's handle closes when its delivery is logged.
    let delivery =
        tauri::async_runtime::spawn_blocking(move || tauri::async_runtime::block_on(api::test_webhook(&vault, &name)));
    tokio::select! {
        delivered = delivery => Ok(delivered.map_err(|e| UiError::new("internal", e.to_string()))??),
        () = locked => Err(Error::Vault(api::VaultError::Locked).into()),
    }
}

#[tauri::command]
pub async fn list_deliveries(state: State<'_, AppState>) -> Result<Vec<api::Delivery>> {
    state.with_vault(|v| api::deliveries(v, 200)).await
}

/// Writes a findings report in `format` to a file the user picks in a native save dialog (the
/// page never names a path, so it cannot overwrite one); returns the path written.
#[tauri::command]
pub async fn export_report(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    format: String,
) -> Result<Option<String>> {
    let chosen = api::ReportFormat::parse(&format).ok_or_else(|| {
        UiError::new("invalid", format!("report format {:?}: json, csv, sarif, ocsf or html", shown(&format)))
    })?;
    let text = state.with_vault(|v| api::report(v, chosen, &[], &api::PracticeFilter::default())).await?;
    save(&app, &format!("keyward-findings.{}", extension(&format)), text.as_bytes()).await
}

/// Where an export of the inventory went, and how many keys it holds.
#[derive(Serialize)]
pub struct SavedView {
    path: String,
    keys: usize,
}

/// Writes the rows the inventory shows (its filter, in its order: names, owners, dates, never a
/// secret) to a file the user picks in a native save dialog; `None` when cancelled.
#[tauri::command]
pub async fn export_view(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    format: api::ExportFormat,
    filter: api::KeyFilter,
    sort: api::KeySort,
) -> Result<Option<SavedView>> {
    let (text, keys) = state.with_table(|table, _| table.export(&filter, sort, format))??;
    let name = match format {
        api::ExportFormat::Csv => "keyward-keys.csv",
        api::ExportFormat::Json => "keyward-keys.json",
    };
    Ok(save(&app, name, text.as_bytes()).await?.map(|path| SavedView { path, keys }))
}

fn extension(format: &str) -> &str {
    match format {
        "sarif" => "sarif.json",
        "ocsf" => "ocsf.json",
        other => other,
    }
}

/// Asks where to save and writes there (readable by the user alone); `None` when cancelled.
async fn save(app: &tauri::AppHandle, suggested: &str, bytes: &[u8]) -> Result<Option<String>> {
    let Some(path) = confirm::save_as(app, "Keyward: save", suggested).await else {
        return Ok(None);
    };
    api::files::write_atomically(&path, bytes)
        .map_err(|e| UiError::new("io", format!("{}: {e}", shown(&path.display().to_string()))))?;
    Ok(Some(path.display().to_string()))
}

/// Updates the tray's tooltip: the open high and critical findings, and `progress` (what the
/// window is doing), after the window refreshes and as long work reports.
#[tauri::command]
pub async fn tray_status(app: tauri::AppHandle, progress: Option<String>) -> Result<()> {
    crate::background::tray_status(&app, progress.as_deref()).await;
    Ok(())
}

/// The user did something in the window (a click, a key): the idle lock starts counting again.
/// Listings the window makes on its own (after a background job) do not count.
#[tauri::command]
pub fn user_active(state: State<'_, AppState>) {
    state.touch();
}

/// A step of the window's start, as the page saw it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartStep {
    /// The inventory's first rows are painted.
    Rows,
    /// Everything the views show has loaded.
    Loaded,
}

/// Each step is told once per run of the app: the inventory is drawn anew whenever it is opened,
/// and a page could call this in a loop.
static TOLD: [std::sync::atomic::AtomicBool; 2] =
    [std::sync::atomic::AtomicBool::new(false), std::sync::atomic::AtomicBool::new(false)];

/// The longest start that is logged: past it, the numbers are not a start's.
const LONGEST_START_MS: f64 = 10.0 * 60_000.0;

/// The page tells how its start went: when it began and when `step` happened, in ms since the
/// epoch by its own clock. Logged once per step under `keyward_desktop::startup` at `info`
/// (`KEYWARD_LOG=warn,keyward_desktop::startup=info`), for whoever asks why the window is slow to
/// show keys; `tests/benches/window.rs` times starts from this line, as users start the app. Only
/// numbers, and only plausible ones (the step at most ten minutes after the page began, and the
/// page's clock within a minute of the shell's); nothing of the vault.
#[tauri::command]
pub fn window_started(step: StartStep, began: f64, at: f64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let plausible = began.is_finite()
        && at.is_finite()
        && (now - began).abs() < LONGEST_START_MS + 60_000.0
        && (0.0..=LONGEST_START_MS).contains(&(at - began));
    if !plausible || TOLD[step as usize].swap(true, std::sync::atomic::Ordering::AcqRel) {
        return;
    }
    tracing::info!(
        target: "keyward_desktop::startup",
        "{step:?} at={at:.0} began={began:.0}: {:.0} ms after the page began",
        at - began
    );
}

/// The desktop settings (lock timeout, start in tray, saved filters) and whether this desktop has
/// a tray to start in.
#[derive(Serialize)]
pub struct DesktopSettingsView {
    settings: api::DesktopSettings,
    has_tray: bool,
}

#[tauri::command]
pub async fn desktop_settings(
    state: State<'_, AppState>,
    background: State<'_, crate::Background>,
) -> Result<DesktopSettingsView> {
    let settings = state.read_vault(|v| api::desktop_settings(v)).await?;
    Ok(DesktopSettingsView { settings, has_tray: background.has_tray })
}

/// Saves the desktop settings. A change that keeps the vault open longer when left alone (a later
/// lock, or none) is confirmed outside the page: a script in the page must not be able to switch
/// the idle lock off for good unseen. (While it runs it can still keep the vault awake, as the
/// user's input is the page's word through `user_active`: a known limit, not a guarantee.)
#[tauri::command]
pub async fn save_desktop_settings(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    settings: api::DesktopSettings,
) -> Result<api::DesktopSettings> {
    let before = state.with_vault(|v| api::desktop_settings(v)).await?;
    if api::loosens_lock(&before, &settings) {
        let when = match settings.lock_after_minutes {
            0 => "never lock itself".to_owned(),
            m => format!("lock itself only after {m} minutes without use"),
        };
        let text = format!("Let the vault {when}?\n\nUntil then, anyone at this computer can use it.");
        if !confirm::ask(&app, "Keyward: the idle lock", &text, "_Allow").await {
            return Err(confirm::declined("change the idle lock"));
        }
    }
    // Written only over what was judged above: a change saved meanwhile (a tighter lock) is not
    // overwritten by this one unconfirmed.
    let saved = state
        .with_vault(|v| {
            if api::desktop_settings(v)? != before {
                return Err(Error::Conflict("the settings changed meanwhile; look again and save".into()));
            }
            api::save_desktop_settings(v, &settings)
        })
        .await?;
    state.remember(saved.clone());
    Ok(saved)
}
