//! What a new user hit in one afternoon (issue 18), each as it was reproduced: commands of one
//! home run side by side without "database is locked", a scan marks gone only what it read,
//! and the demo never writes into a vault that holds anything.

use keyward_tests::Home;
use serde_json::Value;

const GITHUB: &str = "ghp_ReliabilityScenario0123456789abcdefg";

/// The "N new, M gone" of a scan's summary line.
fn new_and_gone(stderr: &str) -> (u64, u64) {
    let after = |word: &str| -> u64 {
        let end = stderr.find(word).unwrap_or_else(|| panic!("no {word:?} in {stderr}"));
        let digits: String =
            stderr[..end].chars().rev().skip_while(|c| *c == ' ').take_while(char::is_ascii_digit).collect();
        digits.chars().rev().collect::<String>().parse().unwrap()
    };
    (after(" new,"), after(" gone;"))
}

fn scan(home: &Home, dir: &std::path::Path, extra: &[&str]) -> (u64, u64) {
    let mut args = vec!["scan", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = home.run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    new_and_gone(&stderr)
}

fn current_exposures(home: &Home) -> usize {
    home.json(&["exposures", "--json"]).as_array().unwrap().len()
}

#[test]
fn a_scan_marks_gone_only_what_it_read() {
    let home = Home::initialised();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.yaml"), format!("github:\n  token: {GITHUB}\n")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing here\n").unwrap();
    assert_eq!(scan(&home, dir.path(), &[]), (1, 0));
    // At once again (within the same second, usually): nothing is new, nothing is gone.
    assert_eq!(scan(&home, dir.path(), &[]), (0, 0));
    assert_eq!(scan(&home, dir.path(), &[]), (0, 0));
    // A file left out was not read: what it held is not gone.
    assert_eq!(scan(&home, dir.path(), &["--exclude", "*.yaml"]), (0, 0));
    assert_eq!(scan(&home, dir.path(), &["--max-file-size", "0"]), (0, 0));
    assert_eq!(scan(&home, &dir.path().join("notes.txt"), &[]), (0, 0));
    assert_eq!(current_exposures(&home), 1);
    // Read, and no longer holding the key: gone.
    std::fs::write(dir.path().join("settings.yaml"), "github:\n  token: ${GITHUB_TOKEN}\n").unwrap();
    assert_eq!(scan(&home, dir.path(), &[]), (0, 1));
    assert_eq!(current_exposures(&home), 0);
    // Back again: new again.
    std::fs::write(dir.path().join("settings.yaml"), format!("github:\n  token: {GITHUB}\n")).unwrap();
    assert_eq!(scan(&home, dir.path(), &[]), (1, 0));
}

#[test]
fn the_demo_refuses_a_vault_that_holds_anything() {
    let home = Home::initialised();
    let added = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "mine"], GITHUB);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let out = home.run(&["demo"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the demo went into a used vault: {stderr}");
    assert!(stderr.contains("already holds 1 keys") && stderr.contains("--home"), "{stderr}");
    let keys = home.json(&["keys", "list", "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(home.json(&["connector", "list", "--json"]), Value::Array(vec![]));
}

/// The daemon, the app and the CLI share one vault: commands run side by side wait for each
/// other and never fail for a lock.
#[test]
fn commands_of_one_home_run_side_by_side() {
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join(".env"), format!("GH={GITHUB}\n")).unwrap();
    let scan_args = ["scan", project.path().to_str().unwrap()];
    let pairs: [(&[&str], &[&str]); 3] = [(&["sync"], &["sync"]), (&["audit"], &["audit"]), (&scan_args, &["sync"])];
    let mut failures = Vec::new();
    for round in 0..4 {
        for (a, b) in pairs {
            let spawn = |args: &[&str]| {
                home.command(args)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            };
            let (first, second) = (spawn(a), spawn(b));
            for (args, child) in [(a, first), (b, second)] {
                let out = child.wait_with_output().unwrap();
                if !out.status.success() {
                    failures.push(format!("round {round}: {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of 24 commands failed:\n{}", failures.len(), failures.join("\n"));
}
