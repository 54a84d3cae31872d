//! Local stand-ins for the providers' key-management APIs (and a small AWS one for the demo;
//! tests use moto for AWS), so connectors are tested (and the demo
//! workspace runs) against the real protocol — paths, auth, paging, error bodies, rate-limit
//! headers — without an account or the internet.
//!
//! Each provider is a [`server::Provider`] behind one shared hyper server ([`server::FakeServer`])
//! with state that create/delete calls change, so later lists see them. The facts each fake
//! follows are in `../shared/reference/provider-apis.md`; `tests/contract` checks the answers
//! against the providers' own spec files. [`estate`] seeds them with a realistic organisation.
//!
//! Nothing here is used against a real provider, and nothing here depends on Keyward's crates:
//! the fakes must not share a misunderstanding with the code they test.
#![deny(missing_docs)]

pub mod atlas;
pub mod aws;
pub mod datadog;
pub mod estate;
pub mod fastly;
pub mod linear;
pub mod newrelic;
pub mod server;
pub mod webhook;

pub use server::{Exchange, FakeServer, Fault, Provider, Reply, Request};

/// A provider that accepts every connection and never answers a byte (kept open for the life
/// of the process): where a sync or a check must give up, or be cancelled.
pub fn silent_provider() -> std::net::SocketAddr {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = silent.local_addr().expect("a bound address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    addr
}

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 with milliseconds and `Z`, as the providers write times.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stable 64-bit hash (FNV-1a then a SplitMix64 finaliser), for deterministic fake ids/secrets.
pub fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// SplitMix64's finaliser.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
