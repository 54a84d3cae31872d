//! The audit: pure rules over an inventory snapshot.
//!
//! Rules never do IO and never read the clock: the runner loads a [`Snapshot`] from the vault
//! and passes `now` in, so every rule is a function that tests can pin down exactly. Adding a
//! rule is one folder under `rules/` and one line in [`rules::ALL_RULES`]. What the rules
//! measure against (days, switches, severities) comes from the [`Policy`].

pub mod policy;
pub mod practice;
pub mod rules;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use policy::{Policy, PolicyError, Thresholds};
pub use practice::Practice;

use crate::model::{Account, ApiKey, Owner, Resource};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Should be fixed.
    Medium,
    /// Fix soon.
    High,
    /// Fix now.
    Critical,
}

impl Severity {
    /// The stable lowercase form used in JSON and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lowercase form.
    pub fn parse(s: &str) -> Option<Self> {
        [Severity::Low, Severity::Medium, Severity::High, Severity::Critical].into_iter().find(|v| v.as_str() == s)
    }

    /// What one finding of this severity adds to its key's risk score, unless the policy sets a
    /// rule's weight.
    pub fn default_weight(self) -> u32 {
        match self {
            Severity::Low => 2,
            Severity::Medium => 5,
            Severity::High => 10,
            Severity::Critical => 25,
        }
    }
}

/// A rule's user-facing description. The CLI and UI render it; a registry test checks it.
#[derive(Debug, PartialEq)]
pub struct RuleMeta {
    /// Stable id; equals the rule's folder name. Later tools depend on it.
    pub id: &'static str,
    /// The risky state, in a few words.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Why it matters.
    pub rationale: &'static str,
    /// What to do.
    pub remediation: &'static str,
    /// Where to read more.
    pub references: &'static [&'static str],
    /// The practices it serves (at least one; see [`practice`]).
    pub practices: &'static [Practice],
    /// The benchmark controls its findings break, where one applies.
    pub controls: &'static [practice::ControlMapping],
    /// What it looks at, so a practice can count what passes.
    pub judges: &'static [practice::Judges],
}

/// A fast, non-cryptographic hasher (FNV-1a) for the rules' lookups of owners and accounts:
/// the audit hashes millions of short strings and its input is the user's own inventory, so
/// SipHash's flooding resistance buys nothing here.
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A `HashMap` keyed through [`Fnv`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;
/// A `HashSet` keyed through [`Fnv`].
pub type FastSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<Fnv>>;

/// `"{prefix}{n}{middle}{limit}{suffix}"` without going through `fmt`: the age rules write
/// hundreds of thousands of these per large audit.
pub(crate) fn days_detail(prefix: &str, n: i64, middle: &str, limit: i64, suffix: &str) -> String {
    fn push_int(s: &mut String, n: i64) {
        if n < 0 {
            s.push('-');
        }
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        s.push_str(std::str::from_utf8(&digits[i..]).expect("ASCII digits"));
    }
    let mut s = String::with_capacity(prefix.len() + middle.len() + suffix.len() + 24);
    s.push_str(prefix);
    push_int(&mut s, n);
    s.push_str(middle);
    push_int(&mut s, limit);
    s.push_str(suffix);
    s
}

/// What a rule is evaluated against besides the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct AuditContext<'p> {
    /// The instant the audit judges ages against.
    pub now: DateTime<Utc>,
    /// Thresholds, rule switches and overrides.
    pub policy: &'p Policy,
}

impl AuditContext<'_> {
    /// Whole days (floored) from `t` to `now`; negative when `t` is in the future.
    pub fn age_days(&self, t: DateTime<Utc>) -> i64 {
        crate::time::age_days(t, self.now)
    }

    /// The thresholds that apply to `key` (its provider's, tightened by its tags').
    pub fn limits(&self, key: &ApiKey) -> Thresholds {
        self.policy.thresholds(&key.provider, &key.tags)
    }
}

