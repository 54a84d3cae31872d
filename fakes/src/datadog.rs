//! Datadog's key-management API (v2) as `../shared/reference/provider-apis.md` §1 describes it:
//! `DD-API-KEY` + `DD-APPLICATION-KEY` auth (a bad pair is a 403 `{"errors":["Forbidden"]}`, as
//! Datadog answers), page-number paging (`page[size]` ≤ 100, `page[number]` from 0,
//! `meta.page.total_filtered_count`), side-loaded users, leaked-key data, and 429s carrying the
//! `X-RateLimit-*` headers. The application key the connector uses carries scopes; a missing
//! scope is a 403 on the routes that need it.
//!
//! For rotation: API keys are made and deleted org-wide; application keys only for the caller
//! (the connector's user, the org's first user here) or a service account, as Datadog allows. An
//! application key of the org, with any API key of the org, authenticates as its owner on
//! `GET /api/v2/current_user/application_keys/{id}` (what a check of a new key reads), within
//! its scopes.

use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::server::{Provider, Reply, Request};
use crate::ts;

/// A Datadog user or service account.
#[derive(Debug, Clone)]
pub struct User {
    /// UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email (the handle).
    pub email: String,
    /// A service account rather than a person.
    pub service_account: bool,
    /// Disabled (left the company).
    pub disabled: bool,
}

/// Where Datadog saw a key leak.
#[derive(Debug, Clone)]
pub struct Leak {
    /// When.
    pub date: DateTime<Utc>,
    /// Where (`github`...).
    pub source: String,
}

/// An API key, an application key, a personal access token or a service access token.
#[derive(Debug, Clone)]
pub struct Key {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The secret.
    pub secret: String,
    /// Owner (API keys: creator) user id.
    pub owner: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used: Option<DateTime<Utc>>,
    /// Scopes (app keys: `None` = unscoped; tokens always have some).
    pub scopes: Option<Vec<String>>,
    /// Expiry (tokens).
    pub expires_at: Option<DateTime<Utc>>,
    /// Leak information.
    pub leak: Option<Leak>,
}

/// The org's keys.
#[derive(Debug, Default)]
pub struct State {
    /// Users and service accounts.
    pub users: Vec<User>,
    /// API keys.
    pub api_keys: Vec<Key>,
    /// Application keys.
    pub app_keys: Vec<Key>,
    /// Personal access tokens.
    pub pats: Vec<Key>,
    /// Service access tokens (owner = the service account).
    pub sats: Vec<Key>,
}

/// The fake Datadog site.
pub struct Datadog {
    /// The org's keys; tests and the demo seed and inspect it.
    pub state: Mutex<State>,
    api_key: String,
    app_key: String,
    /// Permissions of the connector's application key.
    pub permissions: Mutex<BTreeSet<String>>,
    next_id: Mutex<u64>,
}

/// What an inventory needs: `api_keys_read`, `org_app_keys_read`, `user_access_read`.
pub const READ_PERMISSIONS: &[&str] = &["api_keys_read", "org_app_keys_read", "user_access_read"];

impl Datadog {
    /// A fake org reachable with this API key + application key pair, granted [`READ_PERMISSIONS`].
    pub fn new(api_key: &str, app_key: &str, state: State) -> Self {
        Self {
            state: Mutex::new(state),
            api_key: api_key.to_owned(),
            app_key: app_key.to_owned(),
            permissions: Mutex::new(READ_PERMISSIONS.iter().map(|s| s.to_string()).collect()),
            next_id: Mutex::new(1),
        }
    }

    fn forbidden(&self) -> Reply {
        self.error(403, "Forbidden")
    }

    fn page(&self, req: &Request) -> Result<(usize, usize), Reply> {
        let size = match req.query("page[size]") {
            None => 10,
            Some(s) => s.parse::<usize>().map_err(|_| self.error(400, "page[size] must be an integer"))?,
        };
        if size == 0 || size > 100 {
            return Err(self.error(400, "page[size] must be between 1 and 100"));
        }
        let number = match req.query("page[number]") {
            None => 0,
            Some(s) => s.parse::<usize>().map_err(|_| self.error(400, "page[number] must be an integer"))?,
        };
        Ok((size, number))
    }

    fn user_json(u: &User) -> Value {
        json!({
            "type": "users",
            "id": u.id,
            "attributes": {
                "name": u.name,
                "email": u.email,
                "handle": u.email,
                "service_account": u.service_account,
                "disabled": u.disabled,
                "status": if u.disabled { "Disabled" } else { "Active" },
            }
        })
    }

