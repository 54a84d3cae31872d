//! Findings that live across audits: first seen, last seen, a state the user can change
//! (acknowledge, snooze until a date) and one the engine changes (resolved, and why), with the
//! history of every change.
//!
//! The rules are pure and forget everything between runs; this module is what remembers. Each
//! audit is reconciled against the stored findings by fingerprint (rule + subject): new ones
//! open, vanished ones resolve with a reason (key rotated, key deleted, rule passed, policy
//! changed), resolved ones that fire again reopen, and a severity that rises is an escalation.
//! What changed is returned so notifications can tell the user once, not every audit.
//!
//! Risk scores are derived here too: a key's score is the sum of the weights of its open
//! findings (its own, and its owner's), each part listed so the number explains itself.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{self, AuditContext, Finding, Policy, Severity, Snapshot};
use crate::model::ApiKey;
use crate::store::findings as store;
use crate::vault::Vault;
use crate::{Error, time};

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Firing and not yet looked at (or back after a snooze or an escalation).
    Open,
    /// Firing; the user has seen it and accepts it for now.
    Acknowledged,
    /// Firing; hidden until a date.
    Snoozed,
    /// No longer firing.
    Resolved,
}

impl State {
    /// The states of a finding that still fires.
    pub const FIRING: &'static [State] = &[State::Open, State::Acknowledged, State::Snoozed];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::Snoozed => "snoozed",
            State::Resolved => "resolved",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [State::Open, State::Acknowledged, State::Snoozed, State::Resolved].into_iter().find(|v| v.as_str() == s)
    }
}

/// Why a finding stopped firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The key was replaced: it is gone or off, and its owner has a newer live key of its kind.
    KeyRotated,
    /// The key is gone at the provider.
    KeyDeleted,
    /// The condition no longer holds.
    RulePassed,
    /// It would still fire under the policy of the previous audit; the policy changed.
    PolicyChanged,
}

impl Resolution {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::KeyRotated => "key_rotated",
            Resolution::KeyDeleted => "key_deleted",
            Resolution::RulePassed => "rule_passed",
            Resolution::PolicyChanged => "policy_changed",
        }
    }
}

/// A finding as shown to users and written to reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct FindingView {
    /// Stable id (for `findings ack ID`).
    pub id: i64,
    /// Rule id.
    pub rule_id: String,
    /// `low`, `medium`, `high` or `critical`.
    #[cfg_attr(feature = "bindings", ts(type = "\"low\" | \"medium\" | \"high\" | \"critical\""))]
    pub severity: String,
    /// What it adds to its key's risk score while open.
    pub weight: u32,
    /// `open`, `acknowledged`, `snoozed` or `resolved`.
    pub state: State,
    /// Keyward's key id, for key findings.
    pub key_id: Option<String>,
    /// Provider id.
    pub provider: String,
    /// Connector name or `manual`.
    pub account: String,
    /// The provider's key id; null for owner, account and resource findings.
    pub external_id: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Posture findings: the resource's id.
    pub resource: Option<String>,
    /// Rule title.
    pub title: String,
    /// What was found.
    pub detail: String,
    /// What to do.
    pub remediation: String,
    /// First audit that found it.
    pub first_seen_at: String,
    /// Latest audit that found it.
    pub last_seen_at: String,
    /// Snoozed findings: until when.
    pub snoozed_until: Option<String>,
    /// Resolved findings: why.
    pub resolution: Option<String>,
    /// The user's note from acknowledging or snoozing.
    pub note: Option<String>,
    /// The key's name, for key findings (keys registered by hand have no provider id to show).
    pub key_name: Option<String>,
    /// The practices its rule serves (`rate-limiting`, …; see `audit::practice`).
    pub practices: Vec<String>,
    /// The benchmark controls it breaks (`cis-aws-1.14`, …), for its provider.
    pub controls: Vec<String>,
}

/// One entry of a finding's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct FindingEvent {
    /// When.
    pub at: String,
    /// `opened`, `reopened`, `escalated`, `deescalated`, `acknowledged`, `snoozed`,
    /// `snooze_ended`, `resolved`.
    pub event: String,
    /// Severity at that point.
    pub severity: Option<String>,
    /// Detail at that point, or the user's note.
    pub detail: Option<String>,
    /// Resolution reason, or the snooze date.
    pub reason: Option<String>,
}

