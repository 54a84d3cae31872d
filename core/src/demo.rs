//! The demo workspace: a populated, meaningful inventory without any account. It connects one
//! connector per REST provider to the built-in stand-ins (`keyward-fakes`, started in-process),
//! registers Linear keys by hand, syncs and audits. Demo connectors are marked `demo` in their
//! settings; every later sync or test of them starts the stand-ins again, seeded from the
//! connector's creation time, so the estate ages like a real one and re-syncs see the same keys.
//!
//! AWS comes from a small Rust stand-in (IAM and API Gateway); tests use moto instead.
//!
//! The stand-ins (`keyward-fakes`, with its HTTP server) are linked only with the `demo` feature,
//! which the CLI and the app turn on; without it, `keyward-core` builds without them and a
//! demo connector found in a vault is refused with a clear error.

#[cfg(feature = "demo")]
use std::path::{Path, PathBuf};

#[cfg(feature = "demo")]
use chrono::{DateTime, Utc};
#[cfg(feature = "demo")]
use keyward_fakes::estate::{DEMO_KEYS, Estate, HAND_REGISTERED};

#[cfg(feature = "demo")]
use crate::Secret;
#[cfg(feature = "demo")]
use crate::connector::{self, Connector, ConnectorSettings, Credentials};
#[cfg(feature = "demo")]
use crate::inventory::{self, NewKey};
#[cfg(feature = "demo")]
use crate::vault::Vault;
#[cfg(feature = "demo")]
use crate::{Error, time};

#[cfg(feature = "demo")]
/// The demo's connectors: (name, provider).
pub use keyward_fakes::estate::DEMO_CONNECTORS as CONNECTORS;

#[cfg(feature = "demo")]
/// The running stand-ins for a demo workspace.
pub struct Demo {
    estate: Estate,
}

#[cfg(feature = "demo")]
impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Demo")
    }
}

#[cfg(feature = "demo")]
impl Demo {
    /// Starts the stand-ins seeded as of `anchor`.
    pub async fn start(anchor: DateTime<Utc>) -> Result<Self, Error> {
        let estate = Estate::start(anchor, DEMO_KEYS)
            .await
            .map_err(|source| Error::Io { what: "starting the demo stand-ins".into(), source })?;
        Ok(Self { estate })
    }

    /// `c` pointed at its stand-in, when it is a demo connector; `credentials` gain what the
    /// stand-in wants for this sync only (the AWS stand-in's fixed key).
    pub fn redirect(&self, c: &Connector, credentials: &mut Credentials) -> Connector {
        let mut c = c.clone();
        if !c.settings.is_demo() {
            return c;
        }
        let stand_in = self.estate.stand_in(&c.provider);
        for (key, value) in stand_in.settings {
            c.settings.set(key, value);
        }
        for (field, value) in stand_in.credentials {
            credentials.insert(field, Secret::new(value));
        }
        c
    }

    /// Where a hand-registered key of `provider` is checked in the demo: its stand-in.
    pub fn endpoint(&self, provider: &str) -> Option<String> {
        self.estate
            .stand_in(provider)
            .settings
            .into_iter()
            .find(|(k, _)| *k == "endpoint")?
            .1
            .as_str()
            .map(str::to_owned)
    }

    fn credentials(&self, provider: &str) -> Credentials {
        let mut c = Credentials::default();
        for (k, v) in self.estate.demo_credentials(provider) {
            c.insert(k, Secret::new(v.clone()));
        }
        c
    }
}

#[cfg(feature = "demo")]
fn anchor_of(connectors: &[Connector]) -> Option<DateTime<Utc>> {
    connectors.iter().filter(|c| c.settings.is_demo()).filter_map(|c| c.created_at).min()
}

#[cfg(feature = "demo")]
/// The stand-ins, when any of `connectors` is a demo connector.
pub async fn for_connectors(connectors: &[Connector]) -> Result<Option<Demo>, Error> {
    match anchor_of(connectors) {
        Some(anchor) => Ok(Some(Demo::start(anchor).await?)),
        None => Ok(None),
    }
}

#[cfg(feature = "demo")]
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
        let n = crate::store::row_count(vault.conn(), table)?;
        if n > 0 {
            held.push(format!("{n} {what}"));
        }
    }
    Ok((!held.is_empty()).then(|| held.join(", ")))
}

#[cfg(feature = "demo")]
/// Adds the demo connectors (once) and the hand-registered Linear keys; returns the stand-ins,
/// seeded as later syncs will seed them (from the connectors' creation time).
pub async fn populate(vault: &mut Vault) -> Result<Demo, Error> {
    let existing = connector::list(vault)?;
    if existing.iter().any(|c| !c.settings.is_demo()) {
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
        let mut settings = ConnectorSettings::default();
        for (key, value) in keyward_fakes::estate::demo_settings(provider) {
            settings.set(key, value);
        }
        settings.set(keyward_connectors::providers::DEMO, true);
        connector::add(vault, name, provider, &settings, &demo.credentials(provider))?;
    }
    let registered: Vec<String> =
        inventory::list(vault)?.into_iter().filter(|k| k.provider == HAND_REGISTERED).map(|k| k.name).collect();
    for (name, owner, secret, _) in &demo.estate.linear_keys {
        if registered.contains(name) {
            continue;
        }
        inventory::add_manual(
            vault,
            NewKey {
                provider: HAND_REGISTERED.into(),
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

#[cfg(feature = "demo")]
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

/// What a build without the demo workspace has in its place.
#[cfg(not(feature = "demo"))]
mod absent {
    use crate::Error;
    use crate::connector::{Connector, Credentials};

    /// No stand-ins in this build: the type has no value.
    #[derive(Debug)]
    pub enum Demo {}

    impl Demo {
        /// Never called: there is no `Demo`.
        pub fn redirect(&self, _: &Connector, _: &mut Credentials) -> Connector {
            match *self {}
        }

        /// Never called: there is no `Demo`.
        pub fn endpoint(&self, _: &str) -> Option<String> {
            match *self {}
        }
    }

    /// `None`, unless a demo connector is among `connectors`: then an error saying so.
    pub async fn for_connectors(connectors: &[Connector]) -> Result<Option<Demo>, Error> {
        match connectors.iter().find(|c| c.settings.is_demo()) {
            Some(c) => Err(Error::Unsupported(format!(
                "connector {} belongs to a demo workspace, and this build of Keyward has none \
                 (built without the `demo` feature)",
                c.name
            ))),
            None => Ok(None),
        }
    }
}

#[cfg(not(feature = "demo"))]
pub use absent::*;
