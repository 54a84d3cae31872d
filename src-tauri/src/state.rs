//! The shell's state: the home and, once unlocked, the open vault's session.

use std::sync::Arc;

use keyward_core::api::Vault;
use keyward_core::api::{self, Home, Session};
use keyward_core::{Error, Secret};
use tokio::sync::Mutex;

use crate::error::UiError;

pub struct AppState {
    pub home: Home,
    /// The open vault: short commands borrow it, long ones (sync, scan, checks at a provider,
    /// scheduled jobs) detach a handle of their own, so the window never waits behind them.
    pub session: Arc<Session>,
    /// Why the last unlock attempt failed, for the lock screen.
    pub locked_reason: Mutex<Option<UiError>>,
    /// The window's one sync at a time, and its Cancel.
    pub sync: SyncSlot,
    /// When the user last did something with the open vault (for the idle lock).
    pub last_used: std::sync::Mutex<std::time::Instant>,
    /// The open vault's desktop settings (the idle lock reads them each tick without borrowing
    /// the vault), as read at the last unlock or save; the defaults until the first unlock.
    pub desktop: std::sync::Mutex<api::DesktopSettings>,
    /// The inventory's table, read at the window's last refresh; dropped on lock.
    pub table: std::sync::Mutex<TableSlot>,
}

/// The inventory's table (see [`api::KeyTable`]) and which lock it belongs to.
#[derive(Default)]
pub struct TableSlot {
    /// Locks so far: a table read before a lock is not kept after it.
    locks: u64,
    /// Tables kept so far: a page says which one it came from.
    generation: u64,
    /// Reads of the vault so far, and which one the kept table is: a read overtaken by a later
    /// one (two refreshes at once) is not kept over it.
    reads: u64,
    kept_read: u64,
    table: Option<api::KeyTable>,
}

impl AppState {
    pub fn new(home: Home) -> Self {
        Self {
            home,
            session: Arc::new(Session::new()),
            locked_reason: Mutex::new(None),
            sync: SyncSlot::default(),
            last_used: std::sync::Mutex::new(std::time::Instant::now()),
            desktop: std::sync::Mutex::new(api::DesktopSettings::default()),
            table: std::sync::Mutex::new(TableSlot::default()),
        }
    }

    /// Opens the vault. Keychain and Argon2 work block, so it runs off the async workers.
    pub async fn unlock(&self, passphrase: Option<Secret>) -> Result<(), UiError> {
        let home = self.home.clone();
        let opened = tauri::async_runtime::spawn_blocking(move || api::open(&home, passphrase.as_ref()))
            .await
            .map_err(|e| UiError::new("internal", e.to_string()))?;
        self.settle(opened).await
    }

    pub async fn create(&self, passphrase: Option<Secret>) -> Result<(), UiError> {
        let home = self.home.clone();
        let created = tauri::async_runtime::spawn_blocking(move || api::init(&home, passphrase.as_ref()))
            .await
            .map_err(|e| UiError::new("internal", e.to_string()))?;
        self.settle(created).await
    }

    async fn settle(&self, result: Result<Vault, Error>) -> Result<(), UiError> {
        match result {
            Ok(v) => {
                self.touch();
                self.remember(api::desktop_settings(&v).unwrap_or_default());
                self.session.open(v).await;
                *self.locked_reason.lock().await = None;
                Ok(())
            }
            Err(e) => {
                let ui: UiError = e.into();
                *self.locked_reason.lock().await = Some(ui.clone());
                Err(ui)
            }
        }
    }

    /// Tries to unlock at start-up without asking: the keychain, or KEYWARD_PASSPHRASE.
    /// A failure is kept for the lock screen, not raised.
    pub async fn try_unlock_at_start(&self) {
        if !self.home.is_initialized() {
            return;
        }
        let passphrase = api::env_passphrase();
        if let Err(e) = self.unlock(passphrase).await {
            tracing::info!(code = %e.code, "vault not unlocked at start");
        }
    }

