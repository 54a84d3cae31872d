//! `key_expired_still_listed`: the provider still lists a key past its expiry. Harmless by
//! itself, but it clutters the inventory and hides whether the consumer was ever moved.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyExpiredStillListed;

static META: RuleMeta = RuleMeta {
    id: "key_expired_still_listed",
    title: "Expired key still listed",
    severity: Severity::Low,
    rationale: "An expired key that stays listed looks like a working credential to whoever reads the list, and its consumers may be failing quietly.",
    remediation: "Check that nothing still sends the expired key (errors at its consumers), then delete it at the provider.",
    references: &["https://docs.datadoghq.com/account_management/api-app-keys/"],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyExpiredStillListed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if k.removed_at.is_some() {
            return None;
        }
        let expired = k.expires_at.filter(|e| *e <= ctx.now)?;
        let ago = ctx.age_days(expired);
        Some(Finding::for_key(&META, k, format!("expired {ago} days ago, on {}", expired.format("%Y-%m-%d"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    #[test]
    fn fires_once_expired_whatever_the_status() {
        let mut expired = key("E", "a");
        expired.expires_at = Some(days_ago(3));
        let mut inactive = key("EI", "a");
        inactive.expires_at = Some(days_ago(40));
        inactive.status = crate::model::KeyStatus::Inactive;
        let mut future = key("F", "a");
        future.expires_at = Some(now() + chrono::Duration::days(1));
        let mut gone = key("G", "a");
        gone.expires_at = Some(days_ago(3));
        gone.removed_at = Some(days_ago(1));
        assert_eq!(
            fired(&KeyExpiredStillListed, &snapshot(vec![expired, inactive, future, gone, key("N", "a")])),
            vec!["E", "EI"]
        );
    }
}
