//! AWS IAM access keys, through the official SDK.
//!
//! Why the SDK and not hand-rolled SigV4: the standard credential chain (env, profiles, SSO,
//! assume-role), the standard `AWS_ENDPOINT_URL` override, paginators and the SDK's retry with
//! backoff on throttling all come with it, and users expect Keyward to find credentials exactly
//! where the AWS CLI does.
//!
//! IAM is throttled per account, so the listing is shaped by its call count: every user's
//! policies and groups come from a few pages of GetAccountAuthorizationDetails, every key's last
//! use (and the root user's keys) from the credential report, and only ListAccessKeys — the one
//! source of key ids — is called per user, a bounded number at once. About one call per user in
//! all, where reading each user's policies and each key's last use made five.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{AttachedPolicy, StatusType, SummaryKeyType};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::{ConnectorError, ErrorKind, Inventory, KeyStatus, LastUse, OwnerFacts, Progress, RemoteKey};
use authorization::Authorization;
use credential_report::{CredentialReport, Placed};

const PROVIDER_ID: &str = provider::PROVIDER.id;

/// Every item of a paginated IAM list call, with errors classified under the operation's name.
macro_rules! all_items {
    ($request:expr, $operation:literal) => {
        $request.into_paginator().items().send().try_collect().await.map_err(|e| classify($operation, e))
    };
}
const ADMIN_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// How to reach one AWS account. Credentials are never stored here: they come from the standard
/// chain, selected by `profile`.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// A named profile from `~/.aws/config`; `None` uses the default chain.
    pub profile: Option<String>,
    /// The region for the IAM client; IAM is global, so this only picks the endpoint partition.
    pub region: Option<String>,
    /// An endpoint to use instead of AWS's (a VPC endpoint, an emulator). `AWS_ENDPOINT_URL`
    /// works too, through the SDK.
    pub endpoint_url: Option<String>,
    /// How many users are examined at once.
    pub concurrency: usize,
    /// Fixed credentials instead of the credential chain: only the demo workspace uses this,
    /// with the access key its local stand-in accepts. Real accounts always use the chain.
    pub static_credentials: Option<(keyward_secret::Secret, keyward_secret::Secret)>,
}

/// The SDK configuration as the AWS CLI would load it (env, profile, SSO, `AWS_ENDPOINT_URL`),
/// shared by every AWS connector.
pub(crate) async fn load_config(settings: &AwsSettings) -> aws_config::SdkConfig {
    let region = RegionProviderChain::first_try(settings.region.clone().map(aws_config::Region::new))
        .or_default_provider()
        .or_else("us-east-1");
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
    // Large accounts get throttled: retry more than the SDK's default 3 attempts, unless the
    // user chose a number (AWS_MAX_ATTEMPTS or the profile's max_attempts, read by the SDK).
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
        // Adaptive: the client also slows its own sending rate once throttled, instead of
        // only backing off each request.
        loader = loader.retry_config(RetryConfig::adaptive().with_max_attempts(6));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some((key, secret)) = &settings.static_credentials {
        loader = loader.credentials_provider(aws_sdk_iam::config::Credentials::new(
            key.expose(),
            secret.expose(),
            None,
            None,
            "keyward-demo",
        ));
    }
    loader.load().await
}

/// A connected IAM client.
pub struct AwsIam {
    client: Client,
    /// Every request this client sends, retries included.
    counter: calls::CallCounter,
    concurrency: usize,
    /// Managed policy ARN → whether it allows `*` on `*`; customer policies are shared by users.
    managed: Mutex<HashMap<String, bool>>,
    /// Group name → why it grants admin (or `None`); groups are shared by users.
    groups: Mutex<HashMap<String, Option<String>>>,
}

impl AwsIam {
    /// Loads the SDK configuration the way the AWS CLI would (env, profile, SSO,
    /// `AWS_ENDPOINT_URL`) and builds the client. No request is made yet.
    pub async fn connect(settings: &AwsSettings) -> Self {
        let config = load_config(settings).await;
        Self::from_conf(
            aws_sdk_iam::config::Builder::from(&config),
            calls::CallCounter::default(),
            settings.concurrency,
        )
    }

