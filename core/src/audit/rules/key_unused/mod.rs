//! `key_unused`: an active key last used more than N days ago (default 45). Keys never used
//! are `key_never_used`'s, not this rule's.

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, days_detail};
use crate::model::ApiKey;

/// The rule.
pub struct KeyUnused;

static META: RuleMeta = RuleMeta {
    id: "key_unused",
    title: "Active key not used recently",
    severity: Severity::Medium,
    rationale: "A key nobody uses is pure risk: it can only be used by someone who should not have it.",
    remediation: "Deactivate the key; delete it if nothing complains within a few days.",
    references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html"],
    practices: &[Practice::AccessControl],
    controls: &[ControlMapping { control: "cis-aws-1.12", providers: &["aws"] }],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyUnused {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if !k.is_live() {
            return None;
        }
        let last = k.last_used.as_ref()?;
        let age = ctx.age_days(last.at);
        let limit = ctx.limits(k).unused_days;
        (age > limit).then(|| {
            let detail = match (&last.service, &last.region) {
                (Some(s), Some(r)) => format!("last used {age} days ago ({s} in {r}) (policy: {limit} days)"),
                (Some(s), None) => format!("last used {age} days ago ({s}) (policy: {limit} days)"),
                _ => days_detail("last used ", age, " days ago (policy: ", limit, " days)"),
            };
            Finding::for_key(&META, k, detail)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::LastUse;

    #[test]
    fn fires_strictly_after_the_limit() {
        let mut at_limit = key("AT", "a");
        at_limit.last_used = Some(LastUse { at: days_ago(45), service: None, region: None });
        let mut over = key("OVER", "a");
        over.last_used =
            Some(LastUse { at: days_ago(46), service: Some("s3".into()), region: Some("eu-west-1".into()) });
        let snap = snapshot(vec![at_limit, over]);
        assert_eq!(fired(&KeyUnused, &snap), vec!["OVER"]);
        assert!(KeyUnused.evaluate(&snap, &ctx())[0].detail.contains("s3 in eu-west-1"));
    }

    #[test]
    fn never_used_keys_are_not_this_rule() {
        let mut never = key("N", "a");
        never.last_used = None;
        never.created_at = Some(days_ago(300));
        assert!(fired(&KeyUnused, &snapshot(vec![never])).is_empty());
    }
}
