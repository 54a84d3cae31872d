//! `keyward scan` end to end: hits as JSON with redacted excerpts, inventoried keys matched by
//! the keyed hash of their secret, unknown keys as shadow keys (link, dismiss), consumer
//! locations, exposures gone when the file is fixed, git history, the default locations under
//! `$HOME`, progress on stderr, clear errors — and the planted secrets nowhere but in the files
//! they were planted in.

use keyward_tests::{Home, contains, files_under};
use serde_json::Value;

const LINEAR: &str = "lin_api_ScanScenario0123456789abcdefghABCDEFGHIJ";
const GITHUB: &str = "ghp_ScanScenarioToken0123456789abcdefghi";
const PLAIN: &str = "Tm90QUZvcm1hdEtleXdhcmRIb2xkc1RoaXM";
const LINEAR_OLD: &str = "lin_api_OldScanScenario0123456789abcdefghABCDEFG";

fn hits_of(v: &Value) -> Vec<(String, u64, String, String, Option<String>)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["path"].as_str().unwrap().rsplit('/').next().unwrap().to_owned(),
                h["line"].as_u64().unwrap(),
                h["provider"].as_str().unwrap().to_owned(),
                h["kind"].as_str().unwrap().to_owned(),
                h["inventory_key_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn scan_matches_the_inventory_and_records_shadow_keys() {
    let home = Home::initialised();
    let linear = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "ci"], LINEAR);
    assert!(linear.status.success());
    // A key with no recognisable format, held by Keyward: only the keyed hash can find it.
    let plain = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "plain"], PLAIN);
    assert!(plain.status.success());
    let keys = home.json(&["keys", "list", "--json"]);
    let id_of = |name: &str| {
        keys.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (ci, plain_id) = (id_of("ci"), id_of("plain"));

    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    std::fs::create_dir_all(p.join("svc")).unwrap();
    std::fs::write(p.join("svc/.env"), format!("# svc\nLINEAR={LINEAR}\nGH={GITHUB}\n")).unwrap();
    std::fs::write(p.join("notes.md"), format!("the token is {PLAIN} (do not share)\n")).unwrap();
    std::fs::write(p.join("fixture.json"), format!("{{\"token\": \"{GITHUB}\"}}\n")).unwrap();

    let out = home.command(&["scan", p.to_str().unwrap(), "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scanned 3 files") && stderr.contains("4 hits"), "{stderr}");
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        hits_of(&hits),
        vec![
            (".env".into(), 2, "linear".into(), "api_key".into(), Some(ci.clone())),
            (".env".into(), 3, "github".into(), "personal_access_token".into(), None),
            ("fixture.json".into(), 1, "github".into(), "personal_access_token".into(), None),
            ("notes.md".into(), 1, "linear".into(), "api_key".into(), Some(plain_id.clone())),
        ]
    );
    for h in hits.as_array().unwrap() {
        for field in ["path", "line", "provider", "kind", "inventory_key_id", "excerpt", "redacted"] {
            assert!(h.get(field).is_some(), "{field} missing in {h}");
        }
    }
    let excerpt =
        hits.as_array().unwrap().iter().find(|h| h["line"] == 2).unwrap()["excerpt"].as_str().unwrap().to_owned();
    assert_eq!(excerpt, "LINEAR=lin_api_…GHIJ");

    // Consumers of the Linear key; one shadow key for the GitHub token (found twice).
    let consumers = home.json(&["exposures", "--key", &ci, "--json"]);
    assert_eq!(consumers.as_array().unwrap().len(), 1);
    assert!(consumers[0]["path"].as_str().unwrap().ends_with("svc/.env"));
    let shadows = home.json(&["shadow", "list", "--json"]);
    assert_eq!(shadows.as_array().unwrap().len(), 1);
    assert_eq!(shadows[0]["exposures"], 2);
    assert_eq!(shadows[0]["managed"], false);
    let shadow = shadows[0]["id"].as_str().unwrap().to_owned();

    // The audit after the scan: both exposed keys and the unknown one are findings.
    let findings = home.json(&["findings", "list", "--json"]);
    let rules: Vec<(&str, Option<&str>)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "key_exposed_in_file" || f["rule_id"] == "unknown_key_found")
        .map(|f| (f["rule_id"].as_str().unwrap(), f["key_id"].as_str().or(f["resource"].as_str())))
        .collect();
    assert_eq!(rules.len(), 3, "{rules:?}");
    assert!(rules.contains(&("unknown_key_found", Some(shadow.as_str()))));

    // A token of one provider cannot be linked to another's key: its files would become that
    // key's consumers, which rotation rewrites.
    let refused = home.run(&["shadow", "link", &shadow, &plain_id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("a github token found in files cannot be the linear key plain"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // Linking a Linear token the inventory does not hold to a Linear key makes its place the
    // key's consumer; the next scan remembers it.
    std::fs::write(p.join("old.env"), format!("LINEAR={LINEAR_OLD}\n")).unwrap();
    let shadows = home.json(&["scan", p.to_str().unwrap(), "--json"]);
    let old = shadows.as_array().unwrap().iter().find(|h| h["path"].as_str().unwrap().ends_with("old.env")).unwrap();
    let old_shadow = old["shadow_key_id"].as_str().unwrap().to_owned();
    home.ok(&["shadow", "link", &old_shadow, &plain_id]);
    let again = home.json(&["scan", p.to_str().unwrap(), "--json"]);
    let linked: Vec<&Value> =
        again.as_array().unwrap().iter().filter(|h| h["path"].as_str().unwrap().ends_with("old.env")).collect();
    assert!(
        linked.iter().all(|h| h["inventory_key_id"] == plain_id.as_str() && h["evidence"] == "linked"),
        "{linked:?}"
    );
    assert_eq!(home.json(&["exposures", "--key", &plain_id, "--json"]).as_array().unwrap().len(), 2);
    std::fs::remove_file(p.join("old.env")).unwrap();
    let out = home.run(&["shadow", "dismiss", "no-such-id"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no shadow key"));

    // Fixing the file: its exposure is gone after the next scan, and so is the finding.
    std::fs::write(p.join("svc/.env"), "# svc\nLINEAR=${LINEAR_FROM_VAULT}\n").unwrap();
    home.ok(&["scan", p.to_str().unwrap()]);
    assert!(home.json(&["exposures", "--key", &ci, "--json"]).as_array().unwrap().is_empty());
    let all = home.json(&["exposures", "--all", "--json"]);
    assert!(all.as_array().unwrap().iter().any(|e| e["inventory_key_id"] == ci.as_str() && e["gone_at"].is_string()));
    let firing = home.json(&["findings", "list", "--json"]);
    assert!(
        !firing.as_array().unwrap().iter().any(|f| f["rule_id"] == "key_exposed_in_file" && f["key_id"] == ci.as_str())
    );

    // No planted secret outside the files it was planted in: not in any output, the vault, its
    // WAL or the log.
    let mut outputs = vec![out.stdout, out.stderr, serde_json::to_vec(&again).unwrap()];
    for args in [
        &["exposures", "--all", "--json"][..],
        &["exposures", "--all"],
        &["shadow", "list"],
        &["findings", "list", "--json"],
        &["report", "--format", "sarif"],
    ] {
        let o = home.run(args);
        outputs.push(o.stdout);
        outputs.push(o.stderr);
    }
    for f in files_under(home.path()) {
        outputs.push(std::fs::read(f).unwrap());
    }
    for secret in [LINEAR, GITHUB, PLAIN, LINEAR_OLD] {
        for o in &outputs {
            assert!(!contains(o, secret.as_bytes()), "a planted secret leaked");
        }
    }
}

#[test]
fn scan_defaults_history_and_errors() {
    let mut home = Home::initialised();
    // The default locations are under $HOME: a credentials file, a shell history, ~/.config.
    let user = tempfile::tempdir().unwrap();
    let u = user.path();
    std::fs::create_dir_all(u.join(".aws")).unwrap();
    std::fs::create_dir_all(u.join(".config/tool")).unwrap();
    std::fs::write(u.join(".aws/credentials"), "[default]\naws_access_key_id = AKIAQSCANSCENARIO001\naws_secret_access_key = Zk3bT9pQ2wX8vR5nL1mC7yH4gD6sA0eJ2uF9iK3o\n").unwrap();
    std::fs::write(
        u.join(".bash_history"),
        format!("ls\ncurl -H 'Authorization: {GITHUB}' https://api.github.com/user\n"),
    )
    .unwrap();
    std::fs::write(
        u.join(".config/tool/settings.toml"),
        "[newrelic]\nlicense_key = \"0123456789abcdef0123456789abcdef01234567\"\n",
    )
    .unwrap();
    std::fs::write(u.join("not-scanned.txt"), GITHUB).unwrap();
    home.set_env("HOME", u.to_str().unwrap());
    let hits = home.json(&["scan", "--json", "--no-audit"]);
    let found: Vec<(String, String)> = hits_of(&hits).into_iter().map(|h| (h.0, h.3)).collect();
    assert_eq!(
        found,
        vec![
            (".bash_history".into(), "personal_access_token".into()),
            ("credentials".into(), "access_key_id".into()),
            ("credentials".into(), "secret_access_key".into()),
            ("settings.toml".into(), "license_key".into()),
        ]
    );

    // A project folder added to the defaults, with an exclude.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join(".env.local"), format!("GH={GITHUB}\n")).unwrap();
    std::fs::create_dir_all(project.path().join("vendor")).unwrap();
    std::fs::write(project.path().join("vendor/x.env"), format!("GH={GITHUB}\n")).unwrap();
    home.ok(&["scan-config", "--add-folder", project.path().to_str().unwrap(), "--exclude", "vendor/"]);
    let hits = home.json(&["scan", "--json", "--no-audit"]);
    assert!(hits_of(&hits).iter().any(|h| h.0 == ".env.local"));
    assert!(!hits_of(&hits).iter().any(|h| h.0 == "x.env"));

    // Git history: a key committed then removed is found with its commit.
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(o.status.success());
    };
    git(&["init", "-q"]);
    std::fs::write(repo.path().join("app.py"), format!("TOKEN = '{GITHUB}'\n")).unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "oops"]);
    std::fs::write(repo.path().join("app.py"), "TOKEN = os.environ['TOKEN']\n").unwrap();
    git(&["commit", "-qam", "fix"]);
    let path = repo.path().to_str().unwrap();
    assert!(home.json(&["scan", path, "--json", "--no-audit"]).as_array().unwrap().is_empty());
    let history = home.json(&["scan", path, "--git-history", "--json", "--no-audit"]);
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["revision"].as_str().unwrap().len(), 40);

    // Clear errors, nothing recorded.
    let out = home.run(&["scan", "/no/such/folder"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/folder"));
    let out = home.run(&["scan", path, "--exclude", "{a,b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exclude"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Found keys checked at their provider — only with consent, one harmless read each, logged —
/// against the stand-ins (Datadog, Fastly, New Relic, Linear) and moto (AWS STS).
#[test]
fn found_keys_are_checked_only_with_consent_and_logged() {
    let _heavy = keyward_tests::heavy_test();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(keyward_fakes::estate::Estate::start(chrono::Utc::now(), 5)).unwrap();
    let moto = keyward_tests::MotoEstate::start(1, 1, &[]);
    let mut home = Home::initialised();
    home.set_env("KEYWARD_VERIFY_URL_DATADOG", &estate.datadog.url());
    home.set_env("KEYWARD_VERIFY_URL_FASTLY", &estate.fastly.url());
    home.set_env("KEYWARD_VERIFY_URL_NEWRELIC", &format!("{}/graphql", estate.newrelic.url()));
    home.set_env("KEYWARD_VERIFY_URL_LINEAR", &format!("{}/graphql", estate.linear.url()));
    moto.configure(&mut home);
    let dd_live = estate.datadog_credentials.get("api_key");
    let dd_dead = "0123456789abcdef0123456789abcdef";
    let fastly = estate.fastly_credentials.get("token");
    let nr = estate.newrelic_credentials.get("api_key");
    let (lin_live, lin_dead) = (&estate.linear_keys[0].2, &estate.linear_keys[3].2);
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join(".env"),
        format!(
            "DD_API_KEY={dd_live}\n\n\n\n\n\n\n\nDD_API_KEY={dd_dead}\n\n\n\n\n\n\n\nFASTLY_API_TOKEN={fastly}\nNEW_RELIC_API_KEY={nr}\nLINEAR_A={lin_live}\nLINEAR_B={lin_dead}\nGH={GITHUB}\n\n\n\n\n[default]\naws_access_key_id = AKIAQSCANSCENARIO002\naws_secret_access_key = Zk3bT9pQ2wX8vR5nL1mC7yH4gD6sA0eJ2uF9iK3o\n"
        ),
    )
    .unwrap();
    let path = project.path().to_str().unwrap();
    home.ok(&["scan", path, "--no-audit"]);
    let shadows = home.json(&["shadow", "list", "--json"]);
    let id_of = |provider: &str, last4: &str| {
        shadows
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["provider"] == provider && s["redacted"].as_str().unwrap().ends_with(last4))
            .unwrap_or_else(|| panic!("{provider} …{last4} in {shadows}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let dd = id_of("datadog", &dd_live[dd_live.len() - 4..]);

    // No consent: refused, nothing sent, nothing logged.
    let out = home.run(&["shadow", "verify", &dd]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--verify-consent datadog"));
    // Unsupported: said so.
    let gh = id_of("github", &GITHUB[GITHUB.len() - 4..]);
    let out = home.run(&["shadow", "verify", &gh]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot check github"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(home.json(&["log", "--action", "verify", "--json"]).as_array().unwrap().is_empty());
    assert!(home.run(&["scan-config", "--verify-consent", "github"]).status.code() == Some(1));

    // case: datadog:verify_found fastly:verify_found newrelic:verify_found linear:verify_found aws:verify_found
    home.ok(&[
        "scan-config",
        "--verify-consent",
        "datadog",
        "--verify-consent",
        "fastly",
        "--verify-consent",
        "newrelic",
        "--verify-consent",
        "linear",
        "--verify-consent",
        "aws",
    ]);
    let out = home.command(&["scan", path, "--verify", "--no-audit"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shadows = home.json(&["shadow", "list", "--json"]);
    let result = |provider: &str, last4: &str| -> String {
        shadows
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["provider"] == provider && s["redacted"].as_str().unwrap().ends_with(last4))
            .unwrap_or_else(|| panic!("{provider} …{last4} in {shadows}"))["verify_result"]
            .as_str()
            .unwrap_or("-")
            .to_owned()
    };
    assert_eq!(result("datadog", &dd_live[dd_live.len() - 4..]), "live");
    assert_eq!(result("datadog", &dd_dead[dd_dead.len() - 4..]), "rejected");
    assert!(result("fastly", &fastly[fastly.len() - 4..]).starts_with("live"));
    assert!(result("newrelic", &nr[nr.len() - 4..]).starts_with("live"));
    assert!(result("linear", &lin_live[lin_live.len() - 4..]).starts_with("live"));
    assert_eq!(result("linear", &lin_dead[lin_dead.len() - 4..]), "rejected");
    assert!(result("aws", "iK3o").starts_with("live"), "moto's STS: {}", result("aws", "iK3o"));
    assert_eq!(result("github", &GITHUB[GITHUB.len() - 4..]), "-", "unsupported: never sent");

    // Every attempt logged, one request per provider per second, no secret anywhere.
    let activity = home.json(&["log", "--action", "verify", "--json"]);
    let activity = activity.as_array().unwrap();
    assert_eq!(activity.len(), 7, "{activity:?}");
    let dd_times: Vec<chrono::DateTime<chrono::Utc>> = activity
        .iter()
        .filter(|a| a["provider"] == "datadog")
        .map(|a| chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc))
        .collect();
    assert_eq!(dd_times.len(), 2);
    assert!((dd_times[0] - dd_times[1]).num_milliseconds().abs() >= 900, "{dd_times:?}");
    // Side by side (two processes at once, as two windows' clicks would be), still one a second.
    let dd_dead_id = id_of("datadog", &dd_dead[dd_dead.len() - 4..]);
    let both: Vec<_> =
        [&dd, &dd_dead_id].iter().map(|id| home.command(&["shadow", "verify", id]).spawn().unwrap()).collect();
    for child in both {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let paced = home.json(&["log", "--action", "verify", "--json"]);
    let mut side_by_side: Vec<chrono::DateTime<chrono::Utc>> = paced
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["provider"] == "datadog")
        .map(|a| chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc))
        .collect();
    side_by_side.sort();
    assert_eq!(side_by_side.len(), 4, "{side_by_side:?}");
    assert!((side_by_side[3] - side_by_side[2]).num_milliseconds() >= 900, "{side_by_side:?}");
    let mut outputs = vec![out.stdout, out.stderr, serde_json::to_vec(&activity).unwrap()];
    for f in files_under(home.path()) {
        outputs.push(std::fs::read(f).unwrap());
    }
    for secret in
        [dd_live, dd_dead, fastly, nr, lin_live.as_str(), lin_dead.as_str(), "Zk3bT9pQ2wX8vR5nL1mC7yH4gD6sA0eJ2uF9iK3o"]
    {
        for o in &outputs {
            assert!(!contains(o, secret.as_bytes()), "a found key leaked");
        }
    }
}

/// Issue 16, as a user meets it: a tree of logs, docs and configs where hex ids stand beside
/// provider names. Only the planted keys are reported, each saying how sure it is; a guess
/// raises no finding; a token marked "not a key" stays out of later scans until taken back.
#[test]
fn only_keys_are_reported_with_their_confidence_and_not_a_key_is_remembered() {
    const API: &str = "3f2c8a91d47be6055c19e0b7a4d28f6e";
    const GUESS: &str = "b8e1f04c7a9d2365e0c4b19f8a7d6e52";
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const COMMIT: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    const FIXTURE: &str = "ghp_NotAKeyFixture0123456789abcdefghijkl";
    let home = Home::initialised();
    let project = tempfile::tempdir().unwrap();
    let p = project.path();
    std::fs::write(
        p.join("agent.log"),
        format!(
            "2026-11-30T10:00:00Z INFO datadog trace_id={TRACE} span_id=991\n\
             2026-11-30T10:00:01Z INFO pasted config:\n  datadog:\n    api_key: {API}\n\
             2026-11-30T10:00:02Z INFO datadog trace_id={TRACE}\n\
             2026-11-30T10:00:03Z WARN datadog: api_key={GUESS} rejected\n"
        ),
    )
    .unwrap();
    std::fs::write(p.join("CHANGELOG.md"), format!("# datadog credentials\n\nSee commit {COMMIT} for the rotation.\n"))
        .unwrap();
    std::fs::write(p.join("package-lock.json"), format!("{{\"dd-trace\": {{\"integrity\": \"sha1-{COMMIT}\"}}}}\n"))
        .unwrap();
    std::fs::write(p.join("fixture.txt"), format!("token: {FIXTURE}\n")).unwrap();
    let root = p.to_str().unwrap();

    let scan = |home: &Home| {
        let out = home.command(&["scan", root, "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut got: Vec<(String, u64, String, String)> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["path"].as_str().unwrap().rsplit('/').next().unwrap().to_owned(),
                    h["line"].as_u64().unwrap(),
                    h["kind"].as_str().unwrap().to_owned(),
                    h["confidence"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        (got, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (got, stderr) = scan(&home);
    assert_eq!(
        got,
        vec![
            ("agent.log".into(), 4, "api_key".into(), "medium".into()),
            ("agent.log".into(), 6, "api_key".into(), "low".into()),
            ("fixture.txt".into(), 1, "personal_access_token".into(), "high".into()),
        ],
        "{stderr}"
    );
    assert!(stderr.contains("1 hit is a guess"), "{stderr}");

    // The guess is listed but raises no finding; the named key and the token do.
    let shadows = home.json(&["shadow", "list", "--json"]);
    let conf = |c: &str| shadows.as_array().unwrap().iter().filter(|s| s["confidence"] == c).count();
    assert_eq!((conf("high"), conf("medium"), conf("low")), (1, 1, 1), "{shadows}");
    let findings = home.json(&["findings", "list", "--json"]);
    let unknown: Vec<&Value> =
        findings.as_array().unwrap().iter().filter(|f| f["rule_id"] == "unknown_key_found").collect();
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(unknown.iter().any(|f| f["detail"].as_str().unwrap().contains("(likely")), "{unknown:?}");

    // The fixture is no key: marked, it is gone now and from every later scan.
    let fixture = shadows.as_array().unwrap().iter().find(|s| s["provider"] == "github").unwrap();
    let out = home.run(&["shadow", "not-a-key", fixture["id"].as_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(home.json(&["shadow", "list", "--json"]).as_array().unwrap().len(), 2);
    let (got, stderr) = scan(&home);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(stderr.contains("left out 1 hit: marked not a key"), "{stderr}");
    let marked = home.json(&["shadow", "not-keys", "--json"]);
    let entry = &marked.as_array().unwrap()[0];
    assert_eq!(entry["place"].as_str().unwrap(), format!("{}:1", p.join("fixture.txt").display()));
    assert!(!marked.to_string().contains(FIXTURE), "the token itself is never kept: {marked}");
    let activity = home.json(&["activity", "--json"]);
    assert!(activity.to_string().contains("shadow.not_a_key"), "{activity}");

    // Taken back: reported again.
    let out = home.run(&["shadow", "is-a-key", &entry["id"].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (got, _) = scan(&home);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(home.run(&["shadow", "not-a-key", "no-such-id"]).status.code() == Some(1));

    // A found key linked to an inventoried one is a key: "not a key" is refused, and its
    // places stay that key's consumers.
    let held = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "ci"], LINEAR);
    assert!(held.status.success());
    std::fs::write(p.join("linear.env"), format!("LINEAR_API_KEY={LINEAR_OLD}\n")).unwrap();
    scan(&home);
    let shadows = home.json(&["shadow", "list", "--json"]);
    let old = shadows.as_array().unwrap().iter().find(|s| s["provider"] == "linear").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = home.json(&["keys", "list", "--json"]).as_array().unwrap()[0]["id"].as_str().unwrap().to_owned();
    assert!(home.run(&["shadow", "link", &old, &key]).status.success());
    let refused = home.run(&["shadow", "not-a-key", &old]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("linked"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(home.json(&["exposures", "--key", &key, "--json"]).as_array().unwrap().len(), 1);
}