    /// A client of this configuration (an organization's member account, under its role),
    /// counting its requests in `counter`.
    fn from_conf(conf: aws_sdk_iam::config::Builder, counter: calls::CallCounter, concurrency: usize) -> Self {
        Self {
            client: Client::from_conf(conf.interceptor(counter.clone()).build()),
            counter,
            concurrency: concurrency.max(1),
            managed: Mutex::default(),
            groups: Mutex::default(),
        }
    }

    /// Checks the credentials and the IAM read permissions the inventory needs.
    pub async fn check(&self) -> Result<Vec<crate::Check>, ConnectorError> {
        let details = self
            .client
            .get_account_authorization_details()
            .filter(aws_sdk_iam::types::EntityType::User)
            .max_items(1)
            .send()
            .await;
        // ListAccessKeys is asked about a user the details named: without one it would ask for
        // the caller's own keys, which a role (or a user moto does not know) has none of.
        let first_user =
            details.as_ref().ok().and_then(|d| d.user_detail_list().first()?.user_name().map(str::to_owned));
        let keys = match first_user {
            Some(user) => self.client.list_access_keys().user_name(user).max_items(1).send().await.err(),
            None => None,
        };
        let outcomes = [
            (
                "iam:GetAccountAuthorizationDetails",
                details.err().map(|e| classify("GetAccountAuthorizationDetails", e)),
            ),
            ("iam:ListAccessKeys", keys.map(|e| classify("ListAccessKeys", e))),
            (
                "iam:GenerateCredentialReport",
                self.client
                    .generate_credential_report()
                    .send()
                    .await
                    .err()
                    .map(|e| classify("GenerateCredentialReport", e)),
            ),
        ];
        let mut checks = Vec::new();
        for (what, err) in outcomes {
            checks.push(match err {
                None => crate::Check { what: what.into(), ok: true, detail: "allowed".into() },
                Some(e) if e.kind == ErrorKind::Unauthenticated => {
                    return Ok(vec![crate::Check { what: "credentials".into(), ok: false, detail: e.message }]);
                }
                Some(e) if e.kind == ErrorKind::PermissionDenied => crate::Check {
                    what: what.into(),
                    ok: false,
                    detail: format!("{e}: allow {what} (the AWS managed policy IAMReadOnlyAccess covers every call)"),
                },
                Some(e) => return Err(e),
            });
        }
        Ok(checks)
    }

    /// Lists every IAM user's access keys with last use and the owner's admin status: the
    /// account's authorization details and credential report once, then `ListAccessKeys` per
    /// user (the only source of key ids), and `GetAccessKeyLastUsed` only for a key the report
    /// cannot place.
    pub async fn inventory(&self, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<Inventory, ConnectorError> {
        progress(Progress { phase: "authorization details", done: 0, total: None });
        let account = self.authorization().await?;
        progress(Progress { phase: "credential report", done: 0, total: None });
        let report = credential_report::fetch(&self.client).await?;
        let root_access_key = match report.as_ref().ok().and_then(CredentialReport::root_has_keys) {
            Some(has) => has,
            None => self.root_access_key().await?,
        };
        let account_id = account
            .users
            .first()
            .and_then(|u| u.arn())
            .and_then(account_from_arn)
            .or_else(|| report.as_ref().ok().and_then(|r| r.account_id.clone()));
        let total = account.users.len();
        progress(Progress { phase: "users", done: 0, total: Some(total) });

        let done = AtomicUsize::new(0);
        let asked = AtomicUsize::new(0);
        // The futures are built eagerly into a Vec: a stream of closures here would make the
        // caller's future fail the `Send` check (rust-lang/rust#64552), and they are lazy anyway.
        let mut tasks = Vec::with_capacity(total);
        for user in &account.users {
            let (done, asked, account, report) = (&done, &asked, &account, report.as_ref().ok());
            tasks.push(async move {
                let result = self.user(account, user, report, asked).await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress { phase: "users", done: n, total: Some(total) });
                result
            });
        }
        let per_user: Vec<(Vec<RemoteKey>, OwnerFacts)> =
            stream::iter(tasks).buffer_unordered(self.concurrency).try_collect().await?;

        let last_use = match &report {
            Ok(r) => serde_json::json!({
                "from": "credential report",
                "report_generated_at": r.generated_at.to_rfc3339(),
                "keys_asked_one_by_one": asked.load(Ordering::Relaxed),
            }),
            Err(why) => serde_json::json!({"from": "GetAccessKeyLastUsed, key by key", "why": why.0}),
        };
        let mut inventory = Inventory {
            account_id,
            root_access_key: Some(root_access_key),
            facts: serde_json::json!({ "last_use": last_use }),
            ..Default::default()
        };
        for (keys, owner) in per_user {
            inventory.keys.extend(keys);
            inventory.owners.push(owner);
        }
        inventory.keys.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        inventory.owners.sort_by(|a, b| a.name.cmp(&b.name));
        inventory.calls = self.counter.calls();
        Ok(inventory)
    }

