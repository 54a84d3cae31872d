//! Notifications end to end: audits on a moving clock against the Datadog stand-in, webhooks
//! received by local receivers that check the HMAC signature (and a Slack-compatible one);
//! one notification per key, nothing said twice, escalations, reminders that close on rotation,
//! retries with backoff, quiet hours, the daily digest, the delivery log, and sealed webhook
//! secrets.

mod support;

use std::time::Duration;

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use keyward_core::Secret;
use keyward_core::api::{self, FindingState, Home};
use keyward_core::notify::{self, Notification, Preferences, Retry};
use keyward_core::vault::Vault;
use keyward_fakes::datadog::State;
use keyward_fakes::server::{FakeServer, Fault};
use keyward_fakes::webhook::Receiver;
use support::{DatadogHome, key, user};

const SIGNING_KEY: &str = "whsec-planted-5b2f0c9e7d4a1368";
const SLACK_TOKEN: &str = "XoXbPlantedSlackPathToken42";

fn fast() -> Retry {
    Retry { attempts: 4, base: Duration::from_millis(20), max_wait: Duration::from_secs(2) }
}

async fn audit_and_notify(home: &Home, vault: &mut Vault, at: DateTime<Utc>) -> Vec<Notification> {
    let report = api::run_audit(home, vault, at).unwrap();
    let notes = notify::after_audit(vault, &report.changes, at).unwrap();
    notify::deliver(vault, &notes, fast()).await.unwrap();
    notes
}

