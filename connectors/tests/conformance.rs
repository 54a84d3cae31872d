//! One conformance suite, run for every REST/GraphQL connector against its stand-in from
//! `keyward-fakes`: happy path, multi-page, 401, 403, 429 with the provider's own headers (short:
//! waited out; long: fails fast saying how long), 5xx then success, malformed JSON, a body that
//! never ends, an oversized body; and a whole listing with a fifth of its requests failing
//! (429s, 5xx, resets, slow and truncated bodies). Plus each provider's own ways of saying "wrong credentials",
//! `check` naming a missing permission, and create/delete at the provider showing in the next
//! listing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use keyward_connectors::atlas::{Atlas, AtlasAuth, AtlasSettings};
use keyward_connectors::datadog::{Datadog, DatadogSettings};
use keyward_connectors::fastly::{Fastly, FastlySettings};
use keyward_connectors::http::HttpSettings;
use keyward_connectors::newrelic::{NewRelic, NewRelicSettings};
use keyward_connectors::{ConnectorError, ErrorKind, Inventory, Progress};
use keyward_fakes::estate::{ATLAS_ORG, Estate};
use keyward_fakes::{FakeServer, Fault, Provider};

type Run = Pin<Box<dyn Future<Output = Result<Inventory, ConnectorError>> + Send>>;
type Inject = Box<dyn Fn(Vec<Fault>) + Send + Sync>;
type Count = Box<dyn Fn() -> usize + Send + Sync>;

fn quiet(_: Progress) {}

/// Test limits: quick retries, a 1 s timeout, a 256 KiB body cap.
fn http() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        max_attempts: 3,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_rate_limit_wait: Duration::from_secs(5),
        max_body_bytes: 256 * 1024,
        concurrency: 8,
        ..HttpSettings::default()
    }
}

/// One connector under test: how to run it, how to break its fake, what it should find.
struct Subject {
    name: &'static str,
    /// Queues faults for the next requests, after dropping any left from an earlier case.
    inject: Inject,
    /// From now on every `n`th request fails with the given faults in turn.
    fail_every: Box<dyn Fn(usize, Vec<Fault>) + Send + Sync>,
    requests: Count,
    run: Box<dyn Fn(HttpSettings) -> Run + Send + Sync>,
    /// Keys the fake holds (what a full listing must return).
    expected: Count,
    /// Whether the provider sends a wait in its 429 (New Relic does not).
    signals_wait: bool,
}

/// A subject served by one of `estate`'s stand-ins (`server` picks it).
fn subject<P: Provider>(
    name: &'static str,
    estate: &Arc<Estate>,
    server: fn(&Estate) -> &FakeServer<P>,
    run: impl Fn(Arc<Estate>, HttpSettings) -> Run + Send + Sync + 'static,
    expected: impl Fn(&P) -> usize + Send + Sync + 'static,
    signals_wait: bool,
) -> Subject {
    let (a, b, c, d, e) = (estate.clone(), estate.clone(), estate.clone(), estate.clone(), estate.clone());
    Subject {
        name,
        inject: Box::new(move |f| {
            server(&a).clear_faults();
            server(&a).inject(f)
        }),
        fail_every: Box::new(move |n, kinds| {
            server(&e).clear_faults();
            server(&e).fail_every(n, kinds)
        }),
        requests: Box::new(move || server(&b).requests()),
        run: Box::new(move |h| run(c.clone(), h)),
        expected: Box::new(move || expected(server(&d).provider())),
        signals_wait,
    }
}

