//! The posture reads beyond keys and stages: a REST API's methods (how each is authorized,
//! whether it needs an API key, whether its body is validated), a stage's execution logging,
//! custom domains (TLS policy, mutual TLS) and the authorizers of HTTP/WebSocket routes. The
//! audit's gateway rules judge these; nothing here reads a secret.
//!
//! A posture read fails the sync as the key reads do (an access denied names the permission):
//! leaving a denied kind out would make its resources look removed, and their findings resolved.
//! A listing that pages past [`MAX_PAGES`] or repeats its position is refused, so a hostile
//! endpoint cannot keep a sync looping.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use aws_sdk_apigateway::config::http::HttpResponse;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::types::MethodSetting;
use serde_json::{Value, json};

use crate::aws::classify;
use crate::paging::MAX_PAGES;
use crate::{ConnectorError, ErrorKind, Inventory, Resource};

type Failure = (ConnectorError, Option<String>);

/// The SDK crates share smithy's error types, so one function reads V1's and V2's errors.
fn fail<E>(op: &'static str, e: SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.code().map(str::to_owned);
    (classify(op, e), code)
}

/// The next page's position, refused when the listing runs past [`MAX_PAGES`] or hands back a
/// position it already gave.
fn next(op: &'static str, pages: &mut HashSet<String>, position: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(p) = position else { return Ok(None) };
    if pages.len() >= MAX_PAGES || !pages.insert(p.to_owned()) {
        let detail =
            format!("{op} kept paging (more than {MAX_PAGES} pages, or a position repeated); nothing was stored");
        return Err((ConnectorError::new(super::provider::PROVIDER.id, ErrorKind::Malformed, detail), None));
    }
    Ok(Some(p.to_owned()))
}

/// A stage's execution logging, from its method settings.
pub(super) struct ExecutionLogging {
    /// The `*/*` level: `OFF`, `ERROR` or `INFO`. API Gateway logs nothing unless set, so an
    /// absent setting is `OFF`.
    pub level: String,
    /// Methods whose own setting overrides it (`items/GET` → `ERROR`).
    pub methods: BTreeMap<String, String>,
    /// Full request and response logging (`dataTraceEnabled`) on `*/*`.
    pub data_trace: bool,
    /// Whether the `*/*` cache is encrypted (meaningful only where caching is on).
    pub cache_data_encrypted: Option<bool>,
}

pub(super) fn execution_logging(settings: Option<&HashMap<String, MethodSetting>>) -> ExecutionLogging {
    let all = settings.and_then(|m| m.get("*/*"));
    ExecutionLogging {
        level: all.and_then(|s| s.logging_level()).unwrap_or("OFF").to_owned(),
        methods: settings
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != "*/*")
            .filter_map(|(k, s)| Some((k.clone(), s.logging_level()?.to_owned())))
            .collect(),
        data_trace: all.is_some_and(|s| s.data_trace_enabled()),
        cache_data_encrypted: all.filter(|s| s.caching_enabled()).map(|s| s.cache_data_encrypted()),
    }
}

/// A REST API as the method read needs it.
pub(super) struct RestApi<'a> {
    pub region: &'a str,
    pub id: &'a str,
    pub name: &'a str,
    /// Stages with a deployment: what callers can reach.
    pub deployed_stages: &'a [&'a str],
}

/// Every method of a REST API (`GetResources embed=methods`, paged) with its request validator
/// (`GetRequestValidators`, paged), as `apigw_rest_method` resources.
pub(super) async fn rest_methods(
    v1: &aws_sdk_apigateway::Client,
    api: &RestApi<'_>,
    inv: &mut Inventory,
) -> Result<(), Failure> {
    let mut validators: HashMap<String, Value> = HashMap::new();
    let mut pages = HashSet::new();
    let mut position = None;
    loop {
        let page = v1
            .get_request_validators()
            .rest_api_id(api.id)
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| fail("GetRequestValidators", e))?;
        for v in page.items() {
            let id = v.id().unwrap_or_default().to_owned();
            validators.insert(
                id.clone(),
                json!({
                    "id": id,
                    "name": v.name(),
                    "body": v.validate_request_body(),
                    "parameters": v.validate_request_parameters(),
                }),
            );
        }
        position = next("GetRequestValidators", &mut pages, page.position())?;
        if position.is_none() {
            break;
        }
    }

    let mut pages = HashSet::new();
    let mut position = None;
    loop {
        let page = v1
            .get_resources()
            .rest_api_id(api.id)
            .embed("methods")
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| fail("GetResources", e))?;
        for resource in page.items() {
            let path = resource.path().unwrap_or("/");
            let resource_id = resource.id().unwrap_or_default();
            let mut methods: Vec<_> = resource.resource_methods().into_iter().flatten().collect();
            methods.sort_by(|a, b| a.0.cmp(b.0));
            for (verb, m) in methods {
                let verb = m.http_method().unwrap_or(verb);
                // A method without its fields (an answer that ignored `embed=methods`) keeps them
                // null: the rules judge only what was said.
                let mut models: Vec<&String> = m.request_models().into_iter().flat_map(|r| r.keys()).collect();
                models.sort();
                let validator = m.request_validator_id().map(|id| {
                    validators.get(id).cloned().unwrap_or_else(|| json!({"id": id, "body": null, "parameters": null}))
                });
                inv.resources.push(Resource {
                    kind: "apigw_rest_method",
                    external_id: format!("{}/{}/{resource_id}/{verb}", api.region, api.id),
                    name: format!("{} {verb} {path}", api.name),
                    region: Some(api.region.to_owned()),
                    details: json!({
                        "api_id": api.id,
                        "path": path,
                        "http_method": verb,
                        "authorization_type": m.authorization_type(),
                        "authorizer_id": m.authorizer_id(),
                        "api_key_required": m.api_key_required(),
                        "request_models": models,
                        "request_validator": validator,
                        "deployed_stages": api.deployed_stages,
                    }),
                });
            }
        }
        position = next("GetResources", &mut pages, page.position())?;
        if position.is_none() {
            break;
        }
    }
    Ok(())
}

