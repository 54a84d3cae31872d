//! The demo workspace: a populated, meaningful inventory without any account. It connects one
//! connector per REST provider to the built-in stand-ins (`keyward-fakes`, started in-process),
//! registers Linear keys by hand, syncs and audits. Demo connectors are marked `demo` in their
//! settings; every later sync or test of them starts the stand-ins again, seeded from the
//! connector's creation time, so the estate ages like a real one and re-syncs see the same keys.
//!
//! AWS comes from a small Rust stand-in (IAM and API Gateway); tests use moto instead.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use keyward_fakes::estate::{DEMO_KEYS, Estate};

use crate::connector::{self, Connector, ConnectorSettings, Credentials};
use crate::inventory::{self, NewKey};
use crate::secret::Secret;
use crate::vault::Vault;
use crate::{Error, time};

/// The demo's connectors: (name, provider).
pub const CONNECTORS: &[(&str, &str)] = &[
    ("demo-aws", "aws"),
    ("demo-apigateway", "aws_apigateway"),
    ("demo-datadog", "datadog"),
    ("demo-atlas", "mongodb_atlas"),
    ("demo-fastly", "fastly"),
    ("demo-newrelic", "newrelic"),
];

/// The running stand-ins for a demo workspace.
pub struct Demo {
    estate: Estate,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Demo")
    }
}

impl Demo {
    /// Starts the stand-ins seeded as of `anchor`.
    pub async fn start(anchor: DateTime<Utc>) -> Result<Self, Error> {
        let estate = Estate::start(anchor, DEMO_KEYS).await.map_err(|e| Error::Invalid {
            field: "demo",
            reason: format!("could not start the demo stand-ins: {e}"),
        })?;
        Ok(Self { estate })
    }

    /// `c` pointed at its stand-in, when it is a demo connector.
    pub fn redirect(&self, c: &Connector) -> Connector {
        let mut c = c.clone();
        if !c.settings.demo {
            return c;
        }
        let e = &self.estate;
        c.settings.endpoint = match c.provider.as_str() {
            "datadog" => Some(e.datadog.url()),
            "mongodb_atlas" => Some(e.atlas.url()),
            "fastly" => Some(e.fastly.url()),
            "aws" | "aws_apigateway" => Some(e.aws.url()),
            "newrelic" => {
                c.settings.account_ids = e.newrelic_accounts.clone();
                Some(format!("{}/graphql", e.newrelic.url()))
            }
            _ => c.settings.endpoint,
        };
        c
    }

    /// The Linear stand-in's base URL.
    pub fn linear_url(&self) -> String {
        self.estate.linear.url()
    }

    fn credentials(&self, provider: &str) -> Credentials {
        let e = &self.estate;
        let source = match provider {
            "aws" | "aws_apigateway" => return Credentials::default(),
            "datadog" => &e.datadog_credentials,
            "mongodb_atlas" => &e.atlas_credentials,
            "fastly" => &e.fastly_credentials,
            _ => &e.newrelic_credentials,
        };
        let mut c = Credentials::default();
        for (k, v) in &source.fields {
            c.insert(k, Secret::new(v.clone()));
        }
        c
    }
}

fn anchor_of(connectors: &[Connector]) -> Option<DateTime<Utc>> {
    connectors.iter().filter(|c| c.settings.demo).filter_map(|c| time::parse(&c.created_at)).min()
}

/// The stand-ins, when any of `connectors` is a demo connector.
pub async fn for_connectors(connectors: &[Connector]) -> Result<Option<Demo>, Error> {
    match anchor_of(connectors) {
        Some(anchor) => Ok(Some(Demo::start(anchor).await?)),
        None => Ok(None),
    }
}

/// What a vault without demo connectors already holds, in words, or `None` when it is empty.
fn contents(vault: &Vault) -> Result<Option<String>, Error> {
    let mut held = Vec::new();
    for (table, what) in [
        ("connectors", "connectors"),
        ("api_keys", "keys"),
        ("findings", "findings"),
        ("webhooks", "webhooks"),
        ("exposures", "exposures"),
        ("shadow_keys", "shadow keys"),
    ] {
        let n: i64 = vault.conn().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        if n > 0 {
            held.push(format!("{n} {what}"));
        }
    }
    Ok((!held.is_empty()).then(|| held.join(", ")))
}

