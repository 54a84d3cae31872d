//! Benchmark (not a test): `keyward sync` of a moto estate, wall time per run.
//!
//!     cargo build --release -p keyward-cli
//!     cargo bench -p keyward-tests --bench sync_moto -- [USERS] [RUNS]
//!
//! Each run syncs into a fresh home, so every key is new (the most work a sync does).

use std::time::Instant;

use keyward_tests::{Home, MotoEstate};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let users = args.first().copied().unwrap_or(2000);
    let runs = args.get(1).copied().unwrap_or(3);
    let moto = MotoEstate::start(users, 7, &[]);
    let keys = moto.truth["keys"].as_array().map(Vec::len).unwrap_or(0);
    let mut times = Vec::new();
    for run in 1..=runs {
        let mut home = Home::initialised();
        moto.configure(&mut home);
        home.ok(&["connector", "add", "aws", "--name", "bench"]);
        let t = Instant::now();
        home.ok(&["sync"]);
        let s = t.elapsed().as_secs_f64();
        eprintln!("run {run}: {s:.2} s");
        times.push(s);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "sync of {users} IAM users / {keys} keys on moto: median {:.2} s, min {:.2} s over {runs} runs",
        times[times.len() / 2],
        times[0]
    );
}
