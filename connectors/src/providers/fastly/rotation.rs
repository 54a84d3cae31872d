//! Rotating a Fastly automation token. Fastly makes one only for a superuser's token in sudo
//! mode, and sudo mode is entered with the user's password (`POST /sudo`), so a rotation asks
//! the user for it (`--password-stdin`): it is used for the one call and never stored. An
//! account that forces SSO or MFA cannot enter sudo mode by API, so its automation tokens are
//! rotated by hand; the refusal says so.
//!
//! The new token gets the old one's role, services, scope, TLS access and expiry (the end date
//! an administrator set is not extended; an old token without one gives a new one without one).
//! An answer missing any of these is refused rather than filled with defaults that could grant
//! more. It is checked with `GET /tokens/self` made with it. Fastly tokens cannot be disabled: the old
//! token works through the grace period and is then revoked (`DELETE /automation-tokens/{id}`).
//! User tokens are not made by API without their owner's password and one-time code: they are
//! rotated by hand.

use chrono::Utc;
use keyward_secret::Secret;
use serde_json::{Value, json};

use super::Fastly;
use crate::http;
use crate::liveness::Liveness;
use crate::paging::{self, Page};
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind, str_of, time_of};

const PROVIDER_ID: &str = super::provider::PROVIDER.id;
/// What a rotated token's name ends with.
const MARK: &str = " (rotated)";

fn rotated_name(name: &str) -> String {
    format!("{}{MARK}", name.strip_suffix(MARK).unwrap_or(name))
}

fn unsupported(why: impl Into<String>) -> ConnectorError {
    ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, why)
}

/// The rotation calls of a Fastly account: the connector's token, and the password the user
/// typed for this rotation, if any.
pub(super) struct FastlyRotator {
    pub(super) client: Fastly,
    pub(super) password: Option<Secret>,
}

impl FastlyRotator {
    fn with_token(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        r.header("Fastly-Key", http::credential(&self.client.token)).header("Accept", "application/json")
    }

    /// The automation token `id` as Fastly describes it, `None` when it is gone.
    async fn token(&self, id: &str) -> Result<Option<Value>, ConnectorError> {
        let url = format!("{}/automation-tokens/{id}", self.client.base);
        let answer = self
            .client
            .http
            .send_accepting("GET /automation-tokens/{id}", &[404], |c| self.with_token(c.get(&url)))
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        answer.json(PROVIDER_ID).map(Some)
    }

    /// Puts the connector's token in sudo mode with the user's password.
    async fn sudo(&self, login: &str) -> Result<(), ConnectorError> {
        let password = self.password.as_ref().ok_or_else(|| unsupported(NEEDS_PASSWORD))?;
        let url = format!("{}/sudo", self.client.base);
        let body = json!({"username": login, "password": password.expose()});
        // Every answer but a 200 is read by its status alone: a body could echo the password
        // back in a form (JSON-escaped) the scrubber would not recognise.
        let answer = self
            .client
            .http
            .scrubbing(&[password.expose()])?
            .send_accepting("POST /sudo", &(100..600).collect::<Vec<u16>>(), |c| {
                self.with_token(c.post(&url).json(&body))
            })
            .await
            .map_err(|e| {
                ConnectorError::new(
                    PROVIDER_ID,
                    e.kind,
                    format!("POST /sudo for {login} could not be sent ({:?})", e.kind),
                )
            })?;
        if answer.status != 200 {
            return Err(ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::PermissionDenied,
                format!(
                    "Fastly refused sudo mode for {login} (HTTP {}): the password is wrong, or the account forces SSO \
                     or MFA, under which automation tokens cannot be made by API (rotate this one by hand)",
                    answer.status
                ),
            ));
        }
        Ok(())
    }
}

/// Why a rotation without the user's password cannot make an automation token.
const NEEDS_PASSWORD: &str = "Fastly makes an automation token only in sudo mode, which needs your password: \
                              rotate it with --password-stdin (the password is used once, never stored)";

impl Rotator for FastlyRotator {
    /// No password given, or a connector whose user is not a superuser.
    fn refusal<'a>(&'a self, _old: &'a KeyRef) -> BoxFuture<'a, Result<Option<String>, ConnectorError>> {
        Box::pin(async move {
            let me = self.client.me().await?;
            let role = me["role"].as_str().unwrap_or("unknown");
            if role != "superuser" {
                return Ok(Some(format!(
                    "only a superuser can make automation tokens; the connector's user {} is a {role}",
                    me["login"].as_str().unwrap_or("?")
                )));
            }
            Ok(self.password.is_none().then(|| NEEDS_PASSWORD.to_owned()))
        })
    }

