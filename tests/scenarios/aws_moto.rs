//! The AWS IAM connector end to end: a moto estate with known truth → `keyward sync` →
//! `keyward audit --json` reports exactly the seeded findings, key by key.

use std::collections::BTreeSet;

use keyward_tests::{Home, MotoEstate};

type Triple = (String, String, Option<String>);

fn triples(findings: &serde_json::Value, owner_key: &str, id_key: usize) -> BTreeSet<Triple> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            if f.is_array() {
                (
                    f[0].as_str().unwrap().to_owned(),
                    f[1].as_str().unwrap().to_owned(),
                    f[id_key].as_str().map(str::to_owned),
                )
            } else {
                (
                    f["rule_id"].as_str().unwrap().to_owned(),
                    f[owner_key].as_str().unwrap_or("").to_owned(),
                    f["external_id"].as_str().map(str::to_owned),
                )
            }
        })
        .collect()
}

fn estate_users() -> usize {
    std::env::var("KEYWARD_ESTATE_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

#[test]
fn audit_of_a_moto_estate_matches_the_seeded_truth_for_every_rule() {
    let _heavy = keyward_tests::heavy_test();
    let users = estate_users();
    let moto = MotoEstate::start(users, 7, &[]);
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    // case: aws:check aws:inventory
    let checks = home.json(&["connector", "test", "prod", "--json"]);
    assert!(checks.as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");
    let started = std::time::Instant::now();
    let out = home.ok(&["sync"]);
    eprintln!("sync of {users} users: {:.1} s — {}", started.elapsed().as_secs_f64(), out.trim());

    // Every key, with its owner, status and dates.
    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();
    let truth_keys = moto.truth["keys"].as_array().unwrap();
    assert_eq!(keys.len(), truth_keys.len());
    for t in truth_keys {
        let k = keys.iter().find(|k| k["external_id"] == t["external_id"]).unwrap_or_else(|| panic!("missing {t}"));
        assert_eq!(k["provider"], "aws");
        assert_eq!(k["account"], "prod");
        assert_eq!(k["owner"], t["owner"]);
        assert_eq!(k["status"], t["status"]);
        assert_eq!(k["age_days"], t["created_days"], "{t}");
        assert_eq!(k["last_used_at"].is_null(), t["used_days"].is_null(), "{t}");
        if !t["used_days"].is_null() {
            assert_eq!(k["last_used_service"], "s3");
            assert_eq!(k["last_used_region"], "eu-west-1");
        }
    }

    let findings = home.json(&["audit", "--json"]);
    for f in findings.as_array().unwrap() {
        for field in ["rule_id", "severity", "provider", "account", "external_id", "owner", "title", "detail"] {
            assert!(f.get(field).is_some(), "finding lacks {field}: {f}");
        }
        assert_eq!(f["account"], "prod");
    }
    let got = triples(&findings, "owner", 2);
    let want = triples(&moto.truth["findings"], "owner", 2);
    let missing: Vec<_> = want.difference(&got).take(10).collect();
    let extra: Vec<_> = got.difference(&want).take(10).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
    // The estate exercises every rule.
    let rules: BTreeSet<&str> = want.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(rules.len(), 6, "{rules:?}");
}

#[test]
fn a_second_sync_records_changes_and_removals() {
    let mut moto = MotoEstate::start(30, 11, &["--no-root-key"]);
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws", "--name", "dev"]);
    let first = home.ok(&["sync"]);
    let n = moto.truth["keys"].as_array().unwrap().len();
    assert!(first.contains(&format!("{n} keys ({n} new, 0 changed, 0 removed)")), "{first}");

    let again = home.ok(&["sync"]);
    assert!(again.contains(&format!("{n} keys (0 new, 0 changed, 0 removed)")), "{again}");

    let active: Vec<&serde_json::Value> =
        moto.truth["keys"].as_array().unwrap().iter().filter(|k| k["status"] == "active").take(2).collect();
    let (gone, off) = (active[0].clone(), active[1].clone());
    moto.tell(&format!("delete_key {} {}", gone["owner"].as_str().unwrap(), gone["external_id"].as_str().unwrap()));
    moto.tell(&format!("deactivate_key {} {}", off["owner"].as_str().unwrap(), off["external_id"].as_str().unwrap()));

    let third = home.ok(&["sync"]);
    assert!(third.contains(&format!("{} keys (0 new, 1 changed, 1 removed)", n - 1)), "{third}");
    let listed = home.json(&["keys", "list", "--json"]);
    assert!(listed.as_array().unwrap().iter().all(|k| k["external_id"] != gone["external_id"]));
    let off_now = listed.as_array().unwrap().iter().find(|k| k["external_id"] == off["external_id"]).unwrap();
    assert_eq!(off_now["status"], "inactive");
    let all = home.json(&["keys", "list", "--json", "--all"]);
    let removed = all.as_array().unwrap().iter().find(|k| k["external_id"] == gone["external_id"]).unwrap();
    assert!(removed["removed_at"].is_string());

    // Every observed change is in the key's history (plaintext columns: no unlock needed).
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let history = |ext: &serde_json::Value| -> Vec<Row> {
        let mut stmt = db
            .prepare(
                "SELECT h.change, h.field, h.old_value, h.new_value FROM key_history h JOIN api_keys k ON k.id = h.key_id
                 WHERE k.external_id = ?1 ORDER BY h.id",
            )
            .unwrap();
        stmt.query_map([ext.as_str().unwrap()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let added: Row = ("added".into(), None, None, None);
    let deactivated: Row = ("changed".into(), Some("status".into()), Some("active".into()), Some("inactive".into()));
    assert_eq!(history(&off["external_id"]), vec![added.clone(), deactivated]);
    assert_eq!(history(&gone["external_id"]), vec![added, ("removed".into(), None, None, None)]);

    let audit = home.json(&["audit", "--json"]);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["external_id"] != gone["external_id"] && f["external_id"] != off["external_id"])
    );
    assert!(audit.as_array().unwrap().iter().all(|f| f["rule_id"] != "root_access_key"));
}

#[test]
fn rejected_credentials_are_reported_clearly_and_change_nothing() {
    let moto = MotoEstate::start(5, 3, &["--auth"]);
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    let out = home.run(&["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("InvalidClientTokenId"), "{err}");
    assert!(err.contains("check the connector's credentials"), "{err}");
    assert!(!err.contains("wJalrXUtnFEMI"), "the secret key is not echoed");
    assert_eq!(home.json(&["keys", "list", "--json"]), serde_json::json!([]));
}

#[test]
fn an_unreachable_endpoint_fails_as_transport_not_as_a_hang() {
    let mut home = Home::initialised();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    home.set_env("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}"));
    home.set_env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE");
    home.set_env("AWS_SECRET_ACCESS_KEY", "x");
    home.set_env("AWS_REGION", "us-east-1");
    home.set_env("AWS_MAX_ATTEMPTS", "2");
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    let out = home.run(&["sync"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("ListUsers failed"), "{err}");
}
