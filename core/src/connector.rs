//! Connector records: which provider accounts the user has connected, and how to reach them.
//!
//! Settings are plain JSON and never hold a secret; credentials a provider needs (not AWS,
//! which uses its own credential chain) go in the sealed `secret` column, as one JSON object
//! sealed to the connector's row.

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::Error;
use crate::store::connectors as store;
use crate::Secret;
use crate::vault::Vault;

/// A connected provider account.
#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    /// Row id.
    pub id: i64,
    /// The user's name for it, unique in the vault; shown as the key's `account`.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Provider settings (region, profile...), no secrets.
    pub settings: ConnectorSettings,
    /// The provider's account id once a sync learned it.
    pub account_id: Option<String>,
    /// AWS: whether the root user has an access key.
    pub root_access_key: Option<bool>,
    /// When it was added (`None` only in a vault edited by hand).
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a sync last succeeded.
    pub last_sync_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Account-level facts from the latest sync (JSON).
    pub facts: serde_json::Value,
    /// Whether its provider and settings are as Keyward stored them (their row MAC holds).
    /// When not — someone wrote the vault file to point it elsewhere — its credentials are
    /// never used and the error says why.
    pub settings_intact: bool,
}

/// A connector's settings as stored (no secrets): each provider reads the keys its registry
/// entry declares into a typed struct of its own.
pub use keyward_connectors::providers::Settings as ConnectorSettings;

/// A connector's own credentials, field by field (secrets; `Debug` shows field names).
pub use keyward_connectors::providers::Credentials;

/// Providers that can be connected (synced), as opposed to registered by hand: those whose
/// registry entry lists keys.
pub fn connectable() -> Vec<&'static str> {
    keyward_connectors::providers::REGISTRY.iter().filter(|p| p.inventory.is_supported()).map(|p| p.id).collect()
}

/// The credential fields a provider's connector needs; alternatives are separate sets
/// (Atlas: an API key pair or a service account). From the provider's registry entry.
pub fn credential_sets(provider: &str) -> Vec<Vec<&'static str>> {
    keyward_connectors::providers::get(provider)
        .map(|p| p.credentials.iter().map(|set| set.iter().map(|c| c.field).collect()).collect())
        .unwrap_or_default()
}

/// Credentials as one secret JSON object, to be sealed to the connector's row.
fn credentials_to_secret(c: &Credentials) -> Secret {
    let map: BTreeMap<&str, &str> = c.iter().map(|(k, v)| (k, v.expose())).collect();
    let json = Zeroizing::new(serde_json::to_string(&map).expect("credentials serialize"));
    Secret::new(json.as_str().to_owned())
}

/// Credentials back from their unsealed JSON object.
fn credentials_from_secret(s: &Secret) -> Result<Credentials, Error> {
    // Values move straight into `Secret`s (zeroized on drop); no other copy is kept.
    let map: BTreeMap<String, String> =
        serde_json::from_str(s.expose()).map_err(|_| Error::Unreadable { what: "a connector's credentials".into() })?;
    let mut c = Credentials::default();
    for (k, v) in map {
        c.insert(&k, Secret::new(v));
    }
    Ok(c)
}

/// Refuses an endpoint that would carry credentials in the clear: `https://`, or `http://` to
/// this machine only (the stand-ins).
fn check_endpoint(endpoint: &str) -> Result<(), Error> {
    let refuse = |why: &str| Error::Invalid {
        field: "endpoint",
        reason: format!("{endpoint:?}: {why}; credentials go only to https:// endpoints (or http:// on this machine)"),
    };
    // Parsed as the HTTP client will parse it (WHATWG: `\\` is `/`, userinfo, IDNA), so what is
    // checked is where the request goes.
    let url = reqwest::Url::parse(endpoint).map_err(|e| refuse(&format!("not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("a user name or password in the URL"));
    }
    let host = url.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(refuse("plain http to another machine")),
        _ => Err(refuse("not an http(s) URL")),
    }
}

/// The settings each provider reads, as the CLI's flags; any other given is refused rather than
/// stored and shown while nothing reads it.
fn settings_read_by(provider: &str) -> Vec<&'static str> {
    keyward_connectors::providers::get(provider)
        .map(|p| p.settings.iter().map(|s| s.flag).collect())
        .unwrap_or_default()
}

