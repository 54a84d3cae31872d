//! `provider_reports_leak`: the provider itself reports that a live key leaked (Datadog's leaked
//! key detection on API keys and access tokens).

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct ProviderReportsLeak;

static META: RuleMeta = RuleMeta {
    id: "provider_reports_leak",
    title: "Provider reports the key as leaked",
    severity: Severity::Critical,
    rationale: "The provider found this key somewhere public (a repository, a paste): anyone may be using it now.",
    remediation: "Rotate it now: create a replacement, switch the consumers, revoke the leaked key, then review the provider's audit trail for use you do not recognise.",
    references: &["https://docs.datadoghq.com/account_management/api-app-keys/#leaked-key-detection"],
    practices: &[Practice::Monitoring, Practice::Authentication],
    controls: &[],
    judges: &[Judges::Keys(&["datadog"])],
};

impl Rule for ProviderReportsLeak {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        // Only Datadog reports leaks (checking the provider first spares a JSON lookup per key).
        if !(k.is_live() && k.provider == "datadog") {
            return None;
        }
        let leak = k.details.get("leak").filter(|l| l.is_object())?;
        let when = leak["date"].as_str().unwrap_or("an unknown date");
        let source = leak["source"].as_str().unwrap_or("an unnamed source");
        Some(Finding::for_key(&META, k, format!("reported leaked on {when} ({source})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_live_keys_the_provider_reports() {
        let mut leaked = key("LEAKED", "ana");
        leaked.details = serde_json::json!({"leak": {"date": "2026-11-20T00:00:00Z", "source": "github"}});
        let mut clean = key("CLEAN", "ana");
        clean.details = serde_json::json!({"leak": null});
        let mut revoked = key("REVOKED", "ana");
        revoked.details = leaked.details.clone();
        revoked.removed_at = Some(days_ago(1));
        let mut snap = snapshot(vec![leaked, clean, revoked]);
        for k in &mut snap.keys {
            k.provider = "datadog".into();
        }
        let findings = ProviderReportsLeak.evaluate(&snap, &ctx());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].external_id(), Some("LEAKED"));
        assert!(findings[0].detail.contains("github"));
    }
}
