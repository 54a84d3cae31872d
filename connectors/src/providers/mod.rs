//! The provider registry: one folder per provider (its client, its mapping to the model, its
//! liveness check and a README saying what it calls, what it needs and what it cannot tell) and
//! one line in [`REGISTRY`]. Everything outside the folder — the core's sync and validation, the
//! CLI's credential variables and help, the app's provider names and forms — asks the registry
//! instead of copying a provider's id and fields.
//!
//! A provider says what it can do as [`Support`]: done, and how; or not, and why — what a
//! provider's API lacks is declared and shown, never faked. The self-test below keeps the folders,
//! the registry and the conformance suite in agreement.

use std::future::Future;
use std::pin::Pin;

use crate::ConnectorError;
use crate::http::HttpSettings;
use crate::liveness::Liveness;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod aws_apigateway;
mod connection;
pub mod datadog;
pub mod fastly;
pub mod linear;
pub mod mongodb_atlas;
pub mod newrelic;
pub mod rotation;

pub use connection::{Connect, Credentials, DEMO, SettingError, Settings, Source};
pub use rotation::{Created, HeldKey, KeyRef, OpenRotator, Rotator, TYPED_PASSWORD};

/// Every provider, one line each; the order is the order users see.
pub const REGISTRY: &[&Provider] = &[
    #[cfg(feature = "aws")]
    &aws::PROVIDER,
    #[cfg(feature = "aws")]
    &aws_apigateway::PROVIDER,
    &datadog::PROVIDER,
    &mongodb_atlas::PROVIDER,
    &fastly::PROVIDER,
    &newrelic::PROVIDER,
    &linear::PROVIDER,
];

/// The provider with this id.
pub fn get(id: &str) -> Option<&'static Provider> {
    REGISTRY.iter().copied().find(|p| p.id == id)
}

/// A boxed future, for the probes' function pointers.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a provider is and can do.
#[derive(Debug)]
pub struct Provider {
    /// The stored id (`datadog`).
    pub id: &'static str,
    /// What users read (`Datadog`).
    pub name: &'static str,
    /// The credentials a connector needs: alternatives, each a set of fields (Atlas: an API key
    /// pair, or a service account). Empty: the provider's own credential chain (AWS).
    pub credentials: &'static [&'static [Credential]],
    /// The connector settings it reads, as the CLI's flags.
    pub settings: &'static [Setting],
    /// Listing keys through a connector.
    pub inventory: Support,
    /// How its connector is made (settings read and checked, client opened); `None` when it
    /// has none (its keys are registered by hand).
    pub connect: Option<Connect>,
    /// Kinds of its keys whose id (not the secret) is written beside the secret in files, so a
    /// found id points to the key (an AWS access key id, an Atlas public key).
    pub ids_in_files: &'static [&'static str],
    /// The cloud partition reports name for its resources (OCSF `cloud_partition`).
    pub cloud_partition: Option<&'static str>,
    /// `connector test`: what the connector's credentials may do.
    pub check: Support,
    /// Liveness of a key of this provider found on disk.
    pub verify_found: VerifyFound,
    /// What rotation can do at this provider (filled by the rotation work).
    pub rotation: Rotation,
}

/// One credential field.
#[derive(Debug)]
pub struct Credential {
    /// The field's name in the sealed credentials (`api_key`).
    pub field: &'static str,
    /// The environment variable the CLI reads it from (`DD_API_KEY`).
    pub env: &'static str,
    /// What users read ("API key").
    pub label: &'static str,
    /// Which inventoried key it is, so a scan that finds it on disk names the key.
    pub is_key: IsKey,
}

/// Which of the provider's inventoried keys a connector's credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsKey {
    /// A key of this kind (Datadog's `app_key` is an `application_key`), matched by its last four.
    Kind(&'static str),
    /// A key of any kind, matched by its last four (a New Relic user key is listed with its kind).
    AnyKind,
    /// None that the inventory lists (an Atlas private key: the inventory shows its public half).
    No,
}

/// One connector setting.
#[derive(Debug)]
pub struct Setting {
    /// The CLI flag (`--site`).
    pub flag: &'static str,
    /// Its key in the stored settings (`site`).
    pub key: &'static str,
    /// What it means for this provider.
    pub help: &'static str,
    /// What kind of value it holds, so a form can be generated from it.
    pub kind: SettingKind,
}

