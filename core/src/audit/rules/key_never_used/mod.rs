//! `key_never_used`: an active key never used and created more than N days ago (default 7).
//! Only keys whose provider reports use count: for the others, "no last use" means "unknown".

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyNeverUsed;

static META: RuleMeta = RuleMeta {
    id: "key_never_used",
    title: "Active key never used",
    severity: Severity::Low,
    rationale: "A key created and never used was probably not needed, or was handed to someone who never set it up: it is a credential with no purpose.",
    remediation: "Find out who asked for it; delete it if nobody needs it.",
    references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html"],
    practices: &[Practice::AccessControl],
    controls: &[ControlMapping { control: "cis-aws-1.11", providers: &["aws"] }],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyNeverUsed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.usage_tracked && k.last_used.is_none()) {
            return None;
        }
        let limit = ctx.limits(k).never_used_days;
        let age = ctx.age_days(k.created_at?);
        (age > limit)
            .then(|| Finding::for_key(&META, k, format!("never used, created {age} days ago (policy: {limit} days)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_old_never_used_keys_only() {
        let mut young = key("YOUNG", "a");
        young.last_used = None;
        young.created_at = Some(days_ago(7));
        let mut old = key("OLD", "a");
        old.last_used = None;
        old.created_at = Some(days_ago(8));
        let used = key("USED", "a");
        assert_eq!(fired(&KeyNeverUsed, &snapshot(vec![young, old, used])), vec!["OLD"]);
    }

    #[test]
    fn keys_whose_use_is_not_reported_pass() {
        let mut manual = key("MANUAL", "a");
        manual.last_used = None;
        manual.usage_tracked = false;
        manual.created_at = Some(days_ago(100));
        assert!(fired(&KeyNeverUsed, &snapshot(vec![manual])).is_empty());
    }
}
