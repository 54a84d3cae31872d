//! A realistic, deterministic organisation spread over every fake: people and service accounts,
//! keys of every kind with varied ages, owners, scopes, expiries and last uses, access lists,
//! a few leaked keys, a few owners who left. The demo workspace, the benchmarks and the scenario
//! tests all start from here; `keys` scales it (the demo uses [`DEMO_KEYS`] per provider).

use chrono::{DateTime, Duration, Utc};

use crate::server::FakeServer;
use crate::{atlas, aws, datadog, fastly, hash, linear, mix, newrelic};

/// Keys per provider in the demo workspace.
pub const DEMO_KEYS: usize = 60;

/// A deterministic stream of numbers.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    /// In `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::new();
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(len);
        s
    }
    fn alnum(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| A[self.below(A.len() as u64) as usize] as char).collect()
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!("{}-{}-4{}-8{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }
}

const PEOPLE: &[(&str, &str)] = &[
    ("Ada Lovelace", "ada"),
    ("Grace Hopper", "grace"),
    ("Alan Turing", "alan"),
    ("Katherine Johnson", "katherine"),
    ("Linus Torvalds", "linus"),
    ("Margaret Hamilton", "margaret"),
    ("Dennis Ritchie", "dennis"),
    ("Barbara Liskov", "barbara"),
    ("Ken Thompson", "ken"),
    ("Frances Allen", "frances"),
];
const PURPOSES: &[&str] = &[
    "ci-deploy",
    "terraform",
    "grafana-sync",
    "billing-export",
    "agent-prod",
    "agent-staging",
    "backup",
    "oncall-bot",
    "data-pipeline",
    "status-page",
    "incident-tool",
    "local-dev",
];

/// A credential the connector itself uses for a fake.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Field name → value (`api_key`, `app_key`, `public_key`...).
    pub fields: Vec<(&'static str, String)>,
}

