//! New Relic NerdGraph's key API as `../shared/reference/provider-apis.md` §4 and the SDL subset
//! describe it: `POST /graphql` with `API-Key`, `actor.apiAccess.keySearch(query, cursor)` with
//! cursor paging, `apiAccessDeleteKeys` with per-key errors, and the 25-concurrent-requests cap
//! (a 26th request in flight gets a 429).
//!
//! It is not a GraphQL engine: it recognises the operations by name and answers with every field
//! the connector selects; the contract test checks those answers against the real schema.

use std::sync::Mutex;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::server::{Provider, Reply, Request};

/// A New Relic user.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A USER or INGEST key.
#[derive(Debug, Clone)]
pub struct Key {
    /// Id.
    pub id: String,
    /// `USER` or `INGEST`.
    pub key_type: &'static str,
    /// Name.
    pub name: String,
    /// Notes.
    pub notes: String,
    /// The secret.
    pub secret: String,
    /// Account.
    pub account_id: i64,
    /// USER keys: the user.
    pub user_id: Option<i64>,
    /// INGEST keys: `LICENSE` or `BROWSER`.
    pub ingest_type: Option<&'static str>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The accounts' keys.
#[derive(Debug, Default)]
pub struct State {
    /// Users.
    pub users: Vec<User>,
    /// Keys.
    pub keys: Vec<Key>,
}

/// The fake NerdGraph.
pub struct NewRelic {
    /// State.
    pub state: Mutex<State>,
    /// Keys per page of `keySearch`.
    pub page_size: usize,
}

/// New Relic's cap on concurrent requests per user.
pub const MAX_CONCURRENT: usize = 25;

impl NewRelic {
    /// A fake NerdGraph; the caller authenticates with the secret of one of the USER keys.
    pub fn new(state: State) -> Self {
        Self { state: Mutex::new(state), page_size: 100 }
    }

    fn gql_error(&self, status: u16, message: &str, class: &str) -> Reply {
        Reply::json(status, &json!({"errors": [{"message": message, "extensions": {"errorClass": class}}]}))
    }

    fn key_json(k: &Key, state: &State, caller: i64, with_key: bool) -> Value {
        let own = k.key_type == "INGEST" || k.user_id == Some(caller);
        let key = if own { k.secret.clone() } else { format!("{}...", &k.secret[..8]) };
        let mut v = json!({
            "__typename": if k.key_type == "USER" { "ApiAccessUserKey" } else { "ApiAccessIngestKey" },
            "id": k.id,
            "name": k.name,
            "notes": k.notes,
            "type": k.key_type,
            "createdAt": k.created_at.timestamp(),
            "obfuscatedKey": format!("{}{}", &k.secret[..4], "*".repeat(k.secret.len() - 8) + &k.secret[k.secret.len() - 4..]),
            "accountId": k.account_id,
        });
        // Like NerdGraph, the secret travels only when the query selects `key`.
        if with_key {
            v["key"] = json!(key);
        }
        if k.key_type == "USER" {
            let u = k.user_id.and_then(|id| state.users.iter().find(|u| u.id == id));
            v["userId"] = json!(k.user_id);
            v["user"] = u.map_or(Value::Null, |u| json!({"id": u.id, "email": u.email, "name": u.name}));
        } else {
            v["ingestType"] = json!(k.ingest_type);
        }
        v
    }

