//! The security review's holes (issue 11), each as a user or an attacker would meet it.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use keyward_tests::Home;

fn mode(p: &Path) -> u32 {
    p.symlink_metadata().unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

/// Under the usual umask (022) the home is 0700 and every file Keyward writes 0600 — the vault
/// with its WAL and shared memory, the log, the policy — and a vault opened with looser modes
/// (a restored backup, an older Keyward) is tightened and the user told.
#[test]
fn the_home_and_its_files_are_private_to_their_user() {
    let home = Home::new();
    let dir = home.path().join("kw");
    // Under umask 022, as most shells run; `input` on standard input.
    let keyward = |args: &[&str], input: &str| {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("umask 022; exec \"$@\"")
            .arg("sh")
            .arg(keyward_tests::built_binary("keyward"))
            .arg("--home")
            .arg(&dir)
            .args(args)
            .env("KEYWARD_PASSPHRASE", "correct horse battery staple")
            .env_remove("KEYWARD_HOME")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    keyward(&["init"], "");
    keyward(&["policy", "init"], "");
    // Another connection holds the vault open, so the WAL and shared memory stay to be checked.
    let held = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    let _: i64 = held.query_row("SELECT COUNT(*) FROM api_keys", [], |r| r.get(0)).unwrap();
    keyward(
        &["keys", "add", "--provider", "linear", "--name", "ci"],
        "lin_api_HardeningScenario0123456789abcdefghABCDEF",
    );
    assert_eq!(mode(&dir), 0o700);
    for f in ["vault.db", "keyward.log", "policy.toml", "vault.db-wal", "vault.db-shm"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    drop(held);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.join("vault.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir.join("keyward.log"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let said = keyward(&["keys", "list"], "");
    assert!(said.contains("vault.db was readable by other users (mode 644); now 600"), "{said}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("vault.db")), 0o600);
    assert_eq!(mode(&dir.join("keyward.log")), 0o600);
    // Said once: nothing left to fix.
    assert!(!keyward(&["keys", "list"], "").contains("readable by other users"));
}

/// The passphrase given in the environment is gone from it once read (a child such as `git`
/// does not inherit it, `/proc/PID/environ` does not show it), and a crash writes no core.
#[test]
fn a_running_keyward_keeps_no_passphrase_in_its_environment_and_dumps_no_core() {
    let home = Home::initialised();
    // Started with core dumps allowed, so the limit it ends with is its own doing.
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -c unlimited 2>/dev/null || ulimit -c \"$(ulimit -H -c)\"; exec \"$@\"")
        .arg("sh")
        .arg(keyward_tests::built_binary("keyward"))
        .arg("--home")
        .arg(home.path())
        .args(["daemon", "--max-jitter", "0"])
        .env("KEYWARD_PASSPHRASE", keyward_tests::PASSPHRASE)
        .env_remove("KEYWARD_HOME")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    // The daemon prints its schedule once it has opened the vault: past start-up.
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", child.id()));
    let environ = std::fs::read(proc_dir.join("environ")).unwrap_or_default();
    let limits = std::fs::read_to_string(proc_dir.join("limits")).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(!first.is_empty(), "the daemon did not start");
    let core_limit = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap_or("").to_owned();
    assert_eq!(core_limit.split_whitespace().nth(4), Some("0"), "core dumps still on: {core_limit}");
    assert!(!environ.is_empty(), "the environment could not be read");
    assert!(
        !keyward_tests::contains(&environ, keyward_tests::PASSPHRASE.as_bytes()),
        "the passphrase is still in /proc/PID/environ"
    );
    assert!(!keyward_tests::contains(&environ, b"KEYWARD_PASSPHRASE="), "the variable is still set");
}

/// Whoever can write `vault.db` (a synced folder, a restored backup, another local process) but
/// lacks the passphrase cannot point a connector at their host — the next sync would have sent
/// it the credentials — nor widen the scan or give consents.
#[test]
fn rows_changed_in_the_file_are_not_obeyed() {
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    let thief = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    thief.set_nonblocking(true).unwrap();
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE connectors SET settings = json_set(settings, '$.endpoint', ?1, '$.demo', json('false'))
             WHERE name = 'demo-datadog'",
            [format!("http://{}", thief.local_addr().unwrap())],
        )
        .unwrap();
    assert_eq!(changed, 1);
    db.execute(
        "INSERT INTO settings (key, value) VALUES ('scan', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [r#"{"folders":["/"],"excludes":[],"git_history":true,"verify":["datadog","fastly"]}"#],
    )
    .unwrap();
    drop(db);

    let out = home.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("demo-datadog") && stderr.contains("changed outside Keyward"), "{stderr}");
    assert!(thief.accept().is_err(), "the credentials were sent to the address written into the file");
    assert!(home.ok(&["connector", "list"]).contains("settings changed outside Keyward"));
    // The scan goes on without that connector's credentials.
    let project = tempfile::tempdir().unwrap();
    home.ok(&["scan", project.path().to_str().unwrap()]);
    // The other connectors sync on.
    home.ok(&["sync", "--connector", "demo-fastly"]);

    let config = home.ok(&["scan-config"]);
    assert!(config.contains("git history in the scheduled scan: off"), "{config}");
    assert!(config.contains("found keys may be checked with: -"), "{config}");
    assert!(!config.contains("folders: /\n"), "{config}");

    // Edited back to look like a vault from before row MACs (schema 4), so that the upgrade
    // would trust its rows: still not obeyed (only the vault's key can make it look old).
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    db.execute_batch(
        "ALTER TABLE connectors DROP COLUMN settings_mac; ALTER TABLE connectors DROP COLUMN removed_at;
         ALTER TABLE settings DROP COLUMN mac; ALTER TABLE sync_runs DROP COLUMN pid;
         ALTER TABLE exposures DROP COLUMN path_bytes; ALTER TABLE activity DROP COLUMN mac;
         ALTER TABLE vault_meta DROP COLUMN recovery_master; DROP TABLE leases; DROP TABLE rotation_proposals;
         DROP TABLE rotation_events; DROP TABLE rotation_handovers; DROP TABLE rotations; DROP TABLE not_keys;
         ALTER TABLE exposures DROP COLUMN confidence;
             ALTER TABLE sync_runs DROP COLUMN api_calls; ALTER TABLE sync_runs DROP COLUMN api_calls_by_operation;
            ALTER TABLE audit_runs DROP COLUMN open_critical; ALTER TABLE audit_runs DROP COLUMN open_high; ALTER TABLE audit_runs DROP COLUMN open_medium; ALTER TABLE audit_runs DROP COLUMN open_low; ALTER TABLE audit_runs DROP COLUMN risk; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(db);
    let out = home.run(&["sync", "--connector", "demo-datadog"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("changed outside Keyward"), "{stderr}");
    assert!(thief.accept().is_err(), "the credentials were sent after the downgrade");
    assert!(home.ok(&["scan-config"]).contains("found keys may be checked with: -"));
    // Nor is the activity log re-chained as if it were old: its head beside the vault says not.
    let out = home.run(&["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tampered with"));
}

/// Every action a user would want to answer for lands in the activity log, and an edit, a
/// deletion or a rollback of the log is told by `keyward log verify` (exit 1, the entry) and by
/// the app (see desktop.rs).
#[test]
fn the_activity_log_records_what_was_done_and_tells_tampering() {
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    home.ok(&["connector", "add", "aws", "--name", "prod", "--region", "eu-west-1"]);
    let out = home.run_with_input(
        &["keys", "add", "--provider", "linear", "--name", "deploy bot"],
        "lin_api_0123456789abcdefghijklmnopqrstuvwxyzABCD\n",
    );
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    home.ok(&["keys", "reveal", &key]);
    let project = tempfile::tempdir().unwrap();
    home.ok(&["scan-config", "--add-folder", project.path().to_str().unwrap(), "--verify-consent", "datadog"]);
    home.ok(&["report", "--format", "csv"]);
    let log = home.json(&["log", "--json"]);
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for expected in ["connector.add", "key.add", "key.reveal", "sync", "scan", "audit", "settings.scan", "export"] {
        assert!(actions.contains(&expected), "{expected} not logged: {actions:?}");
    }
    let consent = log.as_array().unwrap().iter().find(|a| a["action"] == "settings.scan").unwrap();
    assert!(consent["detail"].as_str().unwrap().contains("check consent added: [\"datadog\"]"), "{consent}");
    let ok = home.ok(&["log", "verify"]);
    assert!(ok.contains("intact") && ok.contains(&format!("{} entries", actions.len())), "{ok}");

    // Someone with write access to the file hides that consent was given.
    let id = consent["id"].as_i64().unwrap();
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    db.execute("UPDATE activity SET detail = 'folders added: []' WHERE id = ?1", [id]).unwrap();
    drop(db);
    let out = home.run(&["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("entry {id} was changed")), "{stderr}");
    let out = home.run(&["log", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((check["intact"].as_bool(), check["first_bad"].as_i64()), (Some(false), Some(id)));

    // Or deletes the newest entries.
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    db.execute("DELETE FROM activity WHERE id >= ?1", [id]).unwrap();
    drop(db);
    let out = home.run(&["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deleted from its end"));
}

/// An endpoint that would carry credentials in the clear is refused when it is given.
#[test]
fn a_plain_http_endpoint_off_this_machine_is_refused() {
    let mut home = Home::initialised();
    home.set_env("DD_API_KEY", "0123456789abcdef0123456789abcdef");
    home.set_env("DD_APP_KEY", "0123456789abcdef0123456789abcdef01234567");
    let out = home.run(&["connector", "add", "datadog", "--name", "dd", "--endpoint", "http://dd.example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(home.json(&["connector", "list", "--json"]), serde_json::json!([]));
}

/// A vault file whose structure was changed by hand gives a clear error, not a screen of SQL.
#[test]
fn a_damaged_vault_structure_is_said_without_sql() {
    let home = Home::initialised();
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    db.execute_batch("ALTER TABLE api_keys RENAME COLUMN name TO nom").unwrap();
    drop(db);
    let out = home.run(&["keys", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("SELECT") && !stderr.contains("FROM api_keys"), "{stderr}");
    assert!(stderr.contains("structure is not what this Keyward expects"), "{stderr}");
}

/// The passphrase need not sit in the environment: a file, a file descriptor, or a prompt
/// without echo on a terminal.
#[test]
fn the_passphrase_comes_from_a_file_a_descriptor_or_a_prompt() {
    let home = Home::initialised();
    let bin = keyward_tests::built_binary("keyward");
    let file = home.path().join("passphrase");
    std::fs::write(&file, format!("{}\n", keyward_tests::PASSPHRASE)).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(&bin)
            .arg("--home")
            .arg(home.path())
            .args(extra)
            .args(["keys", "list"])
            .env_remove("KEYWARD_PASSPHRASE")
            .env_remove("KEYWARD_HOME")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&["--passphrase-file", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wrong = home.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let out = run(&["--passphrase-file", wrong.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"), "{out:?}");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("exec \"$@\" 3< \"$PASSFILE\"")
        .arg("sh")
        .arg(&bin)
        .arg("--home")
        .arg(home.path())
        .args(["--passphrase-fd", "3", "keys", "list"])
        .env("PASSFILE", &file)
        .env_remove("KEYWARD_PASSPHRASE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // At a terminal, with nothing given: asked for, not echoed.
    let command = format!("{} --home {} keys list", bin.display(), home.path().display());
    let (status, screen) = keyward_tests::on_terminal(&command, &[], "(input hidden)", keyward_tests::PASSPHRASE);
    assert!(status.success(), "{screen}");
    assert!(screen.contains("Passphrase of the vault (input hidden): "), "{screen}");
    assert!(!screen.contains(keyward_tests::PASSPHRASE), "the passphrase was echoed: {screen}");
    assert!(screen.contains("No keys yet"), "{screen}");
}

/// The passphrase can change, and the master key can move to the keychain and back: only the
/// wrapping of the master key changes, so every secret still opens.
#[test]
fn the_passphrase_changes_and_the_master_key_moves_without_re_encrypting() {
    let mut home = Home::initialised();
    let secret = "lin_api_ProtectionScenario0123456789abcdefghABCD";
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "kept"], secret);
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let new = home.path().join("new-passphrase");
    std::fs::write(&new, "a new and longer passphrase\n").unwrap();
    home.ok(&["passphrase", "change", "--new-passphrase-file", new.to_str().unwrap()]);
    let old = home.run(&["keys", "list"]);
    assert!(String::from_utf8_lossy(&old.stderr).contains("wrong passphrase"), "{old:?}");
    home.set_env("KEYWARD_PASSPHRASE", "a new and longer passphrase");
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), secret);
    let refused = home.run(&["passphrase", "change"]);
    assert_eq!(refused.status.code(), Some(1), "no new passphrase given, no terminal");

    // To the keychain and back, where a keychain runs (make test starts one).
    if std::env::var_os("KEYWARD_REQUIRE_KEYCHAIN").is_none() {
        eprintln!("skipped the keychain half: no test session keychain");
        return;
    }
    home.ok(&["protect", "keychain"]);
    home.env.retain(|(k, _)| k != "KEYWARD_PASSPHRASE");
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), secret, "opened from the keychain");
    home.ok(&["protect", "passphrase", "--new-passphrase-file", new.to_str().unwrap()]);
    assert!(home.run(&["keys", "list"]).status.code() == Some(1), "the keychain no longer opens it");
    home.set_env("KEYWARD_PASSPHRASE", "a new and longer passphrase");
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), secret);
}

/// A vault whose passphrase is forgotten, or whose keychain entry is gone (a new machine), opens
/// with the printed recovery key and is protected anew; the key is nowhere Keyward writes.
#[test]
fn a_lost_passphrase_or_keychain_is_recovered_with_the_recovery_kit() {
    let mut home = Home::initialised();
    let secret = "lin_api_RecoveryScenario0123456789abcdefghijABCD";
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "kept"], secret);
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(home.ok(&["recovery", "status"]).contains("No recovery kit"));
    let kit = home.ok(&["recovery", "kit"]);
    let key = kit.lines().find_map(|l| l.strip_prefix("Recovery key: ")).unwrap().trim().to_owned();
    assert_eq!(key.len(), 69, "{kit}");
    assert_eq!(home.run(&["recovery", "kit"]).status.code(), Some(1), "a second kit only with --replace");

    // The passphrase is forgotten.
    home.env.retain(|(k, _)| k != "KEYWARD_PASSPHRASE");
    let key_file = tempfile::NamedTempFile::new().unwrap();
    let new_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(new_file.path(), "the passphrase after recovery\n").unwrap();
    // A typo, then a key that is not this vault's, are told apart.
    let mut typo: Vec<char> = key.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    std::fs::write(key_file.path(), typo.iter().collect::<String>()).unwrap();
    let recover = |home: &Home| {
        home.run(&[
            "recover",
            "--recovery-key-file",
            key_file.path().to_str().unwrap(),
            "--to",
            "passphrase",
            "--new-passphrase-file",
            new_file.path().to_str().unwrap(),
        ])
    };
    let out = recover(&home);
    assert!(String::from_utf8_lossy(&out.stderr).contains("typo"), "{out:?}");
    let other = Home::initialised();
    let other_key = other.ok(&["recovery", "kit"]);
    let other_key = other_key.lines().find_map(|l| l.strip_prefix("Recovery key: ")).unwrap().trim().to_owned();
    std::fs::write(key_file.path(), &other_key).unwrap();
    let out = recover(&home);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open this vault"), "{out:?}");
    std::fs::write(key_file.path(), format!("{}\n", key.to_lowercase())).unwrap();
    let out = recover(&home);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    home.set_env("KEYWARD_PASSPHRASE", "the passphrase after recovery");
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), secret);
    assert!(home.ok(&["log", "--action", "vault.recover"]).contains("opened with the recovery key"));
    // The recovery key itself is in no file of the home.
    for f in keyward_tests::files_under(home.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()), "recovery key in {}", f.display());
    }

    // A removed kit opens nothing.
    home.ok(&["recovery", "remove"]);
    let out = recover(&home);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no recovery kit"), "{out:?}");

    // Keychain-protected, on a "new machine" whose keychain lacks the entry.
    if std::env::var_os("KEYWARD_REQUIRE_KEYCHAIN").is_none() {
        eprintln!("skipped the keychain half: no test session keychain");
        return;
    }
    let kit = home.ok(&["recovery", "kit"]);
    let key = kit.lines().find_map(|l| l.strip_prefix("Recovery key: ")).unwrap().trim().to_owned();
    home.ok(&["protect", "keychain"]);
    home.env.retain(|(k, _)| k != "KEYWARD_PASSPHRASE");
    let vault_id = kit.lines().find_map(|l| l.strip_prefix("Vault: ")).unwrap().trim().to_owned();
    keyring::Entry::new("keyward", &format!("vault-{vault_id}")).unwrap().delete_credential().unwrap();
    let out = home.run(&["keys", "list"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no master key"), "{out:?}");
    // The kit as printed (header and all) is a valid key file.
    std::fs::write(key_file.path(), &kit).unwrap();
    assert!(kit.contains(&key));
    home.ok(&["recover", "--recovery-key-file", key_file.path().to_str().unwrap()]);
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), secret, "opened from the new keychain entry");
}
