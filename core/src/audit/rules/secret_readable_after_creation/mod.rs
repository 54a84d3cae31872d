//! `secret_readable_after_creation`: the provider shows the key's secret again to anyone who can
//! read its metadata (Datadog API keys, New Relic ingest keys and one's own user keys, API
//! Gateway keys). Every such reader is a possible leak, so these keys deserve short lives.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct SecretReadableAfterCreation;

static META: RuleMeta = RuleMeta {
    id: "secret_readable_after_creation",
    title: "Key secret can be read again after creation",
    severity: Severity::Low,
    rationale: "Anyone with read access at the provider — people, integrations, a leaked read-only key — can copy the secret, so its exposure is wider than its owner.",
    remediation: "Limit who can read keys at the provider, rotate these keys more often, and prefer key kinds that show their secret only once.",
    references: &[
        "https://docs.datadoghq.com/account_management/api-app-keys/#api-keys",
        "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
    ],
    practices: &[Practice::Encryption, Practice::AccessControl],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for SecretReadableAfterCreation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.secret_readable) {
            return None;
        }
        Some(Finding::for_key(&META, k, "the secret can be read again by anyone with read access to keys"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    #[test]
    fn fires_for_readable_live_keys() {
        let mut readable = key("R", "a");
        readable.secret_readable = true;
        let mut inactive = key("I", "a");
        inactive.secret_readable = true;
        inactive.status = crate::model::KeyStatus::Inactive;
        assert_eq!(fired(&SecretReadableAfterCreation, &snapshot(vec![readable, inactive, key("N", "a")])), vec!["R"]);
    }
}
