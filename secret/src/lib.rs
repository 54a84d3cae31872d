//! Types for secret values: they zeroize on drop, print `<redacted>` in `Debug` and `Display`,
//! and implement no `Serialize`, so a secret can only leave through a loud, greppable call.
//!
//! A crate of its own, depending on nothing but `zeroize`, so that both the core (the vault, the
//! passphrase) and the connectors (credentials on their way to a request header) hold the same
//! type: a credential is never a plain `String` between the vault and the wire.
#![deny(missing_docs)]

use std::fmt;

use zeroize::Zeroize;

/// A secret string: an API key, a token, a passphrase.
///
/// It deliberately implements neither `Serialize` nor `Display`: serializing or printing one
/// must go through [`Secret::expose`], which is easy to find in review.
#[derive(Clone, Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Takes ownership of a string that holds a secret.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself. Every caller of this is a place where a secret leaves the type.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        // Constant time is not needed here: secrets are compared only in tests and in the
        // passphrase confirmation, never against attacker-chosen input over a network.
        self.0 == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
