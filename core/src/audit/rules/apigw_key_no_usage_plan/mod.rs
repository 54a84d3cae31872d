//! `apigw_key_no_usage_plan`: an enabled API Gateway API key in no usage plan — nothing throttles
//! or meters it (and for REST APIs it cannot be used for a method that requires a key).

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct ApigwKeyNoUsagePlan;

static META: RuleMeta = RuleMeta {
    id: "apigw_key_no_usage_plan",
    title: "API Gateway key in no usage plan",
    severity: Severity::Medium,
    rationale: "A key outside every usage plan has no quota or throttle of its own: nothing limits what a leaked copy can do, and nothing meters it.",
    remediation: "Add the key to a usage plan with a throttle and quota that fit its consumer, or delete it if nothing uses it.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html"],
    practices: &[Practice::RateLimiting, Practice::Gateway],
    controls: &[],
    judges: &[Judges::Keys(&["aws_apigateway"])],
};

impl Rule for ApigwKeyNoUsagePlan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.provider == "aws_apigateway") {
            return None;
        }
        if !k.details["usage_plans"].as_array().is_some_and(|p| p.is_empty()) {
            return None;
        }
        Some(Finding::for_key(&META, k, "not in any usage plan"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    #[test]
    fn fires_for_enabled_keys_outside_plans() {
        let gw = |id: &str, plans: serde_json::Value| {
            let mut k = key(id, "a");
            k.provider = "aws_apigateway".into();
            k.details = serde_json::json!({ "usage_plans": plans });
            k
        };
        let mut disabled = gw("OFF", serde_json::json!([]));
        disabled.status = crate::model::KeyStatus::Inactive;
        let snap =
            snapshot(vec![gw("NONE", serde_json::json!([])), gw("PLAN", serde_json::json!([{"id": "p1"}])), disabled]);
        assert_eq!(fired(&ApigwKeyNoUsagePlan, &snap), vec!["NONE"]);
    }
}
