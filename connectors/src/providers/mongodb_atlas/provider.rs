//! MongoDB Atlas in the registry.

use crate::ConnectorError;
use crate::providers::{
    BoxFuture, Connect, Credential, Credentials, IsKey, Provider, Rotation, Rotator, Setting, SettingError,
    SettingKind, Settings, Source, Support, VerifyFound,
};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "mongodb_atlas",
    name: "MongoDB Atlas",
    credentials: &[
        &[
            Credential {
                field: "public_key",
                env: "MONGODB_ATLAS_PUBLIC_API_KEY",
                label: "Public key",
                is_key: IsKey::No,
            },
            Credential {
                field: "private_key",
                env: "MONGODB_ATLAS_PRIVATE_API_KEY",
                label: "Private key",
                is_key: IsKey::No,
            },
        ],
        &[
            Credential {
                field: "client_id",
                env: "MONGODB_ATLAS_CLIENT_ID",
                label: "Service account client id",
                is_key: IsKey::No,
            },
            Credential {
                field: "client_secret",
                env: "MONGODB_ATLAS_CLIENT_SECRET",
                label: "Service account secret",
                is_key: IsKey::No,
            },
        ],
    ],
    settings: &[
        Setting {
            flag: "--org-id",
            key: "org_id",
            help: "the Atlas organization id (required)",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--endpoint",
            key: "endpoint",
            help: "the Admin API's URL (Atlas for Government, a proxy, a stand-in)",
            kind: SettingKind::Text,
        },
    ],
    inventory: Support::Yes("the organization's API keys and service-account secrets, with access lists"),
    connect: Some(Connect { validate, open }),
    ids_in_files: &["api_key"],
    cloud_partition: None,
    check: Support::Yes("sign-in, then one page of the organization's API keys"),
    verify_found: VerifyFound::No(
        "an Atlas key is a public/private pair signed with HTTP Digest: one half found alone cannot be checked",
    ),
    rotation: Rotation {
        kinds: &["service_account_secret", "programmatic_api_key"],
        create: Support::Yes(
            "service-account secrets: POST …/serviceAccounts/{clientId}/secrets with the old secret's lifetime, \
             checked by asking an OAuth token with it; programmatic API keys: POST …/orgs/{orgId}/apiKeys with the \
             old key's org roles and a dated description, then its projects and access list, checked by a read \
             signed with it",
        ),
        disable: Support::No("Atlas keys and secrets cannot be disabled: the old one works until it is deleted"),
        delete: Support::Yes(
            "DELETE …/serviceAccounts/{clientId}/secrets/{secretId}; DELETE …/orgs/{orgId}/apiKeys/{id}",
        ),
        limits: &[
            "2 secrets per service account, expired ones included (only an expired one is deleted to make room)",
            "a new secret cuts the account's other secrets to 7 days at most, even if the rotation is aborted",
            "no two creates at once (409, tried again after a pause)",
            "an API key's check is made from this machine: an org access list without it fails the check (rolled back)",
        ],
        keys_per_owner: Some(2),
        settle: std::time::Duration::from_secs(30),
        open: Some(open_rotator),
        in_files: None,
        by_hand: None,
        asks_password: false,
    },
};

/// Atlas's settings, as stored.
#[derive(serde::Deserialize)]
struct Stored {
    org_id: Option<String>,
    endpoint: Option<String>,
}

fn validate(s: &Settings) -> Result<(), SettingError> {
    let stored: Stored = s.read()?;
    if stored.org_id.as_deref().is_none_or(|o| o.trim().is_empty()) {
        return Err(SettingError {
            field: "org_id",
            reason: "MongoDB Atlas needs the organization id (--org-id)".into(),
        });
    }
    Ok(())
}

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Source>) })
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move { Ok(Box::new(client(s, c)?) as Box<dyn Rotator>) })
}

/// The client of a connector's stored settings and credentials.
fn client(s: &Settings, c: &Credentials) -> Result<super::Atlas, ConnectorError> {
    use super::{Atlas, AtlasAuth, AtlasSettings};
    let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
    let id = PROVIDER.id;
    let auth = if c.get("client_id").is_some() {
        AtlasAuth::ServiceAccount {
            client_id: c.require(id, "client_id")?.expose().to_owned(),
            client_secret: c.require(id, "client_secret")?,
        }
    } else {
        AtlasAuth::ApiKey {
            public_key: c.require(id, "public_key")?.expose().to_owned(),
            private_key: c.require(id, "private_key")?,
        }
    };
    let settings = AtlasSettings { org_id: stored.org_id.unwrap_or_default(), base_url: stored.endpoint };
    Atlas::new(&settings, auth)
}
