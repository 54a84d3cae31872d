//! Rotation: replacing a key at its provider without ever losing the only working credential.
//!
//! A rotation is a state machine whose every step is written to the vault before the provider
//! call it makes, and whose result is written right after (`store::rotations`):
//!
//! plan → (make room) → create (the new secret sealed in the same transaction that records the
//! new key) → verify (the provider accepts the new key) → hand-over (the files that use the key,
//! `crate::handover`, and the user's hook) → disable the old key (where the provider can) →
//! grace period → delete the old key → done. Rollback runs the other way: enable the old key,
//! put the files back, delete the new key.
//!
//! A rotation interrupted at any instant — SIGKILL, power lost — is resumed from what the vault
//! says, reconciled with the provider first: a create whose result was never recorded left a key
//! whose secret nobody has, so it is found ([`Rotator::keys_of`] against the keys the owner held
//! when the rotation was planned; exactly one, made within minutes of the create, or the user is
//! asked) and deleted before a new one is made. A new key the provider
//! does not accept in time is deleted and the old one kept (rolled back). Until the new key is
//! verified the old key is never touched, so at every instant the provider holds a working key
//! whose secret Keyward has sealed (or the user holds: the old one), and every key it holds for
//! the owner is one the vault knows, or one the next resume deletes.
//!
//! One process drives a rotation at a time (the lease `rotation:<key id>`); a key has at most one
//! rotation under way (a unique index); rotations of different keys are independent. Every step
//! goes to the activity log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use keyward_connectors::liveness::Liveness;
use keyward_connectors::providers::{HeldKey, KeyRef, Rotator};

use crate::activity::{self, Entry};
use crate::connector::{self, Connector};
use crate::lease::{self, Holder};
use crate::model::ApiKey;
use crate::store::rotations::{self as journal, RotationRow};
use crate::vault::Vault;
use crate::{Error, Secret, inventory, store};

/// How long a rotation's driver holds its lease between renewals: longer than any one step
/// can take (a verify waits at most ten minutes; every provider call has its own timeouts), and
/// renewed before each step, so a driver that lives never loses it mid-step.
const LEASE: Duration = Duration::from_secs(15 * 60);

/// How often a new key is tried while it settles.
const VERIFY_EVERY: Duration = Duration::from_secs(2);

/// What the user asked of a rotation.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the old key stays (disabled where the provider can) before it is deleted.
    pub grace: Duration,
    /// At a provider with a limit of keys per owner that is reached: delete the owner's other,
    /// *inactive* key first (never an active one).
    pub delete_inactive: bool,
    /// A command of the user's (run with `sh -c`) that gets the new secret on its standard
    /// input once the provider accepts the new key: for a secret manager, a CI variable, a
    /// Kubernetes secret. It may run again after a crash (make it idempotent); it is not undone.
    pub hook: Option<String>,
    /// The user's password, for a provider that asks for it again before it makes a key
    /// (Fastly's sudo mode); used by this run only, never stored.
    pub password: Option<Secret>,
}

impl Default for Options {
    fn default() -> Self {
        Self { grace: Duration::from_secs(24 * 60 * 60), delete_inactive: false, hook: None, password: None }
    }
}


/// The longest a hook may run.
const HOOK_TIME: Duration = Duration::from_secs(120);

/// What a rotation will do, before it does it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The key.
    pub key: ApiKey,
    /// Its connector's name.
    pub connector: String,
    /// The keys its owner holds at the provider now.
    pub held: Vec<HeldKey>,
    /// The steps, in words.
    pub steps: Vec<String>,
    /// The owner's other, inactive key deleted first (with consent), where the limit needs it.
    pub make_room: Option<String>,
    /// Why it cannot go ahead, if it cannot.
    pub refusal: Option<String>,
    /// The files the new key is handed over to, with their lines as they will change (masked).
    pub(crate) handovers: Vec<crate::handover::Planned>,
    /// The files that use the key and that the user updates (and why).
    pub(crate) left_to_you: Vec<crate::handover::Skipped>,
}

/// The provider's rotation entry and calls for a key's connector.
struct Provider {
    rotation: &'static keyward_connectors::providers::Rotation,
    calls: Box<dyn Rotator>,
}

fn live_connector(vault: &Vault, id: i64) -> Result<Connector, Error> {
    connector::list(vault)?.into_iter().find(|c| c.id == id).ok_or_else(|| {
        Error::Conflict("the key's connector was removed; its keys can no longer be rotated through Keyward".into())
    })
}

/// Opens the provider's rotation calls for a connector. (Takes `&mut Vault` so the future is
/// `Send`: a shared `&Vault` is not, and the scheduler and the app run this on other threads.)
async fn open(vault: &mut Vault, c: &Connector, password: Option<&Secret>) -> Result<Provider, Error> {
    let provider = keyward_connectors::providers::get(&c.provider)
        .ok_or_else(|| Error::Unsupported(format!("{:?} is not a provider this build knows", c.provider)))?;
    if c.settings.is_demo() {
        return Err(Error::Unsupported(
            "keys of the demo workspace are not rotated: its stand-ins only play back an estate".into(),
        ));
    }
    let mut credentials = connector::credentials(vault, c)?;
    if let Some(password) = password {
        credentials.insert(keyward_connectors::providers::TYPED_PASSWORD, password.clone());
    }
    let calls = provider.rotation.open(&c.settings, &credentials).await?;
    Ok(Provider { rotation: &provider.rotation, calls })
}

/// The MAC of what a rotation acts on: its key, connector, provider ids and owner.
fn identity_mac(vault: &Vault, r: &journal::Identity<'_>) -> Vec<u8> {
    vault.row_mac(
        "rotations",
        &[
            r.id.as_bytes(),
            r.key_id.as_bytes(),
            r.connector_id.to_string().as_bytes(),
            r.provider.as_bytes(),
            r.old_external_id.as_bytes(),
            r.owner.unwrap_or("\0").as_bytes(),
            r.kind.as_bytes(),
            r.name.as_bytes(),
            r.held_before.as_bytes(),
            r.hook.unwrap_or("\0").as_bytes(),
            r.grace_secs.to_string().as_bytes(),
        ],
    )
}

/// The MAC of the new key a rotation made.
fn new_key_mac(vault: &Vault, id: &str, new_key_id: &str, new_external_id: &str) -> Vec<u8> {
    vault.row_mac("rotations.new", &[id.as_bytes(), new_key_id.as_bytes(), new_external_id.as_bytes()])
}

/// The owner's key ids when the rotation was planned.
fn held_before(r: &RotationRow) -> Result<Vec<String>, Error> {
    serde_json::from_str(&r.held_before).map_err(|_| Error::Unreadable { what: format!("rotation {}", r.id) })
}

fn key_ref(key: &ApiKey) -> KeyRef {
    KeyRef {
        external_id: key.external_id.clone().unwrap_or_default(),
        owner: key.owner.clone(),
        kind: key.kind.clone().unwrap_or_default(),
        name: key.name.clone(),
    }
}