/// The inventory as the audit sees it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every key not removed at its provider.
    pub keys: Vec<ApiKey>,
    /// Owners with their facts.
    pub owners: Vec<Owner>,
    /// Accounts with their facts.
    pub accounts: Vec<Account>,
    /// Posture resources (API Gateway stages, routes, APIs) still present, and unmanaged keys
    /// found by the scan (kind `shadow_key`).
    pub resources: Vec<Resource>,
    /// Current exposures of secrets Keyward holds or lists, found by the scan.
    pub exposures: Vec<ExposureFact>,
}

/// A secret of the inventory found in a file, as the audit sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureFact {
    /// The inventoried key it is.
    pub key_id: Option<String>,
    /// The connector whose own credential it is.
    pub connector: Option<String>,
    /// `path:line` (with `@commit` for history).
    pub place: String,
}

/// The resource kind of keys found by the scan that Keyward does not manage.
pub const SHADOW_KEY: &str = "shadow_key";

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subject<'a> {
    /// One key.
    Key(&'a ApiKey),
    /// The owner of this key (a user, a service account), as the owner of all its keys in the
    /// key's account. Pointing at a key keeps findings small (a million-key audit moves millions).
    OwnerOf(&'a ApiKey),
    /// The root user of an account (AWS).
    Root(&'a Account),
    /// A connected account as a whole.
    Account(&'a Account),
    /// A posture resource (an API Gateway stage or route).
    Resource(&'a Resource),
}

/// One risky thing a rule found. It borrows its subject from the snapshot, so an audit of a
/// million keys allocates little more than the findings' detail strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'a> {
    /// The rule that found it.
    pub rule: &'static RuleMeta,
    /// Severity (the rule's default unless the rule grades it or the policy overrides it).
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject<'a>,
    /// What exactly was found, with the numbers (fixed texts are not allocated).
    pub detail: Cow<'static, str>,
}

impl<'a> Finding<'a> {
    /// A finding about one key.
    pub fn for_key(meta: &'static RuleMeta, key: &'a ApiKey, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { rule: meta, severity: meta.severity, subject: Subject::Key(key), detail: detail.into() }
    }

    /// A finding about the owner of `key` (and of its other keys in the account).
    pub fn for_owner_of(meta: &'static RuleMeta, key: &'a ApiKey, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { rule: meta, severity: meta.severity, subject: Subject::OwnerOf(key), detail: detail.into() }
    }

    /// A finding about an account's root user.
    pub fn for_root(meta: &'static RuleMeta, account: &'a Account, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { rule: meta, severity: meta.severity, subject: Subject::Root(account), detail: detail.into() }
    }

    /// A finding about a whole account.
    pub fn for_account(meta: &'static RuleMeta, account: &'a Account, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { rule: meta, severity: meta.severity, subject: Subject::Account(account), detail: detail.into() }
    }

    /// A finding about a posture resource.
    pub fn for_resource(meta: &'static RuleMeta, resource: &'a Resource, detail: impl Into<Cow<'static, str>>) -> Self {
        Self { rule: meta, severity: meta.severity, subject: Subject::Resource(resource), detail: detail.into() }
    }

    /// The same finding at another severity (rules that grade, like `key_expiring`).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Provider id.
    pub fn provider(&self) -> &'a str {
        match self.subject {
            Subject::Key(k) | Subject::OwnerOf(k) => &k.provider,
            Subject::Root(a) | Subject::Account(a) => &a.provider,
            Subject::Resource(r) => &r.provider,
        }
    }

    /// Connector name (or `manual`).
    pub fn account(&self) -> &'a str {
        match self.subject {
            Subject::Key(k) | Subject::OwnerOf(k) => &k.account,
            Subject::Root(a) | Subject::Account(a) => &a.account,
            Subject::Resource(r) => &r.account,
        }
    }

    /// Keyward's key id, for key findings.
    pub fn key_id(&self) -> Option<&'a str> {
        match self.subject {
            Subject::Key(k) => Some(&k.id),
            _ => None,
        }
    }

    /// The provider's key id, for key findings.
    pub fn external_id(&self) -> Option<&'a str> {
        match self.subject {
            Subject::Key(k) => k.external_id.as_deref(),
            _ => None,
        }
    }

    /// The owner concerned (the key's owner for key findings).
    pub fn owner(&self) -> Option<&'a str> {
        match self.subject {
            Subject::Key(k) | Subject::OwnerOf(k) => k.owner.as_deref(),
            Subject::Root(_) => Some("root"),
            Subject::Account(_) | Subject::Resource(_) => None,
        }
    }

    /// The resource's id, for posture findings.
    pub fn resource(&self) -> Option<&'a str> {
        match self.subject {
            Subject::Resource(r) => Some(&r.external_id),
            _ => None,
        }
    }

    /// Identifies "the same finding" across audits: the rule and its subject.
    pub fn fingerprint(&self) -> String {
        let id = self.rule.id;
        match self.subject {
            Subject::Key(k) => format!("{id}|key:{}", k.id),
            Subject::OwnerOf(k) => {
                format!("{id}|owner:{}/{}/{}", k.provider, k.account, k.owner.as_deref().unwrap_or(""))
            }
            Subject::Root(a) => match (&a.member, &a.account_id) {
                (Some(_), Some(member)) => format!("{id}|owner:{}/{}/{member}/root", a.provider, a.account),
                _ => format!("{id}|owner:{}/{}/root", a.provider, a.account),
            },
            Subject::Account(a) => format!("{id}|account:{}/{}", a.provider, a.account),
            Subject::Resource(r) => format!("{id}|resource:{}/{}/{}/{}", r.provider, r.account, r.kind, r.external_id),
        }
    }
}

