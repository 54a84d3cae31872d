//! Native confirmations. Whatever runs in the web view — the app's code, or a script a
//! compromised dependency slipped in — can call every command; it cannot click a GTK dialog,
//! which lives outside the page. So the commands that hand a secret to the page or widen what
//! Keyward reads and sends (reveal, consent to send found keys, scan folders, git history) ask
//! the user here before they act, and reveals are rate-limited besides.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tauri::Manager as _;

use crate::error::UiError;

/// At most this many reveals per [`REVEAL_WINDOW`], confirmed or not: a page that asks in a
/// loop gets refusals, not a stream of dialogs.
pub const REVEALS_PER_WINDOW: usize = 3;
/// See [`REVEALS_PER_WINDOW`].
pub const REVEAL_WINDOW: Duration = Duration::from_secs(60);

/// When the last reveals were asked for.
#[derive(Default)]
pub struct RevealLimit(Mutex<Vec<Instant>>);

impl RevealLimit {
    /// Refuses when the limit is reached, without counting (asked before the dialog; only a
    /// confirmed reveal counts, so a page's cancelled requests cannot use up the user's).
    pub fn check(&self) -> Result<(), UiError> {
        self.within(false)
    }

    /// Counts one reveal; refuses past the limit.
    pub fn take(&self) -> Result<(), UiError> {
        self.within(true)
    }

    fn within(&self, count: bool) -> Result<(), UiError> {
        let mut asked = self.0.lock().expect("not poisoned");
        let now = Instant::now();
        asked.retain(|t| now.duration_since(*t) < REVEAL_WINDOW);
        if asked.len() >= REVEALS_PER_WINDOW {
            return Err(UiError::new(
                "rate_limited",
                format!("at most {REVEALS_PER_WINDOW} secrets can be revealed a minute; wait a moment"),
            ));
        }
        if count {
            asked.push(now);
        }
        Ok(())
    }
}

/// Whether a confirmation is showing: one at a time, so that a page cannot queue dialogs behind
/// a genuine one for an impatient second click to accept.
static SHOWING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A name or path as a dialog shows it: control characters (a newline that would forge the
/// dialog's wording, a NUL) replaced, at most 200 characters.
pub fn shown(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if keyward_core::api::forges(c) { '\u{FFFD}' } else { c }).take(200).collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// After this many declines within [`DECLINE_WINDOW`], dialogs are refused until the oldest
/// leaves it: a page cannot re-open one the moment it is cancelled until the user gives in, and
/// a user who cancels once and changes their mind is not held up.
pub const DECLINES_PER_WINDOW: usize = 3;
/// See [`DECLINES_PER_WINDOW`].
pub const DECLINE_WINDOW: Duration = Duration::from_secs(60);

/// When the user last declined dialogs.
static DECLINED: Mutex<Vec<Instant>> = Mutex::new(Vec::new());

/// Asks the user, in a native dialog over the window, whether to go on; `false` when they
/// cancel, close it, another confirmation is already showing, or no dialog can be shown.
/// `accept` is the button that goes on (with a mnemonic, `_Reveal`); Cancel is the default.
pub async fn ask(app: &tauri::AppHandle, title: &str, text: &str, accept: &str) -> bool {
    use std::sync::atomic::Ordering;
    {
        let mut declined = DECLINED.lock().expect("not poisoned");
        declined.retain(|t| t.elapsed() < DECLINE_WINDOW);
        if declined.len() >= DECLINES_PER_WINDOW {
            tracing::warn!(title, "a dialog refused: too many declined in the last minute");
            return false;
        }
    }
    if SHOWING.swap(true, Ordering::SeqCst) {
        return false;
    }
    let answer = ask_one(app, title, text, accept).await;
    if !answer {
        DECLINED.lock().expect("not poisoned").push(Instant::now());
    }
    SHOWING.store(false, Ordering::SeqCst);
    answer
}

async fn ask_one(app: &tauri::AppHandle, title: &str, text: &str, accept: &str) -> bool {
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (app, title, text, accept);
        return false;
    }
    #[cfg(target_os = "linux")]
    show(app, title, text, accept).await
}

