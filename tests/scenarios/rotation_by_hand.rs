//! Rotation by hand, for keys no API can make: in the demo workspace, a Linear key registered by
//! hand is replaced by one its user made at Linear (checked with `viewer` against the demo's
//! Linear stand-in, refused when Linear rejects it), and a Fastly user token gets the steps.

use keyward_tests::Home;
use serde_json::Value;

use super::rotation::stderr;

// case: linear:by_hand fastly:by_hand
#[test]
fn a_linear_key_is_rotated_by_hand_and_a_fastly_user_token_gets_the_steps() {
    let home = Home::initialised();
    home.ok(&["demo"]);
    let keys = home.json(&["keys", "list", "--json"]);
    let find = |f: &dyn Fn(&Value) -> bool| keys.as_array().unwrap().iter().find(|k| f(k)).cloned().unwrap();
    let linear = find(&|k| k["provider"] == "linear" && k["name"] == "linear-ada");
    let id = linear["id"].as_str().unwrap();
    let (state, _) = keyward_fakes::estate::linear_state();
    let (old, spare) = (state.users[0].keys[0].clone(), state.users[0].keys[1].clone());

    // The steps, without the secret.
    let guide = home.ok(&["rotate", id, "--dry-run"]);
    assert!(
        guide.contains("by hand") && guide.contains("Personal API keys") && guide.contains("--new-secret-stdin"),
        "{guide}"
    );
    let out = home.run(&["rotate", id]);
    assert!(!out.status.success() && stderr(&out).contains("--new-secret-stdin"), "{}", stderr(&out));

    // A key Linear does not accept, or the old one again: refused, nothing changes.
    let out =
        home.run_with_input(&["rotate", id, "--new-secret-stdin"], "lin_api_not_a_key_linear_knows_0000000000000");
    assert!(stderr(&out).contains("does not accept the new key"), "{}", stderr(&out));
    let out = home.run_with_input(&["rotate", id, "--new-secret-stdin"], &old);
    assert!(stderr(&out).contains("is the old key's"), "{}", stderr(&out));
    assert_eq!(home.ok(&["keys", "reveal", id]).trim(), old);

    // The key its user made: checked, recorded in the old one's place; the old key still works
    // at Linear (Keyward cannot revoke it), and the output says so.
    let out = home.run_with_input(&["rotate", id, "--new-secret-stdin"], &format!("{spare}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("Linear accepts it") && said.contains("still works at the provider: revoke it"), "{said}");
    assert!(!said.contains(&spare) && !said.contains(&old), "no secret printed: {said}");
    let all = home.json(&["keys", "list", "--json", "--all"]);
    let named: Vec<&Value> = all.as_array().unwrap().iter().filter(|k| k["name"] == "linear-ada").collect();
    assert_eq!(named.len(), 2, "{named:?}");
    let new = named.iter().find(|k| k["id"] != id).unwrap();
    assert!(new["removed_at"].is_null() && named.iter().any(|k| k["id"] == id && k["removed_at"].is_string()));
    assert_eq!(new["owner"], linear["owner"]);
    assert_eq!(home.ok(&["keys", "reveal", new["id"].as_str().unwrap()]).trim(), spare);
    let log = home.ok(&["log", "--action", "key.rotate_by_hand"]);
    assert!(log.contains(id), "{log}");

    // A Fastly user token: the steps, ending with a sync, and no secret taken.
    let fastly = find(&|k| k["provider"] == "fastly" && k["kind"] == "user_token");
    let guide = home.ok(&["rotate", fastly["id"].as_str().unwrap(), "--dry-run"]);
    assert!(guide.contains("Personal API tokens") && guide.contains("keyward sync"), "{guide}");
    let out = home.run_with_input(&["rotate", fastly["id"].as_str().unwrap(), "--new-secret-stdin"], "x");
    assert!(stderr(&out).contains("listed by connector"), "{}", stderr(&out));
}
