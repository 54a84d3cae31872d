//! `apigw_domain_weak_tls`: an API Gateway custom domain whose security policy still accepts
//! TLS 1.0 and 1.1 (`TLS_1_0`; issue 17: the encryption practice). Every other policy API
//! Gateway offers (`TLS_1_2`, the `SecurityPolicy_TLS13_*` and `_TLS12_*` families) starts at
//! TLS 1.2. A domain whose policy was not read is not judged.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct ApigwDomainWeakTls;

static META: RuleMeta = RuleMeta {
    id: "apigw_domain_weak_tls",
    title: "API Gateway custom domain accepts TLS 1.0 and 1.1",
    severity: Severity::Medium,
    rationale: "TLS 1.0 and 1.1 are deprecated (RFC 8996): clients can be downgraded to ciphers with known weaknesses, and compliance regimes (PCI DSS) forbid them.",
    remediation: "Set the domain's security policy to TLS_1_2 or a SecurityPolicy_TLS13_* policy after checking that no client needs the old versions.",
    references: &[
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html",
        "https://www.rfc-editor.org/rfc/rfc8996",
    ],
    practices: &[Practice::Encryption],
    controls: &[],
    judges: &[Judges::Resources(&["apigw_domain"])],
};

impl Rule for ApigwDomainWeakTls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == "apigw_domain")
            .filter(|r| {
                r.details["security_policies"].as_array().is_some_and(|p| p.iter().any(|p| p == "TLS_1_0"))
            })
            .map(|r| Finding::for_resource(&META, r, format!("{}: security policy TLS_1_0", r.name)))
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
    fn fires_for_domains_accepting_tls_1_0() {
        let mut snap = snapshot(vec![]);
        snap.resources = vec![
            resource("apigw_domain", "OLD", json!({"security_policies": ["TLS_1_0"]})),
            resource("apigw_domain", "NEW", json!({"security_policies": ["TLS_1_2"]})),
            resource("apigw_domain", "TLS13", json!({"security_policies": ["SecurityPolicy_TLS13_1_3_2025_09"]})),
            resource("apigw_domain", "UNREAD", json!({"security_policies": []})),
            resource("apigw_rest_stage", "STAGE", json!({"security_policies": ["TLS_1_0"]})),
        ];
        assert_eq!(fired(&ApigwDomainWeakTls, &snap), vec!["OLD"]);
    }
}
