//! `fastly_token_all_services`: a Fastly token not limited to any service, so whatever its scope
//! allows, it allows on every service of the account, including ones created later.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct FastlyTokenAllServices;

static META: RuleMeta = RuleMeta {
    id: "fastly_token_all_services",
    title: "Fastly token not limited to specific services",
    severity: Severity::Low,
    rationale: "A token limited to the services it works on cannot touch the others if it leaks; an unlimited one reaches every service, present and future.",
    remediation: "Create a replacement token limited to the services the integration uses, switch over, then delete this one.",
    references: &["https://docs.fastly.com/en/guides/using-api-tokens#creating-api-tokens"],
    practices: &[Practice::Authorization],
    controls: &[],
    judges: &[Judges::Keys(&["fastly"])],
};

impl Rule for FastlyTokenAllServices {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.provider == "fastly" && k.scopes.iter().any(|s| s == "services:*")) {
            return None;
        }
        Some(Finding::for_key(&META, k, "valid on every service of the account"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    #[test]
    fn fires_without_a_service_list() {
        let mut all = key("ALL", "a");
        all.provider = "fastly".into();
        all.scopes = vec!["global:read".into(), "services:*".into()];
        let mut some = key("SOME", "a");
        some.provider = "fastly".into();
        some.scopes = vec!["global".into()];
        assert_eq!(fired(&FastlyTokenAllServices, &snapshot(vec![all, some])), vec!["ALL"]);
    }
}
