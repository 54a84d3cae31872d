//! Fastly's token API as `../shared/reference/provider-apis.md` §3 and the reconstructed spec
//! describe it: `Fastly-Key` auth, `GET /tokens` (own) and `GET /customer/{id}/tokens` (all,
//! superusers only) as plain arrays, `GET /automation-tokens?page=&per_page=`, space-delimited
//! scopes, `{"msg": ...}` errors and 429s with `Fastly-RateLimit-Remaining`/`-Reset` (epoch).
//! `GET /current_user` tells the connector its customer id and role.
//!
//! For rotation: `POST /sudo` with the user's login and password puts the calling token in sudo
//! mode for five minutes (a wrong password, or an account that forces SSO, is a 403), and only a
//! superuser's `global` token in sudo mode may `POST /automation-tokens`; the secret is in that answer
//! only. `GET /automation-tokens/{id}` and `DELETE` (revoke) are a superuser's; an automation
//! token authenticates as itself on `GET /tokens/self`.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::server::{Provider, Reply, Request};
use crate::ts;

/// A Fastly user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Login (email).
    pub login: String,
    /// Name.
    pub name: String,
    /// `superuser`, `engineer`, `billing`, `user`.
    pub role: String,
}

/// A user token or an automation token.
#[derive(Debug, Clone)]
pub struct Token {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The secret (`access_token`).
    pub secret: String,
    /// Owner user id (automation tokens: `None`).
    pub user_id: Option<String>,
    /// Space-delimited scopes.
    pub scope: String,
    /// Service ids; empty = all services.
    pub services: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use.
    pub last_used: Option<DateTime<Utc>>,
    /// Address of the last use.
    pub ip: Option<String>,
    /// User agent of the last use.
    pub user_agent: Option<String>,
    /// Automation tokens: role.
    pub role: Option<String>,
    /// Automation tokens: TLS access.
    pub tls_access: bool,
}

/// The customer's users and tokens.
#[derive(Debug, Default)]
pub struct State {
    /// Users.
    pub users: Vec<User>,
    /// User tokens.
    pub tokens: Vec<Token>,
    /// Automation tokens.
    pub automation_tokens: Vec<Token>,
    /// Users' passwords (user id → password), for sudo mode.
    pub passwords: std::collections::HashMap<String, String>,
    /// The account forces SSO: sudo mode (and so making automation tokens) is refused.
    pub sso_enforced: bool,
    /// Tokens in sudo mode, and until when (token id → expiry).
    pub sudo: std::collections::HashMap<String, DateTime<Utc>>,
    /// Automation tokens made so far (for ids and secrets).
    pub made: u32,
}

/// The fake Fastly.
pub struct Fastly {
    /// The customer id.
    pub customer_id: String,
    /// State.
    pub state: Mutex<State>,
}

impl Fastly {
    /// A fake customer.
    pub fn new(customer_id: &str, state: State) -> Self {
        Self { customer_id: customer_id.to_owned(), state: Mutex::new(state) }
    }

    fn token_json(&self, t: &Token, automation: bool) -> Value {
        let mut v = json!({
            "id": t.id,
            "name": t.name,
            "scope": t.scope,
            "services": t.services,
            "created_at": ts(t.created_at),
            "expires_at": t.expires_at.map(ts),
            "last_used_at": t.last_used.map(ts),
            "ip": t.ip.clone().unwrap_or_default(),
            "user_agent": t.user_agent.clone().unwrap_or_default(),
        });
        if automation {
            v["customer_id"] = json!(self.customer_id);
            v["role"] = json!(t.role);
            v["tls_access"] = json!(t.tls_access);
        } else {
            // An automation token belongs to no user: no `user_id` (the spec types it a string).
            if let Some(user) = &t.user_id {
                v["user_id"] = json!(user);
            }
            v["updated_at"] = json!(ts(t.created_at));
            v["deleted_at"] = Value::Null;
        }
        v
    }
}