/// What an audit changed, for notifications and the summary line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct Change {
    /// The finding.
    pub finding_id: i64,
    /// `opened`, `reopened`, `escalated` or `resolved`.
    pub change: &'static str,
}

/// An audit's outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditRun {
    /// The run's id.
    pub run_id: i64,
    /// Findings firing now (open, acknowledged or snoozed).
    pub firing: usize,
    /// New, reopened and escalated findings, and resolved ones, in that order.
    pub changes: Vec<Change>,
}

impl AuditRun {
    /// How many changes of a kind.
    pub fn count(&self, change: &str) -> usize {
        self.changes.iter().filter(|c| c.change == change).count()
    }
}

struct Stored {
    id: i64,
    state: State,
    severity: Severity,
    snoozed_until: Option<DateTime<Utc>>,
    key_id: Option<String>,
}

/// Reconciles this audit's findings with the stored ones, in one transaction.
///
/// `previous` is the policy of the previous audit when it differs from `policy`: findings that
/// stop firing but would still fire under it resolve as `policy_changed`.
pub fn record(
    vault: &mut Vault,
    snapshot: &Snapshot,
    findings: &[Finding<'_>],
    policy: &Policy,
    previous: Option<&Policy>,
    policy_digest: &str,
    now: DateTime<Utc>,
) -> Result<AuditRun, Error> {
    let tx = vault.write()?;
    let stored: HashMap<String, Stored> = store::stored(&tx)?
        .into_iter()
        .map(|r| {
            let s = Stored {
                id: r.id,
                state: State::parse(&r.state).unwrap_or(State::Open),
                severity: Severity::parse(&r.severity).unwrap_or(Severity::Low),
                snoozed_until: r.snoozed_until,
                key_id: r.key_id,
            };
            (r.fingerprint, s)
        })
        .collect();
    let run = store::insert_run(&tx, now, findings.len(), policy_digest)?;
    let event = |finding_id, event, severity, detail, reason| store::NewEvent {
        finding_id,
        audit_run: Some(run),
        at: now,
        event,
        severity,
        detail,
        reason,
    };
    let mut changes = Vec::new();
    let mut resolved_changes = Vec::new();
    let mut seen: HashSet<String> = HashSet::with_capacity(findings.len());
    for f in findings {
        let fp = f.fingerprint();
        if !seen.insert(fp.clone()) {
            continue; // one finding per rule and subject
        }
        let sev = f.severity.as_str();
        let sighting = store::Sighting {
            severity: sev,
            weight: policy.weight(f.rule.id, f.severity),
            title: f.rule.title,
            detail: &f.detail,
            owner: f.owner(),
        };
        let detail = Some(&*f.detail);
        match stored.get(&fp) {
            None => {
                let id = store::insert(
                    &tx,
                    &store::NewFinding {
                        fingerprint: &fp,
                        rule_id: f.rule.id,
                        key_id: f.key_id(),
                        provider: f.provider(),
                        account: f.account(),
                        external_id: f.external_id(),
                        resource: f.resource(),
                        seen: sighting,
                    },
                    now,
                )?;
                store::insert_event(&tx, &event(id, "opened", Some(sev), detail, None))?;
                changes.push(Change { finding_id: id, change: "opened" });
            }
            Some(s) => {
                store::update_seen(&tx, s.id, &sighting, now)?;
                let escalated = f.severity > s.severity;
                if escalated || f.severity < s.severity {
                    let e = if escalated { "escalated" } else { "deescalated" };
                    store::insert_event(&tx, &event(s.id, e, Some(sev), detail, None))?;
                }
                let snooze_over = s.state == State::Snoozed && s.snoozed_until.is_none_or(|u| u <= now);
                if s.state == State::Resolved {
                    store::set_state(&tx, s.id, State::Open.as_str(), None, now)?;
                    store::insert_event(&tx, &event(s.id, "reopened", Some(sev), detail, None))?;
                    changes.push(Change { finding_id: s.id, change: "reopened" });
                } else if escalated {
                    if s.state != State::Open {
                        store::set_state(&tx, s.id, State::Open.as_str(), None, now)?;
                    }
                    changes.push(Change { finding_id: s.id, change: "escalated" });
                } else if snooze_over {
                    store::set_state(&tx, s.id, State::Open.as_str(), None, now)?;
                    store::insert_event(&tx, &event(s.id, "snooze_ended", Some(sev), detail, None))?;
                }
            }
        }
    }

    // Findings that stopped firing.
    let vanished: Vec<(&String, &Stored)> =
        stored.iter().filter(|(fp, s)| s.state != State::Resolved && !seen.contains(*fp)).collect();
    let under_previous: HashSet<String> = match previous {
        Some(prev) if !vanished.is_empty() => audit::evaluate(snapshot, &AuditContext { now, policy: prev })
            .iter()
            .map(Finding::fingerprint)
            .collect(),
        _ => HashSet::new(),
    };
    // Built only when something vanished: the snapshot's keys by id, and the newest live key
    // of each owner and kind (a key that went away while a newer one lives was rotated).
    let (keys, newest) = if vanished.is_empty() { Default::default() } else { key_indexes(snapshot) };
    for (fp, s) in vanished {
        let reason = if under_previous.contains(fp) {
            Resolution::PolicyChanged
        } else {
            match s.key_id.as_deref() {
                Some(id) => key_resolution(&tx, id, keys.get(id).copied(), &newest)?,
                None => Resolution::RulePassed,
            }
        };
        store::set_state(&tx, s.id, State::Resolved.as_str(), Some(reason.as_str()), now)?;
        store::insert_event(&tx, &event(s.id, "resolved", None, None, Some(reason.as_str())))?;
        resolved_changes.push(Change { finding_id: s.id, change: "resolved" });
    }
    let opened = changes.iter().filter(|c| c.change != "escalated").count();
    store::finish_run(&tx, run, opened, resolved_changes.len())?;
    tx.commit()?;
    changes.extend(resolved_changes);
    Ok(AuditRun { run_id: run, firing: findings.len(), changes })
}

/// A key's owner and kind within its account: the keys that can replace one another.
type Lineage<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);

