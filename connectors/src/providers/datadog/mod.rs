//! Datadog: API keys, application keys, personal access tokens and service access tokens of one
//! org, on any site, through the v2 key-management API with `DD-API-KEY` + `DD-APPLICATION-KEY`.
//!
//! A hand-written client for the dozen endpoints, not `datadog-api-client` (27 minutes to compile
//! here, no bearer auth, no `X-RateLimit-Reset` handling). Datadog answers a bad key pair with a
//! 403 like a missing permission; `/api/v1/validate` tells the two apart.

use std::collections::HashMap;

use keyward_secret::Secret;
use serde_json::{Value, json};

use crate::http::{self, Http, HttpSettings, RateLimitSignal, Response};
use crate::paging::{self, Page};
use crate::{Check, ConnectorError, ErrorKind, Inventory, LastUse, OwnerFacts, Progress, RemoteKey, str_of, time_of};

const PROVIDER_ID: &str = provider::PROVIDER.id;
const PAGE: usize = 100;

/// The sites Datadog runs, as users name them.
pub const SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
];

/// The permissions an inventory needs, each with a call that proves it.
const NEEDED: &[(&str, &str)] = &[
    ("api_keys_read", "/api/v2/api_keys"),
    ("org_app_keys_read", "/api/v2/application_keys"),
    ("user_access_read", "/api/v2/users"),
];

/// How to reach one Datadog org.
#[derive(Debug, Clone)]
pub struct DatadogSettings {
    /// Site (`datadoghq.eu`...); see [`SITES`].
    pub site: String,
    /// Overrides the site's URL (tests, the demo).
    pub base_url: Option<String>,
}

/// A connected Datadog org. `Debug` shows where, never the keys.
pub struct Datadog {
    http: Http,
    base: String,
    api_key: Secret,
    app_key: Secret,
}

impl std::fmt::Debug for Datadog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datadog").field("base", &self.base).finish_non_exhaustive()
    }
}

/// What Datadog's 403 means when `/api/v1/validate` refuses the API key too.
const REJECTED: &str = "Datadog rejected the API key (check the key and the site)";

impl Datadog {
    /// A client; nothing is sent until a call.
    pub fn new(
        settings: &DatadogSettings,
        api_key: impl Into<Secret>,
        app_key: impl Into<Secret>,
    ) -> Result<Self, ConnectorError> {
        Self::with_http(settings, api_key, app_key, HttpSettings::default())
    }

