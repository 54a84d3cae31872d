//! Rotations, as the CLI and the app see them: plan one (what the owner holds, the steps, the
//! places the key is used), start it, resume or abort it, list them with their journals.

use std::time::Duration;

use serde::Serialize;

use super::ExposureView;
use crate::Error;
use crate::rotation;
use crate::store::rotations::{self as journal, RotationRow};
use crate::vault::Vault;

pub use crate::rotation::Options as RotationOptions;

/// A key its owner holds at the provider.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct HeldKeyView {
    /// The provider's id.
    pub external_id: String,
    /// Whether it is active.
    pub active: bool,
    /// When it was created (RFC 3339), where the provider says.
    pub created_at: Option<String>,
}

/// What a rotation will do, before it does it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RotationPlanView {
    /// Keyward's id of the key.
    pub key_id: String,
    /// Its name.
    pub key_name: String,
    /// Provider id.
    pub provider: String,
    /// The connector's name.
    pub account: String,
    /// Its owner at the provider.
    pub owner: Option<String>,
    /// The provider's id of the key.
    pub external_id: Option<String>,
    /// The keys its owner holds at the provider now.
    pub held: Vec<HeldKeyView>,
    /// The steps, in words.
    pub steps: Vec<String>,
    /// Where the key was found in files.
    pub consumers: Vec<ExposureView>,
    /// The lines the hand-over will change, values masked (`path:line  name = •••• → …`).
    pub handover: Vec<String>,
    /// Files that use the key and that the user updates, with why (`path: why`).
    pub left_to_you: Vec<String>,
    /// The owner's inactive key deleted first, with consent.
    pub make_room: Option<String>,
    /// Why it cannot go ahead.
    pub refusal: Option<String>,
}

/// One entry of a rotation's journal.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RotationEventView {
    /// When (RFC 3339).
    pub at: String,
    /// The step.
    pub step: String,
    /// `begin`, `done`, `failed` or `reconciled`.
    pub phase: String,
    /// What it did or why it failed (never a secret).
    pub detail: String,
}

/// A file a rotation hands the new key over to.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct HandoverView {
    /// The file.
    pub path: String,
    /// `planned`, `writing`, `written`, `refused`, `restored` or `kept`.
    pub state: String,
    /// Why it was refused or kept.
    pub note: String,
}

/// A rotation.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RotationView {
    /// Its id.
    pub id: String,
    /// The key rotated (the old one).
    pub key_id: String,
    /// Provider id.
    pub provider: String,
    /// The key's name.
    pub name: String,
    /// Its owner.
    pub owner: Option<String>,
    /// The old key's provider id.
    pub old_external_id: String,
    /// The new key's Keyward id, once created.
    pub new_key_id: Option<String>,
    /// The new key's provider id, once created.
    pub new_external_id: Option<String>,
    /// `running`, `grace`, `done`, `rolled_back` or `failed` (waiting for the user).
    pub state: String,
    /// The last step begun.
    pub step: String,
    /// Whether that step is done.
    pub step_done: bool,
    /// In its grace period: when the old key is deleted.
    pub grace_until: Option<String>,
    /// Why it failed or rolled back.
    pub error: Option<String>,
    /// When it began.
    pub started_at: Option<String>,
    /// When it last moved.
    pub updated_at: Option<String>,
    /// Its journal (in `rotation`; empty in lists).
    pub events: Vec<RotationEventView>,
    /// The files it hands the new key over to (in `rotation`; empty in lists).
    pub handovers: Vec<HandoverView>,
}

fn view(r: RotationRow, events: Vec<RotationEventView>, handovers: Vec<HandoverView>) -> RotationView {
    RotationView {
        id: r.id,
        key_id: r.key_id,
        provider: r.provider,
        name: r.name,
        owner: r.owner,
        old_external_id: r.old_external_id,
        new_key_id: r.new_key_id,
        new_external_id: r.new_external_id,
        state: r.state,
        step: r.step,
        step_done: r.step_done,
        grace_until: r.grace_until.map(crate::time::to_string),
        error: r.error,
        started_at: r.started_at.map(crate::time::to_string),
        updated_at: r.updated_at.map(crate::time::to_string),
        events,
        handovers,
    }
}

