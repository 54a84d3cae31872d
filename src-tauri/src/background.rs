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

/// Shows one notification through the OS (Freedesktop notifications on Linux). A click on it
/// opens the window on what it is about (see [`Clicks`]).
fn show(app: &AppHandle, n: &Notification) -> Result<(), String> {
    let id = app.state::<Clicks>().remember(Target::of(n));
    app.notification().builder().id(id).title(&n.title).body(&n.body).show().map_err(|e| e.to_string())
}

/// Where clicking a notification leads: the window's `open` event. The key it is about, or
/// Findings when it is about several (a digest) or none (an owner's finding).
#[derive(Clone, serde::Serialize)]
struct Target {
    view: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl Target {
    fn of(n: &Notification) -> Self {
        let mut keys: Vec<&str> = n.findings.iter().filter_map(|f| f.key_id.as_deref()).collect();
        keys.sort_unstable();
        keys.dedup();
        match (keys.as_slice(), n.findings.iter().all(|f| f.key_id.is_some())) {
            ([one], true) => Target { view: "keys", key: Some((*one).to_owned()) },
            _ => Target { view: "findings", key: None },
        }
    }
}

/// The notifications shown, by id, with where a click on each leads. The notification plugin
/// reports clicks (`tap`) on its one connection to the notification server; ids are this
/// process's own, and only the latest [`Clicks::KEPT`] are remembered (older ones open the window
/// without choosing a view).
#[derive(Default)]
pub struct Clicks {
    shown: std::sync::Mutex<std::collections::BTreeMap<i32, Target>>,
    next: std::sync::atomic::AtomicI32,
}

impl Clicks {
    const KEPT: usize = 256;

    fn remember(&self, target: Target) -> i32 {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_add(1);
        let mut shown = self.shown.lock().expect("not poisoned");
        shown.insert(id, target);
        while shown.len() > Self::KEPT {
            shown.pop_first();
        }
        id
    }

    /// Registers the click handler (once, at start).
    pub fn listen(app: &AppHandle) {
        let handle = app.clone();
        let _ = app.notification().on_action(move |performed| {
            if performed.action_id() != "tap" {
                return;
            }
            let target = performed
                .notification()
                .and_then(|n| handle.state::<Clicks>().shown.lock().expect("not poisoned").get(&n.id()).cloned());
            if let Some(w) = handle.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
            if let Some(target) = target {
                let _ = handle.emit("open", target);
            }
        });
    }
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

/// How long the vault may be left alone before it locks itself: `KEYWARD_IDLE_LOCK_SECS` when
/// set (0: never; tests and kiosks), else the vault's desktop settings (15 minutes by default, as
/// password managers do; Settings changes it).
fn idle_limit(state: &AppState) -> Option<std::time::Duration> {
    let secs = match std::env::var("KEYWARD_IDLE_LOCK_SECS").ok().and_then(|s| s.parse::<u64>().ok()) {
        Some(secs) => secs,
        None => u64::from(state.desktop_settings().lock_after_minutes) * 60,
    };
    (secs > 0).then(|| std::time::Duration::from_secs(secs))
}

/// Locks the vault once the user has left it alone for [`idle_limit`] (scheduled jobs do not
/// count as use: they stop with the lock, and start again when the user unlocks). The limit is
/// read at each tick, so a change in Settings applies at once.
pub fn idle_lock(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let state = app.state::<AppState>();
            let limit = idle_limit(&state);
            let tick = limit.map_or(std::time::Duration::from_secs(5), |l| {
                (l / 4).clamp(std::time::Duration::from_millis(250), std::time::Duration::from_secs(5))
            });
            tokio::time::sleep(tick).await;
            if limit.is_some_and(|l| state.idle_for() >= l) && state.session.is_open().await {
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
