//! `owner_admin_access`: an active key whose owner has administrator access
//! (AWS `AdministratorAccess`, or any policy that allows `*` on `*`, directly or through a group).

use crate::audit::practice::{ControlMapping, Judges, Practice};
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
    practices: &[Practice::Authorization],
    controls: &[ControlMapping { control: "cis-aws-1.16", providers: &["aws"] }],
    judges: &[Judges::Keys(&[])],
};

impl Rule for OwnerAdminAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        // Keyed by the owner's name alone: one string to hash per key; provider and account are
        // compared only on a hit.
        let mut admins: FastMap<&str, Vec<(&str, &str, &str)>> = FastMap::default();
        for o in &snapshot.owners {
            if let Some(via) = &o.admin_via {
                admins.entry(&o.name).or_default().push((&o.provider, &o.account, via));
            }
        }
        if admins.is_empty() {
            return Vec::new();
        }
        snapshot
            .keys
            .iter()
            .filter(|k| k.is_live())
            .filter_map(|k| {
                let candidates = admins.get(k.owner.as_deref()?)?;
                let (_, _, via) = candidates.iter().find(|(p, a, _)| *p == k.provider && *a == k.account)?;
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
