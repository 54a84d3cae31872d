//! Rotating an Atlas programmatic API key: a new org key with the old one's org roles
//! (`POST …/orgs/{org}/apiKeys`), assigned to each of its projects with the same project roles
//! (`POST …/groups/{group}/apiKeys/{id}`), given the old key's access list
//! (`POST …/orgs/{org}/apiKeys/{id}/accessList`); checked by a harmless read signed with the new
//! key (`GET …/orgs/{org}`, HTTP Digest); the old key deleted after the grace period. Keys
//! cannot be disabled.
//!
//! Atlas gives API keys no creation date, so the new key's description carries one: the old
//! description and ` (rotated <instant>)`. That mark is what the reconcile after a crash reads
//! (a key of this lineage made while the create was interrupted is found and dated); a key a
//! person made meanwhile with the very same description has no date and stops the resume
//! with a question rather than a guess.
//!
//! A new key that cannot be given every project or access-list entry is deleted again before
//! the error returns (no half-made key is left). Where the org requires an access list that does
//! not include this machine, the check from here fails and the rotation rolls back, keeping the
//! old key.

use chrono::{DateTime, SecondsFormat, Utc};
use keyward_secret::Secret;
use serde_json::{Value, json};

use super::{Atlas, AtlasAuth, AtlasSettings, PROVIDER_ID, V_API_KEYS};
use crate::liveness::Liveness;
use crate::providers::{Created, HeldKey, KeyRef};
use crate::{ConnectorError, ErrorKind};

/// What a rotated key's description has after its base: ` (rotated 2026-12-02T10:00:00Z)`.
const MARK: &str = " (rotated ";
/// Atlas's longest description.
const MAX_DESC: usize = 250;

/// The description without a rotation mark, and the instant of the mark if there is one.
fn lineage(desc: &str) -> (&str, Option<DateTime<Utc>>) {
    if let Some(at) = desc.rfind(MARK)
        && let Some(instant) = desc[at + MARK.len()..].strip_suffix(')')
        && let Ok(t) = DateTime::parse_from_rfc3339(instant)
    {
        return (&desc[..at], Some(t.with_timezone(&Utc)));
    }
    (desc, None)
}

/// The characters a mark takes: ` (rotated ` + an RFC 3339 instant to the second + `)`.
const MARK_LEN: usize = MARK.len() + "2026-12-02T10:00:00Z".len() + 1;

/// A base as a rotated key's description holds it: cut to leave room for the mark.
fn fitted(base: &str) -> String {
    base.chars().take(MAX_DESC - MARK_LEN).collect()
}