    /// Locks: the vault is closed and its keys dropped (zeroized); the next use asks again.
    pub async fn lock(&self) {
        let closed = self.session.close().await;
        let mut slot = self.table.lock().expect("table");
        slot.locks += 1;
        slot.table = None;
        if closed {
            tracing::info!("vault locked");
        }
    }

    /// Reads the inventory's table from the open vault and keeps it for the window's pages;
    /// what the window shows of it at once.
    pub async fn load_table(&self) -> Result<api::KeyTableSummary, UiError> {
        let locks = self.table.lock().expect("table").locks;
        let now = chrono::Utc::now();
        // The ticket is taken while the vault is held, so tickets follow the reads' order.
        let (read, table) = self
            .read_vault(|v| {
                let read = {
                    let mut slot = self.table.lock().expect("table");
                    slot.reads += 1;
                    slot.reads
                };
                Ok((read, api::KeyTable::read(v, now)?))
            })
            .await?;
        let mut slot = self.table.lock().expect("table");
        if slot.locks != locks {
            return Err(Error::Vault(api::VaultError::Locked).into());
        }
        if read > slot.kept_read || slot.table.is_none() {
            slot.generation += 1;
            slot.kept_read = read;
            slot.table = Some(table);
        }
        let generation = slot.generation;
        let kept = slot.table.as_ref().expect("kept above or before");
        Ok(api::KeyTableSummary { generation, facets: kept.facets(), counts: kept.counts() })
    }

    /// Runs `f` on the kept table and its generation; locked when there is none.
    pub fn with_table<T>(&self, f: impl FnOnce(&mut api::KeyTable, u64) -> T) -> Result<T, UiError> {
        let mut slot = self.table.lock().expect("table");
        let generation = slot.generation;
        match slot.table.as_mut() {
            Some(table) => Ok(f(table, generation)),
            None => Err(Error::Vault(api::VaultError::Locked).into()),
        }
    }

    /// Keeps `settings` as the ones in force (read at unlock, replaced when saved).
    pub fn remember(&self, settings: api::DesktopSettings) {
        *self.desktop.lock().expect("settings") = settings;
    }

    /// The desktop settings in force.
    pub fn desktop_settings(&self) -> api::DesktopSettings {
        self.desktop.lock().expect("settings").clone()
    }

    /// Notes a use of the vault by the user (not by a scheduled job).
    pub fn touch(&self) {
        *self.last_used.lock().expect("last use") = std::time::Instant::now();
    }

    /// How long the user has left the vault alone.
    pub fn idle_for(&self) -> std::time::Duration {
        self.last_used.lock().expect("last use").elapsed()
    }

    /// Runs short work `f` on the open vault.
    pub async fn with_vault<T>(&self, f: impl FnOnce(&mut Vault) -> Result<T, Error>) -> Result<T, UiError> {
        self.touch();
        self.session.with(f).await.map_err(Into::into)
    }

    /// Reads the open vault for the window without counting as the user's activity: the window
    /// refreshes its listings on its own after background jobs, and that must not keep an
    /// unattended vault unlocked (the page reports real input with `user_active`).
    pub async fn read_vault<T>(&self, f: impl FnOnce(&mut Vault) -> Result<T, Error>) -> Result<T, UiError> {
        self.session.with(f).await.map_err(Into::into)
    }

    /// A handle of its own for long work (see [`Session::detach`]).
    pub async fn detached(&self) -> Result<Vault, UiError> {
        self.touch();
        self.session.detach().await.map_err(Into::into)
    }
}

/// The window runs one sync at a time: a second Sync while one runs is refused (two would race
/// for the same runs and share one Cancel). The window names each sync it asks for with a ticket,
/// and Cancel names the ticket it is for: it reaches that sync and no other. Tauri runs commands
/// concurrently, so a Cancel clicked at once can arrive before its sync has taken the slot; it is
/// kept for that ticket alone, never for the sync that starts after it.
#[derive(Default)]
pub struct SyncSlot {
    state: std::sync::Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    /// The running sync's ticket and its cancel flag.
    current: Option<(u64, Arc<std::sync::atomic::AtomicBool>)>,
    /// A Cancel that came before its sync started.
    cancelled_early: Option<u64>,
}

