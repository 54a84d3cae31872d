//! `apigw_stage_no_throttling`: an API Gateway stage with no throttling limits, so one leaked
//! key can drive unbounded traffic (and cost) to the backend.

use crate::audit::rules::apigw_stage_no_access_logs::is_stage;
use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwStageNoThrottling;

static META: RuleMeta = RuleMeta {
    id: "apigw_stage_no_throttling",
    title: "API Gateway stage without throttling",
    severity: Severity::Medium,
    rationale: "Without a rate or burst limit, a leaked key or a runaway client can send as much traffic as the account allows, running up cost and load.",
    remediation: "Set default route (or method) throttling on the stage, and per-key limits through usage plans.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"],
    practices: &[Practice::RateLimiting, Practice::DdosProtection],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_rest_stage", "apigw_stage"])],
};

impl Rule for ApigwStageNoThrottling {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| is_stage(&r.kind) && r.details["throttling"] == false)
            .map(|r| Finding::for_resource(&META, r, format!("{}: no rate or burst limit", r.name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::apigw_route_no_auth::tests::resource;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_unthrottled_stages() {
        let mut snap = snapshot(vec![]);
        snap.resources = vec![
            resource("apigw_rest_stage", "REST", serde_json::json!({"throttling": false})),
            resource("apigw_stage", "LIMITED", serde_json::json!({"throttling": true})),
        ];
        assert_eq!(fired(&ApigwStageNoThrottling, &snap), vec!["REST"]);
    }
}