fn row_ref(r: &RotationRow) -> KeyRef {
    KeyRef { external_id: r.old_external_id.clone(), owner: r.owner.clone(), kind: r.kind.clone(), name: r.name.clone() }
}

fn new_ref(r: &RotationRow) -> Option<KeyRef> {
    Some(KeyRef {
        external_id: r.new_external_id.clone()?,
        owner: r.owner.clone(),
        kind: r.kind.clone(),
        name: r.new_external_id.clone()?,
    })
}

/// Whether Keyward rotates this key at all (and its connector), and if not, why.
fn rotatable(vault: &Vault, key: &ApiKey) -> Result<Connector, Error> {
    let provider = keyward_connectors::providers::get(&key.provider)
        .ok_or_else(|| Error::Unsupported(format!("{:?} is not a provider this build knows", key.provider)))?;
    let kind = key.kind.as_deref().unwrap_or_default();
    if !provider.rotation.kinds.contains(&kind) {
        let why = match provider.rotation.create {
            keyward_connectors::providers::Support::No(why) => why.to_owned(),
            _ => format!("{} keys of kind {kind:?} are not rotated by Keyward", provider.name),
        };
        return Err(Error::Unsupported(why));
    }
    if key.account == crate::model::MANUAL_ACCOUNT {
        return Err(Error::Unsupported("a key registered by hand is rotated by hand".into()));
    }
    if key.removed_at.is_some() {
        return Err(Error::Conflict(format!("key {} is gone from its provider", key.id)));
    }
    if key.external_id.is_none() {
        return Err(Error::Conflict(format!("key {} has no provider id to rotate", key.id)));
    }
    connector::find(vault, &key.account)?.ok_or_else(|| {
        Error::Conflict("the key's connector was removed; its keys can no longer be rotated through Keyward".into())
    })
}

