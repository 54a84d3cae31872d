//! Contract test: the connectors' requests and the stand-ins' answers, recorded while the
//! connectors list and check a multi-page estate, must fit the providers' own spec files
//! (Datadog's OpenAPI subset, Fastly's reconstructed OpenAPI, New Relic's GraphQL SDL). The
//! checking is done by `tests/contract/check.mjs` (ajv, graphql-js); it must be installed
//! (`scripts/install-deps.sh --test`), or this test fails.

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use keyward_connectors::datadog::{Datadog, DatadogSettings};
use keyward_connectors::fastly::{Fastly, FastlySettings};
use keyward_connectors::liveness::Liveness;
use keyward_connectors::newrelic::{NewRelic, NewRelicSettings};
use keyward_connectors::providers::{KeyRef, Rotator};
use keyward_fakes::Exchange;
use keyward_fakes::estate::Estate;
use serde_json::{Value, json};

fn to_json(list: Vec<Exchange>) -> Value {
    let pairs = |v: &[(String, String)]| v.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>();
    json!(
        list.iter()
            .map(|x| json!({
                "method": x.request.method,
                "path": x.request.path,
                "query": pairs(&x.request.query),
                "headers": pairs(&x.request.headers),
                "body": String::from_utf8_lossy(&x.request.body),
                "status": x.status,
                "response_headers": pairs(&x.headers),
                "response_body": x.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
            }))
            .collect::<Vec<_>>()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectors_and_stand_ins_follow_the_providers_specs() {
    let estate = Estate::start(Utc::now(), 400).await.unwrap();
    estate.datadog.record();
    estate.fastly.record();
    estate.newrelic.record();
    let quiet = |_| {};

    let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(estate.datadog.url()) };
    let c = Datadog::new(&dd, estate.datadog_credentials.get("api_key"), estate.datadog_credentials.get("app_key"))
        .unwrap();
    c.inventory(&quiet).await.unwrap();
    c.check().await.unwrap();
    // A rotation's calls: create beside an existing key, verify the new one, delete both the
    // new key and (again, answered 404) the same key.
    // case: datadog:create datadog:delete
    estate.datadog.provider().permissions.lock().unwrap().extend(["api_keys_write".into(), "api_keys_delete".into()]);
    let old = {
        let s = estate.datadog.provider().state.lock().unwrap();
        let k = &s.api_keys[0];
        KeyRef { external_id: k.id.clone(), owner: None, kind: "api_key".into(), name: k.name.clone() }
    };
    let made = Rotator::create(&c, &old).await.unwrap();
    assert_eq!(made.name, format!("{} (rotated)", old.name));
    assert!(matches!(Rotator::verify(&c, &old, &made.external_id, &made.secret).await.unwrap(), Liveness::Live(_)));
    let lineage = Rotator::keys_of(&c, &old).await.unwrap();
    assert!(lineage.iter().any(|k| k.external_id == made.external_id), "{lineage:?}");
    let new = KeyRef { external_id: made.external_id.clone(), ..old.clone() };
    Rotator::delete(&c, &new).await.unwrap();
    Rotator::delete(&c, &new).await.unwrap();
    assert!(matches!(Rotator::verify(&c, &old, &made.external_id, &made.secret).await.unwrap(), Liveness::Rejected));
    // Application keys: a service account's and the connector's own user's (made where they
    // were, with their scopes, checked by a read made with the new key or read back), another
    // person's refused.
    estate
        .datadog
        .provider()
        .permissions
        .lock()
        .unwrap()
        .extend(["user_app_keys".into(), "service_account_write".into()]);
    let (sa_key, own_key, other_key) = {
        let mut s = estate.datadog.provider().state.lock().unwrap();
        let me = s.users[0].id.clone();
        let sa = s.users.iter().find(|u| u.service_account).unwrap().id.clone();
        let other = s.users.iter().find(|u| !u.service_account && u.id != me).unwrap().id.clone();
        let mut key = |owner: &str, scopes: Option<Vec<String>>, n: u32| {
            let mut k = s.app_keys[0].clone();
            (k.id, k.name, k.owner, k.scopes) =
                (format!("contract-app-{n}"), format!("contract-app-{n}"), owner.to_owned(), scopes);
            k.secret = format!("{n:040}");
            s.app_keys.push(k.clone());
            KeyRef { external_id: k.id, owner: None, kind: "application_key".into(), name: k.name }
        };
        let sa_key = key(&sa, Some(vec!["dashboards_read".into()]), 1);
        let own_key = key(&me, None, 2);
        let other_key = key(&other, None, 3);
        (sa_key, own_key, other_key)
    };
    let refused = Rotator::refusal(&c, &other_key).await.unwrap().expect("another person's key is refused");
    assert!(refused.contains("only for the caller or a service account"), "{refused}");
    for old in [&sa_key, &own_key] {
        assert_eq!(Rotator::refusal(&c, old).await.unwrap(), None);
        let made = Rotator::create(&c, old).await.unwrap();
        assert!(matches!(Rotator::verify(&c, old, &made.external_id, &made.secret).await.unwrap(), Liveness::Live(_)));
        let new = KeyRef { external_id: made.external_id.clone(), ..old.clone() };
        Rotator::delete(&c, &new).await.unwrap();
        Rotator::delete(&c, &new).await.unwrap();
        assert!(matches!(Rotator::verify(&c, old, &made.external_id, &made.secret).await.unwrap(), Liveness::Rejected));
    }
    let c =
        Fastly::new(&FastlySettings { base_url: Some(estate.fastly.url()) }, estate.fastly_credentials.get("token"))
            .unwrap();
    c.inventory(&quiet).await.unwrap();
    c.check().await.unwrap();
    // An automation token's rotation: sudo with the typed password, create with the old token's
    // attributes, verify with the new token, revoke. (The reconstructed spec declares no 404 on
    // a revoke or 401 on `/tokens/self`, so the second revoke and the check of a revoked token
    // are left to the scenario tests.)
    // case: fastly:create fastly:delete
    let global = {
        let mut s = estate.fastly.provider().state.lock().unwrap();
        let mut t = s.tokens.iter().find(|t| t.name == "keyward-inventory").unwrap().clone();
        (t.id, t.secret, t.scope) =
            ("contract-global".into(), "contract-global-token-0123456789".into(), "global".into());
        s.tokens.push(t.clone());
        t.secret
    };
    let mut settings = keyward_connectors::providers::Settings::default();
    settings.set("endpoint", serde_json::json!(estate.fastly.url()));
    let mut creds = keyward_connectors::providers::Credentials::default();
    creds.insert("token", global.as_str().into());
    creds.insert(keyward_connectors::providers::TYPED_PASSWORD, keyward_fakes::estate::FASTLY_PASSWORD.into());
    let fastly = keyward_connectors::providers::get("fastly").unwrap().rotation.open(&settings, &creds).await.unwrap();
    let old = {
        let mut s = estate.fastly.provider().state.lock().unwrap();
        // Still in force (an expired token's successor would be refused).
        let t = &mut s.automation_tokens[0];
        t.expires_at = Some(chrono::Utc::now() + chrono::Duration::days(90));
        KeyRef { external_id: t.id.clone(), owner: None, kind: "automation_token".into(), name: t.name.clone() }
    };
    assert_eq!(fastly.refusal(&old).await.unwrap(), None);
    let made = fastly.create(&old).await.unwrap();
    assert!(matches!(fastly.verify(&old, &made.external_id, &made.secret).await.unwrap(), Liveness::Live(_)));
    assert!(fastly.keys_of(&old).await.unwrap().iter().any(|k| k.external_id == made.external_id));
    let new = KeyRef { external_id: made.external_id.clone(), ..old.clone() };
    fastly.delete(&new).await.unwrap();
    assert!(estate.fastly.provider().state.lock().unwrap().automation_tokens.iter().all(|t| t.id != made.external_id));
    let nr = NewRelicSettings {
        region: "us".into(),
        account_ids: estate.newrelic_accounts.clone(),
        endpoint: Some(format!("{}/graphql", estate.newrelic.url())),
    };
    let c = NewRelic::new(&nr, estate.newrelic_credentials.get("api_key")).unwrap();
    c.inventory(&quiet).await.unwrap();
    c.check().await.unwrap();
    // A rotation's calls, for a user key of the connector's user and for an ingest key: the
    // lineage, create, verify, delete twice (the second answered NOT_FOUND in `errors`); another
    // user's key refused; the original license key's delete refused by New Relic.
    // case: newrelic:create newrelic:delete
    let (own, other, ingest, original) = {
        let s = estate.newrelic.provider().state.lock().unwrap();
        let me = s.users[0].id;
        let connector = estate.newrelic_credentials.get("api_key");
        let pick = |f: &dyn Fn(&keyward_fakes::newrelic::Key) -> bool, kind: &str| {
            let k = s.keys.iter().find(|k| f(k)).expect("the estate has one");
            KeyRef { external_id: k.id.clone(), owner: None, kind: kind.into(), name: k.name.clone() }
        };
        (
            pick(&|k| k.user_id == Some(me) && k.secret != connector, "user_key"),
            pick(&|k| k.key_type == "USER" && k.user_id != Some(me), "user_key"),
            pick(&|k| k.key_type == "INGEST" && !k.original, "ingest_key"),
            pick(&|k| k.original, "ingest_key"),
        )
    };
    assert!(Rotator::refusal(&c, &other).await.unwrap().is_some_and(|why| why.contains("truncated")));
    assert_eq!(Rotator::refusal(&c, &own).await.unwrap(), None);
    assert_eq!(Rotator::signs_in_with(&c).await.unwrap().len(), 1);
    for old in [&own, &ingest] {
        let made = Rotator::create(&c, old).await.unwrap();
        assert_eq!(made.name, format!("{} (rotated)", old.name));
        assert!(matches!(Rotator::verify(&c, old, &made.external_id, &made.secret).await.unwrap(), Liveness::Live(_)));
        let lineage = Rotator::keys_of(&c, old).await.unwrap();
        assert!(lineage.iter().any(|k| k.external_id == made.external_id), "{lineage:?}");
        let new = KeyRef { external_id: made.external_id.clone(), ..old.clone() };
        Rotator::delete(&c, &new).await.unwrap();
        Rotator::delete(&c, &new).await.unwrap();
        assert!(matches!(Rotator::verify(&c, old, &made.external_id, &made.secret).await.unwrap(), Liveness::Rejected));
    }
    let refused = Rotator::delete(&c, &original).await.unwrap_err();
    assert_eq!(refused.kind, keyward_connectors::ErrorKind::Unsupported, "{refused}");

    let exchanges = json!({
        "datadog": to_json(estate.datadog.exchanges()),
        "fastly": to_json(estate.fastly.exchanges()),
        "newrelic": to_json(estate.newrelic.exchanges()),
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exchanges.json");
    std::fs::write(&file, exchanges.to_string()).unwrap();

    let contract = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/contract");
    assert!(
        contract.join("node_modules/ajv").exists(),
        "the contract checker is not installed: run scripts/install-deps.sh --test (npm ci in tests/contract)"
    );
    let out = Command::new("node").arg(contract.join("check.mjs")).arg(&file).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "contract violations:\n{stderr}\n{stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    for provider in ["datadog", "fastly", "newrelic"] {
        assert!(report[provider]["checked"].as_u64().unwrap() > 3, "{provider}: {report}");
    }
    eprintln!("contract report: {report}");
}