async fn subjects(keys: usize) -> Vec<Subject> {
    let estate = Arc::new(Estate::start(Utc::now(), keys).await.unwrap());
    vec![
        subject(
            "datadog",
            &estate,
            |e| &e.datadog,
            |e, h| {
                Box::pin(async move {
                    let s = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(e.datadog.url()) };
                    let creds = &e.datadog_credentials;
                    Datadog::with_http(&s, creds.get("api_key"), creds.get("app_key"), h)?.inventory(&quiet).await
                })
            },
            |p| {
                let s = p.state.lock().unwrap();
                s.api_keys.len() + s.app_keys.len() + s.pats.len() + s.sats.len()
            },
            true,
        ),
        subject(
            "mongodb_atlas",
            &estate,
            |e| &e.atlas,
            |e, h| {
                Box::pin(async move {
                    let s = AtlasSettings { org_id: ATLAS_ORG.into(), base_url: Some(e.atlas.url()) };
                    let auth = AtlasAuth::ApiKey {
                        public_key: e.atlas_credentials.get("public_key").into(),
                        private_key: e.atlas_credentials.get("private_key").into(),
                    };
                    Atlas::with_http(&s, auth, h)?.inventory(&quiet).await
                })
            },
            |p| {
                let s = p.state.lock().unwrap();
                s.api_keys.len() + s.service_accounts.iter().map(|sa| sa.secrets.len()).sum::<usize>()
            },
            true,
        ),
        subject(
            "fastly",
            &estate,
            |e| &e.fastly,
            |e, h| {
                Box::pin(async move {
                    let s = FastlySettings { base_url: Some(e.fastly.url()) };
                    Fastly::with_http(&s, e.fastly_credentials.get("token"), h)?.inventory(&quiet).await
                })
            },
            |p| {
                let s = p.state.lock().unwrap();
                s.tokens.len() + s.automation_tokens.len()
            },
            true,
        ),
        subject(
            "newrelic",
            &estate,
            |e| &e.newrelic,
            |e, h| {
                Box::pin(async move {
                    let s = NewRelicSettings {
                        region: "us".into(),
                        account_ids: e.newrelic_accounts.clone(),
                        endpoint: Some(format!("{}/graphql", e.newrelic.url())),
                    };
                    NewRelic::with_http(&s, e.newrelic_credentials.get("api_key"), h)?.inventory(&quiet).await
                })
            },
            |p| p.state.lock().unwrap().keys.len(),
            false,
        ),
    ]
}

/// Runs a subject's listing. A failed listing abandons its other requests in flight; give them
/// time to reach the stand-in, so they cannot take the faults queued for the next case.
async fn run(s: &Subject) -> Result<Inventory, ConnectorError> {
    let r = (s.run)(http()).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    r
}

fn kind_of(r: &Result<Inventory, ConnectorError>) -> Option<ErrorKind> {
    r.as_ref().err().map(|e| e.kind)
}