fn subjects(notes: &[Notification]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = notes.iter().map(|n| (n.event.clone(), n.subject.clone())).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_hear_each_thing_once_and_signed() {
    let t0 = Utc::now();
    let state = State {
        users: vec![user("u-ada", "ada@example.com", false), user("u-ken", "ken@example.com", true)],
        api_keys: vec![key("OLDAPI", "u-ada", t0 - Days::days(200), None)],
        pats: vec![
            key("PAT1", "u-ada", t0 - Days::days(10), Some(t0 + Days::days(20))),
            key("KENPAT", "u-ken", t0 - Days::days(5), Some(t0 + Days::days(300))),
        ],
        ..Default::default()
    };
    let json_hook = FakeServer::start(Receiver::signed(SIGNING_KEY)).await.unwrap();
    let slack_hook = FakeServer::start(Receiver::slack()).await.unwrap();
    let mut dd = DatadogHome::start(state).await;
    let home = dd.home.clone();

    // Webhooks: bad ones refused, good ones sealed.
    let url = |s: &FakeServer<Receiver>, path: &str| Secret::new(format!("{}{path}", s.url()));
    let e = notify::add_webhook(&dd.vault, "x", "json", &url(&json_hook, "/hook"), Some(&Secret::new("short".into())));
    assert!(e.unwrap_err().to_string().contains("signing key"));
    let e = notify::add_webhook(&dd.vault, "x", "slack", &Secret::new("http://example.com/hook".into()), None);
    assert!(e.unwrap_err().to_string().contains("https"));
    notify::add_webhook(&dd.vault, "siem", "json", &url(&json_hook, "/hook"), Some(&Secret::new(SIGNING_KEY.into())))
        .unwrap();
    let slack = notify::add_webhook(
        &dd.vault,
        "team",
        "slack",
        &url(&slack_hook, &format!("/services/T0/B0/{SLACK_TOKEN}")),
        None,
    )
    .unwrap();
    assert!(!slack.url.contains(SLACK_TOKEN), "the listing hides the URL's path: {}", slack.url);
    notify::set_preferences(&dd.vault, &Preferences { utc_offset_minutes: Some(0), ..Preferences::default() }).unwrap();

    // First audit: one notification per key, at or above medium, plus the expiry reminder.
    let first = audit_and_notify(&home, &mut dd.vault, t0).await;
    assert_eq!(
        subjects(&first),
        vec![
            ("finding.opened".into(), "kenpat".into()),
            ("finding.opened".into(), "oldapi".into()),
            ("finding.opened".into(), "pat1".into()),
        ]
    );
    let old = first.iter().find(|n| n.subject == "oldapi").unwrap();
    assert_eq!(
        old.findings.iter().map(|f| f.rule_id.as_str()).collect::<Vec<_>>(),
        ["key_not_rotated"],
        "low findings stay quiet"
    );
    let received = json_hook.provider().received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    assert_eq!(*json_hook.provider().refused.lock().unwrap(), 0, "every signature verified");
    assert!(received.iter().all(|r| r.body["event"] == "finding.opened" && r.body["findings"].is_array()));
    assert_eq!(slack_hook.provider().received.lock().unwrap().len(), 3);
    assert!(slack_hook.provider().received.lock().unwrap()[0].body["text"].as_str().unwrap().contains(':'));

    // Nothing is said twice.
    assert!(audit_and_notify(&home, &mut dd.vault, t0 + Days::hours(6)).await.is_empty());
    assert_eq!(json_hook.provider().received.lock().unwrap().len(), 3);

    // Two weeks on the reminder escalates (6 days left) and is told again, once — even when the
    // webhook fails through every retry: what it did not take is held and told by the next audit.
    json_hook.inject([Fault::Status(500); 4]);
    let day14 = audit_and_notify(&home, &mut dd.vault, t0 + Days::days(14)).await;
    assert_eq!(subjects(&day14), vec![("finding.escalated".into(), "pat1".into())]);
    assert_eq!(day14[0].severity, "medium");
    assert_eq!(json_hook.provider().received.lock().unwrap().len(), 3, "the webhook took nothing");
    let retold = audit_and_notify(&home, &mut dd.vault, t0 + Days::days(14) + Days::hours(1)).await;
    assert_eq!(subjects(&retold), vec![("finding.escalated".into(), "pat1".into())]);
    let received = json_hook.provider().received.lock().unwrap().clone();
    assert_eq!(received.len(), 4);
    assert_eq!(received[3].body["event"], "finding.escalated");
    assert!(audit_and_notify(&home, &mut dd.vault, t0 + Days::days(14) + Days::hours(2)).await.is_empty());

    // Rotation closes the reminder.
    dd.edit(|s| {
        s.pats.retain(|k| k.id != "PAT1");
        s.pats.push(key("PAT2", "u-ada", t0, Some(t0 + Days::days(365))));
    });
    dd.sync().await;
    let closed = audit_and_notify(&home, &mut dd.vault, t0 + Days::days(15)).await;
    assert_eq!(subjects(&closed), vec![("reminder.closed".into(), "pat1".into())]);
    assert!(closed[0].title.contains("key_rotated"), "{}", closed[0].title);

    // Retries: two 500s then success; a 429 with Retry-After; a refusal is not retried.
    let note = &first[0];
    let targets = notify::webhook_targets(&dd.vault, Some("siem")).unwrap();
    json_hook.inject([Fault::Status(500), Fault::Status(503)]);
    let d = notify::send(&targets, std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].attempts, d[0].http_status), ("delivered", 3, Some(200)));
    json_hook.inject([Fault::RateLimited(1)]);
    let started = std::time::Instant::now();
    let d = notify::send(&targets, std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].attempts), ("delivered", 2));
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as Retry-After asked");
    json_hook.inject([Fault::Status(400)]);
    let d = notify::send(&targets, std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].attempts), ("failed", 1));
    // A 2xx stands whatever its body does: a huge one is neither a failure nor sent again.
    json_hook.inject([Fault::Oversized(1 << 20)]);
    let d = notify::send(&targets, std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].attempts, d[0].http_status), ("delivered", 1, Some(200)));
    json_hook.inject([Fault::Status(500); 4]);
    let d = notify::send(&targets, std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].attempts), ("failed", 4));
    notify::record_deliveries(&dd.vault, &d).unwrap();
    let log = notify::deliveries(&dd.vault, 100).unwrap();
    assert_eq!(log[0].status, "failed");
    assert!(log.iter().filter(|l| l.status == "delivered").count() >= 10);
    assert!(
        log.iter().all(|l| l.error.as_deref().is_none_or(|e| !e.contains("127.0.0.1"))),
        "errors never carry the URL"
    );

    // Many notifications from one audit reach each webhook as one message carrying them all.
    let before = json_hook.provider().received.lock().unwrap().len();
    let many = [first.clone(), first.clone()].concat();
    let d = notify::deliver(&mut dd.vault, &many, fast()).await.unwrap();
    assert_eq!(d.len(), 2, "one delivery per webhook: {d:?}");
    let received = json_hook.provider().received.lock().unwrap().clone();
    assert_eq!(received.len(), before + 1);
    let body = &received.last().unwrap().body;
    assert_eq!(body["event"], "audit.batch");
    let findings: usize = many.iter().map(|n| n.findings.len()).sum();
    assert_eq!(body["findings"].as_array().unwrap().len(), findings);

    // A wrong signing key is refused by the receiver: the signature is real.
    let bad = notify::WebhookTarget {
        key: Some(Secret::new("another-key-0000000".into())),
        ..notify::webhook_targets(&dd.vault, Some("siem")).unwrap().remove(0)
    };
    let d = notify::send(&[bad], std::slice::from_ref(note), fast()).await;
    assert_eq!((d[0].status.as_str(), d[0].http_status), ("failed", Some(401)));

    // The signing key and the Slack URL's token are sealed: not in any file of the home.
    let DatadogHome { vault, dir, .. } = dd;
    drop(vault); // closes the database: the WAL is checkpointed
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for planted in [SIGNING_KEY, SLACK_TOKEN] {
            assert!(!bytes.windows(planted.len()).any(|w| w == planted.as_bytes()), "{planted} on disk");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_and_the_digest_gathers() {
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 23, 0, 0).unwrap(); // 23:00 UTC
    let now = Utc::now();
    let state = State {
        users: vec![user("u", "u@example.com", true)],
        pats: vec![key("A", "u", now - Days::days(3), Some(now + Days::days(300)))],
        ..Default::default()
    };
    let mut dd = DatadogHome::start(state).await;
    let home = dd.home.clone();

    let bad = Preferences { quiet_hours: Some((7, 7)), ..Preferences::default() };
    assert!(notify::set_preferences(&dd.vault, &bad).is_err());
    // A digest in the quiet hours would hold every finding for ever: refused.
    let never = Preferences { quiet_hours: Some((22, 7)), digest_hour: Some(23), ..Preferences::default() };
    assert!(notify::set_preferences(&dd.vault, &never).is_err());
    let quiet = Preferences { quiet_hours: Some((22, 7)), utc_offset_minutes: Some(0), ..Preferences::default() };
    notify::set_preferences(&dd.vault, &quiet).unwrap();
    let report = api::run_audit(&home, &mut dd.vault, t0).unwrap();
    assert!(report.findings.iter().any(|f| f.rule_id == "key_owner_removed" && f.state == FindingState::Open));
    assert!(notify::after_audit(&mut dd.vault, &report.changes, t0).unwrap().is_empty(), "held at 23:00");
    let later = t0 + Days::hours(9); // 08:00
    let report = api::run_audit(&home, &mut dd.vault, later).unwrap();
    let out = notify::after_audit(&mut dd.vault, &report.changes, later).unwrap();
    assert_eq!(subjects(&out), vec![("finding.opened".into(), "a".into())], "released after the quiet hours");

    // Digest at 09:00: new findings wait for it, then come out as one.
    notify::set_preferences(
        &dd.vault,
        &Preferences { digest_hour: Some(9), utc_offset_minutes: Some(0), ..Preferences::default() },
    )
    .unwrap();
    dd.edit(|s| {
        s.pats.push(key("B", "u", now - Days::days(2), Some(now + Days::days(300))));
        s.pats.push(key("C", "u", now - Days::days(2), Some(now + Days::days(300))));
    });
    dd.sync().await;
    let at_0830 = later + Days::minutes(30);
    let report = api::run_audit(&home, &mut dd.vault, at_0830).unwrap();
    assert!(notify::after_audit(&mut dd.vault, &report.changes, at_0830).unwrap().is_empty());
    let at_0900 = later + Days::hours(1);
    let report = api::run_audit(&home, &mut dd.vault, at_0900).unwrap();
    let digest = notify::after_audit(&mut dd.vault, &report.changes, at_0900).unwrap();
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0].event, "digest");
    assert_eq!(digest[0].findings.len(), 2, "{:?}", digest[0].findings);
    // Once a day.
    let report = api::run_audit(&home, &mut dd.vault, at_0900 + Days::hours(1)).unwrap();
    assert!(notify::after_audit(&mut dd.vault, &report.changes, at_0900 + Days::hours(1)).unwrap().is_empty());
}