impl Provider for Fastly {
    fn handle(&self, req: &Request) -> Reply {
        let mut state = self.state.lock().unwrap();
        let Some(key) = req.header("fastly-key") else {
            return self.error(401, "Provided credentials are missing or invalid");
        };
        let Some(me) = state.tokens.iter().chain(&state.automation_tokens).find(|t| t.secret == key).cloned() else {
            return self.error(401, "Provided credentials are missing or invalid");
        };
        if me.expires_at.is_some_and(|e| e < Utc::now()) {
            return self.error(401, "Token expired");
        }
        let user = me.user_id.as_ref().and_then(|u| state.users.iter().find(|x| &x.id == u)).cloned();
        let superuser = user.as_ref().is_some_and(|u| u.role == "superuser");
        let segs = req.segments();
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["current_user"]) => match user {
                Some(u) => Reply::json(
                    200,
                    &json!({"id": u.id, "login": u.login, "name": u.name, "role": u.role, "customer_id": self.customer_id}),
                ),
                None => self.error(404, "Record not found"),
            },
            ("GET", ["tokens", "self"]) => Reply::json(200, &self.token_json(&me, false)),
            ("GET", ["tokens"]) => {
                let own: Vec<Value> = state
                    .tokens
                    .iter()
                    .filter(|t| t.user_id == me.user_id)
                    .map(|t| self.token_json(t, false))
                    .collect();
                Reply::json(200, &json!(own))
            }
            ("GET", ["customer", c, "tokens"]) => {
                if *c != self.customer_id {
                    return self.error(404, "Record not found");
                }
                if !superuser {
                    return self.error(403, "You do not have permission to perform this action");
                }
                Reply::json(200, &json!(state.tokens.iter().map(|t| self.token_json(t, false)).collect::<Vec<_>>()))
            }
            ("GET", ["customer", c, "users"]) => {
                if *c != self.customer_id {
                    return self.error(404, "Record not found");
                }
                let users: Vec<Value> = state
                    .users
                    .iter()
                    .map(|u| json!({"id": u.id, "login": u.login, "name": u.name, "role": u.role, "customer_id": self.customer_id}))
                    .collect();
                Reply::json(200, &json!(users))
            }
            ("GET", ["automation-tokens"]) => {
                if !superuser {
                    return self.error(403, "You do not have permission to perform this action");
                }
                let page = req.query("page").map_or(Ok(1), str::parse::<usize>);
                let per = req.query("per_page").map_or(Ok(20), str::parse::<usize>);
                let (Ok(page), Ok(per)) = (page, per) else { return self.error(400, "Invalid pagination") };
                if page == 0 || per == 0 || per > 100 {
                    return self.error(400, "Invalid pagination");
                }
                let items: Vec<Value> = state
                    .automation_tokens
                    .iter()
                    .skip((page - 1) * per)
                    .take(per)
                    .map(|t| self.token_json(t, true))
                    .collect();
                Reply::json(200, &json!(items))
            }
            ("POST", ["sudo"]) => {
                let body = req.json();
                let right = user.as_ref().is_some_and(|u| {
                    body["username"].as_str() == Some(u.login.as_str())
                        && body["password"].as_str().is_some()
                        && state.passwords.get(&u.id).map(String::as_str) == body["password"].as_str()
                });
                if !right || state.sso_enforced {
                    return self.error(403, "forbidden");
                }
                let until = Utc::now() + chrono::Duration::minutes(5);
                state.sudo.insert(me.id.clone(), until);
                Reply::json(200, &json!({"expiry_time": ts(until)}))
            }
            ("POST", ["automation-tokens"]) => {
                if !superuser {
                    return self.error(403, "You do not have permission to perform this action");
                }
                if !me.scope.split_whitespace().any(|s| s == "global") {
                    return self.error(403, "The token's scope does not allow this action (global is needed)");
                }
                if state.sudo.get(&me.id).is_none_or(|until| *until <= Utc::now()) {
                    return self.error(403, "Sudo mode is required to perform this action");
                }
                let body = req.json();
                let a = &body["attributes"];
                let Some(name) = a["name"].as_str() else { return self.error(400, "attributes.name is required") };
                state.made += 1;
                let n = state.made;
                let token = Token {
                    id: format!("autotok{n:06}made"),
                    name: name.to_owned(),
                    secret: format!(
                        "{:016x}{:016x}",
                        crate::hash(&format!("auto-{n}")),
                        crate::hash(&format!("tok-{n}"))
                    ),
                    user_id: None,
                    scope: a["scope"].as_str().unwrap_or("global").to_owned(),
                    services: a["services"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    created_at: Utc::now(),
                    expires_at: a["expires_at"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc)),
                    last_used: None,
                    ip: None,
                    user_agent: None,
                    role: Some(a["role"].as_str().unwrap_or("engineer").to_owned()),
                    tls_access: a["tls_access"].as_bool().unwrap_or(false),
                };
                let mut out = self.token_json(&token, true);
                out["user_id"] = json!(me.user_id);
                out["access_token"] = json!(token.secret);
                state.automation_tokens.push(token);
                Reply::json(200, &out)
            }
            ("GET", ["automation-tokens", id]) => {
                if !superuser {
                    return self.error(403, "You do not have permission to perform this action");
                }
                match state.automation_tokens.iter().find(|t| t.id == *id) {
                    Some(t) => Reply::json(200, &self.token_json(t, true)),
                    None => self.error(404, "Record not found"),
                }
            }
            ("DELETE", ["automation-tokens", id]) => {
                if !superuser {
                    return self.error(403, "You do not have permission to perform this action");
                }
                let before = state.automation_tokens.len();
                state.automation_tokens.retain(|t| t.id != *id);
                if state.automation_tokens.len() == before {
                    self.error(404, "Record not found")
                } else {
                    Reply::empty(204)
                }
            }
            ("DELETE", ["tokens", id]) => {
                let Some(pos) = state.tokens.iter().position(|t| t.id == *id) else {
                    return self.error(404, "Record not found");
                };
                if state.tokens[pos].user_id != me.user_id && !superuser {
                    return self.error(403, "Users may only revoke their own tokens");
                }
                state.tokens.remove(pos);
                Reply::empty(204)
                    .with_header("Fastly-RateLimit-Remaining", "999")
                    .with_header("Fastly-RateLimit-Reset", (Utc::now().timestamp() + 3600).to_string())
            }
            _ => self.error(404, "Record not found"),
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        Reply::json(status, &json!({"msg": message}))
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        self.error(429, "Too many requests")
            .with_header("Fastly-RateLimit-Remaining", "0")
            .with_header("Fastly-RateLimit-Reset", (Utc::now().timestamp() + seconds as i64).to_string())
    }
}
