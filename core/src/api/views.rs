//! What the desktop app's pages need beyond the CLI's listings: a key's whole story on one page,
//! what each audit left open (the dashboard's risk over time), a schedule's next fire times, and a
//! connector form's typed-in settings read the way the CLI's flags are. They live here, not in the
//! shell, so the rules (which findings belong to a key, what a setting's text means) are the
//! core's and one test covers both front ends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ExposureView, FindingView, KeyView, RotationView};
use crate::connector::ConnectorSettings;
use crate::vault::Vault;
use crate::{Error, store, time};

/// One change a sync (or the user) made to a key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyChangeView {
    /// When (RFC 3339).
    pub at: String,
    /// `added`, `changed`, `removed`, `reappeared` or `registered`.
    pub change: String,
    /// The field that changed (`status`, `scopes`…), for `changed`.
    pub field: Option<String>,
    /// Its value before.
    pub old_value: Option<String>,
    /// Its value after.
    pub new_value: Option<String>,
}

/// A key's whole story: the key, what its provider said of it, its findings, its history, where
/// it is used and its rotations. Never a secret: reveal stays its own, confirmed, command.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyDetailView {
    /// The key as the inventory lists it.
    pub key: KeyView,
    /// The provider's own value for its scopes, before Keyward normalised them.
    #[cfg_attr(feature = "bindings", ts(type = "unknown"))]
    pub raw_scopes: serde_json::Value,
    /// Whether its owner still exists at the provider (the latest sync listed them); null when
    /// it has no owner or was registered by hand, so nobody can tell.
    pub owner_exists: Option<bool>,
    /// Its findings in every state, and its owner's (a key inherits its owner's risk).
    pub findings: Vec<FindingView>,
    /// What syncs and the user changed on it, oldest first.
    pub history: Vec<KeyChangeView>,
    /// Where the scan found its secret or id.
    pub consumers: Vec<ExposureView>,
    /// Its rotations, newest first.
    pub rotations: Vec<RotationView>,
}

/// A key's whole story (see [`KeyDetailView`]).
pub fn key_detail(vault: &Vault, id: &str) -> Result<KeyDetailView, Error> {
    let stored = crate::inventory::get(vault, id)?;
    let key = super::key_view(vault, &stored)?;
    let owner_exists = match (&stored.owner, key.account.as_str()) {
        (None, _) | (_, "manual") => None,
        (Some(owner), account) => {
            let owners = store::inventory::owners(vault.conn())?;
            let listed = owners.iter().any(|o| o.account == account && o.provider == stored.provider);
            // A connector whose syncs list no owners cannot tell whether this one exists.
            listed.then(|| owners.iter().any(|o| o.account == account && &o.name == owner))
        }
    };
    let findings = crate::findings::of_key(vault, &stored, &[])?;
    let history = store::inventory::history_of(vault.conn(), id)?
        .into_iter()
        .map(|h| KeyChangeView {
            at: h.at,
            change: h.change,
            field: h.field,
            old_value: h.old_value,
            new_value: h.new_value,
        })
        .collect();
    let mut rotations: Vec<RotationView> = super::list_rotations(vault)?
        .into_iter()
        .filter(|r| r.key_id == id || r.new_key_id.as_deref() == Some(id))
        .collect();
    rotations.reverse();
    Ok(KeyDetailView {
        raw_scopes: stored.raw_scopes.clone(),
        owner_exists,
        findings,
        history,
        consumers: super::key_consumers(vault, id)?,
        rotations,
        key,
    })
}

/// A key as the window's inventory holds it: what its table shows, filters, sorts and exports,
/// and nothing more. The window keeps one per key (100,000 of them), so what only the key's own
/// page shows (the provider's details, scopes, the findings' words) is left to
/// [`key_detail`]: at 10,000 keys this is less than half of [`KeyView`]'s JSON.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyRow {
    /// Keyward's id.
    pub id: String,
    /// Provider id.
    pub provider: String,
    /// Connector name or `manual`.
    pub account: String,
    /// The provider's id for the key.
    pub external_id: Option<String>,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: Option<String>,
    /// `active` or `inactive`.
    #[cfg_attr(feature = "bindings", ts(type = "\"active\" | \"inactive\""))]
    pub status: &'static str,
    /// Creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Age in whole days at the time of listing.
    pub age_days: Option<i64>,
    /// Last use (RFC 3339).
    pub last_used_at: Option<String>,
    /// Where it was last used.
    pub last_used_service: Option<String>,
    /// Region of last use.
    pub last_used_region: Option<String>,
    /// Whether the provider reports use (if so, no `last_used_at` means never used).
    pub usage_tracked: bool,
    /// Expiry.
    pub expires_at: Option<String>,
    /// Whether the vault holds the secret.
    pub has_secret: bool,
    /// Open findings on this key (its own and its owner's).
    pub open_findings: usize,
    /// Risk score: the sum of the weights of those findings.
    pub risk: u32,
    /// The parts of the risk score, heaviest first, without their words.
    pub risk_parts: Vec<RiskMark>,
    /// No finding open, and one of its own acknowledged or snoozed: the inventory's "leave out
    /// settled keys" toggle hides it.
    pub settled: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// What kind of credential; null when registered by hand.
    pub kind: Option<String>,
    /// Keys registered by hand: what the provider said when last checked.
    pub check_result: Option<String>,
}

