//! Fastly in the registry, and the liveness check of a Fastly API token found on disk.

use serde_json::Value;

use crate::ConnectorError;
use crate::http::Http;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Credential, ProbeRequest, Provider, Rotation, Setting, Support, VerifyFound};

/// The public API.
pub const ENDPOINT: &str = "https://api.fastly.com";

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "fastly",
    name: "Fastly",
    credentials: &[&[Credential { field: "token", env: "FASTLY_API_TOKEN", label: "API token" }]],
    settings: &[Setting { flag: "--endpoint", help: "the API's URL instead of api.fastly.com (a proxy, a stand-in)" }],
    inventory: Support::Yes("user and automation tokens of the customer account"),
    check: Support::Yes("GET /current_user, and whether the token sees the whole account"),
    verify_found: VerifyFound::Yes {
        kind: "api_token",
        call: "GET /current_user",
        endpoints: || vec![ENDPOINT.to_owned()],
        probe,
    },
    rotation: Rotation {
        create: Support::No("Keyward does not rotate Fastly tokens yet"),
        disable: Support::No("Fastly tokens cannot be disabled, only revoked"),
        delete: Support::No("Keyward does not rotate Fastly tokens yet"),
        limits: &[],
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let http = Http::new("fastly", r.http.clone(), &[r.token])?;
        let url = format!("{}/current_user", r.base);
        let answer = http
            .send_accepting("GET /current_user", &[401, 403], |c| c.get(&url).header("Fastly-Key", r.token))
            .await?;
        if answer.status != 200 {
            return Ok(Liveness::Rejected);
        }
        let v: Value = answer.json("fastly")?;
        Ok(Liveness::Live(v["login"].as_str().map(str::to_owned)))
    })
}
