//! The desktop app as a real window: tauri-driver + WebKitWebDriver under Xvfb drive the built
//! `keyward-desktop` against a prepared vault. `make test` runs this inside Xvfb and sets
//! KEYWARD_REQUIRE_E2E=1, so there it cannot skip; elsewhere it skips when no display or driver.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) use keyward_tests::webdriver::start_driver;
use keyward_tests::webdriver::{self, Session, tauri_driver};
use keyward_tests::{Home, MotoEstate, PASSPHRASE, built_binary};

const SECRET: &str = "lin_api_E2EdesktopSECRET0123456789abcdefghij";

pub(crate) fn prerequisites() -> Option<PathBuf> {
    let required = std::env::var_os("KEYWARD_REQUIRE_E2E").is_some();
    let driver = tauri_driver();
    let webkit = Command::new("which").arg("WebKitWebDriver").output().map(|o| o.status.success()).unwrap_or(false);
    let display = std::env::var_os("DISPLAY").is_some();
    match (driver, webkit, display) {
        (Some(d), true, true) => Some(d),
        (d, w, disp) => {
            let why = format!("tauri-driver: {}, WebKitWebDriver: {w}, DISPLAY: {disp}", d.is_some());
            assert!(!required, "desktop e2e prerequisites missing ({why})");
            eprintln!("skipped: desktop e2e prerequisites missing ({why})");
            None
        }
    }
}

