//! Datadog in the registry, and the liveness check of a Datadog API key found on disk.

use crate::ConnectorError;
use crate::liveness::Liveness;
use crate::providers::{
    BoxFuture, Connect, Credential, Credentials, IsKey, ProbeRequest, Provider, Rotation, Rotator, Setting,
    SettingError, SettingKind, Settings, Source, Support, VerifyFound,
};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "datadog",
    name: "Datadog",
    credentials: &[&[
        Credential { field: "api_key", env: "DD_API_KEY", label: "API key", is_key: IsKey::Kind("api_key") },
        Credential {
            field: "app_key",
            env: "DD_APP_KEY",
            label: "Application key",
            is_key: IsKey::Kind("application_key"),
        },
    ]],
    settings: &[
        Setting {
            flag: "--site",
            key: "site",
            help: "the Datadog site (datadoghq.com, datadoghq.eu, us3.datadoghq.com, …)",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--endpoint",
            key: "endpoint",
            help: "the API's URL instead of the site's (a proxy, a stand-in)",
            kind: SettingKind::Text,
        },
    ],
    inventory: Support::Yes("API keys, application keys, personal and service access tokens, users"),
    connect: Some(Connect { validate, open }),
    ids_in_files: &[],
    cloud_partition: None,
    check: Support::Yes("GET /api/v1/validate, then one read per permission the inventory needs"),
    verify_found: VerifyFound::Yes {
        kind: "api_key",
        call: "GET /api/v1/validate",
        endpoints: || super::SITES.iter().map(|s| format!("https://api.{s}")).collect(),
        probe,
        partner: None,
    },
    rotation: Rotation {
        kinds: &["api_key", "application_key"],
        create: Support::Yes(
            "API keys: POST /api/v2/api_keys with the old key's name, verified with GET /api/v1/validate; \
             application keys of the connector's own user or a service account: POST \
             /api/v2/current_user/application_keys or /api/v2/service_accounts/{id}/application_keys with the \
             old key's scopes, verified by a read made with the new key (a read-back of its last4 when its \
             scopes allow no such read)",
        ),
        disable: Support::No("Datadog keys cannot be disabled, only deleted: the old key works until it is"),
        delete: Support::Yes(
            "DELETE /api/v2/api_keys/{id}; application keys where they were made (current_user or the service account)",
        ),
        limits: &[
            "the org's maximum of API keys (meta.max_allowed)",
            "application keys only for the connector's own user or a service account (Datadog makes none for another person)",
        ],
        keys_per_owner: None,
        settle: std::time::Duration::from_secs(30),
        open: Some(open_rotator),
        in_files: None,
        by_hand: None,
        asks_password: false,
    },
};

/// Datadog's settings, as stored.
#[derive(serde::Deserialize)]
struct Stored {
    site: Option<String>,
    endpoint: Option<String>,
}

fn validate(s: &Settings) -> Result<(), SettingError> {
    let stored: Stored = s.read()?;
    match stored.site.as_deref() {
        Some(site) if !super::SITES.contains(&site) && stored.endpoint.is_none() => Err(SettingError {
            field: "site",
            reason: format!("unknown Datadog site {site:?} (one of {})", super::SITES.join(", ")),
        }),
        _ => Ok(()),
    }
}

/// The client of a connector's org.
fn client(s: &Settings, c: &Credentials) -> Result<super::Datadog, ConnectorError> {
    let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
    let settings = super::DatadogSettings {
        site: stored.site.unwrap_or_else(|| "datadoghq.com".into()),
        base_url: stored.endpoint,
    };
    super::Datadog::new(&settings, c.require(PROVIDER.id, "api_key")?, c.require(PROVIDER.id, "app_key")?)
}

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Source>) })
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Rotator>) })
}

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let (http, token) = r.client(PROVIDER.id)?;
        let url = format!("{}/api/v1/validate", r.base);
        let answer = http
            .send_accepting("GET /api/v1/validate", &[401, 403], |c| {
                c.get(&url).header("DD-API-KEY", crate::http::credential(&token))
            })
            .await?;
        Ok(if answer.status == 200 { Liveness::Live(None) } else { Liveness::Rejected })
    })
}
