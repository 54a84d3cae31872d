//! Rotating Datadog keys. Neither kind can be disabled: the old key keeps working through the
//! grace period.
//! - **API key**: `POST /api/v2/api_keys` with the old key's name and a `(rotated)` mark,
//!   `GET /api/v1/validate` with the new key, `DELETE /api/v2/api_keys/{id}` of the old one.
//! - **Application key**: Datadog makes one only for the caller (the connector's own user) or a
//!   service account, so only those keys are rotated; another person's key is refused with why.
//!   The new key gets the old one's scopes (`POST /api/v2/current_user/application_keys` or
//!   `/api/v2/service_accounts/{id}/application_keys`). It is checked by a read made with it
//!   (the connector's API key and the new application key reading the new key itself from
//!   `current_user`), which a key scoped without `user_app_keys` may not make: such a key is
//!   read back through the connector instead (its `last4` against the sealed secret). The old key
//!   is deleted where it was made.

use keyward_secret::Secret;
use serde_json::{Value, json};

use super::Datadog;
use crate::http;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind};

const PROVIDER_ID: &str = super::provider::PROVIDER.id;
/// What a rotated key's name ends with.
const MARK: &str = " (rotated)";

/// The name a key rotated from `name` gets (the mark is not repeated).
fn rotated_name(name: &str) -> String {
    format!("{}{MARK}", name.strip_suffix(MARK).unwrap_or(name))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Result<&'a str, ConnectorError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, format!("the answer has no {pointer}")))
}

/// The kind of an application key in the inventory.
const APP_KEY: &str = "application_key";

/// Where a Datadog application key is made and deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AppKeyHome {
    /// The connector's own user's keys (`/api/v2/current_user/application_keys`).
    CurrentUser,
    /// A service account's keys (`/api/v2/service_accounts/{id}/application_keys`).
    ServiceAccount(String),
}

impl AppKeyHome {
    fn path(&self) -> String {
        match self {
            Self::CurrentUser => "/api/v2/current_user/application_keys".into(),
            Self::ServiceAccount(id) => format!("/api/v2/service_accounts/{id}/application_keys"),
        }
    }

    /// The path as the API's reference writes it (for errors).
    fn template(&self) -> &'static str {
        match self {
            Self::CurrentUser => "/api/v2/current_user/application_keys",
            Self::ServiceAccount(_) => "/api/v2/service_accounts/{id}/application_keys",
        }
    }
}

/// An application key as the rotation needs it.
struct AppKey {
    /// Where its successor is made, or why it cannot be.
    home: Result<AppKeyHome, String>,
    /// Its scopes (`null`: every permission of its owner).
    scopes: Value,
}

/// Which org listing a kind of key is in.
fn listing(kind: &str) -> &'static str {
    if kind == APP_KEY { "/api/v2/application_keys" } else { "/api/v2/api_keys" }
}

impl Datadog {
    fn with_pair(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        r.header("DD-API-KEY", http::credential(&self.api_key))
            .header("DD-APPLICATION-KEY", http::credential(&self.app_key))
    }

