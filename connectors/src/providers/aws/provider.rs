//! AWS IAM in the registry, and the liveness check of an AWS secret key found on disk.

use crate::liveness::Liveness;
use crate::providers::{
    BoxFuture, Connect, Credentials, InFiles, ProbeRequest, Provider, Rotation, Rotator, Setting, SettingError,
    SettingKind, Settings, Source, Support, VerifyFound,
};
use crate::{ConnectorError, ErrorKind};

/// See [`crate::providers`].
pub const PROVIDER: Provider = Provider {
    id: "aws",
    name: "AWS IAM",
    // The SDK's credential chain: environment, profile, SSO, instance role.
    credentials: &[],
    settings: &[
        Setting {
            flag: "--profile",
            key: "profile",
            help: "the named profile of ~/.aws/config to use",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--region",
            key: "region",
            help: "the region the SDK signs for (IAM is global)",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--endpoint",
            key: "endpoint",
            help: "the IAM/STS URL instead of AWS's (a stand-in)",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--organization",
            key: "organization",
            help: "every account of the AWS Organization the credentials manage, through a role in each",
            kind: SettingKind::Flag,
        },
        Setting {
            flag: "--role-name",
            key: "role_name",
            help: "with --organization: the role assumed in member accounts [default: OrganizationAccountAccessRole]",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--external-id",
            key: "external_id",
            help: "with --organization: the external id the role's trust policy requires",
            kind: SettingKind::Text,
        },
        Setting {
            flag: "--accounts",
            key: "accounts",
            help: "with --organization: only these account ids",
            kind: SettingKind::List,
        },
        Setting {
            flag: "--exclude-accounts",
            key: "exclude_accounts",
            help: "with --organization: not these account ids",
            kind: SettingKind::List,
        },
    ],
    inventory: Support::Yes(
        "IAM users' access keys (ListAccessKeys per user), their last use (the credential report) and their owners' \
         policies and groups (GetAccountAuthorizationDetails); with --organization, every account of the Organization \
         through a role in each",
    ),
    connect: Some(Connect { validate, open }),
    ids_in_files: &["access_key"],
    cloud_partition: Some(PARTITION),
    check: Support::Yes(
        "one read of each IAM call the inventory makes; with --organization, ListAccounts and AssumeRole into one \
         member account",
    ),
    // Probed only at AWS (or the configured endpoint): STS is global.
    verify_found: VerifyFound::Yes {
        kind: "secret_access_key",
        call: "STS GetCallerIdentity",
        endpoints: Vec::new,
        probe,
        partner: Some("access_key_id"),
    },
    rotation: Rotation {
        kinds: &["access_key"],
        create: Support::Yes("CreateAccessKey for the same user; verified with STS GetCallerIdentity"),
        disable: Support::Yes("UpdateAccessKey Status=Inactive (undone with Active)"),
        delete: Support::Yes("DeleteAccessKey"),
        limits: &["2 access keys per IAM user, inactive ones included"],
        keys_per_owner: Some(2),
        // Reported: 3-5 s typical, ~8 s, sometimes over 10 s.
        settle: std::time::Duration::from_secs(60),
        open: Some(open_rotator),
        // `~/.aws/credentials` and `config`, and environment files (`AWS_ACCESS_KEY_ID=`).
        in_files: Some(InFiles { id: &["aws_access_key_id"], secret: &["aws_secret_access_key"] }),
        by_hand: None,
        asks_password: false,
    },
};

fn probe<'a>(r: &'a ProbeRequest<'a>) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
    Box::pin(async move {
        let Some(id) = r.partner else {
            return Err(ConnectorError::new(
                "aws",
                ErrorKind::Config,
                "an AWS secret key is checked with its access key id, and none was found next to it",
            ));
        };
        super::caller_identity(id, r.token, r.endpoint).await
    })
}

/// The partition of commercial AWS, as reports name it.
pub(crate) const PARTITION: &str = "aws";

/// The settings both AWS providers store (API Gateway adds `regions`).
#[derive(serde::Deserialize)]
pub(crate) struct Stored {
    pub(crate) profile: Option<String>,
    pub(crate) region: Option<String>,
    #[serde(default)]
    pub(crate) regions: Vec<String>,
    pub(crate) endpoint: Option<String>,
    /// Every account of an organization, through a role in each.
    #[serde(default)]
    pub(crate) organization: bool,
    pub(crate) role_name: Option<String>,
    pub(crate) external_id: Option<String>,
    #[serde(default)]
    pub(crate) accounts: Vec<String>,
    #[serde(default)]
    pub(crate) exclude_accounts: Vec<String>,
}

impl Stored {
    /// The SDK settings. Fixed credentials only for a connector of the demo workspace (the mark
    /// is in its MAC-covered settings), given for this sync with the key its local stand-in
    /// accepts; AWS connectors store none, and every other uses the SDK's credential chain
    /// whatever it is handed.
    /// Which accounts of the organization, when it is one.
    pub(crate) fn organization(&self) -> Option<super::OrganizationSettings> {
        self.organization.then(|| super::OrganizationSettings {
            role_name: self.role_name.clone(),
            external_id: self.external_id.clone(),
            accounts: self.accounts.clone(),
            exclude_accounts: self.exclude_accounts.clone(),
        })
    }

