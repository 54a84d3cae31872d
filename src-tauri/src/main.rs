//! Keyward's desktop shell: a window over `keyward-core`. The home comes from `KEYWARD_HOME`
//! (else the OS data dir) and the passphrase, for headless use, from `KEYWARD_PASSPHRASE`, as in
//! the CLI. Without them the app unlocks through the keychain or asks for the passphrase.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod background;
mod clipboard;
mod commands;
mod confirm;
mod error;
mod manage;
mod state;
mod trim;

use keyward_core::api::Home;
use tauri::Manager;

/// WebKit rasterises the page's tiles in software on its CPU painting threads (WebKitGTK 2.50;
/// on its main thread in 2.46 and 2.48; an older WebKit ignores the setting), not with GL on a
/// GPU painting thread of its own, unless the user chose otherwise
/// (`WEBKIT_SKIA_GPU_PAINTING_THREADS`; `=1` is WebKit's default on two cores). Compositing stays
/// on the GPU. That thread's GL context and Skia caches were ~30 MiB of the web process at 10,000
/// keys, and a keystroke's rows and a sort reach the screen as fast without it
/// (`tests/benches/window.rs`, docs/benchmarks.md) — measured under Xvfb, where GL is software
/// too; on a GPU desktop, large repaints (a HiDPI screen of rows) rasterise on the CPU instead.
///
/// # Safety
/// Sets a variable of the process: call it before any other thread exists.
unsafe fn paint_without_a_gpu_painting_thread() {
    const THREADS: &str = "WEBKIT_SKIA_GPU_PAINTING_THREADS";
    if cfg!(target_os = "linux") && std::env::var_os(THREADS).is_none() {
        // SAFETY: the caller guarantees no other thread reads the environment meanwhile.
        unsafe { std::env::set_var(THREADS, "0") };
    }
}

fn home() -> anyhow::Result<Home> {
    let dir = match std::env::var_os("KEYWARD_HOME") {
        Some(d) => d.into(),
        None => Home::default_dir().ok_or_else(|| anyhow::anyhow!("no OS data directory; set KEYWARD_HOME"))?,
    };
    Ok(Home::new(dir))
}

fn main() -> anyhow::Result<()> {
    // SAFETY: first thing in main; no other thread exists yet.
    unsafe { keyward_core::api::harden_process() };
    trim::fixed_thresholds();
    // SAFETY: still before any other thread.
    unsafe { paint_without_a_gpu_painting_thread() };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log piped to a file or a journal stays plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let state = state::AppState::new(home()?);
    tauri::async_runtime::block_on(state.try_unlock_at_start());
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(navigation_guard())
        .manage(state)
        .manage(confirm::RevealLimit::default())
        .manage(commands::RunningScan::default())
        .manage(clipboard::Copied::default())
        .manage(background::Clicks::default())
        .setup(|app| {
            let handle = app.handle().clone();
            let has_tray = background::tray(&handle);
            background::Clicks::listen(&handle);
            background::idle_lock(&handle);
            // Started in the tray (a setting of the vault, so only when it opened without asking).
            let in_tray = app.state::<state::AppState>().desktop_settings().start_in_tray;
            if has_tray
                && in_tray
                && let Some(window) = app.get_webview_window("main")
            {
                let _ = window.hide();
            }
            app.manage(Background { stop: background::start(&handle), has_tray });
            Ok(())
        })
        .on_window_event(|window, event| {
            // With a tray, closing the window keeps Keyward running there (jobs and notifications
            // go on); without one, or with KEYWARD_QUIT_ON_CLOSE set, closing quits.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let background = window.state::<Background>();
                if background.has_tray && std::env::var_os("KEYWARD_QUIT_ON_CLOSE").is_none() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::vault_status,
            commands::unlock_vault,
            commands::lock_vault,
            commands::create_vault,
            commands::explore_demo,
            commands::load_key_table,
            commands::key_table_rows,
            commands::key_names,
            commands::count_open_findings,
            commands::list_findings,
            commands::list_practices,
            commands::run_audit,
            commands::finding_history,
            commands::acknowledge_finding,
            commands::snooze_finding,
            commands::reopen_finding,
            commands::get_policy,
            commands::save_policy,
            commands::run_sync,
            commands::cancel_sync,
            commands::reveal_key,
            commands::list_exposures,
            commands::list_shadow_keys,
            commands::link_shadow_key,
            commands::dismiss_shadow_key,
            commands::mark_not_a_key,
            commands::list_not_keys,
            commands::unmark_not_a_key,
            commands::list_providers,
            commands::get_scan_settings,
            commands::save_scan_settings,
            commands::run_scan,
            commands::cancel_scan,
            commands::verify_shadow_key,
            commands::activity_log,
            commands::verify_activity_log,
            commands::plan_rotation,
            commands::rotate_key,
            commands::list_rotations,
            commands::resume_rotation,
            commands::abort_rotation,
            clipboard::copy_key,
            manage::key_detail,
            manage::health_history,
            manage::tag_key,
            manage::list_connectors,
            manage::add_connector,
            manage::edit_connector,
            manage::test_connector,
            manage::remove_connector,
            manage::add_key,
            manage::check_key,
            manage::list_jobs,
            manage::set_job,
            manage::next_fires,
            manage::notification_preferences,
            manage::change_notification_preferences,
            manage::list_webhooks,
            manage::add_webhook,
            manage::remove_webhook,
            manage::test_webhook,
            manage::list_deliveries,
            manage::export_report,
            manage::export_view,
            manage::tray_status,
            manage::user_active,
            manage::window_started,
            manage::desktop_settings,
            manage::save_desktop_settings,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"))?;
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Stop scheduling. A run still going ends with the process; syncs and audits write in
            // one transaction each, so a cut-off run changes nothing and is caught up next start.
            let _ = handle.state::<Background>().stop.send(true);
            clipboard::forget(handle);
        }
    });
    Ok(())
}

/// Keeps the window on the app. A compromised page could otherwise navigate to any address and
/// carry data out in the URL, whatever `connect-src` says: only the app's own origin loads.
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let ours = url.scheme() == "tauri" || url.host_str() == Some("tauri.localhost");
            if !ours {
                // The origin only: a URL's path and query may be exactly what was being carried out.
                tracing::warn!(origin = %url.origin().ascii_serialization(), "navigation away from the app refused");
            }
            ours
        })
        .build()
}

/// The background scheduler's off switch, and whether a tray exists.
pub struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    pub has_tray: bool,
}
