//! Gives back to the OS the memory a large listing used. The inventory's listings are the
//! largest things the shell makes: at 10,000 keys the keys and the findings are 26 MB of JSON and
//! several times that in Rust values while they are built. Freed, they stay in glibc's heaps,
//! which return only their tops to the OS, so the shell kept ~65 MiB it no longer used (measured
//! by `tests/benches/window.rs`: 244 MiB against 177 MiB once trimmed). A trim shortly after a
//! listing, once Tauri has sent the answer and dropped it, returns every free page.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A trim is due: set by a listing, cleared by the trim, so a burst of listings makes one.
static DUE: AtomicBool = AtomicBool::new(false);

/// How long after a listing the trim runs: its answer is sent and freed by then.
const AFTER: Duration = Duration::from_secs(2);

/// Asks for a trim after work that built a lot and freed it (a listing, a sync, an audit).
pub fn soon() {
    if DUE.swap(true, Ordering::AcqRel) {
        return;
    }
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(AFTER).await;
        DUE.store(false, Ordering::Release);
        release();
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: malloc_trim only walks glibc's own heaps under their locks; no pointer is handed in.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}
