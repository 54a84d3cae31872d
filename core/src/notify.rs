//! Telling the user, once: what an audit's changes become as notifications, and their delivery
//! to webhooks (the desktop shell shows the same notifications through the OS).
//!
//! The rules are per finding; people think per key. After an audit, new, reopened and escalated
//! findings at or above the user's threshold are grouped into one notification per key (or
//! resource), each finding told once per severity (the `notified` table). Expiry reminders
//! (`key_expiring`) always notify, at each of their three steps, and close themselves — a
//! `reminder.closed` notification — when the key is rotated or deleted. During quiet hours, or
//! when the user chose a daily digest, notifications wait in `pending_notifications` and go out
//! together afterwards.
//!
//! Webhooks are Slack-compatible (`text` + blocks) or a generic JSON payload signed with
//! HMAC-SHA256 over `timestamp.body`; failures are retried with backoff by the connectors'
//! shared HTTP layer (429's `Retry-After` honoured) and every attempt's outcome lands in the delivery log. Webhook URLs (a Slack URL is
//! a credential) and signing keys are sealed in the vault like any secret.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Timelike, Utc};
use hmac::{Hmac, Mac};
use keyward_connectors::http::{Http, HttpSettings, RateLimitSignal};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::Secret;
use crate::audit::Severity;
use crate::findings::{self, Change, FindingView};
use crate::store::notifications as store;
use crate::vault::Vault;
use crate::{Error, time};

/// The user's notification preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct Preferences {
    /// Findings below this severity are not notified (expiry reminders always are).
    pub min_severity: String,
    /// Local hours `[start, end)` during which nothing is sent; e.g. `(22, 7)`.
    pub quiet_hours: Option<(u32, u32)>,
    /// Send one digest a day at this local hour instead of notifying as findings appear.
    pub digest_hour: Option<u32>,
    /// Show desktop notifications (the desktop app).
    pub desktop: bool,
    /// The local time's offset from UTC in minutes; `None`: this machine's.
    pub utc_offset_minutes: Option<i32>,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            min_severity: "medium".into(),
            quiet_hours: None,
            digest_hour: None,
            desktop: true,
            utc_offset_minutes: None,
        }
    }
}

impl Preferences {
    fn validate(&self) -> Result<(), Error> {
        let bad = |reason: String| Err(Error::Invalid { field: "notification preferences", reason });
        if Severity::parse(&self.min_severity).is_none() {
            return bad(format!("min_severity {:?} is not low, medium, high or critical", self.min_severity));
        }
        if let Some((a, b)) = self.quiet_hours
            && (a > 23 || b > 23 || a == b)
        {
            return bad(format!("quiet hours {a}-{b}: two different hours from 0 to 23"));
        }
        if self.digest_hour.is_some_and(|h| h > 23) {
            return bad("the digest hour is from 0 to 23".into());
        }
        if let (Some(h), Some((start, end))) = (self.digest_hour, self.quiet_hours)
            && quiet_hour(start, end, h)
        {
            return bad(format!("the digest at {h}:00 falls in the quiet hours {start}-{end}: choose an hour outside them"));
        }
        Ok(())
    }

    fn offset(&self) -> FixedOffset {
        let minutes = self.utc_offset_minutes.unwrap_or_else(|| chrono::Local::now().offset().local_minus_utc() / 60);
        FixedOffset::east_opt(minutes * 60).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"))
    }

    /// Whether `now` falls in the quiet hours.
    pub fn quiet_at(&self, now: DateTime<Utc>) -> bool {
        let Some((start, end)) = self.quiet_hours else { return false };
        quiet_hour(start, end, now.with_timezone(&self.offset()).hour())
    }
}

/// Whether local hour `h` is in the quiet hours `[start, end)` (which may run past midnight).
fn quiet_hour(start: u32, end: u32, h: u32) -> bool {
    if start < end { (start..end).contains(&h) } else { h >= start || h < end }
}

/// The notification preferences.
pub fn preferences(vault: &Vault) -> Result<Preferences, Error> {
    crate::settings::get(vault, "notifications")
}

/// Saves notification preferences after checking them.
pub fn set_preferences(vault: &Vault, p: &Preferences) -> Result<(), Error> {
    p.validate()?;
    crate::settings::set(vault, "notifications", p)?;
    crate::activity::record(vault, crate::activity::Entry::new("settings.notifications", "ok"));
    Ok(())
}

