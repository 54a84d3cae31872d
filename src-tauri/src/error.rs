//! Errors as the webview sees them: `{code, message}`, so the UI branches on a stable code
//! (see `ui/src/lib/ipc.ts`) and never matches on text.

use serde::Serialize;

/// The error every command returns.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UiError {
    /// Stable snake_case code (`vault_locked`, `wrong_passphrase`, `connector_unauthenticated`...).
    pub code: String,
    /// A sentence for the user.
    pub message: String,
}

impl From<keyward_core::Error> for UiError {
    fn from(e: keyward_core::Error) -> Self {
        Self { code: e.code(), message: e.to_string() }
    }
}

impl UiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_code_and_message() {
        let e: UiError = keyward_core::Error::Vault(keyward_core::api::VaultError::WrongPassphrase).into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "wrong_passphrase", "message": "wrong passphrase"})
        );
    }
}
