//! The API Gateway connector end to end against moto: REST API keys in two regions with their
//! usage plans, and the V1/V2 posture facts (open routes, stages without access logs or
//! throttling, CORS `*` with credentials), compared with what `tests/moto/estate.py` seeded.

use keyward_tests::{Home, MotoEstate};

#[test]
fn api_gateway_keys_and_posture_match_what_was_seeded() {
    let moto = MotoEstate::start(2, 11, &["--apigateway"]);
    let truth = &moto.truth["apigateway"];
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws_apigateway", "--name", "gw", "--regions", "us-east-1,eu-west-1"]);
    // case: aws_apigateway:check aws_apigateway:inventory
    let checks = home.json(&["connector", "test", "gw", "--json"]);
    assert!(checks.as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");
    home.ok(&["sync"]);

    let keys = home.json(&["keys", "list", "--json"]);
    let keys: Vec<&serde_json::Value> =
        keys.as_array().unwrap().iter().filter(|k| k["provider"] == "aws_apigateway").collect();
    let want = truth["keys"].as_array().unwrap();
    assert_eq!(keys.len(), want.len(), "every key in both regions");
    for t in want {
        let k = keys.iter().find(|k| k["external_id"] == t["external_id"]).unwrap_or_else(|| panic!("missing {t}"));
        assert_eq!(k["name"], t["name"]);
        assert_eq!(k["status"], if t["enabled"] == true { "active" } else { "inactive" });
        assert_eq!(k["owner"], t["owner"], "customerId is the owner");
        assert_eq!(k["kind"], "rest_api_key");
        assert_eq!(k["secret_readable"], true, "includeValues makes every key readable");
        assert_eq!(k["usage_tracked"], false, "API Gateway records no last use");
        assert!(k["age_days"].is_number());
        let plans: Vec<&str> =
            k["details"]["usage_plans"].as_array().unwrap().iter().filter_map(|p| p["id"].as_str()).collect();
        match t["usage_plan"].as_str() {
            Some(plan) => {
                assert_eq!(plans, [plan]);
                let p = &k["details"]["usage_plans"][0];
                assert_eq!(p["throttle"]["burst_limit"], 100);
                assert_eq!(p["quota"]["period"], "MONTH");
            }
            None => assert!(plans.is_empty(), "{k}"),
        }
    }

    let resources = home.json(&["resources", "--json"]);
    let resources = resources.as_array().unwrap();
    let find = |id: &serde_json::Value| {
        resources.iter().find(|r| &r["external_id"] == id).unwrap_or_else(|| panic!("missing resource {id}"))
    };
    for t in truth["routes"].as_array().unwrap() {
        let r = find(&t["external_id"]);
        assert_eq!(r["kind"], "apigw_route");
        assert_eq!(r["details"]["open"], t["open"], "{r}");
    }
    for t in truth["stages"].as_array().unwrap() {
        let r = find(&t["external_id"]);
        assert_eq!(r["details"]["access_logs"], t["access_logs"], "{r}");
        assert_eq!(r["details"]["throttling"], t["throttling"], "{r}");
    }
    for t in truth["apis"].as_array().unwrap() {
        assert_eq!(find(&t["external_id"])["details"]["cors_wildcard_with_credentials"], true);
    }
    assert!(resources.iter().any(|r| r["kind"] == "apigw_rest_stage"), "REST stages too");
}