/// One notification: about one key (or resource), or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// `finding.opened`, `finding.escalated`, `reminder.closed` or `digest`.
    pub event: String,
    /// The key's name (or resource, or owner) it is about; `digest` for a digest.
    pub subject: String,
    /// A short title.
    pub title: String,
    /// The text: what was found and what to do.
    pub body: String,
    /// The highest severity in it.
    pub severity: String,
    /// The findings it carries.
    pub findings: Vec<FindingView>,
}

fn rank(s: &str) -> Severity {
    Severity::parse(s).unwrap_or(Severity::Low)
}

fn subject_of(f: &FindingView, names: &BTreeMap<String, String>) -> String {
    if let Some(k) = &f.key_id {
        return names.get(k).cloned().unwrap_or_else(|| f.external_id.clone().unwrap_or_else(|| k.clone()));
    }
    f.resource.clone().or_else(|| f.owner.clone()).unwrap_or_else(|| f.account.clone())
}

fn compose(event: &str, subject: String, items: Vec<FindingView>) -> Notification {
    let severity = items.iter().map(|f| rank(&f.severity)).max().unwrap_or(Severity::Low).as_str().to_owned();
    let title = match (event, items.as_slice()) {
        ("reminder.closed", [f]) => {
            format!("{subject}: expiry reminder closed ({})", f.resolution.as_deref().unwrap_or("resolved"))
        }
        (_, [f]) => format!("{subject}: {}", f.title),
        (_, many) => format!("{subject}: {} findings", many.len()),
    };
    let body = items
        .iter()
        .map(|f| {
            if event == "reminder.closed" {
                format!("{} — {}", f.title, f.resolution.as_deref().unwrap_or("resolved").replace('_', " "))
            } else {
                format!("[{}] {}: {}. {}", f.severity, f.title, f.detail, f.remediation)
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    Notification { event: event.to_owned(), subject, title, body, severity, findings: items }
}

/// Decides what to tell the user after an audit whose changes are `changes`, at `now`: returns
/// the notifications to send now (grouped per key) and remembers what was told. Notifications
/// held for quiet hours or the digest come out of a later call.
pub fn after_audit(vault: &mut Vault, changes: &[Change], now: DateTime<Utc>) -> Result<Vec<Notification>, Error> {
    let prefs = preferences(vault)?;
    let min = rank(&prefs.min_severity);
    let names: BTreeMap<String, String> = crate::inventory::list(vault)?.into_iter().map(|k| (k.id, k.name)).collect();

    // What deserves telling: (event, finding).
    let mut fresh: Vec<(&'static str, FindingView)> = Vec::new();
    for c in changes {
        let f = findings::get(vault, c.finding_id)?;
        let told = store::told(vault.conn(), f.id)?;
        let reminder = f.rule_id == "key_expiring";
        match c.change {
            "resolved" => {
                let closes = reminder
                    && matches!(f.resolution.as_deref(), Some("key_rotated" | "key_deleted"))
                    && told.as_ref().is_some_and(|t| !t.closed);
                if closes {
                    store::close_reminder(vault.conn(), f.id, now)?;
                    fresh.push(("reminder.closed", f));
                }
            }
            change => {
                if !reminder && rank(&f.severity) < min {
                    continue;
                }
                let already = told.as_ref().is_some_and(|t| rank(&t.severity) >= rank(&f.severity));
                if already && change != "reopened" {
                    continue;
                }
                store::mark_told(vault.conn(), f.id, &f.severity, now)?;
                fresh.push((if change == "escalated" { "finding.escalated" } else { "finding.opened" }, f));
            }
        }
    }

    let quiet = prefs.quiet_at(now);
    if quiet || prefs.digest_hour.is_some() {
        for (event, f) in &fresh {
            store::hold(vault.conn(), f.id, event, now)?;
        }
        fresh.clear();
    }
    let mut out = Vec::new();
    if !quiet {
        let due_digest = prefs.digest_hour.is_some_and(|h| {
            let local = now.with_timezone(&prefs.offset());
            let last: String = crate::settings::get(vault, "last_digest_date").unwrap_or_default();
            local.hour() >= h && last != local.date_naive().to_string()
        });
        if prefs.digest_hour.is_none() || due_digest {
            let held = take_pending(vault)?;
            if due_digest {
                let local = now.with_timezone(&prefs.offset());
                crate::settings::set(vault, "last_digest_date", &local.date_naive().to_string())?;
                let items: Vec<FindingView> = held.into_iter().map(|(_, f)| f).collect();
                if !items.is_empty() {
                    let mut d = compose("digest", "digest".into(), items);
                    d.title = format!("Keyward daily digest: {} findings", d.findings.len());
                    out.push(d);
                }
            } else {
                fresh.splice(0..0, held);
            }
        }
    }
    // One notification per key (or resource) and event kind, in order of first appearance.
    let mut groups: Vec<((String, &'static str), Vec<FindingView>)> = Vec::new();
    for (event, f) in fresh {
        let key = (subject_of(&f, &names), event);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, items)) => items.push(f),
            None => groups.push((key, vec![f])),
        }
    }
    for ((subject, event), items) in groups {
        out.push(compose(event, subject, items));
    }
    Ok(out)
}

/// One notification standing for many (the desktop's answer to a first audit of a big estate).
pub fn summary(notes: &[Notification]) -> Notification {
    let severity = notes.iter().map(|n| rank(&n.severity)).max().unwrap_or(Severity::Low).as_str().to_owned();
    let mut body: Vec<String> = notes.iter().take(5).map(|n| n.title.clone()).collect();
    if notes.len() > 5 {
        body.push(format!("… and {} more in Keyward's Findings tab", notes.len() - 5));
    }
    Notification {
        event: "summary".into(),
        subject: format!("{} keys", notes.len()),
        title: format!("Keyward: news on {} keys", notes.len()),
        body: body.join("\n"),
        severity,
        findings: Vec::new(),
    }
}

/// Held notifications whose findings still matter (firing, or closed reminders), oldest first;
/// the queue is emptied. Read and emptied in one IMMEDIATE transaction: a notification another
/// process holds meanwhile waits for the next take instead of being deleted unread.
fn take_pending(vault: &mut Vault) -> Result<Vec<(&'static str, FindingView)>, Error> {
    let tx = vault.write()?;
    let rows = store::held(&tx)?;
    store::clear_held(&tx)?;
    let mut out = Vec::new();
    for store::HeldRow { finding_id, event } in rows {
        let f = match findings::get_in(&tx, finding_id) {
            Ok(f) => f,
            Err(Error::NotFound { .. }) => continue, // a finding gone from the vault: nothing to say
            // A row edited into nonsense: said in the log, and the others are still told (failing
            // here would hold every later notification behind it).
            Err(e) => {
                tracing::warn!(finding_id, error = %e, "a held notification's finding cannot be read; dropped");
                continue;
            }
        };
        let event: &'static str = match event.as_str() {
            "reminder.closed" => "reminder.closed",
            "finding.escalated" => "finding.escalated",
            _ => "finding.opened",
        };
        if event != "reminder.closed" && f.state == findings::State::Resolved {
            continue; // resolved while held: nothing to say any more
        }
        out.push((event, f));
    }
    tx.commit()?;
    Ok(out)
}

// ------------------------------------------------------------------ webhooks

/// A webhook as shown to users (never its URL's secret part, never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct WebhookView {
    /// Name.
    pub name: String,
    /// `slack` or `json`.
    pub kind: String,
    /// Scheme and host only (the rest of a webhook URL is often a credential).
    pub url: String,
    /// Whether it is used.
    pub enabled: bool,
}

/// A webhook ready to send to.
#[derive(Debug)]
pub struct WebhookTarget {
    /// Name.
    pub name: String,
    /// `slack` or `json`.
    pub kind: String,
    /// The full URL.
    pub url: Secret,
    /// The HMAC key (json webhooks).
    pub key: Option<Secret>,
}

#[derive(Serialize, Deserialize)]
struct SealedWebhook {
    url: String,
    key: Option<String>,
}

fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        // The host and port say where it goes; the path (a Slack token) stays hidden.
        Ok(u) => match u.port() {
            Some(port) => format!("{}://{}:{port}/…", u.scheme(), u.host_str().unwrap_or("")),
            None => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("")),
        },
        Err(_) => "(invalid URL)".into(),
    }
}

