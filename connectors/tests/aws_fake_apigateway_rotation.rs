//! The API Gateway rotation calls against a scripted API Gateway, for what moto cannot show:
//! moto answers stage keys in the request's shape (not AWS's `restApiId/stage` strings), never
//! pages, and accepts a usage plan key for any plan, so it can neither check that stage keys are
//! copied nor make `CreateUsagePlanKey` fail after the key exists.

use std::sync::{Arc, Mutex, Once};

use keyward_connectors::ErrorKind;
use keyward_connectors::providers::{self, Credentials, KeyRef, Settings};
use serde_json::{Value, json};
use support::{Reply, Request};

mod support;

/// The requests seen, as "METHOD path", and the body of the `CreateApiKey`.
#[derive(Default)]
struct Script {
    log: Vec<String>,
    created: Option<Value>,
    /// The usage plan whose `CreateUsagePlanKey` is refused.
    refuse_plan: Option<&'static str>,
}

type Shared = Arc<Mutex<Script>>;

fn answer(script: &Shared, r: &Request) -> Reply {
    let mut s = script.lock().unwrap();
    s.log.push(format!("{} {}", r.method, r.path));
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    match (r.method.as_str(), path) {
        ("GET", "/apikeys/old1") => Reply::json(
            200,
            &json!({"id": "old1", "name": "partner", "enabled": true, "customerId": "tenant-7",
                    "description": "billing feed", "tags": {"team": "payments"}, "stageKeys": ["api1/prod", "api2/beta"]}),
        ),
        // The old key's plans, one per page.
        ("GET", "/usageplans") if query.contains("keyId=old1") && query.contains("position=2") => {
            Reply::json(200, &json!({"item": [{"id": "plan2"}]}))
        }
        ("GET", "/usageplans") if query.contains("keyId=old1") => {
            Reply::json(200, &json!({"item": [{"id": "plan1"}], "position": "2"}))
        }
        ("POST", "/apikeys") => {
            s.created = serde_json::from_slice(&r.body).ok();
            Reply::json(201, &json!({"id": "new1", "value": "n3wV4lue-n3wV4lue-n3wV4lue", "enabled": true}))
        }
        ("POST", p) if s.refuse_plan.is_some_and(|plan| p == format!("/usageplans/{plan}/keys")) => {
            Reply::json(403, &json!({"message": "not allowed"}))
                .with_header("x-amzn-errortype", "AccessDeniedException")
        }
        ("POST", p) if p.starts_with("/usageplans/") => Reply::json(201, &json!({"id": "new1", "type": "API_KEY"})),
        ("DELETE", "/apikeys/new1") => Reply::json(202, &json!({})),
        _ => {
            Reply::json(404, &json!({"message": "no such thing"})).with_header("x-amzn-errortype", "NotFoundException")
        }
    }
}

static ENV: Once = Once::new();

async fn rotator(script: &Shared) -> Box<dyn providers::Rotator> {
    ENV.call_once(|| {
        // SAFETY: set once, before any test in this binary builds an SDK config (they all wait
        // on this Once first), so no other thread reads the environment concurrently.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "fake/secret");
            std::env::set_var("AWS_CONFIG_FILE", "/nonexistent");
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
    let shared = script.clone();
    let url = support::serve(Arc::new(move |r: &Request| answer(&shared, r))).await;
    let mut settings = Settings::default();
    settings.set("endpoint", url);
    settings.set("regions", json!(["eu-west-1"]));
    let provider = providers::get("aws_apigateway").unwrap();
    provider.rotation.open(&settings, &Credentials::default()).await.unwrap()
}

fn old() -> KeyRef {
    KeyRef {
        external_id: "eu-west-1/old1".into(),
        owner: Some("tenant-7".into()),
        kind: "rest_api_key".into(),
        name: "partner".into(),
    }
}

#[tokio::test]
async fn the_new_key_copies_the_old_ones_stage_keys_and_joins_every_plan_across_pages() {
    let script = Shared::default();
    let made = rotator(&script).await.create(&old()).await.unwrap();
    assert_eq!(made.external_id, "eu-west-1/new1");
    assert_eq!(made.name, "partner (rotated)");
    assert_eq!(made.secret.expose(), "n3wV4lue-n3wV4lue-n3wV4lue");
    let s = script.lock().unwrap();
    assert_eq!(
        s.created.as_ref().unwrap(),
        &json!({"name": "partner (rotated)", "enabled": true, "customerId": "tenant-7", "description": "billing feed",
                "tags": {"team": "payments"},
                "stageKeys": [{"restApiId": "api1", "stageName": "prod"}, {"restApiId": "api2", "stageName": "beta"}]})
    );
    for joined in ["POST /usageplans/plan1/keys", "POST /usageplans/plan2/keys"] {
        assert!(s.log.iter().any(|l| l == joined), "{joined}: {:?}", s.log);
    }
    assert!(!s.log.iter().any(|l| l.starts_with("DELETE")), "{:?}", s.log);
}

#[tokio::test]
async fn a_key_that_cannot_join_a_plan_is_deleted_before_the_error_returns() {
    let script = Shared::default();
    script.lock().unwrap().refuse_plan = Some("plan2");
    let err = rotator(&script).await.create(&old()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(err.message.starts_with("CreateUsagePlanKey failed: AccessDeniedException"), "{err}");
    assert!(!err.to_string().contains("n3wV4lue"), "no secret in errors: {err}");
    let log = script.lock().unwrap().log.clone();
    let joined = log.iter().position(|l| l == "POST /usageplans/plan1/keys").expect("plan1 joined first");
    let deleted = log.iter().position(|l| l == "DELETE /apikeys/new1").expect("the half-made key is deleted");
    assert!(joined < deleted, "{log:?}");
}
