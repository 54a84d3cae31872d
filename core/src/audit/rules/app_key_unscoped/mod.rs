//! `app_key_unscoped`: a live Datadog application key with no scopes, which Datadog treats as
//! "every permission of its owner" — an admin's unscoped key is an admin credential.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct AppKeyUnscoped;

static META: RuleMeta = RuleMeta {
    id: "app_key_unscoped",
    title: "Datadog application key without scopes",
    severity: Severity::Medium,
    rationale: "An application key with no scopes carries every permission its owner has, now and later: a key made for one dashboard script can delete monitors or read every API key.",
    remediation: "Create a scoped application key with only the permissions the integration uses, switch the consumer to it, then delete the unscoped key.",
    references: &["https://docs.datadoghq.com/account_management/api-app-keys/#scopes"],
    practices: &[Practice::Authorization],
    controls: &[],
    judges: &[Judges::Keys(&["datadog"])],
};

impl Rule for AppKeyUnscoped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.provider == "datadog" && k.kind.as_deref() == Some("application_key")) {
            return None;
        }
        if k.details["unscoped"] != true {
            return None;
        }
        Some(Finding::for_key(&META, k, "no scopes: the key has all of its owner's permissions"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;

    fn app_key(id: &str, unscoped: bool) -> crate::model::ApiKey {
        let mut k = key(id, "ana@example.com");
        k.provider = "datadog".into();
        k.kind = Some("application_key".into());
        k.details = serde_json::json!({"unscoped": unscoped});
        k
    }

    #[test]
    fn fires_for_unscoped_application_keys_only() {
        let mut api_key = app_key("API", true);
        api_key.kind = Some("api_key".into());
        let mut disabled = app_key("GONE", true);
        disabled.removed_at = Some(days_ago(1));
        let keys = vec![app_key("UNSCOPED", true), app_key("SCOPED", false), api_key, disabled];
        assert_eq!(fired(&AppKeyUnscoped, &snapshot(keys)), vec!["UNSCOPED"]);
    }
}
