//! Rotating a New Relic USER or INGEST key: `apiAccessCreateKeys` for the same account (and the
//! same user, or the same ingest type) with the old key's name and a `(rotated)` mark, a check
//! of the new key, `apiAccessDeleteKeys` of the old one after the grace period. New Relic keys
//! cannot be disabled: the old key keeps working through the grace period.
//!
//! Two limits shape it. New Relic shows a user key made for *another* user only truncated, even
//! in the create's answer: Keyward would hold no working secret, so only the connector's own
//! user's keys are rotated (the plan says why for the others). And an account's original license
//! key cannot be deleted by anyone but New Relic support: the rotation ends with it kept, and
//! says so. Mutations answer HTTP 200 with per-key `errors`; every one is read.

use keyward_secret::Secret;
use serde_json::{Value, json};

use super::NewRelic;
use crate::http;
use crate::liveness::Liveness;
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind, str_of};

const PROVIDER_ID: &str = super::provider::PROVIDER.id;
/// What a rotated key's name ends with.
const MARK: &str = " (rotated)";
/// New Relic's limit on a key's name.
const NAME_MAX: usize = 120;

/// One key, read by id (the facts a rotation copies).
pub const KEY: &str = "query KeywardKey($id: ID!, $keyType: ApiAccessKeyType!) {
  actor { apiAccess { key(id: $id, keyType: $keyType) {
    __typename id name notes type createdAt
    ... on ApiAccessUserKey { accountId userId }
    ... on ApiAccessIngestKey { accountId ingestType }
  } } }
}";

/// One key with its value: an ingest key's check, and the connector's own key.
pub const KEY_VALUE: &str = "query KeywardKeyValue($id: ID!, $keyType: ApiAccessKeyType!) {
  actor { apiAccess { key(id: $id, keyType: $keyType) { __typename id key } } }
}";

/// The keys of one account and type (and user), by name, for a rotation's lineage.
pub const LINEAGE: &str = "query KeywardLineage($query: ApiAccessKeySearchQuery!, $cursor: String) {
  actor { apiAccess { keySearch(query: $query, cursor: $cursor) {
    nextCursor
    keys { __typename id name createdAt }
  } } }
}";

/// The connector's own user keys, with their values, to tell which one it signs in with.
pub const OWN_KEYS: &str = "query KeywardOwnKeys($query: ApiAccessKeySearchQuery!, $cursor: String) {
  actor { apiAccess { keySearch(query: $query, cursor: $cursor) {
    nextCursor
    keys { __typename id key }
  } } }
}";

/// A new key.
pub const CREATE: &str = "mutation KeywardCreateKey($keys: ApiAccessCreateInput!) {
  apiAccessCreateKeys(keys: $keys) {
    createdKeys { __typename id name key createdAt }
    errors {
      __typename message type
      ... on ApiAccessUserKeyError { errorType }
      ... on ApiAccessIngestKeyError { ingestErrorType: errorType }
    }
  }
}";

/// Deleting a key.
pub const DELETE: &str = "mutation KeywardDeleteKey($keys: ApiAccessDeleteInput!) {
  apiAccessDeleteKeys(keys: $keys) {
    deletedKeys { id }
    errors {
      __typename message type
      ... on ApiAccessUserKeyError { id errorType }
      ... on ApiAccessIngestKeyError { id ingestErrorType: errorType }
    }
  }
}";

/// The name a key rotated from `name` gets: the mark is not repeated, and the whole fits
/// New Relic's 120 characters.
fn rotated_name(name: &str) -> String {
    let base = name.strip_suffix(MARK).unwrap_or(name);
    let room = NAME_MAX - MARK.chars().count();
    format!("{}{MARK}", base.chars().take(room).collect::<String>())
}

/// The base a lineage is named after.
fn base_name(name: &str) -> &str {
    name.strip_suffix(MARK).unwrap_or(name)
}

/// `USER` or `INGEST`, from the inventory's kind.
fn key_type(key: &KeyRef) -> Result<&'static str, ConnectorError> {
    match key.kind.as_str() {
        "user_key" => Ok("USER"),
        "ingest_key" => Ok("INGEST"),
        other => Err(ConnectorError::new(
            PROVIDER_ID,
            ErrorKind::Unsupported,
            format!("New Relic keys of kind {other:?} are not rotated"),
        )),
    }
}

