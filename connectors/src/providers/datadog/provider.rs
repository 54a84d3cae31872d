//! Datadog in the registry, and the liveness check of a Datadog API key found on disk.

use crate::ConnectorError;
use crate::http::Http;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Credential, ProbeRequest, Provider, Rotation, Setting, Support, VerifyFound};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "datadog",
    name: "Datadog",
    credentials: &[&[
        Credential { field: "api_key", env: "DD_API_KEY", label: "API key" },
        Credential { field: "app_key", env: "DD_APP_KEY", label: "Application key" },
    ]],
    settings: &[
        Setting { flag: "--site", help: "the Datadog site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, …)" },
        Setting { flag: "--endpoint", help: "the API's URL instead of the site's (a proxy, a stand-in)" },
    ],
    inventory: Support::Yes("API keys, application keys, personal and service access tokens, users"),
    check: Support::Yes("GET /api/v1/validate, then one read per permission the inventory needs"),
    verify_found: VerifyFound::Yes {
        kind: "api_key",
        call: "GET /api/v1/validate",
        endpoints: || super::SITES.iter().map(|s| format!("https://api.{s}")).collect(),
        probe,
    },
    rotation: Rotation {
        create: Support::No("Keyward does not rotate Datadog keys yet"),
        disable: Support::No("Datadog keys cannot be disabled, only deleted"),
        delete: Support::No("Keyward does not rotate Datadog keys yet"),
        limits: &[],
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let http = Http::new("datadog", r.http.clone(), &[r.token])?;
        let url = format!("{}/api/v1/validate", r.base);
        let answer = http
            .send_accepting("GET /api/v1/validate", &[401, 403], |c| c.get(&url).header("DD-API-KEY", r.token))
            .await?;
        Ok(if answer.status == 200 { Liveness::Live(None) } else { Liveness::Rejected })
    })
}
