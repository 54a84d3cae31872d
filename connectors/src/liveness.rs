//! Liveness probes for keys found on disk: one harmless, read-only request that tells whether a
//! token still works, without listing or changing anything.
//!
//! Why here: each probe speaks a provider's API (its auth header, its "who am I" call, how it
//! says "wrong key"), which is this crate's business. The caller (the scan in `keyward-core`)
//! decides whether the user consented, paces the attempts and logs each one.

use crate::http::HttpSettings;
use crate::providers::{Probe, ProbeRequest, VerifyFound};
use crate::{ConnectorError, ErrorKind};

/// What the provider said of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// It works; who it acts as, where the provider says.
    Live(Option<String>),
    /// The provider refused it.
    Rejected,
}

/// Whether a found token of this provider and kind can be probed, and with what call; `Err`
/// says why not (shown to the user as unsupported). The provider's registry entry decides.
pub fn probe_for(provider: &str, kind: &str) -> Result<&'static str, String> {
    check_for(provider, kind).map(|(call, _)| call)
}

/// The call and the probe of a found token of this provider and kind (see [`probe_for`]).
fn check_for(provider: &str, kind: &str) -> Result<(&'static str, Probe), String> {
    match crate::providers::get(provider).map(|p| &p.verify_found) {
        Some(VerifyFound::Yes { kind: k, call, probe, .. }) if *k == kind => Ok((call, *probe)),
        _ => Err(format!(
            "Keyward cannot check {provider} {} keys: no harmless read it can make with one alone",
            kind.replace('_', " ")
        )),
    }
}

/// Where a token of `provider` may live: `endpoint` when given; else every place its registry
/// entry names (every Datadog site and every New Relic region: a key is valid at one only, and
/// asking the US site alone calls a live EU key "rejected").
pub fn endpoints(provider: &str, endpoint: Option<&str>) -> Vec<String> {
    match (endpoint, crate::providers::get(provider).map(|p| &p.verify_found)) {
        (Some(e), _) => vec![e.trim_end_matches('/').to_owned()],
        (None, Some(VerifyFound::Yes { endpoints, .. })) => {
            endpoints().into_iter().map(|e| e.trim_end_matches('/').to_owned()).collect()
        }
        (None, _) => Vec::new(),
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
/// ([`endpoints`]; a provider that names none is asked once, at `endpoint` or its SDK's
/// default); `endpoint` replaces the provider's public ones.
pub async fn probe(
    provider: &str,
    kind: &str,
    token: &str,
    partner: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Liveness, ConnectorError> {
    let http = HttpSettings { max_attempts: 2, ..HttpSettings::default() };
    probe_with(provider, kind, token, partner, endpoint, http).await
}

/// [`probe`] with its own HTTP limits (a key the user asked about gets the full retry budget).
pub async fn probe_with(
    provider: &str,
    kind: &str,
    token: &str,
    partner: Option<&str>,
    endpoint: Option<&str>,
    http: HttpSettings,
) -> Result<Liveness, ConnectorError> {
    let (_, probe) =
        check_for(provider, kind).map_err(|e| ConnectorError::new("liveness", ErrorKind::Unsupported, e))?;
    let mut places = endpoints(provider, endpoint);
    if places.is_empty() {
        places.push(String::new());
    }
    let mut answers = Vec::new();
    for base in places {
        let request = ProbeRequest { token, partner, endpoint, base, http: http.clone() };
        let answer = probe(&request).await;
        if matches!(answer, Ok(Liveness::Live(_))) {
            return answer;
        }
        answers.push(answer);
    }
    verdict(answers)
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
