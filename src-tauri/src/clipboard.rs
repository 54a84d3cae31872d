//! Copying a key's secret without it ever entering the web view: the shell reads it from the
//! vault and puts it on the system clipboard itself (GTK), after a native confirmation and under
//! the reveal rate limit, and clears it after [`CLEAR_AFTER`] unless something else was copied
//! since.

use std::time::Duration;

use keyward_core::api;
use tauri::State;

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
    limit.take()?;
    let key = state.with_vault(|v| api::key(v, &id)).await?;
    let text = format!(
        "Copy the secret of {} key \"{}\" to the clipboard?\n\nIt is cleared after {} seconds; the copy is written to the activity log.",
        key.provider,
        confirm::shown(&key.name),
        CLEAR_AFTER.as_secs()
    );
    if !confirm::ask(&app, "Keyward: copy a secret", &text, "_Copy").await {
        return Err(confirm::declined("copy"));
    }
    let secret = state.with_vault(|v| api::copy_key(v, &id)).await?;
    set(&app, Some(secret.expose().to_owned()))?;
    let later = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(CLEAR_AFTER).await;
        let _ = clear_if(&later, secret);
    });
    Ok(())
}

#[cfg(target_os = "linux")]
fn set(app: &tauri::AppHandle, text: Option<String>) -> Result<(), UiError> {
    app.run_on_main_thread(move || {
        let clipboard = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
        match text {
            Some(t) => clipboard.set_text(&t),
            None => clipboard.clear(),
        }
        clipboard.store();
    })
    .map_err(|e| UiError::new("internal", e.to_string()))
}

/// Clears the clipboard if it still holds `secret` (the user may have copied something else).
#[cfg(target_os = "linux")]
fn clear_if(app: &tauri::AppHandle, secret: keyward_core::Secret) -> Result<(), UiError> {
    app.run_on_main_thread(move || {
        let clipboard = gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD);
        if clipboard.wait_for_text().is_some_and(|t| t.as_str() == secret.expose()) {
            clipboard.set_text("");
            clipboard.clear();
        }
    })
    .map_err(|e| UiError::new("internal", e.to_string()))
}

#[cfg(not(target_os = "linux"))]
fn set(_: &tauri::AppHandle, _: Option<String>) -> Result<(), UiError> {
    Err(UiError::new("unsupported", "copying is supported on Linux only"))
}

#[cfg(not(target_os = "linux"))]
fn clear_if(_: &tauri::AppHandle, _: keyward_core::Secret) -> Result<(), UiError> {
    Ok(())
}
