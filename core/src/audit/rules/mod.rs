//! The rule registry: one folder per rule, one line here. The order is the display order.

use super::{Rule, RuleMeta};

pub mod apigw_api_key_only_auth;
pub mod apigw_domain_weak_tls;
pub mod apigw_key_no_usage_plan;
pub mod apigw_method_no_auth;
pub mod apigw_method_no_validation;
pub mod apigw_route_no_auth;
pub mod apigw_route_no_central_authorizer;
pub mod apigw_stage_execution_logs_off;
pub mod apigw_stage_no_access_logs;
pub mod apigw_stage_no_throttling;
pub mod apigw_stage_no_waf;
pub mod app_key_unscoped;
pub mod atlas_key_no_access_list;
pub mod atlas_key_org_owner;
pub mod fastly_token_all_services;
pub mod fastly_token_global_scope;
pub mod key_disabled_not_deleted;
pub mod key_expired_still_listed;
pub mod key_expiring;
pub mod key_exposed_in_file;
pub mod key_never_used;
pub mod key_no_expiry;
pub mod key_not_rotated;
pub mod key_owner_removed;
pub mod key_owner_unknown;
pub mod key_rejected_by_provider;
pub mod key_unused;
pub mod owner_admin_access;
pub mod owner_two_active_keys;
pub mod provider_reports_leak;
pub mod root_access_key;
pub mod secret_readable_after_creation;
pub mod unknown_key_found;

/// Every rule, in display order: exposure and excess privilege first, then age and use, then
/// posture and hygiene.
pub static ALL_RULES: &[&dyn Rule] = &[
    &root_access_key::RootAccessKey,
    &provider_reports_leak::ProviderReportsLeak,
    &key_exposed_in_file::KeyExposedInFile,
    &unknown_key_found::UnknownKeyFound,
    &owner_admin_access::OwnerAdminAccess,
    &atlas_key_org_owner::AtlasKeyOrgOwner,
    &fastly_token_global_scope::FastlyTokenGlobalScope,
    &key_owner_removed::KeyOwnerRemoved,
    &key_rejected_by_provider::KeyRejectedByProvider,
    &apigw_route_no_auth::ApigwRouteNoAuth,
    &apigw_method_no_auth::ApigwMethodNoAuth,
    &apigw_api_key_only_auth::ApigwApiKeyOnlyAuth,
    &atlas_key_no_access_list::AtlasKeyNoAccessList,
    &app_key_unscoped::AppKeyUnscoped,
    &key_expiring::KeyExpiring,
    &key_not_rotated::KeyNotRotated,
    &key_unused::KeyUnused,
    &key_never_used::KeyNeverUsed,
    &owner_two_active_keys::OwnerTwoActiveKeys,
    &apigw_key_no_usage_plan::ApigwKeyNoUsagePlan,
    &apigw_stage_no_throttling::ApigwStageNoThrottling,
    &apigw_stage_no_access_logs::ApigwStageNoAccessLogs,
    &apigw_stage_no_waf::ApigwStageNoWaf,
    &apigw_stage_execution_logs_off::ApigwStageExecutionLogsOff,
    &apigw_domain_weak_tls::ApigwDomainWeakTls,
    &apigw_method_no_validation::ApigwMethodNoValidation,
    &apigw_route_no_central_authorizer::ApigwRouteNoCentralAuthorizer,
    &key_expired_still_listed::KeyExpiredStillListed,
    &key_disabled_not_deleted::KeyDisabledNotDeleted,
    &key_no_expiry::KeyNoExpiry,
    &fastly_token_all_services::FastlyTokenAllServices,
    &secret_readable_after_creation::SecretReadableAfterCreation,
    &key_owner_unknown::KeyOwnerUnknown,
];

/// A registered rule's metadata by id (`None` for a rule this build no longer has).
pub fn meta_of(rule_id: &str) -> Option<&'static RuleMeta> {
    ALL_RULES.iter().map(|r| r.meta()).find(|m| m.id == rule_id)
}

/// A rule's place in the registry (its display order).
pub fn position(rule_id: &str) -> Option<usize> {
    ALL_RULES.iter().position(|r| r.meta().id == rule_id)
}

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
    fn the_parallel_block_runner_equals_each_rule_in_registry_order() {
        use crate::audit::testing::*;
        // Enough keys for the parallel path, varied enough that most rules fire somewhere.
        let keys: Vec<_> = (0..25_000)
            .map(|i| {
                let mut k = key(&format!("K{i}"), &format!("owner{}", i % 700));
                k.provider = ["aws", "datadog", "fastly", "mongodb_atlas", "aws_apigateway"][i % 5].into();
                k.created_at = Some(days_ago((i % 400) as i64));
                k.secret_readable = i % 3 == 0;
                k.owner = (i % 11 != 0).then(|| format!("owner{}", i % 700));
                k.expires_at = (i % 4 == 0).then(|| now() + chrono::Duration::days((i % 60) as i64 - 20));
                k.scopes = if i % 7 == 0 { vec!["global".into(), "services:*".into()] } else { vec![] };
                k
            })
            .collect();
        let snap = snapshot(keys);
        let c = ctx();
        let sequential: Vec<String> = ALL_RULES
            .iter()
            .flat_map(|r| r.evaluate(&snap, &c))
            .map(|f| format!("{}|{:?}|{}", f.fingerprint(), f.severity, f.detail))
            .collect();
        let parallel: Vec<String> = crate::audit::evaluate(&snap, &c)
            .iter()
            .map(|f| format!("{}|{:?}|{}", f.fingerprint(), f.severity, f.detail))
            .collect();
        assert!(sequential.len() > 25_000, "rules fire: {}", sequential.len());
        assert_eq!(parallel, sequential);
    }

    #[test]
    fn days_detail_writes_what_format_would() {
        use crate::audit::days_detail;
        for (n, limit) in [(0, 0), (7, 90), (120, 45), (-3, 1_000_000), (i64::MAX, i64::MIN)] {
            assert_eq!(days_detail("a ", n, " b ", limit, " c"), format!("a {n} b {limit} c"));
        }
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
            assert!(!m.practices.is_empty(), "{}: serves at least one practice", m.id);
            assert!(!m.judges.is_empty(), "{}: says what it judges", m.id);
            for c in m.controls {
                assert!(crate::audit::practice::control(c.control).is_some(), "{}: unknown control {}", m.id, c.control);
            }
        }
    }

    #[test]
    fn every_control_is_mapped_by_a_rule_and_every_practice_id_parses_back() {
        use crate::audit::practice::{ALL_PRACTICES, CONTROLS, Practice};
        for c in CONTROLS {
            assert!(
                ALL_RULES.iter().any(|r| r.meta().controls.iter().any(|m| m.control == c.id)),
                "control {} is listed but no rule maps to it",
                c.id
            );
            assert!(c.id.starts_with("cis-aws-") || c.id.starts_with("fsbp-"), "{}: id names its benchmark", c.id);
        }
        for p in ALL_PRACTICES {
            assert_eq!(Practice::parse(p.id()), Some(p));
        }
    }
}