    fn included(state: &State, keys: &[&Key], leaks: bool) -> Vec<Value> {
        let owners: BTreeSet<&str> = keys.iter().map(|k| k.owner.as_str()).collect();
        let mut out: Vec<Value> =
            state.users.iter().filter(|u| owners.contains(u.id.as_str())).map(Self::user_json).collect();
        if leaks {
            out.extend(keys.iter().filter_map(|k| {
                let l = k.leak.as_ref()?;
                Some(json!({"type": "leaked_keys", "id": k.id, "attributes": {"date": ts(l.date), "leak_source": l.source}}))
            }));
        }
        out
    }

    fn api_key_json(k: &Key, full: bool) -> Value {
        let mut attributes = json!({
            "name": k.name,
            "created_at": ts(k.created_at),
            "modified_at": ts(k.created_at),
            "last4": &k.secret[k.secret.len() - 4..],
            "date_last_used": k.last_used.map(ts),
            "category": "default",
            "remote_config_read_enabled": false,
        });
        if full {
            attributes["key"] = json!(k.secret);
        }
        json!({
            "type": "api_keys",
            "id": k.id,
            "attributes": attributes,
            "relationships": {
                "created_by": {"data": {"type": "users", "id": k.owner}},
                "modified_by": {"data": {"type": "users", "id": k.owner}},
            }
        })
    }

    fn app_key_json(k: &Key) -> Value {
        json!({
            "type": "application_keys",
            "id": k.id,
            "attributes": {
                "name": k.name,
                "created_at": ts(k.created_at),
                "last4": &k.secret[k.secret.len() - 4..],
                "last_used_at": k.last_used.map(ts),
                "scopes": k.scopes,
            },
            "relationships": {"owned_by": {"data": {"type": "users", "id": k.owner}}}
        })
    }

    fn token_json(k: &Key, kind: &str) -> Value {
        let mut relationships = json!({"owned_by": {"data": {"type": "users", "id": k.owner}}});
        if let Some(l) = &k.leak {
            relationships["leak_information"] = json!({"data": {"type": "leaked_keys", "id": k.id, "attributes": {"date": ts(l.date), "leak_source": l.source}}});
        }
        json!({
            "type": kind,
            "id": k.id,
            "attributes": {
                "name": k.name,
                "created_at": ts(k.created_at),
                "modified_at": ts(k.created_at),
                "expires_at": k.expires_at.map(ts),
                "last_used_at": k.last_used.map(ts),
                "public_portion": &k.secret[..k.secret.len().min(16)],
                "scopes": k.scopes,
            },
            "relationships": relationships,
        })
    }

    fn list(
        &self,
        req: &Request,
        keys: Vec<&Key>,
        render: impl Fn(&Key) -> Value,
        include_leaks: bool,
        state: &State,
    ) -> Reply {
        let (size, number) = match self.page(req) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let total = keys.len();
        let page: Vec<&Key> = keys.into_iter().skip(size * number).take(size).collect();
        let mut body = json!({
            "data": page.iter().map(|k| render(k)).collect::<Vec<_>>(),
            "meta": {"max_allowed": 5000, "page": {"total_filtered_count": total}},
        });
        if req.query("include").is_some() || include_leaks {
            body["included"] = json!(Self::included(state, &page, include_leaks));
        }
        Reply::json(200, &body)
    }

    fn need(&self, permission: &str) -> Option<Reply> {
        (!self.permissions.lock().unwrap().contains(permission)).then(|| self.forbidden())
    }

    fn new_id(&self) -> String {
        let mut n = self.next_id.lock().unwrap();
        *n += 1;
        format!("created-{:08x}-0000-4000-8000-{:012x}", *n, *n)
    }
}

impl Datadog {
    /// `GET /api/v2/current_user/application_keys/{id}` made with an application key of the org
    /// (not the connector's): answered as that key's owner, within its scopes.
    fn own_app_key_read(&self, req: &Request, id: &str) -> Option<Reply> {
        let state = self.state.lock().unwrap();
        let api_key = req.header("dd-api-key")?;
        let app_key = req.header("dd-application-key")?;
        if app_key == self.app_key {
            return None;
        }
        if api_key != self.api_key && !state.api_keys.iter().any(|k| k.secret == api_key) {
            return Some(self.forbidden());
        }
        let Some(acting) = state.app_keys.iter().find(|k| k.secret == app_key) else {
            return Some(self.forbidden());
        };
        if acting.scopes.as_ref().is_some_and(|s| !s.iter().any(|s| s == "user_app_keys")) {
            return Some(self.forbidden());
        }
        Some(match state.app_keys.iter().find(|k| k.id == id && k.owner == acting.owner) {
            Some(k) => Reply::json(200, &json!({"data": Self::app_key_json(k)})),
            None => self.error(404, "Application key not found"),
        })
    }

