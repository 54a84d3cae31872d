//! `key_rejected_by_provider`: a key registered by hand whose provider, asked last
//! (`keyward keys check`), said it does not accept it — revoked, or mistyped when registered.
//! Either something still sends a dead key and fails, or the inventory lists a key that no longer
//! exists; both need a person.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyRejectedByProvider;

static META: RuleMeta = RuleMeta {
    id: "key_rejected_by_provider",
    title: "Key rejected by its provider",
    severity: Severity::Medium,
    rationale: "A key its provider no longer accepts is either revoked while something still uses it (and fails), or was registered with the wrong secret: the inventory no longer tells the truth about it.",
    remediation: "Find where it is still used (`keyward exposures --key ID`) and move those places to a live key; then delete it from the inventory, or register it again with the right secret if it was mistyped.",
    references: &["https://linear.app/docs/api-and-webhooks"],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyRejectedByProvider {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        if k.removed_at.is_some() {
            return None;
        }
        let (at, result) = k.check.as_ref()?;
        result.starts_with("rejected").then(|| {
            Finding::for_key(&META, k, format!("the provider rejected it when checked on {}", at.format("%Y-%m-%d")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;

    #[test]
    fn fires_for_a_rejected_key_only() {
        let checked = |id: &str, result: &str| {
            let mut k = key(id, "a");
            k.check = Some((days_ago(1), result.to_owned()));
            k
        };
        let mut gone = checked("GONE", "rejected (revoked)");
        gone.removed_at = Some(days_ago(0));
        let snap = snapshot(vec![
            checked("DEAD", "rejected (Linear does not accept this key: revoked or mistyped)"),
            checked("LIVE", "live (Linear user ada@example.com)"),
            checked("UNKNOWN", "unknown (timed out)"),
            key("NEVER", "a"),
            gone,
        ]);
        assert_eq!(fired(&KeyRejectedByProvider, &snap), vec!["DEAD"]);
    }
}
