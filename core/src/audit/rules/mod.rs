//! The rule registry: one folder per rule, one line here. The order is the display order.

use super::Rule;

pub mod app_key_unscoped;
pub mod atlas_key_no_access_list;
pub mod key_never_used;
pub mod key_not_rotated;
pub mod key_unused;
pub mod owner_admin_access;
pub mod owner_two_active_keys;
pub mod provider_reports_leak;
pub mod root_access_key;

/// Every rule, in display order.
pub static ALL_RULES: &[&dyn Rule] = &[
    &root_access_key::RootAccessKey,
    &provider_reports_leak::ProviderReportsLeak,
    &owner_admin_access::OwnerAdminAccess,
    &key_not_rotated::KeyNotRotated,
    &key_unused::KeyUnused,
    &key_never_used::KeyNeverUsed,
    &owner_two_active_keys::OwnerTwoActiveKeys,
    &atlas_key_no_access_list::AtlasKeyNoAccessList,
    &app_key_unscoped::AppKeyUnscoped,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_folder_is_registered_once_under_its_own_id() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/audit/rules");
        let folders: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let ids: Vec<&str> = ALL_RULES.iter().map(|r| r.meta().id).collect();
        let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
        assert_eq!(unique.len(), ids.len(), "duplicate rule ids: {ids:?}");
        assert_eq!(unique, folders, "rule folders and registered ids differ");
    }

    #[test]
    fn metadata_is_complete() {
        for rule in ALL_RULES {
            let m = rule.meta();
            assert!(!m.title.is_empty() && m.title.len() <= 100, "{}: title", m.id);
            assert!(!m.title.starts_with("Ensure"), "{}: titles describe the state", m.id);
            assert!(!m.rationale.is_empty(), "{}: rationale", m.id);
            assert!(!m.remediation.is_empty(), "{}: remediation", m.id);
            assert!(m.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{}: id is snake_case", m.id);
        }
    }
}