/// Adds a webhook. `key` signs json payloads (required for `json`); both it and the URL are
/// sealed in the vault.
pub fn add_webhook(
    vault: &Vault,
    name: &str,
    kind: &str,
    url: &Secret,
    key: Option<&Secret>,
) -> Result<WebhookView, Error> {
    if !matches!(kind, "slack" | "json") {
        return Err(Error::Invalid { field: "kind", reason: format!("{kind:?}: slack or json") });
    }
    let parsed = reqwest::Url::parse(url.expose())
        .map_err(|e| Error::Invalid { field: "url", reason: format!("not a URL ({e})") })?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(Error::Invalid { field: "url", reason: "must be http(s)".into() });
    }
    if parsed.scheme() == "http" && !matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        return Err(Error::Invalid { field: "url", reason: "must be https (plain http only to this machine)".into() });
    }
    if kind == "json" && key.is_none_or(|k| k.expose().len() < 16) {
        return Err(Error::Invalid {
            field: "key",
            reason: "json webhooks need a signing key of at least 16 characters".into(),
        });
    }
    if name.trim().is_empty() {
        return Err(Error::Invalid { field: "name", reason: "must not be empty".into() });
    }
    let sealed_json = Secret::new(
        serde_json::to_string(&SealedWebhook { url: url.expose().to_owned(), key: key.map(|k| k.expose().to_owned()) })
            .expect("serializes"),
    );
    let sealed = vault.seal("webhooks", "secret", name, &sealed_json)?;
    let display = display_url(url.expose());
    let inserted = store::insert_webhook(
        vault.conn(),
        &store::NewWebhook { name, kind, display_url: &display, sealed: &sealed, created_at: Utc::now() },
    )?;
    if !inserted {
        return Err(Error::Conflict(format!("a webhook named {name:?} exists")));
    }
    crate::activity::record(
        vault,
        crate::activity::Entry::new("webhook.add", "ok").subject(name).detail(format!("{kind} to {display}")),
    );
    Ok(WebhookView { name: name.to_owned(), kind: kind.to_owned(), url: display, enabled: true })
}

