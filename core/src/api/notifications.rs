//! Notification preferences, webhooks and the delivery log, as users change and read them. The
//! parsing of what a user types (quiet hours `22-7`, `off`) lives here, not in each front end.

use crate::notify;
use crate::vault::Vault;
use crate::{Error, Secret};

pub use crate::notify::{Delivery, Notification, Preferences, WebhookView};

/// Changes to the notification preferences as a user types them; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct PreferenceChanges {
    /// `low`, `medium`, `high` or `critical`.
    pub min_severity: Option<String>,
    /// `START-END` in local hours (`22-7`), or `off`.
    pub quiet_hours: Option<String>,
    /// The local hour of a daily digest (`8`), or `off`.
    pub digest: Option<String>,
    /// `on` or `off`.
    pub desktop: Option<String>,
}

/// The notification preferences.
pub fn notification_preferences(vault: &Vault) -> Result<Preferences, Error> {
    notify::preferences(vault)
}

/// Applies `changes` (checked whole before anything is saved) and returns the preferences now in
/// force.
pub fn change_notification_preferences(vault: &Vault, changes: &PreferenceChanges) -> Result<Preferences, Error> {
    let p = preview_notification_preferences(&notify::preferences(vault)?, changes)?;
    notify::set_preferences(vault, &p)?;
    Ok(p)
}