/// What kind of value a setting holds (the CLI's flag and the app's form field follow it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// One word or URL (`--site datadoghq.eu`).
    Text,
    /// Several words (`--regions eu-west-1,us-east-1`).
    List,
    /// Several whole numbers (`--account-id 1,2`).
    Numbers,
    /// On or off (`--organization`).
    Flag,
}

impl SettingKind {
    /// Its name for front ends (`text`, `list`, `numbers`, `flag`).
    pub fn name(self) -> &'static str {
        match self {
            SettingKind::Text => "text",
            SettingKind::List => "list",
            SettingKind::Numbers => "numbers",
            SettingKind::Flag => "flag",
        }
    }
}

/// Whether a provider's API allows something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Yes; how (the call made).
    Yes(&'static str),
    /// No; why (shown to the user).
    No(&'static str),
}

impl Support {
    /// Whether it is supported.
    pub fn is_supported(&self) -> bool {
        matches!(self, Support::Yes(_))
    }
}

/// The liveness check of a found key.
#[derive(Debug)]
pub enum VerifyFound {
    /// Keys of `kind` are checked with `call` by `probe`.
    Yes {
        /// The kind of found key that can be checked (`api_key`).
        kind: &'static str,
        /// The harmless read it makes (`GET /api/v1/validate`).
        call: &'static str,
        /// The provider's public endpoints, every one a key may belong to (Datadog's sites).
        endpoints: fn() -> Vec<String>,
        /// The check.
        probe: Probe,
        /// The kind of found key that must stand beside it (an AWS secret's access key id).
        partner: Option<&'static str>,
    },
    /// Found keys of this provider cannot be checked; why.
    No(&'static str),
}

/// What a probe is given.
pub struct ProbeRequest<'a> {
    /// The found token.
    pub token: &'a str,
    /// The key id found beside it (an AWS secret's access key id).
    pub partner: Option<&'a str>,
    /// The endpoint the user configured instead of the public ones (a proxy, a stand-in).
    pub endpoint: Option<&'a str>,
    /// The base URL this attempt goes to (one of [`VerifyFound::Yes::endpoints`] or `endpoint`).
    pub base: String,
    /// Timeouts and retries.
    pub http: HttpSettings,
}

impl ProbeRequest<'_> {
    /// What every probe starts with: the found token as a [`Secret`](keyward_secret::Secret),
    /// refused if a header cannot carry it, and an HTTP client that scrubs it from its errors.
    pub(crate) fn client(
        &self,
        provider: &'static str,
    ) -> Result<(crate::http::Http, keyward_secret::Secret), ConnectorError> {
        let token = keyward_secret::Secret::from(self.token);
        crate::http::check_credential(provider, "found key", &token)?;
        Ok((crate::http::Http::new(provider, self.http.clone(), &[self.token])?, token))
    }
}

/// One liveness check at one place.
pub type Probe = for<'a> fn(&'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>>;

/// What rotation can do at a provider.
#[derive(Debug)]
pub struct Rotation {
    /// The kinds of key Keyward rotates at this provider (`access_key`); empty: none.
    pub kinds: &'static [&'static str],
    /// Creating a new key beside the old one.
    pub create: Support,
    /// Disabling a key without deleting it (a grace period that can be undone).
    pub disable: Support,
    /// Deleting a key.
    pub delete: Support,
    /// Limits that shape a rotation ("2 access keys per IAM user").
    pub limits: &'static [&'static str],
    /// The most keys an owner may hold at once (`Some(2)` for IAM users), where there is a limit.
    pub keys_per_owner: Option<usize>,
    /// How long a new key may take to be accepted (IAM: seconds, sometimes over ten).
    pub settle: std::time::Duration,
    /// The rotation calls, made from a connector's settings and credentials.
    pub open: Option<OpenRotator>,
    /// How a key of this provider is written in the files that use it, for the hand-over: the
    /// names (case-insensitive) of the assignment holding its id and of the one holding its secret
    /// beside it (`aws_access_key_id` / `aws_secret_access_key`). `None`: files are listed for the
    /// user to update.
    pub in_files: Option<InFiles>,
    /// Where a user makes a new key by hand, for keys Keyward cannot make ("in Linear: Settings
    /// → Security & access → Personal API keys"); `None`: the provider's console.
    pub by_hand: Option<&'static str>,
    /// Whether making a key needs the user's password, typed for the rotation (Fastly's sudo
    /// mode): the scheduler only proposes such rotations.
    pub asks_password: bool,
}

