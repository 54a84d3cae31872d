//! Fastly: user tokens (every user's when the connector's user is a superuser, else its own) and
//! automation tokens, with scope, services, expiry and last use (time, address, agent).
//!
//! Hand-written rather than `fastly-api`, whose `TokenResponse.scope` cannot hold several scopes.
//! What the listing covered is reported in the inventory's facts, so a partial view is never
//! mistaken for the whole account.

use std::collections::HashMap;

use keyward_secret::Secret;
use serde_json::{Value, json};

use crate::http::{self, Http, HttpSettings, RateLimitSignal, Response};
use crate::paging::{self, Page};
use crate::{Check, ConnectorError, ErrorKind, Inventory, LastUse, OwnerFacts, Progress, RemoteKey, str_of, time_of};

const PROVIDER_ID: &str = provider::PROVIDER.id;
const PAGE: usize = 100;

/// How to reach Fastly.
#[derive(Debug, Clone, Default)]
pub struct FastlySettings {
    /// Overrides `https://api.fastly.com` (tests, the demo).
    pub base_url: Option<String>,
}

/// A connected Fastly account. `Debug` shows where, never the token.
pub struct Fastly {
    http: Http,
    base: String,
    token: Secret,
}

impl std::fmt::Debug for Fastly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fastly").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Fastly {
    /// A client; nothing is sent until a call.
    pub fn new(settings: &FastlySettings, token: impl Into<Secret>) -> Result<Self, ConnectorError> {
        Self::with_http(settings, token, HttpSettings::default())
    }

    /// A client with its own HTTP limits (tests).
    pub fn with_http(
        settings: &FastlySettings,
        token: impl Into<Secret>,
        http: HttpSettings,
    ) -> Result<Self, ConnectorError> {
        let token = token.into();
        http::check_credential(PROVIDER_ID, "API token", &token)?;
        let http = Http::new(
            PROVIDER_ID,
            HttpSettings { rate_limit: RateLimitSignal::ResetAtEpochSeconds("fastly-ratelimit-reset"), ..http },
            &[token.expose()],
        )?;
        let base = settings.base_url.clone().unwrap_or_else(|| "https://api.fastly.com".into());
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), token })
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, ConnectorError> {
        let url = format!("{}{path}", self.base);
        self.http
            .send(&format!("GET {path}"), |c| {
                c.get(&url)
                    .query(query)
                    .header("Fastly-Key", http::credential(&self.token))
                    .header("Accept", "application/json")
            })
            .await
    }

    async fn array(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>, ConnectorError> {
        let body: Value = self.get(path, query).await?.json(PROVIDER_ID)?;
        body.as_array().cloned().ok_or_else(|| {
            ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("GET {path}: expected an array"))
        })
    }

    async fn me(&self) -> Result<Value, ConnectorError> {
        self.get("/current_user", &[]).await?.json(PROVIDER_ID)
    }

    /// Checks the token and whether it can see the whole account.
    pub async fn check(&self) -> Result<Vec<Check>, ConnectorError> {
        let me = match self.me().await {
            Ok(me) => me,
            Err(e) if e.kind == ErrorKind::Unauthenticated => {
                return Ok(vec![Check { what: "token".into(), ok: false, detail: e.message }]);
            }
            Err(e) => return Err(e),
        };
        let role = me["role"].as_str().unwrap_or("unknown");
        Ok(vec![
            Check {
                what: "token".into(),
                ok: true,
                detail: format!("valid, user {}", me["login"].as_str().unwrap_or("?")),
            },
            Check {
                what: "superuser".into(),
                ok: role == "superuser",
                detail: if role == "superuser" {
                    "every user's tokens and the automation tokens can be listed".into()
                } else {
                    format!(
                        "the token's user is a {role}: only its own tokens can be listed; use a superuser's read-only (global:read) token"
                    )
                },
            },
        ])
    }

    /// The account's tokens.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        progress(Progress { phase: "account", done: 0, total: None });
        let me = self.me().await?;
        let customer = me["customer_id"].as_str().unwrap_or_default().to_owned();
        let superuser = me["role"].as_str() == Some("superuser");
        let mut logins: HashMap<String, String> = HashMap::new();
        logins.insert(str_of(&me["id"]), str_of(&me["login"]));

        progress(Progress { phase: "tokens", done: 0, total: None });
        let (tokens, automation) = if superuser {
            let (users_path, tokens_path) =
                (format!("/customer/{customer}/users"), format!("/customer/{customer}/tokens"));
            let (users, tokens, automation) = tokio::try_join!(
                self.array(&users_path, &[]),
                self.array(&tokens_path, &[]),
                paging::until_short(PROVIDER_ID, 1, PAGE, self.http.concurrency(), |n| async move {
                    let items = self
                        .array("/automation-tokens", &[("page", n.to_string()), ("per_page", PAGE.to_string())])
                        .await?;
                    Ok(Page { items, total: None })
                }),
            )?;
            for u in &users {
                logins.insert(str_of(&u["id"]), str_of(&u["login"]));
            }
            (tokens, automation)
        } else {
            (self.array("/tokens", &[]).await?, Vec::new())
        };

        let mut keys: Vec<RemoteKey> = tokens.iter().map(|t| token(t, "user_token", &logins)).collect();
        keys.extend(automation.iter().map(|t| token(t, "automation_token", &logins)));
        progress(Progress { phase: "keys", done: keys.len(), total: Some(keys.len()) });
        let mut owners: Vec<OwnerFacts> = logins
            .values()
            .filter(|l| !l.is_empty())
            .map(|l| OwnerFacts { name: l.clone(), admin_via: None, disabled: false })
            .collect();
        owners.sort_by(|a, b| a.name.cmp(&b.name));
        keys.sort_by(|a, b| (a.kind, &a.external_id).cmp(&(b.kind, &b.external_id)));
        let coverage = if superuser {
            "all users' tokens and automation tokens"
        } else {
            "only the connector user's own tokens (not a superuser)"
        };
        Ok(Inventory {
            account_id: Some(customer),
            keys,
            owners,
            facts: json!({"listing_covers": coverage}),
            ..Default::default()
        })
    }
}

fn token(t: &Value, kind: &'static str, logins: &HashMap<String, String>) -> RemoteKey {
    let mut key = RemoteKey::new(kind, str_of(&t["id"]), str_of(&t["name"]));
    key.owner = t["user_id"].as_str().map(|u| logins.get(u).cloned().unwrap_or_else(|| u.to_owned()));
    key.created_at = time_of(&t["created_at"]);
    key.expires_at = time_of(&t["expires_at"]);
    key.last_used = time_of(&t["last_used_at"]).map(LastUse::at);
    key.usage_tracked = true;
    let services: Vec<String> =
        t["services"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    key.scopes = t["scope"].as_str().unwrap_or("global").split_whitespace().map(str::to_owned).collect();
    if services.is_empty() {
        key.scopes.push("services:*".into());
    }
    key.raw_scopes = json!({"scope": t["scope"], "services": t["services"]});
    key.details = json!({
        "services": services,
        "last_used_ip": t["ip"].as_str().filter(|s| !s.is_empty()),
        "last_used_user_agent": t["user_agent"].as_str().filter(|s| !s.is_empty()),
        "role": t["role"],
        "tls_access": t["tls_access"],
    });
    key
}

mod provider;
mod rotation;
pub use provider::PROVIDER;

crate::source_for!(Fastly);
