//! Rotating an Atlas service account's secret: `POST …/serviceAccounts/{clientId}/secrets` with
//! the old secret's lifetime, an OAuth token asked for with the new secret, `DELETE
//! …/secrets/{id}` of the old one after the grace period. Secrets cannot be disabled.
//!
//! Atlas's limits shape it: a service account holds two secrets at most, expired ones included
//! (Atlas does not delete them), so the engine makes room only by deleting an *expired* one, with
//! consent; two creates at once answer 409 (retried after a pause); and a new secret cuts every
//! other secret of the account to seven days at most, abort or not (the plan says so).
//!
//! Programmatic API keys are rotated in `api_key_rotation.rs`; the calls below send them there
//! by the key's kind.

use chrono::Utc;
use keyward_secret::Secret;
use serde_json::{Value, json};

use super::{Atlas, AtlasAuth, PROVIDER_ID, V_SERVICE_ACCOUNTS};
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind, time_of};

/// How often a create answered 409 (another change of the account under way) is tried again.
const BUSY_TRIES: u32 = 5;

/// A service account and its secrets, as Atlas lists them.
struct Account {
    client_id: String,
    secrets: Vec<Value>,
}

impl Atlas {
    /// The service account holding secret `secret_id`; `None` when no account holds it.
    async fn account_of(&self, secret_id: &str) -> Result<Option<Account>, ConnectorError> {
        let path = format!("/api/atlas/v2/orgs/{}/serviceAccounts", self.org);
        let accounts = self.pages(&path, V_SERVICE_ACCOUNTS).await?;
        Ok(accounts.into_iter().find_map(|sa| {
            let secrets = sa["secrets"].as_array().cloned().unwrap_or_default();
            secrets
                .iter()
                .any(|s| s["id"] == secret_id)
                .then(|| Account { client_id: sa["clientId"].as_str().unwrap_or_default().to_owned(), secrets })
        }))
    }

    async fn account_holding(&self, key: &KeyRef) -> Result<Account, ConnectorError> {
        self.account_of(&key.external_id).await?.ok_or_else(|| {
            ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::NotFound,
                format!("no service account of the organization holds secret {}", key.external_id),
            )
        })
    }
}

fn secret_path(org: &str, client_id: &str) -> String {
    format!("/api/atlas/v2/orgs/{org}/serviceAccounts/{client_id}/secrets")
}

/// The hours a successor of `old` lives: as long as the old one was made to (Atlas allows 8 to
/// 8,760), a year when that cannot be told.
fn lifetime_hours(old: &Value) -> i64 {
    match (time_of(&old["createdAt"]), time_of(&old["expiresAt"])) {
        (Some(c), Some(e)) => (e - c).num_hours().clamp(8, 8760),
        _ => 8760,
    }
}

/// The kind of a programmatic API key in the inventory.
const API_KEY: &str = "programmatic_api_key";

impl Rotator for Atlas {
    /// The secrets of the old secret's service account; expired ones are inactive (they still
    /// take one of the two places). For an API key, the keys of its lineage.
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            if old.kind == API_KEY {
                return self.api_keys_of(old).await;
            }
            let account = self.account_holding(old).await?;
            let now = Utc::now();
            Ok(account
                .secrets
                .iter()
                .filter_map(|s| {
                    Some(HeldKey {
                        external_id: s["id"].as_str()?.to_owned(),
                        active: time_of(&s["expiresAt"]).is_none_or(|e| e > now),
                        created_at: time_of(&s["createdAt"]),
                    })
                })
                .collect())
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            if old.kind == API_KEY {
                return self.create_api_key(old).await;
            }
            let account = self.account_holding(old).await?;
            let hours =
                account.secrets.iter().find(|s| s["id"] == old.external_id.as_str()).map_or(8760, lifetime_hours);
            let path = secret_path(&self.org, &account.client_id);
            let body = json!({"secretExpiresAfterHours": hours});
            let mut pause = std::time::Duration::from_secs(1);
            for attempt in 1..=BUSY_TRIES {
                let r = self.request("POST", &path, "", V_SERVICE_ACCOUNTS, Some(&body), &[409]).await?;
                if r.status == 409 && attempt < BUSY_TRIES {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    continue;
                }
                if r.status == 409 {
                    return Err(ConnectorError::new(
                        PROVIDER_ID,
                        ErrorKind::Provider,
                        format!("Atlas kept answering that the service account is being changed ({BUSY_TRIES} tries)"),
                    ));
                }
                let v: Value = r.json(PROVIDER_ID)?;
                let (Some(id), Some(secret)) = (v["id"].as_str(), v["secret"].as_str()) else {
                    return Err(ConnectorError::new(
                        PROVIDER_ID,
                        ErrorKind::Malformed,
                        "the new secret's answer has no id or no secret",
                    ));
                };
                return Ok(Created {
                    external_id: id.to_owned(),
                    secret: Secret::from(secret),
                    name: old.name.clone(),
                });
            }
            unreachable!("the loop returns on its last try")
        })
    }

    /// An OAuth token asked for with the account's id and the new secret.
    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            if old.kind == API_KEY {
                return self.verify_api_key(new_id, secret).await;
            }
            let account = self.account_holding(old).await?;
            let r = self.ask_token(&account.client_id, secret, &[400, 401]).await?;
            let token: Option<String> = (r.status == 200)
                .then(|| r.json::<Value>(PROVIDER_ID).ok())
                .flatten()
                .and_then(|v| v["access_token"].as_str().map(str::to_owned));
            Ok(if token.is_some() { Liveness::Live(None) } else { Liveness::Rejected })
        })
    }

    /// With a service account, every secret of that account: which one is the connector's can
    /// only be guessed from a masked value, and a new secret would cut the connector's own to 7
    /// days anyway. With an API key, that key.
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            let AtlasAuth::ServiceAccount { client_id, .. } = &self.auth else {
                return self.own_api_key().await;
            };
            let path = format!("/api/atlas/v2/orgs/{}/serviceAccounts", self.org);
            let accounts = self.pages(&path, V_SERVICE_ACCOUNTS).await?;
            Ok(accounts
                .iter()
                .filter(|sa| sa["clientId"] == client_id.as_str())
                .flat_map(|sa| sa["secrets"].as_array().cloned().unwrap_or_default())
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect())
        })
    }

    /// Deletes a secret; one no account holds any more is already deleted.
    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            if key.kind == API_KEY {
                return self.delete_api_key(key).await;
            }
            let Some(account) = self.account_of(&key.external_id).await? else {
                return Ok(());
            };
            let path = format!("{}/{}", secret_path(&self.org, &account.client_id), key.external_id);
            self.request("DELETE", &path, "", V_SERVICE_ACCOUNTS, None, &[404]).await?;
            Ok(())
        })
    }
}
