//! The app's pages in a real window (issue 14): the dashboard drills down to exactly the keys it
//! counts, a key's detail tells its history and where it is used, a finding is snoozed there, a
//! connector is added through the form generated from the registry and synced against a stand-in,
//! a key is registered by hand, a schedule changed, a webhook sent a test delivery, and a report
//! written through the native save dialog — each checked against what the CLI reads from the same
//! vault. The run saves the README's screenshots.

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use keyward_tests::webdriver::{self, Session};
use keyward_tests::{Home, built_binary};

use crate::desktop::{click_when_ready, explore_demo, open_key, prerequisites, start_driver, wait_for_text};

/// Where the README's screenshots go when `KEYWARD_SCREENSHOTS` names a folder
/// (`KEYWARD_SCREENSHOTS=$PWD/docs` refreshes the README's); the run takes them either way and
/// keeps them in the temp dir otherwise.
fn screenshot(app: &Session, name: &str) {
    let dir = std::env::var_os("KEYWARD_SCREENSHOTS").map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    if let Ok(png) = app.screenshot() {
        let _ = std::fs::write(dir.join(format!("screenshot-{name}.png")), png);
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A webhook receiver that answers 200 and keeps what it was sent.
fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let mut s = s;
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = vec![0u8; 1 << 16];
            let mut got = Vec::new();
            while let Ok(n) = s.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if n == 0 || body.len() >= length {
                    break;
                }
            }
            kept.lock().unwrap().push(String::from_utf8_lossy(&got).into_owned());
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (url, seen)
}

