//! `keyward report` in every format from a demo workspace: SARIF and OCSF validate against their
//! published schemas (tests/contract/report.mjs, ajv), CSV and JSON carry every firing finding,
//! HTML is one self-contained page with its charts; no report holds a secret. Also the findings
//! commands a user drives the lifecycle with.

use std::process::Command;

use keyward_tests::{Home, workspace};
use serde_json::Value;

fn check(format: &str, file: &std::path::Path) -> std::process::Output {
    let contract = workspace().join("tests/contract");
    Command::new("node").arg(contract.join("report.mjs")).arg(format).arg(file).output().expect("node runs")
}

fn validate(format: &str, file: &std::path::Path) -> String {
    let contract = workspace().join("tests/contract");
    assert!(
        contract.join("node_modules/ajv-formats").exists(),
        "the schema checker is not installed: run scripts/install-deps.sh --test (npm ci in tests/contract)"
    );
    let out = check(format, file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{format} report invalid:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn reports_validate_and_carry_every_finding() {
    let home = Home::new();
    home.ok(&["demo"]);
    let firing = home.json(&["findings", "list", "--json"]).as_array().unwrap().len();
    assert!(firing > 100, "the demo has findings: {firing}");

    // A user acknowledges one: SARIF shows it suppressed, OCSF "In Progress".
    let first = home.json(&["findings", "list", "--json"])[0]["id"].as_i64().unwrap().to_string();
    home.ok(&["findings", "ack", &first, "--note", "owner is on it"]);
    let shown = home.ok(&["findings", "show", &first]);
    assert!(shown.contains("acknowledged") && shown.contains("owner is on it"), "{shown}");

    let dir = tempfile::tempdir().unwrap();
    let path = |ext: &str| dir.path().join(format!("report.{ext}"));
    for format in ["json", "csv", "sarif", "ocsf", "html"] {
        let out = home.run(&["report", "--format", format, "--out", path(format).to_str().unwrap()]);
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "--out writes the file, not stdout");
    }

    assert_eq!(validate("sarif", &path("sarif")).trim(), format!("ok {firing}"));
    assert_eq!(validate("ocsf", &path("ocsf")).trim(), format!("ok {firing}"));
    let sarif: Value = serde_json::from_slice(&std::fs::read(path("sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let acked = results.iter().filter(|r| r["suppressions"].is_array()).count();
    assert_eq!(acked, 1);
    assert!(results.iter().all(|r| r["ruleIndex"].is_u64() && r["locations"][0]["logicalLocations"].is_array()));
    let ocsf: Value = serde_json::from_slice(&std::fs::read(path("ocsf")).unwrap()).unwrap();
    let events = ocsf.as_array().unwrap();
    assert!(events.iter().all(|e| e["class_uid"] == 2004 && e["remediation"]["desc"].is_string()));
    assert_eq!(events.iter().filter(|e| e["status"] == "In Progress").count(), 1);

    // The checker can fail: a wrong SARIF level and an OCSF severity outside its enum are refused.
    let mut bad = sarif.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    std::fs::write(dir.path().join("bad.sarif"), bad.to_string()).unwrap();
    assert!(!check("sarif", &dir.path().join("bad.sarif")).status.success());
    let mut bad = ocsf.clone();
    bad[0]["severity_id"] = 42.into();
    std::fs::write(dir.path().join("bad.ocsf"), bad.to_string()).unwrap();
    assert!(!check("ocsf", &dir.path().join("bad.ocsf")).status.success());

    let json: Value = serde_json::from_slice(&std::fs::read(path("json")).unwrap()).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), firing);
    for field in ["rule_id", "severity", "provider", "account", "remediation", "state"] {
        assert!(rows.iter().all(|r| r[field].is_string()), "{field}");
    }
    assert!(rows.iter().filter(|r| r["key_id"].is_string()).all(|r| r["key_name"].is_string()));

    let csv = std::fs::read_to_string(path("csv")).unwrap();
    assert!(csv.starts_with("id,severity,state,rule_id,"));
    assert_eq!(csv.matches("\r\n").count(), firing + 1, "a header and one row per finding");

    let html = std::fs::read_to_string(path("html")).unwrap();
    assert!(html.starts_with("<!doctype html>") && !html.contains("<script") && !html.contains("src=\"http"));
    assert!(html.contains("Findings per provider") && html.contains("Findings per rule"));
    for provider in ["aws", "aws_apigateway", "datadog", "mongodb_atlas", "fastly", "newrelic"] {
        assert!(html.contains(&format!(">{provider}<")), "{provider} charted");
    }
    assert_eq!(html.matches("<tr id=\"finding-").count(), firing);

    // Every format says which practices and benchmark controls a finding breaks (issue 17): an
    // IAM key over 90 days breaks CIS AWS 1.14; the same rule on a Datadog key breaks no CIS
    // control, only the practice.
    let not_rotated = |provider: &str| {
        rows.iter()
            .find(|r| r["rule_id"] == "key_not_rotated" && r["provider"] == provider)
            .unwrap_or_else(|| panic!("the demo has an old {provider} key"))
    };
    assert_eq!(not_rotated("aws")["controls"], serde_json::json!(["cis-aws-1.14"]));
    assert_eq!(not_rotated("datadog")["controls"], serde_json::json!([]));
    assert_eq!(not_rotated("datadog")["practices"], serde_json::json!(["authentication", "regular-audits"]));
    assert!(rows.iter().all(|r| !r["practices"].as_array().unwrap().is_empty()), "every finding serves a practice");
    let cis = events
        .iter()
        .find(|e| {
            e["finding_info"]["types"][0] == "key_not_rotated"
                && e["unmapped"]["compliance"].as_object().is_some_and(|c| !c.is_empty())
        })
        .expect("an OCSF event with its CIS control");
    assert_eq!(
        cis["unmapped"]["compliance"]["CIS Amazon Web Services Foundations Benchmark v3.0.0"],
        serde_json::json!(["1.14"])
    );
    let waf = results.iter().find(|r| r["ruleId"] == "apigw_stage_no_waf").expect("SARIF result");
    assert_eq!(waf["properties"]["controls"], serde_json::json!(["fsbp-apigateway.4"]));
    let rule = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "apigw_stage_no_waf")
        .unwrap();
    assert!(rule["properties"]["tags"].as_array().unwrap().iter().any(|t| t == "ddos-protection"), "{rule}");
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",practices,controls"), "{header}");
    assert!(csv.contains(",authentication regular-audits,cis-aws-1.14\r\n"));
    assert!(
        html.contains("<h2 id=\"practices\">Practices</h2>")
            && html.contains("<a href=\"#practice-input-validation\">")
    );
    // Filters: only the findings of a practice, or of a control.
    let of_practice = home.json(&["audit", "--json", "--practice", "input-validation"]);
    let of_practice = of_practice.as_array().unwrap();
    assert!(
        !of_practice.is_empty() && of_practice.iter().all(|f| f["rule_id"] == "apigw_method_no_validation"),
        "{of_practice:?}"
    );
    let of_control = home.json(&["audit", "--json", "--control", "CIS-AWS-1.14"]);
    let of_control = of_control.as_array().unwrap();
    assert!(!of_control.is_empty());
    assert!(of_control.iter().all(|f| f["rule_id"] == "key_not_rotated" && f["provider"] == "aws"), "{of_control:?}");
    let out = home.run(&["audit", "--practice", "speed"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no practice \"speed\"") && err.contains("rate-limiting"), "{err}");
    let practices = home.json(&["audit", "--practices", "--json"]);
    let validation = practices.as_array().unwrap().iter().find(|p| p["id"] == "input-validation").unwrap();
    assert_eq!(validation["resources"]["failing"], of_practice.len(), "{validation}");
    assert!(validation["resources"]["judged"].as_u64().unwrap() > validation["resources"]["failing"].as_u64().unwrap());

    // Standard output without --out; an unknown format is a usage error.
    let stdout = home.ok(&["report", "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap().as_array().unwrap().len(), firing);
    assert_eq!(home.run(&["report", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn tags_tighten_the_policy_for_the_keys_that_carry_them() {
    let home = Home::new();
    home.ok(&["demo"]);
    let keys = home.json(&["keys", "list", "--json"]);
    let findings = home.json(&["findings", "list", "--json"]);
    let rotated: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "key_not_rotated")
        .filter_map(|f| f["key_id"].as_str())
        .collect();
    // A live key young enough to pass the 90-day default.
    let young = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| {
            k["status"] == "active"
                && k["age_days"].as_i64().is_some_and(|d| (10..80).contains(&d))
                && !rotated.contains(&k["id"].as_str().unwrap())
        })
        .expect("a young active key in the demo");
    let id = young["id"].as_str().unwrap();
    let out = home.ok(&["keys", "tag", id, "production", " production ", "pci"]);
    assert!(out.contains("pci, production"), "trimmed, deduplicated, sorted: {out}");
    home.ok(&["keys", "tag", id, "--remove", "pci"]);
    let tagged = home.json(&["keys", "list", "--json"]);
    let tagged = tagged.as_array().unwrap().iter().find(|k| k["id"] == id).unwrap().clone();
    assert_eq!(tagged["tags"], serde_json::json!(["production"]));
    assert_eq!(home.run(&["keys", "tag", id, "a,b"]).status.code(), Some(1), "commas are refused");

    std::fs::write(home.path().join("policy.toml"), "[tag.production]\nnot_rotated_days = 5\n").unwrap();
    home.ok(&["audit"]);
    let after = home.json(&["findings", "list", "--json"]);
    let fired: Vec<&serde_json::Value> =
        after.as_array().unwrap().iter().filter(|f| f["rule_id"] == "key_not_rotated" && f["key_id"] == id).collect();
    assert_eq!(fired.len(), 1, "the tagged key is judged by its tag's 5 days");
    assert!(fired[0]["detail"].as_str().unwrap().contains("policy: 5 days"), "{}", fired[0]["detail"]);
    // Untagged keys of the same age still pass.
    let others = after.as_array().unwrap().iter().filter(|f| f["rule_id"] == "key_not_rotated").count();
    assert_eq!(others, rotated.len() + 1);
}
