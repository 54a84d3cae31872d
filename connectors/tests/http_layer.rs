//! The shared HTTP layer against a scripted server: the conformance cases every connector
//! inherits — success, 401, 403, 404, 429 with each provider's signal, 5xx then success,
//! malformed JSON, a body that never ends, an oversized body, a dropped connection — and that
//! no error ever carries a secret.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyward_connectors::ErrorKind;
use keyward_connectors::http::{Http, HttpSettings, RateLimitSignal};
use serde_json::json;
use support::{Reply, Request, serve};

const SECRET: &str = "dd-api-key-0123456789abcdef0123456789";

fn settings() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_millis(800),
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_rate_limit_wait: Duration::from_secs(3),
        max_body_bytes: 64 * 1024,
        ..Default::default()
    }
}

/// A server that answers the scripted replies in order, then 200 `{"ok": true}`; counts requests.
async fn scripted(replies: Vec<Reply>) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<Request>>>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let replies = Mutex::new(replies.into_iter());
    let (c, s) = (count.clone(), seen.clone());
    let url = serve(Arc::new(move |req: &Request| {
        c.fetch_add(1, Ordering::SeqCst);
        s.lock().unwrap().push(req.clone());
        replies.lock().unwrap().next().unwrap_or_else(|| Reply::json(200, &json!({"ok": true})))
    }))
    .await;
    (url, count, seen)
}

async fn get(http: &Http, url: &str) -> Result<keyward_connectors::http::Response, keyward_connectors::ConnectorError> {
    let url = format!("{url}/api/v2/api_keys");
    http.send("GET /api/v2/api_keys", |c| c.get(&url).header("DD-API-KEY", SECRET)).await
}

fn client(s: HttpSettings) -> Http {
    Http::new("datadog", s, &[SECRET]).unwrap()
}

#[tokio::test]
async fn success_returns_the_body_and_sends_the_auth_header() {
    let (url, count, seen) = scripted(vec![Reply::json(200, &json!({"data": [1, 2]}))]).await;
    let r = get(&client(settings()), &url).await.unwrap();
    let v: serde_json::Value = r.json("datadog").unwrap();
    assert_eq!(v["data"], json!([1, 2]));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(seen.lock().unwrap()[0].headers["dd-api-key"], SECRET);
}