/// The CLI flag of a stored setting, as any provider declares it.
fn flag_of(key: &str) -> String {
    keyward_connectors::providers::REGISTRY
        .iter()
        .flat_map(|p| p.settings)
        .find(|s| s.key == key)
        .map_or_else(|| format!("--{}", key.replace('_', "-")), |s| s.flag.to_owned())
}

fn check_settings_apply(provider: &str, s: &ConnectorSettings) -> Result<(), Error> {
    let reads: Vec<&str> = keyward_connectors::providers::get(provider)
        .map(|p| p.settings.iter().map(|s| s.key).collect())
        .unwrap_or_default();
    match s.keys().find(|k| *k != keyward_connectors::providers::DEMO && !reads.contains(k)) {
        Some(key) => Err(Error::Invalid {
            field: "settings",
            reason: format!(
                "{provider} does not use {} (it reads {})",
                flag_of(key),
                settings_read_by(provider).join(", ")
            ),
        }),
        None => Ok(()),
    }
}

/// Checks that `credentials` hold one complete set of what `provider` needs (none for AWS), and
/// that the provider's required settings are there and known.
fn validate(provider: &str, settings: &ConnectorSettings, credentials: &Credentials) -> Result<(), Error> {
    let sets = credential_sets(provider);
    let given: Vec<&str> = credentials.names().collect();
    if sets.is_empty() {
        if !given.is_empty() {
            return Err(Error::Invalid {
                field: "credentials",
                reason: format!("{provider} takes no stored credentials (it uses its own credential chain)"),
            });
        }
    } else if !sets.iter().any(|set| set.iter().all(|f| credentials.get(f).is_some())) {
        let wanted: Vec<String> = sets.iter().map(|s| s.join(" + ")).collect();
        return Err(Error::Invalid {
            field: "credentials",
            reason: format!(
                "{provider} needs {} (got: {})",
                wanted.join(", or "),
                if given.is_empty() { "none".into() } else { given.join(", ") }
            ),
        });
    }
    if let Some(endpoint) = settings.get("endpoint") {
        check_endpoint(endpoint.as_str().unwrap_or_default())?;
    }
    check_settings_apply(provider, settings)?;
    match keyward_connectors::providers::get(provider).and_then(|p| p.connect.as_ref()) {
        Some(connect) => (connect.validate)(settings).map_err(|e| Error::Invalid { field: e.field, reason: e.reason }),
        None => Ok(()),
    }
}

/// Adds a connector with its credentials (sealed). Names are unique.
pub fn add(
    vault: &mut Vault,
    name: &str,
    provider: &str,
    settings: &ConnectorSettings,
    credentials: &Credentials,
) -> Result<Connector, Error> {
    if name.trim().is_empty() {
        return Err(Error::Invalid { field: "name", reason: "must not be empty".into() });
    }
    if !connectable().contains(&provider) {
        let why = match keyward_connectors::providers::get(provider).map(|p| p.inventory) {
            Some(keyward_connectors::providers::Support::No(why)) => format!(" — {why}"),
            _ => String::new(),
        };
        return Err(Error::Invalid {
            field: "provider",
            reason: format!("{provider:?} cannot be connected (connectable: {}){why}", connectable().join(", ")),
        });
    }
    validate(provider, settings, credentials)?;
    if find(vault, name)?.is_some() {
        return Err(Error::Conflict(format!("a connector named {name:?} already exists")));
    }
    let settings_json = serde_json::to_string(settings).expect("settings serialize");
    // The credentials are sealed to the row id, so the id is chosen first and the row is written
    // whole in one statement: a connector never exists without the credentials it was given.
    // Removed connectors keep their rows, so an id is never given twice.
    let id = store::next_id(vault.conn())?;
    let sealed = match credentials.names().next() {
        Some(_) => Some(vault.seal("connectors", "secret", &id.to_string(), &credentials_to_secret(credentials))?),
        None => None,
    };
    let settings_mac = vault.connector_mac(id, name, provider, &settings_json, None);
    store::insert(
        vault.conn(),
        &store::NewConnector {
            id,
            name,
            provider,
            settings: &settings_json,
            sealed_credentials: sealed,
            created_at: chrono::Utc::now(),
            settings_mac,
        },
    )?;
    find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })
}

