//! Rotating Atlas service-account secrets against the Atlas stand-in: the two-secret limit
//! (an expired secret still takes a place, and only an expired one is deleted to make room),
//! the 409 Atlas answers to creates too close together, the seven-day cut a new secret gives
//! the others, and a real `keyward` killed with SIGKILL at every point and resumed.

use chrono::{Duration, Utc};
use keyward_fakes::atlas::{SaSecret, State};
use keyward_fakes::estate::{ATLAS_ORG, Estate};
use keyward_tests::Home;

use super::rotation::{assert_a_working_key_is_held, crash_and_resume, crash_points_without_disable, key, stderr};

/// The stand-in with `keys` keys, its service accounts reshaped by `prepare`, connected as
/// `atlas` with its API key, and synced.
fn atlas_estate(keys: usize, prepare: &dyn Fn(&mut State)) -> (tokio::runtime::Runtime, Estate, Home) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(Estate::start(Utc::now(), keys)).unwrap();
    prepare(&mut estate.atlas.provider().state.lock().unwrap());
    let home = Home::initialised();
    let creds = format!(
        "public_key={}\nprivate_key={}\n",
        estate.atlas_credentials.get("public_key"),
        estate.atlas_credentials.get("private_key")
    );
    let args = [
        "connector",
        "add",
        "mongodb_atlas",
        "--name",
        "atlas",
        "--org-id",
        ATLAS_ORG,
        "--endpoint",
        &estate.atlas.url(),
    ];
    let out = home.run_with_input(&[&args[..], &["--credentials-stdin"]].concat(), &creds);
    assert!(out.status.success(), "{}", stderr(&out));
    home.ok(&["sync"]);
    (rt, estate, home)
}

/// A secret made `days` ago that lives `life` days.
fn secret(id: &str, days: i64, life: i64) -> SaSecret {
    let created = Utc::now() - Duration::days(days);
    SaSecret {
        id: id.to_owned(),
        secret: format!("mdb_sa_sk_{id}{}", "x".repeat(20)),
        created_at: created,
        expires_at: created + Duration::days(life),
        last_used: None,
    }
}

/// Every service account holds one live secret (made 10 days ago, living 90), and the first
/// three are reshaped: two secrets with one expired, two live secrets, and one made for a year.
fn shaped(s: &mut State) {
    for (i, sa) in s.service_accounts.iter_mut().enumerate() {
        sa.secrets = vec![secret(&format!("{i:024x}"), 10, 90)];
    }
    s.service_accounts[0].secrets.push(secret("e0000000000000000000000a", 200, 30));
    s.service_accounts[1].secrets.push(secret("a0000000000000000000000b", 5, 90));
    s.service_accounts[2].secrets = vec![secret("y0000000000000000000000c", 10, 365)];
}

/// The secrets of the service account at `index`, as (id, value, expires).
fn secrets_of(estate: &Estate, index: usize) -> Vec<(String, String, chrono::DateTime<Utc>)> {
    let s = estate.atlas.provider().state.lock().unwrap();
    s.service_accounts[index].secrets.iter().map(|x| (x.id.clone(), x.secret.clone(), x.expires_at)).collect()
}

fn id_of(home: &Home, external_id: &str) -> String {
    key(home, external_id)["id"].as_str().unwrap_or_else(|| panic!("{external_id} is not in the inventory")).to_owned()
}