/// The first per-key error of a mutation, as a connector error. (The two error types' enums
/// differ, so GraphQL wants the ingest one under an alias.)
fn key_errors(what: &str, errors: &Value) -> Option<(String, ConnectorError)> {
    let e = errors.as_array()?.first()?;
    let error_type = e.get("errorType").or_else(|| e.get("ingestErrorType")).unwrap_or(&Value::Null);
    let kind = match error_type.as_str() {
        Some("FORBIDDEN") => ErrorKind::PermissionDenied,
        Some("NOT_FOUND") => ErrorKind::NotFound,
        _ => ErrorKind::Provider,
    };
    let message = e["message"].as_str().unwrap_or("no message");
    Some((str_of(error_type), ConnectorError::new(PROVIDER_ID, kind, format!("{what}: {message}"))))
}

/// A key as New Relic answers `key(id, keyType)`.
struct Facts {
    account: i64,
    user: Option<i64>,
    ingest_type: Option<String>,
    notes: String,
}

impl NewRelic {
    /// The old key's account, user or ingest type and notes, as New Relic has them now.
    async fn facts(&self, key: &KeyRef) -> Result<Facts, ConnectorError> {
        let v = self.graphql("key", KEY, json!({"id": key.external_id, "keyType": key_type(key)?})).await?;
        let k = v.pointer("/data/actor/apiAccess/key").filter(|k| !k.is_null()).ok_or_else(|| {
            ConnectorError::new(
                PROVIDER_ID,
                ErrorKind::NotFound,
                format!("New Relic has no key {} that this connector can see", key.external_id),
            )
        })?;
        Ok(Facts {
            account: k["accountId"]
                .as_i64()
                .ok_or_else(|| ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "the key has no accountId"))?,
            user: k["userId"].as_i64(),
            ingest_type: k["ingestType"].as_str().map(str::to_owned),
            notes: k["notes"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// Whether `key` is an ingest key of type LICENSE (an account's original key is one).
    async fn is_license(&self, key: &KeyRef) -> Result<bool, ConnectorError> {
        Ok(self.facts(key).await?.ingest_type.as_deref() == Some("LICENSE"))
    }

    /// The id of the connector's own user.
    async fn my_id(&self) -> Result<i64, ConnectorError> {
        self.me()
            .await?
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "actor.user has no id"))
    }
}

impl Rotator for NewRelic {
    /// Only the connector's own user keys: New Relic never shows a key made for another user
    /// whole, not even to the admin who made it.
    fn refusal<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Option<String>, ConnectorError>> {
        Box::pin(async move {
            if key_type(old)? != "USER" {
                return Ok(None);
            }
            let (facts, me) = tokio::try_join!(self.facts(old), self.my_id())?;
            Ok((facts.user != Some(me)).then(|| {
                format!(
                    "{} is a user key of {}: New Relic shows a user key made for another user only truncated, so \
                     Keyward would never hold the new secret; its user rotates it (or connect Keyward with their key)",
                    old.external_id,
                    old.owner.as_deref().unwrap_or("another user")
                )
            }))
        })
    }

