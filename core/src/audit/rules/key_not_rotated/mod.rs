//! `key_not_rotated`: an active key created more than N days ago (default 90).

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, days_detail};
use crate::model::ApiKey;

/// The rule.
pub struct KeyNotRotated;

static META: RuleMeta = RuleMeta {
    id: "key_not_rotated",
    title: "Key not rotated within the policy period",
    severity: Severity::Medium,
    rationale: "The longer a key lives, the more places it is copied to and the longer a leaked copy stays useful.",
    remediation: "Create a new key, move its consumers to it, deactivate the old key, then delete it once nothing breaks.",
    references: &[
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console",
    ],
    practices: &[Practice::Authentication, Practice::RegularAudits],
    controls: &[ControlMapping { control: "cis-aws-1.14", providers: &["aws"] }],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyNotRotated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if !k.is_live() {
            return None;
        }
        let limit = ctx.limits(k).not_rotated_days;
        let age = ctx.age_days(k.created_at?);
        (age > limit)
            .then(|| Finding::for_key(&META, k, days_detail("created ", age, " days ago (policy: ", limit, " days)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::KeyStatus;

    #[test]
    fn fires_strictly_after_the_limit() {
        let mut at_limit = key("AT", "a");
        at_limit.created_at = Some(days_ago(90));
        let mut over = key("OVER", "a");
        over.created_at = Some(days_ago(91));
        assert_eq!(fired(&KeyNotRotated, &snapshot(vec![at_limit, over])), vec!["OVER"]);
    }

    #[test]
    fn inactive_removed_or_undated_keys_pass() {
        let mut inactive = key("I", "a");
        inactive.created_at = Some(days_ago(400));
        inactive.status = KeyStatus::Inactive;
        let mut removed = key("R", "a");
        removed.created_at = Some(days_ago(400));
        removed.removed_at = Some(days_ago(1));
        let mut undated = key("U", "a");
        undated.created_at = None;
        assert!(fired(&KeyNotRotated, &snapshot(vec![inactive, removed, undated])).is_empty());
    }
}
