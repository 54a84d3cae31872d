//! `key_owner_unknown`: a live key nobody is named for — an org-level Atlas key, a New Relic
//! ingest key, a Fastly automation token, a key registered without an owner. Someone must be
//! asked before it is rotated; nobody is.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyOwnerUnknown;

static META: RuleMeta = RuleMeta {
    id: "key_owner_unknown",
    title: "Key has no known owner",
    severity: Severity::Low,
    rationale: "A key without an owner has nobody to ask before rotating it and nobody who notices when it leaks; it tends to outlive the project that made it.",
    remediation: "Record who is responsible (the provider's description or notes, or register the owner in Keyward), or delete the key if nobody claims it.",
    references: &[
        "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html#25-secret-lifecycle",
    ],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyOwnerUnknown {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if !(k.is_live() && k.owner.as_deref().is_none_or(|o| o.trim().is_empty())) {
            return None;
        }
        Some(Finding::for_key(&META, k, "no owner recorded at the provider or in Keyward"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    #[test]
    fn fires_without_an_owner() {
        let mut none = key("NONE", "a");
        none.owner = None;
        let mut blank = key("BLANK", "a");
        blank.owner = Some(" ".into());
        let mut gone = key("GONE", "a");
        gone.owner = None;
        gone.removed_at = Some(days_ago(1));
        assert_eq!(
            fired(&KeyOwnerUnknown, &snapshot(vec![none, blank, gone, key("OWNED", "a")])),
            vec!["NONE", "BLANK"]
        );
    }
}
