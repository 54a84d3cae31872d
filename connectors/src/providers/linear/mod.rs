//! Linear: its public API cannot list or revoke API keys (the `apiKeys` query left the schema
//! in 2025-10 and only ever listed the caller's own keys), so Keyward keeps Linear keys that the
//! user registers by hand and can only ask, per key, whether it still works: `viewer { id }`
//! with `Authorization: <key>`. Rate limits are Linear's request and complexity budgets; an
//! exhausted one is a `RATELIMITED` GraphQL error with the reset in epoch milliseconds.

use serde_json::{Value, json};

use crate::http::{Http, HttpSettings, RateLimitSignal};
use crate::{ConnectorError, ErrorKind};

const PROVIDER_ID: &str = provider::PROVIDER.id;

/// Linear's GraphQL endpoint.
pub const ENDPOINT: &str = "https://api.linear.app/graphql";

/// The liveness query.
pub const VIEWER: &str = "query KeywardLiveness { viewer { id name email } }";

/// What Linear cannot do through its API, shown to users as is.
pub const UNSUPPORTED: &str = "Linear's API cannot list, inspect or revoke API keys: register each key by hand \
(name, owner, expiry, secret); Keyward can only check that it still works. Rotate and revoke it in Linear's \
settings (Security & access).";

/// Who a working key belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    /// Linear user id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// Checks a Linear API key: `Ok(Some(viewer))` when it works, `Ok(None)` when Linear rejects
/// it, an error when Linear could not be asked.
pub async fn check_key(
    endpoint: Option<&str>,
    key: &str,
    http: HttpSettings,
) -> Result<Option<Viewer>, ConnectorError> {
    let http = Http::new(
        PROVIDER_ID,
        HttpSettings { rate_limit: RateLimitSignal::ResetAtEpochMillis("x-ratelimit-requests-reset"), ..http },
        &[key],
    )?;
    let url = endpoint.unwrap_or(ENDPOINT);
    let body = json!({"query": VIEWER});
    let key = keyward_secret::Secret::from(key);
    crate::http::check_credential(PROVIDER_ID, "API key", &key)?;
    let r = http
        .send_accepting("viewer", &[400, 401], |c| {
            c.post(url)
                .header("Authorization", crate::http::credential(&key))
                .header("Content-Type", "application/json")
                .json(&body)
        })
        .await?;
    let v: Value = r.json(PROVIDER_ID)?;
    if let Some(e) = v["errors"].as_array().and_then(|e| e.first()) {
        let code = e.pointer("/extensions/code").and_then(Value::as_str).unwrap_or("");
        return match code {
            "AUTHENTICATION_ERROR" => Ok(None),
            "RATELIMITED" => {
                let mut err = ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::RateLimited,
                    "viewer: Linear's rate limit is exhausted",
                );
                err.retry_after = RateLimitSignal::ResetAtEpochMillis("x-ratelimit-requests-reset")
                    .wait(&r.headers, std::time::SystemTime::now());
                Err(err)
            }
            _ if r.status == 401 => Ok(None),
            _ => Err(ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::Provider,
                format!("viewer: {}", e["message"].as_str().unwrap_or("GraphQL error")),
            )),
        };
    }
    let viewer = v
        .pointer("/data/viewer")
        .filter(|v| v.is_object())
        .ok_or_else(|| ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "viewer: the answer has no viewer"))?;
    let s = |f: &str| viewer[f].as_str().unwrap_or_default().to_owned();
    Ok(Some(Viewer { id: s("id"), name: s("name"), email: s("email") }))
}

mod provider;
pub use provider::PROVIDER;
