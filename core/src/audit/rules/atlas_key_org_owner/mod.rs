//! `atlas_key_org_owner`: a MongoDB Atlas API key or service account with the Organization Owner
//! role — it can create users, delete clusters and change billing across every project.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct AtlasKeyOrgOwner;

static META: RuleMeta = RuleMeta {
    id: "atlas_key_org_owner",
    title: "Atlas key with the Organization Owner role",
    severity: Severity::High,
    rationale: "Organization Owner is Atlas's highest role: a leaked key with it can delete every cluster, add users and read every project's data.",
    remediation: "Give the integration a project-level or read-only role that covers what it does, then remove ORG_OWNER from the key.",
    references: &["https://www.mongodb.com/docs/atlas/reference/user-roles/#organization-roles"],
    practices: &[Practice::Authorization],
    controls: &[],
    judges: &[Judges::Keys(&["mongodb_atlas"])],
};

impl Rule for AtlasKeyOrgOwner {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.provider == "mongodb_atlas" && k.scopes.iter().any(|s| s == "org:ORG_OWNER")) {
            return None;
        }
        Some(Finding::for_key(&META, k, "has the organization role ORG_OWNER"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    fn atlas(id: &str, scopes: &[&str]) -> crate::model::ApiKey {
        let mut k = key(id, "a");
        k.provider = "mongodb_atlas".into();
        k.scopes = scopes.iter().map(|s| s.to_string()).collect();
        k
    }

    #[test]
    fn fires_for_org_owners_only() {
        let mut aws = key("AWS", "a");
        aws.scopes = vec!["org:ORG_OWNER".into()];
        let snap = snapshot(vec![
            atlas("OWNER", &["org:ORG_OWNER", "project:p1:GROUP_OWNER"]),
            atlas("MEMBER", &["org:ORG_MEMBER", "project:p1:GROUP_OWNER"]),
            atlas("PROJ", &["project:p1:ORG_OWNER"]),
            aws,
        ]);
        assert_eq!(fired(&AtlasKeyOrgOwner, &snap), vec!["OWNER"]);
    }
}
