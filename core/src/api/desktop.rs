//! The desktop app's own settings: when the vault locks itself, whether the app starts in the
//! tray, the inventory's saved filters. They live in the vault like every other setting (MAC'd:
//! a value written into the file without the vault's key is not obeyed, the defaults are), so
//! they travel with it and are never in a file a page or another program can change.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::vault::Vault;

/// The desktop app's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct DesktopSettings {
    /// Minutes without the user's input before the vault locks itself; 0: never.
    pub lock_after_minutes: u32,
    /// Start hidden in the tray (when the desktop has one and the vault opens without asking).
    pub start_in_tray: bool,
    /// The inventory's saved filters, in the order they were saved.
    pub saved_filters: Vec<SavedFilter>,
}

/// An inventory filter saved under a name. The filter is the window's own (JSON it writes and
/// reads); the core keeps it, bounded, without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct SavedFilter {
    /// The name it is listed under, unique among the saved filters.
    pub name: String,
    /// The filter, as JSON.
    pub filter: String,
}

impl Default for DesktopSettings {
    /// Locks after 15 minutes alone, as password managers do; starts with its window.
    fn default() -> Self {
        Self { lock_after_minutes: 15, start_in_tray: false, saved_filters: Vec::new() }
    }
}

/// At most a day: beyond that "never" says what is meant.
pub const MAX_LOCK_AFTER_MINUTES: u32 = 24 * 60;
/// Saved filters kept, at most.
pub const MAX_SAVED_FILTERS: usize = 50;
const MAX_FILTER_NAME: usize = 80;
const MAX_FILTER_JSON: usize = 4096;
const SETTINGS_KEY: &str = "desktop";

/// The desktop app's settings (the defaults when unset, or changed outside Keyward).
pub fn desktop_settings(vault: &Vault) -> Result<DesktopSettings, Error> {
    crate::settings::get(vault, SETTINGS_KEY)
}

/// Saves the desktop app's settings, checked whole first; the change goes to the activity log.
pub fn save_desktop_settings(vault: &Vault, settings: &DesktopSettings) -> Result<DesktopSettings, Error> {
    check(settings)?;
    let before = desktop_settings(vault)?;
    crate::settings::set(vault, SETTINGS_KEY, settings)?;
    let changes = changes(&before, settings);
    if !changes.is_empty() {
        crate::activity::record(
            vault,
            crate::activity::Entry::new("settings.desktop", "ok").detail(changes.join("; ")),
        );
    }
    Ok(settings.clone())
}

/// Whether `after` lets the vault stay open longer than `before` did (never locking, or later):
/// the window asks the user outside the page before saving such a change.
pub fn loosens_lock(before: &DesktopSettings, after: &DesktopSettings) -> bool {
    let minutes = |s: &DesktopSettings| if s.lock_after_minutes == 0 { u32::MAX } else { s.lock_after_minutes };
    minutes(after) > minutes(before)
}

fn check(s: &DesktopSettings) -> Result<(), Error> {
    if s.lock_after_minutes > MAX_LOCK_AFTER_MINUTES {
        return Err(Error::Invalid {
            field: "lock after",
            reason: format!(
                "{} minutes: at most {MAX_LOCK_AFTER_MINUTES} (a day), or 0 for never",
                s.lock_after_minutes
            ),
        });
    }
    if s.saved_filters.len() > MAX_SAVED_FILTERS {
        return Err(Error::Invalid {
            field: "saved filters",
            reason: format!("{} saved filters: at most {MAX_SAVED_FILTERS}", s.saved_filters.len()),
        });
    }
    let mut names = std::collections::HashSet::new();
    for f in &s.saved_filters {
        let name = f.name.as_str();
        if name.trim() != name || name.is_empty() || name.chars().count() > MAX_FILTER_NAME || name.chars().any(forges)
        {
            return Err(Error::Invalid {
                field: "saved filter",
                reason: format!(
                    "a filter's name is 1 to {MAX_FILTER_NAME} characters, without spaces around it, control, \
                     separator, bidi or zero-width characters"
                ),
            });
        }
        if !names.insert(name) {
            return Err(Error::Invalid { field: "saved filter", reason: format!("{name:?} is saved twice") });
        }
        // The length first: nothing larger than a filter is parsed.
        if f.filter.len() > MAX_FILTER_JSON
            || !serde_json::from_str::<serde_json::Value>(&f.filter).is_ok_and(|v| v.is_object())
        {
            return Err(Error::Invalid {
                field: "saved filter",
                reason: format!("{name:?}: a filter is a JSON object of at most {MAX_FILTER_JSON} bytes"),
            });
        }
    }
    Ok(())
}