/// What an edit changed, for the activity log and the window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    /// The settings whose value changed, added or cleared, by name.
    pub settings: Vec<String>,
    /// Whether new credentials replaced the stored ones.
    pub credentials: bool,
    /// Whether its settings had been changed outside Keyward (so were not obeyed) and are now
    /// trusted again, as the user saved them.
    pub retrusted: bool,
}

/// Changes a live connector's settings, and its credentials when `credentials` is given (else the
/// stored ones are kept, sealed as they are). Checked whole as [`add`] checks a new one, against
/// the credentials it will have. Its name, provider and history stay; a demo connector is not
/// edited (it goes to the demo's stand-ins). The row is rewritten in one statement with a new MAC,
/// so the edited settings are trusted as the added ones were.
pub fn edit(
    vault: &mut Vault,
    name: &str,
    settings: &ConnectorSettings,
    credentials: Option<&Credentials>,
) -> Result<(Connector, Edit), Error> {
    let c = find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    if c.settings.is_demo() || settings.get(keyward_connectors::providers::DEMO).is_some() {
        return Err(Error::Invalid {
            field: "connector",
            reason: format!("{name:?} is a demo connector: it goes to the demo's stand-ins and is not edited"),
        });
    }
    let stored = store::sealed_credentials(vault.conn(), c.id)?;
    if !c.settings_intact && credentials.is_none() && stored.is_some() {
        // Its provider or settings were written without the vault's key: what is kept sealed
        // must not go wherever they now point because the form was saved as it stood.
        return Err(Error::Invalid {
            field: "credentials",
            reason: format!(
                "connector {name:?} was changed outside Keyward: type its credentials again to trust it as you save it"
            ),
        });
    }
    // Kept: unsealed as a sync would (the connector is intact here whenever any are stored).
    let kept;
    let effective = match credentials {
        Some(given) => given,
        None if stored.is_none() => {
            kept = Credentials::default();
            &kept
        }
        None => {
            kept = self::credentials(vault, &c)?;
            &kept
        }
    };
    validate(&c.provider, settings, effective)?;
    let edit = Edit {
        settings: changed_settings(&c.settings, settings),
        credentials: credentials.is_some(),
        retrusted: !c.settings_intact,
    };
    if edit.settings.is_empty() && !edit.credentials && !edit.retrusted {
        return Ok((c, edit));
    }
    let settings_json = serde_json::to_string(settings).expect("settings serialize");
    let sealed = match credentials {
        Some(given) if given.names().next().is_some() => {
            Some(Some(vault.seal("connectors", "secret", &c.id.to_string(), &credentials_to_secret(given))?))
        }
        Some(_) => Some(None),
        None => None,
    };
    let mac = vault.connector_mac(c.id, &c.name, &c.provider, &settings_json, None);
    store::update(vault.conn(), c.id, &settings_json, &mac, sealed.as_ref().map(Option::as_deref))?;
    let edited = find(vault, name)?.ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    Ok((edited, edit))
}

/// The names of the settings that differ between `before` and `after`, sorted.
pub fn changed_settings(before: &ConnectorSettings, after: &ConnectorSettings) -> Vec<String> {
    let mut names: Vec<String> =
        before.keys().chain(after.keys()).filter(|k| before.get(k) != after.get(k)).map(str::to_owned).collect();
    names.sort();
    names.dedup();
    names
}

/// The connector's stored credentials (empty for providers that use their own chain).
pub fn credentials(vault: &Vault, connector: &Connector) -> Result<Credentials, Error> {
    if !connector.settings_intact {
        return Err(Error::Conflict(format!(
            "connector {}: its provider or settings (endpoint, site, region, profile…) were changed outside Keyward \
             since it was added, so its credentials are not used; edit it with its credentials typed again (or remove it \
             and add it again) to trust the settings you mean",
            connector.name
        )));
    }
    if let Some(endpoint) = connector.settings.get("endpoint") {
        check_endpoint(endpoint.as_str().unwrap_or_default())?;
    }
    match store::sealed_credentials(vault.conn(), connector.id)? {
        None => Ok(Credentials::default()),
        Some(b) => {
            credentials_from_secret(&vault.open_sealed("connectors", "secret", &connector.id.to_string(), &b)?)
        }
    }
}

