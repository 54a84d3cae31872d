//! `key_no_expiry`: a live key that could have an expiry and has none. Only kinds whose provider
//! supports expiry are judged (Datadog personal and service access tokens, Atlas service-account
//! secrets, Fastly tokens); a key that cannot expire is not the user's fault.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyNoExpiry;

static META: RuleMeta = RuleMeta {
    id: "key_no_expiry",
    title: "Key never expires, though its provider supports expiry",
    severity: Severity::Low,
    rationale: "A key without an expiry stays valid until someone remembers it; an expiry bounds how long a forgotten or leaked copy works.",
    remediation: "Replace it with a key that has an expiry matching your rotation period, then delete this one.",
    references: &[
        "https://docs.fastly.com/en/guides/using-api-tokens",
        "https://docs.datadoghq.com/account_management/personal-access-tokens/",
    ],
    practices: &[Practice::ZeroTrust],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

/// Whether the provider lets keys of this kind carry an expiry.
fn supports_expiry(provider: &str, kind: Option<&str>) -> bool {
    matches!(
        (provider, kind),
        ("datadog", Some("personal_access_token" | "service_access_token"))
            | ("mongodb_atlas", Some("service_account_secret"))
            | ("fastly", Some(_))
    )
}

impl Rule for KeyNoExpiry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.expires_at.is_none() && supports_expiry(&k.provider, k.kind.as_deref())) {
            return None;
        }
        Some(Finding::for_key(&META, k, "no expiry set, though keys of this kind can have one"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    fn of(id: &str, provider: &str, kind: &str, expires: bool) -> crate::model::ApiKey {
        let mut k = key(id, "a");
        k.provider = provider.into();
        k.kind = Some(kind.into());
        k.expires_at = expires.then(|| now() + chrono::Duration::days(30));
        k
    }

    #[test]
    fn judges_only_kinds_that_can_expire() {
        let snap = snapshot(vec![
            of("PAT", "datadog", "personal_access_token", false),
            of("SAT", "datadog", "service_access_token", false),
            of("SATX", "datadog", "service_access_token", true),
            of("APIK", "datadog", "api_key", false),
            of("SAS", "mongodb_atlas", "service_account_secret", false),
            of("PAK", "mongodb_atlas", "programmatic_api_key", false),
            of("FT", "fastly", "user_token", false),
            of("FA", "fastly", "automation_token", false),
            of("IAM", "aws", "access_key", false),
        ]);
        assert_eq!(fired(&KeyNoExpiry, &snap), vec!["PAT", "SAT", "SAS", "FT", "FA"]);
    }
}
