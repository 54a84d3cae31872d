//! `key_disabled_not_deleted`: a key deactivated more than N days ago (default 30) and still
//! there. Deactivating first is the safe way to retire a key; forgetting the delete leaves a
//! credential one click from working again.
//!
//! How long it has been inactive is the shortest span the evidence proves: since the sync that saw
//! it switch off (or first saw it off), or since the provider's last update of it (API Gateway
//! reports one), whichever is earlier.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;
use crate::model::KeyStatus;

/// The rule.
pub struct KeyDisabledNotDeleted;

static META: RuleMeta = RuleMeta {
    id: "key_disabled_not_deleted",
    title: "Key deactivated but not deleted",
    severity: Severity::Low,
    rationale: "A deactivated key can be switched back on by anyone with the right permission, and its presence hides whether the rotation really finished.",
    remediation: "If nothing broke since it was deactivated, delete it.",
    references: &[
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#Using_RotateAccessKey",
    ],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyDisabledNotDeleted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.status == KeyStatus::Inactive && k.removed_at.is_none()) {
            return None;
        }
        let updated = k.details["last_updated"].as_str().and_then(crate::time::parse);
        let since = updated.map_or(k.status_since, |u| u.min(k.status_since));
        let days = ctx.age_days(since);
        let limit = ctx.limits(k).disabled_days;
        (days > limit)
            .then(|| Finding::for_key(&META, k, format!("inactive for at least {days} days (policy: {limit} days)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::KeyStatus;

    fn inactive(id: &str, since_days: i64) -> crate::model::ApiKey {
        let mut k = key(id, "a");
        k.status = KeyStatus::Inactive;
        k.status_since = days_ago(since_days);
        k
    }

    #[test]
    fn fires_strictly_after_the_limit() {
        let snap = snapshot(vec![inactive("D30", 30), inactive("D31", 31), key("ACTIVE", "a")]);
        assert_eq!(fired(&KeyDisabledNotDeleted, &snap), vec!["D31"]);
    }

    #[test]
    fn the_providers_last_update_is_evidence_too() {
        let mut gw = inactive("GW", 0);
        gw.details = serde_json::json!({"last_updated": crate::time::to_string(days_ago(200))});
        let mut removed = inactive("GONE", 90);
        removed.removed_at = Some(days_ago(1));
        let snap = snapshot(vec![gw, removed]);
        let f = KeyDisabledNotDeleted.evaluate(&snap, &ctx());
        assert_eq!(f.len(), 1);
        assert!(f[0].detail.contains("200 days"), "{}", f[0].detail);
    }
}