    /// The automation tokens of the rotation's lineage: the old token's name, with or without
    /// the mark (automation tokens have no owner to list by).
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let base = old.name.strip_suffix(MARK).unwrap_or(&old.name).to_owned();
            let all =
                paging::until_short(PROVIDER_ID, 1, super::PAGE, self.client.http.concurrency(), |n| async move {
                    let items = self
                        .client
                        .array("/automation-tokens", &[("page", n.to_string()), ("per_page", super::PAGE.to_string())])
                        .await?;
                    Ok(Page { items, total: None })
                })
                .await?;
            Ok(all
                .iter()
                .filter(|t| {
                    let name = t["name"].as_str().unwrap_or_default();
                    name == base || name == rotated_name(&base)
                })
                .map(|t| HeldKey { external_id: str_of(&t["id"]), active: true, created_at: time_of(&t["created_at"]) })
                .filter(|k| !k.external_id.is_empty())
                .collect())
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            let t = self.token(&old.external_id).await?.ok_or_else(|| {
                ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::NotFound,
                    format!("automation token {} is gone", old.external_id),
                )
            })?;
            let me = self.client.me().await?;
            let login = me["login"].as_str().unwrap_or_default().to_owned();
            self.sudo(&login).await?;
            let name = rotated_name(&old.name);
            let missing = |field: &str| {
                ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::Malformed,
                    format!("automation token {}: no readable {field} to give its successor", old.external_id),
                )
            };
            let mut attributes = json!({
                "name": name,
                "role": t["role"].as_str().ok_or_else(|| missing("role"))?,
                "services": t["services"].as_array().ok_or_else(|| missing("services"))?,
                "scope": t["scope"].as_str().ok_or_else(|| missing("scope"))?,
                "tls_access": t["tls_access"].as_bool().ok_or_else(|| missing("tls_access"))?,
            });
            match &t["expires_at"] {
                Value::Null => {}
                v => {
                    let at = time_of(v).ok_or_else(|| missing("expires_at"))?;
                    if at <= Utc::now() {
                        return Err(ConnectorError::new(
                            PROVIDER_ID,
                            ErrorKind::Unsupported,
                            format!("automation token {} has expired: a successor would too", old.external_id),
                        ));
                    }
                    attributes["expires_at"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
            }
            let body = json!({"attributes": attributes});
            let url = format!("{}/automation-tokens", self.client.base);
            let answer = self
                .client
                .http
                .send_once("POST /automation-tokens", &[], |c| self.with_token(c.post(&url).json(&body)))
                .await?;
            let v: Value = answer.json(PROVIDER_ID)?;
            let (Some(id), Some(secret)) = (v["id"].as_str(), v["access_token"].as_str()) else {
                return Err(ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::Malformed,
                    "POST /automation-tokens: the answer has no id or access_token",
                ));
            };
            Ok(Created { external_id: id.to_owned(), secret: Secret::from(secret), name })
        })
    }

    fn verify<'a>(
        &'a self,
        _old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            http::check_credential(PROVIDER_ID, "new automation token", secret)?;
            let url = format!("{}/tokens/self", self.client.base);
            let answer = self
                .client
                .http
                .scrubbing(&[secret.expose()])?
                .send_accepting("GET /tokens/self", &[401, 403], |c| {
                    c.get(&url).header("Fastly-Key", http::credential(secret)).header("Accept", "application/json")
                })
                .await?;
            if answer.status != 200 {
                return Ok(Liveness::Rejected);
            }
            // The token it answers as must be the one just made.
            let v: Value = answer.json(PROVIDER_ID)?;
            Ok(if v["id"].as_str() == Some(new_id) { Liveness::Live(None) } else { Liveness::Rejected })
        })
    }

    /// The connector's own token (what `GET /tokens/self` answers as).
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            let v: Value = self.client.get("/tokens/self", &[]).await?.json(PROVIDER_ID)?;
            Ok(v["id"].as_str().map(str::to_owned).into_iter().collect())
        })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let url = format!("{}/automation-tokens/{}", self.client.base, key.external_id);
            // Already revoked (404): done.
            self.client
                .http
                .send_accepting("DELETE /automation-tokens/{id}", &[404], |c| self.with_token(c.delete(&url)))
                .await?;
            Ok(())
        })
    }
}
