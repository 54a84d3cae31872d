//! AWS API Gateway, through the official SDKs: REST API keys (enabled, dates, stage keys, the
//! usage plans that throttle and meter them) and the posture facts that decide how exposed an
//! API is — REST stages (access logs, execution logging, throttling, WAF), REST methods
//! (authorization, API key, request validation), custom domains (TLS policy, mutual TLS) and
//! HTTP/WebSocket APIs (routes and their authorizers, stages without access logs or throttling,
//! CORS `*` with credentials). The posture reads are in `posture`.
//!
//! API Gateway is regional: every configured region is listed (default: every commercial
//! region; regions the account has not enabled are skipped and reported in the facts).
//! API Gateway has no last-use field for keys; the inventory says so rather than guess.
//! REST API keys are rotated by `rotation`.

use std::collections::HashMap;

use aws_sdk_apigateway::error::ProvideErrorMetadata;
use serde_json::{Value, json};

use crate::aws::{AwsSettings, classify, load_config, to_chrono};
use crate::{ConnectorError, ErrorKind, Inventory, KeyStatus, Progress, RemoteKey, Resource};

/// The commercial regions API Gateway runs in, listed when no region is configured.
pub const DEFAULT_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "sa-east-1",
];

/// A connected API Gateway account.
pub struct ApiGateway {
    config: aws_config::SdkConfig,
    regions: Vec<String>,
}

/// A region the account has not enabled answers with one of these.
fn region_disabled(e: &ConnectorError, code: Option<&str>) -> bool {
    matches!(code, Some("UnrecognizedClientException" | "InvalidSignatureException")) && e.kind != ErrorKind::Transport
}

impl ApiGateway {
    /// Loads the SDK configuration as the AWS CLI would; `regions` empty means [`DEFAULT_REGIONS`].
    pub async fn connect(settings: &AwsSettings, regions: &[String]) -> Self {
        let config = load_config(settings).await;
        let regions =
            if regions.is_empty() { DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect() } else { regions.to_vec() };
        Self { config, regions }
    }

    fn v1(&self, region: &str) -> aws_sdk_apigateway::Client {
        let conf = aws_sdk_apigateway::config::Builder::from(&self.config)
            .region(aws_config::Region::new(region.to_owned()))
            .build();
        aws_sdk_apigateway::Client::from_conf(conf)
    }

    fn v2(&self, region: &str) -> aws_sdk_apigatewayv2::Client {
        let conf = aws_sdk_apigatewayv2::config::Builder::from(&self.config)
            .region(aws_config::Region::new(region.to_owned()))
            .build();
        aws_sdk_apigatewayv2::Client::from_conf(conf)
    }

    /// Checks that keys, usage plans and APIs can be read in the first region.
    pub async fn check(&self) -> Result<Vec<crate::Check>, ConnectorError> {
        let region = self.regions.first().cloned().unwrap_or_else(|| "us-east-1".into());
        let v1 = self.v1(&region);
        let v2 = self.v2(&region);
        let mut checks = Vec::new();
        let outcomes = [
            (
                "apigateway:GET /apikeys",
                v1.get_api_keys().limit(1).send().await.err().map(|e| classify("GetApiKeys", e)),
            ),
            (
                "apigateway:GET /usageplans",
                v1.get_usage_plans().limit(1).send().await.err().map(|e| classify("GetUsagePlans", e)),
            ),
            (
                "apigateway:GET /restapis",
                v1.get_rest_apis().limit(1).send().await.err().map(|e| classify("GetRestApis", e)),
            ),
            ("apigateway:GET /v2/apis", v2.get_apis().send().await.err().map(|e| classify("GetApis", e))),
        ];
        for (what, err) in outcomes {
            checks.push(match err {
                None => crate::Check { what: what.into(), ok: true, detail: format!("allowed in {region}") },
                Some(e) if matches!(e.kind, ErrorKind::PermissionDenied | ErrorKind::Unauthenticated) => {
                    crate::Check { what: what.into(), ok: false, detail: format!("{e}: allow {what}") }
                }
                Some(e) => return Err(e),
            });
        }
        Ok(checks)
    }