    async fn root_access_key(&self) -> Result<bool, ConnectorError> {
        let summary = self.client.get_account_summary().send().await.map_err(|e| classify("GetAccountSummary", e))?;
        Ok(summary.summary_map().and_then(|m| m.get(&SummaryKeyType::AccountAccessKeysPresent)).is_some_and(|n| *n > 0))
    }

    /// One user's keys and what their owner may do. `asked` counts the keys whose last use the
    /// report could not tell.
    async fn user(
        &self,
        account: &Authorization,
        detail: &aws_sdk_iam::types::UserDetail,
        report: Option<&CredentialReport>,
        asked: &AtomicUsize,
    ) -> Result<(Vec<RemoteKey>, OwnerFacts), ConnectorError> {
        let user = detail.user_name().unwrap_or_default().to_owned();
        let metas: Vec<_> = all_items!(self.client.list_access_keys().user_name(&user), "ListAccessKeys")?;
        let (admin_via, policies) = self.grants(account, detail).await?;
        let created: Vec<Option<DateTime<Utc>>> = metas.iter().map(|m| m.create_date().and_then(to_chrono)).collect();
        let mut keys = Vec::with_capacity(metas.len());
        for (i, meta) in metas.iter().enumerate() {
            let Some(id) = meta.access_key_id() else { continue };
            let siblings: Vec<DateTime<Utc>> =
                created.iter().enumerate().filter(|(j, _)| *j != i).filter_map(|(_, c)| *c).collect();
            let last_used = match report.map(|r| r.place(&user, created[i], &siblings)) {
                Some(Placed::Yes(used)) => used,
                Some(Placed::No) | None => {
                    asked.fetch_add(1, Ordering::Relaxed);
                    self.last_used(id).await?
                }
            };
            keys.push(RemoteKey {
                external_id: id.to_owned(),
                name: id.to_owned(),
                owner: Some(user.clone()),
                status: match meta.status() {
                    Some(StatusType::Active) => KeyStatus::Active,
                    _ => KeyStatus::Inactive,
                },
                created_at: created[i],
                last_used,
                usage_tracked: true,
                expires_at: None,
                scopes: policies.normalised.clone(),
                raw_scopes: policies.raw.clone(),
                kind: "access_key",
                secret_readable: false,
                details: serde_json::json!({}),
            });
        }
        Ok((keys, OwnerFacts { name: user, admin_via, disabled: false }))
    }

    async fn last_used(&self, access_key_id: &str) -> Result<Option<LastUse>, ConnectorError> {
        let out = self
            .client
            .get_access_key_last_used()
            .access_key_id(access_key_id)
            .send()
            .await
            .map_err(|e| classify("GetAccessKeyLastUsed", e))?;
        Ok(out.access_key_last_used().and_then(|lu| {
            let at = lu.last_used_date().and_then(to_chrono)?;
            Some(LastUse { at, service: not_na(Some(lu.service_name())), region: not_na(Some(lu.region())) })
        }))
    }

