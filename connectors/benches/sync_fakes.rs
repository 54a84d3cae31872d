//! Benchmark (not a test): list 10,000 keys per provider from its stand-in with 50 ms of
//! injected latency per request, and compare with the ideal `pages × latency ÷ concurrency`.
//!
//!     cargo bench -p keyward-connectors --bench sync_fakes -- [KEYS_PER_PROVIDER] [RUNS] [LATENCY_MS]
//!
//! "Pages" are the requests the stand-in served (the listing's pages, plus Atlas's one
//! access-list call per key). "Concurrency" is what the API allows the connector: 8 requests in
//! flight for Datadog, Atlas and Fastly (Keyward's per-provider bound); for New Relic, whose
//! `keySearch` pages by cursor, the number of independent cursor chains (key types × accounts).

use std::time::{Duration, Instant};

use chrono::Utc;
use keyward_connectors::atlas::{Atlas, AtlasAuth, AtlasSettings};
use keyward_connectors::datadog::{Datadog, DatadogSettings};
use keyward_connectors::fastly::{Fastly, FastlySettings};
use keyward_connectors::newrelic::{NewRelic, NewRelicSettings};
use keyward_connectors::{ConnectorError, Inventory};
use keyward_fakes::estate::{ATLAS_ORG, Estate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let keys: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let latency = Duration::from_millis(args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let e = Estate::start(Utc::now(), keys).await.unwrap();
        e.datadog.set_latency(latency);
        e.atlas.set_latency(latency);
        e.fastly.set_latency(latency);
        e.newrelic.set_latency(latency);
        let quiet = |_| {};
        println!("{keys} keys per provider seeded, {} ms latency, {runs} runs (median)", latency.as_millis());
        println!(
            "{:<14} {:>7} {:>9} {:>6} {:>10} {:>10} {:>7}",
            "provider", "keys", "requests", "conc.", "ideal s", "median s", "ratio"
        );

        let dd = DatadogSettings { site: "datadoghq.com".into(), base_url: Some(e.datadog.url()) };
        let c = Datadog::new(&dd, e.datadog_credentials.get("api_key"), e.datadog_credentials.get("app_key")).unwrap();
        measure("datadog", runs, latency, 8, || e.datadog.requests(), || c.inventory(&quiet)).await;

        let at = AtlasSettings { org_id: ATLAS_ORG.into(), base_url: Some(e.atlas.url()) };
        let auth = AtlasAuth::ApiKey {
            public_key: e.atlas_credentials.get("public_key").into(),
            private_key: e.atlas_credentials.get("private_key").into(),
        };
        let c = Atlas::new(&at, auth).unwrap();
        measure("mongodb_atlas", runs, latency, 8, || e.atlas.requests(), || c.inventory(&quiet)).await;

        let c =
            Fastly::new(&FastlySettings { base_url: Some(e.fastly.url()) }, e.fastly_credentials.get("token")).unwrap();
        measure("fastly", runs, latency, 8, || e.fastly.requests(), || c.inventory(&quiet)).await;

        let nr = NewRelicSettings {
            region: "us".into(),
            account_ids: e.newrelic_accounts.clone(),
            endpoint: Some(format!("{}/graphql", e.newrelic.url())),
        };
        let c = NewRelic::new(&nr, e.newrelic_credentials.get("api_key")).unwrap();
        let chains = 2 * e.newrelic_accounts.len();
        measure("newrelic", runs, latency, chains, || e.newrelic.requests(), || c.inventory(&quiet)).await;
    });
}

async fn measure<F, Fut>(
    name: &str,
    runs: usize,
    latency: Duration,
    concurrency: usize,
    requests: impl Fn() -> usize,
    run: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Inventory, ConnectorError>>,
{
    let mut times = Vec::new();
    let (mut served, mut listed) = (0, 0);
    for _ in 0..runs {
        let before = requests();
        let started = Instant::now();
        let inv = run().await.unwrap_or_else(|e| panic!("{name}: {e}"));
        times.push(started.elapsed().as_secs_f64());
        served = requests() - before;
        listed = inv.keys.len();
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let ideal = served as f64 * latency.as_secs_f64() / concurrency as f64;
    println!(
        "{name:<14} {listed:>7} {served:>9} {concurrency:>6} {ideal:>10.2} {median:>10.2} {:>7.2}",
        median / ideal
    );
}
