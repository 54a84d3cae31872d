//! What a provider does for a rotation: the calls a rotation makes on one key's owner. The
//! engine (core's `rotation`) decides the order, journals every step in the vault before it
//! calls, and reconciles with [`Rotator::keys_of`] after a crash; a provider only makes the
//! calls, each one safe to repeat where the API allows (disabling a disabled key, deleting a
//! deleted one).

use chrono::{DateTime, Utc};
use keyward_secret::Secret;

use super::{BoxFuture, Credentials, Settings};
use crate::ConnectorError;
use crate::liveness::Liveness;

/// The credential field under which the engine hands a rotation's calls the password the user
/// typed for it (a provider that asks for it again before it makes a key: Fastly's sudo mode).
/// It is never stored with the connector's credentials.
pub const TYPED_PASSWORD: &str = "typed_password";

/// The key being rotated, as the inventory knows it.
#[derive(Debug, Clone)]
pub struct KeyRef {
    /// The provider's id for the key (an AWS access key id).
    pub external_id: String,
    /// Its owner at the provider (an IAM user name), where keys have one.
    pub owner: Option<String>,
    /// Its kind (`access_key`).
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// A key the provider holds for an owner now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldKey {
    /// The provider's id.
    pub external_id: String,
    /// Whether it is active.
    pub active: bool,
    /// When it was created, where the provider says.
    pub created_at: Option<DateTime<Utc>>,
}

/// A key just created: the only moment its secret is seen (AWS shows it once).
pub struct Created {
    /// The provider's id.
    pub external_id: String,
    /// The secret, to be sealed into the vault before anything else happens.
    pub secret: Secret,
    /// Its name at the provider.
    pub name: String,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("external_id", &self.external_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The rotation calls of one connected account.
pub trait Rotator: Send + Sync {
    /// Why the provider will not let this connector rotate this key, where that depends on the
    /// key (a New Relic user key of another user); `None`: nothing stands in the way.
    fn refusal<'a>(&'a self, _old: &'a KeyRef) -> BoxFuture<'a, Result<Option<String>, ConnectorError>> {
        Box::pin(async { Ok(None) })
    }
    /// The keys `owner` holds now (every kind the rotation can create), to reconcile with.
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>>;
    /// A new key beside `old`, for the same owner, with the same permissions.
    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>>;
    /// One harmless call made with the new key: does the provider accept it yet?
    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>>;
    /// Turns a key off without deleting it (undone by [`Rotator::enable`]). The engine calls it
    /// only where the provider's `Rotation::disable` is supported; the default says it cannot.
    fn disable<'a>(&'a self, _key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async { Err(cannot_disable()) })
    }
    /// Turns a disabled key back on (a rollback); called, and defaulted, as [`Rotator::disable`].
    fn enable<'a>(&'a self, _key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async { Err(cannot_disable()) })
    }
    /// The provider ids of the keys the connector itself signs in with (where the provider can
    /// tell): rotating one would lock Keyward out of the account until its credentials are
    /// handed over, so the engine refuses it.
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>>;
    /// Deletes a key; deleting one already gone is not an error.
    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>>;
}

/// What [`Rotator::disable`] and [`Rotator::enable`] answer at a provider whose keys cannot be
/// disabled (its registry entry says why: `Rotation::disable`).
fn cannot_disable() -> ConnectorError {
    ConnectorError::new("rotation", crate::ErrorKind::Unsupported, "this provider's keys cannot be disabled")
}

/// Opens the rotation calls of a connected account from stored settings and credentials.
pub type OpenRotator =
    for<'a> fn(&'a Settings, &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>>;
