//! The plain data a connector returns. No secrets of the provider's keys ever appear here:
//! list APIs return ids and metadata only.

use chrono::{DateTime, Utc};

/// Whether a key can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Usable.
    Active,
    /// Disabled at the provider but not deleted.
    Inactive,
}

impl KeyStatus {
    /// The stored and displayed form.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Inactive => "inactive",
        }
    }
}

/// The last recorded use of a key, as the provider reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastUse {
    /// When.
    pub at: DateTime<Utc>,
    /// Which service it was used against, where the provider says (AWS: `iam`, `s3`...).
    pub service: Option<String>,
    /// Which region, where the provider says.
    pub region: Option<String>,
}

impl LastUse {
    /// A use the provider reports only the time of.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self { at, service: None, region: None }
    }
}

/// One key as the provider lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteKey {
    /// The provider's id for the key (an AWS access key id, a Datadog key id...). Not secret.
    pub external_id: String,
    /// A human name; providers without names get the external id.
    pub name: String,
    /// The user or principal the key belongs to, where the provider says.
    pub owner: Option<String>,
    /// Active or not.
    pub status: KeyStatus,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Last use; with `usage_tracked`, `None` means never used.
    pub last_used: Option<LastUse>,
    /// Whether the provider reports use at all for this kind of key.
    pub usage_tracked: bool,
    /// Expiry, for providers whose keys expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// What the key can do, normalised to short strings (`policy:AdministratorAccess`...).
    pub scopes: Vec<String>,
    /// The provider's own description of the key's permissions, kept verbatim.
    pub raw_scopes: serde_json::Value,
    /// What kind of credential (`access_key`, `api_key`, `application_key`, `user_token`...).
    pub kind: &'static str,
    /// Whether anyone allowed to read the key's metadata can also read its secret later
    /// (Datadog API keys, New Relic ingest keys, API Gateway keys).
    pub secret_readable: bool,
    /// Provider facts the audit and the UI need beyond the common fields (access lists, last
    /// address, usage plans, leak reports...), as JSON. Never a secret.
    pub details: serde_json::Value,
}

impl RemoteKey {
    /// A key with only its identity; the rest is filled by the connector.
    pub fn new(kind: &'static str, external_id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            external_id: external_id.into(),
            name: name.into(),
            owner: None,
            status: KeyStatus::Active,
            created_at: None,
            last_used: None,
            usage_tracked: false,
            expires_at: None,
            scopes: Vec::new(),
            raw_scopes: serde_json::Value::Null,
            kind,
            secret_readable: false,
            details: serde_json::Value::Object(Default::default()),
        }
    }
}

/// A configured thing that is not a key but decides how exposed keys are (an API Gateway
/// route, stage or API), with the facts the audit judges.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `apigw_rest_stage`, `apigw_http_api`, `apigw_route`, `apigw_stage`...
    pub kind: &'static str,
    /// The provider's id, unique within the connector (`region/api/stage`...).
    pub external_id: String,
    /// A human name.
    pub name: String,
    /// Region, where there is one.
    pub region: Option<String>,
    /// The facts, as JSON.
    pub details: serde_json::Value,
}

/// One check of `connector test`: a credential or a permission the connector needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// What was checked (`credentials`, `api_keys_read`...).
    pub what: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was seen, or what to do.
    pub detail: String,
}

/// What the connector learned about an owner of keys.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerFacts {
    /// The owner's name as used in [`RemoteKey::owner`].
    pub name: String,
    /// Why this owner has administrator access, or `None` when it does not.
    pub admin_via: Option<String>,
    /// Whether the provider reports the owner as disabled or gone.
    pub disabled: bool,
}

/// Everything one connector run saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// The provider's account id, where it can be learned (AWS account number...).
    pub account_id: Option<String>,
    /// Every key listed.
    pub keys: Vec<RemoteKey>,
    /// Facts about the owners of those keys.
    pub owners: Vec<OwnerFacts>,
    /// Whether the account's root user has an access key (`None` when the provider has no root).
    pub root_access_key: Option<bool>,
    /// Posture resources (API Gateway stages, routes...).
    pub resources: Vec<Resource>,
    /// Account-level facts (Atlas `apiAccessListRequired`, what a listing could cover...).
    pub facts: serde_json::Value,
    /// The requests the listing sent to the provider's API, retries included; empty when the
    /// connector does not count them.
    pub calls: Calls,
    /// Parts the listing could not read this time (an organization's member accounts, by id).
    /// Keys whose `details.account_id` is one of them, and owners named `<id>/…`, are kept as
    /// they were: a part that failed is not a part whose keys were deleted.
    pub unreached: Vec<String>,
    /// What went wrong without failing the listing, in words (an account whose role is missing).
    pub warnings: Vec<String>,
}

/// Requests sent to a provider's API, by operation (`iam:ListAccessKeys`...). Rate limits are
/// per request, so these are what a large estate pays for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls(pub std::collections::BTreeMap<String, u64>);

impl Calls {
    /// Every request, whatever the operation.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Adds another count to this one (the accounts of an organization, one by one).
    pub fn add(&mut self, other: &Calls) {
        for (op, n) in &other.0 {
            *self.0.entry(op.clone()).or_default() += n;
        }
    }
}

/// Progress of a long listing, reported as work completes.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What is being done (`users`, `keys`...).
    pub phase: &'static str,
    /// Units done so far.
    pub done: usize,
    /// Units in all, when known.
    pub total: Option<usize>,
}
