//! Rotating IAM access keys against moto with SigV4 checked (`--auth`): the connector acts as an
//! administrator, and a new key is verified by signing STS `GetCallerIdentity` with it, so a
//! wrong stored secret would fail. The plan, the run, the grace period, the two-key limit, and a
//! real `keyward` killed with SIGKILL after every step and resumed.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use keyward_tests::{Home, MotoEstate};
use serde_json::Value;

/// A moto estate with an operator, connected and synced.
fn estate(users: usize, seed: u64) -> (MotoEstate, Home) {
    let moto = MotoEstate::start(users, seed, &["--no-root-key", "--auth", "--operator"]);
    let mut home = Home::initialised();
    moto.configure_operator(&mut home);
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    home.ok(&["sync"]);
    (moto, home)
}

/// The users of the estate holding exactly `n` keys, with how many are active.
fn users_with(moto: &MotoEstate, n: usize, active: usize) -> Vec<String> {
    let keys = moto.truth["keys"].as_array().unwrap();
    let mut users: Vec<String> = keys.iter().map(|k| k["owner"].as_str().unwrap().to_owned()).collect();
    users.sort();
    users.dedup();
    users
        .into_iter()
        .filter(|u| u != "keyward-operator")
        .filter(|u| {
            let theirs: Vec<&Value> = keys.iter().filter(|k| k["owner"] == u.as_str()).collect();
            theirs.len() == n && theirs.iter().filter(|k| k["status"] == "active").count() == active
        })
        .collect()
}

/// Keyward's key (from `keys list --all`) with this provider id.
pub(crate) fn key(home: &Home, external_id: &str) -> Value {
    let all = home.json(&["keys", "list", "--json", "--all"]);
    all.as_array().unwrap().iter().find(|k| k["external_id"] == external_id).cloned().unwrap_or(Value::Null)
}

