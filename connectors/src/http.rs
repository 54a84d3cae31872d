//! The HTTP layer every REST and GraphQL connector goes through, so that surviving real APIs is
//! solved once: timeouts, retries with exponential backoff and full jitter on 5xx and transport
//! errors, each provider's own rate-limit signal, bounded concurrency per provider, a cap on
//! response size, and errors classified once with secrets scrubbed from them.
//!
//! Deliberately not here: auth schemes (a connector adds its headers in the request builder),
//! pagination (each provider pages differently) and JSON shapes.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyward_secret::Secret;
use reqwest::header::{HeaderMap, HeaderValue};
use tokio::sync::Semaphore;

use crate::{ConnectorError, ErrorKind};

/// How a provider says when to come back after a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitSignal {
    /// `Retry-After: <seconds>` (Atlas, API Gateway).
    RetryAfter,
    /// A header holding seconds until the window resets (Datadog `X-RateLimit-Reset`).
    ResetAfterSeconds(&'static str),
    /// A header holding the reset instant in Unix seconds (Fastly `Fastly-RateLimit-Reset`).
    ResetAtEpochSeconds(&'static str),
    /// A header holding the reset instant in Unix milliseconds (Linear `X-RateLimit-Requests-Reset`).
    ResetAtEpochMillis(&'static str),
}

impl RateLimitSignal {
    /// How long the provider asks us to wait, read from the response headers at `now`.
    pub fn wait(self, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
        let number =
            |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let secs = match self {
            RateLimitSignal::RetryAfter => number("retry-after")?,
            RateLimitSignal::ResetAfterSeconds(h) => number(h)?,
            RateLimitSignal::ResetAtEpochSeconds(h) => number(h)? - since_epoch,
            RateLimitSignal::ResetAtEpochMillis(h) => number(h)? / 1000.0 - since_epoch,
        };
        Some(Duration::from_secs_f64(secs.max(0.0)))
    }
}

/// Limits and retry behaviour for one provider.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Whole-request timeout, body included: a response that never ends fails here.
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// The longest a provider may stay silent (no header, no body byte) before the attempt is
    /// given up: a provider that accepts the connection and never answers costs seconds.
    pub read_timeout: Duration,
    /// Attempts of a request whose provider stayed silent, the first included: silence is not
    /// a blip worth the whole retry budget.
    pub max_silent_attempts: u32,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt, with full jitter.
    pub base_backoff: Duration,
    /// Ceiling for one backoff.
    pub max_backoff: Duration,
    /// The longest a rate-limit signal may make us wait; longer waits fail as `RateLimited`
    /// with the wait in the error, rather than stall a sync.
    pub max_rate_limit_wait: Duration,
    /// Largest response body accepted.
    pub max_body_bytes: usize,
    /// Keep the answer when its body is larger than [`Self::max_body_bytes`] or breaks off, with
    /// the body cut there, instead of failing: for a receiver whose status is what counts (a
    /// webhook: a 2xx is delivered, whatever its body does; sending again would duplicate it).
    pub cut_body: bool,
    /// Requests in flight at once for this provider (New Relic allows 25 per user).
    pub concurrency: usize,
    /// The provider's 429 signal.
    pub rate_limit: RateLimitSignal,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            max_silent_attempts: 2,
            max_attempts: 5,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            max_rate_limit_wait: Duration::from_secs(60),
            max_body_bytes: 16 * 1024 * 1024,
            cut_body: false,
            concurrency: 8,
            rate_limit: RateLimitSignal::RetryAfter,
        }
    }
}

/// A whole response, body read within the size cap.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Attempts it took (retries included).
    pub attempts: u32,
}

impl Response {
    /// Parses the body as JSON; a parse failure is `Malformed` and never echoes the body.
    pub fn json<T: serde::de::DeserializeOwned>(&self, provider: &'static str) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ConnectorError::new(provider, ErrorKind::Malformed, format!("unexpected response body: {e}")))
    }
}