    /// The application key `id` with its owner: where its successor would be made. `None`: gone.
    async fn app_key(&self, id: &str) -> Result<Option<AppKey>, ConnectorError> {
        let url = format!("{}/api/v2/application_keys/{id}", self.base);
        let answer = self
            .http
            .send_accepting("GET /api/v2/application_keys/{id}", &[404], |c| {
                self.with_pair(c.get(&url).query(&[("include", "owned_by")]))
            })
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        let v: Value = answer.json(PROVIDER_ID)?;
        let owner = str_at(&v, "/data/relationships/owned_by/data/id")?.to_owned();
        let person = v["included"].as_array().and_then(|i| i.iter().find(|u| u["id"] == owner.as_str()));
        let service_account = person.and_then(|u| u.pointer("/attributes/service_account")).and_then(Value::as_bool);
        // `null` is every permission of the owner; an answer without the field says nothing, and
        // must not make the successor an unscoped key.
        let scopes = v.pointer("/data/attributes/scopes").cloned().ok_or_else(|| {
            ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "the application key has no scopes field")
        })?;
        if service_account == Some(true) {
            return Ok(Some(AppKey { home: Ok(AppKeyHome::ServiceAccount(owner)), scopes }));
        }
        // The connector's own user's keys are the ones `current_user` lists.
        let mine = match self.pages("/api/v2/current_user/application_keys", &[]).await {
            Ok((keys, _)) => keys.iter().any(|k| k["id"] == id),
            Err(e) if e.kind == ErrorKind::PermissionDenied => {
                return Ok(Some(AppKey {
                    home: Err("the connector's application key lacks user_app_keys, so Keyward cannot tell whether \
                               this key is its own user's (the only person's keys Datadog lets it make)"
                        .into()),
                    scopes,
                }));
            }
            Err(e) => return Err(e),
        };
        let who = person
            .and_then(|u| u.pointer("/attributes/email").and_then(Value::as_str))
            .unwrap_or(owner.as_str())
            .to_owned();
        let home = if mine {
            Ok(AppKeyHome::CurrentUser)
        } else {
            Err(format!(
                "Datadog makes application keys only for the caller or a service account: {who}'s key is rotated by \
                 {who} (or give a service account the access instead)"
            ))
        };
        Ok(Some(AppKey { home, scopes }))
    }

    async fn create_app_key(&self, old: &KeyRef) -> Result<Created, ConnectorError> {
        let key = self.app_key(&old.external_id).await?.ok_or_else(|| {
            ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::NotFound,
                format!("application key {} is gone", old.external_id),
            )
        })?;
        let home = key.home.map_err(|why| ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, why))?;
        let name = rotated_name(&old.name);
        let mut attributes = json!({"name": name});
        if !key.scopes.is_null() {
            attributes["scopes"] = key.scopes;
        }
        let body = json!({"data": {"type": "application_keys", "attributes": attributes}});
        let url = format!("{}{}", self.base, home.path());
        let answer = self
            .http
            .send_once(&format!("POST {}", home.template()), &[], |c| self.with_pair(c.post(&url).json(&body)))
            .await?;
        let v: Value = answer.json(PROVIDER_ID)?;
        let secret = Secret::from(str_at(&v, "/data/attributes/key")?);
        Ok(Created { external_id: str_at(&v, "/data/id")?.to_owned(), secret, name })
    }

    /// Checks a new application key: a read made with it where its scopes allow one, else a
    /// read-back of its `last4` through the connector.
    async fn verify_app_key(&self, new_id: &str, secret: &Secret) -> Result<Liveness, ConnectorError> {
        http::check_credential(PROVIDER_ID, "new application key", secret)?;
        let scopes = match self.app_key(new_id).await? {
            Some(k) => k.scopes,
            None => return Ok(Liveness::Rejected),
        };
        let can_read_itself = match &scopes {
            Value::Array(s) => s.iter().any(|s| s == "user_app_keys"),
            _ => true,
        };
        if can_read_itself {
            let url = format!("{}/api/v2/current_user/application_keys/{new_id}", self.base);
            let answer = self
                .http
                .scrubbing(&[secret.expose()])?
                .send_accepting("GET /api/v2/current_user/application_keys/{id}", &[401, 403, 404], |c| {
                    c.get(&url)
                        .header("DD-API-KEY", http::credential(&self.api_key))
                        .header("DD-APPLICATION-KEY", http::credential(secret))
                })
                .await?;
            return Ok(if answer.status == 200 { Liveness::Live(None) } else { Liveness::Rejected });
        }
        let url = format!("{}/api/v2/application_keys/{new_id}", self.base);
        let answer = self
            .http
            .send_accepting("GET /api/v2/application_keys/{id}", &[404], |c| self.with_pair(c.get(&url)))
            .await?;
        if answer.status == 404 {
            return Ok(Liveness::Rejected);
        }
        let v: Value = answer.json(PROVIDER_ID)?;
        let last4 = str_at(&v, "/data/attributes/last4")?;
        Ok(if secret.expose().ends_with(last4) && last4.len() == 4 { Liveness::Live(None) } else { Liveness::Rejected })
    }

    async fn delete_app_key(&self, key: &KeyRef) -> Result<(), ConnectorError> {
        let Some(found) = self.app_key(&key.external_id).await? else { return Ok(()) };
        let home = found.home.map_err(|why| ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, why))?;
        let url = format!("{}{}/{}", self.base, home.path(), key.external_id);
        let answer = self
            .http
            .send_accepting(&format!("DELETE {}/{{id}}", home.template()), &[404], |c| self.with_pair(c.delete(&url)))
            .await?;
        // A 404 from where the owner lookup sent it is "gone" only if the org agrees: an owner
        // that changed between the create and now must not leave a working key counted deleted.
        if answer.status == 404 && self.app_key(&key.external_id).await?.is_some() {
            return Err(ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::Provider,
                format!(
                    "application key {} is still in the org, but {} answered that it is not there",
                    key.external_id,
                    home.template()
                ),
            ));
        }
        Ok(())
    }
}