/// The webhooks.
pub fn list_webhooks(vault: &Vault) -> Result<Vec<WebhookView>, Error> {
    store::webhooks(vault.conn())
}

/// Removes a webhook.
pub fn remove_webhook(vault: &Vault, name: &str) -> Result<(), Error> {
    if !store::delete_webhook(vault.conn(), name)? {
        return Err(Error::NotFound { what: "webhook", id: name.to_owned() });
    }
    crate::activity::record(vault, crate::activity::Entry::new("webhook.remove", "ok").subject(name));
    Ok(())
}

/// The enabled webhooks, unsealed for sending.
pub fn webhook_targets(vault: &Vault, only: Option<&str>) -> Result<Vec<WebhookTarget>, Error> {
    let mut out = Vec::new();
    for store::SealedWebhookRow { name, kind, secret } in
        store::enabled_webhooks(vault.conn())?.into_iter().filter(|w| only.is_none_or(|o| o == w.name))
    {
        let opened = vault.open_sealed("webhooks", "secret", &name, &secret)?;
        let sealed: SealedWebhook =
            serde_json::from_str(opened.expose()).map_err(|_| Error::Unreadable { what: format!("webhook {name}") })?;
        out.push(WebhookTarget { name, kind, url: Secret::new(sealed.url), key: sealed.key.map(Secret::new) });
    }
    Ok(out)
}

/// The payload a webhook of `kind` receives for `n`.
pub fn payload(kind: &str, n: &Notification, delivery: &str, now: DateTime<Utc>) -> Value {
    if kind == "slack" {
        let emoji = match n.severity.as_str() {
            "critical" | "high" => ":rotating_light:",
            "medium" => ":warning:",
            _ => ":information_source:",
        };
        return json!({
            "text": format!("{emoji} {}", n.title),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", n.title)}},
                {"type": "section", "text": {"type": "mrkdwn", "text": n.body}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("Keyward · {} · {}", n.event, time::to_string(now))}]},
            ],
        });
    }
    json!({
        "event": n.event,
        "delivery_id": delivery,
        "sent_at": time::to_string(now),
        "subject": n.subject,
        "title": n.title,
        "body": n.body,
        "severity": n.severity,
        "findings": n.findings.iter().map(|f| json!({
            "id": f.id, "rule_id": f.rule_id, "severity": f.severity, "state": f.state, "title": f.title,
            "detail": f.detail, "remediation": f.remediation, "provider": f.provider, "account": f.account,
            "external_id": f.external_id, "owner": f.owner, "resource": f.resource, "resolution": f.resolution,
        })).collect::<Vec<_>>(),
    })
}