/// The preferences `changes` would make of `current`, checked, without saving them.
pub fn preview_notification_preferences(
    current: &Preferences,
    changes: &PreferenceChanges,
) -> Result<Preferences, Error> {
    let mut p = current.clone();
    if let Some(s) = &changes.min_severity {
        p.min_severity = s.clone();
    }
    if let Some(q) = &changes.quiet_hours {
        p.quiet_hours = match q.trim() {
            "off" => None,
            q => {
                let bad = || Error::Invalid {
                    field: "quiet hours",
                    reason: format!("{q:?}: START-END in local hours, e.g. 22-7, or off"),
                };
                let (a, b) = q.split_once('-').ok_or_else(bad)?;
                Some((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
            }
        };
    }
    if let Some(d) = &changes.digest {
        p.digest_hour = match d.trim() {
            "off" => None,
            h => Some(h.parse().map_err(|_| Error::Invalid {
                field: "digest",
                reason: format!("{h:?}: the digest hour is 0-23, or off"),
            })?),
        };
    }
    if let Some(d) = &changes.desktop {
        p.desktop = match d.trim() {
            "on" => true,
            "off" => false,
            other => {
                return Err(Error::Invalid { field: "desktop", reason: format!("{other:?}: on or off") });
            }
        };
    }
    Ok(p)
}

/// What going from `before` to `after` would silence, in words: desktop notifications off, a
/// higher threshold, new or other quiet hours, a digest in place of alerts. Empty when nothing
/// is silenced. The window confirms such a change outside the page: a script in it must not be
/// able to quiet the alerts about the keys it is after.
pub fn silenced(before: &Preferences, after: &Preferences) -> Vec<String> {
    let rank = |s: &str| crate::audit::Severity::parse(s).unwrap_or(crate::audit::Severity::Low);
    let mut out = Vec::new();
    if before.desktop && !after.desktop {
        out.push("desktop notifications off".to_owned());
    }
    if rank(&after.min_severity) > rank(&before.min_severity) {
        out.push(format!("only {} findings and above notified (was {})", after.min_severity, before.min_severity));
    }
    if let Some((a, b)) = after.quiet_hours
        && after.quiet_hours != before.quiet_hours
    {
        out.push(format!("nothing sent from {a}:00 to {b}:00"));
    }
    if let Some(h) = after.digest_hour
        && after.digest_hour != before.digest_hour
    {
        out.push(format!("one digest a day at {h}:00 in place of alerts as they come"));
    }
    out
}

/// A webhook added, and the signing key Keyward made for it when none was given (a `json`
/// webhook is always signed): shown once, never again.
#[derive(Debug)]
pub struct AddedWebhook {
    /// The webhook as listed.
    pub view: WebhookView,
    /// The signing key Keyward generated, when it did.
    pub generated_key: Option<Secret>,
}

/// Adds a webhook (`slack` or `json`); its URL and signing key are sealed in the vault.
pub fn add_webhook(
    vault: &Vault,
    name: &str,
    kind: &str,
    url: &Secret,
    key: Option<Secret>,
) -> Result<AddedWebhook, Error> {
    let (key, generated) = match (kind, key) {
        ("json", Some(k)) => (Some(k), false),
        ("json", None) => {
            let bytes = crate::crypto::random_bytes::<32>()?;
            (Some(Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect())), true)
        }
        _ => (None, false),
    };
    let view = notify::add_webhook(vault, name, kind, url, key.as_ref())?;
    Ok(AddedWebhook { view, generated_key: if generated { key } else { None } })
}

/// The webhooks (scheme and host of each URL only).
pub fn list_webhooks(vault: &Vault) -> Result<Vec<WebhookView>, Error> {
    notify::list_webhooks(vault)
}

/// Removes a webhook.
pub fn remove_webhook(vault: &Vault, name: &str) -> Result<(), Error> {
    notify::remove_webhook(vault, name)
}

/// Sends a test notification to one webhook, records the delivery, and returns it.
pub async fn test_webhook(vault: &Vault, name: &str) -> Result<Delivery, Error> {
    let targets = notify::webhook_targets(vault, Some(name))?;
    if targets.is_empty() {
        return Err(Error::NotFound { what: "enabled webhook", id: name.to_owned() });
    }
    let note = Notification {
        event: "test".into(),
        subject: "keyward".into(),
        title: "Keyward test notification".into(),
        body: "If you can read this, Keyward can reach this webhook.".into(),
        severity: "low".into(),
        findings: vec![],
    };
    let mut d = notify::send(&targets, &[note], Default::default()).await;
    notify::record_deliveries(vault, &d)?;
    Ok(d.remove(0))
}

/// The delivery log, newest first.
pub fn deliveries(vault: &Vault, limit: usize) -> Result<Vec<Delivery>, Error> {
    notify::deliveries(vault, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_change_silences_is_told_and_what_makes_it_louder_is_not() {
        let before = Preferences { min_severity: "medium".into(), ..Preferences::default() };
        let change = |c: PreferenceChanges| silenced(&before, &preview_notification_preferences(&before, &c).unwrap());
        let off = change(PreferenceChanges { desktop: Some("off".into()), ..Default::default() });
        assert_eq!(off, ["desktop notifications off"]);
        let higher = change(PreferenceChanges { min_severity: Some("critical".into()), ..Default::default() });
        assert_eq!(higher, ["only critical findings and above notified (was medium)"]);
        let quiet = change(PreferenceChanges {
            quiet_hours: Some("22-7".into()),
            digest: Some("8".into()),
            ..Default::default()
        });
        assert_eq!(quiet.len(), 2, "{quiet:?}");
        assert!(change(PreferenceChanges { min_severity: Some("low".into()), ..Default::default() }).is_empty());
        assert!(
            change(PreferenceChanges {
                quiet_hours: Some("off".into()),
                desktop: Some("on".into()),
                ..Default::default()
            })
            .is_empty()
        );
        let digest = Preferences { digest_hour: Some(8), ..before.clone() };
        let moved = silenced(&digest, &Preferences { digest_hour: Some(23), ..digest.clone() });
        assert_eq!(moved, ["one digest a day at 23:00 in place of alerts as they come"], "a digest moved is told too");
        assert!(
            preview_notification_preferences(
                &before,
                &PreferenceChanges { digest: Some("noon".into()), ..Default::default() }
            )
            .is_err()
        );
    }
}