/// One provider's HTTP client.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    provider: &'static str,
    settings: Arc<HttpSettings>,
    permits: Arc<Semaphore>,
    scrub: Arc<Vec<Secret>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `provider`. `secrets` are scrubbed from every error message this client
    /// builds (a provider that echoes a key in an error body does not leak it through us).
    pub fn new(provider: &'static str, settings: HttpSettings, secrets: &[&str]) -> Result<Self, ConnectorError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the provider's auth header (`DD-API-KEY`, `Fastly-Key`,
            // `API-Key`) to another host, or from https to http: never followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConnectorError::new(provider, ErrorKind::Config, format!("HTTP client: {e}")))?;
        let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        let scrub = secrets.iter().filter(|s| s.len() >= 4).map(|s| Secret::from(*s)).collect();
        Ok(Self { client, provider, settings: Arc::new(settings), permits, scrub: Arc::new(scrub) })
    }

    /// Sends the request `build` makes (called once per attempt), retrying as the settings say.
    /// `what` names the call in errors (`GET /api/v2/api_keys`); it must not contain secrets.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, ConnectorError> {
        self.send_accepting(what, &[], build).await
    }

    /// A client like this one whose errors also scrub `more` (a new key being checked).
    pub fn scrubbing(&self, more: &[&str]) -> Result<Self, ConnectorError> {
        let all: Vec<&str> = self.scrub.iter().map(|s| s.expose()).chain(more.iter().copied()).collect();
        Self::new(self.provider, (*self.settings).clone(), &all)
    }

    /// One attempt, for a call that makes something (a new key): retried after a lost answer
    /// it could make a second. A transport error or a 5xx leaves the outcome unknown (the
    /// caller reconciles); a 429 is an error like any other.
    pub async fn send_once(
        &self,
        what: &str,
        accept: &[u16],
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, ConnectorError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut r = match self.attempt(what, build(&self.client)).await {
            Ok(r) if accept.contains(&r.status) => Ok(r),
            Ok(r) if r.status == 429 => Err(self.rate_limited(what, None)),
            Ok(r) => self.classify(what, r),
            Err((e, _)) => Err(e),
        };
        match &mut r {
            Ok(r) => r.attempts = 1,
            Err(e) => e.attempts = 1,
        }
        r
    }

    /// Like [`Http::send`], but the statuses in `accept` come back as responses instead of
    /// errors (an HTTP Digest challenge is a 401 the caller must read; a GraphQL API may answer
    /// its errors with a 400 whose body says which).
    pub async fn send_accepting(
        &self,
        what: &str,
        accept: &[u16],
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Response, ConnectorError> {
        let mut attempts = 0;
        match self.retrying(what, accept, build, &mut attempts).await {
            Ok(mut r) => {
                r.attempts = attempts;
                Ok(r)
            }
            Err(mut e) => {
                e.attempts = attempts;
                Err(e)
            }
        }
    }

    /// The retry loop of [`Http::send_accepting`]; `attempts` counts what was sent.
    async fn retrying(
        &self,
        what: &str,
        accept: &[u16],
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        attempts: &mut u32,
    ) -> Result<Response, ConnectorError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let s = &self.settings;
        let mut attempt = 1;
        let mut silent = 0;
        loop {
            *attempts = attempt;
            let (outcome, timed_out) = match self.attempt(what, build(&self.client)).await {
                Ok(r) => (Ok(r), false),
                Err((e, timed_out)) => (Err(e), timed_out),
            };
            silent += u32::from(timed_out);
            let last = attempt >= s.max_attempts || (timed_out && silent >= s.max_silent_attempts.max(1));
            let wait = match &outcome {
                Ok(r) if accept.contains(&r.status) => return outcome,
                Ok(r) if r.status == 429 => {
                    let asked = s.rate_limit.wait(&r.headers, SystemTime::now());
                    match asked {
                        Some(w) if w > s.max_rate_limit_wait => {
                            return Err(self.rate_limited(what, Some(w)));
                        }
                        Some(w) => w,
                        None => backoff(s, attempt),
                    }
                }
                Ok(r) if r.status >= 500 => backoff(s, attempt),
                Ok(_) => return self.classify(what, outcome?),
                Err(e) if e.kind == ErrorKind::Transport => backoff(s, attempt),
                Err(_) => return outcome,
            };
            if last {
                return match outcome {
                    Ok(r) if r.status == 429 => Err(self.rate_limited(what, None)),
                    Ok(r) => self.classify(what, r),
                    Err(e) => Err(e),
                };
            }
            tracing::debug!(
                provider = self.provider,
                call = what,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: send, then read the body within the cap. The error says whether the
    /// provider stayed silent (a timeout).
    async fn attempt(&self, what: &str, request: reqwest::RequestBuilder) -> Result<Response, (ConnectorError, bool)> {
        let failed = |e: reqwest::Error| (self.transport(what, &e), e.is_timeout());
        let mut resp = request.send().await.map_err(failed)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let cap = self.settings.max_body_bytes;
        let cut = self.settings.cut_body;
        if !cut && resp.content_length().is_some_and(|n| n as usize > cap) {
            return Err((self.too_large(what, cap), false));
        }
        let mut body = Vec::new();
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                // The status has arrived: with `cut_body` it stands, whatever the body does.
                Err(_) if cut => break,
                Err(e) => return Err(failed(e)),
            };
            if body.len() + chunk.len() > cap {
                if cut {
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    break;
                }
                return Err((self.too_large(what, cap), false));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response { status, headers, body, attempts: 0 })
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The limits this client was made with (for a second client to the same place).
    pub fn settings(&self) -> HttpSettings {
        (*self.settings).clone()
    }

    /// The concurrency this client allows.
    pub fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    /// Maps a final response to success or a classified error.
    fn classify(&self, what: &str, r: Response) -> Result<Response, ConnectorError> {
        let kind = match r.status {
            200..=299 => return Ok(r),
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::UnexpectedStatus,
        };
        let excerpt: String = if (300..400).contains(&r.status) {
            "a redirect, not followed (it would carry the credentials elsewhere); check the URL it was sent to".into()
        } else {
            // Scrubbed whole before it is cut: a secret echoed across the cut is still found.
            self.scrubbed(String::from_utf8_lossy(&r.body).into_owned()).chars().take(200).collect()
        };
        let excerpt = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        let message = if excerpt.is_empty() {
            format!("{what}: HTTP {}", r.status)
        } else {
            format!("{what}: HTTP {}: {excerpt}", r.status)
        };
        let mut e = ConnectorError::new(self.provider, kind, self.scrubbed(message));
        e.status = Some(r.status);
        Err(e)
    }

    fn rate_limited(&self, what: &str, wait: Option<Duration>) -> ConnectorError {
        let mut e = ConnectorError::new(
            self.provider,
            ErrorKind::RateLimited,
            match wait {
                Some(w) => format!("{what}: rate limited; the provider asks to wait {} s", w.as_secs()),
                None => format!("{what}: still rate limited after {} attempts", self.settings.max_attempts),
            },
        );
        e.retry_after = wait;
        e.status = Some(429);
        e
    }

    fn transport(&self, what: &str, e: &reqwest::Error) -> ConnectorError {
        // reqwest's Display includes the URL, which may carry a query; say what failed without it.
        let cause = if e.is_timeout() {
            format!(
                "timed out ({} s without a byte, or {} s in all)",
                self.settings.read_timeout.as_secs(),
                self.settings.timeout.as_secs()
            )
        } else if e.is_connect() {
            "could not connect".to_owned()
        } else if e.is_body() || e.is_decode() {
            "the response body broke off".to_owned()
        } else {
            "request failed".to_owned()
        };
        let source = std::error::Error::source(e).map(|s| format!(" ({s})")).unwrap_or_default();
        ConnectorError::new(self.provider, ErrorKind::Transport, self.scrubbed(format!("{what}: {cause}{source}")))
    }

    fn too_large(&self, what: &str, cap: usize) -> ConnectorError {
        ConnectorError::new(self.provider, ErrorKind::Malformed, format!("{what}: response larger than {cap} bytes"))
    }

    fn scrubbed(&self, mut message: String) -> String {
        for secret in self.scrub.iter() {
            message = message.replace(secret.expose(), "<redacted>");
        }
        message
    }
}

/// Refuses a credential an HTTP header cannot carry (a line break, a control character), when
/// the client is made rather than on its first request; `field` names it in the error.
pub fn check_credential(provider: &'static str, field: &str, secret: &Secret) -> Result<(), ConnectorError> {
    match HeaderValue::from_str(secret.expose()) {
        Ok(_) => Ok(()),
        Err(_) => Err(ConnectorError::new(
            provider,
            ErrorKind::Config,
            format!("the {field} holds characters an HTTP header cannot carry (a line break or a control character)"),
        )),
    }
}

/// The header value carrying a credential, made from the secret as the request is built and
/// marked sensitive (left out of `Debug` output and of HTTP/2 header compression tables). The
/// secret must have passed [`check_credential`]; one that did not is sent as an empty value,
/// which the provider refuses.
pub fn credential(secret: &Secret) -> HeaderValue {
    credential_with(secret, "")
}

/// [`credential`] after a scheme (`Bearer `, `Basic `).
pub fn credential_with(secret: &Secret, scheme: &str) -> HeaderValue {
    let value = zeroize::Zeroizing::new(format!("{scheme}{}", secret.expose()));
    let mut v = HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// Exponential backoff with full jitter: a random wait in `[0, min(max, base * 2^(attempt-1))]`.
fn backoff(s: &HttpSettings, attempt: u32) -> Duration {
    let ceiling = s.base_backoff.saturating_mul(1u32 << (attempt - 1).min(16)).min(s.max_backoff);
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    ceiling.mul_f64((random % 10_000) as f64 / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_echoed_across_the_excerpt_cut_is_still_scrubbed() {
        let secret = "/services/T0/B0/planted-secret-xyz";
        let http = Http::new("webhook", HttpSettings::default(), &[secret]).unwrap();
        let body = format!("{}{secret} and more", "x".repeat(190));
        let r = Response { status: 400, headers: HeaderMap::new(), body: body.into_bytes(), attempts: 1 };
        let e = http.classify("POST", r).unwrap_err();
        assert!(!e.message.contains("/services/T0"), "{}", e.message);
        assert_eq!(e.status, Some(400));
    }

    #[test]
    fn a_credential_header_is_sensitive_and_never_printed() {
        let v = credential_with(&Secret::from("planted-abc"), "Bearer ");
        assert!(v.is_sensitive());
        assert_eq!(format!("{v:?}"), "Sensitive");
        assert_eq!(v.to_str().unwrap(), "Bearer planted-abc");
        assert!(check_credential("datadog", "API key", &Secret::from("a\nb")).is_err());
        assert!(check_credential("datadog", "API key", &Secret::from("ok-123")).is_ok());
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn each_providers_signal_is_read_its_own_way() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ra = RateLimitSignal::RetryAfter.wait(&headers("retry-after", "7"), now);
        assert_eq!(ra, Some(Duration::from_secs(7)));
        let dd = RateLimitSignal::ResetAfterSeconds("x-ratelimit-reset").wait(&headers("x-ratelimit-reset", "12"), now);
        assert_eq!(dd, Some(Duration::from_secs(12)));
        let fastly = RateLimitSignal::ResetAtEpochSeconds("fastly-ratelimit-reset")
            .wait(&headers("fastly-ratelimit-reset", "1000030"), now);
        assert_eq!(fastly, Some(Duration::from_secs(30)));
        let linear = RateLimitSignal::ResetAtEpochMillis("x-ratelimit-requests-reset")
            .wait(&headers("x-ratelimit-requests-reset", "1000002500"), now);
        assert_eq!(linear, Some(Duration::from_millis(2500)));
        // A reset in the past means "now"; a missing or garbled header means "unknown".
        let past = RateLimitSignal::ResetAtEpochSeconds("fastly-ratelimit-reset")
            .wait(&headers("fastly-ratelimit-reset", "5"), now);
        assert_eq!(past, Some(Duration::ZERO));
        assert_eq!(RateLimitSignal::RetryAfter.wait(&HeaderMap::new(), now), None);
        assert_eq!(RateLimitSignal::RetryAfter.wait(&headers("retry-after", "soon"), now), None);
    }

    #[test]
    fn backoff_grows_and_stays_under_the_ceiling() {
        let s = HttpSettings {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..Default::default()
        };
        for attempt in 1..30 {
            let ceiling =
                Duration::from_millis(100).saturating_mul(1 << (attempt - 1).min(16)).min(Duration::from_secs(1));
            assert!(backoff(&s, attempt) <= ceiling);
        }
        // Full jitter: not always the same value.
        let waits: std::collections::HashSet<_> = (0..20).map(|_| backoff(&s, 5)).collect();
        assert!(waits.len() > 1);
    }
}
