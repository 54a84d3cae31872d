//! Every account of an AWS Organization through one connector.
//!
//! From the management (or a delegated-administrator) account, Organizations `ListAccounts`
//! names the member accounts; STS `AssumeRole` into a role of each (by default the
//! `OrganizationAccountAccessRole` AWS creates in accounts it makes) gives credentials that live
//! only in memory and are assumed again before they expire; each account's IAM is then read as a
//! single account would be, several accounts at once. The account the connector signs in as is
//! read with its own credentials; rotation goes to each key's account the same way. One account failing — its role missing, access denied — is
//! reported by name and leaves its keys as they were; the others go on.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_iam::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_organizations::types::AccountState;
use futures_util::{StreamExt, stream};

use super::calls::CallCounter;
use super::rotation::IamRotator;
use super::{AwsIam, AwsSettings, classify, load_config};
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{Calls, ConnectorError, ErrorKind, Inventory, Progress};

/// The role assumed in member accounts when none is named.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";
/// How many member accounts are read at once (IAM throttles per account, so accounts run side
/// by side; each still reads `concurrency` users at a time).
const ACCOUNTS_AT_ONCE: usize = 4;

/// Which accounts of the organization, and how to get into them.
#[derive(Debug, Clone, Default)]
pub struct OrganizationSettings {
    /// The role to assume in each member account.
    pub role_name: Option<String>,
    /// The external id the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// Only these account ids (empty: every account).
    pub accounts: Vec<String>,
    /// Never these account ids.
    pub exclude_accounts: Vec<String>,
}

/// One member account, as Organizations lists it.
#[derive(Debug, Clone)]
struct Member {
    id: String,
    name: String,
}

/// A connected organization.
pub struct AwsOrganization {
    settings: AwsSettings,
    organization: OrganizationSettings,
    config: aws_config::SdkConfig,
    /// The calls of the organization itself (ListAccounts, GetCallerIdentity, AssumeRole).
    counter: CallCounter,
}

impl AwsOrganization {
    /// Loads the SDK configuration as [`AwsIam::connect`] does; nothing is sent yet.
    pub async fn connect(settings: &AwsSettings, organization: OrganizationSettings) -> Self {
        Self {
            settings: settings.clone(),
            organization,
            config: load_config(settings).await,
            counter: CallCounter::default(),
        }
    }

    fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.config).interceptor(self.counter.clone()).build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.config).interceptor(self.counter.clone()).build(),
        )
    }

    /// The accounts to read and the ones left out (suspended, or excluded), with why.
    async fn members(&self) -> Result<(Vec<Member>, Vec<serde_json::Value>), ConnectorError> {
        let pages: Vec<_> = self
            .organizations()
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ListAccounts", e))?;
        let accounts = pages.iter().flat_map(|p| p.accounts());
        let wanted: BTreeSet<&str> = self.organization.accounts.iter().map(String::as_str).collect();
        let excluded: BTreeSet<&str> = self.organization.exclude_accounts.iter().map(String::as_str).collect();
        let (mut members, mut skipped) = (Vec::new(), Vec::new());
        let mut seen = BTreeSet::new();
        for a in accounts {
            let (Some(id), name) = (a.id(), a.name().unwrap_or_default()) else { continue };
            // Ids become owner prefixes (`<id>/<user>`) and role ARNs: only AWS's 12 digits, once.
            if !is_account_id(id) || !seen.insert(id.to_owned()) {
                continue;
            }
            // `State` replaces the retired `Status`; either says whether the account is active.
            let state = a.state().map(|s| s.as_str()).or_else(|| a.status().map(|s| s.as_str()));
            let why = if !wanted.is_empty() && !wanted.contains(id) {
                None // not asked for: not mentioned either
            } else if excluded.contains(id) {
                Some("excluded by the connector's settings".to_owned())
            } else if state != Some(AccountState::Active.as_str()) {
                Some(format!(
                    "{}: its IAM cannot be read",
                    state.map(str::to_ascii_lowercase).unwrap_or_else(|| "no state given".into())
                ))
            } else {
                members.push(Member { id: id.to_owned(), name: name.to_owned() });
                continue;
            };
            if let Some(why) = why {
                skipped.push(serde_json::json!({"account_id": id, "account_name": name, "skipped": why}));
            }
        }
        for id in &wanted {
            let listed = members.iter().any(|m| m.id == *id) || skipped.iter().any(|s| s["account_id"] == *id);
            if !listed {
                skipped.push(serde_json::json!({"account_id": id, "skipped": "not an account of this organization"}));
            }
        }
        Ok((members, skipped))
    }

    /// The credentials, `organizations:ListAccounts`, and `sts:AssumeRole` into the role of the
    /// first member account other than the connector's own.
    pub async fn check(&self) -> Result<Vec<crate::Check>, ConnectorError> {
        let own = match self.sts().get_caller_identity().send().await {
            Ok(out) => out.account().map(str::to_owned),
            Err(e) => {
                let e = classify("GetCallerIdentity", e);
                return Ok(vec![crate::Check { what: "credentials".into(), ok: false, detail: e.message }]);
            }
        };
        let mut checks = Vec::new();
        let members = match self.members().await {
            Ok((members, _)) => {
                checks.push(crate::Check {
                    what: "organizations:ListAccounts".into(),
                    ok: !members.is_empty(),
                    detail: format!("{} active accounts to read", members.len()),
                });
                members
            }
            Err(e) if e.kind == ErrorKind::PermissionDenied => {
                checks.push(crate::Check {
                    what: "organizations:ListAccounts".into(),
                    ok: false,
                    detail: format!("{e}: sign in as the management account or a delegated administrator"),
                });
                return Ok(checks);
            }
            Err(e) => return Err(e),
        };
        if let Some(member) = members.iter().find(|m| own.as_deref() != Some(m.id.as_str())) {
            let what = format!("sts:AssumeRole into account {} ({})", member.id, member.name);
            checks.push(match AssumedRole::assume(self, &member.id).await {
                Ok(_) => crate::Check { what, ok: true, detail: "allowed".into() },
                Err(e) if matches!(e.kind, ErrorKind::PermissionDenied | ErrorKind::Provider) => {
                    crate::Check { what, ok: false, detail: e.message }
                }
                Err(e) => return Err(e),
            });
        }
        Ok(checks)
    }

    /// Every member account's keys, owners named `account-id/user` (user names repeat across
    /// accounts), each key carrying its account's id and name.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        progress(Progress { phase: "organization accounts", done: 0, total: None });
        let (members, skipped) = self.members().await?;
        if members.is_empty() {
            // Reading nothing must not look like an organization whose keys were all deleted.
            return Err(ConnectorError::new(
                super::PROVIDER_ID,
                ErrorKind::Config,
                format!(
                    "no active account of the organization to read (left out: {})",
                    serde_json::Value::from(skipped)
                ),
            ));
        }
        let own = self
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| classify("GetCallerIdentity", e))?
            .account()
            .map(str::to_owned);
        let total = members.len();
        progress(Progress { phase: "accounts", done: 0, total: Some(total) });
        let done = AtomicUsize::new(0);
        let calls = Mutex::new(Calls::default());
        let mut tasks = Vec::with_capacity(total);
        for member in members {
            let (done, calls, own) = (&done, &calls, own.as_deref());
            tasks.push(async move {
                let counter = CallCounter::default();
                let result = self.account(&member, own == Some(member.id.as_str()), &counter).await;
                calls.lock().expect("calls poisoned").add(&counter.calls());
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress { phase: "accounts", done: n, total: Some(total) });
                (member, result)
            });
        }
        let results: Vec<_> = stream::iter(tasks).buffer_unordered(ACCOUNTS_AT_ONCE).collect().await;

        // Root users are judged per member account (`facts.accounts`), not for the connector.
        let mut inventory = Inventory { account_id: own, root_access_key: None, ..Default::default() };
        let mut accounts = skipped;
        let mut failures = Vec::new();
        for (member, result) in results {
            match result {
                Ok(account) => {
                    accounts.push(serde_json::json!({
                        "account_id": member.id,
                        "account_name": member.name,
                        "keys": account.keys.len(),
                        "users": account.owners.len(),
                        "root_access_key": account.root_access_key,
                        "last_use": account.facts["last_use"],
                    }));
                    merge(&mut inventory, account, &member);
                }
                Err(e) => {
                    accounts.push(serde_json::json!({
                        "account_id": member.id, "account_name": member.name, "failed": e.message,
                    }));
                    inventory.unreached.push(member.id.clone());
                    inventory.warnings.push(format!("account {} ({}): {}", member.id, member.name, e.message));
                    failures.push(e);
                }
            }
        }
        if failures.len() == total {
            let first = failures.swap_remove(0);
            return Err(ConnectorError::new(
                super::PROVIDER_ID,
                first.kind,
                format!("no account of the organization could be read; the first: {}", inventory.warnings[0]),
            ));
        }
        accounts.sort_by(|a, b| a["account_id"].as_str().cmp(&b["account_id"].as_str()));
        inventory.keys.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        inventory.owners.sort_by(|a, b| a.name.cmp(&b.name));
        inventory.facts = serde_json::json!({"organization": true, "accounts": accounts});
        let mut all = calls.into_inner().expect("calls poisoned");
        all.add(&self.counter.calls());
        inventory.calls = all;
        Ok(inventory)
    }

    /// One member account's inventory, through its role (or the connector's own credentials
    /// for the account it signs in as).
    async fn account(&self, member: &Member, own: bool, counter: &CallCounter) -> Result<Inventory, ConnectorError> {
        let mut conf = aws_sdk_iam::config::Builder::from(&self.config);
        if !own {
            let role = AssumedRole::assume(self, &member.id).await?;
            conf = conf.credentials_provider(SharedCredentialsProvider::new(role));
        }
        AwsIam::from_conf(conf, counter.clone(), self.settings.concurrency).inventory(&|_| {}).await
    }
}

