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

/// Lines a child prints, as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    rx
}

/// Waits for a line containing `needle`, keeping every line seen in `seen`.
fn wait_for_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>, within: Duration) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no {needle:?} within {within:?}: {seen:#?}"));
        seen.push(line.clone());
        if line.contains(needle) {
            return line;
        }
    }
}

/// The fire times of one job's runs a daemon started ("started audit (due …)", "(catching up
/// the run due …)").
fn fire_times(lines: &[String], job: &str) -> Vec<String> {
    let started = format!(" started {job} (");
    lines
        .iter()
        .filter(|l| l.contains(&started))
        .filter_map(|l| l.rsplit_once("due ").map(|(_, t)| t.trim_end_matches(')').to_owned()))
        .collect()
}

/// Two daemons on one home (issue 12): each fire time of the per-second audit runs in one of
/// them; a job one of them runs is left to it ("running in …", also in `schedule list`); killed
/// with SIGKILL in the middle of a run, its job is taken over by the other once its lease expires.
#[test]
fn two_daemons_run_each_fire_time_once_and_take_over_a_dead_one() {
    let addr = keyward_fakes::silent_provider();
    let mut home = Home::initialised();
    home.set_env("DD_API_KEY", "0123456789abcdef0123456789abcdef");
    home.set_env("DD_APP_KEY", "0123456789abcdef0123456789abcdef01234567");
    home.ok(&["connector", "add", "datadog", "--name", "mute", "--endpoint", &format!("http://{addr}")]);
    home.schedule_only_the_audit("* * * * * *");
    // A sync that waits on a provider that never answers: a run of ~20 s, time to kill its holder.
    home.ok(&["schedule", "set", "sync:mute", "--cron", "* * * * * *", "--enable"]);
    home.set_env("KEYWARD_LEASE_SECS", "3");
    let daemon =
        || home.command(&["daemon", "--max-jitter", "0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();

    let mut first = daemon();
    let first_out = lines_of(&mut first);
    let mut first_seen = Vec::new();
    wait_for_line(&first_out, "started sync:mute", &mut first_seen, Duration::from_secs(30));
    let holder = format!("keyward daemon (pid {} on ", first.id());
    let listed = home.ok(&["schedule", "list"]);
    let row = listed.lines().find(|l| l.starts_with("sync:mute")).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains(&format!("running in {holder}")), "{listed}");

    let mut second = daemon();
    let second_out = lines_of(&mut second);
    let mut second_seen = Vec::new();
    let left = wait_for_line(&second_out, "sync:mute is running in", &mut second_seen, Duration::from_secs(30));
    assert!(left.contains(&holder), "{left}");
    // Both look at the per-second audit for a while.
    std::thread::sleep(Duration::from_secs(4));

    // Killed in the middle of its sync: nothing gives its lease back.
    let killed = std::process::Command::new("kill").arg("-KILL").arg(first.id().to_string()).status().unwrap();
    assert!(killed.success());
    let _ = first.wait();
    first_seen.extend(first_out.try_iter());
    second_seen.extend(second_out.try_iter());
    assert!(fire_times(&second_seen, "sync:mute").is_empty(), "taken while its holder lived: {second_seen:#?}");
    let killed_at = std::time::Instant::now();
    wait_for_line(&second_out, "started sync:mute", &mut second_seen, Duration::from_secs(30));
    let took = killed_at.elapsed();

    std::process::Command::new("kill").arg("-TERM").arg(second.id().to_string()).status().unwrap();
    let _ = second.wait();
    second_seen.extend(second_out.iter());
    let mut audits = fire_times(&first_seen, "audit");
    let (by_first, by_second) = (audits.len(), fire_times(&second_seen, "audit").len());
    audits.extend(fire_times(&second_seen, "audit"));
    assert!(audits.len() >= 4, "{first_seen:#?} {second_seen:#?}");
    let mut unique = audits.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), audits.len(), "a fire time ran twice: {first_seen:#?} {second_seen:#?}");
    eprintln!(
        "audits: {by_first} by the first daemon, {by_second} by the second; sync taken over {took:?} after the kill"
    );
}
