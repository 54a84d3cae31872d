//! MongoDB Atlas: an organization's programmatic API keys (roles, projects, access lists with
//! their last use) and service accounts with their secrets, plus the org's
//! `apiAccessListRequired` setting, through the Administration API v2.
//!
//! Two ways in: a programmatic API key over HTTP Digest (challenge answered with the maintained
//! `digest_auth` crate; nonces are reused with a counter and refreshed when stale), or a service
//! account over OAuth 2.0 client credentials (a bearer token, valid an hour). Every call sends the
//! versioned `Accept` header its resource needs.

use std::collections::BTreeSet;

use base64::Engine;
use keyward_secret::Secret;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::http::{self, Http, HttpSettings, RateLimitSignal, Response};
use crate::paging::{self, Page};
use crate::{Check, ConnectorError, ErrorKind, Inventory, LastUse, OwnerFacts, Progress, RemoteKey, str_of, time_of};

const PROVIDER_ID: &str = provider::PROVIDER.id;
const PAGE: usize = 500;
const V_API_KEYS: &str = "application/vnd.atlas.2023-01-01+json";
const V_SERVICE_ACCOUNTS: &str = "application/vnd.atlas.2024-08-05+json";

/// How the connector signs in.
#[derive(Clone)]
pub enum AtlasAuth {
    /// A programmatic API key (HTTP Digest).
    ApiKey {
        /// Public key (the Digest username).
        public_key: String,
        /// Private key.
        private_key: Secret,
    },
    /// A service account (OAuth 2.0 client credentials).
    ServiceAccount {
        /// `mdb_sa_id_…`.
        client_id: String,
        /// Its secret.
        client_secret: Secret,
    },
}

impl std::fmt::Debug for AtlasAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AtlasAuth::ApiKey { public_key, .. } => write!(f, "ApiKey({public_key}, <redacted>)"),
            AtlasAuth::ServiceAccount { client_id, .. } => write!(f, "ServiceAccount({client_id}, <redacted>)"),
        }
    }
}

impl AtlasAuth {
    fn secrets(&self) -> Vec<&str> {
        match self {
            AtlasAuth::ApiKey { private_key, .. } => vec![private_key.expose()],
            AtlasAuth::ServiceAccount { client_secret, .. } => vec![client_secret.expose()],
        }
    }
}

/// How to reach one Atlas organization.
#[derive(Debug, Clone)]
pub struct AtlasSettings {
    /// The organization id.
    pub org_id: String,
    /// Overrides `https://cloud.mongodb.com` (Atlas for Government, tests, the demo).
    pub base_url: Option<String>,
}

/// A connected Atlas organization.
#[derive(Debug)]
pub struct Atlas {
    http: Http,
    base: String,
    org: String,
    auth: AtlasAuth,
    /// The Digest challenge (reused with a growing nonce count) or the bearer token.
    session: Mutex<Option<Session>>,
}

enum Session {
    Digest(digest_auth::WwwAuthenticateHeader),
    Bearer(Secret),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Session::Digest(_) => "Digest",
            Session::Bearer(_) => "Bearer(<redacted>)",
        })
    }
}

impl Atlas {
    /// A client; nothing is sent until a call.
    pub fn new(settings: &AtlasSettings, auth: AtlasAuth) -> Result<Self, ConnectorError> {
        Self::with_http(settings, auth, HttpSettings::default())
    }

