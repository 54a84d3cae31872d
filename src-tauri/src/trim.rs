//! Gives back to the OS the memory a large listing used. The inventory's listings are the
//! largest things the shell makes: at 10,000 keys the keys and the findings are 26 MB of JSON and
//! several times that in Rust values while they are built. Freed, they stay in glibc's heaps:
//!
//! - Free pages inside a heap go back only on `malloc_trim`. The shell kept ~65 MiB it no longer
//!   used (at 10,000 keys: 244 MiB, and 177 MiB once gdb had called `malloc_trim` in the running
//!   app). A trim shortly after a listing, once Tauri has sent the answer and dropped it, returns
//!   them ([`soon`]).
//! - The free top of a thread's heap goes back only past the trim threshold, and `malloc_trim`
//!   leaves it alone. glibc raises that threshold to twice the largest block it ever mapped and
//!   freed, so after a 6 MB answer 12 MB stayed with the shell for good: gdb's `malloc_info`
//!   showed a worker's heap of 43 MB, 41 MB of it free and 12 MiB of it resident after the trim.
//!   [`fixed_thresholds`] sets both thresholds, which stops glibc from moving them.
//!
//! `tests/benches/window.rs` measures the shell at 10,000 keys: 186 MiB with the trim alone, 174
//! with both (docs/benchmarks.md).
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

/// Sets glibc's thresholds, so they no longer follow the largest block freed: a request of
/// 256 KiB or more that the heap's free space cannot serve is mapped on its own and unmapped when
/// freed, and a heap's free top past 1 MiB is returned at once. Left alone when the user tunes
/// glibc's allocator (`GLIBC_TUNABLES`). Call it first thing in `main`, before other threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn fixed_thresholds() {
    if std::env::var_os("GLIBC_TUNABLES").is_some_and(|t| t.to_string_lossy().contains("glibc.malloc.")) {
        return;
    }
    // SAFETY: mallopt only sets glibc's tunables; called before any other thread allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fixed_thresholds() {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: malloc_trim only walks glibc's own heaps under their locks; no pointer is handed in.
    unsafe { libc::malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}
