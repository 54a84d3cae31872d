//! Fastly in the registry, and the liveness check of a Fastly API token found on disk.

use serde_json::Value;

use crate::ConnectorError;
use crate::liveness::Liveness;
use crate::providers::{
    BoxFuture, Connect, Credential, Credentials, IsKey, ProbeRequest, Provider, Rotation, Rotator, Setting,
    SettingError, SettingKind, Settings, Source, Support, VerifyFound,
};

/// The public API.
pub const ENDPOINT: &str = "https://api.fastly.com";

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "fastly",
    name: "Fastly",
    credentials: &[&[Credential { field: "token", env: "FASTLY_API_TOKEN", label: "API token", is_key: IsKey::No }]],
    settings: &[Setting {
        flag: "--endpoint",
        key: "endpoint",
        help: "the API's URL instead of api.fastly.com (a proxy, a stand-in)",
        kind: SettingKind::Text,
    }],
    inventory: Support::Yes("user and automation tokens of the customer account"),
    connect: Some(Connect { validate, open }),
    ids_in_files: &[],
    cloud_partition: None,
    check: Support::Yes("GET /current_user, and whether the token sees the whole account"),
    verify_found: VerifyFound::Yes {
        kind: "api_token",
        call: "GET /current_user",
        endpoints: || vec![ENDPOINT.to_owned()],
        probe,
        partner: None,
    },
    rotation: Rotation {
        kinds: &["automation_token"],
        create: Support::Yes(
            "automation tokens: POST /sudo with your password (asked for, never stored), then POST \
             /automation-tokens with the old token's role, services, scope, TLS access and lifetime; verified \
             with GET /tokens/self. User tokens need their owner's password and one-time code: rotated by hand",
        ),
        disable: Support::No("Fastly tokens cannot be disabled, only revoked: the old token works until it is"),
        delete: Support::Yes("DELETE /automation-tokens/{id}"),
        limits: &["a superuser's token with the global scope, in sudo mode: your password for each rotation \
             (--password-stdin); impossible when the account forces SSO or MFA"],
        keys_per_owner: None,
        settle: std::time::Duration::from_secs(10),
        open: Some(open_rotator),
        in_files: None,
        by_hand: Some("in Fastly (Account → Personal API tokens → Create token; the same scope, services and expiry)"),
        asks_password: true,
    },
};

/// Fastly's settings, as stored.
#[derive(serde::Deserialize)]
struct Stored {
    endpoint: Option<String>,
}

fn validate(s: &Settings) -> Result<(), SettingError> {
    s.read::<Stored>().map(drop)
}

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move {
        let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        let settings = super::FastlySettings { base_url: stored.endpoint };
        Ok(Box::new(super::Fastly::new(&settings, c.require(PROVIDER.id, "token")?)?) as Box<dyn Source>)
    })
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move {
        let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        let settings = super::FastlySettings { base_url: stored.endpoint };
        let client = super::Fastly::new(&settings, c.require(PROVIDER.id, "token")?)?;
        let password = c.get(crate::providers::TYPED_PASSWORD).cloned();
        Ok(Box::new(super::rotation::FastlyRotator { client, password }) as Box<dyn Rotator>)
    })
}

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let (http, token) = r.client(PROVIDER.id)?;
        let url = format!("{}/current_user", r.base);
        let answer = http
            .send_accepting("GET /current_user", &[401, 403], |c| {
                c.get(&url).header("Fastly-Key", crate::http::credential(&token))
            })
            .await?;
        if answer.status != 200 {
            return Ok(Liveness::Rejected);
        }
        let v: Value = answer.json("fastly")?;
        Ok(Liveness::Live(v["login"].as_str().map(str::to_owned)))
    })
}
