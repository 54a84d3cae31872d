//! A vault connected to a Datadog stand-in whose state each test shapes: the setup the findings
//! lifecycle and notification tests share.

use chrono::{DateTime, Duration, Utc};
use keyward_core::Secret;
use keyward_core::api::{self, Home};
use keyward_core::connector::{ConnectorSettings, Credentials};
use keyward_core::vault::Vault;
use keyward_fakes::datadog::{Datadog, Key, State, User};
use keyward_fakes::server::FakeServer;

const API_KEY: &str = "0123456789abcdef0123456789abcdef";
const APP_KEY: &str = "0123456789abcdef0123456789abcdef01234567";

/// A user (`disabled`: left the company).
pub fn user(id: &str, email: &str, disabled: bool) -> User {
    User { id: id.into(), name: email.into(), email: email.into(), service_account: false, disabled }
}

/// A key owned by `owner`, used yesterday.
pub fn key(id: &str, owner: &str, created: DateTime<Utc>, expires: Option<DateTime<Utc>>) -> Key {
    Key {
        id: id.into(),
        name: id.to_lowercase(),
        secret: format!("ddpat_{id}secretsecretsecret"),
        owner: owner.into(),
        created_at: created,
        last_used: Some(Utc::now() - Duration::days(1)),
        scopes: Some(vec!["dashboards_read".into()]),
        expires_at: expires,
        leak: None,
    }
}

/// A home whose vault has one Datadog connector (`dd`) on a stand-in seeded with `state`, synced.
pub struct DatadogHome {
    pub server: FakeServer<Datadog>,
    pub dir: tempfile::TempDir,
    pub home: Home,
    pub vault: Vault,
}

impl DatadogHome {
    pub async fn start(state: State) -> Self {
        let server = FakeServer::start(Datadog::new(API_KEY, APP_KEY, state)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let mut vault = api::init(&home, Some(&Secret::new("correct horse".into()))).unwrap();
        let mut creds = Credentials::default();
        creds.insert("api_key", Secret::new(API_KEY.into()));
        creds.insert("app_key", Secret::new(APP_KEY.into()));
        let settings =
            ConnectorSettings::from_iter([("site", "datadoghq.com".into()), ("endpoint", server.url().into())]);
        api::add_connector(&mut vault, "dd", "datadog", settings, &creds).unwrap();
        let mut h = Self { server, dir, home, vault };
        h.sync().await;
        h
    }

    /// Syncs; panics on a failed connector.
    pub async fn sync(&mut self) {
        for (name, outcome) in api::sync(&mut self.vault, None, &|_| {}).await.unwrap() {
            outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    /// Changes the stand-in's state.
    pub fn edit(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.server.provider().state.lock().unwrap());
    }
}