/// `sha256=<hex>` of HMAC-SHA256(key, "<timestamp>.<body>").
pub fn signature(key: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all.
    pub attempts: u32,
    /// First backoff; it doubles after each attempt (with jitter, up to 20 s between attempts).
    pub base: Duration,
    /// The longest `Retry-After` waited for; longer ones fail the delivery.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self { attempts: 4, base: Duration::from_millis(500), max_wait: Duration::from_secs(30) }
    }
}

/// One delivery's outcome, for the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct Delivery {
    /// `desktop` or `webhook:<name>`.
    pub channel: String,
    /// The notification's event.
    pub event: String,
    /// Its subject.
    pub subject: String,
    /// When it ended.
    pub at: String,
    /// Attempts made.
    pub attempts: u32,
    /// `delivered` or `failed`.
    pub status: String,
    /// The last HTTP status.
    pub http_status: Option<u16>,
    /// The last error.
    pub error: Option<String>,
}

/// Sends every notification to every target, retrying as `retry` says. No vault needed: call
/// [`record_deliveries`] with the result.
///
/// Through the connectors' shared HTTP layer (one retry loop for the product): 429 and 5xx and
/// transport errors are retried with backoff, `Retry-After` is honoured up to `max_wait`, any
/// other refusal is final, redirects are never followed (a webhook URL is a credential and its
/// body is signed), and the URL and the signing key are scrubbed from every error.
pub async fn send(targets: &[WebhookTarget], notes: &[Notification], retry: Retry) -> Vec<Delivery> {
    let mut out = Vec::new();
    for t in targets {
        for n in notes {
            out.push(send_one(t, n, retry).await);
        }
    }
    out
}

/// The HTTP layer's limits for a webhook: the retry policy, 15 s a delivery, a small body.
fn http_settings(retry: Retry) -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(15),
        read_timeout: Duration::from_secs(15),
        max_silent_attempts: retry.attempts,
        max_attempts: retry.attempts.max(1),
        base_backoff: retry.base,
        max_rate_limit_wait: retry.max_wait,
        // A receiver's answer is read only to say why it refused: a few KiB are enough.
        max_body_bytes: 4 * 1024,
        cut_body: true,
        concurrency: 1,
        rate_limit: RateLimitSignal::RetryAfter,
        ..HttpSettings::default()
    }
}

async fn send_one(t: &WebhookTarget, n: &Notification, retry: Retry) -> Delivery {
    let delivery_id = uuid::Uuid::now_v7().to_string();
    // The whole URL, and its path and query alone (a receiver may echo just those: a Slack
    // URL's path is its credential), and the signing key.
    let parsed = reqwest::Url::parse(t.url.expose()).ok();
    let mut scrub = vec![t.url.expose()];
    if let Some(u) = &parsed {
        scrub.extend([u.path()].into_iter().filter(|p| p.len() > 1));
        scrub.extend(u.query());
    }
    if let Some(key) = &t.key {
        scrub.push(key.expose());
    }
    let outcome = match Http::new("webhook", http_settings(retry), &scrub) {
        Ok(http) => {
            http.send("POST", |c| {
                // Signed anew for each attempt: the timestamp is the attempt's.
                let now = Utc::now();
                let body = serde_json::to_vec(&payload(&t.kind, n, &delivery_id, now)).expect("payload serializes");
                let mut req = c
                    .post(t.url.expose())
                    .header("content-type", "application/json")
                    .header("x-keyward-event", &n.event)
                    .header("x-keyward-delivery", &delivery_id);
                if let Some(key) = &t.key {
                    req = req
                        .header("x-keyward-timestamp", now.timestamp().to_string())
                        .header("x-keyward-signature", signature(key, now.timestamp(), &body));
                }
                req.body(body)
            })
            .await
        }
        Err(e) => Err(e),
    };
    let (status, attempts, http_status, error) = match outcome {
        Ok(r) => ("delivered", r.attempts, Some(r.status), None),
        Err(e) => ("failed", e.attempts, e.status, Some(e.message)),
    };
    Delivery {
        channel: format!("webhook:{}", t.name),
        event: n.event.clone(),
        subject: n.subject.clone(),
        at: time::now_string(),
        attempts,
        status: status.to_owned(),
        http_status,
        error,
    }
}

