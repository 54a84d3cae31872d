//! Benchmark (not a test): `keyward sync` of a moto estate, wall time and API calls per run.
//!
//!     cargo build --release -p keyward-cli
//!     cargo bench -p keyward-tests --bench sync_moto -- [USERS] [RUNS] [--org ACCOUNTS]
//!
//! Each run syncs into a fresh home, so every key is new (the most work a sync does). With
//! `--org ACCOUNTS`, the estate is an Organization of that many member accounts of USERS users
//! each (plus a suspended one and one without the role, as the scenario has), read by one
//! `--organization` connector.

use std::time::Instant;

use keyward_tests::{Home, MotoEstate};

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let org = raw.iter().position(|a| a == "--org").and_then(|i| raw.get(i + 1)).and_then(|n| n.parse::<usize>().ok());
    let args: Vec<usize> = raw.iter().filter_map(|a| a.parse().ok()).filter(|n| Some(*n) != org).collect();
    let users = args.first().copied().unwrap_or(2000);
    let runs = args.get(1).copied().unwrap_or(3);
    let (moto, accounts) = match org {
        None => (MotoEstate::start(users, 7, &[]), 1),
        Some(n) => {
            let extra = ["--org-accounts".to_owned(), n.to_string(), "--org-users".to_owned(), users.to_string()];
            (MotoEstate::start(0, 7, &extra.iter().map(String::as_str).collect::<Vec<_>>()), n)
        }
    };
    let keys = match org {
        None => moto.truth["keys"].as_array().map(Vec::len).unwrap_or(0),
        Some(_) => moto.truth["organization"]["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["keys"].as_array().map(Vec::len).unwrap_or(0))
            .sum(),
    };
    let mut times = Vec::new();
    let mut calls = Vec::new();
    for run in 1..=runs {
        let mut home = Home::initialised();
        moto.configure(&mut home);
        let mut add = vec!["connector", "add", "aws", "--name", "bench"];
        if org.is_some() {
            add.push("--organization");
        }
        home.ok(&add);
        let t = Instant::now();
        let out = home.ok(&["sync"]);
        let s = t.elapsed().as_secs_f64();
        let n: u64 =
            out.split(" API calls").next().and_then(|b| b.rsplit(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
        eprintln!("run {run}: {s:.2} s, {n} API calls");
        times.push(s);
        calls.push(n);
    }
    times.sort_by(f64::total_cmp);
    let total_users = users * accounts;
    println!(
        "sync of {accounts} account(s) × {users} IAM users / {keys} keys on moto: median {:.2} s, min {:.2} s over {runs} runs; \
         {} API calls ({:.3} per user)",
        times[times.len() / 2],
        times[0],
        calls[0],
        calls[0] as f64 / total_users.max(1) as f64
    );
}