/// What rotating `key_id` would do; nothing is changed.
pub async fn plan_rotation(vault: &mut Vault, key_id: &str, opts: &RotationOptions) -> Result<RotationPlanView, Error> {
    let plan = rotation::plan(vault, key_id, opts).await?;
    let consumers = super::key_consumers(vault, key_id)?;
    Ok(RotationPlanView {
        key_id: plan.key.id,
        key_name: plan.key.name,
        provider: plan.key.provider,
        account: plan.connector,
        owner: plan.key.owner,
        external_id: plan.key.external_id,
        held: plan
            .held
            .into_iter()
            .map(|k| HeldKeyView {
                external_id: k.external_id,
                active: k.active,
                created_at: k.created_at.map(crate::time::to_string),
            })
            .collect(),
        steps: plan.steps,
        consumers,
        handover: plan.handovers.iter().flat_map(|h| h.diff.iter().cloned()).collect(),
        left_to_you: plan.left_to_you.iter().map(|s| format!("{}: {}", s.path.display(), s.why)).collect(),
        make_room: plan.make_room,
        refusal: plan.refusal,
    })
}

/// Rotates `key_id`: as far as it can go now (to its grace period, or to the end without one).
/// `progress` gets a line per step.
pub async fn rotate(
    vault: &mut Vault,
    key_id: &str,
    opts: &RotationOptions,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationView, Error> {
    rotate_telling(vault, key_id, opts, progress).await.0
}

/// [`rotate`], with what was told (nothing when the rotation never began).
async fn rotate_telling(
    vault: &mut Vault,
    key_id: &str,
    opts: &RotationOptions,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> (Result<RotationView, Error>, Vec<crate::notify::Notification>) {
    let started = rotation::start(vault, key_id, opts, progress).await;
    // Begun, whatever came of it: the rotation under way on the key, or the one just ended.
    let id = match &started {
        Ok(id) => Some(id.clone()),
        Err(_) => match journal::unfinished_of_key(vault.conn(), key_id) {
            Ok(r) => r.map(|r| r.id),
            Err(e) => return (Err(e), Vec::new()),
        },
    };
    let told = match &id {
        Some(id) => tell(vault, id, true, None).await,
        None => Vec::new(),
    };
    (started.and_then(|id| rotation_by_id(vault, &id)), told)
}

/// The grace period the policy gives rotations of `key_id` (`rotation_grace_hours`, 24 h by
/// default): what `keyward rotate` uses without `--grace`.
pub fn policy_grace(home: &super::Home, vault: &Vault, key_id: &str) -> Result<Duration, Error> {
    let key = crate::inventory::get(vault, key_id)?;
    let in_force = crate::policy::load(home.dir(), vault, chrono::Utc::now())?;
    let hours = in_force.policy.thresholds(&key.provider, &key.tags).rotation_grace_hours;
    Ok(Duration::from_secs(u64::try_from(hours).unwrap_or(0) * 3_600))
}

/// Resumes a rotation: after a crash or a failure, or to finish it after its grace period.
pub async fn resume_rotation(
    vault: &mut Vault,
    id: &str,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationView, Error> {
    resume_rotation_with_password(vault, id, None, progress).await
}

/// [`resume_rotation`], with the user's password for a provider that asks for it again before it
/// makes a key (Fastly's sudo mode); used by this call only, never stored.
pub async fn resume_rotation_with_password(
    vault: &mut Vault,
    id: &str,
    password: Option<&crate::Secret>,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationView, Error> {
    let before = journal::by_id(vault.conn(), id)?.map(|r| r.state);
    let resumed = rotation::resume(vault, id, password, progress).await;
    tell(vault, id, false, before.as_deref()).await;
    resumed?;
    rotation_by_id(vault, id)
}

/// Aborts a rotation before its old key is deleted: the old key comes back, the new one goes.
pub async fn abort_rotation(
    vault: &mut Vault,
    id: &str,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<RotationView, Error> {
    let before = journal::by_id(vault.conn(), id)?.map(|r| r.state);
    let aborted = rotation::abort(vault, id, progress).await;
    tell(vault, id, false, before.as_deref()).await;
    aborted?;
    rotation_by_id(vault, id)
}

/// Finishes the rotations whose grace period is over (deletes their old keys).
pub async fn finish_due_rotations(vault: &mut Vault) -> Result<Vec<(String, Result<RotationView, Error>)>, Error> {
    Ok(finish_due_telling(vault).await?.0)
}

/// [`finish_due_rotations`], with what was told.
async fn finish_due_telling(
    vault: &mut Vault,
) -> Result<(Vec<(String, Result<RotationView, Error>)>, Vec<crate::notify::Notification>), Error> {
    let (mut out, mut told) = (Vec::new(), Vec::new());
    for (id, r) in rotation::finish_due(vault, chrono::Utc::now()).await? {
        told.extend(tell(vault, &id, false, Some("grace")).await);
        let r = r.and_then(|_| rotation_by_id(vault, &id));
        out.push((id, r));
    }
    Ok((out, told))
}

/// What a rotation's state now means to the people told (`before`: its state when the call
/// began): started (with `begun`), succeeded (the new key works), finished (the old key is
/// deleted after its grace period), waiting for you, rolled back. Nothing new, nothing said.
fn news(r: &RotationView, begun: bool, before: Option<&str>) -> Vec<crate::notify::Notification> {
    let owner = r.owner.as_deref().map(|o| format!(" (owner {o})")).unwrap_or_default();
    let new = r.new_external_id.as_deref().unwrap_or("-");
    let mut out = Vec::new();
    let mut say = |event: &str, severity: &str, title: String, body: String| {
        out.push(crate::notify::Notification {
            event: event.into(),
            subject: r.name.clone(),
            title,
            body,
            severity: severity.into(),
            findings: Vec::new(),
        });
    };
    if begun {
        say(
            "rotation.started",
            "low",
            format!("Rotating {} key {}{owner}", r.provider, r.old_external_id),
            format!("Rotation {} began: a new key is created and checked before the old one is touched.", r.id),
        );
    }
    if before == Some(r.state.as_str()) {
        return out;
    }
    match r.state.as_str() {
        "grace" => say(
            "rotation.succeeded",
            "low",
            format!("{} key {} rotated{owner}", r.provider, r.old_external_id),
            format!(
                "The new key {new} works. The old key {} is kept until {}, then deleted; update whatever still uses it.",
                r.old_external_id,
                r.grace_until.as_deref().unwrap_or("the end of its grace period")
            ),
        ),
        "done" if before == Some("grace") => say(
            "rotation.finished",
            "low",
            format!("Old {} key {} deleted{owner}", r.provider, r.old_external_id),
            format!("The grace period of rotation {} ended; {new} is the key now.", r.id),
        ),
        "done" => say(
            "rotation.succeeded",
            "low",
            format!("{} key {} rotated{owner}", r.provider, r.old_external_id),
            format!("The new key {new} works and the old key {} is deleted.", r.old_external_id),
        ),
        "failed" => say(
            "rotation.failed",
            "high",
            format!("Rotation of {} key {} is waiting for you{owner}", r.provider, r.old_external_id),
            format!(
                "{} — `keyward rotations resume {}` or `keyward rotations abort {}`.",
                r.error.as_deref().unwrap_or("a step failed"),
                r.id,
                r.id
            ),
        ),
        "rolled_back" => say(
            "rotation.rolled_back",
            "medium",
            format!("Rotation of {} key {} rolled back{owner}", r.provider, r.old_external_id),
            format!("{}; the old key {} is kept.", r.error.as_deref().unwrap_or("rolled back"), r.old_external_id),
        ),
        _ => {}
    }
    out
}

/// Tells the webhooks what a rotation came to (see [`news`]), and returns it; a delivery that
/// fails is in the delivery log, and never fails the rotation.
async fn tell(vault: &mut Vault, id: &str, begun: bool, before: Option<&str>) -> Vec<crate::notify::Notification> {
    let Ok(r) = rotation_by_id(vault, id) else { return Vec::new() };
    let notes = news(&r, begun, before);
    if let Err(e) = crate::notify::deliver(vault, &notes, Default::default()).await {
        tracing::warn!(rotation = %id, error = %e, "rotation notifications could not be sent");
    }
    notes
}

/// A key the policy says is due for rotation, and what the next scheduled run does with it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct DueRotationView {
    /// Keyward's id of the key.
    pub key_id: String,
    /// Its name.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// The connector's name.
    pub account: String,
    /// Its owner at the provider.
    pub owner: Option<String>,
    /// The provider's id of the key.
    pub external_id: Option<String>,
    /// Its age in days.
    pub age_days: i64,
    /// The policy's `rotate_after_days` for it.
    pub rotate_after_days: i64,
    /// The policy's `auto` for it.
    #[cfg_attr(feature = "bindings", ts(type = "\"propose\" | \"on\""))]
    pub auto: String,
    /// The grace period a scheduled rotation gives it, in hours.
    pub grace_hours: u64,
    /// Whether the user makes its successor (Keyward cannot).
    pub by_hand: bool,
    /// When the scheduler proposed it (RFC 3339), if it did.
    pub proposed_at: Option<String>,
    /// What the next run does: `rotate`, `propose` or `wait`.
    #[cfg_attr(feature = "bindings", ts(type = "\"rotate\" | \"propose\" | \"wait\""))]
    pub action: String,
    /// Why, in words (empty when it is simply what the policy says).
    pub why: String,
    /// The files the sweep saw it in (what a rotation hands the new key over to, or leaves to you).
    pub consumers: Vec<String>,
}

/// Every key the policy in force says is due for rotation, oldest first, with what the next run
/// of the scheduled `rotations` job does with it (nothing is changed).
pub fn due_rotations(home: &super::Home, vault: &Vault) -> Result<Vec<DueRotationView>, Error> {
    let in_force = crate::policy::load(home.dir(), vault, chrono::Utc::now())?;
    let due = crate::auto_rotation::due(vault, &in_force.policy, chrono::Utc::now())?;
    due.into_iter().map(|d| due_view(vault, d)).collect()
}

fn due_view(vault: &Vault, d: crate::auto_rotation::Due) -> Result<DueRotationView, Error> {
    use crate::auto_rotation::Action;
    let consumers =
        crate::exposure::consumers(vault, &d.key.id)?.into_iter().map(|e| e.path.display().to_string()).collect();
    let (action, why) = match d.action {
        Action::Rotate => ("rotate", String::new()),
        Action::Propose(why) => ("propose", why.unwrap_or_default()),
        Action::Wait(why) => ("wait", why),
    };
    Ok(DueRotationView {
        key_id: d.key.id,
        name: d.key.name,
        provider: d.key.provider,
        account: d.key.account,
        owner: d.key.owner,
        external_id: d.key.external_id,
        age_days: d.age_days,
        rotate_after_days: d.after_days,
        auto: d.auto.as_str().to_owned(),
        grace_hours: d.grace.as_secs() / 3_600,
        by_hand: d.by_hand,
        proposed_at: d.proposed_at.map(crate::time::to_string),
        action: action.to_owned(),
        why,
        consumers,
    })
}

/// The notification proposing to rotate `d` (`why`: why Keyward does not simply rotate it).
fn proposal(d: &DueRotationView, why: Option<&str>) -> crate::notify::Notification {
    let owner = d.owner.as_deref().map(|o| format!(" (owner {o})")).unwrap_or_default();
    let id = d.external_id.as_deref().unwrap_or(&d.name);
    let how = if d.by_hand {
        format!("Rotate it by hand: `keyward rotate {} --dry-run` lists the steps.", d.key_id)
    } else {
        format!("`keyward rotate {}` makes a new key and checks it (its plan shows what it changes)", d.key_id)
            + &match d.consumers.as_slice() {
                [] => ". No file is known to use it.".to_owned(),
                places if places.len() <= 5 => format!("; files that use it: {}.", places.join(", ")),
                places => format!("; files that use it: {} and {} more.", places[..5].join(", "), places.len() - 5),
            }
    };
    let why = why.map(|w| format!(" Keyward did not rotate it itself: {w}.")).unwrap_or_default();
    crate::notify::Notification {
        event: "rotation.proposed".into(),
        subject: d.name.clone(),
        title: format!("{} key {id} is due for rotation{owner}", d.provider),
        body: format!(
            "{} is {} days old (policy: rotate after {} days).{why} {how}",
            d.name, d.age_days, d.rotate_after_days
        ),
        severity: "medium".into(),
        findings: Vec::new(),
    }
}

/// How an unattended rotation went.
enum Unattended {
    /// It began (and went as far as it could): its outcome, and what was told.
    Began(Box<Result<RotationView, Error>>, Vec<crate::notify::Notification>),
    /// It was refused before it began, for a reason that will not go away by itself (a limit,
    /// the connector's own key, files Keyward would not update): proposed instead.
    Refused(String),
    /// It could not begin now (the network, the provider, a lock): tried again next run.
    NotNow(Error),
}

/// Rotates a due key with nobody watching: only when its plan leaves no file to the user.
async fn rotate_unattended(vault: &mut Vault, d: &DueRotationView, grace: Duration) -> Result<Unattended, Error> {
    let opts = RotationOptions { grace, delete_inactive: false, hook: None, password: None };
    let refused = |e: &Error| matches!(e, Error::Conflict(_) | Error::Unsupported(_));
    match plan_rotation(vault, &d.key_id, &opts).await {
        Ok(plan) if plan.refusal.is_some() => return Ok(Unattended::Refused(plan.refusal.unwrap_or_default())),
        Ok(plan) if !plan.left_to_you.is_empty() => {
            return Ok(Unattended::Refused(format!(
                "files Keyward does not update use it, and would break after the grace period: {}",
                plan.left_to_you.join("; ")
            )));
        }
        Ok(_) => {}
        Err(e) if refused(&e) => return Ok(Unattended::Refused(e.to_string())),
        Err(e) => return Ok(Unattended::NotNow(e)),
    }
    let before = journal::last_of_key(vault.conn(), &d.key_id)?.map(|r| r.id);
    let log = |line: &str| tracing::info!(key = %d.key_id, "{line}");
    let (r, notes) = rotate_telling(vault, &d.key_id, &opts, &log).await;
    let began = journal::last_of_key(vault.conn(), &d.key_id)?.map(|r| r.id) != before;
    Ok(match r {
        Err(e) if !began && refused(&e) => Unattended::Refused(e.to_string()),
        Err(e) if !began => Unattended::NotNow(e),
        r => Unattended::Began(Box::new(r), notes),
    })
}

/// What one run of the scheduled `rotations` job did.
#[derive(Debug, Default)]
struct JobRun {
    finished: Vec<(String, Result<RotationView, Error>)>,
    rotated: Vec<(String, Result<RotationView, Error>)>,
    proposed: usize,
    told: Vec<crate::notify::Notification>,
}

/// The scheduler's `rotations` job: finishes the rotations whose grace period is over, then
/// proposes or starts the rotations the policy says are due ([`crate::auto_rotation`]), and says
/// how it went. A rotation that fails stays where it was (its journal says why) and fails the
/// run, so `schedule list` shows it.
pub async fn rotations_job(
    home: &super::Home,
    vault: &mut Vault,
    desktop: Option<super::DesktopNotifier<'_>>,
) -> Result<String, Error> {
    let (finished, mut told) = finish_due_telling(vault).await?;
    let mut run = JobRun { finished, ..JobRun::default() };
    let in_force = crate::policy::load(home.dir(), vault, chrono::Utc::now())?;
    let mut proposals = Vec::new();
    for d in crate::auto_rotation::due(vault, &in_force.policy, chrono::Utc::now())? {
        let (auto, grace) = (d.auto, d.grace);
        let view = due_view(vault, d.clone())?;
        let why = match d.action {
            crate::auto_rotation::Action::Wait(_) => continue,
            crate::auto_rotation::Action::Propose(why) => why,
            // A broken policy file keeps the last valid one in force for audits, but starts no
            // unattended rotation: the user may have been switching `auto` off.
            crate::auto_rotation::Action::Rotate if in_force.problem.is_some() => continue,
            crate::auto_rotation::Action::Rotate => {
                match rotate_unattended(vault, &view, grace).await? {
                    Unattended::Began(r, notes) => {
                        told.extend(notes);
                        run.rotated.push((view.key_id.clone(), *r));
                        continue;
                    }
                    Unattended::Refused(why) => Some(why),
                    // Not a refusal (the network, the provider, the keychain): tried next run.
                    Unattended::NotNow(e) => {
                        run.rotated.push((view.key_id.clone(), Err(e)));
                        continue;
                    }
                }
            }
        };
        let note = proposal(&view, why.as_deref());
        crate::auto_rotation::record_proposal(vault, &view.key_id, auto, &note.body)?;
        crate::activity::record(
            vault,
            crate::activity::Entry::new("rotation.proposed", "ok")
                .provider(&view.provider)
                .subject(&view.key_id)
                .detail(note.title.clone()),
        );
        proposals.push(note);
    }
    // Proposals go out together (the webhooks batch them); the desktop gets one summary.
    run.proposed = proposals.len();
    if !proposals.is_empty()
        && let Err(e) = crate::notify::deliver(vault, &proposals, Default::default()).await
    {
        tracing::warn!(error = %e, "rotation proposals could not be sent");
    }
    match proposals.as_slice() {
        [] => {}
        [one] => told.push(one.clone()),
        many => told.push(crate::notify::Notification {
            event: "rotation.proposed".into(),
            subject: "rotations".into(),
            title: format!("{} keys are due for rotation", many.len()),
            body: "`keyward rotations due` lists them, with the files each rotation would change.".into(),
            severity: "medium".into(),
            findings: Vec::new(),
        }),
    }
    run.told = told;
    if let Some(show) = desktop.filter(|_| crate::notify::preferences(vault).map(|p| p.desktop).unwrap_or(true)) {
        for n in &run.told {
            if let Err(e) = show(n) {
                tracing::warn!(error = %e, "a rotation notification could not be shown");
            }
        }
    }
    let failed: Vec<String> = run
        .finished
        .iter()
        .chain(&run.rotated)
        .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("{id}: {e}")))
        .collect();
    let said =
        format!("{} rotations finished, {} started, {} proposed", run.finished.len(), run.rotated.len(), run.proposed);
    if let Some(first) = failed.first() {
        return Err(Error::Conflict(format!("{said}; {} failed, first {first}", failed.len())));
    }
    Ok(said)
}

/// Every rotation, newest first (without journals).
pub fn list_rotations(vault: &Vault) -> Result<Vec<RotationView>, Error> {
    Ok(journal::all(vault.conn())?.into_iter().map(|r| view(r, Vec::new(), Vec::new())).collect())
}

/// One rotation with its journal.
pub fn rotation_by_id(vault: &Vault, id: &str) -> Result<RotationView, Error> {
    let r = journal::by_id(vault.conn(), id)?.ok_or_else(|| Error::NotFound { what: "rotation", id: id.to_owned() })?;
    let events = journal::events(vault.conn(), id)?
        .into_iter()
        .map(|e| RotationEventView { at: e.at, step: e.step, phase: e.phase, detail: e.detail })
        .collect();
    let handovers = journal::handovers(vault.conn(), id)?
        .into_iter()
        .map(|h| HandoverView { path: h.path.display().to_string(), state: h.state, note: h.note })
        .collect();
    Ok(view(r, events, handovers))
}

/// Reads a duration like `24h`, `90m`, `7d`, `30s` or `0`.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    let invalid = || Error::Invalid { field: "duration", reason: format!("{text:?}: like 24h, 90m, 7d, 30s or 0") };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?);
    let n: u64 = number.parse().map_err(|_| invalid())?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60).ok_or_else(invalid)?,
        "h" => n.checked_mul(3_600).ok_or_else(invalid)?,
        "d" => n.checked_mul(86_400).ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    if secs > 365 * 86_400 {
        return Err(Error::Invalid { field: "duration", reason: format!("{text:?}: at most a year") });
    }
    Ok(Duration::from_secs(secs))
}

