//! The findings lifecycle end to end: a real vault, the Datadog stand-in, syncs and audits on a
//! moving clock. Findings open once, stay stable, escalate, can be acknowledged and snoozed,
//! resolve with the right reason (rotated, deleted, policy changed) and reopen; the policy file's
//! errors keep the previous policy in force; risk scores add up their parts.

mod support;

use chrono::{Duration, Utc};
use keyward_core::Error;
use keyward_core::api::{self, FindingState, FindingView};
use keyward_fakes::datadog::State;
use support::{DatadogHome, key, user};

fn find<'a>(fs: &'a [FindingView], rule: &str, external_id: &str) -> Option<&'a FindingView> {
    fs.iter().find(|f| f.rule_id == rule && f.external_id.as_deref() == Some(external_id))
}

fn all(vault: &keyward_core::vault::Vault) -> Vec<FindingView> {
    api::list_findings(vault, &[]).unwrap()
}

fn events(vault: &keyward_core::vault::Vault, id: i64) -> Vec<(String, Option<String>)> {
    api::finding_history(vault, id).unwrap().into_iter().map(|e| (e.event, e.reason)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_live_across_audits() {
    let t0 = Utc::now();
    let state = State {
        users: vec![user("u-ada", "ada@example.com", false), user("u-ken", "ken@example.com", true)],
        api_keys: vec![key("OLDAPI", "u-ada", t0 - Duration::days(200), None)],
        pats: vec![
            key("PAT1", "u-ada", t0 - Duration::days(10), Some(t0 + Duration::days(20))),
            key("KENPAT", "u-ken", t0 - Duration::days(5), Some(t0 + Duration::days(300))),
        ],
        ..Default::default()
    };
    let mut dd = DatadogHome::start(state).await;
    let (home, dir) = (dd.home.clone(), dd.dir.path().to_owned());

    // First audit: everything opens once.
    let first = api::run_audit(&home, &mut dd.vault, t0).unwrap();
    let fs = &first.findings;
    let expiring = find(fs, "key_expiring", "PAT1").expect("PAT1 expires in 20 days").clone();
    assert_eq!((expiring.severity.as_str(), expiring.state), ("low", FindingState::Open));
    let rotated = find(fs, "key_not_rotated", "OLDAPI").expect("OLDAPI is 200 days old").clone();
    let departed = find(fs, "key_owner_removed", "KENPAT").expect("ken is disabled").clone();
    assert_eq!(first.opened, fs.len());
    assert_eq!(first.resolved, 0);

    // The same audit again changes nothing and keeps the ids.
    let again = api::run_audit(&home, &mut dd.vault, t0).unwrap();
    assert_eq!((again.opened, again.escalated, again.resolved), (0, 0, 0));
    assert_eq!(find(&again.findings, "key_expiring", "PAT1").unwrap().id, expiring.id);

    // Risk: OLDAPI's score is the sum of its open findings' weights, each part listed.
    let keys = api::list_keys(&dd.vault, false, t0).unwrap();
    let old = keys.iter().find(|k| k.external_id.as_deref() == Some("OLDAPI")).unwrap();
    let rules: Vec<&str> = old.risk_parts.iter().map(|p| p.rule_id.as_str()).collect();
    assert!(rules.contains(&"key_not_rotated") && rules.contains(&"secret_readable_after_creation"), "{rules:?}");
    assert_eq!(old.risk, old.risk_parts.iter().map(|p| p.weight).sum::<u32>());
    assert_eq!(old.open_findings, old.risk_parts.len());
    assert!(keys.iter().all(|k| k.risk_parts.iter().all(|p| p.weight > 0)));

    // The user acknowledges one and snoozes another.
    api::acknowledge_finding(&mut dd.vault, rotated.id, Some("rotating in Q3")).unwrap();
    let until = t0 + Duration::days(5);
    let e = api::snooze_finding(&mut dd.vault, departed.id, t0 - Duration::days(1), None).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e}");
    api::snooze_finding(&mut dd.vault, departed.id, until, Some("ken's handover")).unwrap();
    // Acknowledged findings do not count towards risk.
    let old_after = api::list_keys(&dd.vault, false, t0).unwrap();
    let old_after = old_after.iter().find(|k| k.external_id.as_deref() == Some("OLDAPI")).unwrap();
    assert!(!old_after.risk_parts.iter().any(|p| p.rule_id == "key_not_rotated"));

    // Three days on: still acknowledged, still snoozed.
    let day3 = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(3)).unwrap();
    assert_eq!(find(&day3.findings, "key_not_rotated", "OLDAPI").unwrap().state, FindingState::Acknowledged);
    assert_eq!(find(&day3.findings, "key_owner_removed", "KENPAT").unwrap().state, FindingState::Snoozed);

    // Two weeks on: PAT1 expires in 6 days (escalates to medium); the snooze is over.
    let day14 = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(14)).unwrap();
    assert_eq!(day14.escalated, 1);
    let f = find(&day14.findings, "key_expiring", "PAT1").unwrap();
    assert_eq!((f.severity.as_str(), f.state, f.id), ("medium", FindingState::Open, expiring.id));
    assert_eq!(find(&day14.findings, "key_owner_removed", "KENPAT").unwrap().state, FindingState::Open);
    assert_eq!(find(&day14.findings, "key_not_rotated", "OLDAPI").unwrap().state, FindingState::Acknowledged);

    // Ada rotates PAT1: a new token, the old one deleted. Ken's token is deleted outright.
    dd.edit(|s| {
        s.pats.retain(|k| k.id != "PAT1" && k.id != "KENPAT");
        s.pats.push(key("PAT2", "u-ada", t0, Some(t0 + Duration::days(365))));
    });
    dd.sync().await;
    let day15 = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(15)).unwrap();
    assert_eq!(day15.opened, 0, "{:?}", day15.changes);
    let everything = all(&dd.vault);
    let pat1 = find(&everything, "key_expiring", "PAT1").unwrap();
    assert_eq!((pat1.state, pat1.resolution.as_deref()), (FindingState::Resolved, Some("key_rotated")));
    let ken = find(&everything, "key_owner_removed", "KENPAT").unwrap();
    assert_eq!(ken.resolution.as_deref(), Some("key_deleted"));
    assert_eq!(
        events(&dd.vault, pat1.id),
        vec![("opened".into(), None), ("escalated".into(), None), ("resolved".into(), Some("key_rotated".into()))]
    );
    let ken_events: Vec<String> = events(&dd.vault, ken.id).into_iter().map(|(e, _)| e).collect();
    assert_eq!(ken_events, ["opened", "snoozed", "snooze_ended", "resolved"]);
    // A resolved finding cannot be acknowledged.
    assert!(matches!(api::acknowledge_finding(&mut dd.vault, pat1.id, None), Err(Error::Conflict(_))));

    // The policy raises the rotation period: the finding resolves as "policy changed".
    let policy_file = dir.join("policy.toml");
    std::fs::write(&policy_file, "[defaults]\nnot_rotated_days = 365\n").unwrap();
    let relaxed = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(16)).unwrap();
    assert!(relaxed.policy_problem.is_none());
    let r = find(&all(&dd.vault), "key_not_rotated", "OLDAPI").unwrap().clone();
    assert_eq!(r.resolution.as_deref(), Some("policy_changed"));

    // A broken policy file: named line, previous policy kept, nothing reopens or resolves.
    std::fs::write(&policy_file, "[defaults]\nnot_rotated_days = 365\nunused_days = \"soon\"\n").unwrap();
    let broken = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(17)).unwrap();
    let problem = broken.policy_problem.expect("the error is reported");
    assert!(problem.contains("policy.toml") && problem.contains("line 3"), "{problem}");
    assert_eq!((broken.opened, broken.resolved), (0, 0));
    // Saving a bad text from the app is refused and leaves the file as it was.
    let before = std::fs::read_to_string(&policy_file).unwrap();
    let e = api::save_policy(&home, &dd.vault, "[rules.nope]\nenabled = false\n").unwrap_err();
    assert!(e.to_string().contains("line 1") && e.to_string().contains("unknown rule"), "{e}");
    assert_eq!(std::fs::read_to_string(&policy_file).unwrap(), before);

    // Back to a 90-day policy: the finding reopens, same id, with its history.
    api::save_policy(&home, &dd.vault, "[defaults]\nnot_rotated_days = 90\n").unwrap();
    let strict = api::run_audit(&home, &mut dd.vault, t0 + Duration::days(18)).unwrap();
    let back = find(&strict.findings, "key_not_rotated", "OLDAPI").unwrap();
    assert_eq!((back.id, back.state), (rotated.id, FindingState::Open));
    let hist: Vec<String> = events(&dd.vault, back.id).into_iter().map(|(e, _)| e).collect();
    assert_eq!(hist, ["opened", "acknowledged", "resolved", "reopened"]);
}
