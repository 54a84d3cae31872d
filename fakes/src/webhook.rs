//! A webhook receiver: what a team's endpoint does with Keyward's notifications. In `json` mode
//! it verifies the HMAC-SHA256 signature the way a receiver should (over `timestamp.body`, in
//! constant time, refusing stale timestamps) and answers 401 when it does not match; in `slack`
//! mode it answers like Slack's incoming webhooks (`ok`, or 400 `invalid_payload`). It keeps
//! every payload it accepted.

use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::server::{Provider, Reply, Request};

/// What arrived and was accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request headers (names lowercased).
    pub headers: Vec<(String, String)>,
    /// The parsed body.
    pub body: Value,
}

/// The receiver.
pub struct Receiver {
    /// `None`: Slack-compatible (unsigned); `Some`: the shared signing secret.
    secret: Option<String>,
    /// Accepted payloads.
    pub received: Mutex<Vec<Received>>,
    /// Requests refused for their signature.
    pub refused: Mutex<usize>,
}

impl Receiver {
    /// A generic JSON receiver verifying signatures made with `secret`.
    pub fn signed(secret: &str) -> Self {
        Self { secret: Some(secret.to_owned()), received: Mutex::default(), refused: Mutex::default() }
    }

    /// A Slack-compatible receiver.
    pub fn slack() -> Self {
        Self { secret: None, received: Mutex::default(), refused: Mutex::default() }
    }

    fn verify(&self, secret: &str, req: &Request) -> bool {
        let (Some(ts), Some(sig)) = (req.header("x-keyward-timestamp"), req.header("x-keyward-signature")) else {
            return false;
        };
        let Ok(ts) = ts.parse::<i64>() else { return false };
        if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
            return false; // replay window
        }
        let Some(hex) = sig.strip_prefix("sha256=") else { return false };
        let Some(expected) = decode_hex(hex) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{ts}.").as_bytes());
        mac.update(&req.body);
        mac.verify_slice(&expected).is_ok()
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

impl Provider for Receiver {
    fn handle(&self, req: &Request) -> Reply {
        if req.method != "POST" {
            return self.error(405, "POST only");
        }
        if let Some(secret) = &self.secret
            && !self.verify(secret, req)
        {
            *self.refused.lock().unwrap() += 1;
            return self.error(401, "bad signature");
        }
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return self.error(400, "invalid_payload");
        };
        if self.secret.is_none() && !body["text"].is_string() {
            return self.error(400, "invalid_payload");
        }
        self.received.lock().unwrap().push(Received { headers: req.headers.clone(), body });
        if self.secret.is_none() {
            Reply::text(200, "text/plain", "ok")
        } else {
            Reply::json(200, &json!({"ok": true}))
        }
    }

    fn error(&self, status: u16, message: &str) -> Reply {
        Reply::text(status, "text/plain", message.to_owned())
    }

    fn rate_limited(&self, seconds: u64) -> Reply {
        Reply::text(429, "text/plain", "rate_limited").with_header("retry-after", seconds.to_string())
    }
}
