//! Rotating an API Gateway REST API key. A REST API key has no owner to list it by and makes no
//! call of its own: it is a value that the APIs requiring it accept while it is enabled and in one
//! of their usage plans. So the new key is made to stand where the old one stands —
//! `CreateApiKey` (enabled, the old name with a `(rotated)` mark, the old description, customer
//! id, tags and stage keys), then `CreateUsagePlanKey` into every usage plan of the old key — and
//! verified by reading it back (`GetApiKey includeValue=true`: enabled, the value sealed in the
//! vault, the old key's stage keys, in every plan of the old key), which is not a use of the
//! key. The old key is disabled with `UpdateApiKey replace /enabled false` for the grace period
//! and deleted with `DeleteApiKey` after it.
//!
//! Ids are the inventory's `{region}/{id}`: every call goes to the region its id names.

use std::collections::BTreeSet;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_apigateway::types::{Op, PatchOperation, StageKey};
use keyward_secret::Secret;

use super::ApiGateway;
use crate::aws::{AwsSettings, classify, to_chrono};
use crate::liveness::Liveness;
use crate::paging::MAX_PAGES;
use crate::providers::{BoxFuture, Created, HeldKey, KeyRef, Rotator};
use crate::{ConnectorError, ErrorKind};

const PROVIDER_ID: &str = super::provider::PROVIDER.id;
/// What a rotated key's name ends with.
const MARK: &str = " (rotated)";
/// API Gateway's answer for a key or plan that is not there (HTTP 404).
const NOT_FOUND: &str = "NotFoundException";
/// The largest page API Gateway serves.
const PAGE: i32 = 500;

/// The name a key's lineage shares: its name without the rotation mark.
fn base_name(name: &str) -> &str {
    name.strip_suffix(MARK).unwrap_or(name)
}

/// The name a key rotated from `name` gets (the mark is not repeated).
fn rotated_name(name: &str) -> String {
    format!("{}{MARK}", base_name(name))
}

/// Where a key is: the region and id of its external id `{region}/{id}`.
fn locate(external_id: &str) -> Result<(&str, &str), ConnectorError> {
    match external_id.split_once('/') {
        Some((region, id)) if !region.is_empty() && !id.is_empty() && !id.contains('/') => Ok((region, id)),
        _ => Err(ConnectorError::new(
            PROVIDER_ID,
            ErrorKind::Config,
            format!("{external_id:?} is not an API Gateway key id of the form region/id"),
        )),
    }
}

/// A stage key as `CreateApiKey` takes it, from the `{restApiId}/{stageName}` a key lists.
fn stage_key(listed: &str) -> Option<StageKey> {
    let (api, stage) = listed.split_once('/')?;
    Some(StageKey::builder().rest_api_id(api).stage_name(stage).build())
}

fn too_many(operation: &str) -> ConnectorError {
    ConnectorError::new(
        PROVIDER_ID,
        ErrorKind::Malformed,
        format!("{operation} answered more than {MAX_PAGES} pages; nothing was changed"),
    )
}

/// The rotation calls of one AWS account's API Gateway, in any region.
pub(crate) struct ApiGatewayRotator {
    gateway: ApiGateway,
}

impl ApiGatewayRotator {
    pub(crate) async fn connect(settings: &AwsSettings, regions: &[String]) -> Self {
        Self { gateway: ApiGateway::connect(settings, regions).await }
    }

    fn client(&self, region: &str) -> Client {
        self.gateway.v1(region)
    }

    /// The ids of the usage plans that hold key `id` (`GetUsagePlans keyId=`, every page).
    async fn plans_of(client: &Client, id: &str) -> Result<BTreeSet<String>, ConnectorError> {
        let mut plans = BTreeSet::new();
        let mut position = None;
        for _ in 0..MAX_PAGES {
            let page = client
                .get_usage_plans()
                .key_id(id)
                .limit(PAGE)
                .set_position(position)
                .send()
                .await
                .map_err(|e| classify("GetUsagePlans", e))?;
            plans.extend(page.items().iter().filter_map(|p| p.id().map(str::to_owned)));
            position = page.position().map(str::to_owned);
            if position.is_none() {
                return Ok(plans);
            }
        }
        Err(too_many("GetUsagePlans"))
    }

    /// The keys of the region named exactly `name` (`GetApiKeys nameQuery=`, every page; the
    /// query is only a filter, the name is compared here).
    async fn named(client: &Client, region: &str, name: &str) -> Result<Vec<HeldKey>, ConnectorError> {
        let mut keys = Vec::new();
        let mut position = None;
        for _ in 0..MAX_PAGES {
            let page = client
                .get_api_keys()
                .name_query(name)
                .include_values(false)
                .limit(PAGE)
                .set_position(position)
                .send()
                .await
                .map_err(|e| classify("GetApiKeys", e))?;
            keys.extend(page.items().iter().filter(|k| k.name() == Some(name)).filter_map(|k| {
                Some(HeldKey {
                    external_id: format!("{region}/{}", k.id()?),
                    active: k.enabled(),
                    created_at: k.created_date().and_then(to_chrono),
                })
            }));
            position = page.position().map(str::to_owned);
            if position.is_none() {
                return Ok(keys);
            }
        }
        Err(too_many("GetApiKeys"))
    }

