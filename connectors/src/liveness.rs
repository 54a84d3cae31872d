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

/// Where a token of `provider` may live: `endpoint` when given; else every Datadog site and
/// every New Relic region (a key is valid at one only: asking the US site alone calls a live
/// EU key "rejected"); else the provider's public endpoint.
pub fn endpoints(provider: &str, endpoint: Option<&str>) -> Vec<String> {
    match (provider, endpoint) {
        (_, Some(e)) => vec![e.trim_end_matches('/').to_owned()],
        ("datadog", None) => crate::datadog::SITES.iter().map(|s| format!("https://api.{s}")).collect(),
        ("newrelic", None) => crate::newrelic::REGIONS.iter().map(|(_, url)| (*url).to_owned()).collect(),
        (p, None) => default_endpoint(p).map(|e| vec![e.trim_end_matches('/').to_owned()]).unwrap_or_default(),
    }
}

/// One answer from the answers of every place a token may live: live at one is live; rejected
/// only when every place rejected it; otherwise the first error (it could not be told).
pub fn verdict(answers: Vec<Result<Liveness, ConnectorError>>) -> Result<Liveness, ConnectorError> {
    let mut first_error = None;
    let mut rejected = 0;
    let total = answers.len();
    for a in answers {
        match a {
            Ok(live @ Liveness::Live(_)) => return Ok(live),
            Ok(Liveness::Rejected) => rejected += 1,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if rejected < total => Err(e),
        _ => Ok(Liveness::Rejected),
    }
}

/// Probes `token` (with `partner`, the access key id, for an AWS secret) wherever it may live
/// ([`endpoints`]); `endpoint` replaces the provider's public ones.
pub async fn probe(
    provider: &str,
    kind: &str,
    token: &str,
    partner: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Liveness, ConnectorError> {
    probe_for(provider, kind).map_err(|e| ConnectorError::new("liveness", ErrorKind::Unsupported, e))?;
    if provider == "aws" {
        return probe_at(provider, token, partner, endpoint, String::new()).await;
    }
    let mut answers = Vec::new();
    for base in endpoints(provider, endpoint) {
        let answer = probe_at(provider, token, partner, endpoint, base).await;
        if matches!(answer, Ok(Liveness::Live(_))) {
            return answer;
        }
        answers.push(answer);
    }
    verdict(answers)
}

/// One probe at `base` (AWS: at `endpoint`, with `partner`, the access key id).
#[cfg_attr(not(feature = "aws"), allow(unused_variables))]
async fn probe_at(
    provider: &str,
    token: &str,
    partner: Option<&str>,
    endpoint: Option<&str>,
    base: String,
) -> Result<Liveness, ConnectorError> {
    let settings = HttpSettings { max_attempts: 2, ..HttpSettings::default() };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_asked_for_wherever_it_may_live() {
        let dd = endpoints("datadog", None);
        assert!(
            dd.contains(&"https://api.datadoghq.eu".to_owned()) && dd.contains(&"https://api.ddog-gov.com".to_owned())
        );
        assert_eq!(endpoints("newrelic", None).len(), 3);
        assert_eq!(endpoints("datadog", Some("http://127.0.0.1:9/")), ["http://127.0.0.1:9"]);
        assert_eq!(endpoints("fastly", None), ["https://api.fastly.com"]);
    }

    #[test]
    fn rejected_only_when_every_place_rejected_it() {
        let err = || Err(ConnectorError::new("datadog", ErrorKind::Transport, "timed out"));
        assert_eq!(verdict(vec![Ok(Liveness::Rejected), Ok(Liveness::Live(None))]).unwrap(), Liveness::Live(None));
        assert_eq!(verdict(vec![Ok(Liveness::Rejected), Ok(Liveness::Rejected)]).unwrap(), Liveness::Rejected);
        assert!(verdict(vec![Ok(Liveness::Rejected), err()]).is_err(), "one site could not answer: unknown");
    }
}
