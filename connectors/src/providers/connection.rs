//! What a connector is made from: the settings the vault stores for it (plain JSON, never a
//! secret) and its sealed credentials, unsealed into [`Secret`]s. Each provider reads the
//! settings into a typed struct of its own (in its folder), so no struct holds every
//! provider's fields; the stored form is a JSON object of the flags' values, in the order given.

use std::collections::BTreeMap;

use keyward_secret::Secret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{BoxFuture, Provider};
use crate::{Check, ConnectorError, ErrorKind, Inventory, Progress};

/// The key the demo workspace sets on its connectors; no provider reads it (the demo points
/// them at its local stand-ins).
pub const DEMO: &str = "demo";

/// A connector's settings as stored: a JSON object of setting values (`{"site": "datadoghq.eu"}`),
/// in the order they were given. Which keys a provider reads is in its registry entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(Vec<(String, Value)>);

impl Settings {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key`, when it is a string.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// Sets `key` (replacing its value); `null`, `false` and an empty list remove it, so an
    /// unset flag is never stored (no setting is a boolean whose `false` must be kept: the
    /// demo mark is the only boolean, and it is set to `true`).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        let unset = matches!(&value, Value::Null | Value::Bool(false)) || value.as_array().is_some_and(Vec::is_empty);
        match self.0.iter().position(|(k, _)| k == key) {
            Some(i) if unset => {
                self.0.remove(i);
            }
            Some(i) => self.0[i].1 = value,
            None if unset => {}
            None => self.0.push((key.to_owned(), value)),
        }
    }

    /// The keys set, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Whether this is a connector of the demo workspace.
    pub fn is_demo(&self) -> bool {
        self.get(DEMO) == Some(&Value::Bool(true))
    }

    /// The settings read into a provider's typed struct (the demo mark left out); a value of the
    /// wrong type is a [`SettingError`] (field `settings`) with serde's words for it.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, SettingError> {
        let object: serde_json::Map<String, Value> =
            self.0.iter().filter(|(k, _)| k != DEMO).map(|(k, v)| (k.clone(), v.clone())).collect();
        serde_json::from_value(Value::Object(object))
            .map_err(|e| SettingError { field: "settings", reason: format!("unreadable ({e})") })
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Settings {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(pairs: I) -> Self {
        let mut s = Settings::default();
        for (k, v) in pairs {
            s.set(&k.into(), v);
        }
        s
    }
}

impl serde::Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Settings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Settings;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of connector settings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Settings, A::Error> {
                let mut settings = Settings::default();
                let mut seen = std::collections::BTreeSet::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("setting {k:?} given twice")));
                    }
                    // As `set`: an unset value (`null`, `false`, `[]`) is no setting.
                    settings.set(&k, v);
                }
                Ok(settings)
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// A setting a provider refuses: which, and why (shown as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The setting's key (`site`), or `settings`.
    pub field: &'static str,
    /// Why, in words.
    pub reason: String,
}

impl SettingError {
    /// As a connector error of `provider` (a stored setting that no longer reads).
    pub fn at(self, provider: &'static str) -> ConnectorError {
        ConnectorError::new(provider, ErrorKind::Config, format!("{}: {}", self.field, self.reason))
    }
}

/// A connector's credentials, field by field. Secrets only; `Debug` shows field names.
#[derive(Default)]
pub struct Credentials {
    fields: BTreeMap<String, Secret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.fields.keys()).finish()
    }
}

impl Credentials {
    /// Sets a field.
    pub fn insert(&mut self, field: &str, value: Secret) {
        self.fields.insert(field.to_owned(), value);
    }

    /// A field's value (an empty one counts as missing).
    pub fn get(&self, field: &str) -> Option<&Secret> {
        self.fields.get(field).filter(|s| !s.is_empty())
    }

    /// A field's value, or an error naming it.
    pub fn require(&self, provider: &'static str, field: &str) -> Result<Secret, ConnectorError> {
        self.get(field)
            .cloned()
            .ok_or_else(|| ConnectorError::new(provider, ErrorKind::Config, format!("credentials: {field} is missing")))
    }

    /// The names of the fields set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// Every field with its value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// A connected account: what `sync` and `connector test` ask of a provider.
pub trait Source: Send + Sync {
    /// Every key (and owner, and resource) the account holds.
    fn inventory<'a>(
        &'a self,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> BoxFuture<'a, Result<Inventory, ConnectorError>>;

    /// What the credentials may do, permission by permission, without listing.
    fn check(&self) -> BoxFuture<'_, Result<Vec<Check>, ConnectorError>>;
}

/// How a provider makes its connector from what the vault holds.
#[derive(Debug)]
pub struct Connect {
    /// Reads the stored settings into the provider's typed settings and checks their values
    /// (a known site, a region's shape, a required organization id).
    pub validate: fn(&Settings) -> Result<(), SettingError>,
    /// The connected account; nothing is sent until it is asked.
    pub open: Open,
}

/// Opens a connected account from stored settings and unsealed credentials.
pub type Open = for<'a> fn(&'a Settings, &'a Credentials) -> BoxFuture<'a, Result<Box<dyn Source>, ConnectorError>>;

impl Provider {
    /// The connected account for these settings and credentials, through the registry.
    pub async fn open(
        &self,
        settings: &Settings,
        credentials: &Credentials,
    ) -> Result<Box<dyn Source>, ConnectorError> {
        match &self.connect {
            Some(c) => (c.open)(settings, credentials).await,
            None => Err(ConnectorError::new(
                self.id,
                ErrorKind::Config,
                match self.inventory {
                    super::Support::No(why) => why,
                    super::Support::Yes(_) => "no connector",
                },
            )),
        }
    }
}

/// Implements [`Source`] for a client whose inherent `inventory` and `check` have the trait's
/// shapes (every provider's client does).
#[macro_export]
#[doc(hidden)]
macro_rules! source_for {
    ($client:ty) => {
        impl $crate::providers::Source for $client {
            fn inventory<'a>(
                &'a self,
                progress: &'a (dyn Fn($crate::Progress) + Send + Sync),
            ) -> $crate::providers::BoxFuture<'a, Result<$crate::Inventory, $crate::ConnectorError>> {
                Box::pin(<$client>::inventory(self, progress))
            }
            fn check(&self) -> $crate::providers::BoxFuture<'_, Result<Vec<$crate::Check>, $crate::ConnectorError>> {
                Box::pin(<$client>::check(self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_keep_their_order_and_never_store_an_unset_flag() {
        let mut s = Settings::default();
        s.set("region", "us");
        s.set("account_ids", serde_json::json!([1, 2]));
        s.set("endpoint", Value::Null);
        s.set("regions", serde_json::json!([]));
        s.set(DEMO, true);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"region":"us","account_ids":[1,2],"demo":true}"#);
        let back: Settings = serde_json::from_str(r#"{"region":"us","account_ids":[1,2],"demo":true}"#).unwrap();
        assert_eq!(back, s);
        assert!(back.is_demo());
        s.set(DEMO, false);
        assert!(!s.is_demo());
        assert!(serde_json::from_str::<Settings>(r#"{"a":1,"a":2}"#).is_err(), "a key given twice");
        assert!(serde_json::from_str::<Settings>("[1]").is_err());
        let unset: Settings = serde_json::from_str(r#"{"regions":[],"endpoint":null,"site":"x"}"#).unwrap();
        assert_eq!(unset.keys().collect::<Vec<_>>(), ["site"], "read as `set` stores them");
    }
}