/// What a rotation by hand did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RotatedByHandView {
    /// The old key, now retired.
    pub old_key_id: String,
    /// The new key, in its place.
    pub new_key_id: String,
    /// How the new key was checked, in words.
    pub checked: String,
    /// Whether the old key still works at the provider (`None`: it cannot be told).
    pub old_still_works: Option<bool>,
    /// Files the exposure sweep saw the old key in.
    pub still_in: Vec<String>,
}

/// The steps of rotating a key by hand (a key registered by hand, or one whose provider has no
/// API to make keys, like a Fastly user token), or `None` when Keyward rotates it itself.
pub fn rotation_guide(vault: &Vault, key_id: &str) -> Result<Option<Vec<String>>, Error> {
    let key = crate::inventory::get(vault, key_id)?;
    crate::manual_rotation::guide(vault, &key)
}

/// Records `secret` as the successor of a key registered by hand, once the provider accepts it
/// (where it can tell); the old key is retired. In a demo workspace, checked against its
/// stand-ins.
pub async fn rotate_by_hand(
    vault: &mut Vault,
    key_id: &str,
    secret: crate::Secret,
) -> Result<RotatedByHandView, Error> {
    let demo = crate::demo::for_connectors(&crate::connector::list(vault)?).await?;
    let provider = crate::inventory::get(vault, key_id)?.provider;
    let endpoint = demo.as_ref().and_then(|d| d.endpoint(&provider));
    let done = crate::manual_rotation::by_hand(vault, key_id, secret, endpoint.as_deref()).await?;
    Ok(RotatedByHandView {
        old_key_id: key_id.to_owned(),
        new_key_id: done.new_key.id,
        checked: done.checked,
        old_still_works: done.old_still_works,
        still_in: done.still_in,
    })
}
