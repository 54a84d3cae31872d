//! The audit: pure rules over an inventory snapshot.
//!
//! Rules never do IO and never read the clock: the runner loads a [`Snapshot`] from the vault
//! and passes `now` in, so every rule is a function that tests can pin down exactly. Adding a
//! rule is one folder under `rules/` and one line in [`rules::ALL_RULES`].

pub mod rules;

use chrono::{DateTime, Utc};

use crate::model::{Account, ApiKey, Owner, Resource};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Should be fixed.
    Medium,
    /// Fix soon.
    High,
    /// Fix now.
    Critical,
}

impl Severity {
    /// The stable lowercase form used in JSON and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A rule's user-facing description. The CLI and UI render it; a registry test checks it.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id; equals the rule's folder name. Later tools depend on it.
    pub id: &'static str,
    /// The risky state, in a few words.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Why it matters.
    pub rationale: &'static str,
    /// What to do.
    pub remediation: &'static str,
    /// Where to read more.
    pub references: &'static [&'static str],
}

/// Day thresholds for the age rules. "More than N days" means strictly greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `key_not_rotated`.
    pub not_rotated_days: i64,
    /// `key_unused`.
    pub unused_days: i64,
    /// `key_never_used`.
    pub never_used_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { not_rotated_days: 90, unused_days: 45, never_used_days: 7 }
    }
}

/// What a rule is evaluated against besides the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct AuditContext {
    /// The instant the audit judges ages against.
    pub now: DateTime<Utc>,
    /// Thresholds.
    pub thresholds: Thresholds,
}

impl AuditContext {
    /// Whole days (floored) from `t` to `now`; negative when `t` is in the future.
    pub fn age_days(&self, t: DateTime<Utc>) -> i64 {
        crate::time::age_days(t, self.now)
    }
}

/// The inventory as the audit sees it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every key not removed at its provider.
    pub keys: Vec<ApiKey>,
    /// Owners with their facts.
    pub owners: Vec<Owner>,
    /// Accounts with their facts.
    pub accounts: Vec<Account>,
    /// Posture resources (API Gateway stages, routes, APIs) still present.
    pub resources: Vec<Resource>,
}

/// One risky thing a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Keyward's key id, for key-level findings.
    pub key_id: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Connector name (or `manual`).
    pub account: String,
    /// The provider's key id; `None` for owner- and account-level findings.
    pub external_id: Option<String>,
    /// The owner.
    pub owner: Option<String>,
    /// The rule's title.
    pub title: String,
    /// What exactly was found, with the numbers.
    pub detail: String,
}

impl Finding {
    /// A finding about one key.
    pub fn for_key(meta: &RuleMeta, key: &ApiKey, detail: String) -> Self {
        Self {
            rule_id: meta.id,
            severity: meta.severity,
            key_id: Some(key.id.clone()),
            provider: key.provider.clone(),
            account: key.account.clone(),
            external_id: key.external_id.clone(),
            owner: key.owner.clone(),
            title: meta.title.to_owned(),
            detail,
        }
    }
}

/// A check over the snapshot.
pub trait Rule: Sync {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// The findings for this snapshot at `ctx.now`.
    fn evaluate(&self, snapshot: &Snapshot, ctx: &AuditContext) -> Vec<Finding>;
}

/// Runs every registered rule; findings come out in registry order, then in snapshot order.
pub fn evaluate(snapshot: &Snapshot, ctx: &AuditContext) -> Vec<Finding> {
    rules::ALL_RULES.iter().flat_map(|rule| rule.evaluate(snapshot, ctx)).collect()
}

#[cfg(test)]
pub(crate) mod testing;
