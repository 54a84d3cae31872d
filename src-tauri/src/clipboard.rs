//! Copying a key's secret without it ever entering the web view: the shell reads it from the
//! vault and puts it on the system clipboard itself (GTK), after a native confirmation and under
//! the reveal rate limit, and clears it after [`CLEAR_AFTER`], or when the vault locks, unless
//! something else was copied since. It is never handed to a clipboard manager to keep (no
//! `store()`), so it does not outlive Keyward in a history file.

use std::time::Duration;

use keyward_core::api;
use tauri::{Manager as _, State};

use crate::confirm;
use crate::error::UiError;
use crate::state::AppState;

/// How long a copied secret stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

#[tauri::command]
pub async fn copy_key(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    limit: State<'_, confirm::RevealLimit>,
    id: String,
) -> Result<(), UiError> {
    limit.check()?;
    let key = state.with_vault(|v| api::key(v, &id)).await?;
    let text = format!(
        "Copy the secret of {} key \"{}\" to the clipboard?\n\nIt is cleared after {} seconds; the copy is written to the activity log.",
        confirm::shown(&key.provider),
        confirm::shown(&key.name),
        CLEAR_AFTER.as_secs()
    );
    if !confirm::ask(&app, "Keyward: copy a secret", &text, "_Copy").await {
        return Err(confirm::declined("copy"));
    }
    limit.take()?;
    let secret = state.with_vault(|v| api::copy_key(v, &id)).await?;
    set(&app, secret.expose().to_owned())?;
    let later = app.clone();
    let copied = secret.clone();
    *app.state::<Copied>().0.lock().expect("not poisoned") = Some(secret);
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(CLEAR_AFTER).await;
        let _ = clear_if(&later, copied);
    });
    Ok(())
}

/// The secret last copied, so a lock can take it off the clipboard before its 30 s are up.
#[derive(Default)]
pub struct Copied(std::sync::Mutex<Option<keyward_core::Secret>>);

/// Takes the last copied secret off the clipboard if it is still there (at lock and exit).
pub fn forget(app: &tauri::AppHandle) {
    if let Some(secret) = app.state::<Copied>().0.lock().expect("not poisoned").take() {
        let _ = clear_if(app, secret);
    }
}

#[cfg(target_os = "linux")]
fn set(app: &tauri::AppHandle, text: String) -> Result<(), UiError> {
    app.run_on_main_thread(move || {
        gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD).set_text(&text);
    })
    .map_err(|e| UiError::new("internal", e.to_string()))
}

/// Clears the clipboard if it still holds `secret` (the user may have copied something else).
#[cfg(target_os = "linux")]
fn clear_if(app: &tauri::AppHandle, secret: keyward_core::Secret) -> Result<(), UiError> {
    app.run_on_main_thread(move || {
        let clipboard = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
        // Overwritten, not cleared: keeping the selection leaves a clipboard manager nothing to
        // put back.
        if clipboard.wait_for_text().is_some_and(|t| t.as_str() == secret.expose()) {
            clipboard.set_text("");
        }
    })
    .map_err(|e| UiError::new("internal", e.to_string()))
}

#[cfg(not(target_os = "linux"))]
fn set(_: &tauri::AppHandle, _: String) -> Result<(), UiError> {
    Err(UiError::new("unsupported", "copying is supported on Linux only"))
}

#[cfg(not(target_os = "linux"))]
fn clear_if(_: &tauri::AppHandle, _: keyward_core::Secret) -> Result<(), UiError> {
    Ok(())
}
