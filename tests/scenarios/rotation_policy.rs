//! Rotation by the scheduler: the policy's `auto` and `rotate_after_days` per provider and tag,
//! what `keyward rotations due` says the next run does, and the run itself (the scheduled
//! `rotations` job, through `rotations due --run`): at most five rotations a run, oldest first,
//! each with the policy's grace period; proposals told once, with the files a rotation would
//! change; a key it could not rotate never retried in a loop.

use serde_json::Value;

use crate::rotation::{datadog_api_key_not_the_connectors, datadog_estate, stderr};

fn due(home: &keyward_tests::Home) -> Vec<Value> {
    home.json(&["rotations", "due", "--json"]).as_array().unwrap().clone()
}

fn of<'a>(due: &'a [Value], key_id: &str) -> &'a Value {
    due.iter().find(|d| d["key_id"] == key_id).unwrap_or_else(|| panic!("{key_id} is not due: {due:#?}"))
}

#[test]
fn the_scheduler_rotates_due_keys_a_few_at_a_time_and_proposes_the_rest_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = rt
        .block_on(keyward_fakes::server::FakeServer::start(keyward_fakes::webhook::Receiver::signed(
            "whsec-auto-rotation-0123456789",
        )))
        .unwrap();
    let (_rt, estate, mut home) = datadog_estate(30);
    home.set_env("KEYWARD_WEBHOOK_URL", &format!("{}/hook", receiver.url()));
    home.set_env("KEYWARD_WEBHOOK_SECRET", "whsec-auto-rotation-0123456789");
    home.ok(&["notify", "webhook", "add", "team", "--kind", "json"]);
    let dd = estate.datadog.provider();
    let keys = home.json(&["keys", "list", "--json"]);
    let api_keys: Vec<&Value> = keys.as_array().unwrap().iter().filter(|k| k["kind"] == "api_key").collect();
    assert!(api_keys.len() > 7, "enough API keys to need two runs: {}", api_keys.len());

    // Off by default: nothing is due, whatever the age.
    assert!(due(&home).is_empty());

    // The API keys and a personal access token are tagged for rotation; the frozen key too,
    // but of its two tags the more cautious `auto` wins, so it is only proposed; a file uses it,
    // which the proposal names.
    let pat = keys.as_array().unwrap().iter().find(|k| k["kind"] == "personal_access_token").unwrap();
    for k in api_keys.iter().chain([&pat]) {
        home.ok(&["keys", "tag", k["id"].as_str().unwrap(), "rotate"]);
    }
    let frozen = api_keys[0]["id"].as_str().unwrap().to_owned();
    home.ok(&["keys", "tag", &frozen, "frozen"]);
    let project = tempfile::tempdir().unwrap();
    let secret = {
        let s = dd.state.lock().unwrap();
        s.api_keys.iter().find(|k| k.id == api_keys[0]["external_id"].as_str().unwrap()).unwrap().secret.clone()
    };
    let env = project.path().join("agent.env");
    std::fs::write(&env, format!("DD_API_KEY={secret}\nDD_SITE=datadoghq.com\n")).unwrap();
    home.ok(&["scan", project.path().to_str().unwrap()]);
    let policy = "[provider.datadog]\nrotation_grace_hours = 2\n\
                  [tag.rotate]\nauto = \"on\"\nrotate_after_days = 1\n\
                  [tag.frozen]\nauto = \"propose\"\n";
    std::fs::write(home.path().join("policy.toml"), policy).unwrap();
    let d = due(&home);
    assert_eq!(of(&d, &frozen)["action"], "propose", "{d:#?}");
    assert_eq!(of(&d, &frozen)["auto"], "propose");
    // Personal access tokens are not made by Keyward: proposed, by hand.
    let pat_due = of(&d, pat["id"].as_str().unwrap());
    assert_eq!((&pat_due["action"], &pat_due["by_hand"]), (&Value::from("propose"), &Value::from(true)), "{pat_due}");
    // Five rotations a run, the oldest keys first.
    let rotate: Vec<&Value> = d.iter().filter(|d| d["action"] == "rotate").collect();
    assert_eq!(rotate.len(), 5, "{d:#?}");
    let ages: Vec<i64> =
        d.iter().filter(|d| d["action"] != "propose").map(|d| d["age_days"].as_i64().unwrap()).collect();
    assert!(ages.windows(2).all(|w| w[0] >= w[1]), "oldest first: {ages:?}");
    assert!(d.iter().any(|d| d["action"] == "wait" && d["why"].as_str().unwrap().contains("at most 5")), "{d:#?}");

    let before = chrono::Utc::now();
    let said = home.ok(&["rotations", "due", "--run"]);
    let rotations = home.json(&["rotations", "list", "--json"]);
    let rotations = rotations.as_array().unwrap();
    // The key the connector signs in with (when the org lists it) is refused, and proposed
    // with why, not retried.
    let own = estate.datadog_credentials.get("api_key").to_owned();
    let own_id = dd.state.lock().unwrap().api_keys.iter().find(|k| k.secret == own).map(|k| k.id.clone());
    let refused = rotate.iter().filter(|d| d["external_id"].as_str() == own_id.as_deref()).count();
    assert_eq!(rotations.len(), 5 - refused, "{said}\n{rotations:#?}");
    assert!(said.contains(&format!("{} started", 5 - refused)), "{said}");
    for r in rotations {
        assert_eq!(r["state"], "grace", "{r:#}");
        let until = chrono::DateTime::parse_from_rfc3339(r["grace_until"].as_str().unwrap()).unwrap();
        let hours = (until.with_timezone(&chrono::Utc) - before).num_minutes() as f64 / 60.0;
        assert!((1.9..2.1).contains(&hours), "the policy's 2 h grace: {hours}");
    }

    // The new keys keep the old ones' tags (the policy follows the key), and are not due: their
    // age counts from the rotation that made them.
    let listed = home.json(&["keys", "list", "--json"]);
    for r in rotations {
        let new = listed.as_array().unwrap().iter().find(|k| k["id"] == r["new_key_id"]).unwrap();
        assert_eq!(new["tags"], serde_json::json!(["rotate"]), "{new:#}");
    }

    // Told once: a second run proposes nothing again and starts the next five.
    let said = home.ok(&["rotations", "due", "--run"]);
    assert!(said.contains(" 0 proposed"), "{said}");
    let proposals = |receiver: &keyward_fakes::server::FakeServer<keyward_fakes::webhook::Receiver>| -> Vec<Value> {
        let got = receiver.provider().received.lock().unwrap();
        got.iter().map(|r| r.body.clone()).filter(|b| b["event"] == "rotation.proposed").collect()
    };
    let told = proposals(&receiver);
    let frozen_told: Vec<&Value> = told.iter().filter(|b| b["subject"] == api_keys[0]["name"]).collect();
    assert_eq!(frozen_told.len(), 1, "{told:#?}");
    let body = frozen_told[0]["body"].as_str().unwrap();
    assert!(body.contains("days old (policy: rotate after 1 days)"), "{body}");
    assert!(body.contains(&format!("`keyward rotate {frozen}` makes a new key")), "{body}");
    assert!(body.contains(&format!("files that use it: {}", env.display())), "{body}");
    assert!(!body.contains(&secret), "no secret in a proposal");
    let ext = api_keys[0]["external_id"].as_str().unwrap();
    assert!(dd.state.lock().unwrap().api_keys.iter().any(|k| k.id == ext), "a proposed key is never rotated");

    // Runs until nothing more starts: every key is rotated, proposed, or under way; none twice.
    for _ in 0..5 {
        if due(&home).iter().all(|d| d["action"] == "wait") {
            break;
        }
        home.ok(&["rotations", "due", "--run"]);
    }
    let d = due(&home);
    assert!(d.iter().all(|d| d["action"] == "wait" && d["why"].as_str().unwrap().starts_with("proposed: ")), "{d:#?}");
    let list = home.json(&["rotations", "list", "--json"]);
    let mut rotated: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["key_id"].as_str().unwrap()).collect();
    let n = rotated.len();
    rotated.sort_unstable();
    rotated.dedup();
    assert_eq!(rotated.len(), n, "a key rotated twice: {list:#}");
    let own_listed = api_keys.iter().any(|k| k["external_id"].as_str() == own_id.as_deref());
    assert_eq!(
        n,
        api_keys.len() - 1 - usize::from(own_listed),
        "every API key but the frozen one and the connector's own"
    );
    assert_eq!(d.len(), 1 + 1 + usize::from(own_listed), "the frozen key, the token, the connector's own: {d:#?}");
    assert_eq!(proposals(&receiver).len(), told.len(), "nothing proposed twice");

    // A rotation that rolled back is not tried again: the key is proposed, with why.
    let first = list[0].clone();
    home.ok(&["rotations", "abort", first["id"].as_str().unwrap()]);
    let again = of(&due(&home), first["key_id"].as_str().unwrap()).clone();
    assert_eq!(again["action"], "propose", "{again:#}");
    assert!(again["why"].as_str().unwrap().contains("rolled back: aborted by the user"), "{again:#}");
    let said = home.ok(&["rotations", "due", "--run"]);
    assert!(said.contains("0 started, 1 proposed"), "{said}");
    assert_eq!(home.json(&["rotations", "list", "--json"]).as_array().unwrap().len(), n, "not rotated again");
    let out = home.run(&["rotations", "due", "--run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 started, 0 proposed"));
}

