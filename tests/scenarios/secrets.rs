//! A planted secret must never appear anywhere but `keys reveal`: not in the vault file, its
//! WAL or shared memory, the logs, any listing, or the audit.

use keyward_tests::{Home, contains, files_under};

const PLANTED: &str = "lin_api_PLANTEDsecretVALUE0123456789abcdefXYZ";

#[test]
fn a_planted_secret_leaves_no_trace_outside_reveal() {
    let mut home = Home::initialised();
    home.set_env("KEYWARD_LOG", "trace");
    // Hold a reader open so the WAL outlives each CLI process (SQLite removes it when the last
    // connection closes): the secret's row is then in the WAL when we search it.
    let reader =
        rusqlite::Connection::open_with_flags(home.path().join("vault.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let _: i64 = reader.query_row("SELECT COUNT(*) FROM api_keys", [], |r| r.get(0)).unwrap();
    let out = home.run_with_input(
        &["keys", "add", "--provider", "linear", "--name", "planted", "--owner", "ops"],
        &format!("{PLANTED}\n"),
    );
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let mut outputs = Vec::new();
    for args in
        [&["keys", "list", "--json"][..], &["keys", "list"], &["audit", "--json"], &["audit"], &["connector", "list"]]
    {
        let out = home.run(args);
        assert!(out.status.success());
        outputs.push((format!("{args:?}"), out.stdout));
        outputs.push((format!("{args:?} stderr"), out.stderr));
    }
    for (what, bytes) in &outputs {
        assert!(!contains(bytes, PLANTED.as_bytes()), "secret found in {what}");
    }

    // Reveal works, so the secret really is in the vault, sealed. Then look at every file in
    // the home: the vault, its WAL and shared memory, the log.
    assert_eq!(home.ok(&["keys", "reveal", &id]).trim(), PLANTED);
    let files = files_under(home.path());
    assert!(files.iter().any(|f| f.ends_with("vault.db")));
    let wal = home.path().join("vault.db-wal");
    let sealed: Vec<u8> = reader.query_row("SELECT secret FROM api_keys WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    assert!(contains(&std::fs::read(&wal).unwrap(), &sealed), "the WAL holds the new row, sealed");
    assert!(files.iter().any(|f| f.ends_with("keyward.log")), "the log exists and was searched");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, PLANTED.as_bytes()), "secret found in {}", file.display());
        // Nor any long substring of it.
        assert!(!contains(&bytes, &PLANTED.as_bytes()[8..32]), "part of the secret found in {}", file.display());
    }
    drop(reader);
    let log = std::fs::read_to_string(home.path().join("keyward.log")).unwrap();
    assert!(log.contains("secret revealed"), "the reveal was logged (without the secret)");
}