    /// Deletes key `id`; one already gone is deleted.
    async fn delete_id(client: &Client, id: &str) -> Result<(), ConnectorError> {
        match client.delete_api_key().api_key(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(NOT_FOUND) => Ok(()),
            Err(e) => Err(classify("DeleteApiKey", e)),
        }
    }

    async fn set_enabled(&self, key: &KeyRef, enabled: bool) -> Result<(), ConnectorError> {
        let (region, id) = locate(&key.external_id)?;
        let patch = PatchOperation::builder().op(Op::Replace).path("/enabled").value(enabled.to_string()).build();
        self.client(region)
            .update_api_key()
            .api_key(id)
            .patch_operations(patch)
            .send()
            .await
            .map_err(|e| classify("UpdateApiKey", e))?;
        Ok(())
    }

    /// Puts the new key `id` into every plan in `plans`.
    async fn join_plans(client: &Client, id: &str, plans: &BTreeSet<String>) -> Result<(), ConnectorError> {
        for plan in plans {
            match client.create_usage_plan_key().usage_plan_id(plan).key_id(id).key_type("API_KEY").send().await {
                Ok(_) => {}
                // Already a member (a retried call): what was asked is so.
                Err(e) if e.code() == Some("ConflictException") => {}
                Err(e) => return Err(classify("CreateUsagePlanKey", e)),
            }
        }
        Ok(())
    }
}

impl Rotator for ApiGatewayRotator {
    /// The rotation's lineage in the key's region: the old key itself, and every key named as
    /// it is, with or without the mark. (A REST API key has no owner to list by; this keeps a
    /// reconcile to keys a rotation of this key could have made.)
    fn keys_of<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Vec<HeldKey>, ConnectorError>> {
        Box::pin(async move {
            let (region, id) = locate(&old.external_id)?;
            let client = self.client(region);
            let base = base_name(&old.name);
            let mut held = Self::named(&client, region, base).await?;
            // `nameQuery` may match by prefix or exactly: ask for each name, keep each key once.
            for k in Self::named(&client, region, &rotated_name(base)).await? {
                if !held.iter().any(|h| h.external_id == k.external_id) {
                    held.push(k);
                }
            }
            if !held.iter().any(|h| h.external_id == old.external_id) {
                // Renamed since the inventory read it: still the rotation's.
                match client.get_api_key().api_key(id).include_value(false).send().await {
                    Ok(k) => held.push(HeldKey {
                        external_id: old.external_id.clone(),
                        active: k.enabled(),
                        created_at: k.created_date().and_then(to_chrono),
                    }),
                    Err(e) if e.code() == Some(NOT_FOUND) => {}
                    Err(e) => return Err(classify("GetApiKey", e)),
                }
            }
            Ok(held)
        })
    }