    /// Keys and posture in every configured region.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        let mut inventory = Inventory::default();
        let mut skipped = Vec::new();
        let total = self.regions.len();
        for (i, region) in self.regions.iter().enumerate() {
            progress(Progress { phase: "regions", done: i, total: Some(total) });
            match self.region(region, &mut inventory).await {
                Ok(()) => {}
                Err((e, code)) if region_disabled(&e, code.as_deref()) => skipped.push(region.clone()),
                Err((e, _)) => return Err(e),
            }
        }
        progress(Progress { phase: "regions", done: total, total: Some(total) });
        inventory.keys.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        inventory.resources.sort_by(|a, b| (a.kind, &a.external_id).cmp(&(b.kind, &b.external_id)));
        inventory.facts = json!({
            "regions": self.regions,
            "regions_not_enabled": skipped,
            "unsupported": ["last use (API Gateway records no last use for keys)"],
        });
        Ok(inventory)
    }

    async fn region(&self, region: &str, inv: &mut Inventory) -> Result<(), (ConnectorError, Option<String>)> {
        let v1 = self.v1(region);
        macro_rules! call {
            ($req:expr, $op:literal) => {
                $req.send().await.map_err(|e| {
                    let code = e.code().map(str::to_owned);
                    (classify($op, e), code)
                })?
            };
        }
        // Usage plans first: each key lists the plans (throttle, quota) it is metered by.
        let mut plans_of_key: HashMap<String, Vec<Value>> = HashMap::new();
        let mut position = None;
        loop {
            let page = call!(v1.get_usage_plans().limit(500).set_position(position.clone()), "GetUsagePlans");
            for plan in page.items() {
                let plan_id = plan.id().unwrap_or_default().to_owned();
                let facts = json!({
                    "id": plan_id,
                    "name": plan.name(),
                    "stages": plan.api_stages().iter().map(|s| format!("{}/{}", s.api_id().unwrap_or_default(), s.stage().unwrap_or_default())).collect::<Vec<_>>(),
                    "throttle": plan.throttle().map(|t| json!({"burst_limit": t.burst_limit(), "rate_limit": t.rate_limit()})),
                    "quota": plan.quota().map(|q| json!({"limit": q.limit(), "period": q.period().map(|p| p.as_str().to_owned())})),
                });
                let mut kp = None;
                loop {
                    let keys = call!(
                        v1.get_usage_plan_keys().usage_plan_id(&plan_id).limit(500).set_position(kp.clone()),
                        "GetUsagePlanKeys"
                    );
                    for k in keys.items() {
                        plans_of_key.entry(k.id().unwrap_or_default().to_owned()).or_default().push(facts.clone());
                    }
                    kp = keys.position().map(str::to_owned);
                    if kp.is_none() {
                        break;
                    }
                }
            }
            position = page.position().map(str::to_owned);
            if position.is_none() {
                break;
            }
        }

        let mut position = None;
        loop {
            let page =
                call!(v1.get_api_keys().include_values(false).limit(500).set_position(position.clone()), "GetApiKeys");
            for k in page.items() {
                let id = k.id().unwrap_or_default();
                let mut key = RemoteKey::new("rest_api_key", format!("{region}/{id}"), k.name().unwrap_or(id));
                key.status = if k.enabled() { KeyStatus::Active } else { KeyStatus::Inactive };
                key.created_at = k.created_date().and_then(to_chrono);
                key.owner = k.customer_id().map(str::to_owned);
                key.secret_readable = true;
                let plans = plans_of_key.remove(id).unwrap_or_default();
                key.scopes = k.stage_keys().iter().map(|s| format!("stage:{s}")).collect();
                key.scopes.extend(
                    plans
                        .iter()
                        .flat_map(|p| p["stages"].as_array().cloned().unwrap_or_default())
                        .filter_map(|s| s.as_str().map(|s| format!("stage:{s}"))),
                );
                key.scopes.sort();
                key.scopes.dedup();
                key.raw_scopes = json!({"stage_keys": k.stage_keys(), "usage_plans": plans});
                key.details = json!({
                    "region": region,
                    "description": k.description(),
                    "last_updated": k.last_updated_date().and_then(to_chrono).map(|t| t.to_rfc3339()),
                    "usage_plans": plans,
                    "tags": k.tags(),
                });
                inv.keys.push(key);
            }
            position = page.position().map(str::to_owned);
            if position.is_none() {
                break;
            }
        }

        // REST APIs: stage posture.
        let mut position = None;
        loop {
            let page = call!(v1.get_rest_apis().limit(500).set_position(position.clone()), "GetRestApis");
            for api in page.items() {
                let api_id = api.id().unwrap_or_default();
                let api_name = api.name().unwrap_or(api_id);
                let stages = call!(v1.get_stages().rest_api_id(api_id), "GetStages");
                for st in stages.item() {
                    let name = st.stage_name().unwrap_or_default();
                    let throttled = st.method_settings().is_some_and(|m| {
                        m.values().any(|s| s.throttling_rate_limit() > 0.0 || s.throttling_burst_limit() > 0)
                    });
                    let logging = posture::execution_logging(st.method_settings());
                    inv.resources.push(Resource {
                        kind: "apigw_rest_stage",
                        external_id: format!("{region}/{api_id}/{name}"),
                        name: format!("{} {name}", api.name().unwrap_or(api_id)),
                        region: Some(region.to_owned()),
                        details: json!({
                            "api_id": api_id,
                            "access_logs": st.access_log_settings().and_then(|a| a.destination_arn()).is_some(),
                            "throttling": throttled,
                            "web_acl": st.web_acl_arn(),
                            "client_certificate": st.client_certificate_id().is_some(),
                            "tracing": st.tracing_enabled(),
                            "deployment_id": st.deployment_id(),
                            "execution_logging": logging.level,
                            "execution_logging_methods": logging.methods,
                            "data_trace": logging.data_trace,
                            "cache_data_encrypted": logging.cache_data_encrypted,
                        }),
                    });
                }
                let deployed: Vec<&str> = stages
                    .item()
                    .iter()
                    .filter(|s| s.deployment_id().is_some())
                    .filter_map(|s| s.stage_name())
                    .collect();
                let api = posture::RestApi { region, id: api_id, name: api_name, deployed_stages: &deployed };
                posture::rest_methods(&v1, &api, inv).await?;
            }
            position = page.position().map(str::to_owned);
            if position.is_none() {
                break;
            }
        }

        // HTTP and WebSocket APIs (V2).
        let v2 = self.v2(region);
        macro_rules! call2 {
            ($req:expr, $op:literal) => {
                $req.send().await.map_err(|e| {
                    let code = aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
                    (classify($op, e), code)
                })?
            };
        }
        let mut token = None;
        loop {
            let page = call2!(v2.get_apis().max_results("500").set_next_token(token.clone()), "GetApis");
            for api in page.items() {
                let api_id = api.api_id().unwrap_or_default();
                let api_name = api.name().unwrap_or(api_id);
                let cors = api.cors_configuration();
                let origins: Vec<String> = cors.map(|c| c.allow_origins().to_vec()).unwrap_or_default();
                let mut route_authorization: std::collections::BTreeMap<String, usize> = Default::default();
                let mut authorizer_ids: std::collections::BTreeSet<String> = Default::default();
                let mut rt = None;
                loop {
                    let routes = call2!(
                        v2.get_routes().api_id(api_id).max_results("500").set_next_token(rt.clone()),
                        "GetRoutes"
                    );
                    for r in routes.items() {
                        let auth =
                            r.authorization_type().map(|a| a.as_str().to_owned()).unwrap_or_else(|| "NONE".into());
                        *route_authorization.entry(auth.clone()).or_default() += 1;
                        if let Some(id) = r.authorizer_id() {
                            authorizer_ids.insert(id.to_owned());
                        }
                        inv.resources.push(Resource {
                            kind: "apigw_route",
                            external_id: format!("{region}/{api_id}/{}", r.route_id().unwrap_or_default()),
                            name: format!("{api_name} {}", r.route_key().unwrap_or_default()),
                            region: Some(region.to_owned()),
                            details: json!({
                                "api_id": api_id,
                                "route_key": r.route_key(),
                                "authorization_type": auth,
                                "authorizer_id": r.authorizer_id(),
                                "api_key_required": r.api_key_required(),
                                "open": auth == "NONE" && r.api_key_required() != Some(true),
                            }),
                        });
                    }
                    rt = routes.next_token().map(str::to_owned);
                    if rt.is_none() {
                        break;
                    }
                }
                let authorizers = posture::authorizers(&v2, api_id, &authorizer_ids).await?;
                inv.resources.push(Resource {
                    kind: "apigw_api",
                    external_id: format!("{region}/{api_id}"),
                    name: api_name.to_owned(),
                    region: Some(region.to_owned()),
                    details: json!({
                        "protocol": api.protocol_type().map(|p| p.as_str().to_owned()),
                        "endpoint": api.api_endpoint(),
                        "execute_api_endpoint_disabled": api.disable_execute_api_endpoint(),
                        "cors_allow_origins": origins,
                        "cors_allow_credentials": cors.and_then(|c| c.allow_credentials()),
                        "cors_wildcard_with_credentials": origins.iter().any(|o| o == "*") && cors.and_then(|c| c.allow_credentials()) == Some(true),
                        "route_authorization": route_authorization,
                        "authorizers": authorizers,
                    }),
                });
                let mut stt = None;
                loop {
                    let stages = call2!(
                        v2.get_stages().api_id(api_id).max_results("500").set_next_token(stt.clone()),
                        "GetStages"
                    );
                    for st in stages.items() {
                        let name = st.stage_name().unwrap_or_default();
                        let d = st.default_route_settings();
                        let throttled = d.is_some_and(|d| {
                            d.throttling_rate_limit().is_some() || d.throttling_burst_limit().is_some()
                        });
                        inv.resources.push(Resource {
                            kind: "apigw_stage",
                            external_id: format!("{region}/{api_id}/{name}"),
                            name: format!("{api_name} {name}"),
                            region: Some(region.to_owned()),
                            details: json!({
                                "api_id": api_id,
                                "access_logs": st.access_log_settings().and_then(|a| a.destination_arn()).is_some(),
                                "throttling": throttled,
                                "auto_deploy": st.auto_deploy(),
                            }),
                        });
                    }
                    stt = stages.next_token().map(str::to_owned);
                    if stt.is_none() {
                        break;
                    }
                }
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }

        posture::domains(&v1, &v2, region, inv).await?;
        Ok(())
    }
}

mod posture;
mod provider;
mod rotation;
pub use provider::PROVIDER;

crate::source_for!(ApiGateway);
