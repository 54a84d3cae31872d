//! New Relic in the registry, and the liveness check of a New Relic user key found on disk.

use serde_json::{Value, json};

use crate::ConnectorError;
use crate::http::Http;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Credential, ProbeRequest, Provider, Rotation, Setting, Support, VerifyFound};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "newrelic",
    name: "New Relic",
    credentials: &[&[Credential { field: "api_key", env: "NEW_RELIC_API_KEY", label: "User key" }]],
    settings: &[
        Setting { flag: "--region", help: "the New Relic region: us, eu or jp" },
        Setting { flag: "--account-id", help: "an account to list (repeat; default: every account the key sees)" },
        Setting { flag: "--endpoint", help: "the NerdGraph URL instead of the region's (a proxy, a stand-in)" },
    ],
    inventory: Support::Yes("NerdGraph apiAccess.keySearch: user and ingest keys"),
    check: Support::Yes("NerdGraph actor { user }, then a key search"),
    verify_found: VerifyFound::Yes {
        kind: "user_key",
        call: "NerdGraph actor { user }",
        endpoints: || super::REGIONS.iter().map(|(_, url)| (*url).to_owned()).collect(),
        probe,
    },
    rotation: Rotation {
        create: Support::No("Keyward does not rotate New Relic keys yet"),
        disable: Support::No("New Relic keys cannot be disabled, only deleted"),
        delete: Support::No("Keyward does not rotate New Relic keys yet"),
        limits: &[],
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let http = Http::new("newrelic", r.http.clone(), &[r.token])?;
        let body = json!({"query": "{ actor { user { email } } }"});
        let answer = http
            .send_accepting("actor.user", &[401, 403], |c| c.post(&r.base).header("API-Key", r.token).json(&body))
            .await?;
        let v: Value = answer.json("newrelic")?;
        match v.pointer("/data/actor/user/email").and_then(Value::as_str) {
            Some(email) if answer.status == 200 => Ok(Liveness::Live(Some(email.to_owned()))),
            _ => Ok(Liveness::Rejected),
        }
    })
}