/// The plan of a rotation of `key_id`: what the owner holds now, the steps, and whether it can go.
pub(crate) async fn plan(vault: &mut Vault, key_id: &str, opts: &Options) -> Result<Plan, Error> {
    let key = inventory::get(vault, key_id)?;
    let c = rotatable(vault, &key)?;
    if let Some(r) = journal::unfinished_of_key(vault.conn(), key_id)? {
        return Err(Error::Conflict(format!(
            "key {key_id} already has a rotation under way ({}, {}); `rotations resume {}` or `rotations abort {}`",
            r.id, r.state, r.id, r.id
        )));
    }
    let p = open(vault, &c, opts.password.as_ref()).await?;
    let old = key_ref(&key);
    // The provider's own refusal first: a connector refused for its role may not even list.
    let refused = p.calls.refusal(&old).await?;
    let held = match p.calls.keys_of(&old).await {
        Ok(held) => held,
        Err(_) if refused.is_some() => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let (make_room, mut refusal) = room(&p, &old, &held, opts);
    if let Some(why) = refused {
        refusal = Some(why);
    }
    if p.calls.signs_in_with().await?.contains(&old.external_id) {
        refusal = Some(format!(
            "{} is the key connector {} signs in with: rotating it would lock Keyward out of the account \
             (handing the new key to the connector is not built yet); rotate it by hand, then update the connector",
            old.external_id, c.name
        ));
    }
    let (handovers, left_to_you) = plan_handovers(vault, &key, p.rotation)?;
    let disable = p.rotation.disable.is_supported();
    let mut steps = Vec::new();
    if let Some(other) = &make_room {
        steps.push(format!("delete the owner's inactive key {other} (the provider allows {} keys)", held.len()));
    }
    let owner = old.owner.as_deref().unwrap_or("the same owner");
    match p.rotation.limits {
        [] => steps.push(format!("create a new key for {owner}")),
        limits => steps.push(format!("create a new key for {owner} (mind: {})", limits.join("; "))),
    }
    steps.push("seal the new secret in the vault".into());
    steps.push(format!("check that the provider accepts the new key (up to {} s)", p.rotation.settle.as_secs()));
    if let Some(hook) = &opts.hook {
        steps.push(format!("run `{hook}` with the new secret on its standard input"));
    }
    if !handovers.is_empty() {
        steps.push(format!(
            "write the new key into {} files that use the old one (only these lines change; each file kept, sealed, to restore on abort)",
            handovers.len()
        ));
    }
    if disable {
        steps.push(format!("disable the old key {}", old.external_id));
    }
    steps.push(format!(
        "keep the old key {} for {} (`rotations abort` brings it back)",
        if disable { "disabled" } else { "working" },
        words(opts.grace)
    ));
    steps.push(format!("delete the old key {}", old.external_id));
    Ok(Plan { key, connector: c.name, held, steps, make_room, refusal, handovers, left_to_you })
}

/// The files the exposure sweep saw the key's id in: those whose lines the provider's
/// `in_files` names describe are planned; the others (and history, which is not rewritten) are
/// the user's.
fn plan_handovers(
    vault: &Vault,
    key: &ApiKey,
    rotation: &keyward_connectors::providers::Rotation,
) -> Result<(Vec<crate::handover::Planned>, Vec<crate::handover::Skipped>), Error> {
    use crate::handover::{self, Skipped};
    let (mut planned, mut skipped) = (Vec::new(), Vec::new());
    let mut seen = std::collections::BTreeSet::new();
    let old_id = key.external_id.as_deref().unwrap_or_default();
    for e in crate::exposure::consumers(vault, &key.id)? {
        if !seen.insert((e.path.clone(), e.revision.clone())) {
            continue;
        }
        if let Some(rev) = &e.revision {
            let why = format!("in commit {rev} of a repository's history: history is not rewritten");
            skipped.push(Skipped { path: e.path, why });
            continue;
        }
        let Some(names) = &rotation.in_files else {
            skipped.push(Skipped { path: e.path, why: "Keyward does not write this provider's keys into files".into() });
            continue;
        };
        if !handover::is_credentials_file(&e.path) {
            let why = "not a credentials or environment file: a live secret written there could be committed or shared".into();
            skipped.push(Skipped { path: e.path, why });
            continue;
        }
        if handover::may_be_committed(&e.path) {
            let why = "in a git repository and not ignored there: a live secret written there could be committed".into();
            skipped.push(Skipped { path: e.path, why });
            continue;
        }
        match handover::read(&e.path) {
            Err(why) => skipped.push(Skipped { path: e.path, why }),
            Ok(text) => match handover::plan(names, &e.path, &text, old_id) {
                Ok(p) => planned.push(p),
                Err(s) => skipped.push(s),
            },
        }
    }
    Ok((planned, skipped))
}

/// The MAC of a planned hand-over: where and what it writes.
fn handover_mac(vault: &Vault, rotation_id: &str, seq: i64, path: &std::path::Path, edits: &str, digest: &[u8]) -> Vec<u8> {
    vault.row_mac(
        "rotation_handovers",
        &[rotation_id.as_bytes(), seq.to_string().as_bytes(), store::path_bytes(path), edits.as_bytes(), digest],
    )
}

/// Whether the owner has room for one more key: `(inactive key to delete first, refusal)`.
fn room(p: &Provider, old: &KeyRef, held: &[HeldKey], opts: &Options) -> (Option<String>, Option<String>) {
    let Some(max) = p.rotation.keys_per_owner else { return (None, None) };
    if held.len() < max {
        return (None, None);
    }
    let others: Vec<&HeldKey> = held.iter().filter(|k| k.external_id != old.external_id).collect();
    let inactive = others.iter().find(|k| !k.active).map(|k| k.external_id.clone());
    match (inactive, opts.delete_inactive) {
        (Some(id), true) if held.len() == max => (Some(id), None),
        (Some(id), false) => (
            None,
            Some(format!(
                "{} already holds {} keys, the most the provider allows; its other key {id} is inactive: \
                 rotate with --delete-inactive to delete it first",
                old.owner.as_deref().unwrap_or("the owner"),
                held.len()
            )),
        ),
        _ => (
            None,
            Some(format!(
                "{} already holds {} keys, the most the provider allows, and the other is active: \
                 find out who uses it, then delete it or rotate it instead",
                old.owner.as_deref().unwrap_or("the owner"),
                held.len()
            )),
        ),
    }
}

fn words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "no time".into(),
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hours", s / 3_600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// Starts a rotation of `key_id` as planned and drives it as far as it can go now: to the end
/// of the grace period's start (or to done, with no grace). Returns its id.
pub(crate) async fn start(
    vault: &mut Vault,
    key_id: &str,
    opts: &Options,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<String, Error> {
    let plan = plan(vault, key_id, opts).await?;
    if let Some(why) = plan.refusal {
        return Err(Error::Conflict(why));
    }
    let key = plan.key;
    let connector_id = rotatable(vault, &key)?.id;
    let id = uuid::Uuid::now_v7().to_string();
    let now = Utc::now();
    let holder = Holder::ending_with_process("a rotation");
    let held: Vec<&str> = plan.held.iter().map(|k| k.external_id.as_str()).collect();
    let held_before = serde_json::to_string(&held).expect("ids serialize");
    let grace_secs = i64::try_from(opts.grace.as_secs()).unwrap_or(i64::MAX);
    let identity = journal::Identity {
        id: &id,
        key_id,
        connector_id,
        provider: &key.provider,
        old_external_id: key.external_id.as_deref().unwrap_or_default(),
        owner: key.owner.as_deref(),
        kind: key.kind.as_deref().unwrap_or_default(),
        name: &key.name,
        held_before: &held_before,
        hook: opts.hook.as_deref(),
        grace_secs,
    };
    let mac = identity_mac(vault, &identity);
    let handovers: Vec<(i64, String, Vec<u8>, &crate::handover::Planned)> = plan
        .handovers
        .iter()
        .enumerate()
        .map(|(seq, h)| {
            let edits = serde_json::to_string(&h.edits).expect("edits serialize");
            let mac = handover_mac(vault, &id, seq as i64, &h.path, &edits, &h.digest);
            (seq as i64, edits, mac, h)
        })
        .collect();
    {
        let tx = vault.write()?;
        if let Some(other) = lease::take(&tx, &lease_name(key_id), &holder, LEASE, now)? {
            return Err(driven_elsewhere(key_id, &other));
        }
        journal::insert(&tx, &identity, now, &mac).map_err(|e| match e {
            Error::Vault(crate::vault::VaultError::Database(rusqlite::Error::SqliteFailure(f, _)))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict(format!("key {key_id} already has a rotation under way (`rotations list`)"))
            }
            e => e,
        })?;
        for (seq, edits, mac, h) in &handovers {
            journal::insert_handover(
                &tx,
                &journal::NewHandover {
                    rotation_id: &id,
                    seq: *seq,
                    path: &h.path,
                    edits,
                    digest_before: &h.digest,
                    mac,
                },
            )?;
        }
        tx.commit()?;
    }
    log(vault, key_id, "plan", "done", &format!("rotation {id}"));
    progress(&format!("rotation {id} planned"));
    let driven = async {
        if let Some(other) = &plan.make_room {
            make_room(vault, &id, other, opts.password.as_ref(), progress).await?;
        }
        drive_held(vault, &id, &holder, opts.password.as_ref(), progress).await
    }
    .await;
    let _ = lease::release(vault, &lease_name(key_id), &holder);
    driven.map(|_| id)
}

/// The owner's other, inactive key deleted first (the user consented).
async fn make_room(
    vault: &mut Vault,
    id: &str,
    other: &str,
    password: Option<&Secret>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let r = row(vault, id)?;
    let c = live_connector(vault, r.connector_id)?;
    let p = open(vault, &c, password).await?;
    if journal::old_keys_under_way(vault.conn(), r.connector_id)?.iter().any(|k| k == other) {
        return Err(fail_step(
            vault,
            &r,
            "make_room",
            Error::Conflict(format!("key {other} is the old key of another rotation under way; finish or abort it first")),
        ));
    }
    let target = KeyRef { external_id: other.to_owned(), ..row_ref(&r) };
    step_begin(vault, &r, "make_room")?;
    p.calls.delete(&target).await.map_err(|e| fail_step(vault, &r, "make_room", e.into()))?;
    let now = Utc::now();
    let tx = vault.write()?;
    if let Some(k) = store::inventory::keys_of_connector(&tx, r.connector_id)?.into_iter().find(|k| k.external_id == other) {
        store::inventory::retire(&tx, &k.id, now, &format!("deleted to make room for rotation {id}"))?;
    }
    journal::finish_step(&tx, id, "make_room", now, other)?;
    tx.commit()?;
    recorded(vault, &r.key_id, "make_room", other, &format!("deleted the owner's inactive key {other}"), progress);
    Ok(())
}

/// Resumes a rotation (after a crash, a failure, or to end its grace period): reconciles with
/// the provider and drives it as far as it can go now.
pub(crate) async fn resume(
    vault: &mut Vault,
    id: &str,
    password: Option<&Secret>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationRow, Error> {
    let r = row(vault, id)?;
    let holder = drive(vault, &r.key_id)?;
    if r.state == "failed" {
        let tx = vault.write()?;
        journal::set_state(&tx, id, "running", None, None, Utc::now())?;
        tx.commit()?;
    }
    let driven = drive_held(vault, id, &holder, password, progress).await;
    let _ = lease::release(vault, &lease_name(&r.key_id), &holder);
    driven
}

/// Aborts a rotation before its old key is deleted: the old key is enabled again (where it was
/// disabled), the new key deleted at the provider, and the rotation ends rolled back.
pub(crate) async fn abort(vault: &mut Vault, id: &str, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<RotationRow, Error> {
    let r = row(vault, id)?;
    match r.state.as_str() {
        "done" | "rolled_back" => {
            return Err(Error::Conflict(format!("rotation {id} has already ended ({})", r.state)));
        }
        _ if r.step == "delete" => {
            return Err(Error::Conflict(format!(
                "rotation {id} has begun deleting the old key; it cannot be undone: `rotations resume {id}` finishes it"
            )));
        }
        _ => {}
    }
    let holder = drive(vault, &r.key_id)?;
    let undone = async {
        // Read again under the lease: another process may have moved it meanwhile.
        let r = row(vault, id)?;
        if matches!(r.state.as_str(), "done" | "rolled_back") || r.step == "delete" {
            return Err(Error::Conflict(format!("rotation {id} has moved on ({}, {}); not aborted", r.state, r.step)));
        }
        // Nothing created yet (a create the provider refused): nothing to undo at the provider,
        // and no reconcile that could take another's new key for this one's.
        if matches!(r.step.as_str(), "plan" | "make_room") && r.step_done && r.new_external_id.is_none() {
            let why = "aborted by the user; nothing had been created";
            let tx = vault.write()?;
            journal::set_state(&tx, id, "rolled_back", None, Some(why), Utc::now())?;
            tx.commit()?;
            recorded(vault, &r.key_id, "abort", why, &format!("{why}; the old key {} is kept", r.old_external_id), progress);
            return row(vault, id);
        }
        let can_disable = keyward_connectors::providers::get(&r.provider)
            .is_some_and(|p| p.rotation.disable.is_supported());
        // The old key was (or may have been) disabled from the disable step on; an undo
        // already under way goes on where it is (an enable that failed is tried again).
        let first = match r.step.as_str() {
            "undo_disable" | "undo_create" => None,
            "undo_handover" => None,
            "disable" | "grace" if can_disable => Some("undo_disable"),
            _ if r.state == "grace" && can_disable => Some("undo_disable"),
            "handover" | "disable" | "grace" => Some("undo_handover"),
            _ if r.state == "grace" => Some("undo_handover"),
            _ => Some("undo_create"),
        };
        {
            // In a block of its own: a transaction in scope across the await below would make
            // this future not `Send` (the desktop's commands need it to be).
            let tx = vault.write()?;
            journal::set_state(&tx, id, "running", None, Some("aborted by the user"), Utc::now())?;
            if let Some(first) = first {
                journal::begin_step(&tx, id, first, Utc::now())?;
            }
            tx.commit()?;
        }
        if let Some(first) = first {
            crash_point(first, "begin");
        }
        drive_held(vault, id, &holder, None, progress).await
    }
    .await;
    let _ = lease::release(vault, &lease_name(&r.key_id), &holder);
    undone
}

/// Finishes every rotation whose grace period is over (the scheduler's work, and `rotations
/// resume` without an id): deletes the old keys. Returns each rotation's outcome.
pub(crate) async fn finish_due(vault: &mut Vault, now: DateTime<Utc>) -> Result<Vec<(String, Result<RotationRow, Error>)>, Error> {
    let due = journal::grace_over(vault.conn(), now)?;
    let mut out = Vec::new();
    for id in due {
        let r = resume(vault, &id, None, &|_| {}).await;
        out.push((id, r));
    }
    Ok(out)
}

/// Becomes the one process driving the rotation of `key_id` (its lease), or says who is.
fn drive(vault: &mut Vault, key_id: &str) -> Result<Holder, Error> {
    let holder = Holder::ending_with_process("a rotation");
    match lease::acquire(vault, &lease_name(key_id), &holder, LEASE, Utc::now())? {
        Some(other) => Err(driven_elsewhere(key_id, &other)),
        None => Ok(holder),
    }
}

fn lease_name(key_id: &str) -> String {
    format!("rotation:{key_id}")
}

fn driven_elsewhere(key_id: &str, other: &lease::HeldElsewhere) -> Error {
    Error::Conflict(format!(
        "the rotation of key {key_id} is being driven by {} (until {})",
        other.holder.replace(|c: char| c.is_control(), " "),
        crate::time::to_string(other.until)
    ))
}

/// A rotation, its MACs checked: a row edited outside Keyward (to point it at someone else's
/// key) is never acted on.
fn row(vault: &Vault, id: &str) -> Result<RotationRow, Error> {
    let r = journal::by_id(vault.conn(), id)?.ok_or_else(|| Error::NotFound { what: "rotation", id: id.to_owned() })?;
    let unreadable = || Error::Unreadable { what: format!("rotation {id}") };
    if !crate::vault::mac_eq(r.mac.as_deref(), &identity_mac(vault, &r.identity())) {
        return Err(unreadable());
    }
    match (&r.new_key_id, &r.new_external_id) {
        (None, None) => {}
        (Some(k), Some(e)) if crate::vault::mac_eq(r.new_mac.as_deref(), &new_key_mac(vault, id, k, e)) => {}
        _ => return Err(unreadable()),
    }
    Ok(r)
}

fn log(vault: &Vault, key_id: &str, step: &str, phase: &str, detail: &str) {
    activity::record(vault, Entry::new("rotation", format!("{step} {phase}")).subject(key_id).detail(detail));
}

/// What follows a step's recorded result: the tests' crash point, the activity log, the user's
/// line.
fn recorded(vault: &Vault, key_id: &str, step: &str, detail: &str, said: &str, progress: &(dyn Fn(&str) + Send + Sync)) {
    crash_point(step, "done");
    log(vault, key_id, step, "done", detail);
    progress(said);
}

/// Writes a step's beginning (before its call) and stops here when a test asked it to.
fn step_begin(vault: &mut Vault, r: &RotationRow, step: &str) -> Result<(), Error> {
    let tx = vault.write()?;
    journal::begin_step(&tx, &r.id, step, Utc::now())?;
    tx.commit()?;
    log(vault, &r.key_id, step, "begin", "");
    crash_point(step, "begin");
    Ok(())
}

/// Records a failed call: the rotation waits for the user (`resume` repeats the step, `abort`
/// rolls back). Returns the error to give back.
fn fail_step(vault: &mut Vault, r: &RotationRow, step: &str, e: Error) -> Error {
    let why = e.to_string();
    let now = Utc::now();
    let recorded = (|| -> Result<(), Error> {
        let tx = vault.write()?;
        journal::step_failed(&tx, &r.id, step, now, &why)?;
        journal::set_state(&tx, &r.id, "failed", None, Some(&why), now)?;
        tx.commit()?;
        Ok(())
    })();
    if let Err(re) = recorded {
        tracing::warn!(rotation = %r.id, error = %re, "a rotation's failure could not be recorded");
    }
    log(vault, &r.key_id, step, "failed", &why);
    e
}

/// Drives a rotation, its lease held, until it ends, waits out its grace period, or fails.
async fn drive_held(
    vault: &mut Vault,
    id: &str,
    holder: &Holder,
    password: Option<&Secret>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationRow, Error> {
    let mut provider: Option<Provider> = None;
    loop {
        let r = row(vault, id)?;
        if !lease::renew(vault, &lease_name(&r.key_id), holder, LEASE, Utc::now())? {
            return Err(Error::Conflict(format!("the rotation {id} was taken over by another process")));
        }
        match (r.state.as_str(), r.step.as_str(), r.step_done) {
            ("done" | "rolled_back", _, _) => return Ok(r),
            ("failed", _, _) => {
                return Err(Error::Conflict(format!(
                    "rotation {id} is waiting for you: {} (`rotations resume {id}` or `rotations abort {id}`)",
                    r.error.as_deref().unwrap_or("a step failed")
                )));
            }
            ("grace", _, _) => match r.grace_until {
                Some(until) if until > Utc::now() => {
                    progress(&format!("the old key stays until {} (grace period)", crate::time::to_string(until)));
                    return Ok(r);
                }
                Some(_) => {}
                // Never delete on an end that does not read: `rotations abort` is still open.
                None => return Err(Error::Unreadable { what: format!("rotation {id}'s grace period") }),
            },
            _ => {}
        }
        let p = match provider.take() {
            Some(p) => p,
            None => {
                let c = live_connector(vault, r.connector_id)?;
                open(vault, &c, password).await?
            }
        };
        step(vault, &r, &p, progress).await?;
        provider = Some(p);
    }
}

/// Takes one step from where the journal says the rotation is.
async fn step(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let old = row_ref(r);
    match (r.state.as_str(), r.step.as_str(), r.step_done) {
        ("running", "plan" | "make_room", true) => create(vault, r, p, progress).await,
        ("running", "make_room", false) => {
            // Interrupted while making room: the key it deletes is the owner's other inactive
            // one, found again.
            let held = p.calls.keys_of(&old).await.map_err(|e| fail_step(vault, r, "make_room", e.into()))?;
            if let Some(other) = held.iter().find(|k| k.external_id != old.external_id && !k.active) {
                let other = other.external_id.clone();
                // (Deleting needs no typed password at any provider: only making a key does.)
                make_room(vault, &r.id, &other, None, progress).await
            } else {
                let tx = vault.write()?;
                journal::finish_step(&tx, &r.id, "make_room", Utc::now(), "nothing left to delete")?;
                tx.commit()?;
                Ok(())
            }
        }
        ("running", "create", false) => {
            reconcile_create(vault, r, p, progress).await?;
            create(vault, r, p, progress).await
        }
        ("running", "create", true) | ("running", "verify", false) => verify(vault, r, p, progress).await,
        ("running", "verify", true) | ("running", "handover", false) => handover(vault, r, progress),
        ("running", "handover", true) | ("running", "disable", false) => disable(vault, r, p, progress).await,
        ("running", "disable", true) => grace(vault, r, progress),
        ("grace", _, _) | ("running", "delete" | "grace", false) => delete_old(vault, r, p, progress).await,
        ("running", "undo_disable", false) => {
            p.calls.enable(&old).await.map_err(|e| fail_step(vault, r, "undo_disable", e.into()))?;
            let now = Utc::now();
            let tx = vault.write()?;
            store::inventory::set_status(&tx, &r.key_id, "active", now)?;
            journal::finish_step(&tx, &r.id, "undo_disable", now, &old.external_id)?;
            journal::begin_step(&tx, &r.id, "undo_handover", now)?;
            tx.commit()?;
            recorded(vault, &r.key_id, "undo_disable", &old.external_id, &format!("enabled the old key {} again", old.external_id), progress);
            Ok(())
        }
        ("running", "undo_handover", false) => undo_handover(vault, r, progress),
        ("running", "undo_create", false) => undo_create(vault, r, p, progress).await,
        (state, step, done) => Err(Error::Conflict(format!(
            "rotation {} is in a state this build does not know ({state}, {step}, {})",
            r.id,
            if done { "done" } else { "begun" }
        ))),
    }
}

/// A create whose result was never recorded may have made a key whose secret nobody holds. Its
/// one candidate: a key the owner holds now that it did not hold when the rotation was planned,
/// that the vault holds no secret of, created within minutes of the create step's beginning.
/// Exactly one such key is deleted before another create; none, nothing to do; more (or keys
/// whose creation time the provider does not say), the rotation stops and asks the user rather
/// than guess which key is whose.
async fn reconcile_create(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let before = held_before(r)?;
    let held = p.calls.keys_of(&row_ref(r)).await.map_err(|e| fail_step(vault, r, "create", e.into()))?;
    let sealed = store::inventory::external_ids_with_secret(vault.conn(), r.connector_id)?;
    let began = journal::last_begin(vault.conn(), &r.id, "create")?;
    let slack = chrono::Duration::minutes(5);
    let (mut candidates, mut undated) = (Vec::new(), Vec::new());
    for k in held {
        if k.external_id == r.old_external_id || before.contains(&k.external_id) || sealed.contains(&k.external_id) {
            continue;
        }
        match (k.created_at, began) {
            (Some(at), Some(began)) if at >= began - slack && at <= Utc::now() + slack => candidates.push(k.external_id),
            (Some(_), Some(_)) => {} // made long before or after: not this rotation's
            _ => undated.push(k.external_id),
        }
    }
    if !undated.is_empty() || candidates.len() > 1 {
        let all: Vec<String> = candidates.into_iter().chain(undated).collect();
        return Err(fail_step(
            vault,
            r,
            "create",
            Error::Conflict(format!(
                "keys {} appeared while the create was interrupted and Keyward holds no secret of them: \
                 delete the one this rotation made (or all, if none is in use), then resume",
                all.join(", ")
            )),
        ));
    }
    if let Some(orphan) = candidates.pop() {
        let target = KeyRef { external_id: orphan.clone(), ..row_ref(r) };
        p.calls.delete(&target).await.map_err(|e| fail_step(vault, r, "create", e.into()))?;
        let tx = vault.write()?;
        journal::step_failed(
            &tx,
            &r.id,
            "create",
            Utc::now(),
            &format!("an interrupted create left key {orphan} with no stored secret; deleted it"),
        )?;
        tx.commit()?;
        log(vault, &r.key_id, "create", "reconciled", &format!("deleted {orphan}"));
        progress(&format!("deleted key {orphan}: an interrupted create made it, and its secret was never stored"));
    }
    Ok(())
}

async fn create(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    step_begin(vault, r, "create")?;
    let made = match p.calls.create(&row_ref(r)).await {
        Ok(made) => made,
        Err(e) => {
            // A refusal the provider gave (a 4xx, a per-key error, a 409 waited out) made
            // nothing: the next try creates without a reconcile that could take someone else's
            // new key for this one's. A lost answer (transport, 5xx, unreadable) may have made a
            // key: the step stays begun, and the resume reconciles first.
            use keyward_connectors::ErrorKind as K;
            let made_nothing = !matches!(e.kind, K::Transport | K::UnexpectedStatus | K::Malformed);
            let err = fail_step(vault, r, "create", e.into());
            if made_nothing {
                let tx = vault.write()?;
                journal::nothing_made(&tx, &r.id, Utc::now())?;
                tx.commit()?;
            }
            return Err(err);
        }
    };
    crash_point("create", "called");
    if made.external_id == r.old_external_id || held_before(r)?.contains(&made.external_id) {
        let why = format!("the provider answered the create with {}, a key that existed before", made.external_id);
        return Err(fail_step(vault, r, "create", Error::Conflict(why)));
    }
    let old = inventory::get(vault, &r.key_id)?;
    let new_key_id = uuid::Uuid::now_v7().to_string();
    let sealed = vault.seal("api_keys", "secret", &new_key_id, &made.secret)?;
    let new_mac = new_key_mac(vault, &r.id, &new_key_id, &made.external_id);
    let now = Utc::now();
    let scopes = serde_json::to_string(&old.scopes).expect("scopes serialize");
    let raw = old.raw_scopes.to_string();
    let tx = vault.write()?;
    store::inventory::insert_rotated(
        &tx,
        &store::inventory::RotatedKey {
            id: &new_key_id,
            provider: &r.provider,
            connector_id: r.connector_id,
            external_id: &made.external_id,
            name: &made.name,
            owner: r.owner.as_deref(),
            kind: &r.kind,
            scopes: &scopes,
            raw_scopes: &raw,
            sealed_secret: &sealed,
            at: now,
            rotation_id: &r.id,
        },
    )?;
    // The new key keeps the old one's tags: the policy's per-tag settings (an opt-out of
    // automatic rotation, a shorter period) follow the key, not its first id.
    store::inventory::set_tags(&tx, &new_key_id, &serde_json::to_string(&old.tags).expect("tags serialize"))?;
    journal::set_new_key(&tx, &r.id, &new_key_id, &made.external_id, &new_mac)?;
    journal::finish_step(&tx, &r.id, "create", now, &made.external_id)?;
    tx.commit()?;
    recorded(vault, &r.key_id, "create", &made.external_id, &format!("created key {} and sealed its secret", made.external_id), progress);
    Ok(())
}

async fn verify(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let (Some(new_key_id), Some(new_id)) = (r.new_key_id.as_deref(), r.new_external_id.as_deref()) else {
        return Err(Error::Conflict(format!("rotation {} has no new key to verify", r.id)));
    };
    if r.step != "verify" {
        step_begin(vault, r, "verify")?;
    }
    let secret: Secret = inventory::reveal(vault, new_key_id)?;
    let settle = settle(p);
    let deadline = std::time::Instant::now() + settle;
    let mut tries = 0;
    let accepted = loop {
        tries += 1;
        match p.calls.verify(&row_ref(r), new_id, &secret).await {
            Ok(Liveness::Live(_)) => break true,
            Ok(Liveness::Rejected) => {}
            Err(e) if e.kind == keyward_connectors::ErrorKind::Transport && std::time::Instant::now() < deadline => {}
            Err(e) => return Err(fail_step(vault, r, "verify", e.into())),
        }
        if std::time::Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(VERIFY_EVERY).await;
    };
    let now = Utc::now();
    if accepted {
        let tx = vault.write()?;
        journal::finish_step(&tx, &r.id, "verify", now, &format!("accepted after {tries} tries"))?;
        tx.commit()?;
        recorded(vault, &r.key_id, "verify", new_id, &format!("the provider accepts the new key {new_id}"), progress);
    } else {
        let why = format!("the provider did not accept the new key {new_id} within {} s", settle.as_secs());
        let tx = vault.write()?;
        journal::step_failed(&tx, &r.id, "verify", now, &why)?;
        journal::set_state(&tx, &r.id, "running", None, Some(&why), now)?;
        journal::begin_step(&tx, &r.id, "undo_create", now)?;
        tx.commit()?;
        log(vault, &r.key_id, "verify", "failed", &why);
        progress(&format!("{why}: rolling back"));
    }
    Ok(())
}

/// The rotation's planned hand-overs, their MACs checked.
fn handovers(vault: &Vault, r: &RotationRow) -> Result<Vec<(journal::HandoverRow, Vec<crate::handover::Edit>)>, Error> {
    let unreadable = || Error::Unreadable { what: format!("rotation {}'s hand-overs", r.id) };
    journal::handovers(vault.conn(), &r.id)?
        .into_iter()
        .map(|h| {
            if !crate::vault::mac_eq(h.mac.as_deref(), &handover_mac(vault, &r.id, h.seq, &h.path, &h.edits, &h.digest_before)) {
                return Err(unreadable());
            }
            let edits = serde_json::from_str(&h.edits).map_err(|_| unreadable())?;
            Ok((h, edits))
        })
        .collect()
}

fn backup_place(rotation_id: &str, seq: i64) -> String {
    format!("{rotation_id}/{seq}")
}

/// The name a hand-over's temporary file carries (see `handover::Place::replace`).
fn temp_tag(rotation_id: &str, seq: i64) -> String {
    format!("{rotation_id}-{seq}")
}

/// A hand-over's file, opened: its folder, its text and what it was (see `handover::Place`).
fn open_file(path: &std::path::Path) -> Result<(crate::handover::Place, String, libc::stat), String> {
    crate::handover::Place::open(path).and_then(|place| place.read().map(|(text, st)| (place, text, st)))
}

/// The file as it was before the hand-over wrote it, kept sealed in the vault.
fn original(vault: &Vault, r: &RotationRow, h: &journal::HandoverRow) -> Result<Option<Secret>, Error> {
    let Some(sealed) = &h.backup else { return Ok(None) };
    Ok(Some(vault.open_sealed("rotation_handovers", "backup", &backup_place(&r.id, h.seq), sealed)?))
}

/// What the hand-over wrote into its file: recorded, or — killed between the rename and the
/// record — what the write makes of the kept `original`.
fn wrote(
    r: &RotationRow,
    h: &journal::HandoverRow,
    edits: &[crate::handover::Edit],
    secret: Option<&Secret>,
    original: Option<&Secret>,
) -> Option<Vec<u8>> {
    if h.digest_after.is_some() {
        return h.digest_after.clone();
    }
    let (original, secret, new_id) = (original?, secret?, r.new_external_id.as_deref()?);
    crate::handover::apply(original.expose(), edits, new_id, secret).map(|t| crate::handover::digest(t.as_bytes()))
}

/// Writes the new key into the files planned: each one only if it is exactly as it was planned
/// (a file changed meanwhile is refused, never overwritten), its original sealed in the vault
/// before it is written. A refusal leaves the rotation waiting for the user, with the new key
/// working and the old one still on.
fn handover(vault: &mut Vault, r: &RotationRow, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<(), Error> {
    use crate::handover::{apply, digest};
    if r.step != "handover" {
        step_begin(vault, r, "handover")?;
    }
    let (Some(new_key_id), Some(new_id)) = (r.new_key_id.as_deref(), r.new_external_id.as_deref()) else {
        return Err(Error::Conflict(format!("rotation {} has no new key to hand over", r.id)));
    };
    let secret = inventory::reveal(vault, new_key_id)?;
    let (mut written, mut refused) = (0, Vec::new());
    for (h, edits) in handovers(vault, r)? {
        if !matches!(h.state.as_str(), "planned" | "writing") {
            continue;
        }
        let shown = h.path.display().to_string();
        let set = |vault: &mut Vault, state: &str, note: &str, backup: Option<&[u8]>, after: Option<&[u8]>| {
            let tx = vault.write()?;
            journal::set_handover(&tx, &r.id, h.seq, state, note, backup, after)?;
            tx.commit()?;
            Ok::<_, Error>(())
        };
        let tag = temp_tag(&r.id, h.seq);
        let (place, text, st) = match open_file(&h.path) {
            Ok(o) => o,
            Err(why) => {
                set(vault, "refused", &why, None, None)?;
                refused.push(format!("{shown}: {why}"));
                continue;
            }
        };
        // A killed run's temporary file (the new secret) goes first.
        place.clean(&tag);
        let now_digest = digest(text.as_bytes());
        // Interrupted between the backup and the record of the write: written already if the
        // file is what the write makes of the original.
        if h.state == "writing"
            && wrote(r, &h, &edits, Some(&secret), original(vault, r, &h)?.as_ref()).as_deref() == Some(&now_digest[..])
        {
            set(vault, "written", "", None, Some(&now_digest))?;
            written += 1;
            continue;
        }
        if now_digest != h.digest_before {
            let why = "changed since the rotation was planned: not overwritten";
            set(vault, "refused", why, None, None)?;
            refused.push(format!("{shown}: {why}"));
            continue;
        }
        let Some(new_text) = apply(&text, &edits, new_id, &secret) else {
            let why = "its lines no longer have the shape planned: not overwritten";
            set(vault, "refused", why, None, None)?;
            refused.push(format!("{shown}: {why}"));
            continue;
        };
        let sealed = vault.seal("rotation_handovers", "backup", &backup_place(&r.id, h.seq), &Secret::new(text))?;
        set(vault, "writing", "", Some(&sealed), None)?;
        crash_point("handover", "writing");
        if let Err(why) = place.replace(&new_text, &st, &tag) {
            set(vault, "refused", &why, None, None)?;
            refused.push(format!("{shown}: {why}"));
            continue;
        }
        crash_point("handover", "replaced");
        set(vault, "written", "", None, Some(&digest(new_text.as_bytes())))?;
        written += 1;
        progress(&format!("wrote the new key into {shown}"));
    }
    if let Some(hook) = &r.hook {
        match run_hook(hook, r, new_id, &secret) {
            Ok(()) => progress("the hook took the new key"),
            Err(why) => refused.push(format!("the hook `{hook}`: {why}")),
        }
    }
    // This run's refusals, and, until the user has been told once, those of a run killed before
    // it could say so; once told, `resume` goes on without those files.
    let told = journal::events(vault.conn(), &r.id)?.iter().any(|e| e.step == "handover" && e.phase == "failed");
    if !told {
        for (h, _) in handovers(vault, r)?.into_iter().filter(|(h, _)| h.state == "refused") {
            let line = format!("{}: {}", h.path.display(), h.note);
            if !refused.contains(&line) {
                refused.push(line);
            }
        }
    }
    let now = Utc::now();
    let tx = vault.write()?;
    journal::finish_step(&tx, &r.id, "handover", now, &format!("{written} files written, {} refused", refused.len()))?;
    if !refused.is_empty() {
        let why = format!(
            "the new key works, but not every file has it: {}; update by hand, then `rotations resume {}` (or abort)",
            refused.join("; "),
            r.id
        );
        journal::step_failed(&tx, &r.id, "handover", now, &why)?;
        journal::set_state(&tx, &r.id, "failed", None, Some(&why), now)?;
        tx.commit()?;
        log(vault, &r.key_id, "handover", "failed", &why);
        return Err(Error::Conflict(why));
    }
    tx.commit()?;
    crash_point("handover", "done");
    log(vault, &r.key_id, "handover", "done", &format!("{written} files"));
    Ok(())
}

/// Runs the user's hook with the new secret on its standard input (never in its arguments or
/// environment, which other processes can read); what it prints is not kept (it could echo the
/// secret).
fn run_hook(hook: &str, r: &RotationRow, new_id: &str, secret: &Secret) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(hook)
        .env_remove("KEYWARD_PASSPHRASE")
        .env("KEYWARD_ROTATION_ID", &r.id)
        .env("KEYWARD_KEY_ID", &r.key_id)
        .env("KEYWARD_PROVIDER", &r.provider)
        .env("KEYWARD_OLD_EXTERNAL_ID", &r.old_external_id)
        .env("KEYWARD_NEW_EXTERNAL_ID", new_id)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot be started: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its input is its own business: a closed pipe is not an
        // error, and must not kill this process (the CLI restores SIGPIPE's default action).
        // SAFETY: signal(2) with a valid signal and handler; the previous one is put back.
        let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        let _ = stdin.write_all(secret.expose().as_bytes());
        drop(stdin);
        // SAFETY: as above.
        unsafe { libc::signal(libc::SIGPIPE, previous) };
    }
    let deadline = std::time::Instant::now() + HOOK_TIME;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("failed ({status})")),
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("ran longer than {} s and was stopped", HOOK_TIME.as_secs()));
            }
            Err(e) => return Err(format!("cannot be waited for: {e}")),
        }
    }
}