impl Rotator for Datadog {
    /// Another person's application key: Datadog makes application keys only for the caller or
    /// a service account.
    fn refusal<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Option<String>, ConnectorError>> {
        Box::pin(async move {
            if old.kind != APP_KEY {
                return Ok(None);
            }
            Ok(match self.app_key(&old.external_id).await? {
                Some(k) => k.home.err(),
                None => Some(format!("application key {} is gone from Datadog", old.external_id)),
            })
        })
    }

    /// The keys of the rotation's lineage: the old key's name, with or without the mark, of its
    /// kind. (Datadog keys have no owner to list by; this keeps a reconcile to keys a rotation
    /// of this key could have made.)
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let base = old.name.strip_suffix(MARK).unwrap_or(&old.name).to_owned();
            let (keys, _) = self.pages(listing(&old.kind), &[]).await?;
            Ok(keys
                .iter()
                .filter(|k| {
                    let name = k.pointer("/attributes/name").and_then(Value::as_str).unwrap_or_default();
                    name == base || name == rotated_name(&base)
                })
                .filter_map(|k| {
                    Some(HeldKey {
                        external_id: k["id"].as_str()?.to_owned(),
                        active: true,
                        created_at: k
                            .pointer("/attributes/created_at")
                            .and_then(Value::as_str)
                            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&chrono::Utc)),
                    })
                })
                .collect())
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            if old.kind == APP_KEY {
                return self.create_app_key(old).await;
            }
            let name = rotated_name(&old.name);
            let url = format!("{}/api/v2/api_keys", self.base);
            let body = json!({"data": {"type": "api_keys", "attributes": {"name": name}}});
            let answer = self
                .http
                .send_once("POST /api/v2/api_keys", &[], |c| {
                    c.post(&url)
                        .header("DD-API-KEY", http::credential(&self.api_key))
                        .header("DD-APPLICATION-KEY", http::credential(&self.app_key))
                        .json(&body)
                })
                .await?;
            let v: Value = answer.json(PROVIDER_ID)?;
            let secret = Secret::from(str_at(&v, "/data/attributes/key")?);
            Ok(Created { external_id: str_at(&v, "/data/id")?.to_owned(), secret, name })
        })
    }

    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            if old.kind == APP_KEY {
                return self.verify_app_key(new_id, secret).await;
            }
            http::check_credential(PROVIDER_ID, "new API key", secret)?;
            let url = format!("{}/api/v1/validate", self.base);
            let answer = self
                .http
                .scrubbing(&[secret.expose()])?
                .send_accepting("GET /api/v1/validate", &[401, 403], |c| {
                    c.get(&url).header("DD-API-KEY", http::credential(secret))
                })
                .await?;
            Ok(if answer.status == 200 { Liveness::Live(None) } else { Liveness::Rejected })
        })
    }

    /// The API keys and application keys whose last four characters are those of the
    /// connector's own pair (Datadog shows no more of a key in a listing).
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            let last4 = |s: &Secret| -> String {
                let own: Vec<char> = s.expose().chars().collect();
                own[own.len().saturating_sub(4)..].iter().collect()
            };
            let mut out = Vec::new();
            for (path, own) in
                [("/api/v2/api_keys", last4(&self.api_key)), ("/api/v2/application_keys", last4(&self.app_key))]
            {
                let (keys, _) = self.pages(path, &[]).await?;
                out.extend(
                    keys.iter()
                        .filter(|k| k.pointer("/attributes/last4").and_then(Value::as_str) == Some(own.as_str()))
                        .filter_map(|k| k["id"].as_str().map(str::to_owned)),
                );
            }
            Ok(out)
        })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            if key.kind == APP_KEY {
                return self.delete_app_key(key).await;
            }
            let url = format!("{}/api/v2/api_keys/{}", self.base, key.external_id);
            // A key already gone (404): the delete is done.
            self.http
                .send_accepting("DELETE /api/v2/api_keys/{id}", &[404], |c| {
                    c.delete(&url)
                        .header("DD-API-KEY", http::credential(&self.api_key))
                        .header("DD-APPLICATION-KEY", http::credential(&self.app_key))
                })
                .await?;
            Ok(())
        })
    }
}