    /// A key like the old one, in every usage plan of the old one. A key whose plans could not
    /// all be joined is deleted before the error is returned, so no half-made key is left; if
    /// that delete fails too, the key carries the lineage's name and its creation date, so the
    /// engine's reconcile finds and deletes it on `resume` or `abort`.
    fn create<'a>(&'a self, old: &'a KeyRef) -> BoxFuture<'a, Result<Created, ConnectorError>> {
        Box::pin(async move {
            let (region, old_id) = locate(&old.external_id)?;
            let client = self.client(region);
            let like = client
                .get_api_key()
                .api_key(old_id)
                .include_value(false)
                .send()
                .await
                .map_err(|e| classify("GetApiKey", e))?;
            let plans = Self::plans_of(&client, old_id).await?;
            let name = rotated_name(&old.name);
            let stage_keys = like
                .stage_keys()
                .iter()
                .map(|s| {
                    stage_key(s).ok_or_else(|| {
                        ConnectorError::new(
                            PROVIDER_ID,
                            ErrorKind::Malformed,
                            format!("the old key lists stage key {s:?}, not of the form restApiId/stage: nothing was created"),
                        )
                    })
                })
                .collect::<Result<Vec<StageKey>, _>>()?;
            let mut made = client
                .create_api_key()
                .name(&name)
                .enabled(true)
                .set_description(like.description().map(str::to_owned))
                .set_customer_id(like.customer_id().map(str::to_owned))
                .set_tags(like.tags().filter(|t| !t.is_empty()).cloned())
                .set_stage_keys((!stage_keys.is_empty()).then_some(stage_keys))
                // Sent once: a retried create whose first answer was lost makes a second key.
                .customize()
                .config_override(
                    aws_sdk_apigateway::Config::builder()
                        .retry_config(aws_sdk_apigateway::config::retry::RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(|e| classify("CreateApiKey", e))?;
            let Some(new_id) = made.id().map(str::to_owned) else {
                return Err(ConnectorError::new(
                    PROVIDER_ID,
                    ErrorKind::Malformed,
                    "CreateApiKey answered without an id",
                ));
            };
            let secret = match made.value.take() {
                Some(value) => Ok(Secret::from(value)),
                // AWS answers with the value; read it back where an answer lacks it.
                None => client
                    .get_api_key()
                    .api_key(&new_id)
                    .include_value(true)
                    .send()
                    .await
                    .map_err(|e| classify("GetApiKey", e))
                    .and_then(|mut k| {
                        k.value.take().map(Secret::from).ok_or_else(|| {
                            ConnectorError::new(
                                PROVIDER_ID,
                                ErrorKind::Malformed,
                                "the new key was read back without its value",
                            )
                        })
                    }),
            };
            let joined = match secret {
                Ok(secret) => Self::join_plans(&client, &new_id, &plans).await.map(|()| secret),
                Err(e) => Err(e),
            };
            match joined {
                Ok(secret) => Ok(Created { external_id: format!("{region}/{new_id}"), secret, name }),
                Err(mut e) => {
                    if let Err(cleanup) = Self::delete_id(&client, &new_id).await {
                        e.message = format!(
                            "{}; the new key {region}/{new_id} could not be deleted ({}): the rotation's resume or abort deletes it",
                            e.message, cleanup.message
                        );
                    }
                    Err(e)
                }
            }
        })
    }

    /// A read-back, not a use of the key (API Gateway has no call a key makes by itself): the
    /// new key is enabled, holds the value sealed in the vault, has every stage key of the old
    /// key and is in every usage plan of the old key.
    fn verify<'a>(
        &'a self,
        old: &'a KeyRef,
        new_id: &'a str,
        secret: &'a Secret,
    ) -> BoxFuture<'a, Result<Liveness, ConnectorError>> {
        Box::pin(async move {
            let (region, old_id) = locate(&old.external_id)?;
            let (new_region, id) = locate(new_id)?;
            if new_region != region {
                return Ok(Liveness::Rejected);
            }
            let client = self.client(region);
            let key = match client.get_api_key().api_key(id).include_value(true).send().await {
                Ok(k) => k,
                // Not readable yet: the engine asks again until the settle time is over.
                Err(e) if e.code() == Some(NOT_FOUND) => return Ok(Liveness::Rejected),
                Err(e) => return Err(classify("GetApiKey", e)),
            };
            if !key.enabled() || key.value() != Some(secret.expose()) {
                return Ok(Liveness::Rejected);
            }
            let like = client
                .get_api_key()
                .api_key(old_id)
                .include_value(false)
                .send()
                .await
                .map_err(|e| classify("GetApiKey", e))?;
            if !like.stage_keys().iter().all(|s| key.stage_keys().contains(s)) {
                return Ok(Liveness::Rejected);
            }
            let wanted = Self::plans_of(&client, old_id).await?;
            let holding = Self::plans_of(&client, id).await?;
            Ok(if wanted.is_subset(&holding) { Liveness::Live(None) } else { Liveness::Rejected })
        })
    }

    fn disable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(self.set_enabled(key, false))
    }

    fn enable<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(self.set_enabled(key, true))
    }

    /// None: a REST API key never signs the connector in (SigV4 credentials do).
    fn signs_in_with(&self) -> BoxFuture<'_, Result<Vec<String>, ConnectorError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn delete<'a>(&'a self, key: &'a KeyRef) -> BoxFuture<'a, Result<(), ConnectorError>> {
        Box::pin(async move {
            let (region, id) = locate(&key.external_id)?;
            Self::delete_id(&self.client(region), id).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_added_once_and_ids_name_their_region() {
        assert_eq!(rotated_name("partner"), "partner (rotated)");
        assert_eq!(rotated_name("partner (rotated)"), "partner (rotated)");
        assert_eq!(base_name("partner (rotated)"), "partner");
        assert_eq!(locate("eu-west-1/abc123").unwrap(), ("eu-west-1", "abc123"));
        for bad in ["abc123", "/abc", "eu-west-1/", "eu-west-1/a/b"] {
            assert!(locate(bad).is_err(), "{bad}");
        }
        let k = stage_key("api1/prod").unwrap();
        assert_eq!((k.rest_api_id(), k.stage_name()), (Some("api1"), Some("prod")));
        assert!(stage_key("no-stage").is_none());
    }
}
