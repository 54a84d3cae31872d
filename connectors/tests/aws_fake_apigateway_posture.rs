//! The API Gateway posture reads against a scripted endpoint, for the hostile and partial answers
//! moto never gives: a listing that hands back the same position forever, a method answered
//! without its fields, a route naming an authorizer that is gone.

use std::sync::{Arc, Once};

use keyward_connectors::ErrorKind;
use keyward_connectors::apigateway::ApiGateway;
use keyward_connectors::aws::AwsSettings;
use serde_json::json;
use support::{Reply, Request};

mod support;

fn answer(r: &Request, endless: bool) -> Reply {
    let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
    let empty = || Reply::json(200, &json!({"item": []}));
    match path {
        "/usageplans" | "/apikeys" | "/restapis/api1/stages" | "/restapis/api1/requestvalidators" | "/domainnames" => {
            empty()
        }
        "/restapis" => Reply::json(200, &json!({"item": [{"id": "api1", "name": "shop"}]})),
        // Every page points at the same next page.
        "/restapis/api1/resources" if endless => Reply::json(
            200,
            &json!({"item": [{"id": "r1", "path": "/", "resourceMethods": {"GET": {"httpMethod": "GET"}}}], "position": "again"}),
        ),
        "/restapis/api1/resources" => {
            assert!(query.contains("embed=methods"), "methods are asked for: {query}");
            Reply::json(200, &json!({"item": [{"id": "r1", "path": "/", "resourceMethods": {"GET": {}}}]}))
        }
        "/v2/apis" => Reply::json(200, &json!({"items": [{"apiId": "h1", "name": "hooks", "protocolType": "HTTP"}]})),
        "/v2/apis/h1/routes" => Reply::json(
            200,
            &json!({"items": [{"routeId": "r1", "routeKey": "POST /hook", "authorizationType": "CUSTOM", "authorizerId": "gone"}]}),
        ),
        "/v2/apis/h1/stages" | "/v2/domainnames" => Reply::json(200, &json!({"items": []})),
        _ => {
            Reply::json(404, &json!({"message": "no such thing"})).with_header("x-amzn-errortype", "NotFoundException")
        }
    }
}

static ENV: Once = Once::new();

async fn gateway(endless: bool) -> ApiGateway {
    ENV.call_once(|| {
        // SAFETY: set once, before any test in this binary builds an SDK config (they all wait
        // on this Once first), so no other thread reads the environment concurrently.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "fake/secret");
            std::env::set_var("AWS_CONFIG_FILE", "/nonexistent");
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
            std::env::set_var("AWS_MAX_ATTEMPTS", "1");
        }
    });
    let url = support::serve(Arc::new(move |r: &Request| answer(r, endless))).await;
    let settings = AwsSettings { endpoint_url: Some(url), region: Some("eu-west-1".into()), ..Default::default() };
    ApiGateway::connect(&settings, &["eu-west-1".to_owned()]).await
}

#[tokio::test]
async fn a_listing_that_repeats_its_position_is_refused_rather_than_followed_forever() {
    let err = gateway(true).await.inventory(&|_| {}).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Malformed, "{err}");
    assert!(err.to_string().contains("GetResources kept paging"), "{err}");
}

#[tokio::test]
async fn a_method_without_its_fields_is_not_judged_and_a_missing_authorizer_is_named() {
    let inv = gateway(false).await.inventory(&|_| {}).await.unwrap();
    let method = inv.resources.iter().find(|r| r.kind == "apigw_rest_method").expect("the method");
    assert_eq!(method.details["authorization_type"], serde_json::Value::Null, "not read as NONE: {method:?}");
    assert_eq!(method.details["api_key_required"], serde_json::Value::Null);
    let api = inv.resources.iter().find(|r| r.kind == "apigw_api").expect("the HTTP API");
    assert_eq!(api.details["authorizers"], json!([{"id": "gone", "missing": true}]));
    assert_eq!(api.details["route_authorization"], json!({"CUSTOM": 1}));
}
