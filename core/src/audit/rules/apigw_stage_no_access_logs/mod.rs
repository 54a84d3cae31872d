//! `apigw_stage_no_access_logs`: an API Gateway stage (REST, HTTP or WebSocket) that writes no
//! access log, so a key's misuse leaves no trace.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwStageNoAccessLogs;

static META: RuleMeta = RuleMeta {
    id: "apigw_stage_no_access_logs",
    title: "API Gateway stage without access logs",
    severity: Severity::Medium,
    rationale: "Without access logs there is no record of which key called what and from where: a leaked key's use cannot be traced or scoped.",
    remediation: "Turn on access logging for the stage to a CloudWatch Logs group (or Firehose), including the caller and API key id.",
    references: &["https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"],
    practices: &[Practice::Monitoring],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_rest_stage", "apigw_stage"])],
};

/// REST stages and HTTP/WebSocket stages.
pub(crate) fn is_stage(kind: &str) -> bool {
    kind == "apigw_rest_stage" || kind == "apigw_stage"
}

impl Rule for ApigwStageNoAccessLogs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| is_stage(&r.kind) && r.details["access_logs"] == false)
            .map(|r| Finding::for_resource(&META, r, format!("{}: no access log destination", r.name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::apigw_route_no_auth::tests::resource;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_stages_without_logs() {
        let mut snap = snapshot(vec![]);
        snap.resources = vec![
            resource("apigw_rest_stage", "REST", serde_json::json!({"access_logs": false})),
            resource("apigw_stage", "HTTP", serde_json::json!({"access_logs": false})),
            resource("apigw_stage", "LOGGED", serde_json::json!({"access_logs": true})),
            resource("apigw_route", "ROUTE", serde_json::json!({"access_logs": false})),
        ];
        assert_eq!(fired(&ApigwStageNoAccessLogs, &snap), vec!["REST", "HTTP"]);
    }
}
