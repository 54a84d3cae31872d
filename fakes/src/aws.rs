//! A small AWS stand-in for the demo workspace (tests use moto, the real emulator): IAM's query
//! protocol (form POST, XML answers, `Marker` paging) for the calls the IAM connector makes (the
//! authorization details, the credential report as AWS writes it, each user's keys), and
//! API Gateway's REST (`/apikeys`, `/usageplans`, `/restapis` with resources, methods and
//! validators, `/domainnames`) and V2 (`/v2/apis` with routes, stages and authorizers,
//! `/v2/domainnames`) JSON shapes, as the botocore models in `shared/specs` describe them. The
//! demo's gateway posture has one instance of each shape a gateway rule judges. Requests must be signed
//! (SigV4 header) with the demo access key; the signature itself is not verified. Errors are
//! IAM's `<ErrorResponse>` (throttling is a 400 `Throttling`) and API Gateway's
//! `{"message"}` with `x-amzn-ErrorType` (429 with `Retry-After`).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::server::{Provider, Reply, Request, form};
use crate::ts;

/// The access key the demo signs with.
pub const DEMO_ACCESS_KEY: &str = "AKIAKEYWARDDEMO00000";
/// Its secret (the stand-in does not verify signatures).
pub const DEMO_SECRET_KEY: &str = "keyward-demo-secret-not-checked";
const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const ACCOUNT: &str = "123456789012";
const PAGE: usize = 100;

/// An IAM access key.
#[derive(Debug, Clone)]
pub struct AccessKey {
    /// `AKIA…`.
    pub id: String,
    /// Active or not.
    pub active: bool,
    /// Created.
    pub created: DateTime<Utc>,
    /// Last use: when, service, region.
    pub last_used: Option<(DateTime<Utc>, String, String)>,
}

/// An IAM user.
#[derive(Debug, Clone)]
pub struct User {
    /// Name.
    pub name: String,
    /// Whether `AdministratorAccess` is attached.
    pub admin: bool,
    /// Keys.
    pub keys: Vec<AccessKey>,
}

/// An API Gateway REST API key.
#[derive(Debug, Clone)]
pub struct GatewayKey {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Customer id.
    pub customer: Option<String>,
    /// Enabled.
    pub enabled: bool,
    /// Created.
    pub created: DateTime<Utc>,
    /// In the usage plan.
    pub planned: bool,
}

/// The account.
#[derive(Debug, Default)]
pub struct State {
    /// IAM users.
    pub users: Vec<User>,
    /// Whether the root user has an access key.
    pub root_key: bool,
    /// API Gateway keys (one region).
    pub gateway_keys: Vec<GatewayKey>,
}

/// The fake AWS endpoint (IAM and API Gateway on one URL, as `AWS_ENDPOINT_URL` points both).
pub struct Aws {
    /// State.
    pub state: Mutex<State>,
}

