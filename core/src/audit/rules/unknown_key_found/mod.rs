//! `unknown_key_found`: the scan found a key Keyward does not manage — nobody audits its age,
//! use or owner until it is linked to an inventoried key or dismissed.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, SHADOW_KEY, Severity, Snapshot};

/// The rule.
pub struct UnknownKeyFound;

static META: RuleMeta = RuleMeta {
    id: "unknown_key_found",
    title: "Unmanaged key found in a file",
    severity: Severity::High,
    rationale: "A key nobody inventoried is a key nobody rotates, revokes when its owner leaves, or notices when it leaks; finding it in a file also means it is exposed there.",
    remediation: "Find out whose key it is. If it belongs to a provider you connect, link it to the inventoried key (`keyward shadow link`); if it should not exist, revoke it at the provider and remove it from the file; if it is a test fixture, dismiss it; if it is no key at all (an id, a hash), mark it `keyward shadow not-a-key` and later scans leave it out.",
    references: &["https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Resources(&[crate::audit::SHADOW_KEY])],
};

impl Rule for UnknownKeyFound {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .resources
            .iter()
            .filter(|r| r.kind == SHADOW_KEY)
            .map(|r| {
                let n = r.details["exposures"].as_u64().unwrap_or(0);
                let place = r.details["first_place"].as_str().unwrap_or("?");
                let kind = r.details["kind"].as_str().unwrap_or("key");
                let more = if n > 1 { format!(" and {} more", n - 1) } else { String::new() };
                // A provider's shape in a field named for it, not its own format: said so.
                let likely = if r.details["confidence"] == "medium" { " (likely: its shape, in a field named for it)" } else { "" };
                Finding::for_resource(&META, r, format!("{} {kind} {} in {place}{more}{likely}", r.provider, r.name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::apigw_route_no_auth::tests::resource;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_shadow_keys_only() {
        let mut snap = snapshot(vec![]);
        let mut shadow = resource(
            SHADOW_KEY,
            "s1",
            serde_json::json!({"exposures": 2, "first_place": "/p/.env:1", "kind": "personal_access_token"}),
        );
        shadow.provider = "github".into();
        shadow.name = "ghp_…Ab0c".into();
        snap.resources = vec![shadow, resource("apigw_route", "R", serde_json::json!({"open": true}))];
        let found = UnknownKeyFound.evaluate(&snap, &ctx());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].detail, "github personal_access_token ghp_…Ab0c in /p/.env:1 and 1 more");
        snap.resources[0].details["confidence"] = "medium".into();
        let found = UnknownKeyFound.evaluate(&snap, &ctx());
        assert!(found[0].detail.ends_with("(likely: its shape, in a field named for it)"), "{}", found[0].detail);
    }
}