/// Without `--grace`, `keyward rotate` gives the old key the policy's grace period.
#[test]
fn a_rotation_by_hand_on_the_command_line_takes_the_policys_grace_period() {
    let (_rt, estate, home) = datadog_estate(8);
    std::fs::write(home.path().join("policy.toml"), "[provider.datadog]\nrotation_grace_hours = 5\n").unwrap();
    let key = datadog_api_key_not_the_connectors(&estate, &home);
    let before = chrono::Utc::now();
    let out = home.run(&["rotate", key["id"].as_str().unwrap(), "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    let until = chrono::DateTime::parse_from_rfc3339(r["grace_until"].as_str().unwrap()).unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - before).num_minutes() as f64 / 60.0;
    assert!((4.9..5.1).contains(&hours), "{hours}");
}

/// A policy file broken after `auto = "on"` was adopted keeps the audit's thresholds but starts
/// no unattended rotation: the user may have been switching it off.
#[test]
fn a_broken_policy_file_starts_no_rotation() {
    let (_rt, _estate, home) = datadog_estate(8);
    let policy = home.path().join("policy.toml");
    std::fs::write(&policy, "[provider.datadog]\nauto = \"on\"\nrotate_after_days = 1\n").unwrap();
    assert!(due(&home).iter().any(|d| d["action"] == "rotate"), "adopted");
    std::fs::write(&policy, "[provider.datadog]\nauto = \"of\"\n").unwrap();
    let said = home.ok(&["rotations", "due", "--run"]);
    assert!(said.contains(" 0 started"), "{said}");
    assert_eq!(home.json(&["rotations", "list", "--json"]).as_array().unwrap().len(), 0);
}

/// Unattended, a rotation never leaves the user files to fix: a key a file uses that Keyward
/// does not update (a Datadog key: no hand-over) is proposed, naming the file; and a policy's
/// zero grace still keeps the old key an hour when nobody watches.
#[test]
fn an_unattended_rotation_leaves_no_file_behind_and_keeps_the_old_key_an_hour() {
    let (_rt, estate, home) = datadog_estate(8);
    let used = datadog_api_key_not_the_connectors(&estate, &home);
    let secret = {
        let s = estate.datadog.provider().state.lock().unwrap();
        s.api_keys.iter().find(|k| k.id == used["external_id"].as_str().unwrap()).unwrap().secret.clone()
    };
    let project = tempfile::tempdir().unwrap();
    let file = project.path().join("agent.env");
    std::fs::write(&file, format!("DD_API_KEY={secret}\n")).unwrap();
    home.ok(&["scan", project.path().to_str().unwrap()]);
    home.ok(&["keys", "tag", used["id"].as_str().unwrap(), "rotate"]);

    let policy = "[provider.datadog]\nrotation_grace_hours = 0\n[tag.rotate]\nauto = \"on\"\nrotate_after_days = 1\n";
    std::fs::write(home.path().join("policy.toml"), policy).unwrap();
    let d = due(&home);
    assert_eq!(of(&d, used["id"].as_str().unwrap())["grace_hours"], 1, "{d:#?}");
    let said = home.ok(&["rotations", "due", "--run"]);
    assert!(said.contains("0 started, 1 proposed"), "{said}");
    let why = of(&due(&home), used["id"].as_str().unwrap())["why"].as_str().unwrap().to_owned();
    assert!(why.contains("files Keyward does not update use it"), "{why}");
    assert!(why.contains(&file.display().to_string()), "{why}");
    assert!(home.json(&["rotations", "list", "--json"]).as_array().unwrap().is_empty(), "nothing rotated");
    assert!(!home.ok(&["rotations", "due", "--json"]).contains(&secret), "no secret in the listing");
}
