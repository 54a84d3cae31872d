//! Rotating New Relic USER and INGEST keys against the NerdGraph stand-in: the keys it lets
//! Keyward rotate (the connector's own user's, and ingest keys), the ones it does not (another
//! user's user key, shown only truncated; the connector's own key), the original license key
//! New Relic never deletes, and a real `keyward` killed with SIGKILL at every point and resumed.

use chrono::Utc;
use keyward_fakes::estate::Estate;
use keyward_fakes::newrelic::Key;
use keyward_tests::Home;

use super::rotation::{assert_a_working_key_is_held, crash_and_resume, crash_points_without_disable, key, stderr};

/// The stand-in with `keys` keys, connected as `nr` (the connector's user is an admin) and synced.
fn newrelic_estate(keys: usize) -> (tokio::runtime::Runtime, Estate, Home) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(Estate::start(chrono::Utc::now(), keys)).unwrap();
    let home = Home::initialised();
    let endpoint = format!("{}/graphql", estate.newrelic.url());
    let mut args = vec!["connector", "add", "newrelic", "--name", "nr", "--endpoint", &endpoint, "--credentials-stdin"];
    let accounts: Vec<String> = estate.newrelic_accounts.iter().map(i64::to_string).collect();
    for a in &accounts {
        args.extend(["--account-id", a]);
    }
    let creds = format!("api_key={}\n", estate.newrelic_credentials.get("api_key"));
    let out = home.run_with_input(&args, &creds);
    assert!(out.status.success(), "{}", stderr(&out));
    home.ok(&["sync"]);
    (rt, estate, home)
}

/// The stand-in's keys that `pick` chooses, as (id, name, secret).
fn keys_where(estate: &Estate, pick: &dyn Fn(&Key, i64) -> bool) -> Vec<(String, String, String)> {
    let s = estate.newrelic.provider().state.lock().unwrap();
    let me = s.users[0].id;
    s.keys.iter().filter(|k| pick(k, me)).map(|k| (k.id.clone(), k.name.clone(), k.secret.clone())).collect()
}

/// Keyward's id of the key New Relic knows as `external_id`.
fn id_of(home: &Home, external_id: &str) -> String {
    key(home, external_id)["id"].as_str().unwrap_or_else(|| panic!("{external_id} is not in the inventory")).to_owned()
}