/// Whether a character could forge what a dialog or a label says: controls, line and paragraph
/// separators (Pango breaks lines there), bidi overrides and isolates, and zero-width characters.
/// The shell's native dialogs replace them; names the vault keeps for the window refuse them.
pub fn forges(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}')
        || matches!(c, '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{061C}' | '\u{00AD}')
}

/// What changed, in words (for the activity log; filters by name only).
fn changes(before: &DesktopSettings, after: &DesktopSettings) -> Vec<String> {
    let mut out = Vec::new();
    if before.lock_after_minutes != after.lock_after_minutes {
        let said = |m: u32| if m == 0 { "never".to_owned() } else { format!("after {m} min") };
        out.push(format!("lock {} (was {})", said(after.lock_after_minutes), said(before.lock_after_minutes)));
    }
    if before.start_in_tray != after.start_in_tray {
        out.push(format!("start in tray {}", if after.start_in_tray { "on" } else { "off" }));
    }
    let names = |s: &DesktopSettings| s.saved_filters.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    crate::settings::list_changes("filters", &names(before), &names(after), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let fast = crate::crypto::KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let v = Vault::create_with(&dir.path().join("vault.db"), Some(&crate::Secret::new("pw".into())), fast).unwrap();
        (dir, v)
    }

    fn filter(name: &str, json: &str) -> SavedFilter {
        SavedFilter { name: name.into(), filter: json.into() }
    }

    #[test]
    fn settings_are_kept_checked_and_logged_and_a_forged_row_is_not_obeyed() {
        let (_dir, v) = vault();
        assert_eq!(desktop_settings(&v).unwrap(), DesktopSettings::default());
        let mine = DesktopSettings {
            lock_after_minutes: 5,
            start_in_tray: true,
            saved_filters: vec![filter("risky aws", r#"{"provider":"aws","risk":"high"}"#)],
        };
        save_desktop_settings(&v, &mine).unwrap();
        assert_eq!(desktop_settings(&v).unwrap(), mine);
        let logged = crate::activity::list(&v, Some("settings.desktop")).unwrap();
        let entry = logged.first().expect("logged");
        let detail = entry.detail.as_deref().unwrap();
        assert!(detail.contains("lock after 5 min (was after 15 min)") && detail.contains("\"risky aws\""), "{detail}");

        for bad in [
            DesktopSettings { lock_after_minutes: MAX_LOCK_AFTER_MINUTES + 1, ..mine.clone() },
            DesktopSettings { saved_filters: vec![filter("", "{}")], ..mine.clone() },
            DesktopSettings { saved_filters: vec![filter("a\u{2028}b", "{}")], ..DesktopSettings::default() },
            DesktopSettings { saved_filters: vec![filter(" a", "{}")], ..mine.clone() },
            DesktopSettings { saved_filters: vec![filter("a\u{202E}b", "{}")], ..mine.clone() },
            DesktopSettings { saved_filters: vec![filter("a", "{}"), filter("a", "{\"q\":1}")], ..mine.clone() },
            DesktopSettings { saved_filters: vec![filter("a", "[1]")], ..mine.clone() },
            DesktopSettings {
                saved_filters: vec![filter("a", &format!("{{\"q\":\"{}\"}}", "x".repeat(5000)))],
                ..mine.clone()
            },
            DesktopSettings {
                saved_filters: (0..=MAX_SAVED_FILTERS).map(|i| filter(&i.to_string(), "{}")).collect(),
                ..mine.clone()
            },
        ] {
            assert!(matches!(save_desktop_settings(&v, &bad), Err(Error::Invalid { .. })), "{bad:?}");
        }
        assert_eq!(desktop_settings(&v).unwrap(), mine, "a refused change leaves the settings as they were");

        // Written into the file without the vault's key (say, "never lock"): the defaults rule.
        v.conn()
            .execute(
                "UPDATE settings SET value = ?1 WHERE key = 'desktop'",
                [r#"{"lock_after_minutes":0,"start_in_tray":false,"saved_filters":[]}"#],
            )
            .unwrap();
        assert_eq!(desktop_settings(&v).unwrap(), DesktopSettings::default());
    }

    #[test]
    fn a_longer_or_no_lock_loosens_it() {
        let at = |m| DesktopSettings { lock_after_minutes: m, ..DesktopSettings::default() };
        assert!(loosens_lock(&at(15), &at(30)));
        assert!(loosens_lock(&at(15), &at(0)));
        assert!(loosens_lock(&at(MAX_LOCK_AFTER_MINUTES), &at(0)));
        assert!(!loosens_lock(&at(15), &at(5)));
        assert!(!loosens_lock(&at(0), &at(60)));
        assert!(!loosens_lock(&at(15), &at(15)));
    }
}
