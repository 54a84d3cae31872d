//! `fastly_token_global_scope`: a Fastly token with the `global` scope — write access to every
//! configuration the token's user can reach.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct FastlyTokenGlobalScope;

static META: RuleMeta = RuleMeta {
    id: "fastly_token_global_scope",
    title: "Fastly token with the global (write) scope",
    severity: Severity::High,
    rationale: "A global-scope token can change and deploy service configuration: a leaked one can redirect traffic or disable security features.",
    remediation: "Use global:read for tools that only read, purge_select or purge_all for purging, and keep global tokens short-lived and limited to the services they change.",
    references: &["https://docs.fastly.com/en/guides/using-api-tokens#understanding-api-token-scopes"],
    practices: &[Practice::Authorization],
    controls: &[],
    judges: &[Judges::Keys(&["fastly"])],
};

impl Rule for FastlyTokenGlobalScope {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.provider == "fastly" && k.scopes.iter().any(|s| s == "global")) {
            return None;
        }
        Some(Finding::for_key(&META, k, format!("scopes: {}", k.scopes.join(" "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    fn fastly(id: &str, scopes: &[&str]) -> crate::model::ApiKey {
        let mut k = key(id, "a");
        k.provider = "fastly".into();
        k.scopes = scopes.iter().map(|s| s.to_string()).collect();
        k
    }

    #[test]
    fn read_and_purge_scopes_pass() {
        let snap = snapshot(vec![
            fastly("G", &["global", "services:*"]),
            fastly("GP", &["global", "purge_all"]),
            fastly("R", &["global:read"]),
            fastly("P", &["purge_select"]),
        ]);
        assert_eq!(fired(&FastlyTokenGlobalScope, &snap), vec!["G", "GP"]);
    }
}