/// A check over the snapshot.
///
/// Most rules judge each key on its own: they implement [`Rule::check_key`], and the default
/// [`Rule::evaluate`] applies it to every key. Rules that
/// need the whole snapshot (owners, accounts, resources, groups of keys) implement `evaluate`.
pub trait Rule: Sync {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// The findings for this snapshot at `ctx.now`.
    fn evaluate<'a>(&self, snapshot: &'a Snapshot, ctx: &AuditContext) -> Vec<Finding<'a>> {
        // Room for a finding per key up front: untouched capacity costs address space, not
        // memory, and growing a vector of millions would copy it over and over.
        let mut found = Vec::with_capacity(snapshot.keys.len());
        found.extend(snapshot.keys.iter().filter_map(|k| self.check_key(k, ctx)));
        found
    }
    /// The finding for one key, for rules that judge keys one at a time.
    fn check_key<'a>(&self, _key: &'a ApiKey, _ctx: &AuditContext) -> Option<Finding<'a>> {
        None
    }
}

/// Below this many keys the rules run on one thread; above, they are spread over the cores.
const PARALLEL_FROM_KEYS: usize = 20_000;

/// Runs every rule the policy enables, applying its severity overrides. Findings come out in
/// registry order, then in snapshot order.
pub fn evaluate<'a>(snapshot: &'a Snapshot, ctx: &AuditContext) -> Vec<Finding<'a>> {
    let enabled: Vec<&dyn Rule> =
        rules::ALL_RULES.iter().copied().filter(|r| ctx.policy.rule_enabled(r.meta().id)).collect();
    let run = |rule: &dyn Rule| {
        let mut found = rule.evaluate(snapshot, ctx);
        if let Some(severity) = ctx.policy.severity_override(rule.meta().id) {
            found.iter_mut().for_each(|f| f.severity = severity);
        }
        found
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(enabled.len().max(1));
    let mut per_rule: Vec<Vec<Finding<'a>>> = if snapshot.keys.len() < PARALLEL_FROM_KEYS || threads < 2 {
        enabled.iter().map(|r| run(*r)).collect()
    } else {
        // Threads take the next rule from a shared counter (rules differ a lot in cost); results
        // are put back in registry order.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut out: Vec<(usize, Vec<Finding<'a>>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(rule) = enabled.get(i) else { break done };
                            done.push((i, run(*rule)));
                        }
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("a rule panicked")).collect()
        });
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, f)| f).collect()
    };
    let mut all = Vec::with_capacity(per_rule.iter().map(Vec::len).sum());
    per_rule.iter_mut().for_each(|f| all.append(f));
    all
}

#[cfg(test)]
pub(crate) mod testing;