/// Removes a connector; its keys stay in the inventory, marked removed and detached.
pub fn remove(vault: &mut Vault, name: &str) -> Result<Removal, Error> {
    let c = store::live_named(vault.conn(), name)?
        .ok_or_else(|| Error::NotFound { what: "connector", id: name.to_owned() })?;
    let now = crate::time::now_string();
    let removal = removal_of_id(vault, c.id)?;
    let name = format!("{} (removed {now}, #{})", c.name, c.id);
    let mac = vault.connector_mac(c.id, &name, &c.provider, &c.settings, Some(&now));
    let tx = vault.write()?;
    let detail = format!("connector {} removed", c.name);
    for (id, severity) in crate::store::findings::firing_on_connector(&tx, c.id)? {
        crate::store::findings::resolve(&tx, id, &severity, &now, "key_deleted", &detail)?;
    }
    crate::store::inventory::detach_connector(&tx, c.id, &now)?;
    // Kept for the history it anchors; its name freed for a new connector; its credentials gone.
    store::mark_removed(&tx, c.id, &now, &name, &mac)?;
    tx.commit()?;
    Ok(removal)
}

/// What removing a connector takes out of the inventory (asked before, told after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    /// Live keys that become removed.
    pub keys: usize,
    /// Firing findings on them, resolved as `key_deleted`.
    pub findings: usize,
}

/// What [`remove`] would change for `c`.
pub fn removal_of(vault: &Vault, c: &Connector) -> Result<Removal, Error> {
    removal_of_id(vault, c.id)
}

fn removal_of_id(vault: &Vault, id: i64) -> Result<Removal, Error> {
    Ok(Removal {
        keys: crate::store::inventory::count_live_keys_of(vault.conn(), id)?,
        findings: crate::store::findings::count_firing_on_connector(vault.conn(), id)?,
    })
}

/// A connector from its row: its settings obeyed only when their MAC holds and they read.
fn from_row(vault: &Vault, r: store::ConnectorRow) -> Connector {
    let intact = crate::vault::mac_eq(
        r.settings_mac.as_deref(),
        &vault.connector_mac(r.id, &r.name, &r.provider, &r.settings, r.removed_at.as_deref()),
    );
    let parsed = serde_json::from_str::<ConnectorSettings>(&r.settings);
    Connector {
        id: r.id,
        name: r.name,
        provider: r.provider,
        // Settings that pass their MAC but do not read (a bug, a damaged file) are not obeyed
        // either: their defaults would send the credentials to the public endpoint.
        settings_intact: intact && parsed.is_ok(),
        settings: parsed.unwrap_or_default(),
        account_id: r.account_id,
        root_access_key: r.root_access_key,
        created_at: r.created_at,
        last_sync_at: r.last_sync_at,
        facts: serde_json::from_str(&r.facts).unwrap_or(serde_json::Value::Null),
    }
}

/// The connector with this name, if any.
pub fn find(vault: &Vault, name: &str) -> Result<Option<Connector>, Error> {
    Ok(store::live_named(vault.conn(), name)?.map(|r| from_row(vault, r)))
}

/// Every connector, by name.
pub fn list(vault: &Vault) -> Result<Vec<Connector>, Error> {
    Ok(store::live(vault.conn())?.into_iter().map(|r| from_row(vault, r)).collect())
}

#[cfg(test)]
mod endpoint_tests {
    use super::check_endpoint;

    #[test]
    fn only_https_or_loopback_http_is_taken_as_the_client_will_read_it() {
        for ok in [
            "https://api.datadoghq.eu",
            "http://127.0.0.1:8080/x",
            "http://localhost:1",
            "http://[::1]:9/",
            "HTTP://127.0.0.2",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.com\\@127.0.0.1/",
            "http://127.0.0.1.evil.com/",
            "http://user:pw@127.0.0.1/",
            "https://user@api.example.com/",
            "http://evil.com",
            "ftp://127.0.0.1/",
            "http:/\\evil.com",
            "not a url",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad} was accepted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use serde_json::json;

    fn vault() -> (tempfile::TempDir, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let fast = crate::crypto::KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };
        let v = Vault::create_with(&dir.path().join("vault.db"), Some(&Secret::new("pw".into())), fast).unwrap();
        (dir, v)
    }