#[test]
fn the_desktop_app_unlocks_a_prepared_vault_and_shows_its_keys_and_findings() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();

    // A vault with AWS keys from a small moto estate, a hand-registered key with a secret, and an audit.
    let moto = MotoEstate::start(6, 5, &[]);
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws", "--name", "prod"]);
    home.ok(&["sync"]);
    let out =
        home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "e2e-linear", "--owner", "ana"], SECRET);
    assert!(out.status.success());
    let manual_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let findings = home.json(&["audit", "--json"]);
    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();

    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");

    // Locked: the passphrase prompt. A wrong passphrase is refused with a clear message.
    let input = app.wait_for("[data-testid=passphrase]", Duration::from_secs(30)).unwrap()[0].clone();
    // The leak sweep's IPC half: from here on every answer the shell gives the page is recorded
    // where it arrives (Tauri's IPC is a fetch of `ipc://localhost/<command>`; `invoke` itself
    // cannot be wrapped, it is defined read-only).
    app.execute(
        "const original = window.fetch; window.__ipc = [];
         window.fetch = async (input, init) => {
           const response = await original(input, init);
           const url = String(input && input.url ? input.url : input);
           if (url.includes('ipc')) {
             const command = decodeURIComponent(url.split('/').pop().split('?')[0]);
             window.__ipc.push([command, await response.clone().text()]);
           }
           return response;
         };",
    )
    .unwrap();
    app.type_into(&input, "not the passphrase").unwrap();
    app.click(&app.find_all("[data-testid=unlock]").unwrap()[0]).unwrap();
    let error = app.wait_for("[data-testid=error]", Duration::from_secs(20)).unwrap()[0].clone();
    assert!(app.text(&error).unwrap().contains("wrong passphrase"));

    let input = app.find_all("[data-testid=passphrase]").unwrap()[0].clone();
    app.type_into(&input, PASSPHRASE).unwrap();
    app.click(&app.find_all("[data-testid=unlock]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=keys-table]", Duration::from_secs(20)).unwrap();

    // Every key is in the table (the rows in sight are drawn: a search finds each of the rest).
    let count = app.wait_for("[data-testid=key-count]", Duration::from_secs(20)).unwrap()[0].clone();
    assert_eq!(app.text(&count).unwrap(), format!("{} keys", keys.len()));
    for k in keys.iter().take(8) {
        search(&app, k["name"].as_str().unwrap());
        app.wait_for(&format!("tr[data-key-id=\"{}\"]", k["id"].as_str().unwrap()), Duration::from_secs(10)).unwrap();
    }
    search(&app, "");
    assert!(!app.source().unwrap().contains(SECRET), "the secret is not in the webview before a reveal");

    if let Ok(png) = app.screenshot() {
        let _ = std::fs::write(std::env::temp_dir().join("keyward-e2e-keys.png"), png);
    }

    // A page that calls the command itself (as an injected script would) meets a native dialog
    // it cannot click; cancelled, nothing reaches the page.
    app.execute(&format!(
        "window.__revealed = 'pending'; window.__TAURI_INTERNALS__.invoke('reveal_key', {{ id: '{manual_id}' }})
           .then((s) => {{ window.__revealed = s; }}, (e) => {{ window.__revealed = 'refused: ' + e.code; }});"
    ))
    .unwrap();
    webdriver::answer_native_dialog("Keyward: reveal a secret", "Escape").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let v = app.execute("return window.__revealed;").unwrap();
        if v != "pending" {
            break v;
        }
        assert!(Instant::now() < deadline, "the reveal call never ended");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(refused, "refused: declined");
    assert!(!app.source().unwrap().contains(SECRET));

    // Reveal is explicit, per key (in its detail), and confirmed outside the page.
    open_key(&app, &manual_id, "e2e-linear");
    click_when_ready(&app, "[data-testid=reveal]");
    webdriver::answer_native_dialog("Keyward: reveal a secret", "alt+r").unwrap();
    let secret = app.wait_for("[data-testid=secret]", Duration::from_secs(10)).unwrap()[0].clone();
    assert_eq!(app.text(&secret).unwrap(), SECRET);
    let reveals = home.json(&["log", "--action", "key.reveal", "--json"]);
    assert_eq!(reveals.as_array().unwrap().len(), 1, "one reveal happened, and it is on record");

    click_when_ready(&app, "[data-testid=close-detail]");

    // Findings: the same count the CLI's audit reported.
    app.click(&app.find_all("[data-testid=tab-findings]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=findings-table]", Duration::from_secs(10)).unwrap();
    assert_eq!(app.find_all("[data-testid=finding-row]").unwrap().len(), findings.as_array().unwrap().len());
    assert!(app.page_text().unwrap().contains("Root user has an access key"));

    // Every IPC answer of the run: the secret only in the one confirmed reveal, the passphrase
    // in none.
    app.click(&app.find_all("[data-testid=tab-log]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=log-table]", Duration::from_secs(10)).unwrap();
    let ipc = app.execute("return window.__ipc;").unwrap();
    let ipc = ipc.as_array().unwrap();
    let commands: Vec<&str> = ipc.iter().map(|c| c[0].as_str().unwrap()).collect();
    for expected in [
        "unlock_vault",
        "load_key_table",
        "key_table_rows",
        "list_findings",
        "reveal_key",
        "activity_log",
        "verify_activity_log",
    ] {
        assert!(commands.contains(&expected), "{expected} not seen: {commands:?}");
    }
    for call in ipc {
        let (command, answer) = (call[0].as_str().unwrap(), call[1].as_str().unwrap());
        assert!(!answer.contains(PASSPHRASE), "the passphrase in the answer to {command}");
        if command != "reveal_key" {
            assert!(!answer.contains(SECRET), "the secret in the answer to {command}");
        }
    }
    let reveals = ipc.iter().filter(|c| c[0] == "reveal_key" && c[1].as_str().unwrap().contains(SECRET)).count();
    assert_eq!(reveals, 1, "the one confirmed reveal");
}

#[test]
fn first_run_explores_the_demo_workspace_in_the_window() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");

    explore_demo(&app);

    // The window shows what the CLI reads from the same home.
    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();
    assert!(keys.len() > 200, "a populated inventory: {}", keys.len());
    let count = app.wait_for("[data-testid=key-count]", Duration::from_secs(20)).unwrap()[0].clone();
    assert_eq!(app.text(&count).unwrap(), format!("{} keys", keys.len()));
    let rows = app.find_all("[data-testid=key-row]").unwrap().len();
    assert!(rows < 100, "only the rows in sight are drawn: {rows} of {}", keys.len());

    // The rows scroll in a real layout: the wheel over the table moves the bar beside them by 50
    // rows, and End reaches the last key, drawn and in sight (its row index is the count's + 1).
    let first_row = |app: &Session| -> (i64, bool) {
        let v = app
            .execute(
                "const rows = [...document.querySelectorAll('[data-testid=key-row]')];
                 const box = document.querySelector('.rows').getBoundingClientRect();
                 const last = rows[rows.length - 1].getBoundingClientRect();
                 return [Number(rows[0].getAttribute('aria-rowindex')), last.top < box.bottom && last.bottom > box.top];",
            )
            .unwrap();
        (v[0].as_i64().unwrap(), v[1].as_bool().unwrap())
    };
    assert_eq!(first_row(&app).0, 2, "the first key first");
    app.execute(
        "document.querySelector('[data-testid=key-row]')
           .dispatchEvent(new WheelEvent('wheel', { deltaY: 34 * 50, bubbles: true, cancelable: true }));",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while first_row(&app).0 != 52 {
        assert!(Instant::now() < deadline, "the wheel did not scroll the rows: first row {}", first_row(&app).0);
        std::thread::sleep(Duration::from_millis(100));
    }
    app.execute("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', cancelable: true }));").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cursor: serde_json::Value = app
            .execute(
                "const c = document.querySelector('tr.cursor'); return c && Number(c.getAttribute('aria-rowindex'));",
            )
            .unwrap();
        if cursor.as_i64() == Some(keys.len() as i64 + 1) && first_row(&app).1 {
            break;
        }
        assert!(Instant::now() < deadline, "End did not reach the last key: {cursor}");
        std::thread::sleep(Duration::from_millis(100));
    }
    app.execute("window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Home', cancelable: true }));").unwrap();
    let page = app.page_text().unwrap();
    for provider in ["datadog", "mongodb_atlas", "fastly", "newrelic", "linear"] {
        assert!(
            app.source().unwrap().contains(&format!("<option value=\"{provider}\">")),
            "{provider} in the provider filter"
        );
    }
    search(&app, "linear");
    wait_for_text(&app, "rejected", Duration::from_secs(10)); // the revoked Linear key's check is shown
    search(&app, "");
    let _ = page;
    let findings = home.json(&["findings", "list", "--json"]);
    assert!(!findings.as_array().unwrap().is_empty());

    // Findings: acknowledging one in the window reaches the vault.
    app.click(&app.find_all("[data-testid=tab-findings]").unwrap()[0]).unwrap();
    let ack = app.wait_for("[data-testid=ack]", Duration::from_secs(20)).unwrap()[0].clone();
    app.click(&ack).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while home.json(&["findings", "list", "--state", "acknowledged", "--json"]).as_array().unwrap().len() != 1 {
        assert!(Instant::now() < deadline, "the acknowledgement did not reach the vault");
        std::thread::sleep(Duration::from_millis(200));
    }
    app.wait_for("[data-testid=reopen]", Duration::from_secs(20)).unwrap();

    // Practices (issue 17): the table says what passes and fails per practice; a practice opens
    // exactly its findings, and "show all" brings the rest back.
    // (Listed after the findings, while the view is open.)
    app.click(&app.wait_for("details.practices summary", Duration::from_secs(20)).unwrap()[0]).unwrap();
    assert_eq!(app.find_all("[data-testid=practice-row]").unwrap().len(), 12);
    let firing = home.json(&["findings", "list", "--json"]);
    let firing = firing.as_array().unwrap();
    let validation =
        firing.iter().filter(|f| f["practices"].as_array().unwrap().iter().any(|p| p == "input-validation")).count();
    assert!(validation > 0, "the demo has an unvalidated method");
    click_when_ready(&app, "[data-practice=input-validation] [data-testid=practice-open]");
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.find_all("[data-testid=finding-row]").unwrap().len() != validation {
        assert!(Instant::now() < deadline, "the practice did not narrow the findings");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(app.page_text().unwrap().contains("apigw_method_no_validation"));
    click_when_ready(&app, "[data-testid=practice-clear]");
    // Findings draws 200 at a time (the demo has more): the first page, then "Show more" until
    // every firing finding is drawn.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.find_all("[data-testid=finding-row]").unwrap().len() != firing.len().min(200) {
        assert!(Instant::now() < deadline, "show all did not bring the findings back");
        std::thread::sleep(Duration::from_millis(100));
    }
    loop {
        let more = app.find_all("[data-testid=findings-more]").unwrap();
        let drawn = app.find_all("[data-testid=finding-row]").unwrap().len();
        if more.is_empty() && drawn == firing.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{drawn} of {} findings drawn", firing.len());
        if let Some(more) = more.first() {
            app.click(more).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // Exposure: the demo project's scan, as the CLI sees it; a shadow key dismissed in the
    // window reaches the vault; no secret reaches the webview.
    app.click(&app.find_all("[data-testid=tab-exposure]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=exposures-table]", Duration::from_secs(20)).unwrap();
    let exposures = home.json(&["exposures", "--json"]);
    assert_eq!(app.find_all("[data-testid=exposure-row]").unwrap().len(), exposures.as_array().unwrap().len());
    assert_eq!(app.find_all("[data-testid=shadow-row]").unwrap().len(), 2);
    let page = app.page_text().unwrap();
    assert!(page.contains("linear-old-ci") && page.contains("unknown key") && page.contains("demo-project"), "{page}");
    let (_, linear) = keyward_fakes::estate::linear_state();
    for (_, _, secret, _) in &linear {
        assert!(!page.contains(secret.as_str()), "a Linear secret reached the webview");
    }
    app.click(&app.find_all("[data-testid=dismiss]").unwrap()[0]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !home.json(&["shadow", "list", "--json"]).as_array().unwrap().iter().any(|s| s["status"] == "dismissed") {
        assert!(Instant::now() < deadline, "the dismissal did not reach the vault");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Each found key says how sure the scan is; the other one, marked "not a key", leaves the
    // list for the not-a-key list, in the vault as in the window.
    for cell in app.find_all("[data-testid=shadow-confidence]").unwrap() {
        let sure = app.text(&cell).unwrap();
        assert!(["high", "medium", "guess"].contains(&sure.as_str()), "{sure:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.find_all("[data-testid=not-a-key]").unwrap().len() != 1 {
        assert!(Instant::now() < deadline, "the dismissed key still offers its actions");
        std::thread::sleep(Duration::from_millis(100));
    }
    app.click(&app.find_all("[data-testid=not-a-key]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=not-key-row]", Duration::from_secs(20)).unwrap();
    assert_eq!(home.json(&["shadow", "not-keys", "--json"]).as_array().unwrap().len(), 1);
    assert_eq!(home.json(&["shadow", "list", "--json"]).as_array().unwrap().len(), 1);
    // A project folder added in the window is in the scan's settings; a missing one is refused.
    let folder = tempfile::tempdir().unwrap();
    let input = app.find_all("[data-testid=new-folder]").unwrap()[0].clone();
    app.type_into(&input, folder.path().to_str().unwrap()).unwrap();
    app.click(&app.find_all("[data-testid=add-folder]").unwrap()[0]).unwrap();
    webdriver::answer_native_dialog("Keyward: widen the scan", "alt+a").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while home.json(&["scan-config", "--json"])["folders"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the folder did not reach the vault");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Consent and history, asked for by the page itself (as an injected script would): the
    // native dialog, cancelled, keeps them off.
    app.execute(
        "window.__saved = 'pending'; window.__TAURI_INTERNALS__.invoke('save_scan_settings',
           { settings: { folders: [], excludes: [], git_history: true, verify: ['datadog'] } })
           .then(() => { window.__saved = 'saved'; }, (e) => { window.__saved = 'refused: ' + e.code; });",
    )
    .unwrap();
    webdriver::answer_native_dialog("Keyward: widen the scan", "Escape").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.execute("return window.__saved;").unwrap() == "pending" {
        assert!(Instant::now() < deadline, "the settings call never ended");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(app.execute("return window.__saved;").unwrap(), "refused: declined");
    let config = home.json(&["scan-config", "--json"]);
    assert!(config["verify"].as_array().unwrap().is_empty() && config["git_history"] == false, "{config}");

    let input = app.find_all("[data-testid=new-folder]").unwrap()[0].clone();
    app.type_into(&input, "/no/such/project").unwrap();
    app.click(&app.find_all("[data-testid=add-folder]").unwrap()[0]).unwrap();
    let error = app.wait_for("[data-testid=error]", Duration::from_secs(20)).unwrap()[0].clone();
    assert!(app.text(&error).unwrap().contains("/no/such/project"));

    // Policy: an edit with an error is refused, naming its line; nothing is written.
    app.click(&app.find_all("[data-testid=tab-policy]").unwrap()[0]).unwrap();
    let text = app.wait_for("[data-testid=policy-text]", Duration::from_secs(20)).unwrap()[0].clone();
    app.type_into(&text, "\n[rules.no_such_rule]\nenabled = false\n").unwrap();
    app.click(&app.find_all("[data-testid=save-policy]").unwrap()[0]).unwrap();
    let error = app.wait_for("[data-testid=error]", Duration::from_secs(20)).unwrap()[0].clone();
    let message = app.text(&error).unwrap();
    // (Whatever the text became in the textarea, it is not valid TOML or names an unknown rule.)
    assert!(message.contains("policy.toml") && message.contains("line "), "{message}");
    assert!(!home.path().join("policy.toml").exists(), "a refused policy writes nothing");

    // The activity log: what the CLI lists, the folder added above among it; an entry edited
    // in the file is told in the window.
    app.click(&app.find_all("[data-testid=tab-log]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=log-intact]", Duration::from_secs(20)).unwrap();
    let log = home.json(&["log", "--json"]);
    assert_eq!(app.find_all("[data-testid=log-row]").unwrap().len(), log.as_array().unwrap().len());
    assert!(app.page_text().unwrap().contains("settings.scan"));
    let db = rusqlite::Connection::open(home.path().join("vault.db")).unwrap();
    db.execute("UPDATE activity SET detail = 'nothing' WHERE action = 'settings.scan'", []).unwrap();
    drop(db);
    app.click(&app.find_all("[data-testid=tab-keys]").unwrap()[0]).unwrap();
    app.click(&app.find_all("[data-testid=tab-log]").unwrap()[0]).unwrap();
    let broken = app.wait_for("[data-testid=log-broken]", Duration::from_secs(20)).unwrap()[0].clone();
    assert!(app.text(&broken).unwrap().contains("tampered"));
}

/// The app in the background: with the vault unlocked at start, its scheduler runs the audit and
/// the new findings reach the desktop as real notifications — observed on the session bus, where
/// the notification server (dunst, started by D-Bus activation) receives the `Notify` call.
#[test]
fn scheduled_audits_notify_on_the_desktop() {
    if prerequisites().is_none() {
        return;
    }
    let _heavy = keyward_tests::heavy_test();
    let home = Home::new();
    home.ok(&["demo"]);
    home.schedule_only_the_audit("*/2 * * * * *");
    // A stricter policy than the demo's audit used: the scheduled audit has news to tell.
    std::fs::write(home.path().join("policy.toml"), "[defaults]\nnot_rotated_days = 7\n").unwrap();

    let mut monitor = Command::new("dbus-monitor")
        .args(["--session", "interface='org.freedesktop.Notifications',member='Notify'"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor (dbus-bin) is installed");
    let monitor_out = monitor.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(monitor_out).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300)); // the monitor's match rule is in place

    let mut app = Command::new(built_binary("keyward-desktop"))
        .env("KEYWARD_HOME", home.path())
        .env("KEYWARD_PASSPHRASE", PASSPHRASE)
        .env("KEYWARD_MAX_JITTER_SECS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.contains("Key not rotated within the policy period") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    // And a notification server took it: dunst (started by D-Bus activation on the first call)
    // counts what waits, shows or was shown.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (dunst_total, counts) = loop {
        let out = Command::new("dunstctl").arg("count").output().expect("dunstctl (dunst) is installed");
        let counts = String::from_utf8_lossy(&out.stdout).into_owned();
        let total: u32 = counts.lines().filter_map(|l| l.rsplit(':').next()?.trim().parse::<u32>().ok()).sum();
        if total > 0 || Instant::now() > deadline {
            break (total, counts);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let _ = app.kill();
    let _ = app.wait();
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(seen.contains("member=Notify"), "no Notify call on the session bus:\n{seen}");
    assert!(seen.contains("Key not rotated within the policy period"), "the finding is in the notification:\n{seen}");
    assert!(dunst_total >= 1, "dunst has no notification: {counts}");
    let log = home.json(&["notify", "log", "--json"]);
    let desktop: Vec<_> = log.as_array().unwrap().iter().filter(|d| d["channel"] == "desktop").collect();
    assert!(!desktop.is_empty() && desktop.iter().all(|d| d["status"] == "delivered"), "{log}");
    // One notification per key: no subject twice in the first audit's batch.
    let subjects: Vec<&str> = desktop.iter().filter_map(|d| d["subject"].as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = subjects.iter().copied().collect();
    assert_eq!(unique.len(), subjects.len(), "{subjects:?}");
}

/// Clicking a desktop notification opens the window on what it is about. dunst performs the
/// notification's default action (`dunstctl action`, what a click does): the window shows the
/// key's detail, or Findings when the notification is about an owner.
#[test]
fn clicking_a_notification_opens_what_it_is_about() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let mut home = Home::new();
    home.ok(&["demo"]);
    home.schedule_only_the_audit("*/2 * * * * *");
    home.set_env("KEYWARD_MAX_JITTER_SECS", "0");
    std::fs::write(home.path().join("policy.toml"), "[defaults]\nnot_rotated_days = 7\n").unwrap();
    let displayed = || {
        let out =
            Command::new("dunstctl").args(["count", "displayed"]).output().expect("dunstctl (dunst) is installed");
        String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().unwrap_or(0)
    };
    let _ = Command::new("dunstctl").arg("close-all").status(); // an earlier test's notifications

    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");
    let input = app.wait_for("[data-testid=passphrase]", Duration::from_secs(30)).unwrap()[0].clone();
    app.type_into(&input, PASSPHRASE).unwrap();
    click_when_ready(&app, "[data-testid=unlock]");
    app.wait_for("[data-testid=keys-table]", Duration::from_secs(30)).unwrap();
    assert!(app.find_all("[data-testid=key-detail]").unwrap().is_empty());

    let deadline = Instant::now() + Duration::from_secs(60);
    while displayed() == 0 {
        assert!(Instant::now() < deadline, "no notification was shown");
        std::thread::sleep(Duration::from_millis(250));
    }
    let status = Command::new("dunstctl").args(["action", "0"]).status().unwrap();
    assert!(status.success());

    let deadline = Instant::now() + Duration::from_secs(20);
    let subjects: Vec<String> = loop {
        let log = home.json(&["notify", "log", "--json"]);
        let subjects: Vec<String> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["channel"] == "desktop")
            .filter_map(|d| d["subject"].as_str().map(str::to_owned))
            .collect();
        let detail = app.find_all("[data-testid=key-detail] h2").unwrap();
        if let Some(h) = detail.first() {
            let name = app.text(h).unwrap();
            assert!(
                subjects.contains(&name),
                "the detail of {name:?} opened, which no notification was about: {subjects:?}"
            );
            break subjects;
        }
        if !app.find_all("[data-testid=findings-table]").unwrap().is_empty() {
            break subjects;
        }
        assert!(Instant::now() < deadline, "the click opened nothing");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!subjects.is_empty());
}

/// Start in the tray: with the setting on (in the vault) and a vault the keychain opens, the app
/// starts with its window hidden; with it off, the window shows. Seen from X, as a user would.
#[test]
fn the_app_starts_in_the_tray_when_set_to() {
    if prerequisites().is_none() {
        return;
    }
    let _heavy = keyward_tests::heavy_test();
    let mut home = Home::new();
    home.env.clear(); // no passphrase: the vault's key goes to the session's keychain
    home.ok(&["init"]);
    let set = |in_tray: bool| {
        let vault = keyward_core::api::open(&keyward_core::api::Home::new(home.path().to_owned()), None).unwrap();
        let settings = keyward_core::api::DesktopSettings { start_in_tray: in_tray, ..Default::default() };
        keyward_core::api::save_desktop_settings(&vault, &settings).unwrap();
    };
    let windows = |visible: bool| {
        let mut args = vec!["search"];
        if visible {
            args.push("--onlyvisible");
        }
        args.extend(["--name", "^Keyward$"]);
        let out = Command::new("xdotool").args(&args).output().expect("xdotool is installed");
        !String::from_utf8_lossy(&out.stdout).trim().is_empty()
    };
    let start = || {
        Command::new(built_binary("keyward-desktop"))
            .env("KEYWARD_HOME", home.path())
            .env_remove("KEYWARD_PASSPHRASE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    set(false);
    let mut app = start();
    wait("the window never showed", &|| windows(true));
    let _ = app.kill();
    let _ = app.wait();
    wait("the window did not go with its app", &|| !windows(false));

    set(true);
    let mut app = start();
    wait("the app never made its window", &|| windows(false));
    // Longer than the shown window took to map above.
    std::thread::sleep(Duration::from_secs(4));
    let shown = windows(true);
    let _ = app.kill();
    let _ = app.wait();
    assert!(!shown, "started in the tray, the window is hidden");
}

/// A sync waiting on a provider that never answers can be cancelled from the window, and what
/// it says names the connector (issue 18: Sync stayed disabled for minutes with no way out).
/// And the page, as a compromised one would, cannot navigate the window away to carry data out.
#[test]
fn a_sync_can_be_cancelled_in_the_window() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let addr = keyward_fakes::silent_provider();
    let mut home = Home::initialised();
    home.set_env("DD_API_KEY", "0123456789abcdef0123456789abcdef");
    home.set_env("DD_APP_KEY", "0123456789abcdef0123456789abcdef01234567");
    home.ok(&["connector", "add", "datadog", "--name", "mute", "--endpoint", &format!("http://{addr}")]);

    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");
    let input = app.wait_for("[data-testid=passphrase]", Duration::from_secs(30)).unwrap()[0].clone();
    app.type_into(&input, PASSPHRASE).unwrap();
    app.click(&app.find_all("[data-testid=unlock]").unwrap()[0]).unwrap();
    // The window re-renders as it loads the vault: click what is there when the click lands.
    let click = |css: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = app.wait_for(css, Duration::from_secs(20)).unwrap();
            match app.click(&found[0]) {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("retrying a click on {css}: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
    };
    // The keys are drawn first and the rest loads behind them: Sync is enabled once it has.
    app.wait_for("[data-testid=sync]:not([disabled])", Duration::from_secs(20)).unwrap();
    click("[data-testid=sync]");
    click("[data-testid=cancel-sync]");
    // Well before the provider's own timeouts (two silences of 10 s) would have ended it.
    let error = app.wait_for("[data-testid=error]", Duration::from_secs(8)).unwrap()[0].clone();
    let said = app.text(&error).unwrap();
    assert!(said.contains("sync cancelled"), "{said}");
    assert!(app.find_all("[data-testid=busy]").unwrap().is_empty(), "the window is free again");
    let runs = rusqlite::Connection::open(home.path().join("vault.db"))
        .unwrap()
        .query_row("SELECT error FROM sync_runs ORDER BY id DESC LIMIT 1", [], |r| r.get::<_, String>(0))
        .unwrap();
    assert!(runs.starts_with("cancelled by the user"), "{runs}");

    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    outside.set_nonblocking(true).unwrap();
    let away = format!("http://{}/carried-out?vault=secrets", outside.local_addr().unwrap());
    let _ = app.execute(&format!("window.location.href = {away:?};"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(outside.accept().is_err(), "the window navigated away from the app");
    assert!(!app.find_all("[data-testid=sync]").unwrap().is_empty(), "the app is still there");
}

/// Lock on demand and when left alone: the vault closes, and nothing read from it (a revealed
/// secret included) stays in the page.
#[test]
fn the_vault_locks_on_demand_and_when_left_alone() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let mut home = Home::initialised();
    let out = home.run_with_input(&["keys", "add", "--provider", "linear", "--name", "lock-me"], SECRET);
    assert!(out.status.success());
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    home.set_env("KEYWARD_IDLE_LOCK_SECS", "4");
    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");
    let unlock = || {
        let input = app.wait_for("[data-testid=passphrase]", Duration::from_secs(30)).unwrap()[0].clone();
        app.type_into(&input, PASSPHRASE).unwrap();
        app.click(&app.find_all("[data-testid=unlock]").unwrap()[0]).unwrap();
        app.wait_for("[data-testid=keys-table]", Duration::from_secs(20)).unwrap();
    };
    unlock();
    open_key(&app, &id, "lock-me");
    click_when_ready(&app, "[data-testid=reveal]");
    webdriver::answer_native_dialog("Keyward: reveal a secret", "alt+r").unwrap();
    app.wait_for("[data-testid=secret]", Duration::from_secs(10)).unwrap();
    assert!(app.source().unwrap().contains(SECRET));
    app.click(&app.find_all("[data-testid=lock]").unwrap()[0]).unwrap();
    app.wait_for("[data-testid=passphrase]", Duration::from_secs(10)).unwrap();
    let page = app.source().unwrap();
    assert!(!page.contains(SECRET) && !page.contains("lock-me"), "the vault's data stayed in the page");

    // Left alone (no click, no command) past the idle limit: locked again.
    unlock();
    app.wait_for("[data-testid=passphrase]", Duration::from_secs(20)).unwrap();
    assert!(!app.source().unwrap().contains("lock-me"));
}

/// Nothing configured: the first-run card offers the demo, explored with a passphrase (which
/// keeps the test off the keychain, as the CLI's KEYWARD_PASSPHRASE does).
pub(crate) fn explore_demo(app: &Session) {
    let explore = app.wait_for("[data-testid=explore-demo]", Duration::from_secs(30)).unwrap()[0].clone();
    let input = app.find_all("[data-testid=create-form] input[type=password]").unwrap()[0].clone();
    app.type_into(&input, PASSPHRASE).unwrap();
    app.click(&explore).unwrap();
    app.wait_for("[data-testid=keys-table]", Duration::from_secs(60)).unwrap();
}

/// Types `text` into the inventory's search (replacing what was there).
pub(crate) fn search(app: &Session, text: &str) {
    let input = app.wait_for("[data-testid=filter]", Duration::from_secs(20)).unwrap()[0].clone();
    app.execute(
        "const i = document.querySelector('[data-testid=filter]'); i.value = ''; i.dispatchEvent(new Event('input', { bubbles: true }));",
    )
    .unwrap();
    if !text.is_empty() {
        app.type_into(&input, text).unwrap();
    }
}

/// Opens a key's detail from the inventory: searched by name (the table draws the rows in sight),
/// then clicked.
pub(crate) fn open_key(app: &Session, id: &str, name: &str) {
    click_when_ready(app, "[data-testid=tab-keys]");
    search(app, name);
    // The name cell: WebKit's driver does not click a table row itself ("not interactable").
    click_when_ready(app, &format!("tr[data-key-id=\"{id}\"] td.name"));
    app.wait_for("[data-testid=key-fields]", Duration::from_secs(20)).unwrap();
}

/// Clicks what `css` finds once the click lands (the window re-renders as it loads the vault).
pub(crate) fn click_when_ready(app: &Session, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = app.wait_for(css, Duration::from_secs(20)).unwrap();
        match app.click(&found[0]) {
            Ok(()) => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying a click on {css}: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
}

/// Waits until the page's text holds `words`.
pub(crate) fn wait_for_text(app: &Session, words: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let text = app.page_text().unwrap();
        if text.contains(words) {
            return text;
        }
        assert!(Instant::now() < deadline, "the window never said {words:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Rotation in the window: a rotation a crash left unfinished is shown in a banner at start
/// and aborted from it (the old key kept, the new one gone); a key's Rotate action shows the
/// plan, asks natively, shows each step, and ends in the grace period with the new key held;
/// the new secret never reaches the page.
#[test]
fn a_key_is_rotated_from_the_window_and_an_unfinished_rotation_is_aborted_from_its_banner() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let (_rt, estate, home) = crate::rotation::datadog_estate(12);
    let dd = estate.datadog.provider();
    let chosen = crate::rotation::datadog_api_key_not_the_connectors(&estate, &home);
    let own = estate.datadog_credentials.get("api_key").to_owned();
    let crashed = home
        .json(&["keys", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == "api_key" && k["id"] != chosen["id"])
        .find(|k| dd.state.lock().unwrap().api_keys.iter().any(|d| d.id == k["external_id"] && d.secret != own))
        .unwrap()
        .clone();
    // A rotation killed after its new key was made: unfinished in the vault.
    let mut crashing = home.command(&["rotate", crashed["id"].as_str().unwrap(), "--yes"]);
    crashing.env("KEYWARD_ROTATION_CRASH", "verify:begin");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&crashing.output().unwrap().status), Some(9));
    let made = home.json(&["rotations", "list", "--json"])[0]["new_external_id"].as_str().unwrap().to_owned();
    let ids = || -> Vec<String> { dd.state.lock().unwrap().api_keys.iter().map(|k| k.id.clone()).collect() };
    assert!(ids().contains(&made));

    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");
    let input = app.wait_for("[data-testid=passphrase]", Duration::from_secs(30)).unwrap()[0].clone();
    app.type_into(&input, PASSPHRASE).unwrap();
    app.click(&app.find_all("[data-testid=unlock]").unwrap()[0]).unwrap();
    let banner = app.wait_for("[data-testid=rotation-banner]", Duration::from_secs(20)).unwrap()[0].clone();
    assert!(app.text(&banner).unwrap().contains(crashed["external_id"].as_str().unwrap()));
    click_when_ready(&app, "[data-testid=abort-rotation]");
    wait_for_text(&app, "Rolled back: aborted by the user", Duration::from_secs(30));
    assert!(app.find_all("[data-testid=rotation-banner]").unwrap().is_empty(), "the banner is gone");
    assert!(!ids().contains(&made) && ids().contains(&crashed["external_id"].as_str().unwrap().to_owned()));

    // The Rotate action: the plan, a native confirmation, each step, the result.
    open_key(&app, chosen["id"].as_str().unwrap(), chosen["name"].as_str().unwrap());
    click_when_ready(&app, "[data-testid=rotate]");
    let plan = app.wait_for("[data-testid=rotation-steps]", Duration::from_secs(30)).unwrap()[0].clone();
    assert!(app.text(&plan).unwrap().contains("create a new key"), "{}", app.text(&plan).unwrap());
    click_when_ready(&app, "[data-testid=confirm-rotate]");
    webdriver::answer_native_dialog("Keyward: rotate a key", "alt+r").unwrap();
    let said = wait_for_text(&app, "Rotated:", Duration::from_secs(60));
    assert!(said.contains("is deleted after"), "the policy's grace period: {said}");
    let steps = app.find_all("[data-testid=rotation-progress] li").unwrap();
    assert!(steps.len() >= 3, "each step is shown: {}", steps.len());
    let r = home.json(&["rotations", "list", "--json"])[0].clone();
    assert_eq!(r["state"], "grace", "{r:#}");
    let new_secret = {
        let s = dd.state.lock().unwrap();
        s.api_keys.iter().find(|k| k.id == r["new_external_id"]).unwrap().secret.clone()
    };
    assert!(!app.source().unwrap().contains(&new_secret), "the new secret is not in the page");
}