    fn key_search(&self, query: &str, vars: &Value, state: &State, caller: i64) -> Reply {
        let with_key = query.split(|c: char| !c.is_alphanumeric()).any(|t| t == "key");
        let q = &vars["query"];
        let Some(types) = q["types"].as_array() else {
            return self.gql_error(
                200,
                "Variable \"$query\" got invalid value; field \"types\" is required",
                "BAD_USER_INPUT",
            );
        };
        let types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        let ints = |v: &Value| v.as_array().map(|a| a.iter().filter_map(Value::as_i64).collect::<Vec<_>>());
        let accounts = ints(&q["scope"]["accountIds"]);
        let users = ints(&q["scope"]["userIds"]);
        let matching: Vec<&Key> = state
            .keys
            .iter()
            .filter(|k| types.is_empty() || types.contains(&k.key_type))
            .filter(|k| accounts.as_ref().is_none_or(|a| a.contains(&k.account_id)))
            .filter(|k| {
                k.key_type != "USER" || users.as_ref().is_none_or(|u| k.user_id.is_some_and(|id| u.contains(&id)))
            })
            .collect();
        let offset = match vars["cursor"].as_str() {
            None => 0,
            Some(c) => match base64::engine::general_purpose::STANDARD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
            {
                Some(n) => n,
                None => return self.gql_error(200, "Invalid cursor", "BAD_USER_INPUT"),
            },
        };
        let page: Vec<Value> = matching
            .iter()
            .skip(offset)
            .take(self.page_size)
            .map(|k| Self::key_json(k, state, caller, with_key))
            .collect();
        let next = offset + page.len();
        let next_cursor =
            (next < matching.len()).then(|| base64::engine::general_purpose::STANDARD.encode(format!("offset:{next}")));
        Reply::json(
            200,
            &json!({"data": {"actor": {"apiAccess": {"keySearch": {
                "count": matching.len(), "nextCursor": next_cursor, "keys": page
            }}}}}),
        )
    }
}

impl Provider for NewRelic {
    fn handle(&self, req: &Request) -> Reply {
        if req.in_flight > MAX_CONCURRENT {
            return self.rate_limited(0);
        }
        if req.method != "POST" || req.path != "/graphql" {
            return Reply::json(404, &json!({"errors": [{"message": "Not found"}]}));
        }
        let mut state = self.state.lock().unwrap();
        let key = req.header("api-key").unwrap_or("");
        let Some(caller) = state.keys.iter().find(|k| k.key_type == "USER" && k.secret == key).and_then(|k| k.user_id)
        else {
            return self.gql_error(401, "Invalid API key", "UNAUTHORIZED");
        };
        let body = req.json();
        let query = body["query"].as_str().unwrap_or("");
        let vars = &body["variables"];
        if query.contains("keySearch") {
            self.key_search(query, vars, &state, caller)
        } else if query.contains("apiAccessDeleteKeys") {
            let mut deleted = Vec::new();
            let mut errors = Vec::new();
            for (field, ty) in [("userKeyIds", "USER"), ("ingestKeyIds", "INGEST")] {
                for id in vars["keys"][field].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    match state.keys.iter().position(|k| k.id == id && k.key_type == ty) {
                        Some(p) => {
                            state.keys.remove(p);
                            deleted.push(json!({"id": id}));
                        }
                        None => errors.push(json!({
                            "__typename": if ty == "USER" { "ApiAccessUserKeyError" } else { "ApiAccessIngestKeyError" },
                            "message": "Key not found", "type": ty, "id": id, "errorType": "NOT_FOUND"
                        })),
                    }
                }
            }
            Reply::json(200, &json!({"data": {"apiAccessDeleteKeys": {"deletedKeys": deleted, "errors": errors}}}))
        } else if query.contains("actor") && query.contains("user") {
            let u = state.users.iter().find(|u| u.id == caller);
            Reply::json(
                200,
                &json!({"data": {"actor": {"user": u.map(|u| json!({"id": u.id, "email": u.email, "name": u.name}))}}}),
            )
        } else {
            self.gql_error(200, "Cannot query this operation on the fake", "BAD_USER_INPUT")
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        self.gql_error(status, message, "SERVER_ERROR")
    }

    fn rate_limited(&self, _seconds: u64) -> Reply {
        // New Relic documents no header telling when to come back: the client backs off.
        self.gql_error(429, "Too many concurrent requests", "TOO_MANY_REQUESTS")
    }
}