/// The names a key's id and secret are assigned to in files (`name = value`, `NAME=value`).
#[derive(Debug)]
pub struct InFiles {
    /// The id's names.
    pub id: &'static [&'static str],
    /// The secret's names.
    pub secret: &'static [&'static str],
}

impl Rotation {
    /// Nothing rotated: the base of the providers whose `create`, `disable` and `delete` say why
    /// not (`Rotation { create: Support::No(..), .., ..Rotation::NONE }`).
    pub const NONE: Rotation = Rotation {
        kinds: &[],
        create: Support::No("not rotated"),
        disable: Support::No("not rotated"),
        delete: Support::No("not rotated"),
        limits: &[],
        keys_per_owner: None,
        settle: std::time::Duration::ZERO,
        open: None,
        in_files: None,
        by_hand: None,
        asks_password: false,
    };

    /// Opens the rotation calls for a connector of this provider.
    pub async fn open(
        &self,
        settings: &Settings,
        credentials: &Credentials,
    ) -> Result<Box<dyn Rotator>, ConnectorError> {
        match self.open {
            Some(open) => open(settings, credentials).await,
            None => Err(ConnectorError::new(
                "rotation",
                crate::ErrorKind::Unsupported,
                "this provider's keys are not rotated",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One folder per provider, one registry line per folder, ids unique.
    #[test]
    fn folders_and_registry_agree() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/providers");
        let mut folders: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        folders.sort();
        let mut ids: Vec<&str> = REGISTRY.iter().map(|p| p.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "provider ids are unique");
        if cfg!(feature = "aws") {
            assert_eq!(folders, ids, "a folder per registry line");
        }
        for p in REGISTRY {
            let readme = dir.join(p.id).join("README.md");
            let text = std::fs::read_to_string(&readme).unwrap_or_else(|_| panic!("{} has no README", p.id));
            for section in ["## Endpoints called", "## Rate limits", "## What the provider cannot tell"] {
                assert!(text.contains(section), "{}: no {section:?}", readme.display());
            }
            assert!(!p.name.is_empty());
            for set in p.credentials {
                for c in *set {
                    assert!(c.env.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'), "{}", c.env);
                }
            }
            for s in p.settings {
                assert!(s.flag.starts_with("--"), "{}", s.flag);
                assert_ne!(s.key, DEMO, "{}: the demo mark is no setting", p.id);
            }
            assert_eq!(
                p.connect.is_some(),
                p.inventory.is_supported(),
                "{}: a connector exactly when it lists keys",
                p.id
            );
        }
    }

    /// Every capability a provider declares has its case: the conformance suite (against the
    /// stand-ins) or the moto scenarios mark each test with `case: <id>:<capability>`.
    #[test]
    fn every_declared_capability_has_a_conformance_case() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut suites = String::new();
        for dir in [root.join("tests"), root.join("../tests/scenarios")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "rs") {
                    suites.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let cases: Vec<&str> = suites
            .lines()
            .filter_map(|l| {
                l.trim_start().strip_prefix("// case: ").or_else(|| l.trim_start().strip_prefix("/// case: "))
            })
            .flat_map(str::split_whitespace)
            .collect();
        let mut missing = Vec::new();
        for p in REGISTRY {
            let declared = [
                ("inventory", p.inventory.is_supported()),
                ("check", p.check.is_supported()),
                ("verify_found", matches!(p.verify_found, VerifyFound::Yes { .. })),
                ("create", p.rotation.create.is_supported()),
                ("disable", p.rotation.disable.is_supported()),
                ("delete", p.rotation.delete.is_supported()),
                ("by_hand", p.rotation.by_hand.is_some()),
            ];
            for (capability, yes) in declared {
                let case = format!("{}:{capability}", p.id);
                if yes && !cases.contains(&case.as_str()) {
                    missing.push(case);
                }
            }
        }
        assert!(missing.is_empty(), "declared without a conformance case: {missing:?}");
    }
}