/// Rotation in an organization: each key's owner is `<account id>/<user>`, so each call goes to
/// the key's account — the connector's own with its credentials, a member through its role —
/// as that account's [`IamRotator`] with the plain user name.
pub(crate) struct OrganizationRotator {
    org: AwsOrganization,
    /// The account the connector signs in as, once asked.
    own: tokio::sync::OnceCell<(Option<String>, std::sync::Arc<IamRotator>)>,
    /// Member accounts' rotators, by account id (their roles assumed once).
    members: tokio::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<IamRotator>>>,
}

impl OrganizationRotator {
    pub(crate) async fn connect(settings: &AwsSettings, organization: OrganizationSettings) -> Self {
        Self {
            org: AwsOrganization::connect(settings, organization).await,
            own: tokio::sync::OnceCell::new(),
            members: tokio::sync::Mutex::default(),
        }
    }

    async fn own(&self) -> Result<&(Option<String>, std::sync::Arc<IamRotator>), ConnectorError> {
        self.own
            .get_or_try_init(|| async {
                let own =
                    self.org.sts().get_caller_identity().send().await.map_err(|e| classify("GetCallerIdentity", e))?;
                let rotator = IamRotator::connect(&self.org.settings).await;
                Ok((own.account().map(str::to_owned), std::sync::Arc::new(rotator)))
            })
            .await
    }

    /// The key's account's rotator, and the key as that account names it.
    async fn at(&self, key: &KeyRef) -> Result<(std::sync::Arc<IamRotator>, KeyRef), ConnectorError> {
        let parts = key.owner.as_deref().and_then(|o| o.split_once('/'));
        let Some((account, user)) = parts.filter(|(account, _)| is_account_id(account)) else {
            return Err(ConnectorError::new(
                super::PROVIDER_ID,
                ErrorKind::Config,
                format!("key {} has no owner of the form <account id>/<user>: not rotated", key.external_id),
            ));
        };
        let settings = &self.org.organization;
        if settings.exclude_accounts.iter().any(|a| a == account)
            || (!settings.accounts.is_empty() && !settings.accounts.iter().any(|a| a == account))
        {
            return Err(ConnectorError::new(
                super::PROVIDER_ID,
                ErrorKind::Config,
                format!("account {account} is not one this connector reads: key {} not rotated", key.external_id),
            ));
        }
        let local = KeyRef { owner: Some(user.to_owned()), ..key.clone() };
        let (own_id, own) = self.own().await?;
        if own_id.as_deref() == Some(account) {
            return Ok((own.clone(), local));
        }
        let mut members = self.members.lock().await;
        if let Some(rotator) = members.get(account) {
            return Ok((rotator.clone(), local));
        }
        let role = AssumedRole::assume(&self.org, account).await?;
        let conf = aws_sdk_iam::config::Builder::from(&self.org.config)
            .credentials_provider(SharedCredentialsProvider::new(role));
        let rotator = std::sync::Arc::new(IamRotator::member(conf, self.org.settings.endpoint_url.clone()));
        members.insert(account.to_owned(), rotator.clone());
        Ok((rotator, local))
    }
}