// case: mongodb_atlas:create mongodb_atlas:delete
#[test]
fn an_atlas_service_account_secret_is_rotated_within_the_two_secret_limit() {
    let (_rt, estate, home) = atlas_estate(40, &shaped);

    // An expired secret still takes one of the two places: refused, then made room for with
    // consent (the expired one is deleted, never the live one).
    let live = secrets_of(&estate, 0)[0].0.clone();
    let refused = home.run(&["rotate", &id_of(&home, &live), "--dry-run"]);
    assert!(stderr(&refused).contains("--delete-inactive"), "{}", stderr(&refused));
    let out = home.run(&["rotate", &id_of(&home, &live), "--yes", "--grace", "0", "--delete-inactive"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let now = secrets_of(&estate, 0);
    assert_eq!(now.len(), 1, "the expired and the old secrets are gone: {now:?}");
    let made = home.json(&["rotations", "list", "--json"])[0]["new_external_id"].as_str().unwrap().to_owned();
    assert_eq!(now[0].0, made);
    assert_eq!(home.ok(&["keys", "reveal", &id_of(&home, &made)]).trim(), now[0].1, "the vault holds Atlas's value");

    // Two live secrets: refused, whatever the consent.
    let live = secrets_of(&estate, 1)[0].0.clone();
    let refused = home.run(&["rotate", &id_of(&home, &live), "--yes", "--delete-inactive"]);
    assert!(!refused.status.success() && stderr(&refused).contains("the other is active"), "{}", stderr(&refused));
    assert_eq!(secrets_of(&estate, 1).len(), 2);

    // A year-long secret: the plan says a new one cuts it to 7 days; the successor lives a year
    // too; Atlas's 409 (a create a moment ago) is waited out; an abort deletes the new secret and
    // leaves the old one working, cut to 7 days as Atlas does.
    let (old, _, _) = secrets_of(&estate, 2)[0].clone();
    let plan = home.ok(&["rotate", &id_of(&home, &old), "--dry-run"]);
    assert!(plan.contains("7 days at most"), "{plan}");
    estate.atlas.provider().state.lock().unwrap().busy_answers = 2;
    let out = home.run(&["rotate", &id_of(&home, &old), "--yes", "--grace", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(estate.atlas.provider().state.lock().unwrap().busy_answers, 0, "two 409s were answered, and waited out");
    let both = secrets_of(&estate, 2);
    assert_eq!(both.len(), 2, "{both:?}");
    let new = both.iter().find(|s| s.0 != old).unwrap();
    assert!(new.2 > Utc::now() + Duration::days(364), "the successor lives as long as the old one was made to");
    let cut = both.iter().find(|s| s.0 == old).unwrap().2;
    assert!(cut <= Utc::now() + Duration::days(7), "Atlas cut the old secret to 7 days");
    let rotation = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    let aborted = home.ok(&["rotations", "abort", &rotation]);
    assert!(aborted.contains("Rolled back"), "{aborted}");
    let after = secrets_of(&estate, 2);
    assert_eq!(after.iter().map(|s| s.0.clone()).collect::<Vec<_>>(), vec![old], "{after:?}");
}

/// The crash matrix for Atlas service-account secrets, against the stand-in: a real `keyward
/// rotate` killed with SIGKILL at every point its steps pass, the account's secrets checked each
/// time, then resumed to the end. (Atlas cannot disable a secret.)
#[test]
fn an_atlas_rotation_killed_after_any_step_keeps_a_working_secret_and_resumes_to_the_end() {
    let points = crash_points_without_disable();
    let (_rt, estate, home) = atlas_estate(100, &shaped);
    let accounts = estate.atlas.provider().state.lock().unwrap().service_accounts.len();
    assert!(accounts >= points.len() + 3, "{accounts} service accounts");
    let mut matrix = Vec::new();
    for (point, index) in points.iter().zip(3..) {
        let old = secrets_of(&estate, index)[0].0.clone();
        let held = || secrets_of(&estate, index).into_iter().map(|(id, value, _)| (id, value)).collect::<Vec<_>>();
        // The account holds a working secret whose value is held: the old one, or the new one
        // sealed with the value Atlas made; no secret but an unrecorded create's is unknown.
        let (new, line) =
            crash_and_resume(&home, &old, point, || assert_a_working_key_is_held(&home, point, &old, &held()));
        assert_eq!(held().into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new], "{point}");
        matrix.push(line);
    }
    eprintln!("atlas crash matrix:\n  {}", matrix.join("\n  "));
}

/// A programmatic API key: the new one gets the old one's org roles, project roles and access
/// list, and a dated description; the vault holds its private key; the key the connector signs
/// in with is refused. A new key that cannot get the old one's access is deleted again (nothing
/// left behind). Killed at every step, a working key is held and the resume ends it.
#[test]
fn an_atlas_programmatic_api_key_is_rotated_with_its_projects_and_access_list() {
    let (_rt, estate, home) = atlas_estate(60, &|s: &mut State| {
        use keyward_fakes::atlas::{AccessEntry, Role};
        for (i, k) in s.api_keys.iter_mut().enumerate() {
            k.desc = format!("pipeline {i}");
            k.roles = vec![
                Role { name: "ORG_READ_ONLY".into(), group_id: None },
                Role { name: "GROUP_READ_ONLY".into(), group_id: Some(format!("{:024x}", 0x9a + i)) },
                Role { name: "GROUP_DATA_ACCESS_READ_ONLY".into(), group_id: Some(format!("{:024x}", 0x9a + i)) },
            ];
            k.access_list = vec![AccessEntry {
                cidr: format!("10.{i}.0.0/16"),
                created: Utc::now(),
                last_used: None,
                last_used_address: None,
                count: 0,
            }];
        }
    });
    let connector_public = estate.atlas_credentials.get("public_key").to_owned();
    let keys = || estate.atlas.provider().state.lock().unwrap().api_keys.clone();
    let others: Vec<keyward_fakes::atlas::ApiKey> =
        keys().into_iter().filter(|k| k.public_key != connector_public).collect();
    assert!(others.len() > 8, "{} keys", others.len());

    // The connector's own key is refused.
    if let Some(own) = keys().into_iter().find(|k| k.public_key == connector_public) {
        let plan = home.run(&["rotate", &id_of(&home, &own.id), "--dry-run"]);
        assert!(stderr(&plan).contains("signs in with"), "{}", stderr(&plan));
    }

    let old = others[0].clone();
    let out = home.run(&["rotate", &id_of(&home, &old.id), "--yes", "--grace", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let now = keys();
    assert!(!now.iter().any(|k| k.id == old.id), "the old key is deleted");
    let new = now.iter().find(|k| k.desc.starts_with("pipeline 0 (rotated ")).expect("the new key").clone();
    let names = |k: &keyward_fakes::atlas::ApiKey| {
        let mut r: Vec<(String, Option<String>)> =
            k.roles.iter().map(|r| (r.name.clone(), r.group_id.clone())).collect();
        r.sort();
        r
    };
    assert_eq!(names(&new), names(&old), "the same org and project roles");
    assert_eq!(
        new.access_list.iter().map(|e| e.cidr.clone()).collect::<Vec<_>>(),
        old.access_list.iter().map(|e| e.cidr.clone()).collect::<Vec<_>>()
    );
    let sealed = home.ok(&["keys", "reveal", &id_of(&home, &new.id)]);
    assert_eq!(sealed.trim(), new.private_key, "the vault holds the private key Atlas made");

    // A project role Atlas refuses for the new key: the new key is deleted again.
    let refused = others[1].clone();
    estate.atlas.provider().state.lock().unwrap().api_keys.iter_mut().find(|k| k.id == refused.id).unwrap().roles[1]
        .name = "PROJECT_OWNER_LEGACY".into();
    let out = home.run(&["rotate", &id_of(&home, &refused.id), "--yes", "--grace", "0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("deleted again"), "{}", stderr(&out));
    let lineage_of_1 = keys().iter().filter(|k| k.desc == "pipeline 1" || k.desc.starts_with("pipeline 1 (")).count();
    assert_eq!(lineage_of_1, 1, "nothing left behind");

    // The crash matrix.
    let points = crash_points_without_disable();
    let mut matrix = Vec::new();
    for (point, old) in points.iter().zip(&others[2..]) {
        let base = old.desc.clone();
        let lineage = || -> Vec<(String, String)> {
            keys()
                .into_iter()
                .filter(|k| k.desc == base || k.desc.starts_with(&format!("{base} (rotated ")))
                .map(|k| (k.id, k.private_key))
                .collect()
        };
        let (new, line) =
            crash_and_resume(&home, &old.id, point, || assert_a_working_key_is_held(&home, point, &old.id, &lineage()));
        assert_eq!(lineage().into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new], "{point}");
        matrix.push(line);
    }
    eprintln!("atlas API key crash matrix:\n  {}", matrix.join("\n  "));
}