    /// A new application key for `owner`, from a create request's body.
    fn new_app_key(&self, req: &Request, owner: String, state: &mut State) -> Reply {
        let body = req.json();
        let Some(name) = body.pointer("/data/attributes/name").and_then(Value::as_str) else {
            return self.error(400, "data.attributes.name is required");
        };
        let scopes = match body.pointer("/data/attributes/scopes") {
            None | Some(Value::Null) => None,
            Some(Value::Array(s)) => Some(s.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
            Some(_) => return self.error(400, "data.attributes.scopes must be a list"),
        };
        let id = self.new_id();
        let key = Key {
            secret: format!("{:020x}{:020x}", crate::hash(&format!("app-{id}")), crate::hash(&format!("key-{id}"))),
            id,
            name: name.to_owned(),
            owner,
            created_at: Utc::now(),
            last_used: None,
            scopes,
            expires_at: None,
            leak: None,
        };
        let mut out = Self::app_key_json(&key);
        out["attributes"]["key"] = json!(key.secret);
        state.app_keys.push(key);
        Reply::json(201, &json!({"data": out}))
    }

    /// Deletes `owner`'s application key `id` (404 when it is someone else's or gone).
    fn delete_app_key(&self, id: &str, owner: &str, state: &mut State) -> Reply {
        let before = state.app_keys.len();
        state.app_keys.retain(|k| !(k.id == id && k.owner == owner));
        if state.app_keys.len() == before { self.error(404, "Application key not found") } else { Reply::empty(204) }
    }
}

impl Provider for Datadog {
    fn handle(&self, req: &Request) -> Reply {
        let api_ok = req.header("dd-api-key") == Some(self.api_key.as_str());
        let segs = req.segments();
        if let ("GET", ["api", "v2", "current_user", "application_keys", id]) = (req.method.as_str(), segs.as_slice())
            && let Some(reply) = self.own_app_key_read(req, id)
        {
            return reply;
        }
        if segs == ["api", "v1", "validate"] {
            // Any API key of the org validates (a rotated key as well as the connector's).
            let org_key = req
                .header("dd-api-key")
                .is_some_and(|k| self.state.lock().unwrap().api_keys.iter().any(|key| key.secret == k));
            return if api_ok || org_key { Reply::json(200, &json!({"valid": true})) } else { self.forbidden() };
        }
        if !api_ok || req.header("dd-application-key") != Some(self.app_key.as_str()) {
            return self.forbidden();
        }
        let mut state = self.state.lock().unwrap();
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["api", "v2", "api_keys"]) => {
                if let Some(r) = self.need("api_keys_read") {
                    return r;
                }
                let keys: Vec<&Key> = state.api_keys.iter().collect();
                self.list(req, keys, |k| Self::api_key_json(k, false), true, &state)
            }
            ("GET", ["api", "v2", "api_keys", id]) => {
                if let Some(r) = self.need("api_keys_read") {
                    return r;
                }
                match state.api_keys.iter().find(|k| k.id == *id) {
                    Some(k) => Reply::json(200, &json!({"data": Self::api_key_json(k, true)})),
                    None => self.error(404, "API key not found"),
                }
            }
            ("POST", ["api", "v2", "api_keys"]) => {
                if let Some(r) = self.need("api_keys_write") {
                    return r;
                }
                let body = req.json();
                let Some(name) = body.pointer("/data/attributes/name").and_then(Value::as_str) else {
                    return self.error(400, "data.attributes.name is required");
                };
                let id = self.new_id();
                let secret = format!("{:032x}", crate::hash(&id));
                let owner = state.users.first().map(|u| u.id.clone()).unwrap_or_default();
                let key = Key {
                    id,
                    name: name.to_owned(),
                    secret,
                    owner,
                    created_at: Utc::now(),
                    last_used: None,
                    scopes: None,
                    expires_at: None,
                    leak: None,
                };
                let out = Self::api_key_json(&key, true);
                state.api_keys.push(key);
                Reply::json(201, &json!({"data": out}))
            }
            ("DELETE", ["api", "v2", "api_keys", id]) => {
                if let Some(r) = self.need("api_keys_delete") {
                    return r;
                }
                let before = state.api_keys.len();
                state.api_keys.retain(|k| k.id != *id);
                if state.api_keys.len() == before { self.error(404, "API key not found") } else { Reply::empty(204) }
            }
            ("GET", ["api", "v2", "application_keys"]) => {
                if let Some(r) = self.need("org_app_keys_read") {
                    return r;
                }
                let keys: Vec<&Key> = state.app_keys.iter().collect();
                self.list(req, keys, Self::app_key_json, false, &state)
            }
            ("GET", ["api", "v2", "application_keys", id]) => {
                if let Some(r) = self.need("org_app_keys_read") {
                    return r;
                }
                match state.app_keys.iter().find(|k| k.id == *id) {
                    Some(k) => {
                        let mut body = json!({"data": Self::app_key_json(k)});
                        if req.query("include").is_some() {
                            body["included"] = json!(Self::included(&state, &[k], false));
                        }
                        Reply::json(200, &body)
                    }
                    None => self.error(404, "Application key not found"),
                }
            }
            ("GET", ["api", "v2", "current_user", "application_keys"]) => {
                if let Some(r) = self.need("user_app_keys") {
                    return r;
                }
                let me = state.users.first().map(|u| u.id.clone()).unwrap_or_default();
                let keys: Vec<&Key> = state.app_keys.iter().filter(|k| k.owner == me).collect();
                self.list(req, keys, Self::app_key_json, false, &state)
            }
            ("GET", ["api", "v2", "current_user", "application_keys", id]) => {
                if let Some(r) = self.need("user_app_keys") {
                    return r;
                }
                let me = state.users.first().map(|u| u.id.clone()).unwrap_or_default();
                match state.app_keys.iter().find(|k| k.id == *id && k.owner == me) {
                    Some(k) => Reply::json(200, &json!({"data": Self::app_key_json(k)})),
                    None => self.error(404, "Application key not found"),
                }
            }
            ("POST", ["api", "v2", "current_user", "application_keys"]) => {
                if let Some(r) = self.need("user_app_keys") {
                    return r;
                }
                let me = state.users.first().map(|u| u.id.clone()).unwrap_or_default();
                self.new_app_key(req, me, &mut state)
            }
            ("DELETE", ["api", "v2", "current_user", "application_keys", id]) => {
                if let Some(r) = self.need("user_app_keys") {
                    return r;
                }
                let me = state.users.first().map(|u| u.id.clone()).unwrap_or_default();
                self.delete_app_key(id, &me, &mut state)
            }
            ("POST", ["api", "v2", "service_accounts", sa, "application_keys"]) => {
                if let Some(r) = self.need("service_account_write") {
                    return r;
                }
                if !state.users.iter().any(|u| u.id == *sa && u.service_account) {
                    return self.error(404, "Service account not found");
                }
                self.new_app_key(req, (*sa).to_owned(), &mut state)
            }
            ("DELETE", ["api", "v2", "service_accounts", sa, "application_keys", id]) => {
                if let Some(r) = self.need("service_account_write") {
                    return r;
                }
                self.delete_app_key(id, sa, &mut state)
            }
            ("DELETE", ["api", "v2", "application_keys", id]) => {
                if let Some(r) = self.need("org_app_keys_write") {
                    return r;
                }
                let before = state.app_keys.len();
                state.app_keys.retain(|k| k.id != *id);
                if state.app_keys.len() == before {
                    self.error(404, "Application key not found")
                } else {
                    Reply::empty(204)
                }
            }
            ("GET", ["api", "v2", "personal_access_tokens"]) => {
                if let Some(r) = self.need("user_access_read") {
                    return r;
                }
                let keys: Vec<&Key> = state.pats.iter().collect();
                self.list(req, keys, |k| Self::token_json(k, "personal_access_tokens"), false, &state)
            }
            ("GET", ["api", "v2", "service_accounts", sa, "access_tokens"]) => {
                if let Some(r) = self.need("user_access_read") {
                    return r;
                }
                if !state.users.iter().any(|u| u.id == *sa && u.service_account) {
                    return self.error(404, "Service account not found");
                }
                let keys: Vec<&Key> = state.sats.iter().filter(|k| k.owner == *sa).collect();
                self.list(req, keys, |k| Self::token_json(k, "personal_access_tokens"), false, &state)
            }
            ("GET", ["api", "v2", "users"]) => {
                if let Some(r) = self.need("user_access_read") {
                    return r;
                }
                let (size, number) = match self.page(req) {
                    Ok(p) => p,
                    Err(r) => return r,
                };
                let page: Vec<Value> = state.users.iter().skip(size * number).take(size).map(Self::user_json).collect();
                Reply::json(
                    200,
                    &json!({"data": page, "meta": {"page": {"total_count": state.users.len(), "total_filtered_count": state.users.len()}}}),
                )
            }
            _ => self.error(404, "Not found"),
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        Reply::json(status, &json!({"errors": [message]}))
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        self.error(429, "Too many requests")
            .with_header("X-RateLimit-Limit", "100")
            .with_header("X-RateLimit-Period", "60")
            .with_header("X-RateLimit-Remaining", "0")
            .with_header("X-RateLimit-Reset", seconds.to_string())
            .with_header("X-RateLimit-Name", "api_keys")
    }
}