#[tokio::test]
async fn client_errors_are_classified_once_and_not_retried() {
    for (status, kind) in [
        (401, ErrorKind::Unauthenticated),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (418, ErrorKind::UnexpectedStatus),
    ] {
        let body = json!({"errors": [format!("Forbidden for key {SECRET}")]});
        let (url, count, _) = scripted(vec![Reply::json(status, &body)]).await;
        let err = get(&client(settings()), &url).await.unwrap_err();
        assert_eq!(err.kind, kind, "{status}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "{status} is not retried");
        let text = format!("{err} {err:?}");
        assert!(text.contains(&format!("HTTP {status}")), "{text}");
        assert!(!text.contains(SECRET), "the echoed key is scrubbed: {text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let (url, count, _) = scripted(vec![Reply::json(500, &json!({})), Reply::json(503, &json!({})), Reply::Drop]).await;
    let r = get(&client(settings()), &url).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_max_attempts() {
    let replies = (0..10).map(|_| Reply::json(502, &json!({"error": "bad gateway"}))).collect();
    let (url, count, _) = scripted(replies).await;
    let err = get(&client(HttpSettings { max_attempts: 3, ..settings() }), &url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnexpectedStatus);
    assert!(err.to_string().contains("HTTP 502"));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn rate_limits_wait_as_each_provider_says() {
    // Header values are computed when each case runs: the epoch-based ones are instants.
    let epoch = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    type HeaderValue = Box<dyn Fn() -> String>;
    let cases: [(RateLimitSignal, &str, HeaderValue); 4] = [
        (RateLimitSignal::RetryAfter, "retry-after", Box::new(|| "1".to_owned())),
        (RateLimitSignal::ResetAfterSeconds("x-ratelimit-reset"), "x-ratelimit-reset", Box::new(|| "1".to_owned())),
        (
            RateLimitSignal::ResetAtEpochSeconds("fastly-ratelimit-reset"),
            "fastly-ratelimit-reset",
            Box::new(move || (epoch().as_secs() + 2).to_string()),
        ),
        (
            RateLimitSignal::ResetAtEpochMillis("x-ratelimit-requests-reset"),
            "x-ratelimit-requests-reset",
            Box::new(move || (epoch().as_millis() + 1500).to_string()),
        ),
    ];
    for (signal, header, value) in cases {
        let limited = Reply::json(429, &json!({"errors": ["Rate limit exceeded"]})).with_header(header, &value());
        let (url, count, _) = scripted(vec![limited]).await;
        let started = Instant::now();
        let r = get(&client(HttpSettings { rate_limit: signal, ..settings() }), &url).await.unwrap();
        assert_eq!(r.status, 200, "{header}");
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // It waited for the signal, not for the (10 ms) backoff.
        assert!(started.elapsed() >= Duration::from_millis(900), "{header}: waited {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn a_rate_limit_longer_than_allowed_fails_fast_with_the_wait() {
    let limited = Reply::json(429, &json!({})).with_header("x-ratelimit-reset", "3600");
    let (url, count, _) = scripted(vec![limited]).await;
    let s = HttpSettings { rate_limit: RateLimitSignal::ResetAfterSeconds("x-ratelimit-reset"), ..settings() };
    let err = get(&client(s), &url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn malformed_json_is_malformed_and_not_echoed() {
    let (url, _, _) = scripted(vec![Reply::text(200, "application/json", &format!("{{\"data\": [{SECRET}"))]).await;
    let r = get(&client(settings()), &url).await.unwrap();
    let err = r.json::<serde_json::Value>("datadog").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(!err.to_string().contains(SECRET));
}

#[tokio::test]
async fn a_body_that_never_ends_times_out_as_transport() {
    let (url, count, _) = scripted((0..5).map(|_| Reply::Hang).collect()).await;
    let started = Instant::now();
    let err = get(&client(HttpSettings { max_attempts: 2, ..settings() }), &url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.to_string().contains("timed out") || err.to_string().contains("broke off"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 2, "a timeout is retried");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let (url, _, _) = scripted(vec![Reply::Stream { bytes: 1024 * 1024 }]).await;
    let err = get(&client(settings()), &url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Malformed);
    assert!(err.to_string().contains("larger than 65536 bytes"), "{err}");

    let big = Reply::text(200, "application/json", &"x".repeat(100 * 1024));
    let (url, _, _) = scripted(vec![big]).await;
    assert_eq!(get(&client(settings()), &url).await.unwrap_err().kind, ErrorKind::Malformed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 6)]
async fn concurrency_is_bounded_per_provider() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    let url = serve(Arc::new(move |_req: &Request| {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        f.fetch_sub(1, Ordering::SeqCst);
        Reply::json(200, &json!({}))
    }))
    .await;
    let http = client(HttpSettings { concurrency: 3, ..settings() });
    let calls = (0..12).map(|_| get(&http, &url));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| r.is_ok()));
    let peak = peak.load(Ordering::SeqCst);
    assert!((2..=3).contains(&peak), "requests overlapped, but never more than 3 at once: peak {peak}");
}

#[tokio::test]
async fn an_unreachable_host_is_transport_after_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = get(&client(HttpSettings { max_attempts: 2, ..settings() }), &format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.to_string().contains("could not connect"), "{err}");
}

/// A provider (or whoever answers in its place) that redirects elsewhere gets no second request:
/// the auth header would go with it, to another host or from https to plain http.
#[tokio::test]
async fn redirects_are_not_followed_with_the_credentials() {
    let (elsewhere, elsewhere_count, _) = scripted(vec![]).await;
    for status in [301, 302, 307, 308] {
        let target = format!("{elsewhere}/steal");
        let (url, count, _) = scripted(vec![Reply::json(status, &json!({})).with_header("location", &target)]).await;
        let err = get(&client(settings()), &url).await.unwrap_err();
        assert_eq!(count.load(Ordering::SeqCst), 1, "{status}");
        assert!(err.to_string().contains(&format!("HTTP {status}: a redirect, not followed")), "{status}: {err}");
    }
    assert_eq!(elsewhere_count.load(Ordering::SeqCst), 0, "a redirect was followed");
}

/// A provider that accepts the connection and never answers costs its read timeout twice, not
/// the whole retry budget of whole-request timeouts (it was 5 × 30 s).
#[tokio::test]
async fn a_silent_provider_is_given_up_after_two_silences() {
    let (url, count, _) = scripted((0..5).map(|_| Reply::Silent).collect()).await;
    let s = HttpSettings {
        timeout: Duration::from_secs(30),
        read_timeout: Duration::from_millis(300),
        max_attempts: 5,
        ..settings()
    };
    let err = get(&client(s), &url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 2, "silence is retried once");
}