    /// The keys of the rotation's lineage: same account, type (and user), the old key's name
    /// with or without the mark.
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let facts = self.facts(old).await?;
            let mut scope = json!({"accountIds": [facts.account]});
            if let Some(u) = facts.user {
                scope["userIds"] = json!([u]);
            }
            let keys = self.search("keySearch", LINEAGE, json!({"types": [key_type(old)?], "scope": scope})).await?;
            let base = base_name(&old.name);
            Ok(keys
                .iter()
                .filter(|k| k["name"].as_str().is_some_and(|n| n == base || n == rotated_name(base)))
                .filter_map(|k| {
                    Some(HeldKey {
                        external_id: k["id"].as_str()?.to_owned(),
                        active: true,
                        created_at: k["createdAt"].as_i64().and_then(|s| chrono::DateTime::from_timestamp(s, 0)),
                    })
                })
                .collect())
        })
    }

    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            if let Some(why) = self.refusal(old).await? {
                return Err(ConnectorError::new(PROVIDER_ID, ErrorKind::Unsupported, why));
            }
            let facts = self.facts(old).await?;
            let name = rotated_name(&old.name);
            let input = match key_type(old)? {
                "USER" => json!({"user": [{
                    "accountId": facts.account, "userId": facts.user, "name": name, "notes": facts.notes
                }]}),
                _ => json!({"ingest": [{
                    "accountId": facts.account, "ingestType": facts.ingest_type, "name": name, "notes": facts.notes
                }]}),
            };
            let v = self.graphql_sent("apiAccessCreateKeys", CREATE, json!({"keys": input}), true).await?;
            let answer = v.pointer("/data/apiAccessCreateKeys").cloned().unwrap_or(Value::Null);
            if let Some((_, e)) = key_errors("apiAccessCreateKeys", &answer["errors"]) {
                return Err(e);
            }
            let made = answer["createdKeys"].as_array().and_then(|k| k.first()).ok_or_else(|| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "apiAccessCreateKeys: no key and no error")
            })?;
            let id = made["id"].as_str().filter(|i| !i.is_empty()).ok_or_else(|| {
                ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, "apiAccessCreateKeys: the key has no id")
            })?;
            let secret = made["key"].as_str().unwrap_or_default();
            // A truncated value ("NRAK-ABC...") is no secret to hand over: take the key back.
            if secret.len() < 20 || secret.contains("...") || secret.contains('*') {
                let gone = self.delete(&KeyRef { external_id: id.to_owned(), ..old.clone() }).await;
                return Err(ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::Unsupported,
                    format!(
                        "New Relic answered the new key {id} truncated; {}",
                        match gone {
                            Ok(()) => "it was deleted again".to_owned(),
                            Err(e) => format!("deleting it failed ({e}): delete it in New Relic"),
                        }
                    ),
                ));
            }
            Ok(Created { external_id: id.to_owned(), secret: Secret::from(secret), name })
        })
    }

    /// A user key signs NerdGraph in as the same user; an ingest key cannot call NerdGraph at
    /// all, and every call it can make sends data, so it is read back instead: New Relic must
    /// list it under its id with exactly the sealed value.
    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            http::check_credential(PROVIDER_ID, "new key", secret)?;
            if key_type(old)? == "INGEST" {
                let v = self.graphql("key", KEY_VALUE, json!({"id": new_id, "keyType": "INGEST"})).await?;
                let listed = v.pointer("/data/actor/apiAccess/key/key").and_then(Value::as_str);
                return Ok(if listed == Some(secret.expose()) { Liveness::Live(None) } else { Liveness::Rejected });
            }
            let body = json!({"query": super::WHO_AM_I, "variables": {}});
            let answer = self
                .http
                .scrubbing(&[secret.expose()])?
                .send_accepting("actor.user", &[401, 403], |c| {
                    c.post(&self.endpoint).header("API-Key", http::credential(secret)).json(&body)
                })
                .await?;
            let v: Value = answer.json(PROVIDER_ID)?;
            let (who, me) = (v.pointer("/data/actor/user/id").and_then(Value::as_i64), self.my_id().await?);
            Ok(if answer.status == 200 && who == Some(me) { Liveness::Live(None) } else { Liveness::Rejected })
        })
    }

    /// The user key whose value is the connector's (New Relic shows one's own keys whole).
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async move {
            let me = self.my_id().await?;
            let keys =
                self.search("keySearch", OWN_KEYS, json!({"types": ["USER"], "scope": {"userIds": [me]}})).await?;
            Ok(keys
                .iter()
                .filter(|k| k["key"].as_str() == Some(self.api_key.expose()))
                .filter_map(|k| k["id"].as_str().map(str::to_owned))
                .collect())
        })
    }

    /// Deletes a key; one already gone is done. The original license key is refused by New
    /// Relic with `INVALID`: that comes back as `Unsupported`, which the engine records as a
    /// key left to the user.
    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let ingest = key_type(key)? == "INGEST";
            let field = if ingest { "ingestKeyIds" } else { "userKeyIds" };
            let v = self.graphql("apiAccessDeleteKeys", DELETE, json!({"keys": {field: [key.external_id]}})).await?;
            let answer = v.pointer("/data/apiAccessDeleteKeys").cloned().unwrap_or(Value::Null);
            let deleted =
                answer["deletedKeys"].as_array().is_some_and(|d| d.iter().any(|k| k["id"] == key.external_id.as_str()));
            match key_errors("apiAccessDeleteKeys", &answer["errors"]) {
                None if deleted => Ok(()),
                None => Err(ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::Malformed,
                    format!(
                        "apiAccessDeleteKeys: the answer neither lists {} as deleted nor says why",
                        key.external_id
                    ),
                )),
                Some((kind, _)) if kind == "NOT_FOUND" => Ok(()),
                // Only a license key's INVALID is the original key's refusal; others fail the step.
                Some((kind, mut e)) if kind == "INVALID" && ingest && self.is_license(key).await? => {
                    e.kind = ErrorKind::Unsupported;
                    Err(e)
                }
                Some((_, e)) => Err(e),
            }
        })
    }
}