// case: newrelic:create newrelic:delete
#[test]
fn new_relic_user_and_ingest_keys_are_rotated_and_the_original_license_key_is_kept() {
    let (_rt, estate, home) = newrelic_estate(60);
    let connector = estate.newrelic_credentials.get("api_key").to_owned();
    let own = keys_where(&estate, &|k, me| k.user_id == Some(me) && k.secret != connector);
    let theirs = keys_where(&estate, &|k, me| k.key_type == "USER" && k.user_id != Some(me));
    let ingest = keys_where(&estate, &|k, _| k.key_type == "INGEST" && !k.original);
    let original = keys_where(&estate, &|k, _| k.original);
    let signing = keys_where(&estate, &|k, _| k.secret == connector);

    // Refused in the plan, with the reason: another user's key, and the key Keyward signs in with.
    let refused = home.run(&["rotate", &id_of(&home, &theirs[0].0), "--dry-run"]);
    assert!(!refused.status.success() && stderr(&refused).contains("only truncated"), "{}", stderr(&refused));
    let refused = home.run(&["rotate", &id_of(&home, &signing[0].0), "--dry-run"]);
    assert!(stderr(&refused).contains("signs in with"), "{}", stderr(&refused));

    // The connector's user's key and an ingest key: the new key is made beside the old one with
    // the same account (and user, or ingest type), the vault holds exactly what New Relic made,
    // and the old key is gone.
    for (old, name, _) in [&own[0], &ingest[0]] {
        let facts = |k: &Key| (k.key_type, k.account_id, k.user_id, k.ingest_type);
        let was = estate.newrelic.provider().state.lock().unwrap().keys.iter().find(|k| k.id == *old).map(facts);
        let out = home.run(&["rotate", &id_of(&home, old), "--yes", "--grace", "0"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let made = home.json(&["rotations", "list", "--json"])[0]["new_external_id"].as_str().unwrap().to_owned();
        assert!(keys_where(&estate, &|k, _| k.id == *old).is_empty(), "the old key is deleted");
        let new = keys_where(&estate, &|k, _| k.id == made);
        assert_eq!(new.len(), 1, "the new key is at New Relic");
        assert_eq!(new[0].1, format!("{name} (rotated)"));
        let now = estate.newrelic.provider().state.lock().unwrap().keys.iter().find(|k| k.id == made).map(facts);
        assert_eq!(now, was, "same type, account, user and ingest type");
        let revealed = home.ok(&["keys", "reveal", &id_of(&home, &made)]);
        assert_eq!(revealed.trim(), new[0].2, "the vault holds the secret New Relic made");
    }

    // The original license key: the new key is made and checked, New Relic refuses the delete,
    // and the rotation ends with the old key kept and the reason said.
    let (old, _, _) = &original[0];
    let out = home.run(&["rotate", &id_of(&home, old), "--yes", "--grace", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("would not delete it") && said.contains("original license key"), "{said}");
    assert!(stderr(&out).contains("would not delete the old key"), "{}", stderr(&out));
    assert_eq!(keys_where(&estate, &|k, _| k.id == *old).len(), 1, "the original key is still there");
    let rotation = home.json(&["rotations", "list", "--json"])[0].clone();
    assert_eq!(rotation["state"], "done", "{rotation}");
    assert!(!key(&home, old)["removed_at"].is_string(), "the kept key stays in the inventory");

    // A create New Relic refuses (the connector's user lost the API-keys capability) made
    // nothing: the rotation fails, and neither a resume nor an abort takes a key someone else
    // made meanwhile, under the very name a rotation would give, for an orphan of this one.
    let (old, name, _) = &ingest[1];
    estate.newrelic.provider().state.lock().unwrap().admins.clear();
    let out = home.run(&["rotate", &id_of(&home, old), "--yes", "--grace", "0"]);
    assert!(!out.status.success() && stderr(&out).contains("permission"), "{}", stderr(&out));
    {
        let mut s = estate.newrelic.provider().state.lock().unwrap();
        let mut theirs = s.keys.iter().find(|k| k.id == *old).unwrap().clone();
        (theirs.id, theirs.name, theirs.secret) =
            ("THEIRS".into(), format!("{name} (rotated)"), format!("{:0>40}", "7"));
        theirs.created_at = Utc::now();
        s.keys.push(theirs);
    }
    let rotation = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    let aborted = home.ok(&["rotations", "abort", &rotation]);
    assert!(aborted.contains("nothing had been created"), "{aborted}");
    assert_eq!(keys_where(&estate, &|k, _| k.id == "THEIRS").len(), 1, "the other key is left alone");
    assert_eq!(keys_where(&estate, &|k, _| k.id == *old).len(), 1, "the old key is kept");
}

/// The crash matrix for New Relic (ingest keys and the connector's user's keys, alternately):
/// a real `keyward rotate` killed with SIGKILL at every point its steps pass, the account's keys
/// checked each time, then resumed to the end. (New Relic cannot disable a key.)
#[test]
fn a_new_relic_rotation_killed_after_any_step_keeps_a_working_key_and_resumes_to_the_end() {
    let points = crash_points_without_disable();
    let (_rt, estate, home) = newrelic_estate(60);
    let connector = estate.newrelic_credentials.get("api_key").to_owned();
    let candidates = keys_where(&estate, &|k, me| {
        (k.key_type == "INGEST" && !k.original) || (k.user_id == Some(me) && k.secret != connector)
    });
    assert!(candidates.len() >= points.len(), "{} keys to rotate", candidates.len());
    let lineage = |name: &str| {
        keys_where(&estate, &|k, _| k.name == name || k.name == format!("{name} (rotated)"))
            .into_iter()
            .map(|(id, _, secret)| (id, secret))
            .collect::<Vec<_>>()
    };
    let mut matrix = Vec::new();
    for (point, (old, name, _)) in points.iter().zip(candidates) {
        // New Relic holds a working key whose secret is held: the old one, or the new one sealed
        // in the vault with the value New Relic made; no key but an unrecorded create's is unknown.
        let (new, line) =
            crash_and_resume(&home, &old, point, || assert_a_working_key_is_held(&home, point, &old, &lineage(&name)));
        assert_eq!(lineage(&name).into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new], "{point}");
        matrix.push(line);
    }
    eprintln!("new relic crash matrix:\n  {}", matrix.join("\n  "));
}