/// The snapshot's keys by id, and the newest creation time of a live key per lineage.
#[allow(clippy::type_complexity)]
fn key_indexes(snapshot: &Snapshot) -> (HashMap<&str, &ApiKey>, HashMap<Lineage<'_>, Option<DateTime<Utc>>>) {
    let keys = snapshot.keys.iter().map(|k| (k.id.as_str(), k)).collect();
    let mut newest: HashMap<Lineage<'_>, Option<DateTime<Utc>>> = HashMap::new();
    for k in snapshot.keys.iter().filter(|k| k.is_live()) {
        let Some(owner) = k.owner.as_deref() else { continue };
        let slot = newest.entry((&k.provider, &k.account, owner, k.kind.as_deref())).or_default();
        *slot = (*slot).max(k.created_at);
    }
    (keys, newest)
}

/// Why a key finding stopped firing: a key that is gone or off was rotated when its owner has a
/// newer live key of the same kind in the same account, else deleted (gone) or the rule passed.
/// `live` is the key when the snapshot (which holds only keys still at the provider) has it.
fn key_resolution(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    live: Option<&ApiKey>,
    newest: &HashMap<Lineage<'_>, Option<DateTime<Utc>>>,
) -> Result<Resolution, Error> {
    let loaded;
    let key = match live {
        Some(k) => k,
        None => match crate::inventory::get_in(tx, id).optional_found()? {
            Some(k) => {
                loaded = k;
                &loaded
            }
            None => return Ok(Resolution::KeyDeleted),
        },
    };
    let gone = key.removed_at.is_some();
    if !gone && key.is_live() {
        return Ok(Resolution::RulePassed);
    }
    let replaced = key.owner.as_deref().is_some_and(|owner| {
        newest
            .get(&(key.provider.as_str(), key.account.as_str(), owner, key.kind.as_deref()))
            .is_some_and(|n| *n > key.created_at)
    });
    Ok(if replaced {
        Resolution::KeyRotated
    } else if gone {
        Resolution::KeyDeleted
    } else {
        Resolution::RulePassed
    })
}

trait OptionalFound<T> {
    fn optional_found(self) -> Result<Option<T>, Error>;
}

