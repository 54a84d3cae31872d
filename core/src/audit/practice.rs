//! The practices and benchmark controls a rule serves.
//!
//! Keyward began from twelve API-security practices (strong authentication, authorization,
//! access control, encryption, a gateway, a central OAuth server, monitoring, input validation,
//! rate limiting, DDoS protection, regular audits, zero trust). Security teams report against
//! those and against published benchmarks (CIS AWS Foundations, AWS Foundational Security Best
//! Practices), so every rule says which practices it serves ([`RuleMeta::practices`]) and which
//! controls, where one applies, a finding of it breaks ([`RuleMeta::controls`]). Reports, `audit
//! --json`, `audit --practice/--control` and the app read the mapping from here; a registry test
//! checks every rule names a practice and every control it names is in [`CONTROLS`].
//!
//! [`summarise`] counts, per practice, the keys, resources and accounts its rules judge and the
//! ones that fail — what the HTML report's practice section and the app show.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{RuleMeta, Snapshot};
use crate::findings::FindingView;

/// One of the twelve API-security practices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Practice {
    /// Callers prove who they are; credentials are strong, short-lived and not leaked.
    Authentication,
    /// A caller gets only what it needs (scopes, least privilege).
    Authorization,
    /// Who and what may reach an API or use a credential (owners, networks, unused access).
    AccessControl,
    /// Traffic and secrets are encrypted (TLS policy, secrets not readable back).
    Encryption,
    /// APIs sit behind a gateway that meters and controls callers.
    Gateway,
    /// One OAuth/OIDC server issues the tokens APIs accept.
    CentralOauth,
    /// Calls and changes are logged and watched.
    Monitoring,
    /// Requests are validated before they reach the backend.
    InputValidation,
    /// Callers are throttled and metered.
    RateLimiting,
    /// Floods and abusive traffic are filtered before the API.
    DdosProtection,
    /// The estate is reviewed regularly: inventory, owners, expiry, stale keys.
    RegularAudits,
    /// No caller is trusted by default: every credential is scoped, bounded in time and place.
    ZeroTrust,
}

/// Every practice, in display order.
pub const ALL_PRACTICES: [Practice; 12] = [
    Practice::Authentication,
    Practice::Authorization,
    Practice::AccessControl,
    Practice::Encryption,
    Practice::Gateway,
    Practice::CentralOauth,
    Practice::Monitoring,
    Practice::InputValidation,
    Practice::RateLimiting,
    Practice::DdosProtection,
    Practice::RegularAudits,
    Practice::ZeroTrust,
];

impl Practice {
    /// The stable id used in JSON, reports and `--practice`.
    pub fn id(self) -> &'static str {
        match self {
            Practice::Authentication => "authentication",
            Practice::Authorization => "authorization",
            Practice::AccessControl => "access-control",
            Practice::Encryption => "encryption",
            Practice::Gateway => "gateway",
            Practice::CentralOauth => "central-oauth",
            Practice::Monitoring => "monitoring",
            Practice::InputValidation => "input-validation",
            Practice::RateLimiting => "rate-limiting",
            Practice::DdosProtection => "ddos-protection",
            Practice::RegularAudits => "regular-audits",
            Practice::ZeroTrust => "zero-trust",
        }
    }

    /// Its name in words.
    pub fn title(self) -> &'static str {
        match self {
            Practice::Authentication => "Strong authentication",
            Practice::Authorization => "Authorization and least privilege",
            Practice::AccessControl => "Access control",
            Practice::Encryption => "Encryption",
            Practice::Gateway => "An API gateway",
            Practice::CentralOauth => "A central OAuth server",
            Practice::Monitoring => "Monitoring and logging",
            Practice::InputValidation => "Input validation",
            Practice::RateLimiting => "Rate limiting",
            Practice::DdosProtection => "DDoS protection",
            Practice::RegularAudits => "Regular audits",
            Practice::ZeroTrust => "Zero trust",
        }
    }

    /// Parses an id.
    pub fn parse(s: &str) -> Option<Self> {
        ALL_PRACTICES.into_iter().find(|p| p.id() == s)
    }
}

/// A control of a published benchmark.
#[derive(Debug, PartialEq)]
pub struct Control {
    /// Keyward's id for it: `cis-aws-1.14`, `fsbp-apigateway.4`.
    pub id: &'static str,
    /// The benchmark, with its version.
    pub benchmark: &'static str,
    /// The control's number in the benchmark.
    pub number: &'static str,
    /// What it requires.
    pub title: &'static str,
}