    async fn group_admin_via(&self, group: &str) -> Result<Option<String>, ConnectorError> {
        if let Some(known) = self.groups.lock().expect("group cache poisoned").get(group) {
            return Ok(known.clone());
        }
        let attached: Vec<AttachedPolicy> =
            all_items!(self.client.list_attached_group_policies().group_name(group), "ListAttachedGroupPolicies")?;
        let mut reasons = self.attached_reasons(&attached).await?;
        let inline: Vec<String> = all_items!(self.client.list_group_policies().group_name(group), "ListGroupPolicies")?;
        for name in &inline {
            let doc = self
                .client
                .get_group_policy()
                .group_name(group)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| classify("GetGroupPolicy", e))?;
            reasons.extend(inline_reason(name, doc.policy_document()));
        }
        let why = (!reasons.is_empty()).then(|| reasons.join(", "));
        self.groups.lock().expect("group cache poisoned").insert(group.to_owned(), why.clone());
        Ok(why)
    }

    /// Why any of these attached managed policies makes its holder an administrator.
    async fn attached_reasons(&self, attached: &[AttachedPolicy]) -> Result<Vec<String>, ConnectorError> {
        let mut reasons = Vec::new();
        for policy in attached {
            if self.managed_is_admin(policy.policy_arn().unwrap_or_default()).await? {
                reasons.push(format!("attached policy {}", policy.policy_name().unwrap_or_default()));
            }
        }
        Ok(reasons)
    }

    /// Whether a managed policy grants administrator access: AWS's `AdministratorAccess`, or a
    /// customer policy whose default version allows `*` on `*`. Other AWS-managed policies are
    /// taken by their ARN and not fetched: AWS publishes none other that allows everything.
    async fn managed_is_admin(&self, arn: &str) -> Result<bool, ConnectorError> {
        if arn == ADMIN_POLICY_ARN {
            return Ok(true);
        }
        if arn.starts_with("arn:aws:iam::aws:") || arn.is_empty() {
            return Ok(false);
        }
        if let Some(known) = self.managed.lock().expect("policy cache poisoned").get(arn) {
            return Ok(*known);
        }
        let policy = self.client.get_policy().policy_arn(arn).send().await.map_err(|e| classify("GetPolicy", e))?;
        let version = policy.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_owned();
        let out = self
            .client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| classify("GetPolicyVersion", e))?;
        let admin = out.policy_version().and_then(|v| v.document()).is_some_and(document_allows_all);
        self.managed.lock().expect("policy cache poisoned").insert(arn.to_owned(), admin);
        Ok(admin)
    }
}

#[derive(Default)]
pub(crate) struct Policies {
    normalised: Vec<String>,
    raw: serde_json::Value,
}

impl Policies {
    fn push(&mut self, scope: String, raw: serde_json::Value) {
        self.normalised.push(scope);
        match &mut self.raw {
            serde_json::Value::Array(items) => items.push(raw),
            other => *other = serde_json::Value::Array(vec![raw]),
        }
    }
}

/// Why an inline policy makes its holder an administrator, if it does.
fn inline_reason(name: &str, document: &str) -> Option<String> {
    document_allows_all(document).then(|| format!("inline policy {name} allows * on *"))
}

/// Whether an IAM policy document has a statement that allows every action on every resource.
/// IAM returns documents URL-encoded (RFC 3986); a plain JSON document is accepted too.
pub fn document_allows_all(document: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&decoded) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.clone(),
        Some(one @ serde_json::Value::Object(_)) => vec![one.clone()],
        _ => return false,
    };
    let has_star = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s == "*",
        Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && s.get("Condition").is_none()
            && (has_star(s.get("Action")) || s.get("Action").and_then(|a| a.as_str()) == Some("*:*"))
            && has_star(s.get("Resource"))
    })
}

fn account_from_arn(arn: &str) -> Option<String> {
    arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_owned)
}

fn not_na(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty() && *s != "N/A").map(str::to_owned)
}

pub(crate) fn to_chrono(t: &aws_sdk_iam::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Maps an SDK error to a classified [`ConnectorError`], once for every IAM call.
pub(crate) fn classify<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ConnectorError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // The SDK reads the error code from IAM's `<ErrorResponse><Error>` shape. Emulators and
    // proxies sometimes wrap it differently (moto: `<Errors><Error>`); read the body then.
    let (code, message) = match (err.code(), err.raw_response()) {
        (Some(code), _) => (Some(code.to_owned()), err.message().map(str::to_owned)),
        (None, Some(raw)) => {
            let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
            (xml_text(&body, "Code"), xml_text(&body, "Message"))
        }
        (None, None) => (None, None),
    };
    let kind = match &err {
        SdkError::TimeoutError(_) => ErrorKind::Transport,
        SdkError::DispatchFailure(_) if DisplayErrorContext(&err).to_string().contains("credentials") => {
            ErrorKind::Config
        }
        SdkError::DispatchFailure(_) => ErrorKind::Transport,
        SdkError::ResponseError(_) => ErrorKind::Malformed,
        SdkError::ConstructionFailure(_) => ErrorKind::Config,
        _ => match code.as_deref() {
            Some(
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "IncompleteSignature"
                | "MissingAuthenticationToken"
                | "InvalidAccessKeyId",
            ) => ErrorKind::Unauthenticated,
            Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation") => ErrorKind::PermissionDenied,
            Some("Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded") => {
                ErrorKind::RateLimited
            }
            _ => ErrorKind::Provider,
        },
    };
    let detail = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => {
            // No code: a transport or parsing failure. Its context names the cause; keep it short.
            let context = DisplayErrorContext(&err).to_string();
            context.chars().take(300).collect()
        }
    };
    ConnectorError::new(PROVIDER_ID, kind, format!("{operation} failed: {detail}"))
}

