//! `keyward daemon` as a user runs it: jobs from `keyward schedule`, a scheduled audit whose new
//! findings reach a webhook (signature checked by the receiver), the run recorded, and a clean
//! stop on SIGTERM. Also the schedule and notify commands' contracts.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use keyward_fakes::server::FakeServer;
use keyward_fakes::webhook::Receiver;
use keyward_tests::{Home, contains, files_under};

const SIGNING_KEY: &str = "whsec-daemon-planted-9d1e2f";

#[test]
fn the_daemon_runs_the_audit_notifies_and_stops_cleanly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let receiver = rt.block_on(FakeServer::start(Receiver::signed(SIGNING_KEY))).unwrap();
    let mut home = Home::new();
    home.ok(&["demo"]);

    // Only the audit, every second; the demo's syncs are switched off.
    let ids = home.schedule_only_the_audit("* * * * * *");
    assert!(ids.contains(&"audit".to_owned()) && ids.contains(&"sync:demo-datadog".to_owned()), "{ids:?}");
    let bad = home.run(&["schedule", "set", "audit", "--cron", "every minute"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a cron expression"));

    // A signed webhook; a stricter policy makes new findings for the scheduled audit to tell.
    home.set_env("KEYWARD_WEBHOOK_URL", &format!("{}/keyward", receiver.url()));
    home.set_env("KEYWARD_WEBHOOK_SECRET", SIGNING_KEY);
    home.ok(&["notify", "webhook", "add", "siem", "--kind", "json"]);
    std::fs::write(home.path().join("policy.toml"), "[defaults]\nnot_rotated_days = 7\n").unwrap();

    let mut child =
        home.command(&["daemon", "--max-jitter", "0"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let mut seen = Vec::new();
    let finished = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no audit finished: {seen:#?}"));
        seen.push(line.clone());
        if line.contains("finished audit") {
            break line;
        }
    };
    assert!(finished.contains("new") && finished.contains("notifications"), "{finished}");
    // SIGTERM, as a service manager stops the daemon.
    let killed = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let rest: Vec<String> = rx.iter().collect();
    assert!(status.success(), "clean exit on SIGTERM: {status:?} {rest:?}");
    assert!(rest.iter().any(|l| l.ends_with("stopped")), "{rest:?}");

    let received = receiver.provider().received.lock().unwrap().clone();
    assert!(!received.is_empty(), "the webhook heard the new findings");
    assert_eq!(*receiver.provider().refused.lock().unwrap(), 0, "every signature verified");
    // One audit's many new findings reach the webhook as one message carrying them all.
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].body["event"], "audit.batch");
    assert!(received[0].body["findings"].as_array().unwrap().len() > 3);
    let audit = home.json(&["schedule", "list", "--json"]);
    let audit = audit.as_array().unwrap().iter().find(|j| j["id"] == "audit").unwrap().clone();
    assert_eq!(audit["last_status"], "ok", "{audit}");
    let log = home.json(&["notify", "log", "--json"]);
    assert!(log.as_array().unwrap().iter().any(|d| d["channel"] == "webhook:siem" && d["status"] == "delivered"));
    // `keyward audit --notify` does the same from a shell (or cron): a stricter policy, news told.
    let before = receiver.provider().received.lock().unwrap().len();
    std::fs::write(home.path().join("policy.toml"), "[defaults]\nnot_rotated_days = 2\n").unwrap();
    let summary = home.ok(&["audit", "--notify"]);
    assert!(summary.contains("notifications, 0 webhook deliveries failed"), "{summary}");
    assert_eq!(receiver.provider().received.lock().unwrap().len(), before + 1, "one message for the audit");
    // The signing key is sealed.
    for f in files_under(home.path()) {
        assert!(!contains(&std::fs::read(&f).unwrap(), SIGNING_KEY.as_bytes()), "{} holds the key", f.display());
    }
}