const CIS_AWS: &str = "CIS Amazon Web Services Foundations Benchmark v3.0.0";
const FSBP: &str = "AWS Foundational Security Best Practices";

/// Every control a rule may name.
pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-aws-1.4",
        benchmark: CIS_AWS,
        number: "1.4",
        title: "Ensure no 'root' user account access key exists",
    },
    Control {
        id: "cis-aws-1.11",
        benchmark: CIS_AWS,
        number: "1.11",
        title: "Do not setup access keys during initial user setup for all IAM users that have a console password",
    },
    Control {
        id: "cis-aws-1.12",
        benchmark: CIS_AWS,
        number: "1.12",
        title: "Ensure credentials unused for 45 days or greater are disabled",
    },
    Control {
        id: "cis-aws-1.13",
        benchmark: CIS_AWS,
        number: "1.13",
        title: "Ensure there is only one active access key available for any single IAM user",
    },
    Control {
        id: "cis-aws-1.14",
        benchmark: CIS_AWS,
        number: "1.14",
        title: "Ensure access keys are rotated every 90 days or less",
    },
    Control {
        id: "cis-aws-1.16",
        benchmark: CIS_AWS,
        number: "1.16",
        title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
    },
    Control {
        id: "fsbp-apigateway.1",
        benchmark: FSBP,
        number: "APIGateway.1",
        title: "API Gateway REST and WebSocket API execution logging should be enabled",
    },
    Control {
        id: "fsbp-apigateway.4",
        benchmark: FSBP,
        number: "APIGateway.4",
        title: "API Gateway should be associated with a WAF Web ACL",
    },
    Control {
        id: "fsbp-apigateway.8",
        benchmark: FSBP,
        number: "APIGateway.8",
        title: "API Gateway routes should specify an authorization type",
    },
];

/// A control by id.
pub fn control(id: &str) -> Option<&'static Control> {
    CONTROLS.iter().find(|c| c.id == id)
}

/// A control a rule's findings break, for the providers it is written for (a CIS AWS control is
/// about IAM keys, not a Datadog key the same rule judges). Empty `providers`: every finding.
#[derive(Debug, PartialEq)]
pub struct ControlMapping {
    /// The control's id in [`CONTROLS`].
    pub control: &'static str,
    /// The providers whose findings break it.
    pub providers: &'static [&'static str],
}

/// What a rule looks at, so a practice can say how many things pass as well as fail.
#[derive(Debug, PartialEq)]
pub enum Judges {
    /// Keys (and their owners) of these providers; empty means every provider.
    Keys(&'static [&'static str]),
    /// Connected accounts of these providers.
    Accounts(&'static [&'static str]),
    /// Posture resources of these kinds.
    Resources(&'static [&'static str]),
}

impl RuleMeta {
    /// The control ids a finding of this rule for `provider` breaks.
    pub fn controls_for<'a>(&'a self, provider: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.controls.iter().filter(move |m| m.providers.is_empty() || m.providers.contains(&provider)).map(|m| m.control)
    }

    /// The practice ids this rule serves.
    pub fn practice_ids(&self) -> Vec<&'static str> {
        self.practices.iter().map(|p| p.id()).collect()
    }
}

/// How a practice stands in one kind of subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct Tally {
    /// How many its rules look at.
    pub judged: usize,
    /// How many of those a firing finding is about.
    pub failing: usize,
}

/// One practice, as the report's section and the app show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct PracticeSummary {
    /// Its id (`rate-limiting`).
    pub id: String,
    /// Its name.
    pub title: String,
    /// The rules that check it (empty: Keyward has no rule for it yet).
    pub rules: Vec<String>,
    /// The benchmark controls its rules map to.
    pub controls: Vec<String>,
    /// Keys.
    pub keys: Tally,
    /// Posture resources (API Gateway stages, routes, methods, domains).
    pub resources: Tally,
    /// Connected accounts.
    pub accounts: Tally,
    /// The ids of the findings that break it (for drilling down).
    pub findings: Vec<i64>,
}

