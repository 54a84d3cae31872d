//! Secrets typed at a terminal: asked for by name and read without echo, so they never sit on
//! the screen, in a terminal's scrollback or in a screen recording. From a pipe they are read as
//! they come, for scripts.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::Context;

/// The terminal's settings before echo went off, for the signal handler (Ctrl-C at the prompt
/// must not leave the user's shell without echo).
static mut SAVED: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::uninit();
static SAVED_SET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Restores the terminal and dies of the signal as it would have.
extern "C" fn restore_and_reraise(signal: libc::c_int) {
    // SAFETY: async-signal-safe calls only; SAVED was written before SAVED_SET was set.
    unsafe {
        if SAVED_SET.load(std::sync::atomic::Ordering::Acquire) {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, (&raw const SAVED).cast::<libc::termios>());
        }
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// Restores the terminal's settings when dropped, even if reading fails — and discards whatever
/// was typed or pasted beyond the line read (`TCSAFLUSH`), so a pasted multi-line secret's rest
/// is not run by the shell afterwards.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn new() -> Option<Self> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0, a terminal. SAVED is written
        // once here, before the handlers that read it are installed.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return None;
            }
            (&raw mut SAVED).cast::<libc::termios>().write(saved);
            SAVED_SET.store(true, std::sync::atomic::Ordering::Release);
            for signal in SIGNALS {
                libc::signal(signal, restore_and_reraise as *const () as libc::sighandler_t);
            }
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) != 0 {
                return None;
            }
            Some(Self { saved })
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `new` on the same descriptor, then the signals'
        // default handling.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSAFLUSH, &self.saved);
            SAVED_SET.store(false, std::sync::atomic::Ordering::Release);
            for signal in SIGNALS {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
    }
}

/// Where a secret comes from: a prompt without echo on a terminal, else standard input.
pub enum Input {
    /// Everything on standard input (a key's secret).
    All,
    /// The first line (a webhook URL).
    FirstLine,
}

/// Reads a secret: on a terminal, after `prompt` on stderr and with echo off; otherwise from
/// standard input as `input` says. The trailing newline is dropped.
pub fn secret(prompt: &str, input: Input) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut raw = zeroize::Zeroizing::new(String::new());
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt} (input hidden): ");
        let _ = std::io::stderr().flush();
        let _quiet = EchoOff::new();
        stdin.lock().read_line(&mut raw).context("reading from the terminal")?;
    } else {
        match input {
            Input::All => stdin.lock().read_to_string(&mut raw).map(drop),
            Input::FirstLine => stdin.lock().read_line(&mut raw).map(drop),
        }
        .context("reading standard input")?;
    }
    let kept = raw.trim_end_matches(['\r', '\n']).len();
    raw.truncate(kept);
    Ok(raw)
}