    /// A client with its own HTTP limits (tests).
    pub fn with_http(settings: &AtlasSettings, auth: AtlasAuth, http: HttpSettings) -> Result<Self, ConnectorError> {
        if settings.org_id.trim().is_empty() {
            return Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Config, "the organization id is required"));
        }
        if let AtlasAuth::ApiKey { public_key, .. } = &auth {
            // The Digest username goes into the Authorization header as it is.
            http::check_credential(PROVIDER_ID, "public key", &Secret::from(public_key.as_str()))?;
        }
        let http =
            Http::new(PROVIDER_ID, HttpSettings { rate_limit: RateLimitSignal::RetryAfter, ..http }, &auth.secrets())?;
        let base = settings.base_url.clone().unwrap_or_else(|| "https://cloud.mongodb.com".into());
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            org: settings.org_id.clone(),
            auth,
            session: Mutex::new(None),
        })
    }

    async fn authorization(&self, method: &str, uri: &str) -> Result<Option<HeaderValue>, ConnectorError> {
        let mut session = self.session.lock().await;
        match (&mut *session, &self.auth) {
            (Some(Session::Bearer(t)), _) => Ok(Some(http::credential_with(t, "Bearer "))),
            (Some(Session::Digest(prompt)), AtlasAuth::ApiKey { public_key, private_key }) => {
                let method = digest_auth::HttpMethod::from(method.to_owned());
                let ctx = digest_auth::AuthContext::new_with_method(
                    public_key,
                    private_key.expose(),
                    uri,
                    Option::<&[u8]>::None,
                    method,
                );
                let answer = prompt.respond(&ctx).map_err(|e| {
                    ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("digest challenge: {e}"))
                })?;
                Ok(Some(http::credential(&Secret::new(answer.to_header_string()))))
            }
            (None, AtlasAuth::ServiceAccount { client_id, client_secret }) => {
                let token = self.token(client_id, client_secret).await?;
                let header = http::credential_with(&token, "Bearer ");
                *session = Some(Session::Bearer(token));
                Ok(Some(header))
            }
            _ => Ok(None),
        }
    }

    async fn token(&self, client_id: &str, client_secret: &Secret) -> Result<Secret, ConnectorError> {
        let r = self.ask_token(client_id, client_secret, &[]).await?;
        let body: Value = r.json(PROVIDER_ID)?;
        body["access_token"].as_str().map(Secret::from).ok_or_else(|| {
            ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "token response without access_token")
        })
    }

    /// `POST /api/oauth/token` with a service account's id and secret (client credentials);
    /// statuses in `accepting` come back as answers. The secret and its Basic form are scrubbed
    /// from errors.
    async fn ask_token(&self, client_id: &str, secret: &Secret, accepting: &[u16]) -> Result<Response, ConnectorError> {
        let url = format!("{}/api/oauth/token", self.base);
        let pair = zeroize::Zeroizing::new(format!("{client_id}:{}", secret.expose()));
        let basic = Secret::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
        self.http
            .scrubbing(&[secret.expose(), basic.expose()])?
            .send_accepting("POST /api/oauth/token", accepting, |c| {
                c.post(&url)
                    .header("Authorization", http::credential_with(&basic, "Basic "))
                    .header("Accept", "application/json")
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials")
            })
            .await
    }

    /// One GET, answering the Digest challenge (again when the nonce went stale).
    async fn get(&self, path: &str, query: &str, media: &str) -> Result<Response, ConnectorError> {
        self.request("GET", path, query, media, None, &[]).await
    }

    /// One call, answering the Digest challenge (again when the nonce went stale); statuses in
    /// `accepting` come back as answers rather than errors.
    async fn request(
        &self,
        method: &str,
        path: &str,
        query: &str,
        media: &str,
        body: Option<&Value>,
        accepting: &[u16],
    ) -> Result<Response, ConnectorError> {
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        let url = format!("{}{uri}", self.base);
        let what = format!("{method} {path}");
        let verb = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| ConnectorError::new(PROVIDER_ID, ErrorKind::Config, format!("no HTTP method {method:?}")))?;
        let accept: Vec<u16> = accepting.iter().copied().chain([401]).collect();
        for _ in 0..3 {
            let auth = self.authorization(method, &uri).await?;
            let build = |c: &reqwest::Client| {
                let mut b = c.request(verb.clone(), &url).header("Accept", media);
                if let Some(a) = &auth {
                    b = b.header("Authorization", a);
                }
                if let Some(body) = body {
                    b = b.header("Content-Type", media).json(body);
                }
                b
            };
            // A POST makes something: sent once (a retry after a lost answer would make two).
            let r = if verb == reqwest::Method::POST {
                self.http.send_once(&what, &accept, build).await?
            } else {
                self.http.send_accepting(&what, &accept, build).await?
            };
            if r.status != 401 {
                return Ok(r);
            }
            let challenge = r.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let (AtlasAuth::ApiKey { .. }, Some(challenge)) = (&self.auth, challenge) else {
                return Err(unauthenticated());
            };
            // A fresh (not stale) challenge in answer to our response means the key is wrong.
            if auth.is_some() && !challenge.contains("stale=true") {
                return Err(unauthenticated());
            }
            let header = digest_auth::parse(&challenge).map_err(|e| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("digest challenge: {e}"))
            })?;
            *self.session.lock().await = Some(Session::Digest(header));
        }
        Err(unauthenticated())
    }

    async fn pages(&self, path: &str, media: &str) -> Result<Vec<Value>, ConnectorError> {
        paging::numbered(PROVIDER_ID, 1, PAGE, |n| async move {
            let q = format!("pageNum={n}&itemsPerPage={PAGE}&includeCount=true");
            let body: Value = self.get(path, &q, media).await?.json(PROVIDER_ID)?;
            let items = body["results"].as_array().cloned().ok_or_else(|| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("GET {path}: no results array"))
            })?;
            Ok(Page { items, total: body["totalCount"].as_u64().map(|t| t as usize) })
        })
        .await
    }

    /// Checks the credentials and that the organization's keys can be listed.
    pub async fn check(&self) -> Result<Vec<Check>, ConnectorError> {
        let path = format!("/api/atlas/v2/orgs/{}/apiKeys", self.org);
        Ok(vec![match self.get(&path, "itemsPerPage=1", V_API_KEYS).await {
            Ok(_) => Check {
                what: "Organization Member".into(),
                ok: true,
                detail: "the organization's API keys can be listed".into(),
            },
            Err(e) if matches!(e.kind, ErrorKind::PermissionDenied | ErrorKind::NotFound) => Check {
                what: "Organization Member".into(),
                ok: false,
                detail: format!("{e}: grant the key at least Organization Read Only in organization {}", self.org),
            },
            Err(e) if e.kind == ErrorKind::Unauthenticated => {
                Check { what: "credentials".into(), ok: false, detail: e.message.clone() }
            }
            Err(e) => return Err(e),
        }])
    }

    /// The organization's keys and service-account secrets.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        let org = &self.org;
        progress(Progress { phase: "api keys", done: 0, total: None });
        let (keys_path, sas_path, settings_path) = (
            format!("/api/atlas/v2/orgs/{org}/apiKeys"),
            format!("/api/atlas/v2/orgs/{org}/serviceAccounts"),
            format!("/api/atlas/v2/orgs/{org}/settings"),
        );
        let (api_keys, sas, settings) =
            tokio::try_join!(self.pages(&keys_path, V_API_KEYS), self.pages(&sas_path, V_SERVICE_ACCOUNTS), async {
                self.get(&settings_path, "", V_API_KEYS).await?.json::<Value>(PROVIDER_ID)
            },)?;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let total = api_keys.len();
        let access_lists = futures_util::future::try_join_all(api_keys.iter().map(|k| {
            let done = &done;
            async move {
                let id = k["id"].as_str().unwrap_or_default();
                let list = self.pages(&format!("/api/atlas/v2/orgs/{org}/apiKeys/{id}/accessList"), V_API_KEYS).await?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if n.is_multiple_of(50) || n == total {
                    progress(Progress { phase: "access lists", done: n, total: Some(total) });
                }
                Ok::<_, ConnectorError>(list)
            }
        }));
        let sa_access_lists = futures_util::future::try_join_all(sas.iter().map(|sa| async move {
            let id = sa["clientId"].as_str().unwrap_or_default();
            self.pages(&format!("/api/atlas/v2/orgs/{org}/serviceAccounts/{id}/accessList"), V_SERVICE_ACCOUNTS).await
        }));
        let (lists, sa_lists) = tokio::try_join!(access_lists, sa_access_lists)?;
        let mut keys = Vec::new();
        for (k, list) in api_keys.iter().zip(lists) {
            let mut key = RemoteKey::new("programmatic_api_key", str_of(&k["id"]), str_of(&k["desc"]));
            let (scopes, projects) = roles(&k["roles"]);
            key.scopes = scopes;
            key.raw_scopes = k["roles"].clone();
            key.usage_tracked = !list.is_empty();
            key.last_used = last_use(&list, "lastUsed");
            key.details = json!({
                "public_key": k["publicKey"],
                "projects": projects,
                "access_list": access_list(&list, "lastUsed", "count"),
            });
            keys.push(key);
        }

        for (sa, list) in sas.iter().zip(sa_lists) {
            let name = str_of(&sa["name"]);
            let roles: Vec<String> = sa["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|r| format!("org:{r}"))
                .collect();
            for secret in sa["secrets"].as_array().into_iter().flatten() {
                let mut key = RemoteKey::new("service_account_secret", str_of(&secret["id"]), format!("{name} secret"));
                key.owner = Some(name.clone());
                key.created_at = time_of(&secret["createdAt"]);
                key.expires_at = time_of(&secret["expiresAt"]);
                key.last_used = time_of(&secret["lastUsedAt"]).map(LastUse::at);
                key.usage_tracked = true;
                key.scopes = roles.clone();
                key.raw_scopes = sa["roles"].clone();
                key.details = json!({
                    "client_id": sa["clientId"],
                    "masked_secret": secret["maskedSecretValue"],
                    "access_list": access_list(&list, "lastUsedAt", "requestCount"),
                });
                keys.push(key);
            }
        }

        let owners: BTreeSet<String> = keys.iter().filter_map(|k| k.owner.clone()).collect();
        progress(Progress { phase: "keys", done: keys.len(), total: Some(keys.len()) });
        keys.sort_by(|a, b| (a.kind, &a.external_id).cmp(&(b.kind, &b.external_id)));
        Ok(Inventory {
            account_id: Some(org.clone()),
            keys,
            owners: owners.into_iter().map(|name| OwnerFacts { name, admin_via: None, disabled: false }).collect(),
            facts: json!({"api_access_list_required": settings["apiAccessListRequired"]}),
            ..Default::default()
        })
    }
}

