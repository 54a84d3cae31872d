//! Rotating API Gateway REST API keys against moto: the new key is made like the old one and put
//! in every usage plan of the old one, the vault seals the value API Gateway made, the old key is
//! disabled for the grace period and deleted after it (or enabled again on abort), and a real
//! `keyward` killed with SIGKILL after every step is resumed to the end. What the tests compare
//! with is moto's own state (`MotoEstate::api_keys`), values included.

use keyward_tests::{Home, MotoEstate};
use serde_json::Value;

use super::rotation::{CRASH_POINTS, crash_and_resume, key, stderr};

/// Where `estate.py --apigateway-rotation` puts the keys to rotate.
const REGION: &str = "us-east-1";

/// Moto with `keys` REST keys to rotate (each in the gold plan, every other one in silver too),
/// connected as `gw` and synced.
fn estate(keys: usize) -> (MotoEstate, Home) {
    let moto = MotoEstate::start(2, 11, &["--apigateway", "--apigateway-rotation", &keys.to_string()]);
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws_apigateway", "--name", "gw", "--regions", "us-east-1,eu-west-1"]);
    home.ok(&["sync"]);
    (moto, home)
}

/// The keys seeded to rotate: (external id, name, usage plans).
fn to_rotate(moto: &MotoEstate) -> Vec<(String, String, Vec<String>)> {
    moto.truth["apigateway"]["rotation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let plans = k["plans"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
            (k["external_id"].as_str().unwrap().to_owned(), k["name"].as_str().unwrap().to_owned(), plans)
        })
        .collect()
}

/// The secret the vault holds for the key with this provider id.
fn revealed(home: &Home, external_id: &str) -> String {
    home.ok(&["keys", "reveal", key(home, external_id)["id"].as_str().unwrap()]).trim().to_owned()
}

/// The rotation's lineage as API Gateway holds it now: keys named `name`, with or without the
/// mark, each with its `external_id` added.
fn lineage(moto: &mut MotoEstate, name: &str) -> Vec<Value> {
    let rotated = format!("{name} (rotated)");
    moto.api_keys(REGION)
        .into_iter()
        .filter(|k| k["name"] == name || k["name"] == rotated.as_str())
        .map(|mut k| {
            k["external_id"] = format!("{REGION}/{}", k["id"].as_str().unwrap()).into();
            k
        })
        .collect()
}