/// Puts back the files a hand-over wrote, each one only if it is still as Keyward wrote it (a
/// file the user changed since is kept, and said).
fn undo_handover(vault: &mut Vault, r: &RotationRow, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<(), Error> {
    use crate::handover::digest;
    let new_secret = match &r.new_key_id {
        Some(k) => Some(inventory::reveal(vault, k)?),
        None => None,
    };
    let mut kept = Vec::new();
    for (h, edits) in handovers(vault, r)? {
        if !matches!(h.state.as_str(), "writing" | "written") {
            continue;
        }
        let shown = h.path.display().to_string();
        let tag = temp_tag(&r.id, h.seq);
        let opened = open_file(&h.path);
        let original = original(vault, r, &h)?;
        let wrote = wrote(r, &h, &edits, new_secret.as_ref(), original.as_ref());
        let (state, note) = match (&opened, &original) {
            (Ok((_, text, _)), _) if digest(text.as_bytes()) == h.digest_before => ("restored", "never written"),
            (Ok((place, text, st)), Some(original)) if Some(digest(text.as_bytes())) == wrote => {
                place.clean(&tag);
                place
                    .replace(original.expose(), st, &tag)
                    .map_err(|why| Error::Conflict(format!("{shown} cannot be put back: {why}")))?;
                progress(&format!("put {shown} back as it was"));
                ("restored", "")
            }
            _ => {
                kept.push(shown.clone());
                ("kept", "changed since Keyward wrote it: not restored")
            }
        };
        let tx = vault.write()?;
        journal::set_handover(&tx, &r.id, h.seq, state, note, None, None)?;
        tx.commit()?;
    }
    for shown in &kept {
        progress(&format!("{shown} changed since Keyward wrote the new key into it: left as it is; put the old key back by hand"));
    }
    let now = Utc::now();
    let tx = vault.write()?;
    journal::finish_step(&tx, &r.id, "undo_handover", now, &format!("{} files kept as they are", kept.len()))?;
    journal::begin_step(&tx, &r.id, "undo_create", now)?;
    tx.commit()?;
    crash_point("undo_handover", "done");
    log(vault, &r.key_id, "undo_handover", "done", "");
    Ok(())
}

async fn disable(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let old = row_ref(r);
    if !p.rotation.disable.is_supported() {
        let tx = vault.write()?;
        journal::finish_step(&tx, &r.id, "disable", Utc::now(), "the provider cannot disable keys; the old one stays on")?;
        tx.commit()?;
        return Ok(());
    }
    if r.step != "disable" {
        step_begin(vault, r, "disable")?;
    }
    p.calls.disable(&old).await.map_err(|e| fail_step(vault, r, "disable", e.into()))?;
    let now = Utc::now();
    let tx = vault.write()?;
    store::inventory::set_status(&tx, &r.key_id, "inactive", now)?;
    journal::finish_step(&tx, &r.id, "disable", now, &old.external_id)?;
    tx.commit()?;
    recorded(vault, &r.key_id, "disable", &old.external_id, &format!("disabled the old key {}", old.external_id), progress);
    Ok(())
}

fn grace(vault: &mut Vault, r: &RotationRow, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<(), Error> {
    let now = Utc::now();
    let until = now + chrono::Duration::seconds(r.grace_secs.clamp(0, 10 * 365 * 86_400));
    let tx = vault.write()?;
    journal::begin_step(&tx, &r.id, "grace", now)?;
    journal::set_state(&tx, &r.id, "grace", Some(until), None, now)?;
    tx.commit()?;
    crash_point("grace", "begin");
    log(vault, &r.key_id, "grace", "begin", &crate::time::to_string(until));
    if r.grace_secs > 0 {
        progress(&format!("grace period until {}", crate::time::to_string(until)));
    }
    Ok(())
}

async fn delete_old(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    let old = row_ref(r);
    if r.step != "delete" {
        let now = Utc::now();
        let tx = vault.write()?;
        journal::set_state(&tx, &r.id, "running", None, None, now)?;
        journal::begin_step(&tx, &r.id, "delete", now)?;
        tx.commit()?;
        log(vault, &r.key_id, "delete", "begin", "");
        crash_point("delete", "begin");
    }
    // A provider that will never delete this key (New Relic's original license key) leaves it
    // to the user: the new key is in place, the old one keeps working, and the rotation ends.
    let kept = match p.calls.delete(&old).await {
        Ok(()) => None,
        Err(e) if e.kind == keyward_connectors::ErrorKind::Unsupported => Some(e.message),
        Err(e) => return Err(fail_step(vault, r, "delete", e.into())),
    };
    // The places that used the old key, read again: one still holding it breaks now.
    let lingering = still_holding(vault, r)?;
    let gone = if kept.is_some() { "kept" } else { "deleted" };
    for place in &lingering {
        progress(&format!("warning: the {gone} key {} is still in {place}", old.external_id));
    }
    let mut detail = match &kept {
        None => old.external_id.clone(),
        Some(why) => format!("{} kept: {why}", old.external_id),
    };
    if !lingering.is_empty() {
        detail = format!("{detail}; still in {}", lingering.join(", "));
    }
    let now = Utc::now();
    let tx = vault.write()?;
    if kept.is_none() {
        store::inventory::retire(&tx, &r.key_id, now, &format!("rotated: rotation {}", r.id))?;
    }
    journal::drop_backups(&tx, &r.id)?;
    journal::finish_step(&tx, &r.id, "delete", now, &detail)?;
    journal::set_state(&tx, &r.id, "done", None, None, now)?;
    tx.commit()?;
    let said = match &kept {
        None => format!("deleted the old key {}; rotation done", old.external_id),
        Some(why) => format!(
            "the provider would not delete the old key {} ({why}): it still works, delete it yourself; rotation done",
            old.external_id
        ),
    };
    recorded(vault, &r.key_id, "delete", &detail, &said, progress);
    Ok(())
}

/// The files that used the old key (the hand-over's and the sweep's) that still hold its id.
fn still_holding(vault: &Vault, r: &RotationRow) -> Result<Vec<String>, Error> {
    let mut places: Vec<std::path::PathBuf> = journal::handovers(vault.conn(), &r.id)?.into_iter().map(|h| h.path).collect();
    places.extend(crate::exposure::consumers(vault, &r.key_id)?.into_iter().filter(|e| e.revision.is_none()).map(|e| e.path));
    places.sort();
    places.dedup();
    Ok(places
        .into_iter()
        .filter(|p| crate::handover::read(p).is_ok_and(|text| text.contains(&r.old_external_id)))
        .map(|p| p.display().to_string())
        .collect())
}

async fn undo_create(
    vault: &mut Vault,
    r: &RotationRow,
    p: &Provider,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), Error> {
    // A create interrupted before its result was recorded left a key nobody knows: found and
    // deleted as a resume would.
    if r.new_external_id.is_none() {
        reconcile_create(vault, r, p, progress).await?;
    }
    if let Some(new) = new_ref(r) {
        p.calls.delete(&new).await.map_err(|e| fail_step(vault, r, "undo_create", e.into()))?;
    }
    let now = Utc::now();
    let why = r.error.clone().unwrap_or_else(|| "rolled back".into());
    let tx = vault.write()?;
    if let Some(new_key_id) = &r.new_key_id {
        store::inventory::retire(&tx, new_key_id, now, &format!("rolled back: rotation {}", r.id))?;
    }
    journal::drop_backups(&tx, &r.id)?;
    journal::finish_step(&tx, &r.id, "undo_create", now, r.new_external_id.as_deref().unwrap_or(""))?;
    journal::set_state(&tx, &r.id, "rolled_back", None, Some(&why), now)?;
    tx.commit()?;
    recorded(vault, &r.key_id, "undo_create", &why, &format!("rolled back ({why}); the old key {} is kept", r.old_external_id), progress);
    Ok(())
}

/// How long a new key may take to be accepted: the provider's figure, or
/// `KEYWARD_ROTATION_SETTLE_SECS` (1 s to 10 min; tests of a key that never works).
fn settle(p: &Provider) -> Duration {
    std::env::var("KEYWARD_ROTATION_SETTLE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(p.rotation.settle, |s| Duration::from_secs(s.clamp(1, 600)))
}

/// Test builds only: `KEYWARD_ROTATION_CRASH=<step>:<phase>` kills this process with SIGKILL
/// at that point, so the crash tests can stop a real `keyward` right after any step.
fn crash_point(step: &str, phase: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("KEYWARD_ROTATION_CRASH").is_ok_and(|v| v == format!("{step}:{phase}")) {
        // SAFETY: kill(2) on this process; nothing after it runs.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    let _ = (step, phase);
}
