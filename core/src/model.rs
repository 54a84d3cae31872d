//! The inventory's domain types, as stored in the vault and judged by the audit.
//!
//! These are internal types: they are not `Serialize`, so the shape of the CLI's JSON and of the
//! desktop IPC is decided only by the DTOs in [`crate::api`].

use chrono::{DateTime, Utc};
pub use keyward_connectors::{KeyStatus, LastUse};

/// The provider ids Keyward knows, as used in the inventory and the CLI: the registry's
/// (`keyward_connectors::providers`), in its order.
pub fn provider_ids() -> Vec<&'static str> {
    keyward_connectors::providers::REGISTRY.iter().map(|p| p.id).collect()
}

/// The `account` shown for keys registered by hand rather than synced.
pub const MANUAL_ACCOUNT: &str = "manual";

/// One API key or token in the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    /// Keyward's id (UUIDv7).
    pub id: String,
    /// The provider id (see [`provider_ids`]).
    pub provider: String,
    /// The connector's name, or [`MANUAL_ACCOUNT`].
    pub account: String,
    /// The provider's id for the key, where there is one.
    pub external_id: Option<String>,
    /// A human name.
    pub name: String,
    /// Who owns it.
    pub owner: Option<String>,
    /// Active or not.
    pub status: KeyStatus,
    /// Creation time, where known.
    pub created_at: Option<DateTime<Utc>>,
    /// Last use, where known.
    pub last_used: Option<LastUse>,
    /// Whether the provider reports use; when it does, no `last_used` means never used.
    pub usage_tracked: bool,
    /// Expiry, where the key has one.
    pub expires_at: Option<DateTime<Utc>>,
    /// Normalised scopes.
    pub scopes: Vec<String>,
    /// The provider's raw permission value.
    pub raw_scopes: serde_json::Value,
    /// Whether the vault holds the key's secret.
    pub has_secret: bool,
    /// When Keyward first saw it.
    pub first_seen_at: DateTime<Utc>,
    /// When a sync last saw it.
    pub last_seen_at: DateTime<Utc>,
    /// When a sync stopped seeing it.
    pub removed_at: Option<DateTime<Utc>>,
    /// What kind of credential (`access_key`, `api_key`, `user_token`...); `None` for keys
    /// registered by hand.
    pub kind: Option<String>,
    /// Whether the provider lets anyone with read access copy the secret again.
    pub secret_readable: bool,
    /// Provider facts (access lists, last address, leak reports...), JSON.
    pub details: serde_json::Value,
    /// Keys registered by hand: the last liveness check and its result (`live`, `rejected`, or
    /// why it could not be checked).
    pub check: Option<(DateTime<Utc>, String)>,
    /// Tags the user put on the key; policies set thresholds per tag.
    pub tags: Vec<String>,
    /// Since when the key has had its current status, as far as Keyward knows: the sync that
    /// saw the status change, or the first sync that saw the key.
    pub status_since: DateTime<Utc>,
}

impl ApiKey {
    /// Active and still present at the provider.
    pub fn is_live(&self) -> bool {
        self.status == KeyStatus::Active && self.removed_at.is_none()
    }
}

/// What a connector learned about an owner of keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    /// Provider id.
    pub provider: String,
    /// Connector name.
    pub account: String,
    /// The owner's name.
    pub name: String,
    /// Why the owner has administrator access; `None` when not.
    pub admin_via: Option<String>,
    /// Whether the provider reports the owner disabled or gone.
    pub disabled: bool,
}

/// Account-level facts from a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Provider id.
    pub provider: String,
    /// Connector name.
    pub account: String,
    /// The provider's account id.
    pub account_id: Option<String>,
    /// Whether the root user has an access key (`None`: unknown or not applicable).
    pub root_access_key: Option<bool>,
    /// Account-level facts from the latest sync (JSON).
    pub facts: serde_json::Value,
    /// For a member account of an organization's connector: its name (`account_id` is its id,
    /// `account` the connector). `None` for a connector's own account.
    pub member: Option<String>,
}

/// A posture resource (an API Gateway stage, route or API) from a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Provider id.
    pub provider: String,
    /// Connector name.
    pub account: String,
    /// `apigw_route`, `apigw_stage`...
    pub kind: String,
    /// The provider's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: Option<String>,
    /// Facts (JSON).
    pub details: serde_json::Value,
}
