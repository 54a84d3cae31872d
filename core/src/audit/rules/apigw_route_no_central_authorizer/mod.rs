//! `apigw_route_no_central_authorizer`: an HTTP API none of whose routes use a JWT authorizer or
//! IAM (issue 17: the central-OAuth practice; informational). A JWT authorizer hands token
//! checking to one OAuth/OIDC issuer; IAM to AWS's. An HTTP API that authorizes with Lambda
//! authorizers checks callers its own way, route by route. An API whose routes are all open has
//! no authorizer to centralise: its routes are `apigw_route_no_auth`'s, and this rule does not
//! say the same thing again.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwRouteNoCentralAuthorizer;

static META: RuleMeta = RuleMeta {
    id: "apigw_route_no_central_authorizer",
    title: "HTTP API with no JWT or IAM authorizer on any route",
    severity: Severity::Low,
    rationale: "Tokens issued and checked by one OAuth/OIDC server (a JWT authorizer) or IAM can be revoked, scoped and audited in one place; per-API Lambda authorizers and open routes each invent their own.",
    remediation: "Put the API's routes behind a JWT authorizer for your identity provider (Cognito, Okta, Auth0, …) or IAM, or record why this API cannot.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html"],
    practices: &[Practice::CentralOauth],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_api"])],
};

impl Rule for ApigwRouteNoCentralAuthorizer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == "apigw_api" && r.details["protocol"] == "HTTP")
            .filter_map(|r| {
                // Collected since issue 17; an API synced before is not judged on a guess.
                let by_type = r.details["route_authorization"].as_object()?;
                let routes: u64 = by_type.values().filter_map(|n| n.as_u64()).sum();
                let authorized = by_type.keys().any(|k| k != "NONE");
                if routes == 0 || !authorized || by_type.contains_key("JWT") || by_type.contains_key("AWS_IAM") {
                    return None;
                }
                let mut kinds: Vec<String> = by_type.iter().map(|(k, n)| format!("{n} {k}")).collect();
                kinds.sort();
                Some(Finding::for_resource(&META, r, format!("{}: {routes} routes ({})", r.name, kinds.join(", "))))
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
    fn fires_for_http_apis_without_jwt_or_iam_routes() {
        let mut snap = snapshot(vec![]);
        let api = |protocol: &str, routes: serde_json::Value| json!({"protocol": protocol, "route_authorization": routes});
        snap.resources = vec![
            resource("apigw_api", "LAMBDA", api("HTTP", json!({"CUSTOM": 2, "NONE": 1}))),
            resource("apigw_api", "JWT", api("HTTP", json!({"JWT": 1, "NONE": 3}))),
            resource("apigw_api", "IAM", api("HTTP", json!({"AWS_IAM": 1}))),
            resource("apigw_api", "EMPTY", api("HTTP", json!({}))),
            resource("apigw_api", "ALL_OPEN", api("HTTP", json!({"NONE": 2}))),
            resource("apigw_api", "WEBSOCKET", api("WEBSOCKET", json!({"NONE": 1}))),
            resource("apigw_api", "UNREAD", json!({"protocol": "HTTP"})),
        ];
        assert_eq!(fired(&ApigwRouteNoCentralAuthorizer, &snap), vec!["LAMBDA"]);
    }
}