    pub(crate) fn sdk(&self, s: &Settings, c: &Credentials) -> super::AwsSettings {
        super::AwsSettings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint.clone(),
            concurrency: 8,
            static_credentials: match (s.is_demo(), c.get("access_key_id"), c.get("secret_access_key")) {
                (true, Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
                _ => None,
            },
        }
    }
}

/// Region names of the right shape, and a profile one of the AWS files defines.
pub(crate) fn validate(s: &Settings) -> Result<(), SettingError> {
    let stored: Stored = s.read()?;
    for region in stored.region.iter().chain(&stored.regions) {
        if !is_region(region) {
            return Err(SettingError {
                field: "region",
                reason: format!("{region:?} is not an AWS region name (like us-east-1 or eu-central-1)"),
            });
        }
    }
    if let Some(profile) = &stored.profile {
        check_profile(profile)?;
    }
    check_organization(&stored)
}

/// The organization's options: only with `--organization`, and of the shapes IAM accepts.
fn check_organization(stored: &Stored) -> Result<(), SettingError> {
    let given = [
        ("role_name", stored.role_name.is_some()),
        ("external_id", stored.external_id.is_some()),
        ("accounts", !stored.accounts.is_empty()),
        ("exclude_accounts", !stored.exclude_accounts.is_empty()),
    ];
    if !stored.organization {
        if let Some((field, _)) = given.iter().find(|(_, set)| *set) {
            return Err(SettingError { field, reason: "applies only with --organization".into() });
        }
        return Ok(());
    }
    if let Some(role) = &stored.role_name {
        // IAM role names: 1-64 of letters, digits and +=,.@_-
        let ok = (1..=64).contains(&role.len())
            && role.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !ok {
            return Err(SettingError {
                field: "role_name",
                reason: format!("{role:?} is not an IAM role name (1-64 letters, digits and +=,.@_-)"),
            });
        }
    }
    if let Some(id) = &stored.external_id {
        // STS: 2-1224 characters of letters, digits and +=,.@:/-
        let ok = (2..=1224).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b));
        if !ok {
            return Err(SettingError {
                field: "external_id",
                reason: "an external id is 2-1224 letters, digits and +=,.@:/-_".into(),
            });
        }
    }
    for (field, ids) in [("accounts", &stored.accounts), ("exclude_accounts", &stored.exclude_accounts)] {
        if let Some(bad) = ids.iter().find(|id| !super::organization::is_account_id(id)) {
            return Err(SettingError { field, reason: format!("{bad:?} is not an AWS account id (12 digits)") });
        }
    }
    Ok(())
}

fn open<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>> {
    Box::pin(async move {
        let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        let sdk = stored.sdk(s, c);
        Ok(match stored.organization() {
            Some(org) => Box::new(super::AwsOrganization::connect(&sdk, org).await) as Box<dyn Source>,
            None => Box::new(super::AwsIam::connect(&sdk).await) as Box<dyn Source>,
        })
    })
}

fn open_rotator<'a>(s: &'a Settings, c: &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Rotator>, ConnectorError>> {
    Box::pin(async move {
        let stored: Stored = s.read().map_err(|e| e.at(PROVIDER.id))?;
        let sdk = stored.sdk(s, c);
        Ok(match stored.organization() {
            Some(org) => {
                Box::new(super::organization::OrganizationRotator::connect(&sdk, org).await) as Box<dyn Rotator>
            }
            None => Box::new(super::rotation::IamRotator::connect(&sdk).await) as Box<dyn Rotator>,
        })
    })
}

/// The shape of an AWS region name: `us-east-1`, `us-gov-west-1`, `cn-north-1`.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// Refuses a profile neither AWS file defines, instead of letting the SDK fall back to
/// instance metadata and fail with its own dump.
fn check_profile(profile: &str) -> Result<(), SettingError> {
    let home = std::env::home_dir().unwrap_or_default();
    let file = |var: &str, default: &str| {
        std::env::var_os(var).map(std::path::PathBuf::from).unwrap_or_else(|| home.join(".aws").join(default))
    };
    let (config, credentials) = (file("AWS_CONFIG_FILE", "config"), file("AWS_SHARED_CREDENTIALS_FILE", "credentials"));
    let defines = |path: &std::path::Path, headers: &[String]| {
        std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines().any(|l| {
                let l = l.trim();
                l.starts_with('[')
                    && l.ends_with(']')
                    && headers.iter().any(|h| l[1..l.len() - 1].split_whitespace().collect::<Vec<_>>().join(" ") == *h)
            })
        })
    };
    let mut headers = vec![format!("profile {profile}")];
    if profile == "default" {
        headers.push("default".into());
    }
    let in_config = defines(&config, &headers);
    if in_config || defines(&credentials, &[profile.to_owned()]) {
        return Ok(());
    }
    Err(SettingError {
        field: "profile",
        reason: format!("no profile named {profile:?} in {} or {}", config.display(), credentials.display()),
    })
}
