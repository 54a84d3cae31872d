//! Fastly automation tokens: made only in sudo mode, with the user's password typed for the
//! rotation (`--password-stdin`, never stored); refused with why without it, with a wrong one,
//! under forced SSO, or for a connector that is not a superuser's; the new token gets the old
//! one's role, services, scope, TLS access and lifetime; a crash at any step keeps a working
//! token and resumes to the end.

use std::os::unix::process::ExitStatusExt;

use keyward_fakes::estate::FASTLY_PASSWORD;
use keyward_tests::Home;
use serde_json::Value;

use crate::rotation::{assert_a_working_key_is_held, crash_points_without_disable, key, stderr};

/// The Fastly stand-in, connected with the superuser's `global` token (what making automation
/// tokens needs), synced. (The runtime serves the stand-in: keep it.)
fn fastly_estate() -> (tokio::runtime::Runtime, keyward_fakes::estate::Estate, Home) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(keyward_fakes::estate::Estate::start(chrono::Utc::now(), 60)).unwrap();
    let global = "fastly-global-token-of-the-superuser-0001".to_owned();
    {
        let mut s = estate.fastly.provider().state.lock().unwrap();
        let mut t = s.tokens.iter().find(|t| t.name == "keyward-inventory").unwrap().clone();
        (t.id, t.name, t.secret, t.scope) =
            ("keywardrotation0000001".into(), "keyward-rotation".into(), global.clone(), "global".into());
        s.tokens.push(t);
        // Tokens still in force (an expired one is refused: its successor would be expired too),
        // half of them with an end date set by an administrator.
        let now = chrono::Utc::now();
        for (i, t) in s.automation_tokens.iter_mut().enumerate() {
            t.expires_at = (i % 2 == 0).then(|| now + chrono::Duration::days(200 + i as i64));
        }
    }
    let home = Home::initialised();
    let out = home.run_with_input(
        &["connector", "add", "fastly", "--name", "fa", "--endpoint", &estate.fastly.url(), "--credentials-stdin"],
        &format!("token={global}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    home.ok(&["sync"]);
    (rt, estate, home)
}

fn tokens(estate: &keyward_fakes::estate::Estate) -> Vec<keyward_fakes::fastly::Token> {
    estate.fastly.provider().state.lock().unwrap().automation_tokens.clone()
}

// case: fastly:create fastly:delete
#[test]
fn a_fastly_automation_token_is_rotated_in_sudo_mode_with_a_password_never_stored() {
    let (_rt, estate, home) = fastly_estate();
    let all = tokens(&estate);
    let old = all
        .iter()
        .find(|t| t.expires_at.is_some_and(|e| e > chrono::Utc::now()) && !t.services.is_empty())
        .expect("a scoped token that expires later");
    let id = key(&home, &old.id)["id"].as_str().unwrap().to_owned();

    // Without the password: refused at the plan, saying how.
    let plan = home.run(&["rotate", &id, "--dry-run"]);
    assert!(!plan.status.success());
    assert!(
        stderr(&plan).contains("sudo mode, which needs your password") && stderr(&plan).contains("--password-stdin")
    );
    // A wrong password: nothing made, and the refusal says why.
    let wrong = home.run_with_input(&["rotate", &id, "--yes", "--grace", "0", "--password-stdin"], "hunter2\n");
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("refused sudo mode"), "{}", stderr(&wrong));
    assert!(!stderr(&wrong).contains("hunter2"), "the password is never echoed");
    assert_eq!(tokens(&estate).len(), all.len(), "nothing made");
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    home.ok(&["rotations", "abort", r["id"].as_str().unwrap()]);

    // The right one: the new token is made like the old one and checked; the old one revoked.
    let out = home
        .run_with_input(&["rotate", &id, "--yes", "--grace", "0", "--password-stdin"], &format!("{FASTLY_PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let now = tokens(&estate);
    assert!(!now.iter().any(|t| t.id == old.id), "the old token is revoked");
    let new = now.iter().find(|t| t.name == format!("{} (rotated)", old.name)).expect("the new token");
    assert_eq!(
        (&new.role, &new.services, &new.scope, new.tls_access),
        (&old.role, &old.services, &old.scope, old.tls_access)
    );
    let end = |t: &keyward_fakes::fastly::Token| t.expires_at.unwrap().timestamp();
    assert_eq!(end(new), end(old), "the same end date, not extended");
    let sealed = home.ok(&["keys", "reveal", key(&home, &new.id)["id"].as_str().unwrap()]);
    assert_eq!(sealed.trim(), new.secret);

    // The password is nowhere on disk: not in the vault, the log, or any file of the home.
    for entry in walk(home.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!bytes.windows(FASTLY_PASSWORD.len()).any(|w| w == FASTLY_PASSWORD.as_bytes()), "{}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

/// Forced SSO (no sudo mode by API) and a connector whose user is not a superuser are refused
/// with why; nothing is made.
#[test]
fn forced_sso_or_a_connector_that_is_no_superuser_is_refused_with_why() {
    let (_rt, estate, home) = fastly_estate();
    let all = tokens(&estate);
    let id = key(&home, &all[0].id)["id"].as_str().unwrap().to_owned();
    estate.fastly.provider().state.lock().unwrap().sso_enforced = true;
    let out = home
        .run_with_input(&["rotate", &id, "--yes", "--grace", "0", "--password-stdin"], &format!("{FASTLY_PASSWORD}\n"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("forces SSO or MFA"), "{}", stderr(&out));
    assert_eq!(tokens(&estate).len(), all.len());
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    let aborted = home.ok(&["rotations", "abort", r["id"].as_str().unwrap()]);
    assert!(aborted.contains("Rolled back"), "{aborted}");

    let engineer =
        estate.fastly.provider().state.lock().unwrap().users.iter().find(|u| u.role == "engineer").unwrap().id.clone();
    let superuser = estate.fastly.provider().state.lock().unwrap().users[0].id.clone();
    for t in
        estate.fastly.provider().state.lock().unwrap().tokens.iter_mut().filter(|t| t.id == "keywardrotation0000001")
    {
        t.user_id = Some(engineer.clone());
    }
    let plan = home.run_with_input(&["rotate", &id, "--dry-run", "--password-stdin"], &format!("{FASTLY_PASSWORD}\n"));
    assert!(stderr(&plan).contains("only a superuser can make automation tokens"), "{}", stderr(&plan));
    assert_ne!(engineer, superuser);
}

/// Killed after every step (Fastly cannot disable a token, so there is no disable step), the
/// invariant holds and `rotations resume --password-stdin` finishes it.
#[test]
fn a_fastly_rotation_killed_after_any_step_keeps_a_working_token_and_resumes_to_the_end() {
    let (_rt, estate, home) = fastly_estate();
    let points = crash_points_without_disable();
    let mut names = std::collections::BTreeSet::new();
    let candidates: Vec<(String, String)> =
        tokens(&estate).into_iter().filter(|t| names.insert(t.name.clone())).map(|t| (t.id, t.name)).collect();
    assert!(candidates.len() >= points.len(), "{} tokens", candidates.len());
    let mut matrix = Vec::new();
    for (point, (old, name)) in points.iter().zip(candidates) {
        let lineage = || -> Vec<(String, String)> {
            tokens(&estate)
                .into_iter()
                .filter(|t| t.name == name || t.name == format!("{name} (rotated)"))
                .map(|t| (t.id, t.secret))
                .collect()
        };
        let old_id = key(&home, &old)["id"].as_str().unwrap().to_owned();
        let mut crashing = home.command(&["rotate", &old_id, "--yes", "--grace", "0", "--password-stdin"]);
        crashing.env("KEYWARD_ROTATION_CRASH", point).stdin(std::process::Stdio::piped());
        crashing.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = crashing.spawn().unwrap();
        {
            use std::io::Write as _;
            let _ = child.stdin.take().unwrap().write_all(format!("{FASTLY_PASSWORD}\n").as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.signal(), Some(9), "{point}: not killed: {}", stderr(&out));
        assert_a_working_key_is_held(&home, point, &old, &lineage());
        let list = home.json(&["rotations", "list", "--json"]);
        let rotation = list.as_array().unwrap().iter().find(|r| r["key_id"] == old_id.as_str()).unwrap().clone();
        let rid = rotation["id"].as_str().unwrap();
        let resumed =
            home.run_with_input(&["rotations", "resume", rid, "--password-stdin"], &format!("{FASTLY_PASSWORD}\n"));
        assert!(resumed.status.success(), "{point}: resume: {}", stderr(&resumed));
        let after = home.json(&["rotations", "show", rid, "--json"]);
        assert_eq!(after["state"], "done", "{point}: {after}");
        let new = after["new_external_id"].as_str().unwrap().to_owned();
        assert_eq!(lineage().into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![new], "{point}");
        let at = format!(
            "{} ({})",
            rotation["step"].as_str().unwrap(),
            if rotation["step_done"] == Value::Bool(true) { "done" } else { "begun" }
        );
        matrix.push(format!("{point}: journal at {at} → resumed to done"));
    }
    eprintln!("fastly crash matrix:\n  {}", matrix.join("\n  "));
}
