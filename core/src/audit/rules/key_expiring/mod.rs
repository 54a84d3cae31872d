//! `key_expiring`: a live key that expires soon. The finding escalates as expiry nears (the
//! policy's three reminders, 30/7/1 days by default: low, medium, high), so the engine notifies
//! at each step, and it resolves itself when the key is rotated or deleted.

use crate::audit::practice::{Judges, Practice};
use crate::audit::{AuditContext, Finding, Rule, RuleMeta, Severity};
use crate::model::ApiKey;

/// The rule.
pub struct KeyExpiring;

static META: RuleMeta = RuleMeta {
    id: "key_expiring",
    title: "Key expires soon",
    severity: Severity::Low,
    rationale: "A key that expires while something still uses it is an outage; one rotated in a hurry is often rotated badly.",
    remediation: "Create the replacement now, move every consumer to it, then delete the old key before it expires.",
    references: &["https://docs.datadoghq.com/account_management/api-app-keys/"],
    practices: &[Practice::RegularAudits],
    controls: &[],
    judges: &[Judges::Keys(&[])],
};

impl Rule for KeyExpiring {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_key<'a>(&self, k: &'a ApiKey, ctx: &AuditContext) -> Option<Finding<'a>> {
        if !k.is_live() {
            return None;
        }
        let expires = k.expires_at?;
        if expires <= ctx.now {
            return None;
        }
        let [first, second, last] = ctx.limits(k).expiry_reminder_days;
        let left = expires - ctx.now;
        let within = |days: i64| left <= chrono::Duration::days(days);
        let severity = if within(last) {
            Severity::High
        } else if within(second) {
            Severity::Medium
        } else if within(first) {
            Severity::Low
        } else {
            return None;
        };
        let days = left.num_days();
        let when = if days == 0 { format!("in {} hours", left.num_hours()) } else { format!("in {days} days") };
        Some(
            Finding::for_key(&META, k, format!("expires {when}, on {}", expires.format("%Y-%m-%d %H:%M UTC")))
                .with_severity(severity),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::testing::*;
    use chrono::Duration;

    fn expiring_in(id: &str, d: Duration) -> crate::model::ApiKey {
        let mut k = key(id, "a");
        k.expires_at = Some(now() + d);
        k
    }

    #[test]
    fn grades_by_the_three_reminders() {
        let snap = snapshot(vec![
            expiring_in("FAR", Duration::days(31)),
            expiring_in("D30", Duration::days(30)),
            expiring_in("D8", Duration::days(8)),
            expiring_in("D7", Duration::days(7)),
            expiring_in("H20", Duration::hours(20)),
            expiring_in("PAST", Duration::hours(-1)),
        ]);
        let found: Vec<(String, Severity)> = KeyExpiring
            .evaluate(&snap, &ctx())
            .iter()
            .map(|f| (f.external_id().unwrap().to_owned(), f.severity))
            .collect();
        assert_eq!(
            found,
            vec![
                ("D30".into(), Severity::Low),
                ("D8".into(), Severity::Low),
                ("D7".into(), Severity::Medium),
                ("H20".into(), Severity::High),
            ]
        );
    }

    #[test]
    fn inactive_removed_and_unexpiring_keys_pass() {
        let mut inactive = expiring_in("I", Duration::days(2));
        inactive.status = crate::model::KeyStatus::Inactive;
        let mut removed = expiring_in("R", Duration::days(2));
        removed.removed_at = Some(days_ago(1));
        assert!(fired(&KeyExpiring, &snapshot(vec![inactive, removed, key("N", "a")])).is_empty());
    }

    #[test]
    fn the_policy_moves_the_reminders() {
        let policy = crate::audit::Policy::parse("[defaults]\nexpiry_reminder_days = [90, 60, 45]\n").unwrap();
        let c = AuditContext { now: now(), policy: &policy };
        let snap = snapshot(vec![expiring_in("D50", Duration::days(50)), expiring_in("D100", Duration::days(100))]);
        let f = KeyExpiring.evaluate(&snap, &c);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Medium);
    }
}
