//! Fault injection (issue 11): a process killed half-way, a damaged sealed value, a disk that
//! fills up. Each must end in a clear error or a consistent vault, and nothing that was there
//! may be lost.

use std::process::Stdio;
use std::time::Duration;

use keyward_tests::Home;

/// What a home holds, to compare before and after a fault.
fn inventory(home: &Home) -> (usize, usize) {
    let keys = home.json(&["keys", "list", "--json"]).as_array().unwrap().len();
    let findings = home.json(&["findings", "list", "--json"]).as_array().unwrap().len();
    (keys, findings)
}

fn integrity_ok(home: &Home) {
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    let result: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(result, "ok");
}

/// SIGKILL during a sync, an audit and a scan, at several moments: the next start finds a
/// consistent vault (SQLite's WAL rolls the cut-off transaction back), the killed sync is
/// closed as interrupted, the activity log still verifies, and a sync afterwards gives the
/// same inventory as before.
#[test]
fn a_command_killed_half_way_leaves_a_consistent_vault() {
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    let before = inventory(&home);
    let project = home.path().join("demo-project");
    let project = project.to_str().unwrap();
    for args in [&["sync"][..], &["audit"], &["scan", project]] {
        for after_ms in [50u64, 250, 600] {
            let mut child =
                home.command(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(after_ms));
            let _ = child.kill(); // SIGKILL: no destructor, no handler runs.
            let _ = child.wait();
            integrity_ok(&home);
            let check = home.run(&["log", "verify"]);
            assert!(
                check.status.success(),
                "{args:?} killed after {after_ms} ms: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    home.ok(&["sync"]);
    home.ok(&["audit"]);
    assert_eq!(inventory(&home), before, "a killed command lost or added something");
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    let running: i64 =
        db.query_row("SELECT COUNT(*) FROM sync_runs WHERE status = 'running'", [], |r| r.get(0)).unwrap();
    assert_eq!(running, 0, "a killed sync's run was left running");
}

/// One flipped byte in one sealed secret: that secret is a clear error; every other one opens,
/// and listing, audit and sync go on.
#[test]
fn a_damaged_sealed_value_is_a_clear_error_and_nothing_else_is_lost() {
    let home = Home::initialised();
    let mut ids = Vec::new();
    for (name, secret) in [
        ("one", "lin_api_FaultOne0123456789abcdefghijklmnopqrsABCD"),
        ("two", "lin_api_FaultTwo0123456789abcdefghijklmnopqrsABCD"),
    ] {
        let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", name], secret);
        assert!(out.status.success());
        ids.push((String::from_utf8(out.stdout).unwrap().trim().to_owned(), secret));
    }
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    let mut sealed: Vec<u8> =
        db.query_row("SELECT secret FROM api_keys WHERE id = ?1", [&ids[0].0], |r| r.get(0)).unwrap();
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x01;
    db.execute("UPDATE api_keys SET secret = ?1 WHERE id = ?2", rusqlite::params![sealed, ids[0].0]).unwrap();
    drop(db);
    let out = home.run(&["keys", "reveal", &ids[0].0]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sealed value could not be opened"), "{stderr}");
    assert_eq!(home.ok(&["keys", "reveal", &ids[1].0]).trim(), ids[1].1);
    assert_eq!(home.json(&["keys", "list", "--json"]).as_array().unwrap().len(), 2);
    home.ok(&["audit"]);
    integrity_ok(&home);
}

/// The disk fills up during a sync (the process may write no file past 64 KiB: the WAL soon
/// cannot grow): a clear error, and afterwards, with room again, the vault holds everything it
/// held and syncs.
#[test]
fn a_full_disk_is_a_clear_error_and_the_vault_is_kept() {
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    let before = inventory(&home);
    // Ignore SIGXFSZ (inherited through exec) so that writes fail with EFBIG, as on a full disk,
    // instead of killing the process.
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; exec prlimit --fsize=65536 -- \"$@\"")
        .arg("sh")
        .arg(keyward_tests::built_binary("keyward"))
        .arg("--home")
        .arg(home.path())
        .args(["sync"]);
    cmd.env_remove("KEYWARD_HOME").env_remove("KEYWARD_LOG");
    for (k, v) in &home.env {
        cmd.env(k, v);
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the sync did not fail on a full disk: {stderr}");
    assert!(stderr.contains("is the disk full?") && stderr.contains("not written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    integrity_ok(&home);
    assert_eq!(inventory(&home), before);
    home.ok(&["sync"]);
    assert_eq!(inventory(&home).0, before.0);
    assert!(home.run(&["log", "verify"]).status.success());
}