/// The active key id of `user` as the truth seeded it.
fn active_key_of(moto: &MotoEstate, user: &str) -> String {
    moto.truth["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["owner"] == user && k["status"] == "active")
        .unwrap()["external_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The Datadog stand-in with `keys` keys of each kind, its connector's key allowed to create and
/// delete API keys, connected as `dd` and synced. (The runtime serves the stand-in: keep it.)
pub(crate) fn datadog_estate(keys: usize) -> (tokio::runtime::Runtime, keyward_fakes::estate::Estate, Home) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(keyward_fakes::estate::Estate::start(chrono::Utc::now(), keys)).unwrap();
    estate.datadog.provider().permissions.lock().unwrap().extend(["api_keys_write".into(), "api_keys_delete".into()]);
    let home = datadog_connected(&estate);
    (rt, estate, home)
}

/// A home with the Datadog stand-in connected as `dd`, synced.
fn datadog_connected(estate: &keyward_fakes::estate::Estate) -> Home {
    let home = Home::initialised();
    let creds = format!(
        "api_key={}\napp_key={}\n",
        estate.datadog_credentials.get("api_key"),
        estate.datadog_credentials.get("app_key")
    );
    let out = home.run_with_input(
        &["connector", "add", "datadog", "--name", "dd", "--endpoint", &estate.datadog.url(), "--credentials-stdin"],
        &creds,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    home.ok(&["sync"]);
    home
}

/// An API key of the Datadog stand-in's org, as `keys list --json` shows it, that is not the
/// one the connector signs in with.
pub(crate) fn datadog_api_key_not_the_connectors(estate: &keyward_fakes::estate::Estate, home: &Home) -> Value {
    let own = estate.datadog_credentials.get("api_key").to_owned();
    let own_id =
        estate.datadog.provider().state.lock().unwrap().api_keys.iter().find(|k| k.secret == own).map(|k| k.id.clone());
    let keys = home.json(&["keys", "list", "--json"]);
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "api_key" && k["external_id"].as_str().map(str::to_owned) != own_id)
        .unwrap()
        .clone()
}

// case: aws:create aws:disable aws:delete
#[test]
fn an_iam_key_is_rotated_through_its_grace_period_and_the_new_secret_is_the_one_aws_accepts() {
    let (mut moto, home) = estate(12, 21);
    let user = users_with(&moto, 1, 1).into_iter().next().expect("a user with one active key");
    let old = active_key_of(&moto, &user);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();

    // The plan says what will happen and changes nothing.
    let dry = home.ok(&["rotate", &old_id, "--dry-run"]);
    assert!(dry.contains(&format!("owner {user}")), "{dry}");
    assert!(dry.contains(&format!("disable the old key {old}")), "{dry}");
    assert!(dry.contains("Dry run: nothing changed."), "{dry}");
    assert_eq!(moto.keys_of(&user), vec![(old.clone(), true)]);
    // Without a terminal and without --yes, nothing happens either.
    let refused = home.run(&["rotate", &old_id]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("pass --yes"), "{}", stderr(&refused));

    let out = home.run(&["rotate", &old_id, "--yes", "--grace", "20s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let held = moto.keys_of(&user);
    assert_eq!(held.len(), 2, "{held:?}");
    let new = held.iter().find(|(id, _)| *id != old).unwrap().0.clone();
    assert!(held.contains(&(old.clone(), false)), "the old key is disabled for the grace period: {held:?}");
    assert!(held.contains(&(new.clone(), true)), "{held:?}");
    assert!(said.contains(&format!("Rotated: {new} is the new key; the old {old} is deleted after")), "{said}");
    for step in ["created key", "the provider accepts the new key", "disabled the old key", "grace period until"] {
        assert!(stderr(&out).contains(step), "no {step:?} in {}", stderr(&out));
    }

    // The vault holds the new key's secret: the one AWS checks signatures with (moto --auth).
    let new_key = key(&home, &new);
    assert_eq!(new_key["has_secret"], true, "{new_key}");
    assert_eq!(new_key["owner"], user.as_str());
    assert_eq!(key(&home, &old)["status"], "inactive");
    let secret = home.ok(&["keys", "reveal", new_key["id"].as_str().unwrap()]);
    let mut signed = Home::initialised();
    moto.configure(&mut signed);
    signed.set_env("AWS_ACCESS_KEY_ID", &new);
    signed.set_env("AWS_SECRET_ACCESS_KEY", secret.trim());
    signed.set_env("AWS_MAX_ATTEMPTS", "1");
    signed.ok(&["connector", "add", "aws", "--name", "as-the-new-key"]);
    // `connector test` exits 1 when a check fails (the user may lack IAM read permissions):
    // what matters is that AWS took the signature.
    let test = |h: &Home| -> Value {
        serde_json::from_slice(&h.run(&["connector", "test", "as-the-new-key", "--json"]).stdout).unwrap()
    };
    let checks = test(&signed);
    assert_eq!(
        checks[0]["what"], "iam:GetAccountAuthorizationDetails",
        "STS accepted the new pair, then IAM answered as its user: {checks}"
    );
    signed.set_env("AWS_SECRET_ACCESS_KEY", "wrong-secret-wrong-secret-wrong-secret-00");
    let wrong = test(&signed);
    assert_eq!(
        wrong[0]["what"], "credentials",
        "a wrong secret is refused, so the check above meant something: {wrong}"
    );

    // Before the grace period ends nothing is due; after it, `rotations resume` deletes the old.
    assert!(home.ok(&["rotations", "resume"]).contains("No rotation is past its grace period."));
    let until = home.json(&["rotations", "list", "--json"])[0]["grace_until"].as_str().unwrap().to_owned();
    let until = chrono::DateTime::parse_from_rfc3339(&until).unwrap().with_timezone(&chrono::Utc);
    std::thread::sleep(
        (until - chrono::Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(300),
    );
    let finished = home.ok(&["rotations", "resume"]);
    assert!(finished.contains(&format!("Rotated: {old} replaced by {new}")), "{finished}");
    assert_eq!(moto.keys_of(&user), vec![(new.clone(), true)]);
    assert!(key(&home, &old)["removed_at"].is_string());

    // The journal and the activity log tell the story; a sync agrees with the vault.
    let list = home.json(&["rotations", "list", "--json"]);
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(list[0]["state"], "done");
    let shown = home.json(&["rotations", "show", id, "--json"]);
    let steps: Vec<String> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["step"].as_str().unwrap(), e["phase"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            "plan:done",
            "create:begin",
            "create:done",
            "verify:begin",
            "verify:done",
            "handover:begin",
            "handover:done",
            "disable:begin",
            "disable:done",
            "grace:begin",
            "delete:begin",
            "delete:done"
        ],
        "{shown}"
    );
    let log = home.ok(&["log", "--action", "rotation"]);
    assert!(log.contains("delete done"), "{log}");
    // (Fields change: the verify signed a call with the new key, so IAM now reports its last use.)
    let synced = home.ok(&["sync"]);
    assert!(synced.contains("(0 new,") && synced.contains(", 0 removed)"), "{synced}");
    // Nothing printed or logged holds the secret, and no file of the home holds it in plaintext
    // (the vault, its WAL, the log, the activity head).
    for text in [&said, &stderr(&out), &finished, &log, &shown.to_string()] {
        assert!(!text.contains(secret.trim()), "the new secret leaked");
    }
    for file in keyward_tests::files_under(home.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!keyward_tests::contains(&bytes, secret.trim().as_bytes()), "{} holds the new secret", file.display());
    }
}

#[test]
fn the_two_key_limit_is_respected_and_only_an_inactive_key_makes_room() {
    let (mut moto, home) = estate(40, 5);
    // Two active keys: refused, nothing created.
    let busy = users_with(&moto, 2, 2).into_iter().next().expect("a user with two active keys");
    let one = active_key_of(&moto, &busy);
    let busy_id = key(&home, &one)["id"].as_str().unwrap().to_owned();
    let before = moto.keys_of(&busy);
    let out = home.run(&["rotate", &busy_id, "--yes", "--delete-inactive"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the other is active"), "{}", stderr(&out));
    assert_eq!(moto.keys_of(&busy), before);

    // One active, one inactive: refused without consent, done with it (the inactive one goes).
    let roomy = users_with(&moto, 2, 1).into_iter().next().expect("a user with an active and an inactive key");
    let active = active_key_of(&moto, &roomy);
    let inactive = moto.keys_of(&roomy).into_iter().find(|(_, on)| !on).unwrap().0;
    let roomy_id = key(&home, &active)["id"].as_str().unwrap().to_owned();
    let out = home.run(&["rotate", &roomy_id, "--yes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--delete-inactive"), "{}", stderr(&out));
    let out = home.run(&["rotate", &roomy_id, "--yes", "--grace", "0", "--delete-inactive"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let held = moto.keys_of(&roomy);
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0].1 && held[0].0 != active && held[0].0 != inactive, "{held:?}");
    assert!(key(&home, &inactive)["removed_at"].is_string());
}

/// Where the crash tests stop a real `keyward rotate`: after each journal write, and once
/// between the provider's answer to the create and the write that records it.
pub(crate) const CRASH_POINTS: &[&str] = &[
    "create:begin",
    "create:called",
    "create:done",
    "verify:begin",
    "verify:done",
    "handover:begin",
    "handover:done",
    "disable:begin",
    "disable:done",
    "grace:begin",
    "delete:begin",
    "delete:done",
];

/// [`CRASH_POINTS`] of a provider that cannot disable a key (no disable step to stop in).
pub(crate) fn crash_points_without_disable() -> Vec<&'static str> {
    CRASH_POINTS.iter().copied().filter(|p| !p.starts_with("disable:")).collect()
}

/// One cell of a crash matrix: `keyward rotate` of the key the provider knows as `old`, killed
/// with SIGKILL at `point`; `inspect` then checks the provider's state; then `rotations resume`
/// to `done`. Returns the new key's provider id and the matrix line (where the journal stood).
pub(crate) fn crash_and_resume(home: &Home, old: &str, point: &str, inspect: impl FnOnce()) -> (String, String) {
    let old_id = key(home, old)["id"].as_str().unwrap().to_owned();
    let mut crashing = home.command(&["rotate", &old_id, "--yes", "--grace", "0"]);
    crashing.env("KEYWARD_ROTATION_CRASH", point);
    let out = crashing.output().unwrap();
    assert_eq!(out.status.signal(), Some(9), "{point}: not killed: {}", stderr(&out));
    inspect();
    let list = home.json(&["rotations", "list", "--json"]);
    let rotation = list.as_array().unwrap().iter().find(|r| r["key_id"] == old_id.as_str()).unwrap().clone();
    let id = rotation["id"].as_str().unwrap();
    let resumed = home.run(&["rotations", "resume", id]);
    assert!(resumed.status.success(), "{point}: resume: {}", stderr(&resumed));
    let after = home.json(&["rotations", "show", id, "--json"]);
    assert_eq!(after["state"], "done", "{point}: {after}");
    let at = format!(
        "{} ({})",
        rotation["step"].as_str().unwrap(),
        if rotation["step_done"] == true { "done" } else { "begun" }
    );
    (after["new_external_id"].as_str().unwrap().to_owned(), format!("{point}: journal at {at} → resumed to done"))
}

/// The invariant right after a crash, against `held` (the provider's keys of the rotation's
/// lineage, as id and secret): one is the old key, or a key sealed in the vault with exactly the
/// value the provider made; none is unknown to the vault but the one an unrecorded create left.
pub(crate) fn assert_a_working_key_is_held(home: &Home, point: &str, old: &str, held: &[(String, String)]) {
    let usable = held.iter().any(|(id, secret)| {
        id == old || {
            let k = key(home, id);
            k["has_secret"] == true && home.ok(&["keys", "reveal", k["id"].as_str().unwrap()]).trim() == secret
        }
    });
    assert!(usable, "{point}: {held:?}");
    let unknown = held.iter().filter(|(id, _)| id != old && key(home, id).is_null()).count();
    assert_eq!(unknown, usize::from(point == "create:called"), "{point}: {held:?}");
}

#[test]
fn a_rotation_killed_after_any_step_keeps_a_working_key_and_resumes_to_the_end() {
    let (mut moto, home) = estate(60, 8);
    let users = users_with(&moto, 1, 1);
    assert!(users.len() >= CRASH_POINTS.len(), "the estate has {} single-key users", users.len());
    let mut matrix = Vec::new();
    for (point, user) in CRASH_POINTS.iter().zip(users) {
        let old = active_key_of(&moto, &user);
        let (new, line) = crash_and_resume(&home, &old, point, || {
            // The invariant, against IAM itself: a working key whose secret is held (the old
            // one, which its user holds, or the new one, sealed in the vault).
            let held = moto.keys_of(&user);
            let usable = held.iter().any(|(id, active)| {
                *active
                    && (*id == old || key(&home, id)["has_secret"] == true && key(&home, id)["removed_at"].is_null())
            });
            assert!(usable, "{point}: no working key whose secret is held: {held:?}");
            // Every key IAM holds is one the vault knows, except the one a create left before
            // its answer was recorded (the resume deletes it).
            let unknown: Vec<&String> =
                held.iter().map(|(id, _)| id).filter(|id| **id != old && key(&home, id).is_null()).collect();
            if *point == "create:called" {
                assert_eq!(unknown.len(), 1, "{point}: {held:?}");
            } else {
                assert!(unknown.is_empty(), "{point}: unknown keys {unknown:?}");
            }
        });
        assert_eq!(moto.keys_of(&user), vec![(new.clone(), true)], "{point}");
        assert_eq!(key(&home, &new)["has_secret"], true, "{point}");
        assert!(key(&home, &old)["removed_at"].is_string(), "{point}");
        matrix.push(line);
    }
    eprintln!("aws crash matrix:\n  {}", matrix.join("\n  "));
    // The vault and IAM agree after every resume.
    let synced = home.ok(&["sync"]);
    assert!(synced.contains("(0 new,") && synced.contains(", 0 removed)"), "{synced}");
}

#[test]
fn a_new_key_the_provider_rejects_is_rolled_back_and_an_abort_brings_the_old_key_back() {
    let (mut moto, mut home) = estate(30, 13);
    let users = users_with(&moto, 1, 1);
    let (first, second) = (&users[0], &users[1]);

    // Killed right after the create is recorded; meanwhile someone deletes the new key at AWS.
    let old = active_key_of(&moto, first);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    let mut crashing = home.command(&["rotate", &old_id, "--yes", "--grace", "0"]);
    crashing.env("KEYWARD_ROTATION_CRASH", "create:done");
    assert_eq!(crashing.output().unwrap().status.signal(), Some(9));
    let new = moto.keys_of(first).into_iter().find(|(id, _)| *id != old).unwrap().0;
    moto.tell(&format!("delete_key {first} {new}"));
    // The resume cannot get the new key accepted: it rolls back, and the old key is untouched.
    home.set_env("KEYWARD_ROTATION_SETTLE_SECS", "3");
    let id = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    let out = home.run(&["rotations", "resume", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("Rolled back: the provider did not accept the new key {new} within 3 s")), "{said}");
    assert_eq!(moto.keys_of(first), vec![(old.clone(), true)]);
    assert_eq!(key(&home, &old)["status"], "active");
    assert!(key(&home, &new)["removed_at"].is_string());
    assert_eq!(home.json(&["rotations", "show", &id, "--json"])["state"], "rolled_back");

    // An abort in the grace period: the old key is enabled again and the new one deleted.
    let old = active_key_of(&moto, second);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    home.ok(&["rotate", &old_id, "--yes", "--grace", "1h"]);
    assert!(moto.keys_of(second).contains(&(old.clone(), false)));
    let id = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    let aborted = home.ok(&["rotations", "abort", &id]);
    assert!(aborted.contains("Rolled back: aborted by the user"), "{aborted}");
    assert_eq!(moto.keys_of(second), vec![(old.clone(), true)]);
    assert_eq!(key(&home, &old)["status"], "active");
    // An ended rotation cannot be aborted again, and a new one may begin.
    let again = home.run(&["rotations", "abort", &id]);
    assert!(stderr(&again).contains("has already ended"), "{}", stderr(&again));
    home.ok(&["rotate", &old_id, "--dry-run"]);
}

/// The scheduler ends grace periods: `keyward daemon` deletes the old key of a rotation whose
/// grace period is over, as its `rotations` job; the team's webhook hears each turn, with the
/// key's owner named.
#[test]
fn the_daemon_deletes_the_old_key_when_the_grace_period_ends() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = rt
        .block_on(keyward_fakes::server::FakeServer::start(keyward_fakes::webhook::Receiver::signed(
            "whsec-rotation-0123456789",
        )))
        .unwrap();
    let (mut moto, mut home) = estate(10, 17);
    home.set_env("KEYWARD_WEBHOOK_URL", &format!("{}/hook", receiver.url()));
    home.set_env("KEYWARD_WEBHOOK_SECRET", "whsec-rotation-0123456789");
    home.ok(&["notify", "webhook", "add", "team", "--kind", "json"]);
    let user = users_with(&moto, 1, 1).into_iter().next().unwrap();
    let old = active_key_of(&moto, &user);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    home.ok(&["rotate", &old_id, "--yes", "--grace", "2s"]);
    assert_eq!(moto.keys_of(&user).len(), 2);
    let ids = home.schedule_only("rotations", "* * * * * *");
    assert!(ids.contains(&"rotations".to_owned()), "{ids:?}");

    let mut daemon =
        home.command(&["daemon", "--max-jitter", "0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let lines = BufReader::new(daemon.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("finished rotations") && line.contains("1 rotations finished") {
            break;
        }
        assert!(seen.len() < 200, "the daemon never finished the rotation: {seen:#?}");
    }
    let _ = std::process::Command::new("kill").arg("-TERM").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
    let held = moto.keys_of(&user);
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0].0 != old && held[0].1, "{held:?}");
    assert_eq!(home.json(&["rotations", "list", "--json"])[0]["state"], "done");
    let heard: Vec<(String, String)> = receiver
        .provider()
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.body["event"].as_str().unwrap_or_default().to_owned(),
                r.body["title"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let events: Vec<&str> = heard.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(events, ["rotation.started", "rotation.succeeded", "rotation.finished"], "{heard:?}");
    assert!(heard.iter().all(|(_, title)| title.contains(&format!("(owner {user})"))), "{heard:?}");
    assert_eq!(*receiver.provider().refused.lock().unwrap(), 0, "every signature verified");
}

/// What must never be rotated or acted on: the key the connector itself signs in with, and a
/// journal row edited to point at someone else's key. And an abort interrupted before the old
/// key was enabled again is finished by the next abort (the old key comes back, then the new
/// one goes).
#[test]
fn an_own_key_or_an_edited_journal_is_refused_and_an_interrupted_abort_finishes() {
    let (mut moto, home) = estate(20, 29);
    let operator = moto.truth["operator"]["access_key_id"].as_str().unwrap().to_owned();
    let own = key(&home, &operator)["id"].as_str().unwrap().to_owned();
    let out = home.run(&["rotate", &own, "--yes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is the key connector prod signs in with"), "{}", stderr(&out));
    assert_eq!(moto.keys_of("keyward-operator"), vec![(operator.clone(), true)]);

    let users = users_with(&moto, 1, 1);
    let (first, victim) = (&users[0], &users[1]);
    let old = active_key_of(&moto, first);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    home.ok(&["rotate", &old_id, "--yes", "--grace", "1h"]);
    let id = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();

    // The row edited to make the old key another user's: nothing is done to either user.
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    let victim_key = active_key_of(&moto, victim);
    db.execute("UPDATE rotations SET owner = ?1, old_external_id = ?2 WHERE id = ?3", [victim, &victim_key, &id])
        .unwrap();
    for verb in ["abort", "resume"] {
        let out = home.run(&["rotations", verb, &id]);
        assert!(!out.status.success(), "{verb}");
        assert!(stderr(&out).contains("stored data unreadable"), "{verb}: {}", stderr(&out));
    }
    assert_eq!(moto.keys_of(victim), vec![(victim_key.clone(), true)]);
    db.execute("UPDATE rotations SET owner = ?1, old_external_id = ?2 WHERE id = ?3", [first, &old, &id]).unwrap();

    // Abort killed right after it journaled the enable of the old key, before making it.
    let mut aborting = home.command(&["rotations", "abort", &id]);
    aborting.env("KEYWARD_ROTATION_CRASH", "undo_disable:begin");
    assert_eq!(aborting.output().unwrap().status.signal(), Some(9));
    assert!(moto.keys_of(first).contains(&(old.clone(), false)), "still disabled");
    let again = home.ok(&["rotations", "abort", &id]);
    assert!(again.contains("Rolled back: aborted by the user"), "{again}");
    assert_eq!(moto.keys_of(first), vec![(old.clone(), true)], "the old key is back and the new one gone");
}

/// A Datadog API key, against the stand-in: the new key is made with the old one's name and a
/// mark, validated, and the old one (which Datadog cannot disable) keeps working until the
/// grace period ends; an abort deletes the new key and leaves the old one as it was.
#[test]
fn a_datadog_api_key_is_rotated_and_an_abort_leaves_the_old_one_working() {
    let (_rt, estate, home) = datadog_estate(12);
    let dd = estate.datadog.provider();
    let keys = home.json(&["keys", "list", "--json"]);
    // Not the key the connector signs in with (that one is refused, as the plan says).
    let own = estate.datadog_credentials.get("api_key").to_owned();
    let own_id = dd.state.lock().unwrap().api_keys.iter().find(|k| k.secret == own).map(|k| k.id.clone());
    let api_keys: Vec<&Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == "api_key" && k["external_id"].as_str().map(str::to_owned) != own_id)
        .collect();
    if let Some(own_id) = &own_id {
        let refused = home.run(&["rotate", key(&home, own_id)["id"].as_str().unwrap(), "--dry-run"]);
        assert!(stderr(&refused).contains("signs in with"), "{}", stderr(&refused));
    }
    let (first, second) = (api_keys[0].clone(), api_keys[1].clone());
    let ids = |s: &keyward_fakes::datadog::State| -> Vec<String> { s.api_keys.iter().map(|k| k.id.clone()).collect() };

    let plan = home.ok(&["rotate", first["id"].as_str().unwrap(), "--dry-run"]);
    assert!(plan.contains("keep the old key working for"), "Datadog keys cannot be disabled: {plan}");
    let out = home.run(&["rotate", first["id"].as_str().unwrap(), "--yes", "--grace", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let list = home.json(&["rotations", "list", "--json"]);
    let new_id = list[0]["new_external_id"].as_str().unwrap().to_owned();
    assert!(said.contains(&format!("replaced by {new_id}")), "{said}");
    {
        let s = dd.state.lock().unwrap();
        assert!(!ids(&s).contains(&first["external_id"].as_str().unwrap().to_owned()), "the old key is deleted");
        let new = s.api_keys.iter().find(|k| k.id == new_id).expect("the new key is in the org");
        assert_eq!(new.name, format!("{} (rotated)", first["name"].as_str().unwrap()));
        let new_key = key(&home, &new_id);
        let revealed = home.ok(&["keys", "reveal", new_key["id"].as_str().unwrap()]);
        assert_eq!(revealed.trim(), new.secret, "the vault holds the secret Datadog made");
    }

    // In its grace period the old key still works; the abort deletes the new one.
    home.ok(&["rotate", second["id"].as_str().unwrap(), "--yes", "--grace", "1h"]);
    let rotation = home.json(&["rotations", "list", "--json"])[0].clone();
    let (id, made) = (rotation["id"].as_str().unwrap(), rotation["new_external_id"].as_str().unwrap().to_owned());
    assert!(ids(&dd.state.lock().unwrap()).contains(&second["external_id"].as_str().unwrap().to_owned()));
    let aborted = home.ok(&["rotations", "abort", id]);
    assert!(aborted.contains("Rolled back: aborted by the user"), "{aborted}");
    let now = ids(&dd.state.lock().unwrap());
    assert!(now.contains(&second["external_id"].as_str().unwrap().to_owned()) && !now.contains(&made), "{now:?}");
}

/// The hand-over to the files that use the key: `~/.aws/credentials`-style profiles and `.env`
/// files get the new id and secret on exactly their two lines (comments, order, other profiles,
/// the file's mode kept); prose is left to the user; an abort puts every file back byte for
/// byte; a file changed between the plan and the write is refused, never overwritten; a kill
/// between the backup and the write is resumed; after the grace period the places still
/// holding the old key are named.
#[test]
fn the_new_key_is_handed_over_to_the_files_that_use_it_and_taken_back_on_abort() {
    use std::os::unix::fs::PermissionsExt;
    let (mut moto, home) = estate(12, 31);
    let users = users_with(&moto, 1, 1);
    let user = &users[0];
    let old = active_key_of(&moto, user);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join(".aws")).unwrap();
    let credentials = project.path().join(".aws/credentials");
    let original_credentials = format!(
        "# team keys, do not reorder\n[default]\naws_access_key_id = AKIAOTHERPROFILE0001\naws_secret_access_key = other\n\n\
         [app]\nregion = eu-west-1\naws_access_key_id = {old}\n# rotated by hand last year\n\
         aws_secret_access_key=old-secret-value-0000000000000000000000\nmfa_serial = arn:aws:iam::1:mfa/ana\n"
    );
    std::fs::write(&credentials, &original_credentials).unwrap();
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o640)).unwrap();
    let env = project.path().join(".env");
    let original_env =
        format!("export AWS_ACCESS_KEY_ID=\"{old}\"\nAWS_SECRET_ACCESS_KEY='old-env-secret'\nPORT=8080\n");
    std::fs::write(&env, &original_env).unwrap();
    let notes = project.path().join("NOTES.md");
    std::fs::write(&notes, format!("The deploy key is {old}, ask Ana.\n")).unwrap();
    home.ok(&["scan", project.path().to_str().unwrap()]);

    let plan = home.ok(&["rotate", &old_id, "--dry-run"]);
    assert!(plan.contains("write the new key into 2 files"), "{plan}");
    assert!(
        plan.contains(&format!("{}:8  aws_access_key_id = {old} → (the new key's id)", credentials.display())),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("{}:10  aws_secret_access_key = •••• → (the new secret)", credentials.display())),
        "{plan}"
    );
    assert!(plan.contains(&format!("{}: not a credentials or environment file", notes.display())), "{plan}");
    assert!(!plan.contains("old-secret-value") && !plan.contains("old-env-secret"), "{plan}");

    // Rotated into its grace period: both files hold the new pair, nothing else changed.
    let out = home.run(&["rotate", &old_id, "--yes", "--grace", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rotation = home.json(&["rotations", "list", "--json"])[0].clone();
    let id = rotation["id"].as_str().unwrap().to_owned();
    let new = rotation["new_external_id"].as_str().unwrap().to_owned();
    let secret = home.ok(&["keys", "reveal", rotation["new_key_id"].as_str().unwrap()]).trim().to_owned();
    let want_credentials = original_credentials
        .replace(&format!("aws_access_key_id = {old}"), &format!("aws_access_key_id = {new}"))
        .replace("old-secret-value-0000000000000000000000", &secret);
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), want_credentials);
    assert_eq!(std::fs::metadata(&credentials).unwrap().permissions().mode() & 0o777, 0o640, "the file's mode kept");
    let want_env = original_env.replace(&old, &new).replace("old-env-secret", &secret);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), want_env);
    assert!(std::fs::read_to_string(&notes).unwrap().contains(&old), "prose is the user's");
    assert!(!stderr(&out).contains(&secret) && !String::from_utf8_lossy(&out.stdout).contains(&secret));
    // No copy of the old file is left in plaintext beside it.
    let names: Vec<String> =
        std::fs::read_dir(project.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(std::fs::read_dir(project.path().join(".aws")).unwrap().count(), 1);

    // Abort: every file as it was, byte for byte.
    home.ok(&["rotations", "abort", &id]);
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), original_credentials);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), original_env);
    assert_eq!(moto.keys_of(user), vec![(old.clone(), true)]);

    // Killed right after a file was replaced, before that was recorded: the abort still knows
    // what it wrote, and puts it back.
    let mut crashing = home.command(&["rotate", &old_id, "--yes", "--grace", "1h"]);
    crashing.env("KEYWARD_ROTATION_CRASH", "handover:replaced");
    assert_eq!(crashing.output().unwrap().status.signal(), Some(9));
    let changed = [&credentials, &env].iter().filter(|p| !std::fs::read_to_string(p).unwrap().contains(&old)).count();
    assert_eq!(changed, 1, "one file was replaced before the kill");
    let id = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    home.ok(&["rotations", "abort", &id]);
    assert_eq!(std::fs::read_to_string(&credentials).unwrap(), original_credentials);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), original_env);

    // Killed after the verify; the user edits .env meanwhile: it is refused, the rest written.
    let mut crashing = home.command(&["rotate", &old_id, "--yes", "--grace", "0"]);
    crashing.env("KEYWARD_ROTATION_CRASH", "verify:done");
    assert_eq!(crashing.output().unwrap().status.signal(), Some(9));
    std::fs::write(&env, format!("{original_env}DEBUG=1\n")).unwrap();
    let id = home.json(&["rotations", "list", "--json"])[0]["id"].as_str().unwrap().to_owned();
    let mut resuming = home.command(&["rotations", "resume", &id]);
    resuming.env("KEYWARD_ROTATION_CRASH", "handover:writing");
    assert_eq!(resuming.output().unwrap().status.signal(), Some(9), "killed between the backup and the write");
    let out = home.run(&["rotations", "resume", &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(".env: changed since the rotation was planned: not overwritten"), "{}", stderr(&out));
    let shown = home.json(&["rotations", "show", &id, "--json"]);
    assert_eq!(shown["state"], "failed");
    let state_of = |path: &std::path::Path| -> String {
        let all = shown["handovers"].as_array().unwrap();
        let h = all.iter().find(|h| h["path"] == path.to_str().unwrap()).unwrap_or_else(|| panic!("{shown}"));
        h["state"].as_str().unwrap().to_owned()
    };
    assert_eq!((state_of(&credentials), state_of(&env)), ("written".into(), "refused".into()), "{shown}");
    let new = shown["new_external_id"].as_str().unwrap().to_owned();
    assert!(std::fs::read_to_string(&credentials).unwrap().contains(&new));
    assert!(std::fs::read_to_string(&env).unwrap().contains(&old), "the user's file is not overwritten");
    // The user updates .env by hand and resumes: the old key is deleted, and the places still
    // holding it are named.
    std::fs::write(&env, "PORT=8080\n").unwrap();
    let out = home.run(&["rotations", "resume", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("is still in {}", notes.display())), "{}", stderr(&out));
    assert_eq!(moto.keys_of(user), vec![(new.clone(), true)]);
}

