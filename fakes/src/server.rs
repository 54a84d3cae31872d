//! The HTTP plumbing every fake shares: a hyper HTTP/1.1 server on `127.0.0.1:0`, injected
//! latency, injected faults (each provider renders them its own way: its error body, its
//! rate-limit headers), a concurrency high-water mark, and an optional record of every exchange
//! for the contract tests.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A request as a fake sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: String,
    /// The path, percent-decoding left to the handler.
    pub path: String,
    /// Query pairs, decoded.
    pub query: Vec<(String, String)>,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Requests in flight at the server when this one arrived, itself included.
    pub in_flight: usize,
}

impl Request {
    /// A header's value (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A query parameter's value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The path split on `/`, empty segments dropped.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What a fake answers.
#[derive(Debug, Clone)]
pub enum Body {
    /// A whole body.
    Bytes(Vec<u8>),
    /// The first bytes of a body, then nothing, forever.
    Hang,
    /// A streamed body of this many bytes, with no length announced.
    Oversized(usize),
    /// These bytes, then the connection breaks (the length announced was longer).
    Truncated(Vec<u8>),
}

/// A response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::typed(status, "application/json", value)
    }

    /// A JSON response with a vendor content type (Atlas's versioned media types).
    pub fn typed(status: u16, content_type: &str, value: &serde_json::Value) -> Self {
        Self::text(status, content_type, value.to_string())
    }

    /// A text response (IAM's XML...).
    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Body::Bytes(body.into().into_bytes()),
        }
    }

    /// An empty response (`204`...).
    pub fn empty(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Body::Bytes(Vec::new()) }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Something going wrong on purpose, for the conformance suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the provider's own error body.
    Status(u16),
    /// Answer 429 with the provider's rate-limit headers asking to wait this many seconds.
    RateLimited(u64),
    /// A 200 whose body is not JSON.
    Malformed,
    /// A 200 whose body never ends.
    Hang,
    /// A 200 with a body of this many bytes.
    Oversized(usize),
    /// The connection closed before any answer (a reset, a load balancer giving up).
    Reset,
    /// The real answer, its full length announced, cut off half-way.
    Truncated,
    /// The real answer, this many milliseconds late.
    Slow(u64),
}

/// One provider's behaviour behind the shared server.
pub trait Provider: Send + Sync + 'static {
    /// Answers a request (auth, routing, paging, state).
    fn handle(&self, req: &Request) -> Reply;
    /// The provider's error response for `status`.
    fn error(&self, status: u16, message: &str) -> Reply;
    /// The provider's 429, asking to wait `seconds`.
    fn rate_limited(&self, seconds: u64) -> Reply;
}

/// One request and the answer it got, for the contract tests.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request.
    pub request: Request,
    /// Status answered.
    pub status: u16,
    /// Headers answered.
    pub headers: Vec<(String, String)>,
    /// Body answered (only whole bodies are recorded).
    pub body: Option<Vec<u8>>,
}

#[derive(Default)]
struct Controls {
    faults: Mutex<VecDeque<Fault>>,
    /// Every `n`th request fails with the next of these faults (after the queued ones).
    every: Mutex<Option<(usize, Vec<Fault>)>>,
    latency: Mutex<Duration>,
    recording: Mutex<Option<Vec<Exchange>>>,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    requests: AtomicUsize,
}

/// A running fake. Dropping it stops the server.
pub struct FakeServer<P: Provider> {
    addr: SocketAddr,
    provider: Arc<P>,
    controls: Arc<Controls>,
    task: tokio::task::JoinHandle<()>,
}

impl<P: Provider> Drop for FakeServer<P> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<P: Provider> FakeServer<P> {
    /// Starts `provider` on `127.0.0.1:0`. Must be called inside a tokio runtime.
    pub async fn start(provider: P) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let provider = Arc::new(provider);
        let controls = Arc::new(Controls::default());
        let (p, c) = (provider.clone(), controls.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                // Like a real API front end: no Nagle delay on small writes (with the client's
                // delayed ACKs it would add ~40 ms to many responses).
                let _ = stream.set_nodelay(true);
                let (p, c) = (p.clone(), c.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(p.clone(), c.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, provider, controls, task })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The provider's state, to seed it or look at it.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// The next requests fail with these faults, one each, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.controls.faults.lock().unwrap().extend(faults);
    }

    /// Drops faults not yet used, and any failure rate.
    pub fn clear_faults(&self) {
        self.controls.faults.lock().unwrap().clear();
        *self.controls.every.lock().unwrap() = None;
    }

