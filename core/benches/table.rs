//! Benchmark (not a test): the inventory's table (`api::KeyTable`) as the desktop shell uses it.
//!
//!     cargo bench -p keyward-core --bench table -- [KEYS] [RUNS]
//!
//! Builds KEYS rows (default 100,000) shaped like the window bench's vaults (Datadog, Fastly and
//! New Relic keys, owners, tags, risk parts, last uses, expiries), then times, the median of RUNS
//! (default 11): building the table; a page of rows for each prefix of "datadog api" typed (a
//! keystroke: the filter run over every row, then 100 rows sent); a sort by each column with a
//! page; and the dashboard's counts. The window's own cost (the IPC, the paint) is in
//! `tests/benches/window.rs`.

use std::collections::HashSet;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use keyward_core::api::{KeyFilter, KeyRow, KeySort, KeyTable, RiskMark, SortColumn};

fn rows(n: usize) -> Vec<KeyRow> {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let mut seed = 42u64;
    let mut next = move |below: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % below
    };
    let providers = [("datadog", "api_key"), ("fastly", "user_token"), ("newrelic", "user_key")];
    (0..n)
        .map(|i| {
            let (provider, kind) = providers[i % 3];
            let parts: Vec<RiskMark> = (0..next(3))
                .map(|p| RiskMark {
                    rule_id: ["key_not_rotated", "key_unused", "admin_scope", "owner_disabled"][(p as usize + i) % 4]
                        .into(),
                    severity: ["low", "medium", "high", "critical"][next(4) as usize].into(),
                    weight: 5,
                })
                .collect();
            let at = |days: u64| Some((now - Duration::days(days as i64)).to_rfc3339());
            KeyRow {
                id: format!("{:08x}-{:04x}-4000-8000-{:012x}", i * 7919, i % 65536, i),
                provider: provider.into(),
                account: format!("{provider}-prod"),
                external_id: Some(format!("{:032x}", i * 104729)),
                name: format!("{provider} {kind} {i}"),
                owner: Some(format!("user-{}@example.com", next(n as u64 / 10 + 1))),
                status: if next(10) == 0 { "inactive" } else { "active" },
                created_at: at(next(800)),
                age_days: Some(next(800) as i64),
                last_used_at: (next(6) != 0).then(|| at(next(200))).flatten(),
                last_used_service: None,
                last_used_region: None,
                usage_tracked: true,
                expires_at: (next(3) == 0).then(|| (now + Duration::days(next(400) as i64 - 50)).to_rfc3339()),
                has_secret: next(5) == 0,
                open_findings: parts.len(),
                risk: parts.iter().map(|p| p.weight).sum(),
                risk_parts: parts,
                settled: false,
                tags: if next(4) == 0 { vec!["production".into()] } else { vec![] },
                kind: Some(kind.into()),
                check_result: None,
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(11);
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    println!("the key table, {n} rows, median of {runs} runs (ms)");
    let source = rows(n);
    let build = median(
        (0..runs.min(5))
            .map(|_| {
                let rows = source.clone();
                let t = Instant::now();
                let table = KeyTable::new(rows, HashSet::new(), now);
                let took = ms(t);
                assert_eq!(table.len(), n);
                took
            })
            .collect(),
    );
    println!("- build: {build:.1}");
    let mut table = KeyTable::new(source, HashSet::new(), now);
    let risk = KeySort::default();
    let word = "datadog api";
    let typed: Vec<&str> =
        (1..=word.len()).map(|k| &word[..k]).chain((0..word.len()).rev().map(|k| &word[..k])).collect();
    let mut keystrokes = Vec::new();
    for _ in 0..runs {
        for text in &typed {
            let filter = KeyFilter { query: Some((*text).to_owned()), ..KeyFilter::default() };
            let t = Instant::now();
            let page = table.page(&filter, risk, 0, 100);
            keystrokes.push(ms(t));
            assert!(page.shown > 0);
        }
    }
    println!(
        "- a keystroke (the filter over every row, then 100 rows): {:.1}, slowest {:.1}",
        median(keystrokes.clone()),
        keystrokes.iter().cloned().fold(0.0, f64::max)
    );
    for column in [SortColumn::Risk, SortColumn::Name, SortColumn::Age, SortColumn::LastUsed, SortColumn::Owner] {
        let times = (0..runs)
            .map(|r| {
                // Alternate directions so that each run sorts afresh.
                let sort = KeySort { column, descending: r % 2 == 0 };
                let t = Instant::now();
                table.page(&KeyFilter::default(), sort, 0, 100);
                ms(t)
            })
            .collect();
        println!("- sort by {column:?}, then 100 rows: {:.1}", median(times));
    }
    let counts = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(table.counts());
                ms(t)
            })
            .collect(),
    );
    println!("- the dashboard's counts: {counts:.1}");
}
