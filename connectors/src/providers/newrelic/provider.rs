//! New Relic in the registry, and the liveness check of a New Relic user key found on disk.

use serde_json::{Value, json};

use crate::ConnectorError;
use crate::liveness::Liveness;
use crate::providers::{
    BoxFuture, Connect, Credential, Credentials, IsKey, ProbeRequest, Provider, Rotation, Rotator, Setting,
    SettingError, SettingKind, Settings, Source, Support, VerifyFound,
};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "newrelic",
    name: "New Relic",
    credentials: &[&[Credential {
        field: "api_key",
        env: "NEW_RELIC_API_KEY",
        label: "User key",
        is_key: IsKey::AnyKind,
    }]],
    settings: &[
        Setting {
            flag: "--region",
            key: "region",
            help: "the New Relic region: us, eu or jp",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--account-id",
            key: "account_ids",
            help: "an account to list (repeat; default: every account the key sees)",
            kind: SettingKind::Numbers,
        },
        Setting {
            flag: "--endpoint",
            key: "endpoint",
            help: "the NerdGraph URL instead of the region's (a proxy, a stand-in)",
            kind: SettingKind::Text,
        },
    ],
    inventory: Support::Yes("NerdGraph apiAccess.keySearch: user and ingest keys"),
    connect: Some(Connect { validate, open }),
    ids_in_files: &[],
    cloud_partition: None,
    check: Support::Yes("NerdGraph actor { user }, then a key search"),
    verify_found: VerifyFound::Yes {
        kind: "user_key",
        call: "NerdGraph actor { user }",
        endpoints: || super::REGIONS.iter().map(|(_, url)| (*url).to_owned()).collect(),
        probe,
        partner: None,
    },
    rotation: Rotation {
        kinds: &["user_key", "ingest_key"],
        create: Support::Yes(
            "apiAccessCreateKeys for the same account and user (or ingest type), named after the old key; a user key \
             is checked by signing NerdGraph in with it, an ingest key (which can only send data) by reading it back",
        ),
        disable: Support::No("New Relic keys cannot be disabled, only deleted: the old key works until it is"),
        delete: Support::Yes("apiAccessDeleteKeys (its per-key errors read)"),
        limits: &[
            "only the connector's own user's keys: New Relic shows a user key made for another user only truncated",
            "an account's original license key cannot be deleted (only New Relic support can): it is kept, and said so",
            "1,000 ingest keys of each type per account",
        ],
        keys_per_owner: None,
        settle: std::time::Duration::from_secs(30),
        open: Some(open_rotator),
        in_files: None,
        by_hand: None,
        asks_password: false,
    },
};

/// New Relic's settings, as stored.
#[derive(serde::Deserialize)]
struct Stored {
    region: Option<String>,
    #[serde(default)]
    account_ids: Vec<i64>,
    endpoint: Option<String>,
}

fn validate(s: &Settings) -> Result<(), SettingError> {
    let stored: Stored = s.read()?;
    match stored.region.as_deref() {
        Some(r) if !super::REGIONS.iter().any(|(x, _)| *x == r) => {
            Err(SettingError { field: "region", reason: format!("unknown New Relic region {r:?} (us, eu or jp)") })
        }
        _ => Ok(()),
    }
}

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Source>) })
}

/// The client of a connector's stored settings and credentials.
fn client(s: &Settings, c: &Credentials) -> Result<super::NewRelic, ConnectorError> {
    let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
    let settings = super::NewRelicSettings {
        region: stored.region.unwrap_or_else(|| "us".into()),
        account_ids: stored.account_ids,
        endpoint: stored.endpoint,
    };
    super::NewRelic::new(&settings, c.require(PROVIDER.id, "api_key")?)
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Rotator>) })
}

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let (http, token) = r.client(PROVIDER.id)?;
        let body = json!({"query": "{ actor { user { email } } }"});
        let answer = http
            .send_accepting("actor.user", &[401, 403], |c| {
                c.post(&r.base).header("API-Key", crate::http::credential(&token)).json(&body)
            })
            .await?;
        let v: Value = answer.json("newrelic")?;
        match v.pointer("/data/actor/user/email").and_then(Value::as_str) {
            Some(email) if answer.status == 200 => Ok(Liveness::Live(Some(email.to_owned()))),
            _ => Ok(Liveness::Rejected),
        }
    })
}
