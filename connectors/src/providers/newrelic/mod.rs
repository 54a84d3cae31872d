//! New Relic: USER and INGEST keys through NerdGraph's `keySearch`, on the US, EU or JP endpoint.
//!
//! Cursor paging is one request at a time, so the listing is split into independent chains (per
//! key type and per account) that run side by side, below New Relic's cap of 25 concurrent
//! requests per user. The query never selects `key`: the secret would travel for nothing.
//! New Relic reports no last use, expiry or scope for these keys; the inventory says so.

use keyward_secret::Secret;
use serde_json::{Value, json};

use crate::http::{self, Http, HttpSettings, RateLimitSignal};
use crate::{Check, ConnectorError, ErrorKind, Inventory, OwnerFacts, Progress, RemoteKey, str_of};

const PROVIDER_ID: &str = provider::PROVIDER.id;

/// New Relic's regions and their NerdGraph endpoints.
pub const REGIONS: &[(&str, &str)] = &[
    ("us", "https://api.newrelic.com/graphql"),
    ("eu", "https://api.eu.newrelic.com/graphql"),
    ("jp", "https://api.jp.newrelic.com/graphql"),
];

/// The `keySearch` query the connector sends (checked against the schema by the contract test).
pub const KEY_SEARCH: &str = "query KeywardKeySearch($query: ApiAccessKeySearchQuery!, $cursor: String) {
  actor { apiAccess { keySearch(query: $query, cursor: $cursor) {
    count nextCursor
    keys {
      __typename id name notes type createdAt obfuscatedKey
      ... on ApiAccessUserKey { accountId userId user { id email name } }
      ... on ApiAccessIngestKey { accountId ingestType }
    }
  } } }
}";

/// The query that tells who the connector's key belongs to.
pub const WHO_AM_I: &str = "query KeywardWhoAmI { actor { user { id email name } } }";

/// How to reach New Relic.
#[derive(Debug, Clone)]
pub struct NewRelicSettings {
    /// `us`, `eu` or `jp`.
    pub region: String,
    /// Accounts to list (empty: every account the key can see, as one chain per key type).
    pub account_ids: Vec<i64>,
    /// Overrides the region's endpoint (tests, the demo).
    pub endpoint: Option<String>,
}

/// A connected New Relic user. `Debug` shows where, never the key.
pub struct NewRelic {
    http: Http,
    endpoint: String,
    api_key: Secret,
    accounts: Vec<i64>,
}

