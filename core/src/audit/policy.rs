//! The audit policy: the days the age rules measure against (per provider, tightened per tag),
//! which rules run, severity and weight overrides, and when the scheduler rotates keys itself.
//!
//! A policy is TOML the user edits (`policy.toml` in the Keyward home, or from the app). It is
//! parsed strictly: an unknown table, key, provider or rule, a negative number or reminders out of
//! order are errors that name their line, because a typo silently ignored is a rule silently off.
//! Keeping the previous policy in force when the file is broken is the caller's job
//! ([`crate::policy`]); this module is pure.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Severity;
use super::rules::ALL_RULES;
use crate::model::provider_ids;

/// Whether the scheduler rotates a key that is due (older than `rotate_after_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoRotation {
    /// Never: the `key_not_rotated` finding is all that is said.
    #[default]
    Off,
    /// Tells the user (desktop and webhooks) once per key, with the files it would change.
    Propose,
    /// Rotates it, hand-over included; keys Keyward cannot rotate itself are proposed instead.
    On,
}

impl AutoRotation {
    /// Its name in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Propose => "propose",
            Self::On => "on",
        }
    }
}

/// Day thresholds of the age and use rules ("more than N days" means strictly greater), and the
/// automatic rotation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `key_not_rotated`.
    pub not_rotated_days: i64,
    /// `key_unused`.
    pub unused_days: i64,
    /// `key_never_used`: how long a new key may go unused.
    pub never_used_days: i64,
    /// `key_disabled_not_deleted`.
    pub disabled_days: i64,
    /// `key_expiring`: reminders this many days before expiry, first (low) to last (high).
    pub expiry_reminder_days: [i64; 3],
    /// A key older than this is due for rotation; `None`: `not_rotated_days`.
    pub rotate_after_days: Option<i64>,
    /// What the scheduler does with a key that is due.
    pub auto: AutoRotation,
    /// How long a scheduled or command-line rotation keeps the old key, in hours (default 24).
    pub rotation_grace_hours: i64,
}

impl Thresholds {
    /// The age after which a key is due for rotation.
    pub fn rotate_after(&self) -> i64 {
        self.rotate_after_days.unwrap_or(self.not_rotated_days)
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            not_rotated_days: 90,
            unused_days: 45,
            never_used_days: 7,
            disabled_days: 30,
            expiry_reminder_days: [30, 7, 1],
            rotate_after_days: None,
            auto: AutoRotation::Off,
            rotation_grace_hours: 24,
        }
    }
}

/// The longest grace period a policy may give a rotation: a year, in hours.
const MAX_GRACE_HOURS: u32 = 365 * 24;

/// Per-rule settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct RuleSettings {
    disabled: bool,
    severity: Option<Severity>,
    weight: Option<u32>,
}

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    defaults: Thresholds,
    /// Provider id → thresholds (defaults overlaid with the provider's table); a handful at
    /// most, so a scan beats hashing (the audit asks once per key per rule).
    providers: Vec<(String, Thresholds)>,
    /// Tag → its overrides.
    tags: BTreeMap<String, Partial>,
    rules: HashMap<&'static str, RuleSettings>,
}

/// What is wrong with a policy file, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// 1-based line, when the error has a place.
    pub line: Option<usize>,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The policy written for a new home: every default spelled out, so it documents itself.
pub const DEFAULT_TEXT: &str = r#"# Keyward audit policy. Edit and save; the next audit uses it. If this file has an error,
# Keyward names the line and keeps using the last policy that was valid.

# Days the age and use rules measure against. "More than N days" fires.
[defaults]
not_rotated_days = 90          # key_not_rotated
unused_days = 45               # key_unused
never_used_days = 7            # key_never_used: grace period for a new key
disabled_days = 30             # key_disabled_not_deleted
expiry_reminder_days = [30, 7, 1]  # key_expiring: low, medium, high

# Rotation by the scheduler: "off", "propose" (tell you once per key, with the files it would
# change) or "on" (rotate it; keys Keyward cannot rotate itself are proposed instead).
auto = "off"
# rotate_after_days = 90       # due for rotation after this many days (default: not_rotated_days)
rotation_grace_hours = 24      # how long a rotation keeps the old key before deleting it

# Per provider (aws, aws_apigateway, datadog, mongodb_atlas, fastly, newrelic, linear):
# [provider.datadog]
# not_rotated_days = 180

# Per tag (keyward keys tag ID production); a key with several tags gets the strictest value
# (fewer days, earlier reminders, the longest grace); a tag's `auto` overrides the provider's, and
# of several tags the most cautious one wins (off, then propose, then on):
# [tag.production]
# not_rotated_days = 30
# auto = "propose"

