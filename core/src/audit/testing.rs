//! Builders for rule tests: a key with sensible defaults, moved in time by days.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::{AuditContext, Policy, Snapshot, Subject};
use crate::model::{ApiKey, KeyStatus, LastUse};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// The default policy.
pub static DEFAULT_POLICY: std::sync::LazyLock<Policy> = std::sync::LazyLock::new(Policy::default);

pub fn ctx() -> AuditContext<'static> {
    AuditContext { now: now(), policy: &DEFAULT_POLICY }
}

pub fn days_ago(days: i64) -> DateTime<Utc> {
    now() - Duration::days(days)
}

/// An active AWS key created 10 days ago and used yesterday.
pub fn key(id: &str, owner: &str) -> ApiKey {
    ApiKey {
        id: format!("kw-{id}"),
        provider: "aws".into(),
        account: "prod".into(),
        external_id: Some(id.into()),
        name: id.into(),
        owner: Some(owner.into()),
        status: KeyStatus::Active,
        created_at: Some(days_ago(10)),
        last_used: Some(LastUse { at: days_ago(1), service: None, region: None }),
        usage_tracked: true,
        expires_at: None,
        scopes: vec![],
        raw_scopes: serde_json::Value::Null,
        has_secret: false,
        first_seen_at: days_ago(1),
        last_seen_at: days_ago(0),
        removed_at: None,
        kind: Some("access_key".into()),
        secret_readable: false,
        details: serde_json::json!({}),
        check: None,
        tags: vec![],
        status_since: days_ago(10),
    }
}

pub fn snapshot(keys: Vec<ApiKey>) -> Snapshot {
    Snapshot { keys, ..Default::default() }
}

/// What a rule fires for: the key's external id, the owner's or account's name, the resource's id.
pub fn fired(rule: &dyn super::Rule, snap: &Snapshot) -> Vec<String> {
    fired_at(rule, snap, &ctx())
}

/// [`fired`] under another context.
pub fn fired_at(rule: &dyn super::Rule, snap: &Snapshot, ctx: &AuditContext) -> Vec<String> {
    rule.evaluate(snap, ctx)
        .into_iter()
        .map(|f| match f.subject {
            Subject::Key(k) => k.external_id.clone().unwrap_or_else(|| k.id.clone()),
            Subject::OwnerOf(k) => k.owner.clone().unwrap_or_default(),
            Subject::Root(_) => "root".to_owned(),
            Subject::Account(a) => a.account.clone(),
            Subject::Resource(r) => r.external_id.clone(),
        })
        .collect()
}
