//! `key_owner_removed`: a live key whose owner the provider reports disabled (someone who left,
//! a deactivated user) — the key keeps working without anyone responsible for it.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, FastMap, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct KeyOwnerRemoved;

static META: RuleMeta = RuleMeta {
    id: "key_owner_removed",
    title: "Key owned by a disabled or departed user",
    severity: Severity::High,
    rationale: "Keys of people who left keep working: the person may still hold a copy, and nobody on the team knows what depends on the key.",
    remediation: "Find the key's consumers, move them to a key owned by a current team member or service account, then delete this key.",
    references: &["https://docs.datadoghq.com/account_management/users/#disable-existing-users"],
    practices: &[Practice::AccessControl],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyOwnerRemoved {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        // Keyed by the owner's name alone (one string to hash per key); provider and account are
        // compared only on a hit.
        let mut disabled: FastMap<&str, Vec<(&str, &str)>> = FastMap::default();
        for o in snapshot.owners.iter().filter(|o| o.disabled) {
            disabled.entry(&o.name).or_default().push((&o.provider, &o.account));
        }
        if disabled.is_empty() {
            return Vec::new();
        }
        snapshot
            .keys
            .iter()
            .filter(|k| k.is_live())
            .filter(|k| {
                k.owner
                    .as_deref()
                    .and_then(|o| disabled.get(o))
                    .is_some_and(|places| places.iter().any(|(p, a)| *p == k.provider && *a == k.account))
            })
            .map(|k| {
                Finding::for_key(
                    &META,
                    k,
                    format!("owner {} is disabled at the provider", k.owner.as_deref().unwrap_or("")),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::Owner;

    #[test]
    fn fires_for_keys_of_disabled_owners_in_the_same_account() {
        let owner = |name: &str, account: &str, disabled: bool| Owner {
            provider: "aws".into(),
            account: account.into(),
            name: name.into(),
            admin_via: None,
            disabled,
        };
        let mut snap = snapshot(vec![key("LEFT", "ken"), key("HERE", "ada")]);
        let mut elsewhere = key("OTHER", "ken");
        elsewhere.account = "staging".into();
        snap.keys.push(elsewhere);
        snap.owners = vec![owner("ken", "prod", true), owner("ada", "prod", false), owner("ken", "staging", false)];
        assert_eq!(fired(&KeyOwnerRemoved, &snap), vec!["LEFT"]);
    }
}
