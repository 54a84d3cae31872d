//! Every provider's response handling (Datadog, Fastly, New Relic, MongoDB Atlas, Linear): a
//! local server answers each request with the next of the bodies the fuzzer made, with status
//! 200; the connector must finish (an error is fine) within 10 s, without a panic. The first byte
//! picks the provider; bodies are separated by the two bytes `\n\x1e`.
#![no_main]
use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use keyward_connectors::{atlas, datadog, fastly, linear, newrelic};
use libfuzzer_sys::fuzz_target;

static BODIES: Mutex<VecDeque<Vec<u8>>> = Mutex::new(VecDeque::new());

/// The stand-in: one thread, one answer per connection.
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then as much body as Content-Length says (requests are small).
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = BODIES.lock().unwrap().pop_front().unwrap_or_else(|| b"{}".to_vec());
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
            }
        });
        url
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let url = server().to_owned();
    {
        let mut bodies = BODIES.lock().unwrap();
        bodies.clear();
        let mut start = 0;
        for i in 0..rest.len().saturating_sub(1) {
            if rest[i] == b'\n' && rest[i + 1] == 0x1e {
                bodies.push_back(rest[start..i].to_vec());
                start = i + 2;
            }
        }
        bodies.push_back(rest[start.min(rest.len())..].to_vec());
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let quiet = |_: keyward_connectors::Progress| {};
    let done = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async {
            match which % 5 {
                0 => {
                    let s = datadog::DatadogSettings { site: "datadoghq.com".into(), base_url: Some(url) };
                    let _ = datadog::Datadog::new(&s, "api", "app").expect("client").inventory(&quiet).await;
                }
                1 => {
                    let s = fastly::FastlySettings { base_url: Some(url) };
                    let _ = fastly::Fastly::new(&s, "token").expect("client").inventory(&quiet).await;
                }
                2 => {
                    let s = newrelic::NewRelicSettings {
                        region: "us".into(),
                        account_ids: vec![1],
                        endpoint: Some(format!("{url}/graphql")),
                    };
                    let _ = newrelic::NewRelic::new(&s, "key").expect("client").inventory(&quiet).await;
                }
                3 => {
                    let s = atlas::AtlasSettings { org_id: "org".into(), base_url: Some(url) };
                    let auth = atlas::AtlasAuth::ApiKey { public_key: "pub".into(), private_key: "priv".into() };
                    let _ = atlas::Atlas::new(&s, auth).expect("client").inventory(&quiet).await;
                }
                _ => {
                    let endpoint = format!("{url}/graphql");
                    let _ = linear::check_key(Some(&endpoint), "lin_api_x", Default::default()).await;
                }
            }
        })
        .await
    });
    assert!(done.is_ok(), "a connector did not finish within 10 s on these answers");
});
