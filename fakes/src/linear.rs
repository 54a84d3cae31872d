//! Linear's GraphQL API as far as Keyward can use it (`../shared/reference/provider-apis.md` §5):
//! there is no query that lists or revokes API keys, so the fake answers only what a liveness
//! check needs: `viewer { id name email }` authenticated with `Authorization: <key>` (no
//! `Bearer`), and `rateLimitStatus`. Every answer carries the request and complexity budget
//! headers; an exhausted budget is a `RATELIMITED` GraphQL error.

use std::sync::Mutex;

use chrono::Utc;
use serde_json::json;

use crate::server::{Provider, Reply, Request};

/// A Linear user and the personal API keys they made.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Their personal API keys (`lin_api_…`).
    pub keys: Vec<String>,
}

/// The workspace.
#[derive(Debug, Default)]
pub struct State {
    /// Users.
    pub users: Vec<User>,
}

/// The fake Linear.
pub struct Linear {
    /// State.
    pub state: Mutex<State>,
}

impl Linear {
    /// A fake workspace.
    pub fn new(state: State) -> Self {
        Self { state: Mutex::new(state) }
    }

    fn budget(reply: Reply, remaining: u64) -> Reply {
        let reset = (Utc::now().timestamp_millis() + 3_600_000).to_string();
        reply
            .with_header("X-RateLimit-Requests-Limit", "1500")
            .with_header("X-RateLimit-Requests-Remaining", remaining.to_string())
            .with_header("X-RateLimit-Requests-Reset", reset.clone())
            .with_header("X-Complexity", "2")
            .with_header("X-RateLimit-Complexity-Limit", "250000")
            .with_header("X-RateLimit-Complexity-Remaining", (remaining * 100).to_string())
            .with_header("X-RateLimit-Complexity-Reset", reset)
    }

    fn gql_error(status: u16, message: &str, code: &str) -> Reply {
        Reply::json(status, &json!({"errors": [{"message": message, "extensions": {"code": code}}]}))
    }
}

impl Provider for Linear {
    fn handle(&self, req: &Request) -> Reply {
        if req.method != "POST" || req.path != "/graphql" {
            return Self::gql_error(404, "Not found", "NOT_FOUND");
        }
        let state = self.state.lock().unwrap();
        let key = req.header("authorization").unwrap_or("");
        let Some(user) = state.users.iter().find(|u| u.keys.iter().any(|k| k == key)) else {
            return Self::gql_error(400, "Authentication required, not authenticated", "AUTHENTICATION_ERROR");
        };
        let query = req.json()["query"].as_str().unwrap_or("").to_owned();
        let reply = if query.contains("viewer") {
            Reply::json(200, &json!({"data": {"viewer": {"id": user.id, "name": user.name, "email": user.email}}}))
        } else if query.contains("rateLimitStatus") {
            Reply::json(200, &json!({"data": {"rateLimitStatus": {"identifier": "api-key", "kind": "api"}}}))
        } else {
            Self::gql_error(400, "Cannot query this field on the fake", "GRAPHQL_VALIDATION_FAILED")
        };
        Self::budget(reply, 1499)
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        Self::gql_error(status, message, "INTERNAL_SERVER_ERROR")
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        let reset = (Utc::now().timestamp_millis() + seconds as i64 * 1000).to_string();
        Self::gql_error(429, "Rate limit exceeded", "RATELIMITED")
            .with_header("X-RateLimit-Requests-Limit", "1500")
            .with_header("X-RateLimit-Requests-Remaining", "0")
            .with_header("X-RateLimit-Requests-Reset", reset)
    }
}