/// The text of the first `<tag>` element in an XML body (error bodies are small and flat).
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..end].trim().to_owned()).filter(|s| !s.is_empty())
}

/// STS `GetCallerIdentity` with a found key pair: the one AWS call any valid key may make,
/// which reads nothing and needs no permission. `endpoint` replaces AWS's (`AWS_ENDPOINT_URL`
/// works too).
pub async fn caller_identity(
    access_key_id: &str,
    secret: &str,
    endpoint: Option<&str>,
) -> Result<crate::liveness::Liveness, ConnectorError> {
    use crate::liveness::Liveness;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            access_key_id,
            secret,
            None,
            None,
            "keyward-found-key",
        ));
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    let client = aws_sdk_sts::Client::new(&loader.load().await);
    match client.get_caller_identity().send().await {
        Ok(out) => Ok(Liveness::Live(out.arn().map(str::to_owned))),
        Err(e) => {
            // The SDK reads STS's `<ErrorResponse><Error>`; emulators and proxies wrap it
            // differently (moto: `<Errors><Error>`), so read the body when it found no code.
            let code = e
                .as_service_error()
                .and_then(|s| aws_sdk_sts::error::ProvideErrorMetadata::code(s).map(str::to_owned))
                .or_else(|| {
                    let body = e.raw_response()?.body().bytes().map(String::from_utf8_lossy)?.into_owned();
                    xml_text(&body, "Code")
                })
                .unwrap_or_default();
            if matches!(
                code.as_str(),
                "InvalidClientTokenId" | "SignatureDoesNotMatch" | "AccessDenied" | "ExpiredToken"
            ) {
                Ok(Liveness::Rejected)
            } else {
                Err(ConnectorError::new(
                    "aws",
                    ErrorKind::Transport,
                    format!("STS GetCallerIdentity: {}", aws_sdk_sts::error::DisplayErrorContext(&e)),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_on_star_is_admin_in_every_spelling() {
        assert!(document_allows_all(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#));
        assert!(document_allows_all(r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","*"],"Resource":["*"]}]}"#));
        // URL-encoded, as IAM returns inline documents.
        assert!(document_allows_all(
            "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"
        ));
    }

    #[test]
    fn narrower_or_denying_documents_are_not_admin() {
        assert!(!document_allows_all(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#));
        assert!(!document_allows_all(r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#));
        assert!(!document_allows_all(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}}"#));
        assert!(!document_allows_all("not json"));
    }

    #[test]
    fn error_codes_are_read_from_any_error_body_shape() {
        let moto = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>bad token</Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_text(moto, "Code").as_deref(), Some("InvalidClientTokenId"));
        assert_eq!(xml_text(moto, "Message").as_deref(), Some("bad token"));
        assert_eq!(xml_text("<html>502</html>", "Code"), None);
        assert_eq!(xml_text("<Code></Code>", "Code"), None);
    }

    #[test]
    fn account_is_read_from_a_user_arn() {
        assert_eq!(account_from_arn("arn:aws:iam::123456789012:user/alice").as_deref(), Some("123456789012"));
        assert_eq!(account_from_arn("garbage"), None);
    }
}

mod authorization;
mod calls;
mod credential_report;
mod organization;
pub(crate) mod provider;
mod rotation;
pub use organization::{AwsOrganization, DEFAULT_ROLE, OrganizationSettings};
pub use provider::PROVIDER;

crate::source_for!(AwsIam);
crate::source_for!(AwsOrganization);
