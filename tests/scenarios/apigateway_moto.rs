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

/// Issue 17's proof: every gateway rule fires exactly where `estate.py --apigateway-posture`
/// seeded its shape, and nowhere else; what the connector read (methods, validators, stage
/// method settings, domains, authorizers) is in the inventory; the practice filters select them.
#[test]
fn every_gateway_rule_fires_exactly_on_the_shapes_seeded_for_it() {
    let moto = MotoEstate::start(0, 3, &["--no-root-key", "--apigateway-posture"]);
    let truth = &moto.truth["apigateway_posture"];
    let mut home = Home::initialised();
    moto.configure(&mut home);
    home.ok(&["connector", "add", "aws_apigateway", "--name", "gw", "--regions", "us-east-1"]);
    home.ok(&["sync"]);
    let findings = home.json(&["audit", "--json"]);
    let findings = findings.as_array().unwrap();
    let mut problems = Vec::new();
    for (rule, want) in truth["fires"].as_object().unwrap() {
        let mut want: Vec<&str> = want.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        let mut got: Vec<&str> =
            findings.iter().filter(|f| f["rule_id"] == rule.as_str()).filter_map(|f| f["resource"].as_str()).collect();
        want.sort();
        got.sort();
        assert!(!want.is_empty(), "{rule}: the estate seeds a case for it");
        if want != got {
            problems.push(format!("{rule}: seeded {want:?}, fired {got:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let resources = home.json(&["resources", "--json"]);
    let resources = resources.as_array().unwrap();
    let kind = |k: &str| resources.iter().filter(|r| r["kind"] == k).count();
    assert_eq!(kind("apigw_rest_method"), 7, "six methods of the deployed API and the draft's one");
    assert_eq!(kind("apigw_domain"), 4, "two REST and two HTTP custom domains");
    let put = resources.iter().find(|r| r["name"] == "shop PUT /items").expect("the Cognito method");
    assert_eq!(put["details"]["authorization_type"], "COGNITO_USER_POOLS");
    assert_eq!(put["details"]["request_validator"]["body"], true);
    assert_eq!(put["details"]["deployed_stages"].as_array().unwrap().len(), 3, "{put}");
    let mtls = resources.iter().find(|r| r["name"] == "mtls.shop.example").unwrap();
    assert_eq!(mtls["details"]["mutual_tls"], true);
    assert_eq!(mtls["details"]["security_policies"], serde_json::json!(["TLS_1_2"]));
    for (api, want) in truth["authorizers"].as_object().unwrap() {
        let r = resources.iter().find(|r| r["external_id"] == api.as_str()).unwrap();
        let jwt = &r["details"]["authorizers"][0];
        assert_eq!(jwt["type"], "JWT");
        assert_eq!(jwt["jwt_issuer"], want["jwt_issuer"]);
        assert_eq!(jwt["jwt_audience"], want["jwt_audience"]);
    }

    // The mapping: WAF findings break FSBP APIGateway.4, and a control filter finds exactly them.
    let waf = home.json(&["audit", "--json", "--control", "fsbp-apigateway.4"]);
    let waf: Vec<&str> = waf.as_array().unwrap().iter().filter_map(|f| f["resource"].as_str()).collect();
    assert_eq!(waf.len(), truth["fires"]["apigw_stage_no_waf"].as_array().unwrap().len(), "{waf:?}");
    let auth = home.json(&["audit", "--json", "--practice", "authentication"]);
    let rules: std::collections::BTreeSet<&str> =
        auth.as_array().unwrap().iter().filter_map(|f| f["rule_id"].as_str()).collect();
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        ["apigw_api_key_only_auth", "apigw_method_no_auth", "apigw_route_no_auth"]
    );
}
