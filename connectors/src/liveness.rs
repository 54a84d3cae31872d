//! Liveness probes for keys found on disk: one harmless, read-only request that tells whether a
//! token still works, without listing or changing anything.
//!
//! Why here: each probe speaks a provider's API (its auth header, its "who am I" call, how it
//! says "wrong key"), which is this crate's business. The caller (the scan in `keyward-core`)
//! decides whether the user consented, paces the attempts and logs each one.

use serde_json::{Value, json};

use crate::http::{Http, HttpSettings};
use crate::{ConnectorError, ErrorKind};

/// What the provider said of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// It works; who it acts as, where the provider says.
    Live(Option<String>),
    /// The provider refused it.
    Rejected,
}

/// The providers' public endpoints, used unless the caller gives another (a proxy, a stand-in).
pub fn default_endpoint(provider: &str) -> Option<&'static str> {
    match provider {
        "datadog" => Some("https://api.datadoghq.com"),
        "fastly" => Some("https://api.fastly.com"),
        "newrelic" => Some("https://api.newrelic.com/graphql"),
        "linear" => Some(crate::linear::ENDPOINT),
        _ => None,
    }
}

/// Whether a found token of this provider and kind can be probed, and with what call; `None`
/// says why not (shown to the user as unsupported).
pub fn probe_for(provider: &str, kind: &str) -> Result<&'static str, String> {
    match (provider, kind) {
        ("datadog", "api_key") => Ok("GET /api/v1/validate"),
        ("fastly", "api_token") => Ok("GET /current_user"),
        ("newrelic", "user_key") => Ok("NerdGraph actor { user }"),
        ("linear", "api_key") => Ok("GraphQL viewer"),
        #[cfg(feature = "aws")]
        ("aws", "secret_access_key") => Ok("STS GetCallerIdentity"),
        _ => Err(format!(
            "Keyward cannot check {provider} {} keys: no harmless read it can make with one alone",
            kind.replace('_', " ")
        )),
    }
}

/// Probes `token` (with `partner`, the access key id, for an AWS secret). `endpoint` replaces
/// the provider's public one.
pub async fn probe(
    provider: &str,
    kind: &str,
    token: &str,
    partner: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Liveness, ConnectorError> {
    probe_for(provider, kind).map_err(|e| ConnectorError::new("liveness", ErrorKind::Unsupported, e))?;
    let settings = HttpSettings { max_attempts: 2, ..HttpSettings::default() };
    let base = endpoint.or(default_endpoint(provider)).unwrap_or_default().trim_end_matches('/').to_owned();
    match provider {
        "datadog" => {
            let http = Http::new("datadog", settings, &[token])?;
            let url = format!("{base}/api/v1/validate");
            let r = http
                .send_accepting("GET /api/v1/validate", &[401, 403], |c| c.get(&url).header("DD-API-KEY", token))
                .await?;
            Ok(if r.status == 200 { Liveness::Live(None) } else { Liveness::Rejected })
        }
        "fastly" => {
            let http = Http::new("fastly", settings, &[token])?;
            let url = format!("{base}/current_user");
            let r = http
                .send_accepting("GET /current_user", &[401, 403], |c| c.get(&url).header("Fastly-Key", token))
                .await?;
            if r.status != 200 {
                return Ok(Liveness::Rejected);
            }
            let v: Value = r.json("fastly")?;
            Ok(Liveness::Live(v["login"].as_str().map(str::to_owned)))
        }
        "newrelic" => {
            let http = Http::new("newrelic", settings, &[token])?;
            let body = json!({"query": "{ actor { user { email } } }"});
            let r = http
                .send_accepting("actor.user", &[401, 403], |c| c.post(&base).header("API-Key", token).json(&body))
                .await?;
            let v: Value = r.json("newrelic")?;
            match v.pointer("/data/actor/user/email").and_then(Value::as_str) {
                Some(email) if r.status == 200 => Ok(Liveness::Live(Some(email.to_owned()))),
                _ => Ok(Liveness::Rejected),
            }
        }
        "linear" => Ok(match crate::linear::check_key(Some(&base), token, settings).await? {
            Some(v) => Liveness::Live(Some(v.email)),
            None => Liveness::Rejected,
        }),
        #[cfg(feature = "aws")]
        "aws" => {
            let Some(id) = partner else {
                return Err(ConnectorError::new(
                    "aws",
                    ErrorKind::Config,
                    "an AWS secret key is checked with its access key id, and none was found next to it",
                ));
            };
            crate::aws::caller_identity(id, token, endpoint).await
        }
        _ => unreachable!("probe_for refused it"),
    }
}
