//! Benchmark (not a test): every audit rule over a synthetic inventory.
//!
//!     cargo bench -p keyward-core --bench audit -- [KEYS] [RUNS]
//!
//! Builds KEYS keys (default 1,000,000) spread over every provider and kind, with owners (some
//! admins, some disabled), expiries, last uses, scopes, leaks, usage plans, tags and API Gateway
//! resources, so that every rule has work and about a third of keys produce findings. Times
//! `audit::evaluate` (all 23 rules under the default policy, plus a policy with per-provider and
//! per-tag thresholds) and prints the median, min and max of RUNS runs and the findings count.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use keyward_core::audit::{self, AuditContext, Policy, Snapshot};
use keyward_core::model::{Account, ApiKey, KeyStatus, LastUse, Owner, Resource};
use serde_json::json;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const KINDS: &[(&str, &str)] = &[
    ("aws", "access_key"),
    ("aws_apigateway", "api_key"),
    ("datadog", "api_key"),
    ("datadog", "application_key"),
    ("datadog", "personal_access_token"),
    ("datadog", "service_access_token"),
    ("mongodb_atlas", "programmatic_api_key"),
    ("mongodb_atlas", "service_account_secret"),
    ("fastly", "user_token"),
    ("fastly", "automation_token"),
    ("newrelic", "user_key"),
    ("newrelic", "ingest_key"),
];

fn snapshot(n: usize) -> Snapshot {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let day = chrono::Duration::days(1);
    let mut r = Rng(42);
    let owners_per_account = (n / 10).max(1);
    let mut snap = Snapshot::default();
    for (provider, _) in KINDS.iter().step_by(2) {
        snap.accounts.push(Account {
            provider: provider.to_string(),
            account: format!("{provider}-prod"),
            account_id: Some("123456789012".into()),
            root_access_key: Some(*provider == "aws"),
            facts: json!({"api_access_list_required": false}),
            member: None,
        });
    }
    for i in 0..owners_per_account {
        for provider in ["aws", "datadog"] {
            snap.owners.push(Owner {
                provider: provider.into(),
                account: format!("{provider}-prod"),
                name: format!("user-{i}"),
                admin_via: (i % 17 == 0).then(|| "policy AdministratorAccess".into()),
                disabled: i % 23 == 0,
            });
        }
    }
    for i in 0..n {
        let (provider, kind) = KINDS[i % KINDS.len()];
        let created = now - day * r.below(800) as i32;
        let status = if r.chance(8) { KeyStatus::Inactive } else { KeyStatus::Active };
        let last_used =
            (!r.chance(15)).then(|| LastUse { at: now - day * r.below(200) as i32, service: None, region: None });
        let expires_at = r.chance(40).then(|| now + day * (r.below(400) as i32 - 50));
        let scopes: Vec<String> = match provider {
            "fastly" => {
                let mut s = vec![["global", "global:read", "purge_select"][r.below(3) as usize].to_owned()];
                if r.chance(40) {
                    s.push("services:*".into());
                }
                s
            }
            "mongodb_atlas" => vec![if r.chance(10) { "org:ORG_OWNER" } else { "org:ORG_READ_ONLY" }.into()],
            _ => vec!["read".into()],
        };
        let details = match (provider, kind) {
            ("datadog", "api_key") => {
                json!({"last4": "abcd", "leak": if r.chance(1) { json!({"date": "2026-05-01", "source": "github"}) } else { json!(null) }})
            }
            ("datadog", "application_key") => json!({"unscoped": r.chance(25)}),
            ("mongodb_atlas", "programmatic_api_key") => {
                json!({"access_list": if r.chance(20) { json!([]) } else { json!([{"cidr": "10.0.0.0/8"}]) }})
            }
            ("aws_apigateway", _) => {
                json!({"usage_plans": if r.chance(50) { json!([]) } else { json!([{"id": "p"}]) }, "last_updated": "2026-01-01T00:00:00Z"})
            }
            _ => json!({}),
        };
        snap.keys.push(ApiKey {
            id: format!("kw-{i:08}"),
            provider: provider.into(),
            account: format!("{provider}-prod"),
            external_id: Some(format!("EXT{i:08}")),
            name: format!("key-{i}"),
            owner: (!r.chance(10)).then(|| format!("user-{}", r.below(owners_per_account as u64))),
            status,
            created_at: Some(created),
            last_used,
            usage_tracked: provider != "newrelic",
            expires_at,
            scopes,
            raw_scopes: serde_json::Value::Null,
            has_secret: false,
            first_seen_at: created,
            last_seen_at: now,
            removed_at: None,
            kind: Some(kind.into()),
            secret_readable: matches!(kind, "api_key" | "ingest_key"),
            details,
            check: None,
            tags: if r.chance(5) { vec!["production".into()] } else { vec![] },
            status_since: created,
        });
    }
    for i in 0..(n / 100).max(1) {
        let kind = ["apigw_rest_stage", "apigw_stage", "apigw_route"][i % 3];
        snap.resources.push(Resource {
            provider: "aws_apigateway".into(),
            account: "aws_apigateway-prod".into(),
            kind: kind.into(),
            external_id: format!("us-east-1/api{i}"),
            name: format!("api {i}"),
            region: Some("us-east-1".into()),
            details: json!({"access_logs": i % 2 == 0, "throttling": i % 5 == 0, "open": i % 7 == 0}),
        });
    }
    snap
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let t = Instant::now();
    let snap = snapshot(n);
    eprintln!(
        "built {n} keys, {} owners, {} resources in {:.2?}",
        snap.owners.len(),
        snap.resources.len(),
        t.elapsed()
    );
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let tuned = Policy::parse(
        "[provider.datadog]\nnot_rotated_days = 180\n[provider.fastly]\nunused_days = 30\n\
         [tag.production]\nnot_rotated_days = 30\nexpiry_reminder_days = [60, 14, 2]\n",
    )
    .expect("the bench policy parses");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("audit of {n} keys, all {} rules, {threads} threads, {runs} runs", audit::rules::ALL_RULES.len());
    // Where the time goes: each rule alone, on one thread, default policy.
    let default = Policy::default();
    let ctx = AuditContext { now, policy: &default };
    let mut costs: Vec<(f64, &str, usize)> = audit::rules::ALL_RULES
        .iter()
        .map(|r| {
            let t = Instant::now();
            let n = r.evaluate(&snap, &ctx).len();
            (t.elapsed().as_secs_f64(), r.meta().id, n)
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let sum: f64 = costs.iter().map(|c| c.0).sum();
    println!("  each rule alone, one thread (sum {sum:.3} s):");
    for (secs, id, n) in costs.iter().take(8) {
        println!("    {id:<32} {secs:.3} s  {n} findings");
    }
    for (label, policy) in [("default policy", Policy::default()), ("per-provider + per-tag policy", tuned)] {
        let ctx = AuditContext { now, policy: &policy };
        let mut times: Vec<Duration> = Vec::new();
        let mut count = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let findings = audit::evaluate(&snap, &ctx);
            times.push(t.elapsed());
            count = findings.len();
            drop(findings);
        }
        times.sort();
        println!(
            "  {label:<30} median {:>7.3} s  min {:.3} s  max {:.3} s  findings {count}",
            times[times.len() / 2].as_secs_f64(),
            times[0].as_secs_f64(),
            times[times.len() - 1].as_secs_f64()
        );
    }
}