# Per rule: switch off, change the severity (low, medium, high, critical), or the weight a finding
# adds to its key's risk score (defaults: low 2, medium 5, high 10, critical 25):
# [rules.key_owner_unknown]
# enabled = false
# [rules.key_unused]
# severity = "high"
# weight = 12
"#;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Partial {
    not_rotated_days: Option<u32>,
    unused_days: Option<u32>,
    never_used_days: Option<u32>,
    disabled_days: Option<u32>,
    // A list, not `[u32; 3]`: serde reads the first three of a longer array and drops the rest
    // without a word, so `[1, 7, 30, 60]` passed as `[1, 7, 30]`. The length is checked below.
    expiry_reminder_days: Option<Spanned<Vec<u32>>>,
    rotate_after_days: Option<Spanned<u32>>,
    auto: Option<AutoRotation>,
    rotation_grace_hours: Option<Spanned<u32>>,
}

impl Partial {
    /// The three reminders, once [`Policy::parse`] has checked there are three.
    fn reminders(&self) -> Option<[u32; 3]> {
        self.expiry_reminder_days.as_ref().and_then(|r| <[u32; 3]>::try_from(r.get_ref().as_slice()).ok())
    }

    fn rotate_after_days(&self) -> Option<i64> {
        self.rotate_after_days.as_ref().map(|d| i64::from(*d.get_ref()))
    }

    fn rotation_grace_hours(&self) -> Option<i64> {
        self.rotation_grace_hours.as_ref().map(|h| i64::from(*h.get_ref()))
    }

    fn over(&self, base: Thresholds) -> Thresholds {
        let d = |v: Option<u32>, b: i64| v.map_or(b, i64::from);
        Thresholds {
            rotate_after_days: self.rotate_after_days().or(base.rotate_after_days),
            auto: self.auto.unwrap_or(base.auto),
            rotation_grace_hours: self.rotation_grace_hours().unwrap_or(base.rotation_grace_hours),
            not_rotated_days: d(self.not_rotated_days, base.not_rotated_days),
            unused_days: d(self.unused_days, base.unused_days),
            never_used_days: d(self.never_used_days, base.never_used_days),
            disabled_days: d(self.disabled_days, base.disabled_days),
            expiry_reminder_days: self.reminders().map_or(base.expiry_reminder_days, |r| r.map(i64::from)),
        }
    }

    /// Tightens `base`: fewer days for the age rules, earlier reminders, earlier rotation, a
    /// longer grace. (`auto` is not tightened but overridden: [`Policy::thresholds`].)
    fn tighten(&self, base: Thresholds) -> Thresholds {
        let d = |v: Option<u32>, b: i64| v.map_or(b, |v| b.min(i64::from(v)));
        let mut out = Thresholds {
            rotate_after_days: match self.rotate_after_days() {
                Some(days) => Some(days.min(base.rotate_after())),
                None => base.rotate_after_days,
            },
            auto: base.auto,
            rotation_grace_hours: self.rotation_grace_hours().map_or(base.rotation_grace_hours, |h| {
                h.max(base.rotation_grace_hours)
            }),
            not_rotated_days: d(self.not_rotated_days, base.not_rotated_days),
            unused_days: d(self.unused_days, base.unused_days),
            never_used_days: d(self.never_used_days, base.never_used_days),
            disabled_days: d(self.disabled_days, base.disabled_days),
            expiry_reminder_days: base.expiry_reminder_days,
        };
        if let Some(r) = self.reminders() {
            for (o, v) in out.expiry_reminder_days.iter_mut().zip(r) {
                *o = (*o).max(i64::from(v));
            }
        }
        out
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    enabled: Option<bool>,
    severity: Option<Severity>,
    weight: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    defaults: Partial,
    #[serde(default)]
    provider: BTreeMap<Spanned<String>, Partial>,
    #[serde(default)]
    tag: BTreeMap<String, Partial>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, RuleFile>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

impl Policy {
    /// Parses and validates a policy file's text.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError {
            line: e.span().map(|s| line_of(text, s.start)),
            message: e.message().trim().to_owned(),
        })?;
        let at = |span: std::ops::Range<usize>, message: String| PolicyError {
            line: Some(line_of(text, span.start)),
            message,
        };
        let check_reminders = |p: &Partial| match &p.expiry_reminder_days {
            Some(r) if !matches!(r.get_ref().as_slice(), [a, b, c] if a > b && b > c && *c > 0) => Err(at(
                r.span(),
                format!(
                    "expiry_reminder_days must be three decreasing numbers of days above 0, like [30, 7, 1]; got {:?}",
                    r.get_ref()
                ),
            )),
            _ => Ok(()),
        };
        let check_rotation = |p: &Partial| {
            if let Some(d) = &p.rotate_after_days
                && *d.get_ref() == 0
            {
                return Err(at(d.span(), "rotate_after_days must be at least 1".to_owned()));
            }
            match &p.rotation_grace_hours {
                Some(h) if *h.get_ref() > MAX_GRACE_HOURS => Err(at(
                    h.span(),
                    format!("rotation_grace_hours must be at most {MAX_GRACE_HOURS} (a year); got {}", h.get_ref()),
                )),
                _ => Ok(()),
            }
        };

