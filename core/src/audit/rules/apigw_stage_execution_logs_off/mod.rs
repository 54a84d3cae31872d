//! `apigw_stage_execution_logs_off`: a REST stage whose `*/*` method settings log nothing —
//! logging `OFF`, API Gateway's default (issue 17: the monitoring practice; AWS Foundational
//! Security Best Practices APIGateway.1, which judges the stage's default the same way). Methods
//! that log on their own are named in the detail: the rest of the stage is still unlogged. Access logs say
//! who called; execution logs say what API Gateway did with the call (authorizer results,
//! validation failures, throttling), which is what an incident needs. A stage synced before the
//! field existed is not judged.

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwStageExecutionLogsOff;

static META: RuleMeta = RuleMeta {
    id: "apigw_stage_execution_logs_off",
    title: "API Gateway REST stage with execution logging off",
    severity: Severity::Medium,
    rationale: "Without execution logs, rejected authorizations, validation failures and throttled calls leave no trace in CloudWatch: an attack or a broken client is invisible.",
    remediation: "Set the stage's logging level to ERROR (or INFO) for all methods (*/*), with an account-level CloudWatch role; keep data trace off in production.",
    references: &[
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/apigateway-controls.html#apigateway-1",
    ],
    practices: &[Practice::Monitoring],
    controls: &[ControlMapping { control: "fsbp-apigateway.1", providers: &[] }],
    judges: &[Judges::Resources(&["apigw_rest_stage"])],
};

impl Rule for ApigwStageExecutionLogsOff {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == "apigw_rest_stage" && r.details["execution_logging"] == "OFF")
            .map(|r| {
                let mut logging: Vec<&str> = r.details["execution_logging_methods"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(_, level)| *level != "OFF")
                    .map(|(method, _)| method.as_str())
                    .collect();
                logging.sort();
                let detail = if logging.is_empty() {
                    format!("{}: execution logging OFF for every method", r.name)
                } else {
                    format!("{}: execution logging OFF for */*; only {} log", r.name, logging.join(", "))
                };
                Finding::for_resource(&META, r, detail)
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
    fn fires_for_rest_stages_logging_nothing() {
        let mut snap = snapshot(vec![]);
        snap.resources = vec![
            resource("apigw_rest_stage", "OFF", json!({"execution_logging": "OFF", "execution_logging_methods": {}})),
            resource(
                "apigw_rest_stage",
                "OFF_BUT_ONE",
                json!({"execution_logging": "OFF", "execution_logging_methods": {"items/GET": "ERROR"}}),
            ),
            resource("apigw_rest_stage", "ERROR", json!({"execution_logging": "ERROR"})),
            resource("apigw_rest_stage", "INFO", json!({"execution_logging": "INFO"})),
            resource("apigw_rest_stage", "UNREAD", json!({"access_logs": false})),
            resource("apigw_stage", "HTTP", json!({"execution_logging": "OFF"})),
        ];
        assert_eq!(fired(&ApigwStageExecutionLogsOff, &snap), vec!["OFF", "OFF_BUT_ONE"]);
        let found = ApigwStageExecutionLogsOff.evaluate(&snap, &ctx());
        assert!(found[1].detail.ends_with("only items/GET log"), "{}", found[1].detail);
    }
}
