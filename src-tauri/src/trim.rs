//! Gives back to the OS the memory a large listing used. The inventory's listings are the
//! largest things the shell makes: at 10,000 keys the keys and the findings are 26 MB of JSON and
//! several times that in Rust values while they are built. Freed, they stay in glibc's heaps,
//! which return only their tops to the OS, so the shell kept ~65 MiB it no longer used (at 10,000
//! keys: 244 MiB, and 177 MiB once gdb had called `malloc_trim` in the running app; with this
//! module, `tests/benches/window.rs` measures 186 MiB). A trim shortly after a listing, once Tauri
//! has sent the answer and dropped it, returns every free page.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// When the latest trim was asked for; `None` when none is pending. One trim follows a burst of
/// asks, `AFTER` past the last of them.
static LATEST: Mutex<Option<Instant>> = Mutex::new(None);

/// How long after the work the trim runs: its answer is sent and freed by then.
const AFTER: Duration = Duration::from_secs(2);

/// Asks for a trim after work that built a lot and freed it (a listing, a sync, an audit).
pub fn soon() {
    let mut latest = LATEST.lock().unwrap_or_else(PoisonError::into_inner);
    let pending = latest.replace(Instant::now()).is_some();
    drop(latest);
    if pending {
        return;
    }
    tauri::async_runtime::spawn(async {
        loop {
            let due = {
                let mut latest = LATEST.lock().unwrap_or_else(PoisonError::into_inner);
                match *latest {
                    Some(at) if at + AFTER > Instant::now() => at + AFTER,
                    _ => {
                        // Cleared under the same lock as the check: an ask after this point
                        // starts a trim of its own.
                        *latest = None;
                        break;
                    }
                }
            };
            tokio::time::sleep_until(due.into()).await;
        }
        // It walks every heap under that heap's lock: on a blocking thread, not a runtime worker.
        let _ = tauri::async_runtime::spawn_blocking(release).await;
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: malloc_trim only walks glibc's own heaps under their locks; no pointer is handed in.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}