/// Writes deliveries to the log.
pub fn record_deliveries(vault: &Vault, deliveries: &[Delivery]) -> Result<(), Error> {
    for d in deliveries {
        store::insert_delivery(vault.conn(), d)?;
    }
    Ok(())
}

/// The latest deliveries, newest first.
pub fn deliveries(vault: &Vault, limit: usize) -> Result<Vec<Delivery>, Error> {
    store::latest_deliveries(vault.conn(), limit)
}

/// More notifications than this from one audit reach a webhook as one message.
pub const WEBHOOK_BATCH: usize = 3;

/// One notification carrying every finding of `notes` (event `audit.batch`): what one audit
/// found reaches a channel as one message, not dozens in a second.
pub fn batch(notes: &[Notification]) -> Notification {
    let findings: Vec<FindingView> = notes.iter().flat_map(|n| n.findings.iter().cloned()).collect();
    let severity = notes.iter().map(|n| rank(&n.severity)).max().unwrap_or(Severity::Low).as_str().to_owned();
    let mut body: Vec<String> = notes.iter().take(10).map(|n| n.title.clone()).collect();
    if notes.len() > 10 {
        body.push(format!("… and {} more in Keyward's Findings tab", notes.len() - 10));
    }
    Notification {
        event: "audit.batch".into(),
        subject: format!("{} keys", notes.len()),
        title: format!("Keyward: {} findings on {} keys", findings.len(), notes.len()),
        body: body.join("\n"),
        severity,
        findings,
    }
}

/// Sends `notes` to every enabled webhook and logs the outcomes; past [`WEBHOOK_BATCH`] they
/// go as one [`batch`].
pub async fn deliver(vault: &mut Vault, notes: &[Notification], retry: Retry) -> Result<Vec<Delivery>, Error> {
    if notes.is_empty() {
        return Ok(Vec::new());
    }
    let targets = webhook_targets(vault, None)?;
    let now = Utc::now();
    let out = if notes.len() > WEBHOOK_BATCH {
        let batched = batch(notes);
        let out = send(&targets, std::slice::from_ref(&batched), retry).await;
        // Held again as they were (each with its own event), not as the batch.
        if out.iter().any(|d| d.status != "delivered") {
            requeue(vault, notes, now)?;
        }
        out
    } else {
        let out = send(&targets, notes, retry).await;
        let failed: Vec<Notification> = notes
            .iter()
            .filter(|n| out.iter().any(|d| d.event == n.event && d.subject == n.subject && d.status != "delivered"))
            .cloned()
            .collect();
        requeue(vault, &failed, now)?;
        out
    };
    record_deliveries(vault, &out)?;
    Ok(out)
}

/// How long an alert a webhook would not take is tried again (at each audit): past it, it is
/// given up, in the log, rather than re-sent to every webhook for ever.
pub const RETRY_WINDOW_DAYS: i64 = 3;

/// Holds again what a webhook did not take (after its retries), so the next audit's
/// notifications carry it: an alert is told when it is delivered, not when it is sent. A
/// notification that reached one webhook but not another goes to both again — twice is better
/// than never — for [`RETRY_WINDOW_DAYS`] after it was first told.
fn requeue(vault: &Vault, notes: &[Notification], now: DateTime<Utc>) -> Result<usize, Error> {
    let mut held = 0;
    let mut given_up = 0;
    for n in notes {
        for f in &n.findings {
            let told = store::told(vault.conn(), f.id)?.and_then(|t| t.at);
            let fresh = told.is_none_or(|at| now - at <= chrono::Duration::days(RETRY_WINDOW_DAYS));
            if !fresh {
                given_up += 1;
                continue;
            }
            held += store::hold(vault.conn(), f.id, &n.event, now)?;
        }
    }
    if held > 0 {
        tracing::warn!(held, "webhook delivery failed; the findings are held for the next audit");
    }
    if given_up > 0 {
        tracing::warn!(given_up, days = RETRY_WINDOW_DAYS, "webhook delivery still failing; alerts given up");
    }
    Ok(held)
}
