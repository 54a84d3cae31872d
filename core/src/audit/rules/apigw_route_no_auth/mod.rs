//! `apigw_route_no_auth`: an API Gateway HTTP or WebSocket route anyone can call: no authorizer
//! and no API key required.

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwRouteNoAuth;

static META: RuleMeta = RuleMeta {
    id: "apigw_route_no_auth",
    title: "API Gateway route open to anyone",
    severity: Severity::High,
    rationale: "A route with neither an authorizer nor a required API key is public: anyone who finds the endpoint can call the integration behind it.",
    remediation: "Attach an authorizer (IAM, JWT or Lambda) to the route, or require an API key, unless it is meant to be public — then say so in its name or tags.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control.html"],
    practices: &[Practice::Authentication, Practice::Gateway],
    controls: &[ControlMapping { control: "fsbp-apigateway.8", providers: &[] }],
    judges: &[Judges::Resources(&["apigw_route"])],
};

impl Rule for ApigwRouteNoAuth {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == "apigw_route" && r.details["open"] == true)
            .map(|r| Finding::for_resource(&META, r, format!("{}: authorization NONE, no API key required", r.name)))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::Resource;

    pub(crate) fn resource(kind: &str, id: &str, details: serde_json::Value) -> Resource {
        Resource {
            provider: "aws_apigateway".into(),
            account: "prod".into(),
            kind: kind.into(),
            external_id: id.into(),
            name: id.into(),
            region: Some("eu-west-1".into()),
            details,
        }
    }

    #[test]
    fn fires_for_open_routes_only() {
        let mut snap = snapshot(vec![]);
        snap.resources = vec![
            resource("apigw_route", "OPEN", serde_json::json!({"open": true, "authorization_type": "NONE"})),
            resource("apigw_route", "IAM", serde_json::json!({"open": false, "authorization_type": "AWS_IAM"})),
            resource("apigw_stage", "STAGE", serde_json::json!({"open": true})),
        ];
        assert_eq!(fired(&ApigwRouteNoAuth, &snap), vec!["OPEN"]);
    }
}
