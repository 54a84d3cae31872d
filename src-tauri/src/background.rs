//! The desktop's background work: the scheduler (syncs, audit) running while the app lives,
//! even with its window closed to the tray, and desktop notifications of what the audits find.
//!
//! Jobs run only while the vault is unlocked: a locked app lists no jobs, and the first look
//! after unlocking catches up what was missed (see `keyward_core::api::jobs`).

use std::sync::Arc;

use keyward_core::Error;
use keyward_core::api::Notification;
use keyward_core::api::jobs::{self as schedule, BoxFuture, Claim, Event, Host, Job, JobRun, JobSpec, VaultHost};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::state::AppState;

/// The scheduler's host inside the app: the core's [`VaultHost`] on the window's session (jobs
/// stop with the lock, run on handles of their own, and take the job's lease so the daemon never
/// runs them too), with notifications on the desktop and the window told after each run.
pub struct DesktopHost {
    pub app: AppHandle,
    inner: VaultHost,
}

/// Shows one notification through the OS (Freedesktop notifications on Linux).
fn show(app: &AppHandle, n: &Notification) -> Result<(), String> {
    app.notification().builder().title(&n.title).body(&n.body).show().map_err(|e| e.to_string())
}

impl Host for DesktopHost {
    fn jobs(&self) -> BoxFuture<'_, Result<Vec<JobSpec>, Error>> {
        self.inner.jobs()
    }

    fn run(&self, job: Job) -> BoxFuture<'_, Result<String, Error>> {
        Box::pin(async move {
            let out = self.inner.run(job).await;
            let _ = self.app.emit("inventory-changed", ());
            tray_status(&self.app, None).await;
            out
        })
    }

    fn record(&self, job: Job, run: JobRun) -> BoxFuture<'_, Result<(), Error>> {
        self.inner.record(job, run)
    }

    fn claim(&self, job: &Job, fire_at: chrono::DateTime<chrono::Utc>) -> BoxFuture<'_, Result<Claim, Error>> {
        self.inner.claim(job, fire_at)
    }

    fn renew(&self, job: &Job) -> BoxFuture<'_, Result<bool, Error>> {
        self.inner.renew(job)
    }
}

/// Starts the scheduler; returns the switch that stops it.
pub fn start(app: &AppHandle) -> tokio::sync::watch::Sender<bool> {
    let (cancel, cancelled) = tokio::sync::watch::channel(false);
    let state = app.state::<AppState>();
    let mut inner = VaultHost::new(state.home.clone(), state.session.clone(), "Keyward app");
    let shown = app.clone();
    inner.desktop = Some(Arc::new(move |n: &Notification| show(&shown, n)));
    let host = Arc::new(DesktopHost { app: app.clone(), inner });
    let on_event = Arc::new(|e: Event| match e {
        Event::Started { job, catch_up, .. } => tracing::info!(job = %job.id(), catch_up, "job started"),
        Event::Finished { job, status } => tracing::info!(job = %job.id(), ?status, "job finished"),
        Event::Elsewhere { job, holder } => tracing::info!(job = %job.id(), %holder, "job running in another process"),
    });
    let max_jitter = std::env::var("KEYWARD_MAX_JITTER_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    let opts = schedule::Options { max_jitter: std::time::Duration::from_secs(max_jitter), ..Default::default() };
    tauri::async_runtime::spawn(async move {
        if let Err(e) = schedule::run(host, Arc::new(schedule::SystemClock), opts, cancelled, on_event).await {
            tracing::error!(error = %e, "the scheduler stopped");
        }
    });
    cancel
}

/// Locks the vault and tells the window, which then shows its unlock screen.
pub fn lock_now(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        app.state::<AppState>().lock().await;
        crate::clipboard::forget(&app);
        let _ = app.emit("vault-locked", ());
    });
}

/// How long the vault may be left alone before it locks itself: `KEYWARD_IDLE_LOCK_SECS`
/// (0: never), 15 minutes by default, as password managers do.
fn idle_limit() -> Option<std::time::Duration> {
    let secs = std::env::var("KEYWARD_IDLE_LOCK_SECS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(15 * 60);
    (secs > 0).then(|| std::time::Duration::from_secs(secs))
}

/// Locks the vault once the user has left it alone for [`idle_limit`] (scheduled jobs do not
/// count as use: they stop with the lock, and start again when the user unlocks).
pub fn idle_lock(app: &AppHandle) {
    let Some(limit) = idle_limit() else { return };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let tick = (limit / 4).clamp(std::time::Duration::from_millis(250), std::time::Duration::from_secs(30));
        loop {
            tokio::time::sleep(tick).await;
            let state = app.state::<AppState>();
            if state.idle_for() >= limit && state.session.is_open().await {
                lock_now(&app);
            }
        }
    });
}

/// The tray icon: the app keeps running there when its window closes. Returns false when the
/// desktop has no tray (then closing the window quits, as nothing could bring it back).
pub fn tray(app: &AppHandle) -> bool {
    use tauri::menu::{Menu, MenuItem};
    use tauri::tray::TrayIconBuilder;
    let built = (|| -> tauri::Result<()> {
        let open = MenuItem::with_id(app, "open", "Open Keyward", true, None::<&str>)?;
        let sync = MenuItem::with_id(app, "sync", "Sync now", true, None::<&str>)?;
        let scan = MenuItem::with_id(app, "scan", "Scan now", true, None::<&str>)?;
        let lock = MenuItem::with_id(app, "lock", "Lock", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&open, &sync, &scan, &lock, &quit])?;
        let mut tray =
            TrayIconBuilder::with_id("keyward").tooltip("Keyward").menu(&menu).on_menu_event(|app, event| match event
                .id
                .as_ref()
            {
                "open" => {
                    if let Some(w) = app.get_webview_window("main") {
                        let _ = w.show();
                        let _ = w.set_focus();
                    }
                }
                // Run by the window (hidden or not), so their progress and Cancel are its own.
                "sync" | "scan" => {
                    let _ = app.emit("tray-action", event.id.as_ref());
                }
                "lock" => lock_now(app),
                "quit" => app.exit(0),
                _ => {}
            });
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        tray.build(app)?;
        Ok(())
    })();
    match built {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "no system tray; closing the window will quit");
            false
        }
    }
}

/// The tray's tooltip and label: how many high and critical findings are open (when unlocked),
/// and the work in progress the window reports (a sync's connector and count, a scan's files).
pub async fn tray_status(app: &AppHandle, progress: Option<&str>) {
    let Some(tray) = app.tray_by_id("keyward") else { return };
    let state = app.state::<AppState>();
    let serious = if state.session.is_open().await {
        state.session.with(|v| keyward_core::api::open_serious_findings(v)).await.ok()
    } else {
        None
    };
    let mut tooltip = match serious {
        Some(0) => "Keyward: no high or critical findings".to_owned(),
        Some(n) => format!("Keyward: {n} high or critical finding{}", if n == 1 { "" } else { "s" }),
        None => "Keyward (locked)".to_owned(),
    };
    if let Some(p) = progress.filter(|p| !p.is_empty()) {
        tooltip.push_str(" · ");
        tooltip.extend(p.chars().filter(|c| !c.is_control()).take(120));
    }
    let _ = tray.set_tooltip(Some(&tooltip));
    let _ = tray.set_title(serious.filter(|n| *n > 0).map(|n| n.to_string()).as_deref());
}
