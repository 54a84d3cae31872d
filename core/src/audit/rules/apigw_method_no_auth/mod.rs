//! `apigw_method_no_auth`: a REST API method anyone can call — authorization `NONE` and no API
//! key — on an API with a deployed stage (issue 17: the authentication practice). A method that
//! requires an API key and nothing else is `apigw_api_key_only_auth`'s: an API key identifies a
//! caller for metering, it does not authenticate one.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwMethodNoAuth;

static META: RuleMeta = RuleMeta {
    id: "apigw_method_no_auth",
    title: "API Gateway REST method open to anyone",
    severity: Severity::High,
    rationale: "A deployed method with authorization NONE and no API key is public: anyone who finds the stage URL can call the integration behind it.",
    remediation: "Set the method's authorization to AWS_IAM, a Cognito user pool or a Lambda authorizer, unless it is meant to be public — then say so in its name or tags.",
    references: &[
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-to-api.html",
    ],
    practices: &[Practice::Authentication, Practice::Gateway],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_rest_method"])],
};

/// A CORS preflight (`OPTIONS`) carries no credentials by design: browsers send it without
/// them, so it is `NONE` on every API that allows cross-origin calls and is not judged.
pub(crate) fn preflight(details: &serde_json::Value) -> bool {
    details["http_method"] == "OPTIONS"
}

/// A method callers can reach: its API has a stage with a deployment.
pub(crate) fn deployed(details: &serde_json::Value) -> Option<Vec<&str>> {
    let stages: Vec<&str> = details["deployed_stages"].as_array()?.iter().filter_map(|s| s.as_str()).collect();
    (!stages.is_empty()).then_some(stages)
}

impl Rule for ApigwMethodNoAuth {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| {
                r.kind == "apigw_rest_method"
                    && !preflight(&r.details)
                    && r.details["authorization_type"] == "NONE"
                    && r.details["api_key_required"] == false
            })
            .filter_map(|r| {
                let stages = deployed(&r.details)?;
                Some(Finding::for_resource(
                    &META,
                    r,
                    format!("{}: authorization NONE, no API key, deployed to {}", r.name, stages.join(", ")),
                ))
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
    fn fires_for_deployed_methods_with_neither_authorization_nor_key() {
        let mut snap = snapshot(vec![]);
        let m = |auth: &str, key: bool, stages: serde_json::Value| {
            json!({"authorization_type": auth, "api_key_required": key, "deployed_stages": stages})
        };
        snap.resources = vec![
            resource("apigw_rest_method", "OPEN", m("NONE", false, json!(["prod"]))),
            resource("apigw_rest_method", "KEY", m("NONE", true, json!(["prod"]))),
            resource("apigw_rest_method", "IAM", m("AWS_IAM", false, json!(["prod"]))),
            resource("apigw_rest_method", "COGNITO", m("COGNITO_USER_POOLS", false, json!(["prod"]))),
            resource("apigw_rest_method", "UNDEPLOYED", m("NONE", false, json!([]))),
            resource(
                "apigw_rest_method",
                "PREFLIGHT",
                json!({"http_method": "OPTIONS", "authorization_type": "NONE", "api_key_required": false, "deployed_stages": ["prod"]}),
            ),
            resource("apigw_rest_method", "UNREAD", json!({"authorization_type": null, "api_key_required": null, "deployed_stages": ["prod"]})),
            resource("apigw_route", "ROUTE", m("NONE", false, json!(["prod"]))),
        ];
        assert_eq!(fired(&ApigwMethodNoAuth, &snap), vec!["OPEN"]);
    }
}