/// The description of a key rotated from one described `desc`, at `now`, within Atlas's limit.
fn rotated_desc(desc: &str, now: DateTime<Utc>) -> String {
    let (base, _) = lineage(desc);
    format!("{}{MARK}{})", fitted(base), now.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn malformed(what: &str) -> ConnectorError {
    ConnectorError::new(PROVIDER_ID, ErrorKind::Malformed, what.to_owned())
}

impl Atlas {
    fn api_keys_path(&self) -> String {
        format!("/api/atlas/v2/orgs/{}/apiKeys", self.org)
    }

    /// The org's API keys, as Atlas lists them.
    async fn api_keys(&self) -> Result<Vec<Value>, ConnectorError> {
        self.pages(&self.api_keys_path(), V_API_KEYS).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<Value>, ConnectorError> {
        Ok(self.api_keys().await?.into_iter().find(|k| k["id"] == id))
    }

    /// The API keys of `old`'s lineage: its description with or without a rotation mark, dated
    /// by the mark.
    pub(super) async fn api_keys_of(&self, old: &KeyRef) -> Result<Vec<HeldKey>, ConnectorError> {
        let (base, _) = lineage(&old.name);
        let fitted = fitted(base);
        Ok(self
            .api_keys()
            .await?
            .iter()
            .filter_map(|k| {
                let (b, at) = lineage(k["desc"].as_str()?);
                let id = k["id"].as_str()?.to_owned();
                (b == base || b == fitted).then_some(HeldKey { external_id: id, active: true, created_at: at })
            })
            .collect())
    }

    pub(super) async fn create_api_key(&self, old: &KeyRef) -> Result<Created, ConnectorError> {
        let key = self.api_key(&old.external_id).await?.ok_or_else(|| {
            ConnectorError::new(PROVIDER_ID, ErrorKind::NotFound, format!("API key {} is gone", old.external_id))
        })?;
        let roles = key["roles"].as_array().cloned().unwrap_or_default();
        let org_roles: Vec<&str> =
            roles.iter().filter(|r| r["groupId"].is_null()).filter_map(|r| r["roleName"].as_str()).collect();
        let mut projects: Vec<(String, Vec<Value>)> = Vec::new();
        for r in &roles {
            let (Some(group), Some(name)) = (r["groupId"].as_str(), r["roleName"].as_str()) else { continue };
            match projects.iter_mut().find(|(g, _)| g == group) {
                Some((_, names)) => names.push(json!({"roleName": name})),
                None => projects.push((group.to_owned(), vec![json!({"roleName": name})])),
            }
        }
        let access =
            self.pages(&format!("{}/{}/accessList", self.api_keys_path(), old.external_id), V_API_KEYS).await?;
        let entries: Vec<Value> = access
            .iter()
            .filter_map(|e| match (e["cidrBlock"].as_str(), e["ipAddress"].as_str()) {
                (Some(c), _) => Some(json!({"cidrBlock": c})),
                (None, Some(ip)) => Some(json!({"ipAddress": ip})),
                _ => None,
            })
            .collect();

        let desc = rotated_desc(&old.name, Utc::now());
        let body = json!({"desc": desc, "roles": org_roles});
        let v: Value =
            self.request("POST", &self.api_keys_path(), "", V_API_KEYS, Some(&body), &[]).await?.json(PROVIDER_ID)?;
        let (Some(id), Some(private)) = (v["id"].as_str(), v["privateKey"].as_str()) else {
            return Err(malformed("the new API key's answer has no id or no privateKey"));
        };
        if private.contains('*') {
            return Err(malformed("the new API key's answer holds a masked privateKey"));
        }
        let (id, secret) = (id.to_owned(), Secret::from(private));
        // The rest of its access; a key that cannot get all of it is deleted again.
        let finish = async {
            for (group, roles) in &projects {
                let path = format!("/api/atlas/v2/groups/{group}/apiKeys/{id}");
                self.request("POST", &path, "", V_API_KEYS, Some(&json!(roles)), &[]).await?;
            }
            if !entries.is_empty() {
                let path = format!("{}/{id}/accessList", self.api_keys_path());
                self.request("POST", &path, "", V_API_KEYS, Some(&json!(entries)), &[]).await?;
            }
            Ok::<(), ConnectorError>(())
        };
        if let Err(e) = finish.await {
            let path = format!("{}/{id}", self.api_keys_path());
            return Err(match self.request("DELETE", &path, "", V_API_KEYS, None, &[404]).await {
                Ok(_) => ConnectorError::new(
                    PROVIDER_ID,
                    e.kind,
                    format!(
                        "the new API key could not get the old one's access, so it was deleted again: {}",
                        e.message
                    ),
                ),
                // Left at Atlas: an outcome the engine must reconcile (its mark dates it).
                Err(d) => ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::UnexpectedStatus,
                    format!(
                        "the new API key {id} could not get the old one's access ({}) nor be deleted again ({})",
                        e.message, d.message
                    ),
                ),
            });
        }
        Ok(Created { external_id: id, secret, name: desc })
    }

    /// A read of the organization signed with the new key (HTTP Digest with its public key).
    pub(super) async fn verify_api_key(&self, new_id: &str, secret: &Secret) -> Result<Liveness, ConnectorError> {
        let Some(key) = self.api_key(new_id).await? else { return Ok(Liveness::Rejected) };
        let public_key = key["publicKey"].as_str().ok_or_else(|| malformed("an API key without publicKey"))?;
        let settings = AtlasSettings { org_id: self.org.clone(), base_url: Some(self.base.clone()) };
        let auth = AtlasAuth::ApiKey { public_key: public_key.to_owned(), private_key: secret.clone() };
        let signed = Atlas::with_http(&settings, auth, self.http.settings())?;
        match signed.get(&format!("/api/atlas/v2/orgs/{}", self.org), "", V_API_KEYS).await {
            Ok(_) => Ok(Liveness::Live(None)),
            Err(e) if e.kind == ErrorKind::Unauthenticated => Ok(Liveness::Rejected),
            Err(e) => Err(e),
        }
    }

    /// The API key the connector signs in with, if it signs in with one.
    pub(super) async fn own_api_key(&self) -> Result<Vec<String>, ConnectorError> {
        let AtlasAuth::ApiKey { public_key, .. } = &self.auth else { return Ok(Vec::new()) };
        Ok(self
            .api_keys()
            .await?
            .iter()
            .filter(|k| k["publicKey"] == public_key.as_str())
            .filter_map(|k| k["id"].as_str().map(str::to_owned))
            .collect())
    }

    pub(super) async fn delete_api_key(&self, key: &KeyRef) -> Result<(), ConnectorError> {
        let path = format!("{}/{}", self.api_keys_path(), key.external_id);
        self.request("DELETE", &path, "", V_API_KEYS, None, &[404]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_dates_a_key_and_is_never_repeated_or_too_long() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc);
        let once = rotated_desc("ci deploy", now);
        assert_eq!(once, "ci deploy (rotated 2026-12-02T10:00:00Z)");
        assert_eq!(lineage(&once), ("ci deploy", Some(now)));
        let later = now + chrono::Duration::days(90);
        assert_eq!(lineage(&rotated_desc(&once, later)), ("ci deploy", Some(later)));
        let long = "x".repeat(300);
        assert_eq!(rotated_desc(&long, now).chars().count(), MAX_DESC);
        assert_eq!(lineage(&rotated_desc(&long, now)).0, fitted(&long));
        // A description that only looks marked keeps its text and has no date.
        assert_eq!(lineage("notes (rotated soon)"), ("notes (rotated soon)", None));
        assert_eq!(lineage("ünïcode (rotated 2026-12-02T10:00:00Z)").1, Some(now));
    }
}