fn plans(k: &Value) -> Vec<String> {
    k["plans"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
}

// case: aws_apigateway:create aws_apigateway:disable aws_apigateway:delete
#[test]
fn an_api_gateway_key_is_rotated_into_its_usage_plans_and_an_abort_brings_the_old_one_back() {
    let (mut moto, home) = estate(3);
    let keys = to_rotate(&moto);
    let (old, name, old_plans) = keys[0].clone();
    assert_eq!(old_plans.len(), 2, "the first key is in two plans");
    let before = lineage(&mut moto, &name);
    assert_eq!(before.len(), 1);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();

    let dry = home.ok(&["rotate", &old_id, "--dry-run"]);
    assert!(dry.contains(&format!("disable the old key {old}")), "{dry}");
    assert_eq!(lineage(&mut moto, &name), before, "a dry run changes nothing");

    let out = home.run(&["rotate", &old_id, "--yes", "--grace", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let new = home.json(&["rotations", "list", "--json"])[0]["new_external_id"].as_str().unwrap().to_owned();
    assert!(said.contains(&format!("Rotated: {old} replaced by {new}")), "{said}");
    // API Gateway holds only the new key: like the old one, in the old one's plans.
    let held = lineage(&mut moto, &name);
    assert_eq!(held.len(), 1, "{held:?}");
    let made = &held[0];
    assert_eq!(made["external_id"], new.as_str());
    assert_eq!(made["name"], format!("{name} (rotated)"));
    assert_eq!(made["enabled"], true);
    assert_eq!(plans(made), old_plans);
    for copied in ["description", "customer_id", "tags"] {
        assert_eq!(made[copied], before[0][copied], "{copied}");
    }
    // The vault holds the value API Gateway made; the old key is retired.
    let secret = revealed(&home, &new);
    assert_eq!(secret, made["value"].as_str().unwrap(), "the sealed secret is the key's value");
    assert!(key(&home, &old)["removed_at"].is_string());
    for text in [&said, &stderr(&out)] {
        assert!(!text.contains(&secret), "the new secret leaked");
    }

    // Rotated again, the mark is not repeated and the plans follow.
    let again = home.run(&["rotate", key(&home, &new)["id"].as_str().unwrap(), "--yes", "--grace", "0"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let held = lineage(&mut moto, &name);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_ne!(held[0]["external_id"], new.as_str());
    assert_eq!(held[0]["name"], format!("{name} (rotated)"));
    assert_eq!(plans(&held[0]), old_plans);

    // With a grace period the old key is disabled, not deleted; the abort enables it again and
    // deletes the new one.
    let (second, second_name, second_plans) = keys[1].clone();
    let second_id = key(&home, &second)["id"].as_str().unwrap().to_owned();
    home.ok(&["rotate", &second_id, "--yes", "--grace", "1h"]);
    let rotation = home.json(&["rotations", "list", "--json"])[0].clone();
    let (id, made) = (rotation["id"].as_str().unwrap(), rotation["new_external_id"].as_str().unwrap().to_owned());
    let held = lineage(&mut moto, &second_name);
    let state = |external_id: &str| held.iter().find(|k| k["external_id"] == external_id).map(|k| k["enabled"].clone());
    assert_eq!(state(&second), Some(Value::Bool(false)), "the old key is disabled for the grace period: {held:?}");
    assert_eq!(state(&made), Some(Value::Bool(true)), "{held:?}");
    assert_eq!(key(&home, &second)["status"], "inactive");
    let aborted = home.ok(&["rotations", "abort", id]);
    assert!(aborted.contains("Rolled back: aborted by the user"), "{aborted}");
    let held = lineage(&mut moto, &second_name);
    assert_eq!(held.len(), 1, "the new key is deleted: {held:?}");
    assert_eq!((&held[0]["external_id"], &held[0]["enabled"]), (&Value::from(second.as_str()), &Value::Bool(true)));
    assert_eq!(plans(&held[0]), second_plans);
    assert_eq!(key(&home, &second)["status"], "active");

    // The vault and API Gateway agree.
    let synced = home.ok(&["sync"]);
    assert!(synced.contains("(0 new,") && synced.contains(", 0 removed)"), "{synced}");
}

/// The crash matrix for API Gateway keys: a real `keyward rotate` killed with SIGKILL at every
/// point its steps pass, API Gateway's keys checked each time (an enabled key of the lineage
/// whose secret is held: the old one, or the new one sealed with the very value API Gateway
/// made; no unknown key but the one an unrecorded create left), then resumed to the end: one key
/// left, in the old key's usage plans.
#[test]
fn an_api_gateway_rotation_killed_after_any_step_keeps_a_working_key_and_resumes_to_the_end() {
    let (mut moto, home) = estate(CRASH_POINTS.len());
    let mut matrix = Vec::new();
    for (point, (old, name, old_plans)) in CRASH_POINTS.iter().zip(to_rotate(&moto)) {
        let (new, line) = crash_and_resume(&home, &old, point, || {
            let held = lineage(&mut moto, &name);
            let usable = held.iter().any(|k| {
                let id = k["external_id"].as_str().unwrap();
                k["enabled"] == true
                    && (id == old || {
                        let v = key(&home, id);
                        v["has_secret"] == true && v["removed_at"].is_null() && revealed(&home, id) == k["value"]
                    })
            });
            assert!(usable, "{point}: no enabled key whose secret is held: {held:?}");
            let unknown = held
                .iter()
                .filter(|k| {
                    k["external_id"] != old.as_str() && key(&home, k["external_id"].as_str().unwrap()).is_null()
                })
                .count();
            assert_eq!(unknown, usize::from(*point == "create:called"), "{point}: {held:?}");
        });
        let held = lineage(&mut moto, &name);
        assert_eq!(
            held.iter().map(|k| k["external_id"].as_str().unwrap()).collect::<Vec<_>>(),
            [new.as_str()],
            "{point}"
        );
        assert_eq!(held[0]["enabled"], true, "{point}");
        assert_eq!(plans(&held[0]), old_plans, "{point}");
        assert_eq!(revealed(&home, &new), held[0]["value"].as_str().unwrap(), "{point}");
        assert!(key(&home, &old)["removed_at"].is_string(), "{point}");
        matrix.push(line);
    }
    eprintln!("api gateway crash matrix:\n  {}", matrix.join("\n  "));
    let synced = home.ok(&["sync"]);
    assert!(synced.contains("(0 new,") && synced.contains(", 0 removed)"), "{synced}");
}