/// New exposures reach the webhooks through the audit: a key found in a file, told once; a
/// second scan of the same file says nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_exposures_are_notified_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path());
    let mut vault = api::init(&home, Some(&Secret::new("pw".into()))).unwrap();
    let hook = FakeServer::start(Receiver::signed(SIGNING_KEY)).await.unwrap();
    notify::add_webhook(
        &vault,
        "siem",
        "json",
        &Secret::new(format!("{}/hook", hook.url())),
        Some(&Secret::new(SIGNING_KEY.into())),
    )
    .unwrap();
    let project = tempfile::tempdir().unwrap();
    let token = "ghp_NotifyScenarioToken0123456789abcdefg";
    std::fs::write(project.path().join(".env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    let request = api::ScanRequest { paths: vec![project.path().to_owned()], ..Default::default() };
    let scan = |vault: &mut Vault| {
        api::scan(&home, vault, &request, &|_| {}, &std::sync::atomic::AtomicBool::new(false)).unwrap()
    };
    assert_eq!(scan(&mut vault).new_shadow_keys, 1);
    let notes = audit_and_notify(&home, &mut vault, Utc::now()).await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].findings[0].rule_id, "unknown_key_found");
    let received = hook.provider().received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(received[0].body["findings"][0]["detail"].as_str().unwrap().contains(".env:1"));
    assert!(!serde_json::to_string(&received[0].body).unwrap().contains(token), "the token never leaves");
    scan(&mut vault);
    assert!(audit_and_notify(&home, &mut vault, Utc::now()).await.is_empty());
}
