//! `atlas_key_no_access_list`: a MongoDB Atlas programmatic API key with no API access list, in
//! an organization that does not require one — the key works from any IP address.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct AtlasKeyNoAccessList;

static META: RuleMeta = RuleMeta {
    id: "atlas_key_no_access_list",
    title: "Atlas API key usable from any IP address",
    severity: Severity::High,
    rationale: "Without an access list, a leaked Atlas key works from anywhere; Atlas also records no last use for such a key, so nobody can tell whether it is in use.",
    remediation: "Add the consumers' addresses to the key's API access list, or require access lists for the organization (apiAccessListRequired).",
    references: &[
        "https://www.mongodb.com/docs/atlas/configure-api-access/#require-an-ip-access-list-for-the-atlas-administration-api",
    ],
    practices: &[Practice::AccessControl, Practice::ZeroTrust],
    controls: &[],
    judges: &[Judges::Keys(&["mongodb_atlas"])],
};

impl Rule for AtlasKeyNoAccessList {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        let required = |account: &str| {
            snapshot.accounts.iter().any(|a| a.account == account && a.facts["api_access_list_required"] == true)
        };
        snapshot
            .keys
            .iter()
            .filter(|k| {
                k.is_live() && k.provider == "mongodb_atlas" && k.kind.as_deref() == Some("programmatic_api_key")
            })
            .filter(|k| k.details["access_list"].as_array().is_some_and(|l| l.is_empty()))
            .filter(|k| !required(&k.account))
            .map(|k| Finding::for_key(&META, k, "no API access list, and the organization does not require one"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::Account;

    fn atlas_key(id: &str, entries: usize) -> crate::model::ApiKey {
        let mut k = key(id, "ops");
        k.provider = "mongodb_atlas".into();
        k.account = "atlas".into();
        k.kind = Some("programmatic_api_key".into());
        let list: Vec<_> = (0..entries).map(|i| serde_json::json!({"cidr": format!("203.0.113.{i}/32")})).collect();
        k.details = serde_json::json!({ "access_list": list });
        k
    }

    fn org(required: bool) -> Account {
        Account {
            provider: "mongodb_atlas".into(),
            account: "atlas".into(),
            account_id: None,
            root_access_key: None,
            member: None,
            facts: serde_json::json!({ "api_access_list_required": required }),
        }
    }

    #[test]
    fn fires_for_keys_without_entries_unless_the_org_requires_lists() {
        let keys = vec![atlas_key("OPEN", 0), atlas_key("LISTED", 2)];
        let mut snap = snapshot(keys);
        snap.accounts = vec![org(false)];
        assert_eq!(fired(&AtlasKeyNoAccessList, &snap), vec!["OPEN"]);
        snap.accounts = vec![org(true)];
        assert!(fired(&AtlasKeyNoAccessList, &snap).is_empty(), "the org refuses keys without a list");
    }
}