/// IAM's credential report as AWS writes it: a root row, then one row per user with the
/// creation time (`last_rotated`) and last use of the key in each of two slots.
fn credential_report(state: &State) -> String {
    let date = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let mut csv = String::from(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,\
         mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
         access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
         access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
         cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    let root_key = if state.root_key { "true,2020-01-01T00:00:00+00:00" } else { "false,N/A" };
    csv += &format!(
        "<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,\
         not_supported,true,{root_key},N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    );
    for u in &state.users {
        let mut row = format!(
            "{0},arn:aws:iam::{ACCOUNT}:user/{0},2020-01-01T00:00:00+00:00,false,not_supported,N/A,N/A,false",
            u.name
        );
        for slot in 0..2 {
            row += &match u.keys.get(slot) {
                Some(k) => {
                    let used = match &k.last_used {
                        Some((at, service, region)) => format!("{},{region},{service}", date(*at)),
                        None => "N/A,N/A,N/A".into(),
                    };
                    format!(",{},{},{used}", k.active, date(k.created))
                }
                None => ",false,N/A,N/A,N/A,N/A".into(),
            };
        }
        csv += &row;
        csv += ",false,N/A,false,N/A\n";
    }
    csv
}

impl Aws {
    /// A fake account.
    pub fn new(state: State) -> Self {
        Self { state: Mutex::new(state) }
    }

    fn iam(&self, req: &Request) -> Reply {
        let params = form(&req.body);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let action = get("Action").unwrap_or("");
        let marker: usize = get("Marker").and_then(|m| m.parse().ok()).unwrap_or(0);
        let state = self.state.lock().unwrap();
        let user = get("UserName").and_then(|u| state.users.iter().find(|x| x.name == u));
        let page = |list: &str, items: Vec<String>| {
            let end = (marker + PAGE).min(items.len());
            let more = end < items.len();
            let next = if more { format!("<Marker>{end}</Marker>") } else { String::new() };
            format!(
                "<{action}Response xmlns=\"{NS}\"><{action}Result><{list}>{}</{list}><IsTruncated>{more}</IsTruncated>{next}\
                 </{action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></{action}Response>",
                items[marker.min(items.len())..end].concat()
            )
        };
        let xml = match action {
            "ListAccessKeys" => {
                let Some(u) = user else { return self.iam_error(404, "NoSuchEntity") };
                page(
                    "AccessKeyMetadata",
                    u.keys
                        .iter()
                        .map(|k| {
                            format!(
                                "<member><UserName>{}</UserName><AccessKeyId>{}</AccessKeyId><Status>{}</Status>\
                                 <CreateDate>{}</CreateDate></member>",
                                u.name,
                                k.id,
                                if k.active { "Active" } else { "Inactive" },
                                ts(k.created)
                            )
                        })
                        .collect(),
                )
            }
            "GetAccessKeyLastUsed" => {
                let id = get("AccessKeyId").unwrap_or("");
                let Some((owner, key)) =
                    state.users.iter().find_map(|u| u.keys.iter().find(|k| k.id == id).map(|k| (u, k)))
                else {
                    return self.iam_error(404, "NoSuchEntity");
                };
                let used = match &key.last_used {
                    Some((at, service, region)) => format!(
                        "<LastUsedDate>{}</LastUsedDate><ServiceName>{service}</ServiceName><Region>{region}</Region>",
                        ts(*at)
                    ),
                    None => "<ServiceName>N/A</ServiceName><Region>N/A</Region>".into(),
                };
                format!(
                    "<GetAccessKeyLastUsedResponse xmlns=\"{NS}\"><GetAccessKeyLastUsedResult><UserName>{}</UserName>\
                     <AccessKeyLastUsed>{used}</AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
                     <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetAccessKeyLastUsedResponse>",
                    owner.name
                )
            }
            "GetAccountAuthorizationDetails" => {
                let admin = "<AttachedManagedPolicies><member><PolicyName>AdministratorAccess</PolicyName>\
                             <PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member></AttachedManagedPolicies>";
                page(
                    "UserDetailList",
                    state
                        .users
                        .iter()
                        .map(|u| {
                            format!(
                                "<member><Path>/</Path><UserName>{0}</UserName><UserId>AIDA{0}</UserId>\
                                 <Arn>arn:aws:iam::{ACCOUNT}:user/{0}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate>\
                                 <UserPolicyList/><GroupList/>{1}</member>",
                                u.name,
                                if u.admin { admin } else { "<AttachedManagedPolicies/>" }
                            )
                        })
                        .collect(),
                )
            }
            "GenerateCredentialReport" => format!(
                "<GenerateCredentialReportResponse xmlns=\"{NS}\"><GenerateCredentialReportResult><State>COMPLETE</State>\
                 </GenerateCredentialReportResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>\
                 </GenerateCredentialReportResponse>"
            ),
            "GetCredentialReport" => {
                use base64::Engine as _;
                let csv = credential_report(&state);
                format!(
                    "<GetCredentialReportResponse xmlns=\"{NS}\"><GetCredentialReportResult><Content>{}</Content>\
                     <ReportFormat>text/csv</ReportFormat><GeneratedTime>{}</GeneratedTime></GetCredentialReportResult>\
                     <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCredentialReportResponse>",
                    base64::engine::general_purpose::STANDARD.encode(csv),
                    ts(Utc::now())
                )
            }
            "GetAccountSummary" => format!(
                "<GetAccountSummaryResponse xmlns=\"{NS}\"><GetAccountSummaryResult><SummaryMap>\
                 <entry><key>AccountAccessKeysPresent</key><value>{}</value></entry>\
                 <entry><key>Users</key><value>{}</value></entry></SummaryMap></GetAccountSummaryResult>\
                 <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetAccountSummaryResponse>",
                u8::from(state.root_key),
                state.users.len()
            ),
            _ => return self.iam_error(400, "InvalidAction"),
        };
        Reply::text(200, "text/xml", xml)
    }

    fn iam_error(&self, status: u16, code: &str) -> Reply {
        let xml = format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code}</Message></Error>\
             <RequestId>fake</RequestId></ErrorResponse>"
        );
        Reply::text(status, "text/xml", xml)
    }

    fn gateway(&self, req: &Request) -> Reply {
        let state = self.state.lock().unwrap();
        let segs = req.segments();
        let secs = |t: DateTime<Utc>| t.timestamp();
        let body: Value = match segs.as_slice() {
            ["apikeys"] => json!({"item": state.gateway_keys.iter().map(|k| json!({
                "id": k.id, "name": k.name, "customerId": k.customer, "enabled": k.enabled,
                "createdDate": secs(k.created), "lastUpdatedDate": secs(k.created), "stageKeys": [],
            })).collect::<Vec<_>>()}),
            ["usageplans"] => json!({"item": [{
                "id": "plan0001", "name": "partners",
                "apiStages": [{"apiId": "rest0001", "stage": "prod"}],
                "throttle": {"burstLimit": 100, "rateLimit": 50.0},
                "quota": {"limit": 10000, "offset": 0, "period": "MONTH"},
            }]}),
            ["usageplans", "plan0001", "keys"] => {
                json!({"item": state.gateway_keys.iter().filter(|k| k.planned).map(|k| json!({
                "id": k.id, "type": "API_KEY", "name": k.name,
            })).collect::<Vec<_>>()})
            }
            ["restapis"] => json!({"item": [{"id": "rest0001", "name": "orders"}]}),
            ["restapis", "rest0001", "stages"] => json!({"item": [{
                "stageName": "prod", "deploymentId": "dep1", "tracingEnabled": false,
                "methodSettings": {"*/*": {"throttlingBurstLimit": 0, "throttlingRateLimit": 0.0, "loggingLevel": "OFF"}},
            }]}),
            // `/` GET open; `/orders` GET behind a key alone, POST with IAM and an unvalidated
            // body model; `/orders/{id}` PUT with a Lambda authorizer and a validated body.
            ["restapis", "rest0001", "resources"] => json!({"item": [
                {"id": "root01", "path": "/", "resourceMethods": {
                    "GET": {"httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": false},
                }},
                {"id": "ord001", "parentId": "root01", "pathPart": "orders", "path": "/orders", "resourceMethods": {
                    "GET": {"httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": true},
                    "POST": {"httpMethod": "POST", "authorizationType": "AWS_IAM", "apiKeyRequired": false,
                             "requestModels": {"application/json": "Order"}},
                }},
                {"id": "ord002", "parentId": "ord001", "pathPart": "{id}", "path": "/orders/{id}", "resourceMethods": {
                    "PUT": {"httpMethod": "PUT", "authorizationType": "CUSTOM", "authorizerId": "auth01",
                            "apiKeyRequired": false, "requestValidatorId": "val001",
                            "requestModels": {"application/json": "Order"}},
                }},
            ]}),
            ["restapis", "rest0001", "requestvalidators"] => json!({"item": [
                {"id": "val001", "name": "body", "validateRequestBody": true, "validateRequestParameters": false},
            ]}),
            ["domainnames"] => json!({"item": [{
                "domainName": "api.orders.example", "securityPolicy": "TLS_1_0",
                "endpointConfiguration": {"types": ["REGIONAL"]}, "domainNameStatus": "AVAILABLE",
            }]}),
            ["v2", "domainnames"] => json!({"items": [
                {"domainName": "api.orders.example", "domainNameConfigurations": [
                    {"endpointType": "REGIONAL", "securityPolicy": "TLS_1_0"}]},
                {"domainName": "hooks.example", "domainNameConfigurations": [
                    {"endpointType": "REGIONAL", "securityPolicy": "TLS_1_2"}],
                 "mutualTlsAuthentication": {"truststoreUri": "s3://demo-truststore/ca.pem"}},
            ]}),
            ["v2", "apis"] => json!({"items": [{
                "apiId": "http0001", "name": "public-api", "protocolType": "HTTP",
                "apiEndpoint": "https://http0001.execute-api.us-east-1.amazonaws.com",
                "routeSelectionExpression": "$request.method $request.path",
                "corsConfiguration": {"allowOrigins": ["*"], "allowCredentials": true},
            }, {
                "apiId": "http0002", "name": "webhooks", "protocolType": "HTTP",
                "apiEndpoint": "https://http0002.execute-api.us-east-1.amazonaws.com",
                "routeSelectionExpression": "$request.method $request.path",
            }]}),
            // Every route behind a Lambda authorizer: guarded, but by no central issuer.
            ["v2", "apis", "http0002", "routes"] => json!({"items": [
                {"routeId": "r-hook", "routeKey": "POST /hook", "authorizationType": "CUSTOM",
                 "authorizerId": "lam001", "apiKeyRequired": false},
            ]}),
            ["v2", "apis", "http0002", "authorizers", "lam001"] => json!({
                "authorizerId": "lam001", "name": "hook-signature", "authorizerType": "REQUEST",
                "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hook-auth/invocations",
                "identitySource": ["$request.header.X-Signature"], "authorizerPayloadFormatVersion": "2.0",
            }),
            ["v2", "apis", "http0002", "stages"] => json!({"items": [
                {"stageName": "$default", "autoDeploy": true,
                 "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:hooks", "format": "$context.requestId"},
                 "defaultRouteSettings": {"throttlingBurstLimit": 20, "throttlingRateLimit": 10.0}},
            ]}),
            ["v2", "apis", "http0001", "routes"] => json!({"items": [
                {"routeId": "r-open", "routeKey": "GET /status", "authorizationType": "NONE", "apiKeyRequired": false},
                {"routeId": "r-iam", "routeKey": "POST /orders", "authorizationType": "AWS_IAM", "apiKeyRequired": false},
            ]}),
            ["v2", "apis", "http0001", "stages"] => json!({"items": [
                {"stageName": "$default", "autoDeploy": true, "defaultRouteSettings": {}},
            ]}),
            _ => return self.gateway_error(404, "NotFoundException", "Invalid resource path"),
        };
        Reply::json(200, &body)
    }

    fn gateway_error(&self, status: u16, kind: &str, message: &str) -> Reply {
        Reply::json(status, &json!({"message": message})).with_header("x-amzn-ErrorType", kind)
    }
}

impl Provider for Aws {
    fn handle(&self, req: &Request) -> Reply {
        let signed = req.header("authorization").is_some_and(|a| {
            a.starts_with("AWS4-HMAC-SHA256") && a.contains(&format!("Credential={DEMO_ACCESS_KEY}/"))
        });
        let iam = req.method == "POST" && req.path == "/";
        if !signed {
            return if iam {
                self.iam_error(403, "InvalidClientTokenId")
            } else {
                self.gateway_error(
                    403,
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                )
            };
        }
        if iam {
            self.iam(req)
        } else if req.method == "GET" {
            self.gateway(req)
        } else {
            self.gateway_error(404, "NotFoundException", "Not found")
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        self.gateway_error(status, "ServiceException", message)
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        self.gateway_error(429, "TooManyRequestsException", "Too Many Requests")
            .with_header("Retry-After", seconds.to_string())
    }
}