impl std::fmt::Debug for NewRelic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRelic")
            .field("endpoint", &self.endpoint)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl NewRelic {
    /// A client; nothing is sent until a call.
    pub fn new(settings: &NewRelicSettings, api_key: impl Into<Secret>) -> Result<Self, ConnectorError> {
        Self::with_http(settings, api_key, HttpSettings::default())
    }

    /// A client with its own HTTP limits (tests). Concurrency is capped below New Relic's 25.
    pub fn with_http(
        settings: &NewRelicSettings,
        api_key: impl Into<Secret>,
        http: HttpSettings,
    ) -> Result<Self, ConnectorError> {
        let api_key = api_key.into();
        http::check_credential(PROVIDER_ID, "user API key", &api_key)?;
        let endpoint = match &settings.endpoint {
            Some(e) => e.clone(),
            None => {
                REGIONS.iter().find(|(r, _)| *r == settings.region).map(|(_, e)| e.to_string()).ok_or_else(|| {
                    ConnectorError::new(
                        PROVIDER_ID,
                        ErrorKind::Config,
                        format!("unknown region {:?} (us, eu or jp)", settings.region),
                    )
                })?
            }
        };
        let http = Http::new(
            PROVIDER_ID,
            HttpSettings { concurrency: http.concurrency.min(24), rate_limit: RateLimitSignal::RetryAfter, ..http },
            &[api_key.expose()],
        )?;
        Ok(Self { http, endpoint, api_key, accounts: settings.account_ids.clone() })
    }

    async fn graphql(&self, what: &str, query: &str, variables: Value) -> Result<Value, ConnectorError> {
        self.graphql_sent(what, query, variables, false).await
    }

    /// A query, or (`once`) a mutation that makes something, sent a single time: retried after
    /// a lost answer it would make a second key.
    async fn graphql_sent(
        &self,
        what: &str,
        query: &str,
        variables: Value,
        once: bool,
    ) -> Result<Value, ConnectorError> {
        let body = json!({"query": query, "variables": variables});
        let build = |c: &reqwest::Client| {
            c.post(&self.endpoint)
                .header("API-Key", http::credential(&self.api_key))
                .header("Content-Type", "application/json")
                .json(&body)
        };
        let r = if once { self.http.send_once(what, &[], build).await? } else { self.http.send(what, build).await? };
        let v: Value = r.json(PROVIDER_ID)?;
        if let Some(errors) = v["errors"].as_array().filter(|e| !e.is_empty()) {
            let class = errors[0].pointer("/extensions/errorClass").and_then(Value::as_str).unwrap_or("");
            let message = errors[0]["message"].as_str().unwrap_or("GraphQL error");
            let kind = match class {
                "UNAUTHORIZED" => ErrorKind::Unauthenticated,
                "FORBIDDEN" => ErrorKind::PermissionDenied,
                "TOO_MANY_REQUESTS" => ErrorKind::RateLimited,
                _ => ErrorKind::Provider,
            };
            return Err(ConnectorError::new(PROVIDER_ID, kind, format!("{what}: {message}")));
        }
        Ok(v)
    }

    async fn chain(&self, types: &str, account: Option<i64>) -> Result<Vec<Value>, ConnectorError> {
        let mut scope = json!({});
        if let Some(a) = account {
            scope["accountIds"] = json!([a]);
        }
        self.search("keySearch", KEY_SEARCH, json!({"types": [types], "scope": scope})).await
    }

    /// Every page of a `keySearch` with `query`.
    async fn search(&self, what: &str, document: &str, query: Value) -> Result<Vec<Value>, ConnectorError> {
        let mut cursor: Option<String> = None;
        let mut keys = Vec::new();
        loop {
            let v = self.graphql(what, document, json!({"query": query, "cursor": cursor})).await?;
            let result = v
                .pointer("/data/actor/apiAccess/keySearch")
                .ok_or_else(|| ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "keySearch: no result"))?;
            keys.extend(result["keys"].as_array().cloned().unwrap_or_default());
            let next = result["nextCursor"].as_str().filter(|c| !c.is_empty()).map(str::to_owned);
            if next.is_some() && next == cursor {
                return Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "keySearch: the same cursor twice"));
            }
            cursor = next;
            if cursor.is_none() {
                return Ok(keys);
            }
        }
    }

    async fn me(&self) -> Result<Value, ConnectorError> {
        let v = self.graphql("actor.user", WHO_AM_I, json!({})).await?;
        Ok(v.pointer("/data/actor/user").cloned().unwrap_or(Value::Null))
    }

    /// Checks the user key and that keys can be searched.
    pub async fn check(&self) -> Result<Vec<Check>, ConnectorError> {
        let me = match self.me().await {
            Ok(me) => me,
            Err(e) if e.kind == ErrorKind::Unauthenticated => {
                return Ok(vec![Check { what: "user key".into(), ok: false, detail: e.message }]);
            }
            Err(e) => return Err(e),
        };
        let search = self
            .graphql("keySearch", KEY_SEARCH, json!({"query": {"types": ["USER", "INGEST"]}, "cursor": null}))
            .await;
        Ok(vec![
            Check {
                what: "user key".into(),
                ok: true,
                detail: format!("valid, user {}", me["email"].as_str().unwrap_or("?")),
            },
            match search {
                Ok(_) => Check { what: "keySearch".into(), ok: true, detail: "keys can be listed".into() },
                Err(e) if e.kind == ErrorKind::PermissionDenied => Check {
                    what: "keySearch".into(),
                    ok: false,
                    detail: format!(
                        "{e}: the user needs the API keys capability (an admin role) to see other users' keys"
                    ),
                },
                Err(e) => return Err(e),
            },
        ])
    }

    /// The USER and INGEST keys the connector's user can see.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        progress(Progress { phase: "keys", done: 0, total: None });
        let accounts: Vec<Option<i64>> =
            if self.accounts.is_empty() { vec![None] } else { self.accounts.iter().copied().map(Some).collect() };
        let chains = accounts.iter().flat_map(|a| ["USER", "INGEST"].map(move |t| (t, *a)));
        let (me, results) =
            tokio::try_join!(self.me(), futures_util::future::try_join_all(chains.map(|(t, a)| self.chain(t, a))))?;
        let my_id = me["id"].as_i64();
        let mut keys = Vec::new();
        let mut owners = std::collections::BTreeSet::new();
        for k in results.into_iter().flatten() {
            let user_key = k["type"] == "USER";
            let mut key =
                RemoteKey::new(if user_key { "user_key" } else { "ingest_key" }, str_of(&k["id"]), str_of(&k["name"]));
            key.created_at = k["createdAt"].as_i64().and_then(|s| chrono::DateTime::from_timestamp(s, 0));
            if user_key {
                key.owner = k
                    .pointer("/user/email")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| k["userId"].as_i64().map(|u| u.to_string()));
                key.scopes = vec!["user:permissions".into()];
                // Own user keys come back whole; other users' are truncated.
                key.secret_readable = my_id.is_some() && k["userId"].as_i64() == my_id;
            } else {
                let ingest = k["ingestType"].as_str().unwrap_or("LICENSE").to_lowercase();
                key.scopes = vec![format!("ingest:{ingest}")];
                key.secret_readable = true;
            }
            if let Some(o) = &key.owner {
                owners.insert(o.clone());
            }
            key.raw_scopes = json!({"type": k["type"], "ingestType": k["ingestType"]});
            key.details =
                json!({"account_id": k["accountId"], "obfuscated_key": k["obfuscatedKey"], "notes": k["notes"]});
            keys.push(key);
        }
        keys.sort_by(|a, b| (a.kind, &a.external_id).cmp(&(b.kind, &b.external_id)));
        keys.dedup_by(|a, b| a.external_id == b.external_id && a.kind == b.kind);
        progress(Progress { phase: "keys", done: keys.len(), total: Some(keys.len()) });
        Ok(Inventory {
            account_id: self.accounts.first().map(|a| a.to_string()),
            keys,
            owners: owners.into_iter().map(|name| OwnerFacts { name, admin_via: None, disabled: false }).collect(),
            facts: json!({"unsupported": ["last use", "expiry", "scopes"]}),
            ..Default::default()
        })
    }
}

mod provider;
pub use provider::PROVIDER;
pub mod rotation;

crate::source_for!(NewRelic);