#[test]
fn the_app_s_pages_drill_tell_a_key_s_story_and_manage_the_workspace() {
    let Some(driver) = prerequisites() else { return };
    let _heavy = keyward_tests::heavy_test();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let estate = rt.block_on(keyward_fakes::estate::Estate::start(chrono::Utc::now(), 7)).unwrap();
    let home = Home::new();
    let (_driver, url) = start_driver(&driver, &home);
    let app = Session::start(&url, &built_binary("keyward-desktop")).expect("webdriver session");

    explore_demo(&app);
    screenshot(&app, "inventory");
    let keys = home.json(&["keys", "list", "--json"]);
    let keys = keys.as_array().unwrap();

    // The dashboard: a bar opens the inventory showing exactly the keys it counts.
    click_when_ready(&app, "[data-testid=tab-dashboard]");
    app.wait_for("[data-testid=chart-provider]", Duration::from_secs(20)).unwrap();
    std::thread::sleep(Duration::from_millis(500)); // the charts draw
    screenshot(&app, "dashboard");
    let datadog = keys.iter().filter(|k| k["provider"] == "datadog").count();
    let bar = app.find_all("[data-testid=chart-provider-bar][data-label=datadog]").unwrap()[0].clone();
    assert_eq!(app.text(&bar).unwrap(), format!("datadog: {datadog}"));
    app.click(&bar).unwrap();
    let count = app.wait_for("[data-testid=key-count]", Duration::from_secs(20)).unwrap()[0].clone();
    assert_eq!(app.text(&count).unwrap(), format!("{datadog} of {} keys", keys.len()));
    click_when_ready(&app, "[data-testid=clear-filters]");

    // A key found in the demo project: its detail says where, what changed, and its findings.
    let exposures = home.json(&["exposures", "--json"]);
    let found =
        exposures.as_array().unwrap().iter().find(|e| !e["inventory_key_id"].is_null()).expect("a held key in files");
    let id = found["inventory_key_id"].as_str().unwrap();
    let key = keys.iter().find(|k| k["id"] == id).unwrap();
    open_key(&app, id, key["name"].as_str().unwrap());
    let consumers = app.wait_for("[data-testid=consumers]", Duration::from_secs(20)).unwrap()[0].clone();
    assert!(
        app.text(&consumers).unwrap().contains(found["path"].as_str().unwrap()),
        "{}",
        app.text(&consumers).unwrap()
    );
    let history = app.find_all("[data-testid=history]").unwrap()[0].clone();
    let told = app.text(&history).unwrap();
    let first = if key["account"] == "manual" { "registered" } else { "added" };
    assert!(told.contains(first), "its history starts with `{first}`: {told}");
    screenshot(&app, "key-detail");
    // Snoozed from the detail: in the vault as in the window.
    let snoozed = || home.json(&["findings", "list", "--state", "snoozed", "--json"]).as_array().unwrap().len();
    let before = snoozed();
    assert!(!app.find_all("[data-testid=detail-snooze]").unwrap().is_empty(), "the exposed key has an open finding");
    click_when_ready(&app, "[data-testid=detail-snooze]");
    wait_until("the snooze did not reach the vault", || snoozed() == before + 1);
    click_when_ready(&app, "[data-testid=close-detail]");

    // A connector added through the form generated from the registry, against the Datadog
    // stand-in: the endpoint is confirmed outside the page, the credentials never come back.
    click_when_ready(&app, "[data-testid=tab-connectors]");
    click_when_ready(&app, "[data-testid=provider-datadog]");
    let field =
        |testid: &str| app.wait_for(&format!("[data-testid={testid}]"), Duration::from_secs(10)).unwrap()[0].clone();
    app.execute("const i = document.querySelector('[data-testid=connector-name]'); i.value = ''; i.dispatchEvent(new Event('input'));")
        .unwrap();
    app.type_into(&field("connector-name"), "dd-form").unwrap();
    app.type_into(&field("setting-endpoint"), &estate.datadog.url()).unwrap();
    let api_key = estate.datadog_credentials.get("api_key").to_owned();
    let app_key = estate.datadog_credentials.get("app_key").to_owned();
    app.type_into(&field("credential-api_key"), &api_key).unwrap();
    app.type_into(&field("credential-app_key"), &app_key).unwrap();
    click_when_ready(&app, "[data-testid=add-connector]");
    webdriver::answer_native_dialog("Keyward: a connector endpoint", "alt+u").unwrap();
    app.wait_for("[data-connector=dd-form]", Duration::from_secs(20)).unwrap();
    click_when_ready(&app, "[data-connector=dd-form] [data-testid=sync-connector]");
    let said = wait_for_text(&app, " new, ", Duration::from_secs(60)); // the sync's summary, not its progress
    let synced = home.json(&["keys", "list", "--json"]);
    let from_form = synced.as_array().unwrap().iter().filter(|k| k["account"] == "dd-form").count();
    assert!(from_form > 0 && said.contains(&format!("dd-form: {from_form} keys")), "{said}");
    let source = app.source().unwrap();
    assert!(!source.contains(&api_key) && !source.contains(&app_key), "a credential came back to the page");

    // Edited: a new endpoint (the same stand-in, another spelling) is confirmed natively, the
    // sealed credentials are kept (the form never had them), and the connector syncs again.
    click_when_ready(&app, "[data-connector=dd-form] [data-testid=edit-connector]");
    let endpoint = field("setting-endpoint");
    app.execute("const i = document.querySelector('[data-testid=setting-endpoint]'); i.value = ''; i.dispatchEvent(new Event('input'));")
        .unwrap();
    let moved = estate.datadog.url().replace("127.0.0.1", "localhost");
    app.type_into(&endpoint, &moved).unwrap();
    click_when_ready(&app, "[data-testid=add-connector]");
    webdriver::answer_native_dialog("Keyward: change a connector", "alt+s").unwrap();
    wait_until("the edit did not reach the vault", || {
        home.json(&["connector", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["settings"]["endpoint"] == moved.as_str())
    });
    let log = home.json(&["log", "--json"]);
    let edited = log.as_array().unwrap().iter().find(|a| a["action"] == "connector.edit").expect("the edit is logged");
    assert_eq!(edited["detail"], "settings changed: endpoint", "{edited}");
    click_when_ready(&app, "[data-connector=dd-form] [data-testid=sync-connector]");
    let said = wait_for_text(&app, " new, ", Duration::from_secs(60));
    assert!(said.contains("dd-form"), "{said}");
    home.ok(&["connector", "test", "dd-form"]); // every check passes: the kept credentials still work

    // A key registered by hand, checked at the provider (the demo's Linear stand-in).
    click_when_ready(&app, "[data-testid=tab-add-key]");
    let provider = field("key-provider");
    app.execute("const s = document.querySelector('[data-testid=key-provider]'); s.value = 'linear'; s.dispatchEvent(new Event('change'));")
        .unwrap();
    let _ = provider;
    app.type_into(&field("key-name"), "by-hand-e2e").unwrap();
    app.type_into(&field("key-owner"), "ops").unwrap();
    app.type_into(&field("key-secret"), "lin_api_byhandE2E0123456789abcdefghijklmnopq").unwrap();
    click_when_ready(&app, "[data-testid=register-key]");
    app.wait_for("[data-testid=key-fields]", Duration::from_secs(30)).unwrap();
    let listed = home.json(&["keys", "list", "--json"]);
    let by_hand = listed.as_array().unwrap().iter().find(|k| k["name"] == "by-hand-e2e").expect("registered");
    assert_eq!(by_hand["owner"], "ops");
    wait_until("the check did not run", || {
        home.json(&["keys", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "by-hand-e2e" && !k["check_result"].is_null())
    });
    click_when_ready(&app, "[data-testid=close-detail]");

    // A schedule changed: the next five times shown, saved to the vault.
    click_when_ready(&app, "[data-testid=tab-schedules]");
    let cron = app.wait_for("[data-job=audit] [data-testid=job-cron]", Duration::from_secs(20)).unwrap()[0].clone();
    app.execute("const i = document.querySelector('[data-job=audit] [data-testid=job-cron]'); i.value = ''; i.dispatchEvent(new Event('input'));")
        .unwrap();
    app.type_into(&cron, "15 */6 * * *").unwrap();
    wait_until("the next runs were not shown", || {
        app.find_all("[data-job=audit] [data-testid=job-next] small").unwrap().len() == 5
    });
    click_when_ready(&app, "[data-job=audit] [data-testid=job-save]");
    wait_until("the schedule did not reach the vault", || {
        home.json(&["schedule", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == "audit" && j["cron"] == "15 */6 * * *")
    });
    // Pausing a job is confirmed outside the page; declined, the job stays on.
    click_when_ready(&app, "[data-job=audit] [data-testid=job-toggle]");
    webdriver::answer_native_dialog("Keyward: pause a job", "Escape").unwrap();
    wait_for_text(&app, "not confirmed", Duration::from_secs(10));
    let audit = home.json(&["schedule", "list", "--json"]);
    assert!(audit.as_array().unwrap().iter().any(|j| j["id"] == "audit" && j["enabled"] == true), "{audit}");

    // A webhook added (confirmed outside the page) and sent a test delivery.
    let (hook, seen) = receiver();
    click_when_ready(&app, "[data-testid=tab-notifications]");
    app.type_into(&field("webhook-name"), "ops-hook").unwrap();
    app.execute("const s = document.querySelector('[data-testid=webhook-kind]'); s.value = 'json'; s.dispatchEvent(new Event('change'));")
        .unwrap();
    app.type_into(&field("webhook-url"), &hook).unwrap();
    click_when_ready(&app, "[data-testid=add-webhook]");
    webdriver::answer_native_dialog("Keyward: add a webhook", "alt+a").unwrap();
    app.wait_for("[data-testid=signing-key]", Duration::from_secs(20)).unwrap();
    click_when_ready(&app, "[data-testid=test-webhook]");
    wait_for_text(&app, "ops-hook: delivered (HTTP 200)", Duration::from_secs(30));
    assert_eq!(seen.lock().unwrap().len(), 1, "one test delivery");
    assert!(
        seen.lock().unwrap()[0].contains("x-keyward-signature")
            || seen.lock().unwrap()[0].to_lowercase().contains("signature")
    );
    wait_until("the delivery log did not show it", || !app.find_all("[data-testid=delivery-row]").unwrap().is_empty());
    // Removed, confirmed outside the page: its channel hears no more.
    click_when_ready(&app, "[data-testid=remove-webhook]");
    webdriver::answer_native_dialog("Keyward: remove a webhook", "alt+r").unwrap();
    wait_until("the webhook was not removed", || home.ok(&["notify", "webhook", "list"]).contains("No webhooks"));

    // A report written where the user says, through the native save dialog.
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("findings.csv");
    click_when_ready(&app, "[data-testid=tab-reports]");
    click_when_ready(&app, "[data-testid=report-csv]");
    webdriver::answer_native_dialog("Keyward: save", "ctrl+a").unwrap();
    webdriver::type_into_native_dialog("Keyward: save", path.to_str().unwrap()).unwrap();
    webdriver::answer_native_dialog("Keyward: save", "Return").unwrap();
    wait_until("the report was not written", || path.exists());
    wait_for_text(&app, "Report written to", Duration::from_secs(10));
    let csv = std::fs::read_to_string(&path).unwrap();
    let firing = home.json(&["findings", "list", "--json"]).as_array().unwrap().len();
    assert!(csv.lines().count() > firing / 2, "the report holds the findings");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0, "readable by the user alone");

    // Exposure, for the README.
    click_when_ready(&app, "[data-testid=tab-exposure]");
    app.wait_for("[data-testid=exposures-table]", Duration::from_secs(20)).unwrap();
    screenshot(&app, "exposure");

    // Every view fits the default 1200 px window: no horizontal scrollbar anywhere.
    for view in [
        "dashboard",
        "keys",
        "findings",
        "exposure",
        "connectors",
        "add-key",
        "schedules",
        "notifications",
        "reports",
        "policy",
        "log",
        "settings",
    ] {
        click_when_ready(&app, &format!("[data-testid=tab-{view}]"));
        std::thread::sleep(Duration::from_millis(700)); // loaded and laid out
        let overflow = app
            .execute(
                "const wide = [...document.querySelectorAll('main, main *')].filter((e) => e.scrollWidth > e.clientWidth + 1
                   && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX));
                 const page = document.documentElement.scrollWidth > window.innerWidth + 1;
                 return (page ? ['page'] : []).concat(wide.map((e) => e.tagName + '.' + e.className)).join(', ');",
            )
            .unwrap();
        assert_eq!(overflow, "", "{view} scrolls sideways at 1200 px");
    }
    drop(rt);
}
