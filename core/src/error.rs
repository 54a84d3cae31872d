//! The core's error type. Every variant says what happened in words a user can act on, and
//! [`Error::code`] gives the stable code the UI and scripts branch on (no string matching).

use crate::vault::VaultError;
use keyward_connectors::ConnectorError;

/// Anything the core can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening, unlocking or writing the vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A provider call failed.
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// Something asked for does not exist.
    #[error("no {what} with id {id:?}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// An input was rejected.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which input.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The request conflicts with what exists.
    #[error("{0}")]
    Conflict(String),
    /// A policy file was rejected (the reason names the line); the previous policy stays in force.
    #[error("{file}: {reason}")]
    Policy {
        /// The file.
        file: String,
        /// What is wrong, with the line.
        reason: String,
    },
    /// What was asked is something Keyward cannot do here, and why (a provider's API lacks it, a
    /// key of a kind that cannot be checked, a build without the demo). The UI shows it as a
    /// limit, not a mistake.
    #[error("{0}")]
    Unsupported(String),
    /// Checking a found key would send it to its provider, and the user has not allowed that
    /// provider yet; the UI offers the consent.
    #[error(
        "checking a found {provider} key sends it to {provider}; allow it first with `keyward scan-config --verify-consent {provider}`"
    )]
    ConsentRequired {
        /// The provider the key would be sent to.
        provider: String,
    },
    /// Something stored in the vault does not read back (changed outside Keyward, or damaged).
    #[error("{what}: stored data unreadable (was the vault file changed outside Keyward?)")]
    Unreadable {
        /// What could not be read.
        what: String,
    },
    /// Reading or writing a file (not the vault) failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS's error.
        source: std::io::Error,
    },
    /// The key exists but Keyward holds no secret for it (synced keys never have one).
    #[error("key {0} has no stored secret (only keys registered with their secret can be revealed)")]
    NoSecret(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Vault(VaultError::Database(e))
    }
}

impl From<crate::crypto::CryptoError> for Error {
    fn from(e: crate::crypto::CryptoError) -> Self {
        Error::Vault(VaultError::Crypto(e))
    }
}

impl Error {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> String {
        match self {
            Error::Vault(v) => match v {
                VaultError::NotInitialized(_) => "not_initialized",
                VaultError::AlreadyExists(_) => "already_exists",
                VaultError::Corrupt { .. } => "vault_corrupt",
                VaultError::NewerSchema { .. } => "vault_newer_schema",
                VaultError::Locked => "vault_locked",
                VaultError::WrongPassphrase => "wrong_passphrase",
                VaultError::KeychainUnavailable(_) => "keychain_unavailable",
                VaultError::MasterKeyMissing(_) => "master_key_missing",
                VaultError::Crypto(_) => "crypto",
                VaultError::NoRecoveryKit => "no_recovery_kit",
                VaultError::WrongRecoveryKey => "wrong_recovery_key",
                VaultError::RecoveryKey(_) => "invalid_recovery_key",
                _ => "internal",
            }
            .to_owned(),
            Error::Connector(c) => format!("connector_{}", c.kind.code()),
            Error::NotFound { .. } => "not_found".into(),
            Error::Invalid { .. } => "invalid".into(),
            Error::Conflict(_) => "conflict".into(),
            Error::NoSecret(_) => "no_secret".into(),
            Error::Policy { .. } => "policy_invalid".into(),
            Error::Unsupported(_) => "unsupported".into(),
            Error::ConsentRequired { .. } => "consent_required".into(),
            Error::Unreadable { .. } => "unreadable".into(),
            Error::Io { .. } => "io".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors a caller or the UI branches on each have a code of their own (the UI offers
    /// consent on `consent_required`, shows `unsupported` as a limit, not a mistake).
    #[test]
    fn errors_that_callers_branch_on_have_codes_of_their_own() {
        let cases = [
            (Error::Unsupported("no check".into()), "unsupported"),
            (Error::ConsentRequired { provider: "datadog".into() }, "consent_required"),
            (Error::Unreadable { what: "webhook ops".into() }, "unreadable"),
            (Error::Io { what: "writing".into(), source: std::io::Error::other("disk") }, "io"),
            (Error::Invalid { field: "name", reason: "empty".into() }, "invalid"),
        ];
        for (e, code) in &cases {
            assert_eq!(e.code(), *code, "{e}");
        }
        let consent = cases[1].0.to_string();
        assert!(consent.contains("--verify-consent datadog"), "{consent}");
    }
}