/// Adds the demo connectors (once) and the hand-registered Linear keys; returns the stand-ins,
/// seeded as later syncs will seed them (from the connectors' creation time).
pub async fn populate(vault: &mut Vault) -> Result<Demo, Error> {
    let existing = connector::list(vault)?;
    if existing.iter().any(|c| !c.settings.demo) {
        return Err(Error::Conflict(
            "this home has real connectors; run the demo in its own home (--home DIR)".to_owned(),
        ));
    }
    // A vault with demo connectors is a demo workspace, refreshed; any other must be empty.
    if existing.is_empty()
        && let Some(held) = contents(vault)?
    {
        return Err(Error::Conflict(format!(
            "the vault at {} already holds {held}; the demo only goes into an empty home: \
             try `keyward --home /tmp/keyward-demo demo` (any new folder will do)",
            vault.path().display()
        )));
    }
    // Stored times have whole seconds: anchor on the same instant the new connectors will record.
    let anchor = anchor_of(&existing).unwrap_or_else(|| time::parse(&time::now_string()).expect("our own format"));
    let demo = Demo::start(anchor).await?;
    for (name, provider) in CONNECTORS {
        if existing.iter().any(|c| c.name == *name) {
            continue;
        }
        let settings = ConnectorSettings {
            demo: true,
            site: (*provider == "datadog").then(|| "datadoghq.com".to_owned()),
            org_id: (*provider == "mongodb_atlas").then(|| keyward_fakes::estate::ATLAS_ORG.to_owned()),
            region: match *provider {
                "newrelic" => Some("us".to_owned()),
                "aws" | "aws_apigateway" => Some("us-east-1".to_owned()),
                _ => None,
            },
            regions: if *provider == "aws_apigateway" { vec!["us-east-1".to_owned()] } else { Vec::new() },
            ..Default::default()
        };
        connector::add(vault, name, provider, &settings, &demo.credentials(provider))?;
    }
    let registered: Vec<String> =
        inventory::list(vault)?.into_iter().filter(|k| k.provider == "linear").map(|k| k.name).collect();
    for (name, owner, secret, _) in &demo.estate.linear_keys {
        if registered.contains(name) {
            continue;
        }
        inventory::add_manual(
            vault,
            NewKey {
                provider: "linear".into(),
                name: name.clone(),
                owner: Some(owner.clone()),
                expires_at: None,
                secret: Secret::new(secret.clone()),
            },
        )?;
    }
    // The clock may have ticked into the next second between the anchor and the inserts.
    match anchor_of(&connector::list(vault)?) {
        Some(stored) if stored != anchor => Demo::start(stored).await,
        _ => Ok(demo),
    }
}

/// The demo's project folder, in the demo home: what a first scan of a real laptop finds.
pub const PROJECT_DIR: &str = "demo-project";

/// Writes the demo project: a `.env` that still holds the revoked Linear CI key (a key Keyward
/// manages), tokens of providers Keyward does not connect (GitHub, Slack: shadow keys), and an
/// inventoried AWS access key id in Terraform (a consumer location, not a secret). The tokens
/// are made up, and say so.
pub fn write_project(home: &Path, demo: &Demo, aws_key_id: Option<&str>) -> std::io::Result<PathBuf> {
    let dir = home.join(PROJECT_DIR);
    std::fs::create_dir_all(dir.join("deploy"))?;
    std::fs::create_dir_all(dir.join("infra"))?;
    let old_ci = demo.estate.linear_keys.iter().find(|k| !k.3).map(|k| k.2.as_str()).unwrap_or_default();
    let fake = |prefix: &str, len: usize| format!("{prefix}{}", &"KeywardDemoNotARealToken0".repeat(8)[..len]);
    std::fs::write(
        dir.join(".env"),
        format!("# payments-service local settings\nLINEAR_API_KEY={old_ci}\nGITHUB_TOKEN={}\n", fake("ghp_", 36)),
    )?;
    std::fs::write(
        dir.join("deploy/notify.yml"),
        format!("notifications:\n  channel: '#deploys'\n  slack_bot_token: {}\n", fake("xoxb-", 40)),
    )?;
    if let Some(id) = aws_key_id {
        std::fs::write(
            dir.join("infra/provider.tf"),
            format!("provider \"aws\" {{\n  region     = \"us-east-1\"\n  access_key = \"{id}\"\n}}\n"),
        )?;
    }
    Ok(dir)
}
