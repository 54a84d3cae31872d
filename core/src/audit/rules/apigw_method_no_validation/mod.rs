//! `apigw_method_no_validation`: a deployed REST method that declares a request body model but
//! has no request validator checking the body (issue 17: the input-validation practice). The
//! model then documents the body without enforcing it: malformed or hostile bodies reach the
//! backend.

use crate::audit::practice::{Judges, Practice};
use crate::audit::rules::apigw_method_no_auth::deployed;
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwMethodNoValidation;

static META: RuleMeta = RuleMeta {
    id: "apigw_method_no_validation",
    title: "API Gateway method with a body model that is not validated",
    severity: Severity::Medium,
    rationale: "API Gateway checks a request body against its model only when the method has a request validator with validateRequestBody: without one, any body reaches the integration.",
    remediation: "Create a request validator that validates the body (and parameters) and set it on the method, then redeploy the stage.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html"],
    practices: &[Practice::InputValidation],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_rest_method"])],
};

impl Rule for ApigwMethodNoValidation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == "apigw_rest_method")
            .filter(|r| r.details["request_models"].as_array().is_some_and(|m| !m.is_empty()))
            .filter_map(|r| {
                deployed(&r.details)?;
                let validator = &r.details["request_validator"];
                let detail = if validator.is_null() {
                    format!("{}: a body model and no request validator", r.name)
                } else if validator["body"] == false {
                    format!(
                        "{}: its validator {} does not validate the body",
                        r.name,
                        validator["name"].as_str().or(validator["id"].as_str()).unwrap_or("?")
                    )
                } else {
                    return None; // validates the body, or a validator not read (not judged on a guess)
                };
                Some(Finding::for_resource(&META, r, detail))
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
    fn fires_for_modelled_bodies_nobody_validates() {
        let mut snap = snapshot(vec![]);
        let m = |models: serde_json::Value, validator: serde_json::Value| {
            json!({"request_models": models, "request_validator": validator, "deployed_stages": ["prod"]})
        };
        snap.resources = vec![
            resource("apigw_rest_method", "NONE", m(json!(["application/json"]), json!(null))),
            resource(
                "apigw_rest_method",
                "PARAMS_ONLY",
                m(json!(["application/json"]), json!({"id": "v1", "name": "params", "body": false, "parameters": true})),
            ),
            resource(
                "apigw_rest_method",
                "BODY",
                m(json!(["application/json"]), json!({"id": "v2", "name": "body", "body": true, "parameters": false})),
            ),
            resource("apigw_rest_method", "NO_MODEL", m(json!([]), json!(null))),
            resource(
                "apigw_rest_method",
                "UNDEPLOYED",
                json!({"request_models": ["application/json"], "request_validator": null, "deployed_stages": []}),
            ),
        ];
        assert_eq!(fired(&ApigwMethodNoValidation, &snap), vec!["NONE", "PARAMS_ONLY"]);
    }
}
