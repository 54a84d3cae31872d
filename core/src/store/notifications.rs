//! The notification tables: `notified` (what the user was last told of each finding, so nothing
//! is said twice), `pending_notifications` (held for quiet hours, the digest, or a webhook that
//! did not take them), `webhooks` (where notifications go, sealed) and `deliveries` (every
//! delivery's outcome). The preferences are a setting (`store::settings`).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::Error;
use crate::notify::{Delivery, WebhookView};

/// What the user was last told of a finding.
#[derive(Debug, Clone)]
pub(crate) struct ToldRow {
    /// The severity told.
    pub severity: String,
    /// When (`None` only in a vault edited by hand).
    pub at: Option<DateTime<Utc>>,
    /// Whether a reminder's closing was told too.
    pub closed: bool,
}

/// What the user was last told of a finding, if anything.
pub(crate) fn told(conn: &Connection, finding_id: i64) -> Result<Option<ToldRow>, Error> {
    Ok(conn
        .prepare_cached("SELECT severity, at, closed_at IS NOT NULL AS closed FROM notified WHERE finding_id = ?1")?
        .query_row([finding_id], |r| {
            Ok(ToldRow { severity: r.get("severity")?, at: super::instant(r, "at")?, closed: r.get("closed")? })
        })
        .optional()?)
}

/// Remembers a reminder's closing as told at `at`.
pub(crate) fn close_reminder(conn: &Connection, finding_id: i64, at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached("UPDATE notified SET closed_at = ?2 WHERE finding_id = ?1")?
        .execute(params![finding_id, crate::time::to_string(at)])?;
    Ok(())
}

/// Remembers a finding as told at `severity` at `at` (a reminder's closing forgotten).
pub(crate) fn mark_told(conn: &Connection, finding_id: i64, severity: &str, at: DateTime<Utc>) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO notified (finding_id, severity, at) VALUES (?1, ?2, ?3)
         ON CONFLICT (finding_id) DO UPDATE SET severity = excluded.severity, at = excluded.at, closed_at = NULL",
    )?
    .execute(params![finding_id, severity, crate::time::to_string(at)])?;
    Ok(())
}

/// Holds a finding's notification (`event`) for later; the rows added (one).
pub(crate) fn hold(conn: &Connection, finding_id: i64, event: &str, queued_at: DateTime<Utc>) -> Result<usize, Error> {
    Ok(conn
        .prepare_cached("INSERT INTO pending_notifications (finding_id, event, queued_at) VALUES (?1, ?2, ?3)")?
        .execute(params![finding_id, event, crate::time::to_string(queued_at)])?)
}

/// A held notification.
#[derive(Debug, Clone)]
pub(crate) struct HeldRow {
    /// The finding it is about.
    pub finding_id: i64,
    /// Its event, as stored.
    pub event: String,
}

/// Every held notification, oldest first.
pub(crate) fn held(conn: &Connection) -> Result<Vec<HeldRow>, Error> {
    let mut stmt = conn.prepare("SELECT finding_id, event FROM pending_notifications ORDER BY id")?;
    Ok(stmt
        .query_map([], |r| Ok(HeldRow { finding_id: r.get("finding_id")?, event: r.get("event")? }))?
        .collect::<Result<_, _>>()?)
}

/// Empties the queue of held notifications.
pub(crate) fn clear_held(conn: &Connection) -> Result<(), Error> {
    conn.execute("DELETE FROM pending_notifications", [])?;
    Ok(())
}

/// A new webhook, written whole in one statement.
pub(crate) struct NewWebhook<'a> {
    pub name: &'a str,
    /// `slack` or `json`.
    pub kind: &'a str,
    /// The URL as shown (scheme and host only).
    pub display_url: &'a str,
    /// The sealed URL and signing key.
    pub sealed: &'a [u8],
    pub created_at: DateTime<Utc>,
}

/// Inserts a webhook; false when the row breaks a constraint (one of that name exists).
pub(crate) fn insert_webhook(conn: &Connection, w: &NewWebhook<'_>) -> Result<bool, Error> {
    match conn.execute(
        "INSERT INTO webhooks (name, kind, url, secret, created_at)
         VALUES (:name, :kind, :url, :secret, :created_at)",
        rusqlite::named_params! {
            ":name": w.name,
            ":kind": w.kind,
            ":url": w.display_url,
            ":secret": w.sealed,
            ":created_at": crate::time::to_string(w.created_at),
        },
    ) {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Every webhook as shown, by name.
pub(crate) fn webhooks(conn: &Connection) -> Result<Vec<WebhookView>, Error> {
    let mut stmt = conn.prepare("SELECT name, kind, url, enabled FROM webhooks ORDER BY name")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(WebhookView {
                name: r.get("name")?,
                kind: r.get("kind")?,
                url: r.get("url")?,
                enabled: r.get::<_, i64>("enabled")? != 0,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Deletes a webhook; false when none has that name.
pub(crate) fn delete_webhook(conn: &Connection, name: &str) -> Result<bool, Error> {
    Ok(conn.execute("DELETE FROM webhooks WHERE name = ?1", [name])? > 0)
}

/// An enabled webhook with its sealed URL and key.
#[derive(Debug, Clone)]
pub(crate) struct SealedWebhookRow {
    pub name: String,
    /// `slack` or `json`.
    pub kind: String,
    /// The sealed JSON of its URL and signing key.
    pub secret: Vec<u8>,
}

/// The enabled webhooks, sealed, by name.
pub(crate) fn enabled_webhooks(conn: &Connection) -> Result<Vec<SealedWebhookRow>, Error> {
    let mut stmt = conn.prepare("SELECT name, kind, secret FROM webhooks WHERE enabled = 1 ORDER BY name")?;
    Ok(stmt
        .query_map([], |r| {
            Ok(SealedWebhookRow { name: r.get("name")?, kind: r.get("kind")?, secret: r.get("secret")? })
        })?
        .collect::<Result<_, _>>()?)
}

/// Appends a delivery to the log.
pub(crate) fn insert_delivery(conn: &Connection, d: &Delivery) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO deliveries (channel, event, subject, at, attempts, status, http_status, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![d.channel, d.event, d.subject, d.at, d.attempts, d.status, d.http_status, d.error])?;
    Ok(())
}

/// The latest `limit` deliveries of the log, newest first.
pub(crate) fn latest_deliveries(conn: &Connection, limit: usize) -> Result<Vec<Delivery>, Error> {
    let mut stmt = conn.prepare(
        "SELECT channel, event, subject, at, attempts, status, http_status, error FROM deliveries ORDER BY id DESC LIMIT ?1",
    )?;
    Ok(stmt
        .query_map([limit as i64], |r| {
            Ok(Delivery {
                channel: r.get("channel")?,
                event: r.get("event")?,
                subject: r.get::<_, Option<String>>("subject")?.unwrap_or_default(),
                at: r.get("at")?,
                attempts: r.get("attempts")?,
                status: r.get("status")?,
                http_status: r.get("http_status")?,
                error: r.get("error")?,
            })
        })?
        .collect::<Result<_, _>>()?)
}