/// Every provider whose registry entry lists keys is a subject here, or (AWS) runs against moto in
/// `tests/scenarios/{aws_moto,apigateway_moto}.rs`.
/// case: datadog:inventory mongodb_atlas:inventory fastly:inventory newrelic:inventory
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_lists_every_key_with_its_fields() {
    let subjects = subjects(6).await;
    let mut covered: Vec<&str> = subjects.iter().map(|s| s.name).chain(["aws", "aws_apigateway"]).collect();
    covered.sort();
    let mut listed: Vec<&str> =
        keyward_connectors::providers::REGISTRY.iter().filter(|p| p.inventory.is_supported()).map(|p| p.id).collect();
    listed.sort();
    assert_eq!(covered, listed, "a subject for every provider that lists keys");
    for s in &subjects {
        let inv = run(s).await.unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(inv.keys.len(), (s.expected)(), "{}: every key listed", s.name);
        for k in &inv.keys {
            assert!(!k.external_id.is_empty() && !k.name.is_empty(), "{}: {k:?}", s.name);
            assert!(!k.kind.is_empty(), "{}: kind", s.name);
            assert!(!k.scopes.is_empty(), "{}: {} has normalised scopes", s.name, k.external_id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_page_listings_are_complete_and_use_several_pages() {
    // 700 keys per provider: more than one page everywhere (Datadog 100, Atlas 500, Fastly
    // automation tokens 100, New Relic 100 per page).
    let subjects = subjects(700).await;
    for s in &subjects {
        let before = (s.requests)();
        let inv = run(s).await.unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(inv.keys.len(), (s.expected)(), "{}: every key of every page", s.name);
        let mut ids: Vec<_> = inv.keys.iter().map(|k| (k.kind, k.external_id.clone())).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), inv.keys.len(), "{}: no key listed twice", s.name);
        assert!((s.requests)() - before > 4, "{}: several pages were fetched", s.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_classified_the_same_for_every_provider() {
    let subjects = subjects(6).await;
    for s in &subjects {
        // Listings run side by side, so a fault that must hit every attempt of whichever request
        // comes first is queued for all of them (attempts × concurrent listings).
        let every = |f: Fault| vec![f; 3 * 4];
        let cases: [(Vec<Fault>, ErrorKind); 5] = [
            (vec![Fault::Status(401)], ErrorKind::Unauthenticated),
            (vec![Fault::Status(403)], ErrorKind::PermissionDenied),
            (vec![Fault::Malformed], ErrorKind::Malformed),
            (vec![Fault::Oversized(1024 * 1024)], ErrorKind::Malformed),
            (every(Fault::Hang), ErrorKind::Transport),
        ];
        for (faults, kind) in cases {
            let what = format!("{}: {faults:?}", s.name);
            (s.inject)(faults);
            let r = run(s).await;
            assert_eq!(kind_of(&r), Some(kind), "{what}: {:?}", r.err());
        }
        // 5xx twice, then the provider recovers: the sync succeeds.
        (s.inject)(vec![Fault::Status(503), Fault::Status(500)]);
        let r = run(s).await;
        assert_eq!(r.map(|i| i.keys.len()).ok(), Some((s.expected)()), "{}: 5xx then success", s.name);
        // 5xx every time: the sync gives up with the status.
        (s.inject)(every(Fault::Status(502)));
        assert_eq!(kind_of(&run(s).await), Some(ErrorKind::UnexpectedStatus), "{}: 5xx give up", s.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_read_from_each_providers_own_headers() {
    let subjects = subjects(6).await;
    for s in &subjects {
        // A short wait is waited out, then the listing completes. (Fastly's reset is a whole
        // epoch second, so "2 s" may mean a little over 1 s.)
        (s.inject)(vec![Fault::RateLimited(2)]);
        let started = Instant::now();
        let r = run(s).await;
        assert!(r.is_ok(), "{}: {:?}", s.name, r.err());
        if s.signals_wait {
            assert!(started.elapsed() >= Duration::from_millis(1000), "{}: waited what the provider asked", s.name);
        }
        // A long wait fails fast, saying how long (when the provider says). Without a signal
        // (New Relic) the client backs off and retries: queue a 429 for every attempt of every
        // request in flight (3 attempts × up to 5 concurrent calls).
        (s.inject)(vec![Fault::RateLimited(3600); 3 * 5]);
        let started = Instant::now();
        let e = run(s).await.err().unwrap_or_else(|| panic!("{}: still rate limited", s.name));
        assert_eq!(e.kind, ErrorKind::RateLimited, "{}", s.name);
        assert!(started.elapsed() < Duration::from_secs(3), "{}: did not sit out an hour", s.name);
        if s.signals_wait {
            let wait = e.retry_after.expect("the provider's wait is reported").as_secs();
            assert!((3590..=3600).contains(&wait), "{}: {wait}", s.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_unauthenticated_in_each_providers_own_way() {
    let estate = Estate::start(Utc::now(), 3).await.unwrap();
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(estate.datadog.url()) };
    let e = Datadog::new(&dd, "0123456789abcdef0123456789abcdef", estate.datadog_credentials.get("app_key"))
        .unwrap()
        .inventory(&quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated, "Datadog answers 403; validate tells it is the key: {e}");

    let at = AtlasSettings { org_id: ATLAS_ORG.into(), base_url: Some(estate.atlas.url()) };
    let auth = AtlasAuth::ApiKey {
        public_key: estate.atlas_credentials.get("public_key").into(),
        private_key: "wrong".into(),
    };
    let e = Atlas::new(&at, auth).unwrap().inventory(&quiet).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated, "Atlas digest: {e}");
    assert!(!e.to_string().contains("wrong"), "the private key is not echoed: {e}");

    let e = Fastly::new(&FastlySettings { base_url: Some(estate.fastly.url()) }, "nope-nope-nope")
        .unwrap()
        .inventory(&quiet)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);

    let nr = NewRelicSettings {
        region: "us".into(),
        account_ids: vec![],
        endpoint: Some(format!("{}/graphql", estate.newrelic.url())),
    };
    let e = NewRelic::new(&nr, "NRAK-WRONG").unwrap().inventory(&quiet).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);

    let linear = format!("{}/graphql", estate.linear.url());
    let (_, _, good, _) = &estate.linear_keys[0];
    let viewer = keyward_connectors::linear::check_key(Some(&linear), good, http()).await.unwrap();
    assert_eq!(viewer.map(|v| v.email), Some("ada@example.com".to_owned()));
    let (_, _, revoked, _) = &estate.linear_keys[3];
    assert_eq!(keyward_connectors::linear::check_key(Some(&linear), revoked, http()).await.unwrap(), None);
    estate.linear.inject([Fault::RateLimited(3600)]);
    let e = keyward_connectors::linear::check_key(Some(&linear), good, http()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atlas_service_accounts_sign_in_with_client_credentials() {
    let estate = Estate::start(Utc::now(), 20).await.unwrap();
    let (client_id, secret) = {
        let s = estate.atlas.provider().state.lock().unwrap();
        let sa = s.service_accounts.iter().find(|sa| sa.secrets.iter().any(|x| x.expires_at > Utc::now())).unwrap();
        let sec = sa.secrets.iter().find(|x| x.expires_at > Utc::now()).unwrap();
        (sa.client_id.clone(), sec.secret.clone())
    };
    let at = AtlasSettings { org_id: ATLAS_ORG.into(), base_url: Some(estate.atlas.url()) };
    let inv = Atlas::new(&at, AtlasAuth::ServiceAccount { client_id, client_secret: secret.into() })
        .unwrap()
        .inventory(&quiet)
        .await
        .unwrap();
    assert!(inv.keys.iter().any(|k| k.kind == "programmatic_api_key"));
    assert!(inv.keys.iter().any(|k| k.kind == "service_account_secret" && k.expires_at.is_some()));
    let bad = AtlasAuth::ServiceAccount { client_id: "mdb_sa_id_nope".into(), client_secret: "nope".into() };
    assert_eq!(Atlas::new(&at, bad).unwrap().inventory(&quiet).await.unwrap_err().kind, ErrorKind::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_missing_permission() {
    let estate = Estate::start(Utc::now(), 3).await.unwrap();
    estate.datadog.provider().permissions.lock().unwrap().remove("org_app_keys_read");
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(estate.datadog.url()) };
    let c = Datadog::new(&dd, estate.datadog_credentials.get("api_key"), estate.datadog_credentials.get("app_key"))
        .unwrap();
    let checks = c.check().await.unwrap();
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.what.as_str()).collect();
    assert_eq!(failed, ["org_app_keys_read"], "{checks:?}");
    let e = c.inventory(&quiet).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied, "a valid key lacking a scope is not 'unauthenticated': {e}");
}

#[test]
fn debug_output_never_shows_a_credential() {
    const SECRET: &str = "s3cr3t-PLANTED-credential-0123456789";
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: None };
    let at = AtlasSettings { org_id: "o".into(), base_url: None };
    let nr = NewRelicSettings { region: "eu".into(), account_ids: vec![1], endpoint: None };
    let shown = [
        format!("{:?}", Datadog::new(&dd, SECRET, SECRET).unwrap()),
        format!(
            "{:?}",
            Atlas::new(&at, AtlasAuth::ApiKey { public_key: "pub".into(), private_key: SECRET.into() }).unwrap()
        ),
        format!(
            "{:?}",
            Atlas::new(&at, AtlasAuth::ServiceAccount { client_id: "id".into(), client_secret: SECRET.into() })
                .unwrap()
        ),
        format!("{:?}", Fastly::new(&FastlySettings::default(), SECRET).unwrap()),
        format!("{:?}", NewRelic::new(&nr, SECRET).unwrap()),
    ];
    for s in shown {
        assert!(!s.contains(SECRET), "{s}");
    }
}

/// A credential with a line break would be refused by the HTTP stack on the first request, with
/// a message that names nothing; it is refused when the client is made, naming the field, and
/// never echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_a_header_cannot_carry_is_refused_before_anything_is_sent() {
    use keyward_connectors::providers::{self, Credentials, Settings};
    const BROKEN: &str = "planted-secret-0123\nX-Injected: 1";
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: None };
    let nr = NewRelicSettings { region: "eu".into(), account_ids: vec![1], endpoint: None };
    let errors = [
        Datadog::new(&dd, BROKEN, "fine-app-key").unwrap_err(),
        Datadog::new(&dd, "fine-api-key", BROKEN).unwrap_err(),
        Fastly::new(&FastlySettings::default(), BROKEN).unwrap_err(),
        NewRelic::new(&nr, BROKEN).unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.kind, ErrorKind::Config, "{e}");
        assert!(e.to_string().contains("cannot carry"), "{e}");
        assert!(!e.to_string().contains("planted-secret"), "{e}");
    }
    // The same through the registry, as sync opens a connector.
    let mut creds = Credentials::default();
    creds.insert("token", BROKEN.into());
    let settings: Settings = [("endpoint", serde_json::json!("http://127.0.0.1:9"))].into_iter().collect();
    let Err(e) = providers::get("fastly").unwrap().open(&settings, &creds).await else {
        panic!("a token with a line break was accepted");
    };
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert_eq!(format!("{creds:?}"), r#"{"token"}"#, "Debug shows field names only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_at_the_provider_show_in_the_next_listing() {
    let estate = Estate::start(Utc::now(), 10).await.unwrap();
    let client = reqwest::Client::new();
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(estate.datadog.url()) };
    let c = Datadog::new(&dd, estate.datadog_credentials.get("api_key"), estate.datadog_credentials.get("app_key"))
        .unwrap();
    let before = c.inventory(&quiet).await.unwrap();
    let victim = before.keys.iter().find(|k| k.kind == "application_key").unwrap().external_id.clone();
    let delete = || {
        client
            .delete(format!("{}/api/v2/application_keys/{victim}", estate.datadog.url()))
            .header("DD-API-KEY", estate.datadog_credentials.get("api_key"))
            .header("DD-APPLICATION-KEY", estate.datadog_credentials.get("app_key"))
            .send()
    };
    // The inventory key lacks org_app_keys_write, as it should: deleting needs another key.
    assert_eq!(delete().await.unwrap().status(), 403);
    estate.datadog.provider().permissions.lock().unwrap().insert("org_app_keys_write".into());
    assert_eq!(delete().await.unwrap().status(), 204);
    let after = c.inventory(&quiet).await.unwrap();
    assert_eq!(after.keys.len(), before.keys.len() - 1);
    assert!(!after.keys.iter().any(|k| k.external_id == victim));

    let nr = NewRelicSettings {
        region: "us".into(),
        account_ids: estate.newrelic_accounts.clone(),
        endpoint: Some(format!("{}/graphql", estate.newrelic.url())),
    };
    let c = NewRelic::new(&nr, estate.newrelic_credentials.get("api_key")).unwrap();
    let before = c.inventory(&quiet).await.unwrap();
    // Not an account's original license key, which New Relic never deletes.
    let victim = {
        let s = estate.newrelic.provider().state.lock().unwrap();
        s.keys.iter().find(|k| k.key_type == "INGEST" && !k.original).unwrap().id.clone()
    };
    let r: serde_json::Value = client
        .post(format!("{}/graphql", estate.newrelic.url()))
        .header("API-Key", estate.newrelic_credentials.get("api_key"))
        .json(&serde_json::json!({
            "query": "mutation($keys: ApiAccessDeleteInput!) { apiAccessDeleteKeys(keys: $keys) { deletedKeys { id } errors { message type } } }",
            "variables": {"keys": {"ingestKeyIds": [victim, "does-not-exist"]}}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["apiAccessDeleteKeys"]["deletedKeys"][0]["id"], victim.as_str());
    assert_eq!(r["data"]["apiAccessDeleteKeys"]["errors"].as_array().unwrap().len(), 1, "partial failure is per key");
    let after = c.inventory(&quiet).await.unwrap();
    assert_eq!(after.keys.len(), before.keys.len() - 1);
}

/// Fault injection (issue 11): a fifth of all requests fail for the whole listing, with each
/// provider's own 429 (and its headers), 5xx, connection resets, slow answers and bodies cut
/// off half-way, in turn. Every listing completes, and finds every key the stand-in holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_of_requests_failing_still_lists_every_key() {
    let subjects = subjects(1500).await;
    let kinds = vec![
        Fault::RateLimited(1),
        Fault::Status(503),
        Fault::Reset,
        Fault::Slow(600),
        Fault::Truncated,
        Fault::Status(500),
    ];
    for s in &subjects {
        (s.fail_every)(5, kinds.clone());
        let before = (s.requests)();
        // The production retry budget and body cap, the tests' quick backoff.
        let production = HttpSettings::default();
        let settings =
            HttpSettings { max_attempts: production.max_attempts, max_body_bytes: production.max_body_bytes, ..http() };
        let r = (s.run)(settings.clone()).await;
        let made = (s.requests)() - before;
        (s.inject)(Vec::new());
        assert_eq!(r.as_ref().map(|i| i.keys.len()).ok(), Some((s.expected)()), "{}: {:?}", s.name, r.err());
        eprintln!("{}: {made} requests, every fifth failed", s.name);
        assert!(made >= 10, "{}: {made} requests: too few for a fifth of them to fail", s.name);
        // Each new fault is really one: alone, without a retry, it fails the listing.
        for fault in [Fault::Reset, Fault::Truncated] {
            (s.inject)(vec![fault]);
            let r = (s.run)(HttpSettings { max_attempts: 1, ..settings.clone() }).await;
            // Requests the failed listing abandoned must reach the stand-in before the next
            // fault is queued, or they take it (New Relic's parallel cursor chains did, once).
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(kind_of(&r), Some(ErrorKind::Transport), "{}: {fault:?}", s.name);
        }
    }
}

/// `connector test` at each stand-in: the estate's credentials pass every check.
/// case: datadog:check mongodb_atlas:check fastly:check newrelic:check
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connector_checks_its_credentials_at_its_stand_in() {
    let e = Estate::start(Utc::now(), 3).await.unwrap();
    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(e.datadog.url()) };
    let atlas = AtlasSettings { org_id: ATLAS_ORG.into(), base_url: Some(e.atlas.url()) };
    let auth = AtlasAuth::ApiKey {
        public_key: e.atlas_credentials.get("public_key").into(),
        private_key: e.atlas_credentials.get("private_key").into(),
    };
    let nr = NewRelicSettings {
        region: "us".into(),
        account_ids: e.newrelic_accounts.clone(),
        endpoint: Some(format!("{}/graphql", e.newrelic.url())),
    };
    let checks = [
        (
            "datadog",
            Datadog::with_http(&dd, e.datadog_credentials.get("api_key"), e.datadog_credentials.get("app_key"), http())
                .unwrap()
                .check()
                .await,
        ),
        ("mongodb_atlas", Atlas::with_http(&atlas, auth, http()).unwrap().check().await),
        (
            "fastly",
            Fastly::with_http(
                &FastlySettings { base_url: Some(e.fastly.url()) },
                e.fastly_credentials.get("token"),
                http(),
            )
            .unwrap()
            .check()
            .await,
        ),
        ("newrelic", NewRelic::with_http(&nr, e.newrelic_credentials.get("api_key"), http()).unwrap().check().await),
    ];
    for (provider, checks) in checks {
        let checks = checks.unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert!(!checks.is_empty() && checks.iter().all(|c| c.ok), "{provider}: {checks:?}");
    }
}
