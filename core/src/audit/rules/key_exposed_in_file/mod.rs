//! `key_exposed_in_file`: a secret Keyward holds or lists sits in plaintext in a file on this
//! machine (or in a repository's history): anyone who reads the file, a backup or a push has it.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, FastMap, Finding, Rule, RuleMeta, Severity, Snapshot};

/// The rule.
pub struct KeyExposedInFile;

static META: RuleMeta = RuleMeta {
    id: "key_exposed_in_file",
    title: "Key found in a file",
    severity: Severity::High,
    rationale: "A secret in a dotfile, a shell history, a project's .env or a commit is read by every tool, backup and colleague that reads the file, and leaves the machine with every sync or push.",
    remediation: "Move the secret to a secret store or the OS keychain and reference it from there; remove it from the file (and from git history with a rewrite if it was committed); rotate the key if the file was ever shared.",
    references: &[
        "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/removing-sensitive-data-from-a-repository",
    ],
    practices: &[Practice::Authentication],
    controls: &[],
    judges: &[Judges::Keys(&[]), Judges::Accounts(&[])],
};

fn places(places: &[&str]) -> String {
    let mut s = format!("found in {} place{}: ", places.len(), if places.len() == 1 { "" } else { "s" });
    s.push_str(&places.iter().take(3).copied().collect::<Vec<_>>().join(", "));
    if places.len() > 3 {
        s.push_str(", …");
    }
    s
}

impl Rule for KeyExposedInFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn evaluate<'a>(&self, snapshot: &'a Snapshot, _ctx: &AuditContext) -> Vec<Finding<'a>> {
        if snapshot.exposures.is_empty() {
            return Vec::new();
        }
        let mut by_key: FastMap<&str, Vec<&str>> = FastMap::default();
        let mut by_connector: FastMap<&str, Vec<&str>> = FastMap::default();
        for e in &snapshot.exposures {
            match (&e.key_id, &e.connector) {
                (Some(k), _) => by_key.entry(k).or_default().push(&e.place),
                (None, Some(c)) => by_connector.entry(c).or_default().push(&e.place),
                _ => {}
            }
        }
        let mut out: Vec<Finding<'a>> = snapshot
            .keys
            .iter()
            .filter_map(|k| by_key.get(k.id.as_str()).map(|p| Finding::for_key(&META, k, places(p))))
            .collect();
        out.extend(snapshot.accounts.iter().filter(|a| a.member.is_none()).filter_map(|a| {
            by_connector
                .get(a.account.as_str())
                .map(|p| Finding::for_account(&META, a, format!("the connector's own credential {}", places(p))))
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ExposureFact;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_exposed_keys_and_connector_credentials() {
        let mut snap = snapshot(vec![key("exposed", "ann"), key("clean", "bob")]);
        snap.accounts = vec![crate::model::Account {
            provider: "datadog".into(),
            account: "prod".into(),
            account_id: None,
            root_access_key: None,
            member: None,
            facts: serde_json::json!({}),
        }];
        let fact = |key: Option<&str>, connector: Option<&str>, place: &str| ExposureFact {
            key_id: key.map(str::to_owned),
            connector: connector.map(str::to_owned),
            place: place.into(),
        };
        snap.exposures = vec![
            fact(Some("kw-exposed"), None, "/home/u/.env:3"),
            fact(Some("kw-exposed"), None, "/home/u/app/config.yml:9"),
            fact(None, Some("prod"), "/home/u/.zsh_history:120"),
            fact(Some("removed-key"), None, "/tmp/x:1"),
        ];
        let found = KeyExposedInFile.evaluate(&snap, &ctx());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].key_id(), Some("kw-exposed"));
        assert_eq!(found[0].detail, "found in 2 places: /home/u/.env:3, /home/u/app/config.yml:9");
        assert!(found[1].detail.contains(".zsh_history:120"));
        snap.exposures.clear();
        assert!(KeyExposedInFile.evaluate(&snap, &ctx()).is_empty());
    }
}
