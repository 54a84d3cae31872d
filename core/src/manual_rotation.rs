//! Rotation by hand, for keys no API can make: Linear keys (Linear has no API to create or
//! revoke one), Fastly user tokens, and any key registered by hand. Keyward cannot make the new
//! key, so it walks the user through it: where to make it, then it takes the new secret, checks
//! it with the provider where a harmless read can (Linear `viewer`), records it in the old one's
//! place (the old key retired, its findings resolved as rotated by the next audit), checks
//! whether the old key still works, and names the files that still hold it.
//!
//! There is no journal: the one write (the new key in, the old one retired) is one transaction,
//! and nothing at the provider is changed by Keyward.

use chrono::Utc;

use crate::activity::{self, Entry};
use crate::model::{ApiKey, MANUAL_ACCOUNT};
use crate::vault::Vault;
use crate::{Error, Secret, inventory, store};
use keyward_connectors::liveness::{Liveness, probe_with};
use keyward_connectors::providers::{self, Provider, VerifyFound};

/// What a rotation by hand did.
#[derive(Debug)]
pub struct Done {
    /// The new key, in the old one's place.
    pub new_key: ApiKey,
    /// How the new key was checked, in words.
    pub checked: String,
    /// Whether the old key still works at the provider (`None`: it cannot be told).
    pub old_still_works: Option<bool>,
    /// Files the exposure sweep saw the old key in.
    pub still_in: Vec<String>,
}

fn provider_of(key: &ApiKey) -> Result<&'static Provider, Error> {
    providers::get(&key.provider)
        .ok_or_else(|| Error::Unsupported(format!("{:?} is not a provider this build knows", key.provider)))
}

/// The kind a found key of this provider is checked as, where a token alone can be checked.
fn checkable(p: &Provider) -> Option<&'static str> {
    match &p.verify_found {
        VerifyFound::Yes { kind, partner: None, .. } => Some(kind),
        _ => None,
    }
}

/// Whether `key` is rotated by hand: registered by hand, or of a kind Keyward cannot make (a
/// provider this build does not know counts as by hand).
pub fn rotated_by_hand(key: &ApiKey) -> bool {
    let by_api = providers::get(&key.provider)
        .is_some_and(|p| p.rotation.kinds.contains(&key.kind.as_deref().unwrap_or_default()));
    !by_api || key.account == MANUAL_ACCOUNT
}

/// The steps of rotating `key` by hand, or `None` when Keyward rotates it itself.
pub fn guide(vault: &Vault, key: &ApiKey) -> Result<Option<Vec<String>>, Error> {
    let p = provider_of(key)?;
    if !rotated_by_hand(key) {
        return Ok(None);
    }
    let make = p.rotation.by_hand.unwrap_or("in the provider's console");
    let mut steps = vec![format!("make a new {} key {make}, with the same access as {:?}", p.name, key.name)];
    let places: Vec<String> =
        crate::exposure::consumers(vault, &key.id)?.into_iter().map(|e| e.path.display().to_string()).collect();
    if !places.is_empty() {
        steps.push(format!("put it where the old one is used: {}", places.join(", ")));
    }
    if key.account == MANUAL_ACCOUNT {
        let check = match checkable(p) {
            Some(_) => format!("Keyward checks it with {} and", call_of(p)),
            None => format!("Keyward cannot check a {} key by itself, so it", p.name),
        };
        steps.push(format!(
            "give it to Keyward: `keyward rotate {} --new-secret-stdin` ({check} records it in the old key's place)",
            key.id
        ));
        steps.push(format!("revoke the old key at {} (Keyward tells you whether it still works)", p.name));
    } else {
        steps.push(format!("revoke the old key at {}", p.name));
        steps.push(format!("`keyward sync`: connector {} lists the new key and drops the old one", key.account));
    }
    Ok(Some(steps))
}

fn call_of(p: &Provider) -> &'static str {
    match &p.verify_found {
        VerifyFound::Yes { call, .. } => call,
        VerifyFound::No(_) => "no call",
    }
}

