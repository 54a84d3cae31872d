//! The policy in force: `policy.toml` in the Keyward home, and the last valid one kept in the
//! vault.
//!
//! The file is the user's to edit, in any editor or from the app. A broken file must not change
//! what the audit does — a half-typed threshold could silence a rule — so every policy that parsed
//! is recorded in the vault by digest, and while the file is broken audits keep using the most
//! recently adopted one and say why. A missing file means the defaults.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::audit::Policy;
use crate::audit::policy::DEFAULT_TEXT;
use crate::store::policies as store;
use crate::vault::Vault;

/// The policy file's name in the Keyward home.
pub const FILE_NAME: &str = "policy.toml";

/// The policy an audit uses, and where it came from.
#[derive(Debug, Clone)]
pub struct PolicyInForce {
    /// The parsed policy.
    pub policy: Policy,
    /// Its text.
    pub text: String,
    /// SHA-256 of the text, hex.
    pub digest: String,
    /// When it was adopted (first used); `None` for the built-in defaults never adopted.
    pub adopted_at: Option<DateTime<Utc>>,
    /// Set when the file is broken: the error (with its line) that kept the previous policy in force.
    pub problem: Option<String>,
}

/// The policy file of a home.
pub fn path_in(home: &Path) -> PathBuf {
    home.join(FILE_NAME)
}

/// SHA-256 of a policy text, hex.
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Policy { file: path.display().to_string(), reason: e.to_string() }
}

/// Reads the home's policy file; when it parses, adopts it. When it does not, the most recently
/// adopted policy stays in force (the defaults if none was ever adopted) and `problem` says why.
pub fn load(home: &Path, vault: &Vault, now: DateTime<Utc>) -> Result<PolicyInForce, Error> {
    let path = path_in(home);
    let text = match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => return fallback(vault, invalid(&path, "is not UTF-8 text").to_string()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return fallback(vault, invalid(&path, format!("cannot be read: {e}")).to_string()),
    };
    let text = text.unwrap_or_else(|| DEFAULT_TEXT.to_owned());
    match Policy::parse(&text) {
        Ok(policy) => adopt(vault, policy, text, now),
        Err(e) => fallback(vault, invalid(&path, e).to_string()),
    }
}

/// Validates `text` and, only when it parses, writes it as the home's policy file (atomically)
/// and adopts it. A rejected text leaves the file and the policy in force untouched.
pub fn save(home: &Path, vault: &Vault, text: &str, now: DateTime<Utc>) -> Result<PolicyInForce, Error> {
    let path = path_in(home);
    let policy = Policy::parse(text).map_err(|e| invalid(&path, e))?;
    crate::vault::files::write_atomically(&path, text.as_bytes())
        .map_err(|e| invalid(&path, format!("cannot be written: {e}")))?;
    adopt(vault, policy, text.to_owned(), now)
}

/// A policy text by digest (policies used by earlier audits).
pub fn by_digest(vault: &Vault, digest: &str) -> Result<Option<Policy>, Error> {
    let text = store::text_of(vault.conn(), digest)?;
    // A recorded text parsed when it was adopted; if this build's rules changed since, it may not.
    Ok(text.and_then(|t| Policy::parse(&t).ok()))
}

fn adopt(vault: &Vault, policy: Policy, text: String, now: DateTime<Utc>) -> Result<PolicyInForce, Error> {
    let digest = digest(&text);
    let current = latest(vault)?;
    let adopted_at = match current {
        Some((d, _, at)) if d == digest => at,
        _ => {
            store::adopt(vault.conn(), &digest, &text, now)?;
            now
        }
    };
    Ok(PolicyInForce { policy, text, digest, adopted_at: Some(adopted_at), problem: None })
}

/// The most recently adopted policy: digest, text, and when (the epoch when its stored instant
/// does not read).
fn latest(vault: &Vault) -> Result<Option<(String, String, DateTime<Utc>)>, Error> {
    Ok(store::latest(vault.conn())?.map(|p| (p.digest, p.text, p.adopted_at.unwrap_or_default())))
}

fn fallback(vault: &Vault, problem: String) -> Result<PolicyInForce, Error> {
    tracing::warn!(%problem, "policy file rejected; the previous policy stays in force");
    if let Some((digest, text, at)) = latest(vault)?
        && let Ok(policy) = Policy::parse(&text)
    {
        return Ok(PolicyInForce { policy, text, digest, adopted_at: Some(at), problem: Some(problem) });
    }
    Ok(PolicyInForce {
        policy: Policy::default(),
        digest: digest(DEFAULT_TEXT),
        text: DEFAULT_TEXT.to_owned(),
        adopted_at: None,
        problem: Some(problem),
    })
}