/// A part of a key's risk score as the inventory needs it: which rule, how bad, how much.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RiskMark {
    /// The rule.
    pub rule_id: String,
    /// Its severity.
    #[cfg_attr(feature = "bindings", ts(type = "\"low\" | \"medium\" | \"high\" | \"critical\""))]
    pub severity: String,
    /// What it adds.
    pub weight: u32,
}

impl KeyRow {
    fn new(key: KeyView, settled: bool) -> Self {
        Self {
            risk_parts: key
                .risk_parts
                .into_iter()
                .map(|p| RiskMark { rule_id: p.rule_id, severity: p.severity, weight: p.weight })
                .collect(),
            settled: settled && key.open_findings == 0,
            id: key.id,
            provider: key.provider,
            account: key.account,
            external_id: key.external_id,
            name: key.name,
            owner: key.owner,
            status: key.status,
            created_at: key.created_at,
            age_days: key.age_days,
            last_used_at: key.last_used_at,
            last_used_service: key.last_used_service,
            last_used_region: key.last_used_region,
            usage_tracked: key.usage_tracked,
            expires_at: key.expires_at,
            has_secret: key.has_secret,
            open_findings: key.open_findings,
            risk: key.risk,
            tags: key.tags,
            kind: key.kind,
            check_result: key.check_result,
        }
    }
}

/// The inventory's rows: the keys [`super::list_keys`] lists (removed ones left out), each cut to
/// a [`KeyRow`].
pub fn list_key_rows(vault: &Vault, now: DateTime<Utc>) -> Result<Vec<KeyRow>, Error> {
    let quieted = store::findings::quieted_keys(vault.conn())?;
    Ok(super::list_keys(vault, false, now)?
        .into_iter()
        .map(|k| {
            let settled = quieted.contains(&k.id);
            KeyRow::new(k, settled)
        })
        .collect())
}

/// How many findings are open: the count beside Findings, without listing them.
pub fn count_open_findings(vault: &Vault) -> Result<usize, Error> {
    store::findings::count_open(vault.conn())
}

/// The Findings view's listing: the findings, each without the words its rule gives every one of
/// them alike (remediation, practices, controls), and those words once per rule and provider. At
/// 100,000 keys the findings are 300,000, and the words were most of their 156 MB of JSON.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct FindingsListing {
    /// The findings, their `remediation`, `practices` and `controls` left empty.
    pub findings: Vec<FindingView>,
    /// Those words, once per rule and provider of the findings.
    pub words: Vec<RuleWords>,
}

/// What a rule says to every finding of it on one provider's keys.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct RuleWords {
    /// The rule.
    pub rule_id: String,
    /// The provider.
    pub provider: String,
    /// What to do.
    pub remediation: String,
    /// The practices the rule serves.
    pub practices: Vec<String>,
    /// The benchmark controls it breaks, for this provider.
    pub controls: Vec<String>,
}

/// The findings in `states` (all when empty) as [`FindingsListing`]: [`super::list_findings`] with
/// each rule's words said once.
pub fn list_findings_once(vault: &Vault, states: &[super::FindingState]) -> Result<FindingsListing, Error> {
    let mut findings = super::list_findings(vault, states)?;
    let mut words: BTreeMap<(String, String), RuleWords> = BTreeMap::new();
    for f in &mut findings {
        let (remediation, practices, controls) =
            (std::mem::take(&mut f.remediation), std::mem::take(&mut f.practices), std::mem::take(&mut f.controls));
        words.entry((f.rule_id.clone(), f.provider.clone())).or_insert_with(|| RuleWords {
            rule_id: f.rule_id.clone(),
            provider: f.provider.clone(),
            remediation,
            practices,
            controls,
        });
    }
    Ok(FindingsListing { findings, words: words.into_values().collect() })
}

/// What one audit left open: the dashboard's risk over time.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct HealthPoint {
    /// When the audit ran (RFC 3339).
    pub at: String,
    /// Open critical findings after it.
    pub critical: i64,
    /// Open high findings.
    pub high: i64,
    /// Open medium findings.
    pub medium: i64,
    /// Open low findings.
    pub low: i64,
    /// The open findings' weights added up: keys' own and their owners' once each, and the
    /// posture findings of resources and accounts.
    pub risk: i64,
}

