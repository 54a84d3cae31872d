//! `owner_two_active_keys`: an IAM user with two active access keys.
//!
//! AWS allows two keys per user precisely so that one can be rotated in while the other is
//! rotated out; both staying active means a rotation was never finished. Other providers let
//! an owner hold many keys by design, so the rule applies to `aws` only.

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, FastMap, Finding, Rule, RuleMeta, Severity, Snapshot};
use crate::model::ApiKey;

/// The rule.
pub struct OwnerTwoActiveKeys;

static META: RuleMeta = RuleMeta {
    id: "owner_two_active_keys",
    title: "Owner has two active access keys",
    severity: Severity::Medium,
    rationale: "Two active keys for one user usually means a rotation was started and never finished: the old key is still valid.",
    remediation: "Find which key the user's consumers still use, move them to the newer key, then deactivate the older one.",
    references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html"],
    practices: &[Practice::AccessControl],
    controls: &[ControlMapping { control: "cis-aws-1.13", providers: &["aws"] }],
    judges: &[Judges::Keys(&["aws"])],
};

impl Rule for OwnerTwoActiveKeys {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        let mut by_owner: FastMap<(&str, &str, &str), Vec<&ApiKey>> = FastMap::default();
        for k in snapshot.keys.iter().filter(|k| k.is_live() && k.provider == "aws") {
            if let Some(owner) = &k.owner {
                by_owner.entry((&k.provider, &k.account, owner)).or_default().push(k);
            }
        }
        // Sorted by owner, so the output does not depend on hashing.
        let mut pairs: Vec<_> = by_owner.into_iter().filter(|(_, keys)| keys.len() >= 2).collect();
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        pairs
            .into_iter()
            .map(|(_, keys)| {
                let ids: Vec<&str> = keys.iter().map(|k| k.external_id.as_deref().unwrap_or(&k.id)).collect();
                Finding::for_owner_of(&META, keys[0], format!("{} active keys: {}", ids.len(), ids.join(", ")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::KeyStatus;

    #[test]
    fn fires_once_per_owner_with_two_active_keys() {
        let snap = snapshot(vec![key("A1", "alice"), key("A2", "alice"), key("B1", "bob")]);
        assert_eq!(fired(&OwnerTwoActiveKeys, &snap), vec!["alice"]);
    }

    #[test]
    fn an_inactive_second_key_passes() {
        let mut second = key("A2", "alice");
        second.status = KeyStatus::Inactive;
        assert!(fired(&OwnerTwoActiveKeys, &snapshot(vec![key("A1", "alice"), second])).is_empty());
    }

    #[test]
    fn same_name_in_two_accounts_is_two_owners() {
        let mut other = key("A2", "alice");
        other.account = "staging".into();
        assert!(fired(&OwnerTwoActiveKeys, &snapshot(vec![key("A1", "alice"), other])).is_empty());
    }
}
