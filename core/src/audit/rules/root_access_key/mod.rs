//! `root_access_key`: an AWS account whose root user has an access key.

use crate::audit::practice::{ControlMapping, Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct RootAccessKey;

static META: RuleMeta = RuleMeta {
    id: "root_access_key",
    title: "Root user has an access key",
    severity: Severity::Critical,
    rationale: "The root user can do anything, including closing the account, and cannot be limited by IAM policies; a root key should not exist.",
    remediation: "Sign in as root, delete its access keys, and use IAM roles or users for programmatic access.",
    references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html"],
    practices: &[Practice::AccessControl, Practice::ZeroTrust],
    controls: &[ControlMapping { control: "cis-aws-1.4", providers: &["aws"] }],
    judges: &[Judges::Accounts(&["aws"])],
};

impl Rule for RootAccessKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        snapshot
            .accounts
            .iter()
            .filter(|a| a.root_access_key == Some(true))
            .map(|a| {
                let detail = match (&a.account_id, &a.member) {
                    (Some(id), Some(name)) => format!("the root user of account {id} ({name}) has an access key"),
                    (Some(id), None) => format!("the root user of account {id} has an access key"),
                    _ => "the root user of this account has an access key".into(),
                };
                Finding::for_root(&META, a, detail)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use crate::model::Account;

    fn account(name: &str, root: Option<bool>) -> Account {
        Account {
            provider: "aws".into(),
            account: name.into(),
            account_id: Some("123456789012".into()),
            root_access_key: root,
            facts: serde_json::Value::Null,
            member: None,
        }
    }

    #[test]
    fn fires_only_where_root_has_a_key() {
        let mut snap = snapshot(vec![]);
        snap.accounts = vec![account("prod", Some(true)), account("dev", Some(false)), account("x", None)];
        let f = RootAccessKey.evaluate(&snap, &ctx());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].account(), "prod");
        assert_eq!(f[0].external_id(), None);
    }

    #[test]
    fn each_member_account_of_an_organization_is_its_own_finding() {
        let member = |id: &str, name: &str| Account {
            account_id: Some(id.into()),
            member: Some(name.into()),
            ..account("org", Some(true))
        };
        let mut snap = snapshot(vec![]);
        snap.accounts = vec![member("111111111111", "prod"), member("222222222222", "dev"), account("org", None)];
        let f = RootAccessKey.evaluate(&snap, &ctx());
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].detail, "the root user of account 111111111111 (prod) has an access key");
        assert_ne!(f[0].fingerprint(), f[1].fingerprint(), "one finding per account, not one per connector");
        // A single account keeps the fingerprint it always had (its findings' history with it).
        snap.accounts = vec![account("prod", Some(true))];
        assert!(RootAccessKey.evaluate(&snap, &ctx())[0].fingerprint().ends_with("|owner:aws/prod/root"));
    }

    #[test]
    fn no_accounts_no_findings() {
        assert!(RootAccessKey.evaluate(&snapshot(vec![]), &ctx()).is_empty());
    }
}