/// Per practice, what its rules judge in `snapshot` and what `firing` (the findings that fire)
/// say fails. A finding about an owner fails every key of that owner in its account; a finding
/// of a rule the policy disabled does not exist, and its subjects count as judged and passing.
pub fn summarise(snapshot: &Snapshot, firing: &[FindingView]) -> Vec<PracticeSummary> {
    ALL_PRACTICES
        .iter()
        .map(|&practice| {
            let metas: Vec<&RuleMeta> =
                super::rules::ALL_RULES.iter().map(|r| r.meta()).filter(|m| m.practices.contains(&practice)).collect();
            let mut judged_keys: BTreeSet<&str> = BTreeSet::new();
            let mut judged_resources: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
            let mut judged_accounts: BTreeSet<(&str, &str)> = BTreeSet::new();
            for judges in metas.iter().flat_map(|m| m.judges) {
                match *judges {
                    Judges::Keys(providers) => judged_keys.extend(
                        snapshot
                            .keys
                            .iter()
                            .filter(|k| providers.is_empty() || providers.contains(&k.provider.as_str()))
                            .map(|k| k.id.as_str()),
                    ),
                    Judges::Accounts(providers) => judged_accounts.extend(
                        snapshot
                            .accounts
                            .iter()
                            .filter(|a| providers.is_empty() || providers.contains(&a.provider.as_str()))
                            .map(|a| (a.provider.as_str(), a.account.as_str())),
                    ),
                    Judges::Resources(kinds) => judged_resources.extend(
                        snapshot
                            .resources
                            .iter()
                            .filter(|r| kinds.contains(&r.kind.as_str()))
                            .map(|r| (r.provider.as_str(), r.account.as_str(), r.external_id.as_str())),
                    ),
                }
            }
            let ids: BTreeSet<&str> = metas.iter().map(|m| m.id).collect();
            let mut failing_keys: BTreeSet<&str> = BTreeSet::new();
            let mut failing_resources: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
            let mut failing_accounts: BTreeSet<(&str, &str)> = BTreeSet::new();
            let mut findings = Vec::new();
            for f in firing.iter().filter(|f| ids.contains(f.rule_id.as_str())) {
                findings.push(f.id);
                // An owner finding fails the owner's keys; a root or account finding, the account.
                // Which one is the rule's to say (an IAM user may well be called "root").
                let about_keys = super::rules::meta_of(&f.rule_id)
                    .is_some_and(|m| m.judges.iter().any(|j| matches!(j, Judges::Keys(_))));
                match (&f.key_id, &f.resource, &f.owner) {
                    (Some(k), _, _) => {
                        failing_keys.insert(k);
                    }
                    (None, Some(r), _) => {
                        failing_resources.insert((&f.provider, &f.account, r));
                    }
                    (None, None, Some(owner)) if about_keys => failing_keys.extend(
                        snapshot
                            .keys
                            .iter()
                            .filter(|k| {
                                k.provider == f.provider && k.account == f.account && k.owner.as_ref() == Some(owner)
                            })
                            .map(|k| k.id.as_str()),
                    ),
                    _ => {
                        failing_accounts.insert((&f.provider, &f.account));
                    }
                }
            }
            // A subject fails only where it is judged (a key since removed is in neither).
            let tally = |judged: usize, failing: usize| Tally { judged, failing };
            let mut controls: Vec<String> =
                metas.iter().flat_map(|m| m.controls.iter().map(|c| c.control.to_owned())).collect();
            controls.sort();
            controls.dedup();
            PracticeSummary {
                id: practice.id().to_owned(),
                title: practice.title().to_owned(),
                rules: metas.iter().map(|m| m.id.to_owned()).collect(),
                controls,
                keys: tally(judged_keys.len(), failing_keys.intersection(&judged_keys).count()),
                resources: tally(
                    judged_resources.len(),
                    failing_resources.iter().filter(|r| judged_resources.contains(r)).count(),
                ),
                accounts: tally(
                    judged_accounts.len(),
                    failing_accounts.iter().filter(|a| judged_accounts.contains(a)).count(),
                ),
                findings,
            }
        })
        .collect()
}

/// A practice or control filter (`audit --practice`, `--control`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep findings of rules serving one of these practices.
    pub practices: Vec<Practice>,
    /// Keep findings breaking one of these controls.
    pub controls: Vec<&'static str>,
}

impl Filter {
    /// Whether `finding` passes (an empty filter passes everything).
    pub fn keeps(&self, finding: &FindingView) -> bool {
        (self.practices.is_empty() || self.practices.iter().any(|p| finding.practices.iter().any(|q| q == p.id())))
            && (self.controls.is_empty() || self.controls.iter().any(|c| finding.controls.iter().any(|q| q == c)))
    }
}

