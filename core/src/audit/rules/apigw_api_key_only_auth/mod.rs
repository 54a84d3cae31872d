//! `apigw_api_key_only_auth`: a REST method or a WebSocket route whose only protection is an API
//! key (issue 17: the authentication practice). API keys are for metering and usage plans; AWS
//! says not to rely on them for authentication — they are long-lived, shared and sent in clear
//! headers, and whoever holds one is "authenticated".

use crate::audit::practice::{Judges, Practice};
use crate::audit::rules::apigw_method_no_auth::{deployed, preflight};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwApiKeyOnlyAuth;

static META: RuleMeta = RuleMeta {
    id: "apigw_api_key_only_auth",
    title: "API Gateway method protected only by an API key",
    severity: Severity::Medium,
    rationale: "An API key identifies a caller for usage plans; it is not authentication. Keys are long-lived, shared between callers and sent in a header, so anyone who sees one can call the method as its owner.",
    remediation: "Add an authorizer (IAM, Cognito/JWT or Lambda) to the method or route, and keep the API key only for metering.",
    references: &[
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html",
    ],
    practices: &[Practice::Authentication],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_rest_method", "apigw_route"])],
};

impl Rule for ApigwApiKeyOnlyAuth {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| {
                r.details["authorization_type"] == "NONE" && r.details["api_key_required"] == true && !preflight(&r.details)
            })
            .filter_map(|r| match r.kind.as_str() {
                "apigw_rest_method" => {
                    let stages = deployed(&r.details)?;
                    Some(Finding::for_resource(
                        &META,
                        r,
                        format!("{}: only an API key, deployed to {}", r.name, stages.join(", ")),
                    ))
                }
                "apigw_route" => Some(Finding::for_resource(&META, r, format!("{}: only an API key", r.name))),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::apigw_route_no_auth::tests::resource;
    use crate::audit::testing::*;
    use serde_json::json;

    #[test]
    fn fires_for_methods_and_routes_behind_a_key_alone() {
        let mut snap = snapshot(vec![]);
        let m = |auth: &str, key: bool| {
            json!({"authorization_type": auth, "api_key_required": key, "deployed_stages": ["prod"]})
        };
        snap.resources = vec![
            resource("apigw_rest_method", "KEY", m("NONE", true)),
            resource("apigw_rest_method", "OPEN", m("NONE", false)),
            resource("apigw_rest_method", "IAM_AND_KEY", m("AWS_IAM", true)),
            resource(
                "apigw_rest_method",
                "UNDEPLOYED",
                json!({"authorization_type": "NONE", "api_key_required": true, "deployed_stages": []}),
            ),
            resource("apigw_route", "WS_KEY", m("NONE", true)),
            resource("apigw_route", "WS_CUSTOM", m("CUSTOM", true)),
        ];
        assert_eq!(fired(&ApigwApiKeyOnlyAuth, &snap), vec!["KEY", "WS_KEY"]);
    }
}