    /// From now on every `n`th request fails, with `kinds` in turn: a steady failure rate for a
    /// whole sync (`n` = 5 is 20 %), the faults the provider would really show.
    pub fn fail_every(&self, n: usize, kinds: Vec<Fault>) {
        assert!(n > 0 && !kinds.is_empty());
        *self.controls.every.lock().unwrap() = Some((n, kinds));
    }

    /// Every answer is delayed by `latency` (benchmarks against realistic round trips).
    pub fn set_latency(&self, latency: Duration) {
        *self.controls.latency.lock().unwrap() = latency;
    }

    /// Starts recording exchanges (for the contract tests).
    pub fn record(&self) {
        *self.controls.recording.lock().unwrap() = Some(Vec::new());
    }

    /// The exchanges recorded so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.controls.recording.lock().unwrap().clone().unwrap_or_default()
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.controls.requests.load(Ordering::SeqCst)
    }

    /// The most requests ever in flight at once.
    pub fn peak_in_flight(&self) -> usize {
        self.controls.peak_in_flight.load(Ordering::SeqCst)
    }
}

type ResponseBody = BoxBody<Bytes, std::io::Error>;

struct InFlight<'a>(&'a Controls);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve<P: Provider>(
    provider: Arc<P>,
    controls: Arc<Controls>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<ResponseBody>, std::io::Error> {
    let now = controls.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&controls);
    controls.peak_in_flight.fetch_max(now, Ordering::SeqCst);
    let number = controls.requests.fetch_add(1, Ordering::SeqCst);

    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default();
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
        in_flight: now,
    };

    let latency = *controls.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let queued = controls.faults.lock().unwrap().pop_front();
    let fault = queued.or_else(|| {
        let every = controls.every.lock().unwrap();
        let (n, kinds) = every.as_ref()?;
        (number % n == n - 1).then(|| kinds[(number / n) % kinds.len()])
    });
    let reply = match fault {
        None => provider.handle(&request),
        Some(Fault::Reset) => {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"));
        }
        Some(Fault::Slow(ms)) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            provider.handle(&request)
        }
        Some(Fault::Truncated) => {
            let mut reply = provider.handle(&request);
            if let Body::Bytes(b) = &reply.body {
                reply.headers.push(("content-length".into(), b.len().to_string()));
                reply.body = Body::Truncated(b[..b.len() / 2].to_vec());
            }
            reply
        }
        Some(Fault::Status(s)) => provider.error(s, "injected fault"),
        Some(Fault::RateLimited(secs)) => provider.rate_limited(secs),
        Some(Fault::Malformed) => Reply::text(200, "application/json", "{\"data\": [tru"),
        Some(Fault::Hang) => Reply { body: Body::Hang, ..Reply::text(200, "application/json", "") },
        Some(Fault::Oversized(n)) => Reply { body: Body::Oversized(n), ..Reply::text(200, "application/json", "") },
    };
    if let Some(log) = controls.recording.lock().unwrap().as_mut() {
        log.push(Exchange {
            request,
            status: reply.status,
            headers: reply.headers.clone(),
            body: match &reply.body {
                Body::Bytes(b) => Some(b.clone()),
                _ => None,
            },
        });
    }
    Ok(render(reply))
}

fn render(reply: Reply) -> hyper::Response<ResponseBody> {
    let mut builder = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    let body: ResponseBody = match reply.body {
        Body::Bytes(b) => Full::new(Bytes::from(b)).map_err(|never| match never {}).boxed(),
        Body::Hang => {
            let start = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(b"{\"data\": [")))
            });
            BodyExt::boxed(StreamBody::new(start.chain(futures_util::stream::pending())))
        }
        Body::Oversized(n) => {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let chunks = n.div_ceil(chunk.len());
            BodyExt::boxed(StreamBody::new(futures_util::stream::iter(
                (0..chunks).map(move |_| Ok::<_, std::io::Error>(Frame::data(chunk.clone()))),
            )))
        }
        Body::Truncated(b) => {
            // The half that was sent, then an error: hyper breaks the connection mid-body.
            let half = futures_util::stream::once(async move { Ok(Frame::data(Bytes::from(b))) });
            let cut = futures_util::stream::once(async { Err(std::io::Error::other("injected truncation")) });
            BodyExt::boxed(StreamBody::new(half.chain(cut)))
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed()))
}

/// Percent-decodes a query component (`+` is a space, as in forms).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Form fields of an `application/x-www-form-urlencoded` body.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}
