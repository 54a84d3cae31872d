//! Rotation by the scheduler. The policy's `rotate_after_days` says when a key is due and its
//! `auto` what the scheduled `rotations` job does about it: nothing (`off`), tell the user once
//! with the files a rotation would change (`propose`), or rotate it (`on`).
//!
//! This module decides, for every key, whether it is due and what is done, so that
//! `keyward rotations due` shows exactly what the next run will do; `api` does the rotating and
//! the telling. What it guards against, because a scheduler repeats itself every ten minutes:
//! - a proposal is made once per key (a rotated key has a new id, so its successor is proposed
//!   when it is due in turn);
//! - a key Keyward tried to rotate and could not (refused at the plan, or rolled back) is not
//!   tried again until the user acts; it is proposed with the reason instead;
//! - a key rotated by hand (Linear, a key registered by hand) is only ever proposed;
//! - at most [`PER_RUN`] rotations start in one run, oldest key first, so turning `auto` on for
//!   a large estate does not rotate it all at once (the rest go in the runs after);
//! - a key's age counts from when a rotation made it as well as from the provider's creation
//!   date, whichever is later: a provider answering an old date for a new key cannot make the
//!   scheduler rotate it again and again;
//! - a key whose provider asks for the user's password to make a key (Fastly automation tokens)
//!   is only proposed: no one is there to type it;
//! - a scheduled rotation keeps the old key at least [`MIN_GRACE`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::audit::Policy;
use crate::audit::policy::AutoRotation;
use crate::model::ApiKey;
use crate::store::rotations as journal;
use crate::vault::Vault;
use crate::{inventory, manual_rotation, time};

/// The most rotations one run of the scheduled job starts.
pub const PER_RUN: usize = 5;

/// The shortest grace period a scheduled rotation gives (whatever `rotation_grace_hours` says):
/// nobody watches it, so the old key must outlive a consumer that was missed long enough for
/// someone to notice.
pub const MIN_GRACE: Duration = Duration::from_secs(3_600);

/// What the scheduler does with a due key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Rotate it now.
    Rotate,
    /// Tell the user, with this reason when it is not simply the policy's `propose`.
    Propose(Option<String>),
    /// Nothing this run: proposed already, or more than [`PER_RUN`] rotations are due.
    Wait(String),
}

/// A key the policy says is due for rotation.
#[derive(Debug, Clone)]
pub struct Due {
    /// The key.
    pub key: ApiKey,
    /// Its age in days.
    pub age_days: i64,
    /// The policy's `rotate_after_days` for it.
    pub after_days: i64,
    /// The policy's `auto` for it (`propose` or `on`).
    pub auto: AutoRotation,
    /// The grace period a rotation by the scheduler gives it.
    pub grace: Duration,
    /// Whether the user makes its successor (Keyward cannot).
    pub by_hand: bool,
    /// When it was proposed, if it was.
    pub proposed_at: Option<DateTime<Utc>>,
    /// What the next run does.
    pub action: Action,
}

/// Every live key older than its policy's `rotate_after_days` whose `auto` is not `off` and that
/// has no rotation under way, oldest first, with what the next scheduled run does with it.
pub fn due(vault: &Vault, policy: &Policy, now: DateTime<Utc>) -> Result<Vec<Due>, Error> {
    let mut out = Vec::new();
    for key in inventory::list(vault)? {
        let Some(created) = key.created_at.filter(|_| key.is_live()) else { continue };
        let limits = policy.thresholds(&key.provider, &key.tags);
        if limits.auto == AutoRotation::Off {
            continue;
        }
        let made = journal::made_by_rotation_at(vault.conn(), &key.id)?;
        let age_days = time::age_days(made.map_or(created, |m| m.max(created)), now);
        if age_days <= limits.rotate_after() {
            continue;
        }
        let last = journal::last_of_key(vault.conn(), &key.id)?;
        if last.as_ref().is_some_and(|r| matches!(r.state.as_str(), "running" | "grace" | "failed")) {
            continue;
        }
        let proposal = journal::proposal(vault.conn(), &key.id)?;
        let by_hand = manual_rotation::rotated_by_hand(&key);
        let asks_password =
            keyward_connectors::providers::get(&key.provider).is_some_and(|p| p.rotation.asks_password);
        // Ended without replacing the key: rolled back, or done with the old key kept because
        // the provider would not delete it (New Relic's original license key).
        let rolled_back = last.filter(|r| r.state == "rolled_back" || r.state == "done");
        let action = match (limits.auto, by_hand, &proposal, rolled_back) {
            // Tried under `on` and refused: said once, not tried again.
            (_, _, Some(p), _) if p.auto == AutoRotation::On.as_str() => Action::Wait(format!("proposed: {}", p.why)),
            (AutoRotation::On, false, _, Some(r)) if r.state == "done" => Action::Propose(Some(format!(
                "its last rotation ({}) ended with this key kept, because the provider would not delete it",
                r.id
            ))),
            (AutoRotation::On, false, _, Some(r)) => Action::Propose(Some(format!(
                "its last rotation ({}) rolled back: {}",
                r.id,
                r.error.as_deref().unwrap_or("no reason recorded")
            ))),
            (AutoRotation::On, false, None, None) if asks_password => Action::Propose(Some(
                "the provider asks for your password to make a key, and no one is there to type it".into(),
            )),
            (AutoRotation::On, false, _, None) if !asks_password => Action::Rotate,
            (_, _, Some(p), _) => Action::Wait(format!("proposed: {}", p.why)),
            (AutoRotation::On, true, None, _) => {
                Action::Propose(Some("Keyward cannot make this provider's keys: rotate it by hand".into()))
            }
            _ => Action::Propose(None),
        };
        let grace_secs = (u64::try_from(limits.rotation_grace_hours).unwrap_or(0) * 3_600).max(MIN_GRACE.as_secs());
        out.push(Due {
            age_days,
            after_days: limits.rotate_after(),
            auto: limits.auto,
            grace: Duration::from_secs(grace_secs),
            by_hand,
            proposed_at: proposal.and_then(|p| p.proposed_at),
            action,
            key,
        });
    }
    out.sort_by(|a, b| b.age_days.cmp(&a.age_days).then_with(|| a.key.id.cmp(&b.key.id)));
    let mut started = 0;
    for d in &mut out {
        if d.action == Action::Rotate {
            started += 1;
            if started > PER_RUN {
                d.action = Action::Wait(format!("at most {PER_RUN} rotations start per run; this one waits its turn"));
            }
        }
    }
    Ok(out)
}

/// Records that `key_id`'s rotation was proposed under `auto` (so it is not proposed again).
pub fn record_proposal(vault: &Vault, key_id: &str, auto: AutoRotation, why: &str) -> Result<(), Error> {
    journal::record_proposal(vault.conn(), key_id, auto.as_str(), Utc::now(), why)
}