/// The last `limit` audits' health, oldest first. Audits from before Keyward kept it are left
/// out rather than shown as zero.
pub fn health_history(vault: &Vault, limit: usize) -> Result<Vec<HealthPoint>, Error> {
    Ok(store::findings::health(vault.conn(), limit)?
        .into_iter()
        .map(|h| HealthPoint {
            at: h.at,
            critical: h.critical,
            high: h.high,
            medium: h.medium,
            low: h.low,
            risk: h.risk,
        })
        .collect())
}

/// How many high and critical findings are open: the tray's figure, one count query (it is
/// asked during long work, twice a second at most).
pub fn open_serious_findings(vault: &Vault) -> Result<usize, Error> {
    store::findings::count_open_serious(vault.conn())
}

/// The next `n` times a cron expression fires after `after` (RFC 3339, UTC), or why it is not
/// one (the same parser the scheduler uses).
pub fn next_fires(cron: &str, after: DateTime<Utc>, n: usize) -> Result<Vec<String>, Error> {
    let schedule = crate::schedule::parse_cron(cron)?;
    Ok(schedule.after(&after).take(n).map(time::to_string).collect())
}

/// A connector's settings from what a form holds, each read as its registry entry's kind says
/// (the CLI's flags are typed the same way): text trimmed, lists split at commas and spaces,
/// numbers parsed, flags `true`. Empty fields are left unset; a key the provider does not read
/// is refused, so a form cannot store what no connector checks.
pub fn connector_settings(provider: &str, form: &BTreeMap<String, String>) -> Result<ConnectorSettings, Error> {
    use keyward_connectors::providers::SettingKind;
    let entry = keyward_connectors::providers::get(provider)
        .ok_or_else(|| Error::Invalid { field: "provider", reason: format!("{provider:?} is not a provider") })?;
    let mut settings = ConnectorSettings::default();
    for (key, text) in form {
        let setting = entry.settings.iter().find(|s| s.key == key).ok_or_else(|| Error::Invalid {
            field: "settings",
            reason: format!("{} has no setting {key:?}", entry.name),
        })?;
        let text = text.trim();
        let words = || text.split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty());
        let value = match setting.kind {
            SettingKind::Text if text.is_empty() => serde_json::Value::Null,
            SettingKind::Text => text.into(),
            SettingKind::List => words().map(|w| serde_json::Value::from(w.to_owned())).collect(),
            SettingKind::Numbers => words()
                .map(|w| {
                    w.parse::<i64>().map(serde_json::Value::from).map_err(|_| Error::Invalid {
                        field: "settings",
                        reason: format!("{}: {w:?} is not a whole number", setting.flag),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
                .into(),
            SettingKind::Flag => match text {
                "true" | "on" => true.into(),
                "" | "false" | "off" => false.into(),
                other => {
                    return Err(Error::Invalid {
                        field: "settings",
                        reason: format!("{}: {other:?} is not on or off", setting.flag),
                    });
                }
            },
        };
        settings.set(key, value);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn rows_are_the_inventory_s_cut_of_each_key_and_say_which_are_settled() {
        let dir = tempfile::tempdir().unwrap();
        let fast = crate::crypto::KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let mut v =
            Vault::create_with(&dir.path().join("vault.db"), Some(&crate::Secret::new("pw".into())), fast).unwrap();
        let home = super::super::Home::new(dir.path().to_path_buf());
        let mut ids = Vec::new();
        for name in ["quiet", "loud", "clean", "dozing"] {
            let new = crate::inventory::NewKey {
                provider: "linear".into(),
                name: name.into(),
                owner: None,
                expires_at: (name == "clean").then(|| Utc::now() + chrono::Duration::days(20)),
                secret: crate::Secret::new(format!("lin_api_{name}0123456789abcdefghijklmnopqrstuvwxyz")),
            };
            ids.push(super::super::add_key(&mut v, new).unwrap().id);
        }
        super::super::run_audit(&home, &mut v, Utc::now()).unwrap();
        let open_of = |v: &Vault, id: &str| {
            crate::findings::list(v, &[crate::findings::State::Open])
                .unwrap()
                .into_iter()
                .filter(|f| f.key_id.as_deref() == Some(id))
                .map(|f| f.id)
                .collect::<Vec<_>>()
        };
        let quiet = open_of(&v, &ids[0]);
        assert!(!quiet.is_empty() && !open_of(&v, &ids[1]).is_empty(), "a key registered without expiry has findings");
        for id in quiet {
            crate::findings::acknowledge(&mut v, id, None, Utc::now()).unwrap();
        }
        for id in open_of(&v, &ids[3]) {
            let until = Utc::now() + chrono::Duration::days(7);
            crate::findings::snooze(&mut v, id, until, None, Utc::now()).unwrap();
        }

        let rows = list_key_rows(&v, Utc::now()).unwrap();
        let keys = super::super::list_keys(&v, false, Utc::now()).unwrap();
        assert_eq!(rows.len(), keys.len());
        for (row, key) in rows.iter().zip(&keys) {
            assert_eq!((&row.id, row.risk, row.open_findings), (&key.id, key.risk, key.open_findings));
            let marks: Vec<_> = row.risk_parts.iter().map(|m| (&m.rule_id, &m.severity, m.weight)).collect();
            let parts: Vec<_> = key.risk_parts.iter().map(|p| (&p.rule_id, &p.severity, p.weight)).collect();
            assert_eq!(marks, parts);
        }
        let settled = |id: &str| rows.iter().find(|r| r.id == id).unwrap().settled;
        assert!(settled(&ids[0]), "every finding acknowledged: settled");
        assert!(settled(&ids[3]), "every finding snoozed: settled");
        assert!(!settled(&ids[1]), "findings open: not settled");
        assert!(!settled(&ids[2]), "nothing acknowledged or snoozed: not settled");
        let open = crate::findings::list(&v, &[crate::findings::State::Open]).unwrap().len();
        assert_eq!(count_open_findings(&v).unwrap(), open);
        // Exactly what the table needs: no provider details, scopes or findings' words.
        let json = serde_json::to_value(&rows).unwrap();
        let mut fields: Vec<&str> = json[0].as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        let mut expected = [
            "id",
            "provider",
            "account",
            "external_id",
            "name",
            "owner",
            "status",
            "created_at",
            "age_days",
            "last_used_at",
            "last_used_service",
            "last_used_region",
            "usage_tracked",
            "expires_at",
            "has_secret",
            "open_findings",
            "risk",
            "risk_parts",
            "settled",
            "tags",
            "kind",
            "check_result",
        ];
        expected.sort_unstable();
        assert_eq!(fields, expected);
        let loud = json.as_array().unwrap().iter().find(|r| r["id"] == ids[1].as_str()).unwrap();
        let part: Vec<&str> = loud["risk_parts"][0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(part, ["rule_id", "severity", "weight"], "sorted: serde_json's maps are");
    }

    #[test]
    fn a_form_is_read_as_the_registry_types_each_setting() {
        let s = connector_settings(
            "aws",
            &form(&[
                ("profile", " prod "),
                ("organization", "true"),
                ("accounts", "111111111111, 222222222222"),
                ("region", ""),
            ]),
        )
        .unwrap();
        assert_eq!(s.text("profile"), Some("prod"));
        assert_eq!(s.get("organization"), Some(&serde_json::Value::Bool(true)));
        assert_eq!(s.get("accounts"), Some(&serde_json::json!(["111111111111", "222222222222"])));
        assert_eq!(s.get("region"), None, "an empty field is unset");
        let n = connector_settings("newrelic", &form(&[("account_ids", "1 2")])).unwrap();
        assert_eq!(n.get("account_ids"), Some(&serde_json::json!([1, 2])));
    }

    #[test]
    fn a_form_cannot_store_what_no_connector_reads() {
        let e = connector_settings("datadog", &form(&[("demo", "true")])).unwrap_err();
        assert!(e.to_string().contains("no setting \"demo\""), "{e}");
        let e = connector_settings("newrelic", &form(&[("account_ids", "12x")])).unwrap_err();
        assert!(e.to_string().contains("not a whole number"), "{e}");
        let e = connector_settings("aws", &form(&[("organization", "maybe")])).unwrap_err();
        assert!(e.to_string().contains("not on or off"), "{e}");
        assert!(connector_settings("nope", &form(&[])).is_err());
    }

    #[test]
    fn tags_are_checked_before_a_key_is_registered_with_them() {
        assert_eq!(super::super::check_tags(&[" b ".into(), "a".into(), "b".into(), "".into()]).unwrap(), ["a", "b"]);
        assert!(super::super::check_tags(&["prod,ci".into()]).is_err());
        assert!(super::super::check_tags(&["x".repeat(65)]).is_err());
    }

    #[test]
    fn next_fires_are_in_order_and_a_bad_expression_is_refused() {
        let after = time::parse("2026-12-02T10:30:00Z").unwrap();
        let fires = next_fires("0 */6 * * *", after, 5).unwrap();
        assert_eq!(fires.len(), 5);
        assert!(fires[0].starts_with("2026-12-02T12:00:00"), "{fires:?}");
        assert!(fires[4].starts_with("2026-12-03T12:00:00"), "{fires:?}");
        assert!(next_fires("every tuesday", after, 5).is_err());
    }
}
