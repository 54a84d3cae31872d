//! A sync the user cancels stops at once, stores nothing of what it had not finished, and says
//! so in its runs (issue 18: the app's Sync stayed disabled for minutes with no way out).

use std::time::{Duration, Instant};

use keyward_core::Secret;
use keyward_core::api;
use keyward_core::connector::{ConnectorSettings, Credentials};
use keyward_core::crypto::KdfParams;
use keyward_core::vault::Vault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_sync_stops_at_once_and_records_why() {
    // A provider that accepts the connection and never answers.
    let addr = keyward_fakes::silent_provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    let fast = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
    let mut vault = Vault::create_with(&path, Some(&Secret::new("pw".into())), fast).unwrap();
    let settings = ConnectorSettings::from_iter([("endpoint", format!("http://{addr}").into())]);
    let mut credentials = Credentials::default();
    credentials.insert("api_key", Secret::new("0123456789abcdef0123456789abcdef".into()));
    credentials.insert("app_key", Secret::new("0123456789abcdef0123456789abcdef01234567".into()));
    // Only the demo workspace marks its connectors: a settings object carrying the mark (the
    // app's form, a script) is refused, or its syncs would go to the demo's stand-ins.
    let mut marked = settings.clone();
    marked.set("demo", true);
    let e = api::add_connector(&mut vault, "marked", "datadog", marked, &credentials).unwrap_err();
    assert!(e.to_string().contains("\"demo\" is not a setting"), "{e}");
    api::add_connector(&mut vault, "mute", "datadog", settings, &credentials).unwrap();

    let started = Instant::now();
    let result = api::sync_cancellable(&mut vault, None, &|_| {}, tokio::time::sleep(Duration::from_millis(300))).await;
    let elapsed = started.elapsed();
    let err = result.unwrap_err().to_string();
    assert!(err.contains("sync cancelled: 1 connectors stopped"), "{err}");
    // Stopped by the cancel, not by the provider's timeouts (two silences of 10 s).
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let db = rusqlite::Connection::open(&path).unwrap();
    let (status, error): (String, String) =
        db.query_row("SELECT status, error FROM sync_runs", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(status, "failed");
    assert!(error.starts_with("cancelled by the user"), "{error}");
    assert!(api::list_keys(&vault, true, chrono::Utc::now()).unwrap().is_empty());
}

/// Locking the window's vault stops the demo it is building (no handle outlives the lock), and
/// the demo's sync runs are closed, not left running for as long as the app lives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_stops_the_demo_and_closes_its_sync_runs() {
    let dir = tempfile::tempdir().unwrap();
    let home = api::Home::new(dir.path());
    let mut vault = api::init(&home, Some(&Secret::new("pw".into()))).unwrap();
    // The lock comes as the first sync reports progress.
    let locked = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = locked.clone();
    let err = api::demo(&home, &mut vault, &move |_| signal.notify_one(), async move { locked.notified().await })
        .await
        .unwrap_err();
    assert!(matches!(err, keyward_core::Error::Vault(api::VaultError::Locked)), "{err}");
    let db = rusqlite::Connection::open(dir.path().join("vault.db")).unwrap();
    let runs: Vec<(String, Option<String>)> = db
        .prepare("SELECT status, error FROM sync_runs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!runs.is_empty(), "the demo had begun its syncs");
    assert!(runs.iter().all(|(status, _)| status != "running"), "{runs:?}");
    assert!(
        runs.iter().any(|(_, error)| error.as_deref().is_some_and(|e| e.starts_with("the vault was locked"))),
        "{runs:?}"
    );
}
