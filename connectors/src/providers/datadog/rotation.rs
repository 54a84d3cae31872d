//! Rotating a Datadog API key: `POST /api/v2/api_keys` with the old key's name and a
//! `(rotated)` mark, `GET /api/v1/validate` with the new key, `DELETE /api/v2/api_keys/{id}` of
//! the old one after the grace period. Datadog API keys cannot be disabled: the old key keeps
//! working through the grace period.

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

impl Rotator for Datadog {
    /// The API keys of the rotation's lineage: the old key's name, with or without the mark.
    /// (Datadog keys have no owner to list by; this keeps a reconcile to keys a rotation of
    /// this key could have made.)
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let base = old.name.strip_suffix(MARK).unwrap_or(&old.name).to_owned();
            let (keys, _) = self.pages("/api/v2/api_keys", &[]).await?;
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
        _old: &'a KeyRef,
        _new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
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

    fn disable<'a>(&'a self, _key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async {
            Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, "Datadog keys cannot be disabled"))
        })
    }

    fn enable<'a>(&'a self, _key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async {
            Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, "Datadog keys cannot be disabled"))
        })
    }

    /// The API keys whose last four characters are those of the connector's own API key
    /// (Datadog shows no more of a key in a listing).
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            let own: Vec<char> = self.api_key.expose().chars().collect();
            let last4: String = own[own.len().saturating_sub(4)..].iter().collect();
            let (keys, _) = self.pages("/api/v2/api_keys", &[]).await?;
            Ok(keys
                .iter()
                .filter(|k| k.pointer("/attributes/last4").and_then(Value::as_str) == Some(last4.as_str()))
                .filter_map(|k| k["id"].as_str().map(str::to_owned))
                .collect())
        })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
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