impl Credentials {
    /// A field's value.
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Every fake, running and seeded, with the credentials to reach each.
pub struct Estate {
    /// Datadog.
    pub datadog: FakeServer<datadog::Datadog>,
    /// Its connector credentials.
    pub datadog_credentials: Credentials,
    /// MongoDB Atlas.
    pub atlas: FakeServer<atlas::Atlas>,
    /// Its connector credentials (a programmatic API key).
    pub atlas_credentials: Credentials,
    /// Fastly.
    pub fastly: FakeServer<fastly::Fastly>,
    /// Its connector credentials.
    pub fastly_credentials: Credentials,
    /// New Relic.
    pub newrelic: FakeServer<newrelic::NewRelic>,
    /// Its connector credentials.
    pub newrelic_credentials: Credentials,
    /// The New Relic account ids.
    pub newrelic_accounts: Vec<i64>,
    /// Linear.
    pub linear: FakeServer<linear::Linear>,
    /// AWS (IAM and API Gateway), for the demo.
    pub aws: FakeServer<aws::Aws>,
    /// Linear keys a user would register by hand: (name, owner, secret, still valid).
    pub linear_keys: Vec<(String, String, String, bool)>,
}

/// The Atlas organisation id of the estate.
pub const ATLAS_ORG: &str = "5f1e0d2c3b4a596877665544";
/// The Fastly customer id of the estate.
pub const FASTLY_CUSTOMER: &str = "7mBqnMqyrSf0cTZ2Kc2eBu";

impl Estate {
    /// Starts every fake seeded with `keys` keys per provider, dated relative to `now`.
    pub async fn start(now: DateTime<Utc>, keys: usize) -> std::io::Result<Self> {
        let (dd, dd_creds) = datadog_state(now, keys);
        let (at, at_creds) = atlas_state(now, keys);
        let (fa, fa_creds) = fastly_state(now, keys);
        let (nr, nr_creds, accounts) = newrelic_state(now, keys);
        let (li, linear_keys) = linear_state();
        let aw = aws_state(now, keys);
        Ok(Self {
            datadog: FakeServer::start(datadog::Datadog::new(dd_creds.get("api_key"), dd_creds.get("app_key"), dd))
                .await?,
            datadog_credentials: dd_creds,
            atlas: FakeServer::start(atlas::Atlas::new(ATLAS_ORG, at)).await?,
            atlas_credentials: at_creds,
            fastly: FakeServer::start(fastly::Fastly::new(FASTLY_CUSTOMER, fa)).await?,
            fastly_credentials: fa_creds,
            newrelic: FakeServer::start(newrelic::NewRelic::new(nr)).await?,
            newrelic_credentials: nr_creds,
            newrelic_accounts: accounts,
            linear: FakeServer::start(linear::Linear::new(li)).await?,
            aws: FakeServer::start(aws::Aws::new(aw)).await?,
            linear_keys,
        })
    }
}

/// The demo workspace's connectors: (name, provider), one per provider that lists keys.
pub const DEMO_CONNECTORS: &[(&str, &str)] = &[
    ("demo-aws", "aws"),
    ("demo-apigateway", "aws_apigateway"),
    ("demo-datadog", "datadog"),
    ("demo-atlas", "mongodb_atlas"),
    ("demo-fastly", "fastly"),
    ("demo-newrelic", "newrelic"),
];

/// The provider of [`Estate::linear_keys`], the keys the demo registers by hand.
pub const HAND_REGISTERED: &str = "linear";

/// The kind of key whose id the demo project writes into its Terraform: (provider, kind).
pub const PROJECT_KEY: (&str, &str) = ("aws", "access_key");

/// How a demo connector reaches its stand-in.
#[derive(Debug, Clone, Default)]
pub struct StandIn {
    /// Settings (the stand-in's address, its accounts), set at each sync: the stand-ins listen
    /// on a new port every start.
    pub settings: Vec<(&'static str, serde_json::Value)>,
    /// Credentials given for each sync only, never stored (the AWS stand-in's fixed key: AWS
    /// connectors store no credentials).
    pub credentials: Vec<(&'static str, String)>,
}

/// The settings a demo connector of `provider` is added with.
pub fn demo_settings(provider: &str) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    match provider {
        "datadog" => vec![("site", json!("datadoghq.com"))],
        "mongodb_atlas" => vec![("org_id", json!(ATLAS_ORG))],
        "newrelic" => vec![("region", json!("us"))],
        "aws" => vec![("region", json!("us-east-1"))],
        "aws_apigateway" => vec![("region", json!("us-east-1")), ("regions", json!(["us-east-1"]))],
        _ => Vec::new(),
    }
}

impl Estate {
    /// The credentials a demo connector of `provider` is added with (sealed in the vault).
    pub fn demo_credentials(&self, provider: &str) -> &[(&'static str, String)] {
        match provider {
            "datadog" => &self.datadog_credentials.fields,
            "mongodb_atlas" => &self.atlas_credentials.fields,
            "fastly" => &self.fastly_credentials.fields,
            "newrelic" => &self.newrelic_credentials.fields,
            _ => &[],
        }
    }

    /// Where a demo connector of `provider` goes at each sync.
    pub fn stand_in(&self, provider: &str) -> StandIn {
        use serde_json::json;
        let at = |url: String| vec![("endpoint", json!(url))];
        match provider {
            "datadog" => StandIn { settings: at(self.datadog.url()), ..Default::default() },
            "mongodb_atlas" => StandIn { settings: at(self.atlas.url()), ..Default::default() },
            "fastly" => StandIn { settings: at(self.fastly.url()), ..Default::default() },
            "newrelic" => StandIn {
                settings: vec![
                    ("account_ids", json!(self.newrelic_accounts)),
                    ("endpoint", json!(format!("{}/graphql", self.newrelic.url()))),
                ],
                ..Default::default()
            },
            "aws" | "aws_apigateway" => StandIn {
                settings: at(self.aws.url()),
                credentials: vec![
                    ("access_key_id", aws::DEMO_ACCESS_KEY.to_owned()),
                    ("secret_access_key", aws::DEMO_SECRET_KEY.to_owned()),
                ],
            },
            "linear" => StandIn { settings: at(format!("{}/graphql", self.linear.url())), ..Default::default() },
            _ => StandIn::default(),
        }
    }
}

fn days(d: &mut Dice, max: u64) -> Duration {
    Duration::days(d.below(max) as i64) + Duration::minutes(d.below(1440) as i64)
}

/// A last use: some never, most within the key's life, skewed towards recent.
fn last_use(d: &mut Dice, now: DateTime<Utc>, created: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if d.chance(12) {
        return None;
    }
    let life = (now - created).num_days().max(1) as u64;
    let ago = if d.chance(65) { d.below(life.min(10)) } else { d.below(life) };
    Some((now - Duration::days(ago as i64) - Duration::minutes(d.below(600) as i64)).max(created))
}

/// Datadog: users (two left, two service accounts), API keys, app keys (some unscoped), PATs and
/// SATs with expiries, two leaked keys.
pub fn datadog_state(now: DateTime<Utc>, keys: usize) -> (datadog::State, Credentials) {
    let mut d = Dice(hash("datadog"));
    let mut s = datadog::State::default();
    for (i, (name, handle)) in PEOPLE.iter().enumerate() {
        s.users.push(datadog::User {
            id: d.uuid(),
            name: name.to_string(),
            email: format!("{handle}@example.com"),
            service_account: false,
            disabled: i >= 8,
        });
    }
    for name in ["svc-terraform", "svc-ci"] {
        s.users.push(datadog::User {
            id: d.uuid(),
            name: name.to_owned(),
            email: format!("{name}@example.com"),
            service_account: true,
            disabled: false,
        });
    }
    let people = PEOPLE.len() as u64;
    let n = |share: usize| (keys * share).div_ceil(100).max(1);
    for i in 0..n(40) {
        let created = now - days(&mut d, 700);
        let leak = (i % 23 == 5).then(|| datadog::Leak { date: now - days(&mut d, 20), source: "github".into() });
        s.api_keys.push(datadog::Key {
            id: d.uuid(),
            name: format!("{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            secret: d.hex(32),
            owner: s.users[d.below(people) as usize].id.clone(),
            created_at: created,
            last_used: last_use(&mut d, now, created),
            scopes: None,
            expires_at: None,
            leak,
        });
    }
    let scopes = [
        vec!["dashboards_read", "monitors_read"],
        vec!["api_keys_read", "org_app_keys_read", "user_access_read"],
        vec!["logs_read_data", "metrics_read"],
        vec!["synthetics_write"],
    ];
    for i in 0..n(35) {
        let created = now - days(&mut d, 600);
        let owner = s.users[d.below(s.users.len() as u64) as usize].id.clone();
        let scoped = (i % 4 != 0).then(|| scopes[d.below(4) as usize].iter().map(|s| s.to_string()).collect());
        s.app_keys.push(datadog::Key {
            id: d.uuid(),
            name: format!("app-{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            secret: d.hex(40),
            owner,
            created_at: created,
            last_used: last_use(&mut d, now, created),
            scopes: scoped,
            expires_at: None,
            leak: None,
        });
    }
    // The connector's own application key: scoped to what an inventory reads.
    let app_key = d.hex(40);
    s.app_keys.push(datadog::Key {
        id: d.uuid(),
        name: "keyward-inventory".into(),
        secret: app_key.clone(),
        owner: s.users[0].id.clone(),
        created_at: now - Duration::days(3),
        last_used: Some(now),
        scopes: Some(datadog::READ_PERMISSIONS.iter().map(|s| s.to_string()).collect()),
        expires_at: None,
        leak: None,
    });
    for i in 0..n(15) {
        let created = now - days(&mut d, 300);
        let expires = created + Duration::days([30, 90, 180, 365][d.below(4) as usize]);
        s.pats.push(datadog::Key {
            id: d.uuid(),
            name: format!("pat-{}-{i}", PEOPLE[i % PEOPLE.len()].1),
            secret: format!("ddpat_{}", d.alnum(40)),
            owner: s.users[i % PEOPLE.len()].id.clone(),
            created_at: created,
            last_used: last_use(&mut d, now, created),
            scopes: Some(vec!["dashboards_read".into(), "monitors_write".into()]),
            expires_at: Some(expires),
            leak: (i % 11 == 3).then(|| datadog::Leak { date: now - Duration::days(2), source: "public_gist".into() }),
        });
    }
    // Tokens about to expire, one per reminder window (30, 7 and 1 days).
    for (pat, left) in s.pats.iter_mut().zip([Duration::days(20), Duration::days(5), Duration::hours(20)]) {
        pat.expires_at = Some(now + left);
    }
    let sas: Vec<String> = s.users.iter().filter(|u| u.service_account).map(|u| u.id.clone()).collect();
    for i in 0..n(10) {
        let created = now - days(&mut d, 400);
        s.sats.push(datadog::Key {
            id: d.uuid(),
            name: format!("sat-{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            secret: format!("ddsat_{}", d.alnum(40)),
            owner: sas[i % sas.len()].clone(),
            created_at: created,
            last_used: last_use(&mut d, now, created),
            scopes: Some(vec!["metrics_read".into()]),
            expires_at: (i % 3 != 0).then(|| created + Duration::days(365)),
            leak: None,
        });
    }
    let api_key = s.api_keys[0].secret.clone();
    (s, Credentials { fields: vec![("api_key", api_key), ("app_key", app_key)] })
}

/// Atlas: API keys with org and project roles (some org owners), access lists (some empty),
/// service accounts with one or two secrets.
pub fn atlas_state(now: DateTime<Utc>, keys: usize) -> (atlas::State, Credentials) {
    let mut d = Dice(hash("atlas"));
    let mut s = atlas::State::default();
    let projects = ["64a1b2c3d4e5f60718293a4b", "64a1b2c3d4e5f60718293a4c", "64a1b2c3d4e5f60718293a4d"];
    let org_roles = ["ORG_OWNER", "ORG_MEMBER", "ORG_READ_ONLY", "ORG_BILLING_ADMIN", "ORG_GROUP_CREATOR"];
    let entries = |d: &mut Dice, n: u64| -> Vec<atlas::AccessEntry> {
        (0..n)
            .map(|_| {
                let created = now - days(d, 500);
                let used = last_use(d, now, created);
                atlas::AccessEntry {
                    cidr: if d.chance(20) {
                        "10.0.0.0/16".into()
                    } else {
                        format!("203.0.113.{}/32", d.below(250) + 1)
                    },
                    created,
                    last_used: used,
                    last_used_address: used.map(|_| format!("203.0.113.{}", d.below(250) + 1)),
                    count: if used.is_some() { d.below(50_000) + 1 } else { 0 },
                }
            })
            .collect()
    };
    for i in 0..(keys * 80).div_ceil(100).max(1) {
        let mut roles = vec![atlas::Role {
            name: org_roles[d.below(if i % 7 == 0 { 1 } else { 5 }) as usize].into(),
            group_id: None,
        }];
        if i % 7 != 0 {
            roles[0].name = org_roles[1 + d.below(4) as usize].into();
        }
        for p in projects {
            if !d.chance(40) {
                continue;
            }
            roles.push(atlas::Role {
                name: ["GROUP_OWNER", "GROUP_READ_ONLY", "GROUP_DATA_ACCESS_READ_WRITE"][d.below(3) as usize].into(),
                group_id: Some(p.to_string()),
            });
        }
        let list_len = if i % 5 == 2 { 0 } else { 1 + d.below(3) };
        s.api_keys.push(atlas::ApiKey {
            id: d.hex(24),
            desc: format!("{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            public_key: d.alnum(8).to_lowercase(),
            private_key: d.uuid(),
            roles,
            access_list: entries(&mut d, list_len),
        });
    }
    for i in 0..(keys * 20).div_ceil(100).max(1) {
        let created = now - days(&mut d, 400);
        let mut secrets = Vec::new();
        for _ in 0..(1 + d.below(2)) {
            let c = created + Duration::days(d.below((now - created).num_days().max(1) as u64) as i64);
            secrets.push(atlas::SaSecret {
                id: d.hex(24),
                secret: format!("mdb_sa_sk_{}", d.alnum(40)),
                created_at: c,
                expires_at: c + Duration::days([30, 90, 365][d.below(3) as usize]),
                last_used: last_use(&mut d, now, c),
            });
        }
        s.service_accounts.push(atlas::ServiceAccount {
            client_id: format!("mdb_sa_id_{}", d.hex(24)),
            name: format!("sa-{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            description: "service account".into(),
            created_at: created,
            roles: vec![atlas::Role {
                name: if i % 4 == 0 { "ORG_OWNER" } else { "ORG_READ_ONLY" }.into(),
                group_id: None,
            }],
            secrets,
            access_list: {
                let n = d.below(2);
                entries(&mut d, n)
            },
        });
    }
    // The connector's own key: org read-only, with an access list entry for this machine.
    let public_key = "kwinvent".to_owned();
    let private_key = d.uuid();
    s.api_keys.push(atlas::ApiKey {
        id: d.hex(24),
        desc: "keyward-inventory".into(),
        public_key: public_key.clone(),
        private_key: private_key.clone(),
        roles: vec![atlas::Role { name: "ORG_READ_ONLY".into(), group_id: None }],
        access_list: vec![atlas::AccessEntry {
            cidr: "127.0.0.1/32".into(),
            created: now - Duration::days(3),
            last_used: Some(now),
            last_used_address: Some("127.0.0.1".into()),
            count: 12,
        }],
    });
    (s, Credentials { fields: vec![("public_key", public_key), ("private_key", private_key)] })
}

/// The password of the Fastly stand-in's superuser (the connector's user), for sudo mode.
pub const FASTLY_PASSWORD: &str = "correct horse battery staple";

/// Fastly: users, user tokens with every scope mix, all-services and scoped tokens, expiries,
/// last use with address and agent; automation tokens.
pub fn fastly_state(now: DateTime<Utc>, keys: usize) -> (fastly::State, Credentials) {
    let mut d = Dice(hash("fastly"));
    let mut s = fastly::State::default();
    for (i, (name, handle)) in PEOPLE.iter().enumerate().take(8) {
        s.users.push(fastly::User {
            id: d.alnum(22),
            login: format!("{handle}@example.com"),
            name: name.to_string(),
            role: if i == 0 { "superuser" } else { ["engineer", "user", "billing"][i % 3] }.into(),
        });
    }
    let scopes = ["global", "global:read", "purge_select", "purge_all purge_select", "global purge_all"];
    let token = |d: &mut Dice, i: usize, user: Option<String>, automation: bool| {
        let created = now - days(d, 700);
        let used = last_use(d, now, created);
        fastly::Token {
            id: d.alnum(22),
            name: format!("{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            secret: d.alnum(32),
            user_id: user,
            scope: scopes[d.below(scopes.len() as u64) as usize].into(),
            services: if d.chance(45) { vec![] } else { (0..1 + d.below(3)).map(|_| d.alnum(22)).collect() },
            created_at: created,
            expires_at: if d.chance(50) {
                None
            } else {
                Some(created + Duration::days([30, 180, 365, 730][d.below(4) as usize]))
            },
            last_used: used,
            ip: used.map(|_| format!("198.51.100.{}", d.below(250) + 1)),
            user_agent: used.map(|_| ["terraform/1.9", "fastly-cli/10.8", "curl/8.5"][d.below(3) as usize].to_string()),
            role: automation.then(|| ["engineer", "user", "billing"][d.below(3) as usize].to_string()),
            tls_access: automation && d.chance(30),
        }
    };
    for i in 0..(keys * 80).div_ceil(100).max(1) {
        let user = s.users[d.below(s.users.len() as u64) as usize].id.clone();
        let t = token(&mut d, i, Some(user), false);
        s.tokens.push(t);
    }
    for i in 0..(keys * 20).div_ceil(100).max(1) {
        let t = token(&mut d, i, None, true);
        s.automation_tokens.push(t);
    }
    // The superuser's password, for sudo mode (making automation tokens).
    s.passwords.insert(s.users[0].id.clone(), FASTLY_PASSWORD.into());
    let secret = d.alnum(32);
    s.tokens.push(fastly::Token {
        id: d.alnum(22),
        name: "keyward-inventory".into(),
        secret: secret.clone(),
        user_id: Some(s.users[0].id.clone()),
        scope: "global:read".into(),
        services: vec![],
        created_at: now - Duration::days(3),
        expires_at: Some(now + Duration::days(362)),
        last_used: Some(now),
        ip: Some("127.0.0.1".into()),
        user_agent: Some("keyward".into()),
        role: None,
        tls_access: false,
    });
    (s, Credentials { fields: vec![("token", secret)] })
}

/// New Relic: two accounts, users, USER keys and LICENSE/BROWSER ingest keys.
pub fn newrelic_state(now: DateTime<Utc>, keys: usize) -> (newrelic::State, Credentials, Vec<i64>) {
    let mut d = Dice(hash("newrelic"));
    let accounts = vec![3_141_592, 2_718_281];
    let mut s = newrelic::State::default();
    for (i, (name, handle)) in PEOPLE.iter().enumerate() {
        s.users.push(newrelic::User {
            id: 1_000_100 + i as i64,
            name: name.to_string(),
            email: format!("{handle}@example.com"),
        });
    }
    for i in 0..keys.max(2) {
        let user = i % 3 != 0;
        let account = accounts[d.below(2) as usize];
        let secret = if user { format!("NRAK-{}", d.alnum(27).to_uppercase()) } else { format!("{}NRAL", d.hex(36)) };
        s.keys.push(newrelic::Key {
            id: d.alnum(24).to_uppercase(),
            key_type: if user { "USER" } else { "INGEST" },
            name: format!("{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            notes: String::new(),
            secret,
            account_id: account,
            user_id: user.then(|| s.users[d.below(s.users.len() as u64) as usize].id),
            ingest_type: (!user).then(|| if d.chance(70) { "LICENSE" } else { "BROWSER" }),
            created_at: now - days(&mut d, 900),
            original: false,
        });
    }
    // Each account's first license key is its original one.
    for account in &accounts {
        if let Some(k) = s.keys.iter_mut().find(|k| k.account_id == *account && k.ingest_type == Some("LICENSE")) {
            k.original = true;
        }
    }
    s.accounts = accounts.clone();
    // The connector's user (the first) may manage every key.
    s.admins = vec![s.users[0].id];
    let secret = format!("NRAK-{}", d.alnum(27).to_uppercase());
    s.keys.push(newrelic::Key {
        id: d.alnum(24).to_uppercase(),
        key_type: "USER",
        name: "keyward-inventory".into(),
        notes: "read by Keyward".into(),
        secret: secret.clone(),
        account_id: accounts[0],
        user_id: Some(s.users[0].id),
        ingest_type: None,
        created_at: now - Duration::days(3),
        original: false,
    });
    (s, Credentials { fields: vec![("api_key", secret)] }, accounts)
}

/// AWS: IAM users with zero to two keys (some admins, some inactive, some never used), a root
/// key, and API Gateway keys (some disabled, half in a usage plan).
pub fn aws_state(now: DateTime<Utc>, keys: usize) -> aws::State {
    let mut d = Dice(hash("aws"));
    let mut s = aws::State { root_key: true, ..Default::default() };
    let mut made = 0;
    let mut i = 0;
    while made < keys.max(1) {
        let n = [0, 1, 1, 2][d.below(4) as usize];
        let user = aws::User {
            name: format!("{}-{i}", PURPOSES[d.below(PURPOSES.len() as u64) as usize]),
            admin: i % 9 == 4,
            keys: (0..n)
                .map(|_| {
                    let created = now - days(&mut d, 500);
                    let service = ["s3", "sts", "dynamodb", "ec2"][d.below(4) as usize].to_owned();
                    aws::AccessKey {
                        id: format!("AKIA{}", d.alnum(16).to_uppercase()),
                        active: d.chance(85),
                        created,
                        last_used: last_use(&mut d, now, created).map(|t| (t, service, "eu-west-1".to_owned())),
                    }
                })
                .collect(),
        };
        made += user.keys.len();
        s.users.push(user);
        i += 1;
    }
    for i in 0..(keys / 6).max(1) {
        s.gateway_keys.push(aws::GatewayKey {
            id: d.alnum(10).to_lowercase(),
            name: format!("partner-{i}"),
            customer: Some(format!("customer-{}", i % 4)),
            enabled: i % 5 != 3,
            created: now - days(&mut d, 400),
            planned: i % 2 == 0,
        });
    }
    s
}

/// Linear: three people with personal keys; the last registered key was revoked in Linear's UI.
pub fn linear_state() -> (linear::State, Vec<(String, String, String, bool)>) {
    let mut d = Dice(hash("linear"));
    let mut s = linear::State::default();
    let mut register = Vec::new();
    for (name, handle) in PEOPLE.iter().take(3) {
        let key = format!("lin_api_{}", d.alnum(40));
        s.users.push(linear::User {
            id: d.uuid(),
            name: name.to_string(),
            email: format!("{handle}@example.com"),
            keys: vec![key.clone()],
        });
        register.push((format!("linear-{handle}"), format!("{handle}@example.com"), key, true));
    }
    register.push(("linear-old-ci".into(), "alan@example.com".into(), format!("lin_api_{}", d.alnum(40)), false));
    // A key the first user made at Linear and has not registered yet: what a rotation by hand
    // of `linear-ada` takes as its successor.
    let spare = format!("lin_api_{}", d.alnum(40));
    s.users[0].keys.push(spare);
    (s, register)
}