impl Rotator for OrganizationRotator {
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(old).await?;
            rotator.keys_of(&key).await
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(old).await?;
            rotator.create(&key).await
        })
    }

    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a keyward_secret::Secret,
    ) -> BoxFuture<'a, Result<crate::liveness::Liveness, ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(old).await?;
            let account = old.owner.as_deref().and_then(|o| o.split_once('/')).map(|(a, _)| a).unwrap_or_default();
            // The new key must act as its user in the key's own account.
            Ok(match rotator.verify(&key, new_id, secret).await? {
                crate::liveness::Liveness::Live(Some(arn)) if arn.contains(&format!(":iam::{account}:user/")) => {
                    crate::liveness::Liveness::Live(Some(arn))
                }
                _ => crate::liveness::Liveness::Rejected,
            })
        })
    }

    fn disable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(key).await?;
            rotator.disable(&key).await
        })
    }

    fn enable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(key).await?;
            rotator.enable(&key).await
        })
    }

    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move { self.own().await?.1.signs_in_with().await })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let (rotator, key) = self.at(key).await?;
            rotator.delete(&key).await
        })
    }
}

/// AWS's account ids: twelve digits.
pub(crate) fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Adds one account's inventory to the organization's.
fn merge(into: &mut Inventory, account: Inventory, member: &Member) {
    let qualify = |user: &str| format!("{}/{user}", member.id);
    for mut key in account.keys {
        key.owner = key.owner.as_deref().map(qualify);
        key.details = serde_json::json!({"account_id": member.id, "account_name": member.name});
        into.keys.push(key);
    }
    for mut owner in account.owners {
        owner.name = qualify(&owner.name);
        into.owners.push(owner);
    }
}

/// Credentials of a role in a member account, assumed again shortly before they expire. They
/// are held only in memory, and its `Debug` shows only the role.
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    arn: String,
    external_id: Option<String>,
    /// The first credentials, assumed before the account is read so that a missing role is a
    /// clear error; later ones are assumed as the SDK's cache asks for them.
    first: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    async fn assume(org: &AwsOrganization, account: &str) -> Result<Self, ConnectorError> {
        let role = org.organization.role_name.as_deref().unwrap_or(DEFAULT_ROLE);
        let mut this = Self {
            sts: org.sts(),
            arn: format!("arn:aws:iam::{account}:role/{role}"),
            external_id: org.organization.external_id.clone(),
            first: Mutex::new(None),
        };
        this.first = Mutex::new(Some(this.call().await?));
        Ok(this)
    }

    async fn call(&self) -> Result<Credentials, ConnectorError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.arn)
            .role_session_name("keyward")
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|e| {
                let e = classify("AssumeRole", e);
                ConnectorError::new(e.provider, e.kind, format!("{} ({})", e.message, self.arn))
            })?;
        let c = out.credentials().ok_or_else(|| {
            ConnectorError::new(super::PROVIDER_ID, ErrorKind::Malformed, "AssumeRole answered without credentials")
        })?;
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "keyward-assume-role",
        ))
    }
}

impl std::fmt::Debug for AssumedRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumedRole").field("arn", &self.arn).finish_non_exhaustive()
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            if let Some(first) = self.first.lock().expect("role poisoned").take() {
                return Ok(first);
            }
            self.call().await.map_err(aws_credential_types::provider::error::CredentialsError::provider_error)
        })
    }
}
