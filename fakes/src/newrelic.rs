//! New Relic NerdGraph's key API as `../shared/reference/provider-apis.md` §4 and the SDL subset
//! describe it: `POST /graphql` with `API-Key`, `actor.apiAccess.keySearch(query, cursor)` with
//! cursor paging, `actor.apiAccess.key(id, keyType)`, `apiAccessCreateKeys` and
//! `apiAccessDeleteKeys` with per-key errors in an HTTP 200, and the 25-concurrent-requests cap
//! (a 26th request in flight gets a 429).
//!
//! The limits a rotation meets are modelled: a user key made for *another* user comes back
//! truncated, even from the create (New Relic shows it whole only to its user); only an admin
//! manages other users' keys and ingest keys (`FORBIDDEN` per key otherwise); an account's
//! original license key cannot be deleted (`INVALID`).
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
    /// The account's original license key, which New Relic does not let anyone delete.
    pub original: bool,
}

/// The accounts' keys.
#[derive(Debug, Default)]
pub struct State {
    /// Users.
    pub users: Vec<User>,
    /// Keys.
    pub keys: Vec<Key>,
    /// The accounts keys can be made in.
    pub accounts: Vec<i64>,
    /// Users with the API-keys capability over other users' keys and ingest keys.
    pub admins: Vec<i64>,
    /// Keys made so far (for new ids and secrets).
    pub made: u64,
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

    fn create_keys(query: &str, vars: &Value, state: &mut State, caller: i64) -> Reply {
        let admin = state.admins.contains(&caller);
        let mut created = Vec::new();
        let mut errors = Vec::new();
        for (field, ty) in [("user", "USER"), ("ingest", "INGEST")] {
            for input in vars["keys"][field].as_array().into_iter().flatten() {
                let account = input["accountId"].as_i64().unwrap_or(0);
                let user = input["userId"].as_i64();
                let ingest_type = match input["ingestType"].as_str() {
                    Some("LICENSE") => Some("LICENSE"),
                    Some("BROWSER") => Some("BROWSER"),
                    _ => None,
                };
                let name = input["name"].as_str().unwrap_or("").to_owned();
                let which = json!({"accountId": account, "userId": user, "ingestType": ingest_type});
                let refused = if !state.accounts.contains(&account) {
                    Some(("INVALID", "Account not found"))
                } else if name.chars().count() > 120 {
                    Some(("INVALID", "Name is limited to 120 characters"))
                } else if ty == "USER" && !user.is_some_and(|u| state.users.iter().any(|x| x.id == u)) {
                    Some(("INVALID", "User not found"))
                } else if ty == "INGEST" && ingest_type.is_none() {
                    Some(("INVALID", "An ingest key needs an ingestType"))
                } else if !admin && (ty == "INGEST" || user != Some(caller)) {
                    Some(("FORBIDDEN", "You do not have permission to create this key"))
                } else {
                    None
                };
                if let Some((kind, message)) = refused {
                    errors.push(key_error(query, ty, kind, message, which));
                    continue;
                }
                state.made += 1;
                let n = state.made;
                let secret = match ty {
                    "USER" => format!("NRAK-{:027X}", u128::from(n) * 0x9E37_79B9_7F4A_7C15 % 10u128.pow(27)),
                    _ => format!("{:036x}NRAL", u128::from(n) * 0x9E37_79B9_7F4A_7C15),
                };
                let key = Key {
                    id: format!("NEWKEY{n:018}"),
                    key_type: if ty == "USER" { "USER" } else { "INGEST" },
                    name,
                    notes: input["notes"].as_str().unwrap_or("").to_owned(),
                    secret,
                    account_id: account,
                    user_id: user.filter(|_| ty == "USER"),
                    ingest_type: ingest_type.filter(|_| ty == "INGEST"),
                    created_at: Utc::now(),
                    original: false,
                };
                // The whole key only for the caller's own user keys and ingest keys.
                created.push(Self::key_json(&key, state, caller, true));
                state.keys.push(key);
            }
        }
        Reply::json(200, &json!({"data": {"apiAccessCreateKeys": {"createdKeys": created, "errors": errors}}}))
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

/// One per-key error of a mutation, as NerdGraph types it.
///
/// The two error types' `errorType` fields have different enum types, so a query selecting both
/// must alias one; the alias the connector uses is answered too, as NerdGraph would.
fn key_error(query: &str, ty: &str, kind: &str, message: &str, which: Value) -> Value {
    let mut e = json!({
        "__typename": if ty == "USER" { "ApiAccessUserKeyError" } else { "ApiAccessIngestKeyError" },
        "message": message, "type": ty, "errorType": kind,
    });
    if ty == "INGEST" && query.contains("ingestErrorType: errorType") {
        e["ingestErrorType"] = json!(kind);
    }
    if let (Some(e), Some(w)) = (e.as_object_mut(), which.as_object()) {
        e.extend(w.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())));
    }
    e
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
        } else if query.contains("apiAccessCreateKeys") {
            Self::create_keys(query, vars, &mut state, caller)
        } else if query.contains("apiAccessDeleteKeys") {
            let admin = state.admins.contains(&caller);
            let mut deleted = Vec::new();
            let mut errors = Vec::new();
            for (field, ty) in [("userKeyIds", "USER"), ("ingestKeyIds", "INGEST")] {
                for id in vars["keys"][field].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    let error = |kind: &str, message: &str| key_error(query, ty, kind, message, json!({"id": id}));
                    match state.keys.iter().position(|k| k.id == id && k.key_type == ty) {
                        Some(p) if !admin && state.keys[p].user_id != Some(caller) => {
                            errors.push(error("FORBIDDEN", "You do not have permission to delete this key"))
                        }
                        Some(p) if state.keys[p].original => errors.push(error(
                            "INVALID",
                            "The original license key of an account cannot be deleted; contact New Relic support",
                        )),
                        Some(p) => {
                            state.keys.remove(p);
                            deleted.push(json!({"id": id}));
                        }
                        None => errors.push(error("NOT_FOUND", "Key not found")),
                    }
                }
            }
            Reply::json(200, &json!({"data": {"apiAccessDeleteKeys": {"deletedKeys": deleted, "errors": errors}}}))
        } else if query.contains("apiAccess") && query.contains("key(") {
            let ty = vars["keyType"].as_str().unwrap_or("");
            let id = vars["id"].as_str().unwrap_or("");
            let with_key = query.split(|c: char| !c.is_alphanumeric()).filter(|t| *t == "key").count() > 1;
            let found = state.keys.iter().find(|k| k.id == id && k.key_type == ty);
            let visible =
                found.filter(|k| state.admins.contains(&caller) || k.user_id == Some(caller) || k.key_type == "INGEST");
            let v = visible.map_or(Value::Null, |k| Self::key_json(k, &state, caller, with_key));
            Reply::json(200, &json!({"data": {"actor": {"apiAccess": {"key": v}}}}))
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
