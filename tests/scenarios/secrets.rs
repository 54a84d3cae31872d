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