        let mut policy = Policy::default();
        check_reminders(&file.defaults)?;
        check_rotation(&file.defaults)?;
        policy.defaults = file.defaults.over(Thresholds::default());
        for (name, partial) in &file.provider {
            if !provider_ids().contains(&name.get_ref().as_str()) {
                return Err(at(
                    name.span(),
                    format!("unknown provider {:?} (known: {})", name.get_ref(), provider_ids().join(", ")),
                ));
            }
            check_reminders(partial)?;
            check_rotation(partial)?;
            policy.providers.push((name.get_ref().clone(), partial.over(policy.defaults)));
        }
        for (name, partial) in &file.tag {
            check_reminders(partial)?;
            check_rotation(partial)?;
            policy.tags.insert(name.clone(), partial.clone());
        }
        for (id, settings) in &file.rules {
            let Some(rule) = super::rules::meta_of(id.get_ref()) else {
                let known: Vec<&str> = ALL_RULES.iter().map(|r| r.meta().id).collect();
                return Err(at(id.span(), format!("unknown rule {:?} (known: {})", id.get_ref(), known.join(", "))));
            };
            policy.rules.insert(
                rule.id,
                RuleSettings {
                    disabled: settings.enabled == Some(false),
                    severity: settings.severity,
                    weight: settings.weight,
                },
            );
        }
        Ok(policy)
    }

    /// The thresholds for a key of `provider` carrying `tags`.
    pub fn thresholds(&self, provider: &str, tags: &[String]) -> Thresholds {
        let base = self.providers.iter().find(|(p, _)| p == provider).map_or(self.defaults, |(_, t)| *t);
        if tags.is_empty() || self.tags.is_empty() {
            return base;
        }
        let of_tags = || tags.iter().filter_map(|t| self.tags.get(t));
        let mut out = of_tags().fold(base, |acc, p| p.tighten(acc));
        if let Some(auto) = of_tags().filter_map(|p| p.auto).min() {
            out.auto = auto;
        }
        out
    }

    /// Whether the rule runs.
    pub fn rule_enabled(&self, rule_id: &str) -> bool {
        self.rules.get(rule_id).is_none_or(|r| !r.disabled)
    }

    /// The severity the policy forces on a rule's findings, if any.
    pub fn severity_override(&self, rule_id: &str) -> Option<Severity> {
        self.rules.get(rule_id).and_then(|r| r.severity)
    }

    /// What one finding of this rule at this severity adds to its key's risk score.
    pub fn weight(&self, rule_id: &str, severity: Severity) -> u32 {
        self.rules.get(rule_id).and_then(|r| r.weight).unwrap_or_else(|| severity.default_weight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_text_is_the_default_policy() {
        assert_eq!(Policy::parse(DEFAULT_TEXT).unwrap(), Policy::default());
        assert_eq!(Policy::parse("").unwrap(), Policy::default());
    }

    #[test]
    fn provider_then_tags_tighten_the_defaults() {
        let p = Policy::parse(
            "[defaults]\nnot_rotated_days = 120\n\
             [provider.datadog]\nnot_rotated_days = 180\nunused_days = 60\n\
             [tag.production]\nnot_rotated_days = 30\nexpiry_reminder_days = [60, 14, 2]\n\
             [tag.legacy]\nnot_rotated_days = 400\nunused_days = 10\n",
        )
        .unwrap();
        assert_eq!(p.thresholds("aws", &[]).not_rotated_days, 120);
        assert_eq!(p.thresholds("datadog", &[]).not_rotated_days, 180);
        assert_eq!(p.thresholds("datadog", &[]).unused_days, 60);
        let tags = ["production".to_owned(), "legacy".to_owned()];
        let t = p.thresholds("datadog", &tags);
        assert_eq!((t.not_rotated_days, t.unused_days, t.never_used_days), (30, 10, 7));
        assert_eq!(t.expiry_reminder_days, [60, 14, 2]);
        // A tag never loosens: 400 > 180.
        assert_eq!(p.thresholds("datadog", &["legacy".to_owned()]).not_rotated_days, 180);
        assert_eq!(p.thresholds("datadog", &["unknown".to_owned()]), p.thresholds("datadog", &[]));
    }

    #[test]
    fn automatic_rotation_is_set_per_provider_and_tags_override_it_cautiously() {
        let p = Policy::parse(
            "[defaults]\nnot_rotated_days = 120\n\
             [provider.aws]\nauto = \"on\"\nrotate_after_days = 60\nrotation_grace_hours = 2\n\
             [tag.production]\nauto = \"propose\"\nrotation_grace_hours = 72\n\
             [tag.ci]\nauto = \"on\"\nrotate_after_days = 30\nrotation_grace_hours = 1\n\
             [tag.frozen]\nauto = \"off\"\n",
        )
        .unwrap();
        let t = |provider: &str, tags: &[&str]| {
            let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
            let t = p.thresholds(provider, &tags);
            (t.auto, t.rotate_after(), t.rotation_grace_hours)
        };
        // Defaults: off, due with the finding, a day's grace.
        assert_eq!(t("datadog", &[]), (AutoRotation::Off, 120, 24));
        assert_eq!(t("aws", &[]), (AutoRotation::On, 60, 2));
        // A tag's auto overrides the provider's; of several tags, the most cautious wins; grace
        // takes the longest and days the fewest.
        assert_eq!(t("aws", &["production"]), (AutoRotation::Propose, 60, 72));
        assert_eq!(t("datadog", &["ci"]), (AutoRotation::On, 30, 24));
        assert_eq!(t("aws", &["ci", "production"]), (AutoRotation::Propose, 30, 72));
        assert_eq!(t("aws", &["ci", "frozen"]).0, AutoRotation::Off);
    }

    #[test]
    fn rules_can_be_switched_off_regraded_and_reweighted() {
        let p = Policy::parse(
            "[rules.key_unused]\nseverity = \"high\"\nweight = 12\n[rules.key_never_used]\nenabled = false\n",
        )
        .unwrap();
        assert!(!p.rule_enabled("key_never_used"));
        assert!(p.rule_enabled("key_unused") && p.rule_enabled("root_access_key"));
        assert_eq!(p.severity_override("key_unused"), Some(Severity::High));
        assert_eq!(p.weight("key_unused", Severity::High), 12);
        assert_eq!(p.weight("root_access_key", Severity::Critical), 25);
    }

    fn error(text: &str) -> PolicyError {
        Policy::parse(text).unwrap_err()
    }

    #[test]
    fn every_mistake_names_its_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("[defaults]\nnot_rotated_days = \"ninety\"\n", 2, "invalid type"),
            ("# c\n[defaults]\nunused_days = -3\n", 3, "invalid value"),
            ("[defaults]\nnot_rotated = 90\n", 2, "unknown field `not_rotated`"),
            ("[default]\nnot_rotated_days = 90\n", 1, "unknown field `default`"),
            ("\n\n[provider.datadgo]\nunused_days = 3\n", 3, "unknown provider \"datadgo\""),
            ("[rules.key_unusd]\nenabled = false\n", 1, "unknown rule \"key_unusd\""),
            ("[rules.key_unused]\nseverity = \"urgent\"\n", 2, "unknown variant `urgent`"),
            ("[rules.key_unused]\nenabled = \"no\"\n", 2, "invalid type"),
            ("[defaults]\nexpiry_reminder_days = [1, 7, 30]\n", 2, "decreasing"),
            (
                "[defaults]\nexpiry_reminder_days = [30, 7]\n",
                2,
                "three decreasing numbers of days above 0, like [30, 7, 1]; got [30, 7]",
            ),
            ("[defaults]\nexpiry_reminder_days = [60, 30, 7, 1]\n", 2, "got [60, 30, 7, 1]"),
            ("[defaults]\nexpiry_reminder_days = [1, 7, 30, 60]\n", 2, "got [1, 7, 30, 60]"),
            ("[provider.aws]\nexpiry_reminder_days = [9, 8, 7, 6]\n", 2, "got [9, 8, 7, 6]"),
            ("[defaults]\nunused_days = 3\nunused_days = 4\n", 3, "duplicate key"),
            ("[defaults]\nauto = \"yes\"\n", 2, "unknown variant `yes`"),
            ("[provider.aws]\n\nrotate_after_days = 0\n", 3, "rotate_after_days must be at least 1"),
            ("[tag.x]\nrotation_grace_hours = 9000\n", 2, "at most 8760 (a year); got 9000"),
            ("[defaults\n", 1, ""),
        ];
        for (text, line, words) in cases {
            let e = error(text);
            assert_eq!(e.line, Some(*line), "{text:?}: {e}");
            assert!(e.message.contains(words), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
    }
}
