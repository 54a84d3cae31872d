//! The CLI's contract: exit codes, one-line errors, manual keys, and refusing bad vaults.

use keyward_tests::Home;

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1_with_one_line() {
    let home = Home::new();
    let out = home.run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));

    let out = home.run(&["keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("keyward init"), "says how to fix it: {err}");
}

#[test]
fn init_twice_refuses_and_keeps_the_vault() {
    let home = Home::initialised();
    let vault = home.path().join("vault.db");
    let before = std::fs::read(&vault).unwrap();
    let out = home.run(&["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&vault).unwrap(), before);
}

#[test]
fn manual_keys_round_trip_and_list_as_json() {
    let home = Home::initialised();
    let out = home.run_with_input(
        &["keys", "add", "--provider", "linear", "--name", "deploy bot", "--owner", "ana", "--expires", "2027-01-31"],
        "lin_api_0123456789abcdefghijklmnopqrstuvwxyzABCD\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["id"], id.as_str());
    assert_eq!(k["provider"], "linear");
    assert_eq!(k["account"], "manual");
    assert_eq!(k["name"], "deploy bot");
    assert_eq!(k["owner"], "ana");
    assert_eq!(k["status"], "active");
    assert_eq!(k["expires_at"], "2027-01-31T00:00:00Z");
    assert_eq!(k["has_secret"], true);
    for field in ["external_id", "created_at", "last_used_at"] {
        assert!(k.get(field).is_some(), "{field} present (null allowed)");
    }

    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), "lin_api_0123456789abcdefghijklmnopqrstuvwxyzABCD");
}

#[test]
fn bad_manual_key_input_is_refused_clearly() {
    let home = Home::initialised();
    let out = home.run_with_input(&["keys", "add", "--provider", "nope", "--name", "x"], "secret");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown provider"));
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "x"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("secret"));
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "x", "--expires", "soon"], "s");
    assert_eq!(out.status.code(), Some(2));
    let out = home.run(&["keys", "reveal", "no-such-id"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key"));
}

#[test]
fn wrong_or_missing_passphrase_is_refused_without_touching_the_vault() {
    let mut home = Home::initialised();
    let vault = home.path().join("vault.db");
    let before = std::fs::read(&vault).unwrap();
    home.set_env("KEYWARD_PASSPHRASE", "not the passphrase");
    let out = home.run(&["keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    home.env.retain(|(k, _)| k != "KEYWARD_PASSPHRASE");
    let out = home.run(&["keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"));
    assert_eq!(std::fs::read(&vault).unwrap(), before);
}

#[test]
fn a_corrupt_vault_gets_a_clear_error_and_is_not_repaired() {
    let home = Home::new();
    let vault = home.path().join("vault.db");
    std::fs::write(&vault, b"this is not a database, and it must stay exactly like this").unwrap();
    let out = home.run(&["keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
    assert_eq!(std::fs::read(&vault).unwrap(), b"this is not a database, and it must stay exactly like this");
}

#[test]
fn connectors_are_validated_and_listed() {
    let home = Home::initialised();
    home.ok(&["connector", "add", "aws", "--name", "prod", "--region", "eu-west-1"]);
    let out = home.run(&["connector", "add", "aws", "--name", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = home.run(&["connector", "add", "datadog", "--name", "dd"]);
    assert_eq!(out.status.code(), Some(1));
    let list = home.json(&["connector", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "prod");
    assert_eq!(list[0]["region"], "eu-west-1");
}
