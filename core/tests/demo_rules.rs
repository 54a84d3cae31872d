//! Every rule fires on the demo estate exactly where it should, and nowhere else.
//!
//! The demo is built for real (stand-ins, connectors, syncs into a vault) and audited at the
//! instant the estate was seeded from. The expected findings are not taken from the audit: the
//! table below derives them, rule by rule, from the seeded provider state itself — the facts a
//! person would check by hand in each provider's console.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use keyward_core::api::{self, Home, Vault};
use keyward_core::audit::rules::ALL_RULES;
use keyward_core::{Secret, time};
use keyward_fakes::estate::{self, DEMO_KEYS};

type Expected = BTreeMap<&'static str, BTreeSet<String>>;

/// The demo workspace, built for real into a fresh home (kept alive by the returned dir).
async fn demo_workspace() -> (tempfile::TempDir, Home, Vault) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path());
    let mut vault = api::init(&home, Some(&Secret::new("demo".into()))).unwrap();
    api::demo(&home, &mut vault, &|_| {}, std::future::pending()).await.unwrap();
    (dir, home, vault)
}

/// Whole days from `t` to `now`, floored (the audit's measure).
fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    time::age_days(t, now)
}

fn expected(now: DateTime<Utc>) -> Expected {
    let (dd, _) = estate::datadog_state(now, DEMO_KEYS);
    let (atlas, _) = estate::atlas_state(now, DEMO_KEYS);
    let (fastly, _) = estate::fastly_state(now, DEMO_KEYS);
    let (nr, _, _) = estate::newrelic_state(now, DEMO_KEYS);
    let aws = estate::aws_state(now, DEMO_KEYS);
    let mut e: Expected = ALL_RULES.iter().map(|r| (r.meta().id, BTreeSet::new())).collect();
    let mut fire = |rule: &'static str, label: String| {
        assert!(e.get_mut(rule).expect("a registered rule").insert(label.clone()), "{rule} {label} twice");
    };
    let expiring = |expires: DateTime<Utc>| -> Option<&'static str> {
        let left = expires - now;
        (left > Duration::zero()).then_some(())?;
        if left <= Duration::days(1) {
            Some("high")
        } else if left <= Duration::days(7) {
            Some("medium")
        } else if left <= Duration::days(30) {
            Some("low")
        } else {
            None
        }
    };

    // ---- AWS IAM: root key, admins, two active keys, age and use of active keys.
    fire("root_access_key", "root".into());
    for u in &aws.users {
        let active: Vec<_> = u.keys.iter().filter(|k| k.active).collect();
        if active.len() == 2 {
            fire("owner_two_active_keys", u.name.clone());
        }
        for k in active {
            if u.admin {
                fire("owner_admin_access", k.id.clone());
            }
            if age(k.created, now) > 90 {
                fire("key_not_rotated", k.id.clone());
            }
            match &k.last_used {
                Some((at, _, _)) if age(*at, now) > 45 => fire("key_unused", k.id.clone()),
                None if age(k.created, now) > 7 => fire("key_never_used", k.id.clone()),
                _ => {}
            }
        }
    }

    // ---- API Gateway: keys (readable, plans, disabled for long) and the stand-in's posture.
    for k in &aws.gateway_keys {
        let id = format!("us-east-1/{}", k.id);
        if k.enabled {
            fire("secret_readable_after_creation", id.clone());
            if !k.planned {
                fire("apigw_key_no_usage_plan", id.clone());
            }
            if age(k.created, now) > 90 {
                fire("key_not_rotated", id.clone());
            }
        } else if age(k.created, now) > 30 {
            // The stand-in reports lastUpdatedDate = createdDate: off at least since then.
            fire("key_disabled_not_deleted", id.clone());
        }
    }
    fire("apigw_route_no_auth", "us-east-1/http0001/r-open".into());
    for stage in ["us-east-1/rest0001/prod", "us-east-1/http0001/$default"] {
        fire("apigw_stage_no_access_logs", stage.into());
        fire("apigw_stage_no_throttling", stage.into());
    }
    fire("apigw_stage_no_waf", "us-east-1/rest0001/prod".into());
    fire("apigw_stage_execution_logs_off", "us-east-1/rest0001/prod".into());
    fire("apigw_method_no_auth", "us-east-1/rest0001/root01/GET".into());
    fire("apigw_api_key_only_auth", "us-east-1/rest0001/ord001/GET".into());
    fire("apigw_method_no_validation", "us-east-1/rest0001/ord001/POST".into());
    fire("apigw_domain_weak_tls", "us-east-1/api.orders.example".into());
    fire("apigw_route_no_central_authorizer", "us-east-1/http0002".into());

    // ---- Datadog.
    let disabled: BTreeSet<&str> = dd.users.iter().filter(|u| u.disabled).map(|u| u.id.as_str()).collect();
    let kinds = [("api_key", &dd.api_keys), ("application_key", &dd.app_keys), ("pat", &dd.pats), ("sat", &dd.sats)];
    for (kind, keys) in kinds {
        for k in keys.iter() {
            let id = k.id.clone();
            if disabled.contains(k.owner.as_str()) {
                fire("key_owner_removed", id.clone());
            }
            if k.leak.is_some() {
                fire("provider_reports_leak", id.clone());
            }
            if age(k.created_at, now) > 90 {
                fire("key_not_rotated", id.clone());
            }
            match k.last_used {
                Some(at) if age(at, now) > 45 => fire("key_unused", id.clone()),
                None if age(k.created_at, now) > 7 => fire("key_never_used", id.clone()),
                _ => {}
            }
            match kind {
                "api_key" => fire("secret_readable_after_creation", id.clone()),
                "application_key" if k.scopes.is_none() => fire("app_key_unscoped", id.clone()),
                _ => {}
            }
            if matches!(kind, "pat" | "sat") {
                match k.expires_at {
                    None => fire("key_no_expiry", id.clone()),
                    Some(x) if x <= now => fire("key_expired_still_listed", id.clone()),
                    Some(x) => {
                        if let Some(sev) = expiring(x) {
                            fire("key_expiring", format!("{id}@{sev}"));
                        }
                    }
                }
            }
        }
    }

    // ---- MongoDB Atlas: programmatic keys (roles, access lists, last use from the list) and
    // service-account secrets (roles, expiry, use).
    for k in &atlas.api_keys {
        if k.roles.iter().any(|r| r.name == "ORG_OWNER" && r.group_id.is_none()) {
            fire("atlas_key_org_owner", k.id.clone());
        }
        if k.access_list.is_empty() && !atlas.api_access_list_required {
            fire("atlas_key_no_access_list", k.id.clone());
        }
        // No creation date and no owner at Atlas for programmatic keys.
        fire("key_owner_unknown", k.id.clone());
        if let Some(last) = k.access_list.iter().filter_map(|a| a.last_used).max()
            && age(last, now) > 45
        {
            fire("key_unused", k.id.clone());
        }
    }
    for sa in &atlas.service_accounts {
        let owner = sa.roles.iter().any(|r| r.name == "ORG_OWNER");
        for s in &sa.secrets {
            if owner {
                fire("atlas_key_org_owner", s.id.clone());
            }
            if age(s.created_at, now) > 90 {
                fire("key_not_rotated", s.id.clone());
            }
            match s.last_used {
                Some(at) if age(at, now) > 45 => fire("key_unused", s.id.clone()),
                None if age(s.created_at, now) > 7 => fire("key_never_used", s.id.clone()),
                _ => {}
            }
            if s.expires_at <= now {
                fire("key_expired_still_listed", s.id.clone());
            } else if let Some(sev) = expiring(s.expires_at) {
                fire("key_expiring", format!("{}@{sev}", s.id));
            }
        }
    }

    // ---- Fastly: user and automation tokens.
    for t in fastly.tokens.iter().chain(&fastly.automation_tokens) {
        let id = t.id.clone();
        let scopes: Vec<&str> = t.scope.split_whitespace().collect();
        if scopes.contains(&"global") {
            fire("fastly_token_global_scope", id.clone());
        }
        if t.services.is_empty() {
            fire("fastly_token_all_services", id.clone());
        }
        if t.user_id.is_none() {
            fire("key_owner_unknown", id.clone());
        }
        if age(t.created_at, now) > 90 {
            fire("key_not_rotated", id.clone());
        }
        match t.last_used {
            Some(at) if age(at, now) > 45 => fire("key_unused", id.clone()),
            None if age(t.created_at, now) > 7 => fire("key_never_used", id.clone()),
            _ => {}
        }
        match t.expires_at {
            None => fire("key_no_expiry", id.clone()),
            Some(x) if x <= now => fire("key_expired_still_listed", id.clone()),
            Some(x) => {
                if let Some(sev) = expiring(x) {
                    fire("key_expiring", format!("{id}@{sev}"));
                }
            }
        }
    }

    // ---- New Relic: no use, expiry or scopes to judge; ingest keys have no owner and, like the
    // caller's own user keys, show their value to readers.
    let me = nr.keys.iter().find(|k| k.name == "keyward-inventory").and_then(|k| k.user_id);
    for k in &nr.keys {
        if age(k.created_at, now) > 90 {
            fire("key_not_rotated", k.id.clone());
        }
        if k.key_type == "INGEST" {
            fire("key_owner_unknown", k.id.clone());
            fire("secret_readable_after_creation", k.id.clone());
        } else if k.user_id == me {
            fire("secret_readable_after_creation", k.id.clone());
        }
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_fires_exactly_where_the_table_says() {
    let (dir, home, mut vault) = demo_workspace().await;
    let anchor = api::list_connectors(&vault)
        .unwrap()
        .iter()
        .filter_map(|c| keyward_core::connector::find(&vault, &c.name).unwrap().unwrap().created_at)
        .min()
        .unwrap();
    let report = api::run_audit(&home, &mut vault, anchor).unwrap();

    let mut actual: Expected = ALL_RULES.iter().map(|r| (r.meta().id, BTreeSet::new())).collect();
    for f in &report.findings {
        let label = match (&f.external_id, &f.resource, &f.owner, &f.key_id) {
            (Some(id), _, _, _) => id.clone(),
            (None, Some(r), _, _) => r.clone(),
            (None, None, Some(o), None) => o.clone(),
            (None, None, _, Some(key)) => format!("manual:{key}"),
            (None, None, None, None) => f.account.clone(),
        };
        let label = if f.rule_id == "key_expiring" { format!("{label}@{}", f.severity) } else { label };
        let rule = ALL_RULES.iter().map(|r| r.meta().id).find(|id| *id == f.rule_id).unwrap();
        assert!(actual.get_mut(rule).unwrap().insert(label), "duplicate finding {f:?}");
    }

    let mut want = expected(anchor);
    // ---- The demo project: the revoked Linear CI key sits in its .env (exposed), and two
    // tokens of providers Keyward does not connect (GitHub, Slack) are unknown keys.
    let (_, linear) = estate::linear_state();
    let old_ci = linear.iter().find(|k| !k.3).unwrap();
    let project = dir.path().join(keyward_core::demo::PROJECT_DIR);
    assert!(std::fs::read_to_string(project.join(".env")).unwrap().contains(&old_ci.2));
    let keys = api::list_keys(&vault, false, anchor).unwrap();
    let old_ci_id = &keys.iter().find(|k| k.name == old_ci.0).unwrap().id;
    want.get_mut("key_exposed_in_file").unwrap().insert(format!("manual:{old_ci_id}"));
    // Linear, asked by the demo, rejects the revoked CI key.
    want.get_mut("key_rejected_by_provider").unwrap().insert(format!("manual:{old_ci_id}"));
    let shadows = api::list_shadow_keys(&vault).unwrap();
    let mut providers: Vec<&str> = shadows.iter().map(|s| s.provider.as_str()).collect();
    providers.sort();
    assert_eq!(providers, ["github", "slack"]);
    for s in &shadows {
        want.get_mut("unknown_key_found").unwrap().insert(s.id.clone());
    }
    let mut problems = Vec::new();
    for (rule, expected) in &want {
        let got = &actual[rule];
        if expected.is_empty() {
            problems.push(format!("{rule}: the demo estate has no case for it"));
        }
        let missing: Vec<_> = expected.difference(got).collect();
        let extra: Vec<_> = got.difference(expected).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!("{rule}: missing {missing:?}, unexpected {extra:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every finding was accounted for by the table.
    let total: usize = want.values().map(BTreeSet::len).sum();
    assert_eq!(report.findings.len(), total);

    // Every finding is about something its rule says it judges: the practice counts (what
    // passes, what fails) are built on those declarations.
    use keyward_core::audit::practice::Judges;
    use keyward_core::audit::{AuditContext, Policy, Subject, evaluate};
    let snap = api::snapshot(&vault).unwrap();
    let policy = Policy::default();
    for f in evaluate(&snap, &AuditContext { now: anchor, policy: &policy }) {
        let within = f.rule.judges.iter().any(|j| match (j, f.subject) {
            (Judges::Keys(p), Subject::Key(k) | Subject::OwnerOf(k)) => {
                p.is_empty() || p.contains(&k.provider.as_str())
            }
            (Judges::Accounts(p), Subject::Root(a) | Subject::Account(a)) => {
                p.is_empty() || p.contains(&a.provider.as_str())
            }
            (Judges::Resources(kinds), Subject::Resource(r)) => kinds.contains(&r.kind.as_str()),
            _ => false,
        });
        assert!(within, "{} fired for {:?}, which its `judges` does not cover", f.rule.id, f.subject);
    }
    // The practice counts, from the demo's gateway shapes (fakes/src/aws.rs): four REST methods,
    // one with an unvalidated body; three stages (REST prod, two HTTP $default), prod without WAF
    // or throttling and public-api's $default unthrottled; two custom domains, one on TLS 1.0.
    use keyward_core::api::Tally;
    let practices = api::practices(&vault).unwrap();
    let of = |id: &str| practices.iter().find(|p| p.id == id).unwrap().clone();
    assert_eq!(of("input-validation").resources, Tally { judged: 4, failing: 1 });
    assert_eq!(of("ddos-protection").resources, Tally { judged: 3, failing: 2 });
    assert_eq!(of("encryption").resources, Tally { judged: 2, failing: 1 });
    assert_eq!(of("access-control").accounts, Tally { judged: 1, failing: 1 }, "the AWS root key");
    for p in &practices {
        assert!(p.keys.judged + p.resources.judged + p.accounts.judged > 0, "{}: the demo judges nothing", p.id);
    }
}

/// A key's page and its risk ask for that key's findings alone (`findings::of_key`, `risk_of`);
/// on the demo estate, whose owners have findings of their own, they read exactly what the
/// listings of every finding and every key's risk read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_s_page_reads_its_own_findings_and_its_owner_s_as_the_listings_do() {
    let (_dir, home, mut vault) = demo_workspace().await;
    api::run_audit(&home, &mut vault, Utc::now()).unwrap();
    let all = api::list_findings(&vault, &[]).unwrap();
    let listed = api::list_keys(&vault, true, Utc::now()).unwrap();
    let mut owners_seen = 0;
    for key in &listed {
        let parts = |k: &api::KeyView| k.risk_parts.iter().map(|p| p.finding_id).collect::<Vec<_>>();
        assert_eq!(parts(&api::key(&vault, &key.id).unwrap()), parts(key), "{}'s risk", key.name);
        let want: Vec<i64> = all
            .iter()
            .filter(|f| {
                f.key_id.as_deref() == Some(key.id.as_str())
                    || (f.key_id.is_none()
                        && f.resource.is_none()
                        && f.owner.is_some()
                        && f.owner == key.owner
                        && f.account == key.account
                        && f.provider == key.provider)
            })
            .map(|f| f.id)
            .collect();
        let detail = api::key_detail(&vault, &key.id).unwrap();
        owners_seen += detail.findings.iter().filter(|f| f.key_id.is_none()).count();
        assert_eq!(detail.findings.iter().map(|f| f.id).collect::<Vec<_>>(), want, "{}'s page", key.name);
    }
    assert!(owners_seen > 0, "the demo's owners have findings, so the owner's part is tested");

    // The Findings view's listing says each rule's words once, and loses nothing.
    let once = api::list_findings_once(&vault, &[]).unwrap();
    assert!(
        once.words.len() < once.findings.len() / 2,
        "{} words for {} findings",
        once.words.len(),
        once.findings.len()
    );
    let expanded: Vec<serde_json::Value> = once
        .findings
        .iter()
        .map(|f| {
            assert!(f.remediation.is_empty() && f.practices.is_empty() && f.controls.is_empty());
            let w = once.words.iter().find(|w| w.rule_id == f.rule_id && w.provider == f.provider).unwrap();
            let mut f = f.clone();
            f.remediation = w.remediation.clone();
            f.practices = w.practices.clone();
            f.controls = w.controls.clone();
            serde_json::to_value(f).unwrap()
        })
        .collect();
    assert_eq!(expanded, all.iter().map(|f| serde_json::to_value(f).unwrap()).collect::<Vec<_>>());
}