/// The slot held by the sync in progress; freed when dropped.
pub struct SyncTurn<'a> {
    slot: &'a SyncSlot,
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl SyncSlot {
    /// The slot for the sync with `ticket`; a conflict while a sync already holds it.
    pub fn start(&self, ticket: u64) -> Result<SyncTurn<'_>, Error> {
        let mut slot = self.state.lock().expect("not poisoned");
        if slot.current.is_some() {
            return Err(Error::Conflict("a sync is already running in this window; wait for it or cancel it".into()));
        }
        let early = slot.cancelled_early.take() == Some(ticket);
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(early));
        slot.current = Some((ticket, cancel.clone()));
        Ok(SyncTurn { slot: self, cancel })
    }

    /// Asks the sync with `ticket` to stop; false when it is not running (yet, or any more).
    pub fn cancel(&self, ticket: u64) -> bool {
        let mut slot = self.state.lock().expect("not poisoned");
        match &slot.current {
            Some((running, token)) if *running == ticket => {
                token.store(true, std::sync::atomic::Ordering::Release);
                true
            }
            _ => {
                slot.cancelled_early = Some(ticket);
                false
            }
        }
    }
}

impl SyncTurn<'_> {
    /// Whether Cancel was pressed since this sync began.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl Drop for SyncTurn<'_> {
    fn drop(&mut self) {
        self.slot.state.lock().expect("not poisoned").current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_table_goes_with_the_vault_on_lock() {
        let dir = std::env::temp_dir().join(format!("keyward-state-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a home");
        let home = Home::new(&dir);
        let passphrase = || Secret::new("a passphrase for this test".to_owned());
        api::init(&home, Some(&passphrase())).expect("a vault");
        let state = AppState::new(home);
        tauri::async_runtime::block_on(async {
            assert_eq!(state.with_table(|_, _| ()).unwrap_err().code, "vault_locked", "no table before an unlock");
            state.unlock(Some(passphrase())).await.expect("unlocked");
            let summary = state.load_table().await.expect("read");
            assert_eq!((summary.counts.total, summary.generation), (0, 1));
            assert_eq!(state.with_table(|t, generation| (t.len(), generation)).expect("kept"), (0, 1));
            state.lock().await;
            assert_eq!(state.with_table(|_, _| ()).unwrap_err().code, "vault_locked", "dropped on lock");
            assert!(state.load_table().await.is_err(), "nothing to read while locked");
            state.unlock(Some(passphrase())).await.expect("unlocked again");
            assert_eq!(state.load_table().await.expect("read").generation, 2, "a new table, a new generation");
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_sync_at_a_time_and_cancel_reaches_only_the_running_one() {
        let slot = SyncSlot::default();
        assert!(!slot.cancel(1), "nothing to cancel");
        let turn = slot.start(2).expect("free");
        assert!(!turn.cancelled(), "a Cancel pressed while no sync ran is not kept");
        assert!(slot.start(3).is_err(), "a second sync is refused while one runs");
        assert!(!slot.cancel(3), "a Cancel for another sync does not stop this one");
        assert!(!turn.cancelled());
        assert!(slot.cancel(2));
        assert!(turn.cancelled());
        drop(turn);
        let next = slot.start(4).expect("free again");
        assert!(!next.cancelled(), "the last sync's Cancel does not stop the next");
    }

    #[test]
    fn a_cancel_that_overtakes_its_sync_stops_that_sync_and_no_later_one() {
        let slot = SyncSlot::default();
        assert!(!slot.cancel(7), "its sync has not taken the slot yet");
        let turn = slot.start(7).expect("free");
        assert!(turn.cancelled(), "the early Cancel is seen as soon as the sync starts");
        drop(turn);
        let next = slot.start(8).expect("free again");
        assert!(!next.cancelled());
        drop(next);
        assert!(!slot.cancel(8), "a Cancel after its sync ended");
        assert!(!slot.start(9).expect("free").cancelled(), "is not kept for the next sync");
    }
}
