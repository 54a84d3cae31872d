//! `owner_admin_access`: an active key whose owner has administrator access
//! (AWS `AdministratorAccess`, or any policy that allows `*` on `*`, directly or through a group).

use crate::audit::{AuditContext, FastMap, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct OwnerAdminAccess;

static META: RuleMeta = RuleMeta {
    id: "owner_admin_access",
    title: "Key belongs to an administrator",
    severity: Severity::High,
    rationale: "A long-lived key with administrator rights turns any leak into a full account compromise.",
    remediation: "Give the workload a role or a user with only the permissions it needs; keep administrators on short-lived credentials (SSO) without access keys.",
    references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"],
};

impl Rule for OwnerAdminAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        let admins: FastMap<(&str, &str, &str), &str> = snapshot
            .owners
            .iter()
            .filter_map(|o| Some(((o.provider.as_str(), o.account.as_str(), o.name.as_str()), o.admin_via.as_deref()?)))
            .collect();
        snapshot
            .keys
            .iter()
            .filter(|k| k.is_live())
            .filter_map(|k| {
                let via = admins.get(&(k.provider.as_str(), k.account.as_str(), k.owner.as_deref()?))?;
                Some(Finding::for_key(&META, k, format!("owner has administrator access through {via}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::{KeyStatus, Owner};

    fn owner(name: &str, admin_via: Option<&str>) -> Owner {
        Owner {
            provider: "aws".into(),
            account: "prod".into(),
            name: name.into(),
            admin_via: admin_via.map(Into::into),
            disabled: false,
        }
    }

    #[test]
    fn fires_for_every_active_key_of_an_admin() {
        let mut inactive = key("A3", "alice");
        inactive.status = KeyStatus::Inactive;
        let mut snap = snapshot(vec![key("A1", "alice"), key("A2", "alice"), inactive, key("B1", "bob")]);
        snap.owners =
            vec![owner("alice", Some("group admins: attached policy AdministratorAccess")), owner("bob", None)];
        assert_eq!(fired(&OwnerAdminAccess, &snap), vec!["A1", "A2"]);
    }

    #[test]
    fn non_admins_pass() {
        let mut snap = snapshot(vec![key("B1", "bob")]);
        snap.owners = vec![owner("bob", None)];
        assert!(fired(&OwnerAdminAccess, &snap).is_empty());
    }
}