    fn datadog(api: &str, app: &str) -> Credentials {
        let mut c = Credentials::default();
        c.insert("api_key", Secret::new(api.into()));
        c.insert("app_key", Secret::new(app.into()));
        c
    }

    fn sealed(v: &Vault, name: &str) -> (String, String) {
        let c = credentials(v, &find(v, name).unwrap().unwrap()).unwrap();
        (c.get("api_key").unwrap().expose().to_owned(), c.get("app_key").unwrap().expose().to_owned())
    }

    #[test]
    fn an_edit_keeps_or_replaces_credentials_checks_everything_first_and_retrusts_settings() {
        let (_dir, mut v) = vault();
        let site = |s: &str| [("site", json!(s))].into_iter().collect::<ConnectorSettings>();
        add(&mut v, "dd", "datadog", &site("datadoghq.eu"), &datadog("a1", "b1")).unwrap();

        // Settings only: the sealed credentials stay as they were.
        let endpoint: ConnectorSettings =
            [("site", json!("datadoghq.eu")), ("endpoint", json!("http://127.0.0.1:9"))].into_iter().collect();
        let (c, changed) = edit(&mut v, "dd", &endpoint, None).unwrap();
        assert_eq!(changed, Edit { settings: vec!["endpoint".into()], credentials: false, retrusted: false });
        assert!(c.settings_intact);
        assert_eq!(c.settings.text("endpoint"), Some("http://127.0.0.1:9"));
        assert_eq!(sealed(&v, "dd"), ("a1".into(), "b1".into()));

        // Credentials replaced whole; a partial set or a bad setting is refused and changes nothing.
        let mut half = Credentials::default();
        half.insert("app_key", Secret::new("b2".into()));
        assert!(matches!(edit(&mut v, "dd", &endpoint, Some(&half)), Err(Error::Invalid { field: "credentials", .. })));
        let remote: ConnectorSettings = [("endpoint", json!("http://example.com"))].into_iter().collect();
        assert!(matches!(edit(&mut v, "dd", &remote, None), Err(Error::Invalid { field: "endpoint", .. })));
        assert_eq!(find(&v, "dd").unwrap().unwrap().settings, endpoint);
        let (_, changed) = edit(&mut v, "dd", &site("us5.datadoghq.com"), Some(&datadog("a2", "b2"))).unwrap();
        assert_eq!(changed, Edit { settings: vec!["endpoint".into(), "site".into()], credentials: true, retrusted: false });
        assert_eq!(sealed(&v, "dd"), ("a2".into(), "b2".into()));

        // Settings changed in the file without the vault's key are not obeyed; saved again
        // through an edit (the window confirms the endpoint first), they are trusted again.
        v.conn().execute("UPDATE connectors SET settings = '{\"site\":\"datadoghq.com\"}' WHERE name = 'dd'", []).unwrap();
        assert!(!find(&v, "dd").unwrap().unwrap().settings_intact);
        assert!(credentials(&v, &find(&v, "dd").unwrap().unwrap()).is_err());
        assert!(
            matches!(edit(&mut v, "dd", &site("datadoghq.com"), None), Err(Error::Invalid { field: "credentials", .. })),
            "the sealed credentials are not trusted to settings planted in the file"
        );
        let (c, changed) = edit(&mut v, "dd", &site("datadoghq.com"), Some(&datadog("a3", "b3"))).unwrap();
        assert!(c.settings_intact && changed.retrusted);
        assert_eq!(sealed(&v, "dd"), ("a3".into(), "b3".into()));

        // A removed connector, an unknown one and a demo one are not edited.
        assert!(matches!(edit(&mut v, "nope", &site("datadoghq.com"), None), Err(Error::NotFound { .. })));
        let mut demo = site("datadoghq.com");
        demo.set(keyward_connectors::providers::DEMO, true);
        add(&mut v, "demo-dd", "datadog", &demo, &datadog("a3", "b3")).unwrap();
        assert!(matches!(edit(&mut v, "demo-dd", &site("datadoghq.com"), None), Err(Error::Invalid { .. })));
        remove(&mut v, "dd").unwrap();
        assert!(matches!(edit(&mut v, "dd", &site("datadoghq.com"), None), Err(Error::NotFound { .. })));
    }
}
