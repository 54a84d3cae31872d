//! Secrets typed at a terminal: asked for by name and read without echo, so they never sit on
//! the screen, in a terminal's scrollback or in a screen recording. From a pipe they are read as
//! they come, for scripts.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::Context;

/// Restores the terminal's settings when dropped, even if reading fails.
struct EchoOff {
    saved: libc::termios,
}

impl EchoOff {
    fn new() -> Option<Self> {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0, a terminal.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return None;
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
        // SAFETY: restores the settings read in `new` on the same descriptor.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
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
