//! One error type for every connector, classified once so callers can say what to do.

use std::fmt;

/// What went wrong, in terms a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider did not accept the credentials (unknown key, bad signature, expired token).
    Unauthenticated,
    /// The credentials are valid but lack a permission the connector needs.
    PermissionDenied,
    /// The provider throttled us and retries ran out (or it asked for a longer wait than allowed).
    RateLimited,
    /// The thing asked for does not exist at the provider.
    NotFound,
    /// The provider's API cannot do what was asked (e.g. no list endpoint).
    Unsupported,
    /// A status the connector does not expect.
    UnexpectedStatus,
    /// The provider could not be reached (DNS, TLS, connection, timeout).
    Transport,
    /// The provider answered something we could not understand.
    Malformed,
    /// The connector's own configuration is unusable (no region, no credentials found...).
    Config,
    /// Anything else the provider reported.
    Provider,
}

impl ErrorKind {
    /// A stable snake_case code for machine consumers (UI, JSON output).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::UnexpectedStatus => "unexpected_status",
            ErrorKind::Transport => "transport",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Config => "config",
            ErrorKind::Provider => "provider",
        }
    }
}

/// A connector failure. The message never carries a secret: it is built from the provider's error
/// code and text, which do not echo credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConnectorError {
    /// The provider id (`aws`, ...).
    pub provider: &'static str,
    /// The classification.
    pub kind: ErrorKind,
    /// What the provider or transport said, for humans.
    pub message: String,
    /// How long the provider asked us to wait, when it was rate limiting.
    pub retry_after: Option<std::time::Duration>,
    /// The HTTP status of the last answer, when the error is one.
    pub status: Option<u16>,
    /// Attempts made before giving up (0 when none was sent).
    pub attempts: u32,
}

impl ConnectorError {
    /// Builds an error.
    pub fn new(provider: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { provider, kind, message: message.into(), retry_after: None, status: None, attempts: 0 }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match self.kind {
            ErrorKind::Unauthenticated => " (check the connector's credentials)",
            ErrorKind::PermissionDenied => " (the credentials lack a permission the connector needs)",
            ErrorKind::RateLimited => " (throttled by the provider; try again later)",
            _ => "",
        };
        write!(f, "{}: {}{}", self.provider, self.message, hint)
    }
}
