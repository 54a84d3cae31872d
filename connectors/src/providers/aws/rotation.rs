//! Rotating an IAM user's access key: `CreateAccessKey` beside the old one, STS
//! `GetCallerIdentity` with the new pair until it answers as the same user (a new key takes
//! seconds to work, and there is no API to ask), `UpdateAccessKey Status=Inactive` on the old one
//! for the grace period, `DeleteAccessKey` after it. IAM allows two keys per user, inactive ones
//! included: the engine looks at [`Rotator::keys_of`] before it creates.

use aws_sdk_iam::Client;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::StatusType;
use keyward_secret::Secret;

use super::{AwsSettings, classify, load_config, to_chrono};
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind};

const PROVIDER_ID: &str = super::provider::PROVIDER.id;

/// The rotation calls of one AWS account.
pub(crate) struct IamRotator {
    client: Client,
    /// The connector's own credentials (the SDK's chain), to tell which key it signs in with.
    credentials: Option<aws_sdk_iam::config::SharedCredentialsProvider>,
    /// Where STS is asked about the new key (the connector's endpoint, or AWS's).
    endpoint: Option<String>,
}

impl IamRotator {
    pub(crate) async fn connect(settings: &AwsSettings) -> Self {
        let config = load_config(settings).await;
        Self {
            client: Client::new(&config),
            credentials: config.credentials_provider(),
            endpoint: settings.endpoint_url.clone(),
        }
    }

    /// The rotation calls of an organization's member account, through a role assumed in it
    /// (the connector signs in elsewhere, so no key here is its own).
    pub(crate) fn member(conf: aws_sdk_iam::config::Builder, endpoint: Option<String>) -> Self {
        Self { credentials: None, client: Client::from_conf(conf.build()), endpoint }
    }
}

fn user_of(key: &KeyRef) -> Result<&str, ConnectorError> {
    key.owner.as_deref().ok_or_else(|| {
        ConnectorError::new(PROVIDER_ID, ErrorKind::Config, "an access key without its IAM user cannot be rotated")
    })
}

impl Rotator for IamRotator {
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let user = user_of(old)?;
            let out = self
                .client
                .list_access_keys()
                .user_name(user)
                .send()
                .await
                .map_err(|e| classify("ListAccessKeys", e))?;
            Ok(out
                .access_key_metadata()
                .iter()
                .filter_map(|m| {
                    Some(HeldKey {
                        external_id: m.access_key_id()?.to_owned(),
                        active: m.status() == Some(&StatusType::Active),
                        created_at: m.create_date().and_then(to_chrono),
                    })
                })
                .collect())
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            let user = user_of(old)?;
            let out = self
                .client
                .create_access_key()
                .user_name(user)
                // Sent once: a retried create whose first answer was lost makes a second key.
                .customize()
                .config_override(
                    aws_sdk_iam::Config::builder().retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| classify("CreateAccessKey", e))?;
            let key = out.access_key().ok_or_else(|| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "CreateAccessKey answered without a key")
            })?;
            let id = key.access_key_id().to_owned();
            Ok(Created { name: id.clone(), external_id: id, secret: Secret::from(key.secret_access_key()) })
        })
    }

    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            let user = user_of(old)?;
            Ok(match super::caller_identity(new_id, secret.expose(), self.endpoint.as_deref()).await? {
                // The key must act as its user (`arn:aws:iam::123456789012:user/path/alice`): an
                // answer as anyone else is not this key working.
                Liveness::Live(Some(arn)) if arn.rsplit('/').next() == Some(user) && arn.contains(":user/") => {
                    Liveness::Live(Some(arn))
                }
                _ => Liveness::Rejected,
            })
        })
    }

    fn disable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(self.set_status(key, StatusType::Inactive))
    }

    fn enable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(self.set_status(key, StatusType::Active))
    }

    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            use aws_sdk_iam::config::ProvideCredentials;
            let Some(provider) = &self.credentials else { return Ok(Vec::new()) };
            let credentials = provider.provide_credentials().await.map_err(|e| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Config, format!("the connector's credentials: {e}"))
            })?;
            Ok(vec![credentials.access_key_id().to_owned()])
        })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let user = user_of(key)?;
            // `NoSuchEntity` also answers a wrong user name: ask IAM whose key it is first, so
            // a key that moved (a renamed user, an edited vault) is never reported deleted.
            match self.client.get_access_key_last_used().access_key_id(&key.external_id).send().await {
                Ok(out) if out.user_name().is_some_and(|owner| owner != user) => {
                    return Err(ConnectorError::new(
                        PROVIDER_ID,
                        ErrorKind::Config,
                        format!(
                            "key {} belongs to IAM user {:?}, not {user:?}: not deleted",
                            key.external_id,
                            out.user_name().unwrap_or_default()
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) if e.code() == Some("NoSuchEntity") => return Ok(()),
                Err(e) => return Err(classify("GetAccessKeyLastUsed", e)),
            }
            let sent = self.client.delete_access_key().user_name(user).access_key_id(&key.external_id).send().await;
            match sent {
                Ok(_) => Ok(()),
                // A key already gone: the delete is done.
                Err(e) if e.code() == Some("NoSuchEntity") => Ok(()),
                Err(e) => Err(classify("DeleteAccessKey", e)),
            }
        })
    }
}

impl IamRotator {
    async fn set_status(&self, key: &KeyRef, status: StatusType) -> Result<(), ConnectorError> {
        let user = user_of(key)?;
        self.client
            .update_access_key()
            .user_name(user)
            .access_key_id(&key.external_id)
            .status(status)
            .send()
            .await
            .map_err(|e| classify("UpdateAccessKey", e))?;
        Ok(())
    }
}