impl<T> OptionalFound<T> for Result<T, Error> {
    fn optional_found(self) -> Result<Option<T>, Error> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A finding's view from its row: its state parsed, its rule's remediation, practices and controls added.
fn view(r: store::FindingRow) -> FindingView {
    let meta = crate::audit::rules::meta_of(&r.rule_id);
    FindingView {
        practices: meta.map(|m| m.practice_ids().into_iter().map(str::to_owned).collect()).unwrap_or_default(),
        controls: meta.map(|m| m.controls_for(&r.provider).map(str::to_owned).collect()).unwrap_or_default(),
        id: r.id,
        remediation: meta.map(|m| m.remediation).unwrap_or_default().to_owned(),
        rule_id: r.rule_id,
        severity: r.severity,
        weight: r.weight,
        state: State::parse(&r.state).unwrap_or(State::Open),
        key_id: r.key_id,
        provider: r.provider,
        account: r.account,
        external_id: r.external_id,
        owner: r.owner,
        resource: r.resource,
        title: r.title,
        detail: r.detail,
        first_seen_at: r.first_seen_at,
        last_seen_at: r.last_seen_at,
        snoozed_until: r.snoozed_until,
        resolution: r.resolution,
        note: r.note,
        key_name: r.key_name,
    }
}

/// Findings in the given states (all when empty), most severe first, then by rule order.
pub fn list(vault: &Vault, states: &[State]) -> Result<Vec<FindingView>, Error> {
    Ok(ordered(store::all(vault.conn())?, states))
}

/// One key's findings in the given states (all when empty), its owner's included (a key inherits
/// its owner's risk), ordered as [`list`]: a key's page asks for these alone.
pub fn of_key(vault: &Vault, key: &ApiKey, states: &[State]) -> Result<Vec<FindingView>, Error> {
    let owner = key.owner.as_deref().map(|o| (key.provider.as_str(), key.account.as_str(), o));
    Ok(ordered(store::of_key(vault.conn(), &key.id, owner, false)?, states))
}

/// `rows` as views in `states` (all when empty), most severe first, then by rule order.
fn ordered(rows: Vec<store::FindingRow>, states: &[State]) -> Vec<FindingView> {
    let mut all: Vec<FindingView> =
        rows.into_iter().map(view).filter(|v| states.is_empty() || states.contains(&v.state)).collect();
    all.sort_by_cached_key(|f| {
        (
            std::cmp::Reverse(Severity::parse(&f.severity)),
            audit::rules::position(&f.rule_id).unwrap_or(usize::MAX),
            f.id,
        )
    });
    all
}

/// One finding.
pub fn get(vault: &Vault, id: i64) -> Result<FindingView, Error> {
    get_in(vault.conn(), id)
}

/// One finding, inside a transaction.
pub(crate) fn get_in(conn: &rusqlite::Connection, id: i64) -> Result<FindingView, Error> {
    store::by_id(conn, id)?
        .map(view)
        .ok_or_else(|| Error::NotFound { what: "finding", id: id.to_string() })
}

/// A finding's history, oldest first.
pub fn history(vault: &Vault, id: i64) -> Result<Vec<FindingEvent>, Error> {
    get(vault, id)?;
    Ok(store::events_of(vault.conn(), id)?
        .into_iter()
        .map(|e| FindingEvent { at: e.at, event: e.event, severity: e.severity, detail: e.detail, reason: e.reason })
        .collect())
}

fn change_state(
    vault: &mut Vault,
    id: i64,
    state: State,
    until: Option<DateTime<Utc>>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FindingView, Error> {
    // Read and changed in one IMMEDIATE transaction: an audit resolving the finding in between
    // would otherwise leave it acknowledged (or snoozed) with a resolution.
    let tx = vault.write()?;
    let current = get_in(&tx, id)?;
    if current.state == State::Resolved {
        return Err(Error::Conflict(format!(
            "finding {id} is resolved ({}); only firing findings can be acknowledged, snoozed or reopened",
            current.resolution.as_deref().unwrap_or("no longer firing")
        )));
    }
    let until_s = until.map(time::to_string);
    // History records changes only: reopening an open finding is refused, and acknowledging
    // (or snoozing to the same time) again without a new note changes nothing.
    if current.state == state {
        if state == State::Open {
            return Err(Error::Conflict(format!("finding {id} is already open; nothing to reopen")));
        }
        let same_until = state != State::Snoozed || current.snoozed_until == until_s;
        if same_until && (note.is_none() || note == current.note.as_deref()) {
            return Ok(current);
        }
    }
    // A reopened finding sheds the note of the acknowledgement it leaves.
    store::set_state_by_user(&tx, id, state.as_str(), until, note, now)?;
    let event = match state {
        State::Acknowledged => "acknowledged",
        State::Snoozed => "snoozed",
        _ => "reopened",
    };
    store::insert_event(
        &tx,
        &store::NewEvent {
            finding_id: id,
            audit_run: None,
            at: now,
            event,
            severity: Some(&current.severity),
            detail: note,
            reason: until_s.as_deref(),
        },
    )?;
    tx.commit()?;
    get(vault, id)
}

/// The user has seen a firing finding and accepts it for now. It reopens if it escalates.
pub fn acknowledge(vault: &mut Vault, id: i64, note: Option<&str>, now: DateTime<Utc>) -> Result<FindingView, Error> {
    change_state(vault, id, State::Acknowledged, None, note, now)
}

/// Hides a firing finding until `until`; the first audit after that reopens it if it still fires.
pub fn snooze(
    vault: &mut Vault,
    id: i64,
    until: DateTime<Utc>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FindingView, Error> {
    if until <= now {
        return Err(Error::Invalid { field: "until", reason: "must be in the future".into() });
    }
    change_state(vault, id, State::Snoozed, Some(until), note, now)
}

/// Puts an acknowledged or snoozed finding back to open.
pub fn reopen(vault: &mut Vault, id: i64, now: DateTime<Utc>) -> Result<FindingView, Error> {
    change_state(vault, id, State::Open, None, None, now)
}

/// One part of a key's risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RiskPart {
    /// The finding.
    pub finding_id: i64,
    /// Its rule.
    pub rule_id: String,
    /// Its severity.
    #[cfg_attr(feature = "bindings", ts(type = "\"low\" | \"medium\" | \"high\" | \"critical\""))]
    pub severity: String,
    /// What it adds.
    pub weight: u32,
    /// Why.
    pub detail: String,
}

/// Risk of each key with open findings: its own open findings plus its owner's (an owner with
/// two active keys makes both riskier). Keys without open findings are absent (score 0).
pub fn risk(vault: &Vault, keys: &[ApiKey]) -> Result<HashMap<String, Vec<RiskPart>>, Error> {
    let mut by_key: HashMap<String, Vec<RiskPart>> = HashMap::new();
    let mut by_owner: HashMap<(String, String, String), Vec<RiskPart>> = HashMap::new();
    for r in store::open_by_weight(vault.conn())? {
        let part =
            RiskPart { finding_id: r.id, rule_id: r.rule_id, severity: r.severity, weight: r.weight, detail: r.detail };
        match (r.key_id, r.owner, r.resource) {
            (Some(k), _, _) => by_key.entry(k).or_default().push(part),
            (None, Some(o), None) => by_owner.entry((r.provider, r.account, o)).or_default().push(part),
            _ => {}
        }
    }
    if !by_owner.is_empty() {
        for k in keys.iter().filter(|k| k.is_live()) {
            let Some(owner) = &k.owner else { continue };
            if let Some(parts) = by_owner.get(&(k.provider.clone(), k.account.clone(), owner.clone())) {
                by_key.entry(k.id.clone()).or_default().extend(parts.iter().cloned());
            }
        }
    }
    Ok(by_key)
}

/// One key's risk, as [`risk`] counts it, from its own findings and its owner's alone.
pub fn risk_of(vault: &Vault, key: &ApiKey) -> Result<Vec<RiskPart>, Error> {
    // A key inherits its owner's findings while it is live, as in `risk`.
    let owner = key.owner.as_deref().filter(|_| key.is_live()).map(|o| (key.provider.as_str(), key.account.as_str(), o));
    Ok(store::of_key(vault.conn(), &key.id, owner, true)?
        .into_iter()
        .map(|r| RiskPart { finding_id: r.id, rule_id: r.rule_id, severity: r.severity, weight: r.weight, detail: r.detail })
        .collect())
}

/// Used by the rule-less summary: the number of firing findings (open, acknowledged, snoozed).
pub fn firing_count(vault: &Vault) -> Result<usize, Error> {
    store::count_firing(vault.conn())
}

/// The policy digest of the latest audit, if any.
pub fn last_policy_digest(vault: &Vault) -> Result<Option<String>, Error> {
    store::last_policy_digest(vault.conn())
}