/// A hook of the user's gets the new secret on its standard input once AWS accepts the new key
/// (for a secret manager, a CI variable); a hook that fails leaves the rotation waiting for the
/// user, the old key still working.
#[test]
fn a_hook_gets_the_new_secret_on_its_input_and_a_failing_one_stops_the_rotation() {
    let (mut moto, mut home) = estate(12, 37);
    let users = users_with(&moto, 1, 1);
    let out_dir = tempfile::tempdir().unwrap();
    let got = out_dir.path().join("got");
    home.set_env("HOOK_OUT", got.to_str().unwrap());

    let old = active_key_of(&moto, &users[0]);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    let hook = r#"cat > "$HOOK_OUT"; echo "$KEYWARD_NEW_EXTERNAL_ID" >> "$HOOK_OUT""#;
    let plan = home.ok(&["rotate", &old_id, "--dry-run", "--hook", hook]);
    assert!(plan.contains("with the new secret on its standard input"), "{plan}");
    let out = home.run(&["rotate", &old_id, "--yes", "--grace", "0", "--hook", hook]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    let secret = home.ok(&["keys", "reveal", r["new_key_id"].as_str().unwrap()]).trim().to_owned();
    let new = r["new_external_id"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(&got).unwrap(), format!("{secret}{new}\n"));

    let old = active_key_of(&moto, &users[1]);
    let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
    let out = home.run(&["rotate", &old_id, "--yes", "--grace", "0", "--hook", "exit 3"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the hook `exit 3`: failed"), "{}", stderr(&out));
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    assert_eq!(r["state"], "failed");
    assert!(moto.keys_of(&users[1]).contains(&(old.clone(), true)), "the old key still works");
    home.ok(&["rotations", "abort", r["id"].as_str().unwrap()]);
    assert_eq!(moto.keys_of(&users[1]), vec![(old, true)]);
}

/// The crash matrix for Datadog API keys, against the stand-in: a real `keyward rotate` killed
/// with SIGKILL at every point its steps pass, the org's keys checked each time, then resumed to
/// the end. (Datadog cannot disable a key, so there is no disable step to stop in.)
#[test]
fn a_datadog_rotation_killed_after_any_step_keeps_a_working_key_and_resumes_to_the_end() {
    let points = crash_points_without_disable();
    let (_rt, estate, home) = datadog_estate(60);
    let dd = estate.datadog.provider();
    let own = estate.datadog_credentials.get("api_key").to_owned();
    let own_last4 = own[own.len() - 4..].to_owned();
    let org = |f: &dyn Fn(&keyward_fakes::datadog::Key) -> bool| -> Vec<(String, String)> {
        dd.state.lock().unwrap().api_keys.iter().filter(|k| f(k)).map(|k| (k.id.clone(), k.secret.clone())).collect()
    };
    // Keys with distinct names, none sharing the connector's last four.
    let mut names = std::collections::BTreeSet::new();
    let candidates: Vec<(String, String)> = dd
        .state
        .lock()
        .unwrap()
        .api_keys
        .iter()
        .filter(|k| !k.secret.ends_with(&own_last4) && names.insert(k.name.clone()))
        .map(|k| (k.id.clone(), k.name.clone()))
        .collect();
    assert!(candidates.len() >= points.len(), "{} keys to rotate", candidates.len());
    let mut matrix = Vec::new();
    for (point, (old, name)) in points.iter().zip(candidates) {
        let lineage = || org(&|k| k.name == name || k.name == format!("{name} (rotated)"));
        // The org holds a working key whose secret is held: the old one (the user's), or the
        // new one, sealed in the vault with the very value Datadog made.
        let (new, line) =
            crash_and_resume(&home, &old, point, || assert_a_working_key_is_held(&home, point, &old, &lineage()));
        assert_eq!(lineage().into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new], "{point}");
        matrix.push(line);
    }
    eprintln!("datadog crash matrix:\n  {}", matrix.join("\n  "));
}

/// Datadog application keys: a service account's key is rotated with its scopes, by a crash at
/// any step as well (the invariant held, resumed to the end); the connector's own user's key is
/// made under `current_user`; another person's key is refused with why (Datadog makes keys only
/// for the caller or a service account).
// case: datadog:create datadog:delete
#[test]
fn datadog_application_keys_of_a_service_account_or_the_connectors_user_rotate_and_survive_a_crash() {
    let points = crash_points_without_disable();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(keyward_fakes::estate::Estate::start(chrono::Utc::now(), 12)).unwrap();
    let dd = estate.datadog.provider();
    dd.permissions.lock().unwrap().extend(["user_app_keys".into(), "service_account_write".into()]);
    let (me, sa, other) = {
        let mut s = dd.state.lock().unwrap();
        let me = s.users[0].id.clone();
        let sa = s.users.iter().find(|u| u.service_account).unwrap().id.clone();
        let other = s.users.iter().find(|u| !u.service_account && u.id != me).unwrap().id.clone();
        let template = s.app_keys[0].clone();
        let mut add = |owner: &str, name: String, scopes: Option<Vec<String>>| {
            let n = s.app_keys.len();
            s.app_keys.push(keyward_fakes::datadog::Key {
                id: format!("seeded-app-key-{n:04}"),
                name,
                secret: format!("{:0>40}", format!("{n}f00d")),
                owner: owner.to_owned(),
                scopes,
                ..template.clone()
            });
        };
        for i in 0..points.len() {
            add(&sa, format!("sa-crash-{i}"), Some(vec!["dashboards_read".into(), "monitors_read".into()]));
        }
        add(&me, "mine".into(), None);
        add(&other, "someone-elses".into(), None);
        (me, sa, other)
    };
    let home = datadog_connected(&estate);
    let seeded = |name: &str| -> keyward_fakes::datadog::Key {
        dd.state.lock().unwrap().app_keys.iter().find(|k| k.name == name).unwrap().clone()
    };

    // Another person's key: refused, with why.
    let theirs = key(&home, &seeded("someone-elses").id);
    let refused = home.run(&["rotate", theirs["id"].as_str().unwrap(), "--dry-run"]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("only for the caller or a service account"), "{}", stderr(&refused));
    assert!(dd.state.lock().unwrap().app_keys.iter().all(|k| k.owner != other || k.name == "someone-elses"));

    // The connector's own user's key: made under current_user, for the same user.
    let mine = seeded("mine");
    home.ok(&["rotate", key(&home, &mine.id)["id"].as_str().unwrap(), "--yes", "--grace", "0"]);
    {
        let s = dd.state.lock().unwrap();
        assert!(!s.app_keys.iter().any(|k| k.id == mine.id), "the old key is deleted");
        let new = s.app_keys.iter().find(|k| k.name == "mine (rotated)").expect("the new key");
        assert_eq!((&new.owner, &new.scopes), (&me, &None));
        let sealed = home.ok(&["keys", "reveal", key(&home, &new.id)["id"].as_str().unwrap()]);
        assert_eq!(sealed.trim(), new.secret, "the vault holds the secret Datadog made");
    }

    // A service account's keys, killed at every step.
    let mut matrix = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let name = format!("sa-crash-{i}");
        let old = seeded(&name).id;
        let lineage = || -> Vec<(String, String)> {
            let s = dd.state.lock().unwrap();
            s.app_keys
                .iter()
                .filter(|k| k.name == name || k.name == format!("{name} (rotated)"))
                .map(|k| (k.id.clone(), k.secret.clone()))
                .collect()
        };
        let (new, line) =
            crash_and_resume(&home, &old, point, || assert_a_working_key_is_held(&home, point, &old, &lineage()));
        assert_eq!(lineage().into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new.clone()], "{point}");
        let made = dd.state.lock().unwrap().app_keys.iter().find(|k| k.id == new).unwrap().clone();
        assert_eq!(made.owner, sa, "{point}: made for the same service account");
        assert_eq!(made.scopes, Some(vec!["dashboards_read".into(), "monitors_read".into()]), "{point}: same scopes");
        matrix.push(line);
    }
    eprintln!("datadog application key crash matrix:\n  {}", matrix.join("\n  "));
}