    /// A client with its own HTTP limits (tests).
    pub fn with_http(
        settings: &DatadogSettings,
        api_key: impl Into<Secret>,
        app_key: impl Into<Secret>,
        http: HttpSettings,
    ) -> Result<Self, ConnectorError> {
        let (api_key, app_key) = (api_key.into(), app_key.into());
        http::check_credential(PROVIDER_ID, "API key", &api_key)?;
        http::check_credential(PROVIDER_ID, "application key", &app_key)?;
        let base = match &settings.base_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                if !SITES.contains(&settings.site.as_str()) {
                    return Err(ConnectorError::new(
                        PROVIDER_ID,
                        ErrorKind::Config,
                        format!("unknown site {:?} (one of {})", settings.site, SITES.join(", ")),
                    ));
                }
                format!("https://api.{}", settings.site)
            }
        };
        let http = Http::new(
            PROVIDER_ID,
            HttpSettings { rate_limit: RateLimitSignal::ResetAfterSeconds("x-ratelimit-reset"), ..http },
            &[api_key.expose(), app_key.expose()],
        )?;
        Ok(Self { http, base, api_key, app_key })
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, ConnectorError> {
        let url = format!("{}{path}", self.base);
        let what = format!("GET {path}");
        let result = self
            .http
            .send(&what, |c| {
                c.get(&url)
                    .query(query)
                    .header("DD-API-KEY", http::credential(&self.api_key))
                    .header("DD-APPLICATION-KEY", http::credential(&self.app_key))
                    .header("Accept", "application/json")
            })
            .await;
        match result {
            Err(e) if e.kind == ErrorKind::PermissionDenied && !self.api_key_valid().await? => {
                Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Unauthenticated, REJECTED))
            }
            other => other,
        }
    }

    async fn api_key_valid(&self) -> Result<bool, ConnectorError> {
        let url = format!("{}/api/v1/validate", self.base);
        let r = self
            .http
            .send_accepting("GET /api/v1/validate", &[403], |c| {
                c.get(&url).header("DD-API-KEY", http::credential(&self.api_key))
            })
            .await?;
        Ok(r.status == 200)
    }

    async fn pages(&self, path: &str, extra: &[(&str, &str)]) -> Result<(Vec<Value>, Vec<Value>), ConnectorError> {
        let pages = paging::numbered(PROVIDER_ID, 0, PAGE, |n| async move {
            let mut q = vec![("page[size]", PAGE.to_string()), ("page[number]", n.to_string())];
            q.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
            let body: Value = self.get(path, &q).await?.json(PROVIDER_ID)?;
            let data = body["data"].as_array().cloned().ok_or_else(|| malformed(path, "no data array"))?;
            let included = body["included"].as_array().cloned().unwrap_or_default();
            let total = body.pointer("/meta/page/total_filtered_count").and_then(Value::as_u64).map(|t| t as usize);
            Ok(Page { items: vec![(data, included)], total })
        })
        .await?;
        let mut data = Vec::new();
        let mut included = Vec::new();
        for (d, i) in pages {
            data.extend(d);
            included.extend(i);
        }
        Ok((data, included))
    }

    /// Checks the key pair and each permission the inventory needs.
    pub async fn check(&self) -> Result<Vec<Check>, ConnectorError> {
        let valid = self.api_key_valid().await?;
        let mut checks =
            vec![Check { what: "api key".into(), ok: valid, detail: if valid { "valid" } else { REJECTED }.into() }];
        if !valid {
            return Ok(checks);
        }
        for (permission, path) in NEEDED {
            let outcome = self.get(path, &[("page[size]", "1".into())]).await;
            checks.push(match outcome {
                Ok(_) => Check { what: permission.to_string(), ok: true, detail: format!("GET {path} allowed") },
                Err(e) if e.kind == ErrorKind::PermissionDenied || e.kind == ErrorKind::Unauthenticated => Check {
                    what: permission.to_string(),
                    ok: false,
                    detail: format!("GET {path} was refused: give the application key the {permission} scope"),
                },
                Err(e) => return Err(e),
            });
        }
        Ok(checks)
    }

    /// The org's keys and tokens.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        // The listings are independent: run them side by side (the semaphore bounds the total).
        progress(Progress { phase: "listing", done: 0, total: None });
        let ((users, _), (api_keys, included), (app_keys, _), (pats, _)) = tokio::try_join!(
            self.pages("/api/v2/users", &[]),
            self.pages("/api/v2/api_keys", &[("include", "created_by")]),
            self.pages("/api/v2/application_keys", &[("include", "owned_by")]),
            self.pages("/api/v2/personal_access_tokens", &[]),
        )?;
        let mut people: HashMap<String, (String, bool, bool)> = HashMap::new();
        for u in &users {
            let a = &u["attributes"];
            let email = a["email"].as_str().or(a["handle"].as_str()).unwrap_or_default().to_owned();
            let disabled = a["disabled"].as_bool().unwrap_or(false) || a["status"].as_str() == Some("Disabled");
            people.insert(str_of(&u["id"]), (email, a["service_account"].as_bool().unwrap_or(false), disabled));
        }
        let owner_of = |rel: &Value| -> Option<String> {
            let id = rel.pointer("/data/id")?.as_str()?;
            Some(people.get(id).map(|p| p.0.clone()).filter(|e| !e.is_empty()).unwrap_or_else(|| id.to_owned()))
        };
        let mut keys = Vec::new();

        let leaks: HashMap<String, Value> = included
            .iter()
            .filter(|i| i["type"] == "leaked_keys")
            .map(|i| {
                (str_of(&i["id"]), json!({"date": i["attributes"]["date"], "source": i["attributes"]["leak_source"]}))
            })
            .collect();
        for k in &api_keys {
            let a = &k["attributes"];
            let id = str_of(&k["id"]);
            let mut key = RemoteKey::new("api_key", &id, str_of(&a["name"]));
            key.owner = owner_of(&k["relationships"]["created_by"]);
            key.created_at = time_of(&a["created_at"]);
            key.last_used = time_of(&a["date_last_used"]).map(LastUse::at);
            key.usage_tracked = true;
            key.raw_scopes =
                json!({"category": a["category"], "remote_config_read_enabled": a["remote_config_read_enabled"]});
            key.scopes = vec!["submit:data".into()];
            if a["remote_config_read_enabled"].as_bool() == Some(true) {
                key.scopes.push("remote_config:read".into());
            }
            key.secret_readable = true;
            key.details = json!({"last4": a["last4"], "leak": leaks.get(&id)});
            keys.push(key);
        }
        progress(Progress { phase: "api keys", done: api_keys.len(), total: Some(api_keys.len()) });

        for k in &app_keys {
            let a = &k["attributes"];
            let mut key = RemoteKey::new("application_key", str_of(&k["id"]), str_of(&a["name"]));
            key.owner = owner_of(&k["relationships"]["owned_by"]);
            key.created_at = time_of(&a["created_at"]);
            key.last_used = time_of(&a["last_used_at"]).map(LastUse::at);
            key.usage_tracked = true;
            key.raw_scopes = a["scopes"].clone();
            key.scopes = scope_list(&a["scopes"]).unwrap_or_else(|| vec!["*".into()]);
            key.details = json!({"last4": a["last4"], "unscoped": a["scopes"].is_null()});
            keys.push(key);
        }

        progress(Progress { phase: "access tokens", done: 0, total: None });
        for t in &pats {
            keys.push(token(t, "personal_access_token", &owner_of));
        }
        let service_accounts: Vec<&String> = people.iter().filter(|(_, p)| p.1).map(|(id, _)| id).collect();
        let sats = futures_util::future::try_join_all(service_accounts.iter().map(|sa| async move {
            let (items, _) = self.pages(&format!("/api/v2/service_accounts/{sa}/access_tokens"), &[]).await?;
            Ok::<_, ConnectorError>(items)
        }))
        .await?;
        for t in sats.iter().flatten() {
            keys.push(token(t, "service_access_token", &owner_of));
        }
        progress(Progress { phase: "keys", done: keys.len(), total: Some(keys.len()) });

        let mut owners: Vec<OwnerFacts> = people
            .values()
            .filter(|p| !p.0.is_empty())
            .map(|(email, _, disabled)| OwnerFacts { name: email.clone(), admin_via: None, disabled: *disabled })
            .collect();
        owners.sort_by(|a, b| a.name.cmp(&b.name));
        keys.sort_by(|a, b| (a.kind, &a.external_id).cmp(&(b.kind, &b.external_id)));
        Ok(Inventory { keys, owners, facts: json!({"site_url": self.base}), ..Default::default() })
    }
}

fn token(t: &Value, kind: &'static str, owner_of: &dyn Fn(&Value) -> Option<String>) -> RemoteKey {
    let a = &t["attributes"];
    let mut key = RemoteKey::new(kind, str_of(&t["id"]), str_of(&a["name"]));
    key.owner = owner_of(&t["relationships"]["owned_by"]);
    key.created_at = time_of(&a["created_at"]);
    key.expires_at = time_of(&a["expires_at"]);
    key.last_used = time_of(&a["last_used_at"]).map(LastUse::at);
    key.usage_tracked = true;
    key.raw_scopes = a["scopes"].clone();
    key.scopes = scope_list(&a["scopes"]).unwrap_or_default();
    let leak = t
        .pointer("/relationships/leak_information/data")
        .filter(|d| !d.is_null())
        .map(|d| json!({"date": d.pointer("/attributes/date"), "source": d.pointer("/attributes/leak_source")}));
    key.details = json!({"public_portion": a["public_portion"], "leak": leak});
    key
}

fn scope_list(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
}

fn malformed(path: &str, why: &str) -> ConnectorError {
    ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("GET {path}: {why}"))
}

mod provider;
mod rotation;
pub use provider::PROVIDER;

crate::source_for!(Datadog);