/// Records `secret` as the successor of the key registered by hand `key_id`: checked with the
/// provider where it can be (`endpoint` overrides the provider's own, for the demo's
/// stand-ins), refused when the provider rejects it, then sealed into a new key in the old
/// one's place (same provider, name, owner and tags) while the old one is retired.
pub async fn by_hand(vault: &mut Vault, key_id: &str, secret: Secret, endpoint: Option<&str>) -> Result<Done, Error> {
    let old = inventory::get(vault, key_id)?;
    if old.account != MANUAL_ACCOUNT {
        return Err(Error::Unsupported(format!(
            "key {key_id} is listed by connector {}: Keyward records its successor at the next sync",
            old.account
        )));
    }
    if old.removed_at.is_some() {
        return Err(Error::Conflict(format!("key {key_id} is already retired")));
    }
    if secret.is_empty() {
        return Err(Error::Invalid { field: "secret", reason: "is empty (pass the new key on standard input)".into() });
    }
    let old_secret = match inventory::reveal(vault, key_id) {
        Ok(s) => Some(s),
        Err(Error::NoSecret(_)) => None,
        Err(e) => return Err(e),
    };
    if old_secret.as_ref().is_some_and(|s| s.expose() == secret.expose()) {
        return Err(Error::Invalid { field: "secret", reason: "is the old key's: make a new key first".into() });
    }
    let p = provider_of(&old)?;
    let probe = |token: &str| {
        let token = token.to_owned();
        async move {
            match checkable(p) {
                Some(kind) => Some(probe_with(p.id, kind, &token, None, endpoint, Default::default()).await),
                None => None,
            }
        }
    };
    let checked = match probe(secret.expose()).await {
        None => format!("not checked ({} keys cannot be checked alone)", p.name),
        Some(Ok(Liveness::Live(who))) => {
            format!("{} accepts it{}", p.name, who.map(|w| format!(" (user {w})")).unwrap_or_default())
        }
        Some(Ok(Liveness::Rejected)) => {
            return Err(Error::Conflict(format!(
                "{} does not accept the new key (mistyped, or not made yet): nothing changed",
                p.name
            )));
        }
        Some(Err(e)) => {
            return Err(Error::Conflict(format!("the new key could not be checked ({e}): nothing changed")));
        }
    };

    let new_id = uuid::Uuid::now_v7().to_string();
    let sealed = vault.seal("api_keys", "secret", &new_id, &secret)?;
    let now = Utc::now();
    let tags = serde_json::to_string(&old.tags).expect("tags serialize");
    let tx = vault.write()?;
    store::inventory::insert_manual(
        &tx,
        &store::inventory::ManualKey {
            id: &new_id,
            provider: &old.provider,
            name: &old.name,
            owner: old.owner.as_deref(),
            expires_at: None,
            sealed_secret: &sealed,
            at: now,
        },
    )?;
    store::inventory::set_tags(&tx, &new_id, &tags)?;
    store::inventory::retire(&tx, key_id, now, &format!("rotated by hand: replaced by {new_id}"))?;
    tx.commit()?;
    activity::record(vault, Entry::new("key.rotate_by_hand", "ok").provider(p.id).subject(key_id).detail(&new_id));
    tracing::info!(key_id, new_key_id = %new_id, "key rotated by hand");

    let old_still_works = match old_secret {
        Some(s) => match probe(s.expose()).await {
            Some(Ok(Liveness::Live(_))) => Some(true),
            Some(Ok(Liveness::Rejected)) => Some(false),
            _ => None,
        },
        None => None,
    };
    let still_in = crate::exposure::consumers(vault, key_id)?
        .into_iter()
        .filter(|e| e.revision.is_none())
        .map(|e| e.path.display().to_string())
        .collect();
    Ok(Done { new_key: inventory::get(vault, &new_id)?, checked, old_still_works, still_in })
}