/// Normalised scopes (`org:ORG_OWNER`, `project:<id>:GROUP_READ_ONLY`) and the projects.
fn roles(v: &Value) -> (Vec<String>, Vec<String>) {
    let mut scopes = Vec::new();
    let mut projects = BTreeSet::new();
    for r in v.as_array().into_iter().flatten() {
        let name = r["roleName"].as_str().unwrap_or_default();
        match r["groupId"].as_str() {
            Some(g) => {
                scopes.push(format!("project:{g}:{name}"));
                projects.insert(g.to_owned());
            }
            None => scopes.push(format!("org:{name}")),
        }
    }
    (scopes, projects.into_iter().collect())
}

/// Access-list entries in one shape for API keys and service accounts, which name the same
/// facts differently (`lastUsed`/`count` vs `lastUsedAt`/`requestCount`).
fn access_list(list: &[Value], last_used: &str, count: &str) -> Vec<Value> {
    list.iter()
        .map(|e| {
            json!({
                "cidr": e["cidrBlock"].as_str().or(e["ipAddress"].as_str()),
                "last_used": e[last_used],
                "last_used_address": e["lastUsedAddress"],
                "count": e[count],
            })
        })
        .collect()
}

fn last_use(list: &[Value], field: &str) -> Option<LastUse> {
    list.iter()
        .filter_map(|e| Some((time_of(&e[field])?, e["lastUsedAddress"].as_str().map(str::to_owned))))
        .max_by_key(|(t, _)| *t)
        .map(|(at, _)| LastUse::at(at))
}

fn unauthenticated() -> ConnectorError {
    ConnectorError::new(
        PROVIDER_ID,
        ErrorKind::Unauthenticated,
        "Atlas rejected the credentials (check the key pair and the API access list)",
    )
}

mod api_key_rotation;
mod provider;
mod rotation;
pub use provider::PROVIDER;

crate::source_for!(Atlas);
