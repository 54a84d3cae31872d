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

/// The `N API calls` a `keyward sync` line reports.
fn api_calls(out: &str) -> u64 {
    let before = out.split(" API calls").next().unwrap_or_else(|| panic!("no call count in {out:?}"));
    before.rsplit(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no call count in {out:?}"))
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
    // About one IAM call per user (ListAccessKeys) plus a constant: the authorization details,
    // the credential report, and the last use of any key the report cannot place.
    let calls = api_calls(&out);
    assert!(calls <= users as u64 + 10, "{calls} calls for {users} users: {out}");

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
            // This key's own last use, not its owner's other key's.
            let used = chrono::DateTime::parse_from_rfc3339(k["last_used_at"].as_str().unwrap()).unwrap();
            assert_eq!((chrono::Utc::now() - used.with_timezone(&chrono::Utc)).num_days(), t["used_days"], "{t}");
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
    assert!(err.contains("GetAccountAuthorizationDetails failed"), "{err}");
}

#[test]
fn an_organization_is_read_account_by_account_and_an_account_that_fails_keeps_its_keys() {
    // Throttling on every 7th ListAccessKeys and AssumeRole: the SDK's retries absorb it.
    let mut moto = MotoEstate::start(12, 5, &["--org-accounts", "3", "--org-users", "15", "--throttle", "7"]);
    let org = moto.truth["organization"].clone();
    let management = moto.truth["account_id"].as_str().unwrap().to_owned();
    let mut home = Home::initialised();
    moto.configure(&mut home);
    // case: aws:organization
    home.ok(&["connector", "add", "aws", "--name", "org", "--organization"]);
    let checks = home.json(&["connector", "test", "org", "--json"]);
    assert!(checks.as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");

    let out = home.run(&["sync"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(moto.throttled() > 0, "the estate throttled nothing");
    // The account without the role is named, with why; the sync still lands.
    let no_role = &org["no_role"];
    let (lost_id, lost_name) = (no_role["account_id"].as_str().unwrap(), no_role["account_name"].as_str().unwrap());
    assert!(
        stderr.contains(&format!("account {lost_id} ({lost_name})")) && stderr.contains("AccessDenied"),
        "{stderr}"
    );

    // Every key of every readable account, its owner `account/user`, its account named.
    let mut want_keys = Vec::new();
    let mut want_findings = BTreeSet::new();
    let prefix = |owner: &str| format!("{management}/{owner}");
    for k in moto.truth["keys"].as_array().unwrap() {
        want_keys.push((k.clone(), management.clone(), "master".to_owned(), prefix(k["owner"].as_str().unwrap())));
    }
    for t in triples(&moto.truth["findings"], "owner", 2) {
        if t.0 == "root_access_key" {
            want_findings.insert((t.0, format!("{management}/root"), None));
        } else {
            want_findings.insert((t.0, prefix(&t.1), t.2));
        }
    }
    for account in org["accounts"].as_array().unwrap() {
        let (id, name) = (account["account_id"].as_str().unwrap(), account["account_name"].as_str().unwrap());
        for k in account["keys"].as_array().unwrap() {
            want_keys.push((k.clone(), id.to_owned(), name.to_owned(), k["owner"].as_str().unwrap().to_owned()));
        }
        want_findings.extend(triples(&account["findings"], "owner", 2));
        if account["root_key"] == true {
            want_findings.insert(("root_access_key".to_owned(), format!("{id}/root"), None));
        }
    }
    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), want_keys.len(), "{stdout}");
    for (t, id, name, owner) in &want_keys {
        let k = keys.iter().find(|k| k["external_id"] == t["external_id"]).unwrap_or_else(|| panic!("missing {t}"));
        assert_eq!(k["account"], "org");
        assert_eq!(k["owner"], owner.as_str());
        assert_eq!(k["details"]["account_id"], id.as_str(), "{k}");
        assert_eq!(k["details"]["account_name"], name.as_str(), "{k}");
        assert_eq!(k["status"], t["status"]);
        assert_eq!(k["age_days"], t["created_days"], "{t}");
        assert_eq!(k["last_used_at"].is_null(), t["used_days"].is_null(), "{t}");
    }

    // The findings of each account, root users judged account by account.
    let findings = home.json(&["audit", "--json"]);
    let got: BTreeSet<Triple> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let owner = f["owner"].as_str().unwrap_or("").to_owned();
            let owner = if f["rule_id"] == "root_access_key" {
                let detail = f["detail"].as_str().unwrap();
                let id = detail.split_whitespace().find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()));
                format!("{}/root", id.unwrap_or_else(|| panic!("{detail}")))
            } else {
                owner
            };
            (f["rule_id"].as_str().unwrap().to_owned(), owner, f["external_id"].as_str().map(str::to_owned))
        })
        .collect();
    let missing: Vec<_> = want_findings.difference(&got).take(10).collect();
    let extra: Vec<_> = got.difference(&want_findings).take(10).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");

    // case: aws:organization_rotation
    // A member account's key is rotated in that account, through its role.
    let member = &org["accounts"][1];
    let theirs = |owner: &str| -> Vec<&serde_json::Value> {
        member["keys"].as_array().unwrap().iter().filter(|k| k["owner"] == owner).collect()
    };
    let one = member["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| {
            let held = theirs(k["owner"].as_str().unwrap());
            held.len() == 1 && held[0]["status"] == "active"
        })
        .expect("a member user with one active key");
    let (owner, old) = (one["owner"].as_str().unwrap(), one["external_id"].as_str().unwrap());
    let old_id = keys.iter().find(|k| k["external_id"] == old).unwrap()["id"].as_str().unwrap().to_owned();
    let rotated = home.run(&["rotate", &old_id, "--yes", "--grace", "0"]);
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let held = moto.keys_of(owner);
    assert_eq!(held.len(), 1, "the old key is deleted in its own account: {held:?}");
    assert!(held[0].0 != old && held[0].1, "{held:?}");
    // No sync yet: the new key is in the vault as the rotation put it, without its account's details.
    let new_id = held[0].0.clone();
    let new_key = home.json(&["keys", "list", "--json"]);
    let new_key = new_key.as_array().unwrap().iter().find(|k| k["external_id"] == new_id.as_str()).unwrap().clone();
    assert_eq!(new_key["owner"], owner);
    assert_eq!(new_key["has_secret"], true);

    // The suspended account is skipped and said so; the failed one is recorded with why.
    let connectors = home.json(&["connector", "list", "--json"]);
    let facts = &connectors[0]["facts"]["accounts"];
    let entry = |id: &serde_json::Value| facts.as_array().unwrap().iter().find(|a| a["account_id"] == *id).cloned();
    let suspended = entry(&org["suspended"]["account_id"]).expect("the suspended account is listed");
    assert!(suspended["skipped"].as_str().unwrap().contains("suspended"), "{suspended}");
    assert!(entry(&no_role["account_id"]).unwrap()["failed"].as_str().unwrap().contains("AccessDenied"));

    // An account read before that fails now keeps its keys, owners and findings as they were.
    let judged = |audit: &serde_json::Value| -> BTreeSet<(String, Option<String>, String)> {
        let rows = audit.as_array().unwrap().iter();
        rows.map(|f| {
            let rule = f["rule_id"].as_str().unwrap().to_owned();
            (rule, f["external_id"].as_str().map(str::to_owned), f["detail"].as_str().unwrap().to_owned())
        })
        .collect()
    };
    let before = judged(&home.json(&["audit", "--json"]));
    let listed = home.json(&["keys", "list", "--json"]).as_array().unwrap().len();
    // Account 0 has a root key; account 1 holds the key just rotated (no details from a sync yet).
    let gone = org["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let rotated_in = org["accounts"][1]["account_id"].as_str().unwrap().to_owned();
    moto.tell(&format!("delete_role {gone}"));
    moto.tell(&format!("delete_role {rotated_in}"));
    let out = home.run(&["sync"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("0 removed"), "{stdout}");
    assert!(stderr.contains(&format!("account {gone} (")), "{stderr}");
    assert_eq!(home.json(&["keys", "list", "--json"]).as_array().unwrap().len(), listed);
    let audit = home.json(&["audit", "--json"]);
    assert_eq!(judged(&audit), before);
    let kept = home.json(&["keys", "list", "--json"]);
    assert!(kept.as_array().unwrap().iter().any(|k| k["external_id"] == new_id.as_str()), "the rotated key is kept");
    let root = format!("the root user of account {gone}");
    let kept = audit.as_array().unwrap().iter().any(|f| f["detail"].as_str().is_some_and(|d| d.starts_with(&root)));
    assert_eq!(kept, org["accounts"][0]["root_key"] == true, "the failed account's root finding is kept");
}