/// The control ids of the named benchmark sections, as `audit --json` and reports list them.
pub fn controls_by_benchmark(ids: &[String]) -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut out: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for c in ids.iter().filter_map(|id| control(id)) {
        out.entry(c.benchmark).or_default().push(c.number);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::apigw_route_no_auth::tests::resource;
    use crate::audit::testing::*;
    use crate::findings::State;

    fn firing(rule: &str, provider: &str, key: Option<&str>, owner: Option<&str>, res: Option<&str>) -> FindingView {
        FindingView {
            id: 1,
            rule_id: rule.into(),
            severity: "high".into(),
            weight: 10,
            state: State::Open,
            key_id: key.map(|k| format!("kw-{k}")),
            provider: provider.into(),
            account: "prod".into(),
            external_id: key.map(str::to_owned),
            owner: owner.map(str::to_owned),
            resource: res.map(str::to_owned),
            title: String::new(),
            detail: String::new(),
            remediation: String::new(),
            first_seen_at: String::new(),
            last_seen_at: String::new(),
            snoozed_until: None,
            resolution: None,
            note: None,
            key_name: None,
            practices: vec![],
            controls: vec![],
        }
    }

    #[test]
    fn a_practice_counts_what_its_rules_judge_and_what_fails_an_owner_failing_all_its_keys() {
        let mut snap = snapshot(vec![key("A", "ada"), key("B", "ada"), key("C", "bob"), key("D", "carol")]);
        snap.keys[2].provider = "datadog".into();
        snap.accounts = vec![crate::model::Account {
            provider: "aws".into(),
            account: "prod".into(),
            account_id: None,
            root_access_key: Some(false),
            member: None,
            facts: serde_json::json!({}),
        }];
        snap.resources = vec![
            resource("apigw_rest_stage", "S1", serde_json::json!({})),
            resource("apigw_rest_stage", "S2", serde_json::json!({})),
            resource("apigw_stage", "H1", serde_json::json!({})),
            resource("apigw_domain", "D1", serde_json::json!({})),
        ];
        let found = [
            firing("owner_two_active_keys", "aws", None, Some("ada"), None),
            firing("key_unused", "datadog", Some("C"), Some("bob"), None),
            firing("apigw_stage_no_waf", "aws_apigateway", None, None, Some("S1")),
        ];
        let all = summarise(&snap, &found);
        let get = |id: &str| all.iter().find(|p| p.id == id).unwrap();
        let access = get("access-control");
        assert_eq!(access.keys, Tally { judged: 4, failing: 3 });
        assert_eq!(access.accounts, Tally { judged: 1, failing: 0 });
        assert_eq!(access.findings.len(), 2);
        let ddos = get("ddos-protection");
        assert_eq!(ddos.resources, Tally { judged: 3, failing: 1 }, "REST and HTTP stages, not the domain");
        assert_eq!(ddos.keys, Tally { judged: 0, failing: 0 });
        assert!(ddos.controls.contains(&"fsbp-apigateway.4".to_owned()));
        assert_eq!(get("encryption").keys, Tally { judged: 4, failing: 0 });
        assert_eq!(get("encryption").resources, Tally { judged: 1, failing: 0 }, "the domain's TLS");
        assert_eq!(all.len(), ALL_PRACTICES.len());
    }

    #[test]
    fn a_cis_control_applies_to_iam_keys_only_and_a_filter_keeps_by_practice_or_control() {
        let meta = crate::audit::rules::meta_of("key_not_rotated").unwrap();
        assert_eq!(meta.controls_for("aws").collect::<Vec<_>>(), vec!["cis-aws-1.14"]);
        assert_eq!(meta.controls_for("datadog").count(), 0);
        let mut f = firing("key_not_rotated", "aws", Some("A"), None, None);
        f.practices = meta.practice_ids().into_iter().map(str::to_owned).collect();
        f.controls = vec!["cis-aws-1.14".into()];
        let by = |practices: Vec<Practice>, controls: Vec<&'static str>| Filter { practices, controls }.keeps(&f);
        assert!(by(vec![], vec![]));
        assert!(by(vec![Practice::Authentication], vec![]));
        assert!(!by(vec![Practice::RateLimiting], vec![]));
        assert!(by(vec![], vec!["cis-aws-1.14"]));
        assert!(!by(vec![], vec!["cis-aws-1.12"]));
        assert!(!by(vec![Practice::Authentication], vec!["cis-aws-1.12"]), "both must match");
    }
}