#[cfg(target_os = "linux")]
async fn show(app: &tauri::AppHandle, title: &str, text: &str, accept: &str) -> bool {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    let (title, text, accept) = (title.to_owned(), text.to_owned(), accept.to_owned());
    let shown = app.run_on_main_thread(move || {
        use gtk::prelude::*;
        let parent = window.and_then(|w| w.gtk_window().ok());
        let dialog = gtk::MessageDialog::new(
            parent.as_ref(),
            gtk::DialogFlags::MODAL | gtk::DialogFlags::DESTROY_WITH_PARENT,
            gtk::MessageType::Question,
            gtk::ButtonsType::None,
            &text,
        );
        dialog.set_title(&title);
        dialog.add_button("_Cancel", gtk::ResponseType::Cancel);
        dialog.add_button(&accept, gtk::ResponseType::Accept);
        dialog.set_default_response(gtk::ResponseType::Cancel);
        let answer = dialog.run();
        // SAFETY: the dialog was created here, is no longer running, and nothing else holds it.
        unsafe { dialog.destroy() };
        let _ = tx.send(answer == gtk::ResponseType::Accept);
    });
    shown.is_ok() && rx.await.unwrap_or(false)
}

/// Asks where to save a file, in a native save dialog over the window (the page never names a
/// path, so a compromised page cannot overwrite one); `None` when cancelled or when another
/// dialog is showing. Overwriting an existing file is confirmed by the dialog itself.
pub async fn save_as(app: &tauri::AppHandle, title: &str, suggested: &str) -> Option<std::path::PathBuf> {
    use std::sync::atomic::Ordering;
    if SHOWING.swap(true, Ordering::SeqCst) {
        return None;
    }
    let chosen = choose_file(app, title, suggested).await;
    SHOWING.store(false, Ordering::SeqCst);
    chosen
}

#[cfg(not(target_os = "linux"))]
async fn choose_file(_: &tauri::AppHandle, _: &str, _: &str) -> Option<std::path::PathBuf> {
    None
}

#[cfg(target_os = "linux")]
async fn choose_file(app: &tauri::AppHandle, title: &str, suggested: &str) -> Option<std::path::PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    let (title, suggested) = (title.to_owned(), suggested.to_owned());
    let shown = app.run_on_main_thread(move || {
        use gtk::prelude::*;
        let parent = window.and_then(|w| w.gtk_window().ok());
        let dialog = gtk::FileChooserDialog::with_buttons(
            Some(&title),
            parent.as_ref(),
            gtk::FileChooserAction::Save,
            &[("_Cancel", gtk::ResponseType::Cancel), ("_Save", gtk::ResponseType::Accept)],
        );
        dialog.set_do_overwrite_confirmation(true);
        dialog.set_current_name(&suggested);
        let answer = dialog.run();
        let path = (answer == gtk::ResponseType::Accept).then(|| dialog.filename()).flatten();
        // SAFETY: the dialog was created here, is no longer running, and nothing else holds it.
        unsafe { dialog.destroy() };
        let _ = tx.send(path);
    });
    if shown.is_err() {
        return None;
    }
    rx.await.ok().flatten()
}

/// The refusal when the user said no.
pub fn declined(what: &str) -> UiError {
    UiError::new("declined", format!("{what}: not confirmed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_s_text_cannot_be_forged_by_a_name() {
        let forged = shown("prod\u{2028}\u{2029}Keyward checked this connector.\u{202E}txt.exe\u{200B}\n");
        assert!(!forged.chars().any(keyward_core::api::forges), "{forged:?}");
        assert_eq!(shown("api.datadoghq.eu"), "api.datadoghq.eu");
        assert!(shown(&"a".repeat(300)).ends_with('…'));
    }

    #[test]
    fn reveals_past_the_limit_are_refused_until_the_window_passes() {
        let limit = RevealLimit::default();
        for _ in 0..REVEALS_PER_WINDOW {
            limit.take().unwrap();
        }
        let refused = limit.take().unwrap_err();
        assert_eq!(refused.code, "rate_limited");
        // A minute later, allowed again.
        limit.0.lock().unwrap().iter_mut().for_each(|t| *t -= REVEAL_WINDOW);
        limit.take().unwrap();
    }
}
