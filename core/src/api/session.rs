//! The open vault of a long-lived process: the desktop app (its window's commands and its
//! scheduler) and `keyward daemon`. Short work — a listing, an acknowledgement, a setting —
//! borrows the one handle for a moment ([`Session::with`]). Long work — a sync waiting on
//! providers, a scan walking the disk, a check at a provider, a scheduled job — runs on a handle
//! of its own ([`Session::detach`]), so the window never waits behind the network or the disk:
//! SQLite's WAL lets the handles read side by side, and every write is one short transaction.
//!
//! Locking ([`Session::close`]) drops the shared handle at once (its keys zeroize) and tells long
//! work through [`Session::closed`], which it stops on; a detached handle lives only as long as
//! the work that holds it.

use tokio::sync::{Mutex, watch};

use crate::Error;
use crate::vault::{Vault, VaultError};

/// See the module documentation.
#[derive(Debug)]
pub struct Session {
    vault: Mutex<Option<Vault>>,
    /// Bumped at every close, so long work can stop when the vault is locked under it.
    closes: watch::Sender<u64>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session with no vault open.
    pub fn new() -> Self {
        Self { vault: Mutex::new(None), closes: watch::channel(0).0 }
    }

    /// A session on `vault`.
    pub fn with_vault(vault: Vault) -> Self {
        Self { vault: Mutex::new(Some(vault)), closes: watch::channel(0).0 }
    }

    /// Puts an opened vault in the session (replacing any other).
    pub async fn open(&self, vault: Vault) {
        *self.vault.lock().await = Some(vault);
    }

    /// Closes the vault (the user's Lock, the idle lock): returns whether one was open. Long
    /// work on detached handles is told through [`Session::closed`].
    pub async fn close(&self) -> bool {
        let was_open = self.vault.lock().await.take().is_some();
        self.closes.send_modify(|n| *n += 1);
        was_open
    }

    /// Whether a vault is open.
    pub async fn is_open(&self) -> bool {
        self.vault.lock().await.is_some()
    }

    /// Runs short work on the shared handle. Never give it anything that waits on the network
    /// or walks the disk: that is what [`Session::detach`] is for.
    pub async fn with<T>(&self, f: impl FnOnce(&mut Vault) -> Result<T, Error>) -> Result<T, Error> {
        let mut guard = self.vault.lock().await;
        let vault = guard.as_mut().ok_or(Error::Vault(VaultError::Locked))?;
        f(vault)
    }

    /// A handle of its own for long work, opened beside the shared one in a moment.
    pub async fn detach(&self) -> Result<Vault, Error> {
        self.with(|v| Ok(v.try_clone()?)).await
    }

    /// Completes when the session is closed after this call (the vault was locked): long work
    /// selects on it and stops.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.closes.subscribe();
        async move {
            // An error means the session itself is gone: closed too.
            let _ = rx.changed().await;
        }
    }
}