/// The authorizers routes name (`GetAuthorizer` for each id): type, and a JWT authorizer's
/// issuer and audience. One call per distinct authorizer a route uses; an API's unused
/// authorizers protect nothing, so they are not read.
pub(super) async fn authorizers(
    v2: &aws_sdk_apigatewayv2::Client,
    api_id: &str,
    ids: &BTreeSet<String>,
) -> Result<Vec<Value>, Failure> {
    let mut out = Vec::new();
    for id in ids {
        let a = match v2.get_authorizer().api_id(api_id).authorizer_id(id).send().await {
            Ok(a) => a,
            // A route naming an authorizer that is gone: say so rather than fail the sync.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found_exception()) => {
                out.push(json!({"id": id, "missing": true}));
                continue;
            }
            Err(e) => return Err(fail("GetAuthorizer", e)),
        };
        out.push(json!({
            "id": id,
            "name": a.name(),
            "type": a.authorizer_type().map(|t| t.as_str()),
            "jwt_issuer": a.jwt_configuration().and_then(|j| j.issuer()),
            "jwt_audience": a.jwt_configuration().map(|j| j.audience()),
        }));
    }
    Ok(out)
}

/// Custom domain names, REST (`GetDomainNames`, paged) and HTTP/WebSocket (`GetDomainNames` V2,
/// paged), as `apigw_domain` resources. The two lists share one namespace (a regional domain
/// shows in both), so a name is recorded once, V1's answer first.
pub(super) async fn domains(
    v1: &aws_sdk_apigateway::Client,
    v2: &aws_sdk_apigatewayv2::Client,
    region: &str,
    inv: &mut Inventory,
) -> Result<(), Failure> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut pages = HashSet::new();
    let mut position = None;
    loop {
        let page = v1
            .get_domain_names()
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| fail("GetDomainNames", e))?;
        for d in page.items() {
            let name = d.domain_name().unwrap_or_default();
            seen.insert(name.to_owned());
            inv.resources.push(domain(
                region,
                name,
                "rest",
                d.security_policy().map(|p| vec![p.as_str()]).unwrap_or_default(),
                d.endpoint_configuration().map(|e| e.types().iter().map(|t| t.as_str()).collect()).unwrap_or_default(),
                d.mutual_tls_authentication().and_then(|m| m.truststore_uri()).is_some(),
            ));
        }
        position = next("GetDomainNames", &mut pages, page.position())?;
        if position.is_none() {
            break;
        }
    }
    let mut pages = HashSet::new();
    let mut token = None;
    loop {
        let page = v2
            .get_domain_names()
            .max_results("500")
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| fail("GetDomainNames", e))?;
        for d in page.items() {
            let name = d.domain_name().unwrap_or_default();
            if !seen.insert(name.to_owned()) {
                continue;
            }
            let configs = d.domain_name_configurations();
            inv.resources.push(domain(
                region,
                name,
                "http",
                configs.iter().filter_map(|c| c.security_policy()).map(|p| p.as_str()).collect(),
                configs.iter().filter_map(|c| c.endpoint_type()).map(|t| t.as_str()).collect(),
                d.mutual_tls_authentication().and_then(|m| m.truststore_uri()).is_some(),
            ));
        }
        token = next("GetDomainNames (V2)", &mut pages, page.next_token())?;
        if token.is_none() {
            break;
        }
    }
    Ok(())
}

/// One custom domain, as V1 and V2 describe it alike.
fn domain(region: &str, name: &str, api: &str, policies: Vec<&str>, endpoint_types: Vec<&str>, mtls: bool) -> Resource {
    Resource {
        kind: "apigw_domain",
        external_id: format!("{region}/{name}"),
        name: name.to_owned(),
        region: Some(region.to_owned()),
        details: json!({
            "api": api,
            "security_policies": policies,
            "endpoint_types": endpoint_types,
            "mutual_tls": mtls,
        }),
    }
}