/// The leak sweep (issue 11): known secrets planted through every way one enters Keyward — a key
/// registered by hand, a connector's credentials, a webhook's URL and signing key, a key found
/// in a file (held by Keyward, and unknown) — and then every output searched: each listing and
/// report in every format, the activity log, failed provider calls and webhook deliveries (whose
/// errors quote what came back), and every file of the home with the log at trace level.
/// Rotation adds its own entry point when it lands (issue 13).
#[test]
fn every_way_in_for_a_secret_leaves_it_nowhere_outside_reveal() {
    let _heavy = keyward_tests::heavy_test();
    const MANUAL: &str = "lin_api_SWEEPmanualKEY0123456789abcdefghijKLMN";
    const DD_API: &str = "5f1e8c0d9b2a47e6a3c1d0e9f8b7a6c5";
    const DD_APP: &str = "9a8b7c6d5e4f30211f2e3d4c5b6a79881a2b3c4d";
    const HOOK_PATH: &str = "T0SWEEP01/B0SWEEP02/sweepWebhookPathSecret99";
    const GITHUB: &str = "ghp_SweepUnknownToken0123456789abcdefABC";
    let mut home = Home::initialised();
    home.set_env("KEYWARD_LOG", "trace");
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |what: &str, out: std::process::Output| {
        outputs.push((what.to_owned(), out.stdout));
        outputs.push((format!("{what} (stderr)"), out.stderr));
    };

    // In by hand.
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "sweep"], &format!("{MANUAL}\n"));
    assert!(out.status.success());
    let manual_id = String::from_utf8(out.stdout.clone()).unwrap().trim().to_owned();
    keep("keys add", out);
    // A connector's credentials, pointed at a port where nothing answers: its errors are searched.
    let out = home.run_with_input(
        &["connector", "add", "datadog", "--name", "dd", "--endpoint", "http://127.0.0.1:9", "--credentials-stdin"],
        &format!("api_key={DD_API}\napp_key={DD_APP}\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    keep("connector add", out);
    keep("connector test", home.run(&["connector", "test", "dd"]));
    keep("sync", home.run(&["sync"]));
    // A webhook whose URL path is the secret, delivered to a listener that fails every delivery.
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/services/{HOOK_PATH}", hook.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in hook.incoming().flatten() {
            use std::io::{Read as _, Write as _};
            let mut s = s;
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!",
            );
        }
    });
    let out = home.run_with_input(&["notify", "webhook", "add", "team", "--kind", "json"], &url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The signing key is printed once, by design; it is searched for everywhere else.
    let printed = String::from_utf8(out.stdout.clone()).unwrap();
    let signing_key = printed.split_whitespace().max_by_key(|w| w.len()).unwrap().to_owned();
    assert!(signing_key.len() >= 16, "{printed}");
    keep("webhook add (stderr only)", std::process::Output { stdout: Vec::new(), ..out });
    keep("webhook test", home.run(&["notify", "webhook", "test", "team"]));
    // Found in files: the manual key (held) and an unknown GitHub token.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join(".env"), format!("LINEAR_API_KEY={MANUAL}\nGITHUB_TOKEN={GITHUB}\n")).unwrap();
    let out = home.run(&["scan", project.path().to_str().unwrap(), "--json"]);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = hits.as_array().unwrap();
    assert!(hits.iter().any(|h| h["inventory_key_id"] == manual_id.as_str()), "the held key was found: {hits:?}");
    assert!(hits.iter().any(|h| h["provider"] == "github" && !h["shadow_key_id"].is_null()), "{hits:?}");
    keep("scan --json", out);
    keep("audit --notify", home.run(&["audit", "--notify"]));

    // Every listing and report.
    for args in [
        &["keys", "list", "--json"][..],
        &["keys", "list", "--all"],
        &["connector", "list"],
        &["findings", "list", "--json"],
        &["findings", "list"],
        &["exposures", "--all", "--json"],
        &["exposures", "--key", &manual_id],
        &["shadow", "list", "--json"],
        &["notify", "webhook", "list"],
        &["notify", "log", "--json"],
        &["log", "--json"],
        &["log"],
        &["scan-config", "--json"],
        &["resources", "--json"],
        &["report", "--format", "json"],
        &["report", "--format", "csv"],
        &["report", "--format", "sarif"],
        &["report", "--format", "ocsf"],
        &["report", "--format", "html"],
    ] {
        keep(&format!("{args:?}"), home.run(args));
    }
    assert_eq!(home.ok(&["keys", "reveal", &manual_id]).trim(), MANUAL, "the secret is really in the vault");

    let planted = [MANUAL, DD_API, DD_APP, HOOK_PATH, GITHUB, signing_key.as_str()];
    for (what, bytes) in &outputs {
        for secret in planted {
            assert!(!contains(bytes, secret.as_bytes()), "{secret} in the output of {what}");
        }
    }
    let files = files_under(home.path());
    let log = std::fs::read_to_string(home.path().join("keyward.log")).unwrap();
    assert!(log.contains(" TRACE "), "the log was written at trace level (the HTTP stack's own lines)");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in planted {
            assert!(!contains(&bytes, secret.as_bytes()), "{secret} in {}", file.display());
            assert!(!contains(&bytes, &secret.as_bytes()[4..20]), "part of {secret} in {}", file.display());
        }
    }
}
