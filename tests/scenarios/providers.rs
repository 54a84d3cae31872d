//! The REST/GraphQL providers through the `keyward` CLI: the demo workspace (every provider,
//! every field, idempotent, re-syncs without noise), connector credentials (from the
//! environment or stdin, never argv; sealed; never printed or logged), `connector test` naming
//! what is missing, and Linear keys checked for liveness.

use std::collections::BTreeMap;

use chrono::Utc;
use keyward_fakes::estate::{self, DEMO_KEYS, Estate};
use keyward_tests::{Home, contains, files_under};
use serde_json::Value;

fn by_provider(keys: &Value) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for k in keys.as_array().unwrap() {
        out.entry(k["provider"].as_str().unwrap().to_owned()).or_default().push(k.clone());
    }
    out
}

#[test]
fn demo_builds_a_populated_inventory_over_every_provider() {
    let mut home = Home::new();
    home.set_env("KEYWARD_LOG", "debug");
    let out = home.ok(&["demo"]);
    assert!(out.contains("Demo workspace ready"), "{out}");

    // The numbers the stand-ins were seeded with, computed here from the same estate.
    let now = Utc::now();
    let dd = estate::datadog_state(now, DEMO_KEYS).0;
    let atlas = estate::atlas_state(now, DEMO_KEYS).0;
    let fastly = estate::fastly_state(now, DEMO_KEYS).0;
    let nr = estate::newrelic_state(now, DEMO_KEYS).0;
    let aws = estate::aws_state(now, DEMO_KEYS);
    let keys = by_provider(&home.json(&["keys", "list", "--json"]));
    assert_eq!(keys["datadog"].len(), dd.api_keys.len() + dd.app_keys.len() + dd.pats.len() + dd.sats.len());
    assert_eq!(
        keys["mongodb_atlas"].len(),
        atlas.api_keys.len() + atlas.service_accounts.iter().map(|s| s.secrets.len()).sum::<usize>()
    );
    assert_eq!(keys["fastly"].len(), fastly.tokens.len() + fastly.automation_tokens.len());
    assert_eq!(keys["newrelic"].len(), nr.keys.len());
    assert_eq!(keys["linear"].len(), 4);
    assert_eq!(keys["aws"].len(), aws.users.iter().map(|u| u.keys.len()).sum::<usize>());
    assert_eq!(keys["aws_apigateway"].len(), aws.gateway_keys.len());
    assert!(keys["aws"].iter().any(|k| k["last_used_service"].is_string()), "IAM last use with its service");
    let total: usize = keys.values().map(Vec::len).sum();
    assert!((200..=500).contains(&total), "a few hundred keys: {total}");
    let resources = home.json(&["resources", "--json"]);
    assert!(resources.as_array().unwrap().iter().any(|r| r["kind"] == "apigw_route" && r["details"]["open"] == true));

    // Every field the provider offers, where it offers it.
    let dd_keys = &keys["datadog"];
    let leaked: Vec<&Value> = dd_keys.iter().filter(|k| !k["details"]["leak"].is_null()).collect();
    let seeded_leaks = dd.api_keys.iter().chain(&dd.pats).filter(|k| k.leak.is_some()).count();
    assert_eq!(leaked.len(), seeded_leaks, "Datadog's leak reports reach the inventory");
    assert!(
        dd_keys
            .iter()
            .filter(|k| k["kind"] == "api_key")
            .all(|k| k["secret_readable"] == true && k["usage_tracked"] == true)
    );
    let unscoped =
        dd_keys.iter().filter(|k| k["kind"] == "application_key" && k["details"]["unscoped"] == true).count();
    assert_eq!(unscoped, dd.app_keys.iter().filter(|k| k.scopes.is_none()).count());
    assert!(dd_keys.iter().filter(|k| k["kind"] == "personal_access_token").all(|k| k["expires_at"].is_string()));
    assert!(
        dd_keys.iter().any(|k| k["owner"].as_str().is_some_and(|o| o.ends_with("@example.com"))),
        "owners resolved to emails"
    );

    let at = &keys["mongodb_atlas"];
    let no_list: Vec<&Value> = at
        .iter()
        .filter(|k| k["kind"] == "programmatic_api_key" && k["details"]["access_list"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(no_list.len(), atlas.api_keys.iter().filter(|k| k.access_list.is_empty()).count());
    assert!(no_list.iter().all(|k| k["usage_tracked"] == false), "no access list: Atlas records no use");
    assert!(at.iter().any(|k| k["scopes"].as_array().unwrap().contains(&Value::from("org:ORG_OWNER"))));
    assert!(at.iter().filter(|k| k["kind"] == "service_account_secret").all(|k| k["expires_at"].is_string()));

    let fa = &keys["fastly"];
    assert!(
        fa.iter().any(|k| k["details"]["last_used_ip"].is_string() && k["details"]["last_used_user_agent"].is_string())
    );
    assert!(fa.iter().any(|k| k["scopes"].as_array().unwrap().contains(&Value::from("services:*"))));
    assert!(fa.iter().any(|k| k["scopes"].as_array().unwrap().len() >= 3), "multi-scope tokens parse");

    let nr_keys = &keys["newrelic"];
    assert!(
        nr_keys.iter().all(|k| k["usage_tracked"] == false && k["expires_at"].is_null()),
        "New Relic reports neither"
    );
    assert!(nr_keys.iter().filter(|k| k["kind"] == "ingest_key").all(|k| k["secret_readable"] == true));

    let linear = &keys["linear"];
    let live = linear.iter().filter(|k| k["check_result"].as_str().is_some_and(|r| r.starts_with("live"))).count();
    let rejected =
        linear.iter().filter(|k| k["check_result"].as_str().is_some_and(|r| r.starts_with("rejected"))).count();
    assert_eq!((live, rejected), (3, 1));

    // The rules that read these facts fire exactly on the keys the estate made risky.
    let findings = home.json(&["audit", "--json"]);
    let fired = |rule: &str| findings.as_array().unwrap().iter().filter(|f| f["rule_id"] == rule).count();
    assert_eq!(fired("provider_reports_leak"), seeded_leaks);
    assert_eq!(fired("app_key_unscoped"), unscoped);
    assert_eq!(fired("atlas_key_no_access_list"), no_list.len());

    // Again: nothing duplicated, and a sync sees no change (the stand-ins age with the home).
    home.ok(&["demo"]);
    let again = home.json(&["keys", "list", "--json"]);
    assert_eq!(again.as_array().unwrap().len(), total);
    let sync = home.ok(&["sync"]);
    assert_eq!(sync.matches("(0 new, 0 changed, 0 removed)").count(), 6, "{sync}");
    let connectors = home.json(&["connector", "list", "--json"]);
    assert_eq!(connectors.as_array().unwrap().len(), 6);

    // The demo's own credentials are sealed: not in any file of the home, nor in any output.
    let planted: Vec<String> = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let e = rt.block_on(Estate::start(now, 1)).unwrap();
        let mut s: Vec<String> =
            [&e.datadog_credentials, &e.atlas_credentials, &e.fastly_credentials, &e.newrelic_credentials]
                .iter()
                .flat_map(|c| c.fields.iter().filter(|(k, _)| *k != "public_key").map(|(_, v)| v.clone()))
                .collect();
        s.extend(e.linear_keys.iter().map(|(_, _, k, _)| k.clone()));
        s
    };
    let mut outputs: Vec<Vec<u8>> = vec![out.into_bytes(), sync.into_bytes()];
    for args in [
        &["keys", "list", "--json"][..],
        &["connector", "list", "--json"],
        &["audit", "--json"],
        &["resources", "--json"],
        &["report", "--format", "csv"],
        &["report", "--format", "sarif"],
        &["report", "--format", "ocsf"],
        &["report", "--format", "html"],
        &["findings", "list", "--state", "all", "--json"],
        &["exposures", "--all", "--json"],
        &["shadow", "list", "--json"],
        &["scan", home.path().join("demo-project").to_str().unwrap(), "--json"],
    ] {
        let o = home.run(args);
        outputs.push(o.stdout);
        outputs.push(o.stderr);
    }
    // The demo project is the one place a (revoked, demo) Linear key sits in plaintext, on
    // purpose: it is what the demo's scan finds. Everything else in the home is checked.
    let project = home.path().join("demo-project");
    let in_project = std::fs::read_to_string(project.join(".env")).unwrap();
    assert_eq!(planted.iter().filter(|s| in_project.contains(s.as_str())).count(), 1);
    for file in files_under(home.path()).into_iter().filter(|f| !f.starts_with(&project)) {
        outputs.push(std::fs::read(&file).unwrap());
    }
    for secret in &planted {
        for bytes in &outputs {
            assert!(!contains(bytes, secret.as_bytes()), "a demo credential leaked");
        }
    }
}

#[test]
fn the_demo_never_mixes_with_real_connectors() {
    let home = Home::initialised();
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    let out = home.run(&["demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("real connectors"));
    assert_eq!(home.json(&["connector", "list", "--json"]).as_array().unwrap().len(), 1, "nothing was added");
}

#[test]
fn connector_credentials_come_from_env_or_stdin_and_are_tested() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(Estate::start(Utc::now(), 40)).unwrap();
    let mut home = Home::initialised();
    let api_key = estate.datadog_credentials.get("api_key").to_owned();
    let app_key = estate.datadog_credentials.get("app_key").to_owned();

    // Never on the command line.
    let out = home.run(&["connector", "add", "datadog", "--name", "dd", "--api-key", &api_key]);
    assert_eq!(out.status.code(), Some(2), "clap refuses a credential flag");
    // Missing: the error names what is needed.
    let out = home.run(&["connector", "add", "datadog", "--name", "dd", "--endpoint", &estate.datadog.url()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("api_key + app_key"), "{err}");
    // Unknown provider fields on stdin are refused.
    let out =
        home.run_with_input(&["connector", "add", "datadog", "--name", "dd", "--credentials-stdin"], "password=x\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no credential field \"password\""));
    // From stdin.
    let out = home.run_with_input(
        &["connector", "add", "datadog", "--name", "dd", "--endpoint", &estate.datadog.url(), "--credentials-stdin"],
        &format!("api_key={api_key}\napp_key={app_key}\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = home.json(&["connector", "list", "--json"]);
    assert_eq!(listed[0]["credential_fields"], serde_json::json!(["api_key", "app_key"]));
    let checks = home.json(&["connector", "test", "dd", "--json"]);
    assert!(checks.as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");
    home.ok(&["sync", "--connector", "dd"]);

    // From the environment, for Fastly; a user lacking superuser is told what it misses.
    home.set_env("FASTLY_API_TOKEN", estate.fastly_credentials.get("token"));
    home.ok(&["connector", "add", "fastly", "--name", "cdn", "--endpoint", &estate.fastly.url()]);
    home.ok(&["connector", "test", "cdn"]);
    let other = {
        let s = estate.fastly.provider().state.lock().unwrap();
        let is_superuser =
            |id: &Option<String>| s.users.iter().any(|u| Some(&u.id) == id.as_ref() && u.role == "superuser");
        let valid = |t: &&keyward_fakes::fastly::Token| t.expires_at.is_none_or(|e| e > Utc::now());
        s.tokens
            .iter()
            .filter(valid)
            .find(|t| !is_superuser(&t.user_id))
            .expect("a non-superuser's token")
            .secret
            .clone()
    };
    home.set_env("FASTLY_API_TOKEN", &other);
    home.ok(&["connector", "add", "fastly", "--name", "cdn-own", "--endpoint", &estate.fastly.url()]);
    let out = home.run(&["connector", "test", "cdn-own"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("superuser"), "{}", String::from_utf8_lossy(&out.stderr));
    // It still syncs, and says its listing is partial.
    home.ok(&["sync", "--connector", "cdn-own"]);
    let c = home.json(&["connector", "list", "--json"]);
    let own = c.as_array().unwrap().iter().find(|c| c["name"] == "cdn-own").unwrap();
    assert!(own["facts"]["listing_covers"].as_str().unwrap().contains("own tokens"), "{own}");

    // Removing a connector takes its keys with it, and nothing else.
    let before = home.json(&["keys", "list", "--json"]).as_array().unwrap().len();
    let own = home.json(&["keys", "list", "--json"]);
    let own = own.as_array().unwrap().iter().filter(|k| k["account"] == "cdn-own").count();
    assert!(own > 0);
    home.ok(&["connector", "remove", "cdn-own", "--yes"]);
    assert_eq!(home.json(&["keys", "list", "--json"]).as_array().unwrap().len(), before - own);
    assert_eq!(home.json(&["connector", "list", "--json"]).as_array().unwrap().len(), 2);

    // A Datadog key without a scope: the test names the scope.
    estate.datadog.provider().permissions.lock().unwrap().remove("user_access_read");
    let out = home.run(&["connector", "test", "dd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("user_access_read"));

    // Linear cannot be connected, and the error says why.
    let out = home.run(&["connector", "add", "linear", "--name", "lin"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot list"), "{}", String::from_utf8_lossy(&out.stderr));
}
