//! Provider formats: which byte ranges of a file look like a key, and whose.
//!
//! One Aho-Corasick pass finds every literal anchor at once — token prefixes (`AKIA`, `NRAK-`,
//! `lin_api_`, `ghp_`...) and context words (`datadog`, `fastly`, `atlas`...). A prefix is
//! checked in place; a context word opens a window of a few lines around it (a key in YAML sits
//! under its parent's name) where formats without a prefix are looked for: Datadog's 32/40 hex
//! keys, Fastly tokens, Atlas private keys, AWS secret keys, New Relic license keys. So a hex
//! hash, a UUID or a base64 blob far from any such word is never a hit. Nothing here allocates
//! per byte, and nothing is a regex: each format is a character class and a length.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// How many lines before and after a context word are searched.
pub const NEAR_LINES: usize = 3;

/// One key-shaped range of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// Start of the token (byte offset).
    pub start: usize,
    /// End of the token (exclusive).
    pub end: usize,
    /// Provider id (`aws`, `datadog`, `github`...).
    pub provider: &'static str,
    /// Kind of credential (`access_key_id`, `api_key`...).
    pub kind: &'static str,
    /// Whether the token is a secret (an AWS access key id or an Atlas public key is not).
    pub secret: bool,
    /// How many leading bytes are format, not secret, and may be shown (`ghp_`, `NRAK-`).
    pub shown_prefix: usize,
    /// Found by its own format (0) or by a context word nearby (1): when both claim the same
    /// bytes (`NRAK-…` is also 32 URL-safe characters near `fastly`), the format wins.
    pub by_context: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// `A-Za-z0-9`
    Alnum,
    /// `A-Z0-9`
    Upper,
    /// `0-9a-f`
    Hex,
    /// `a-z0-9`
    Lower,
    /// `A-Za-z0-9+/`
    Base64,
    /// `A-Za-z0-9_-`
    Url,
    /// `A-Za-z0-9-`
    Dashed,
    /// `A-Za-z0-9/`
    Path,
    /// `0-9a-f-` in the 8-4-4-4-12 shape
    Uuid,
}

fn in_class(c: Class, b: u8) -> bool {
    match c {
        Class::Alnum => b.is_ascii_alphanumeric(),
        Class::Upper => b.is_ascii_uppercase() || b.is_ascii_digit(),
        Class::Hex => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        Class::Lower => b.is_ascii_lowercase() || b.is_ascii_digit(),
        Class::Base64 => b.is_ascii_alphanumeric() || b == b'+' || b == b'/',
        Class::Url => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
        Class::Dashed => b.is_ascii_alphanumeric() || b == b'-',
        Class::Path => b.is_ascii_alphanumeric() || b == b'/',
        Class::Uuid => b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-',
    }
}

// Bytes that continue a word: a token next to one of these is part of something longer. The
// same bytes the held-secret pass reads as one token.
use super::index::is_token_byte as wordish;

/// A token that starts with a literal.
struct Prefixed {
    anchor: &'static str,
    provider: &'static str,
    kind: &'static str,
    secret: bool,
    class: Class,
    min: usize,
    max: usize,
}

const fn p(
    anchor: &'static str,
    provider: &'static str,
    kind: &'static str,
    secret: bool,
    class: Class,
    min: usize,
    max: usize,
) -> Prefixed {
    Prefixed { anchor, provider, kind, secret, class, min, max }
}

static PREFIXED: &[Prefixed] = &[
    p("AKIA", "aws", "access_key_id", false, Class::Upper, 16, 16),
    p("ASIA", "aws", "temporary_access_key_id", false, Class::Upper, 16, 16),
    p("ddpat_", "datadog", "personal_access_token", true, Class::Url, 32, 64),
    p("ddsat_", "datadog", "service_access_token", true, Class::Url, 32, 64),
    p("mdb_sa_id_", "mongodb_atlas", "service_account_id", false, Class::Hex, 24, 24),
    p("mdb_sa_sk_", "mongodb_atlas", "service_account_secret", true, Class::Url, 32, 64),
    p("NRAK-", "newrelic", "user_key", true, Class::Upper, 27, 27),
    p("NRII-", "newrelic", "insert_key", true, Class::Url, 24, 40),
    p("lin_api_", "linear", "api_key", true, Class::Alnum, 40, 40),
    p("ghp_", "github", "personal_access_token", true, Class::Alnum, 36, 36),
    p("gho_", "github", "oauth_token", true, Class::Alnum, 36, 36),
    p("ghu_", "github", "user_to_server_token", true, Class::Alnum, 36, 36),
    p("ghs_", "github", "server_to_server_token", true, Class::Alnum, 36, 36),
    p("ghr_", "github", "refresh_token", true, Class::Alnum, 36, 36),
    p("github_pat_", "github", "fine_grained_token", true, Class::Url, 82, 82),
    p("sk_live_", "stripe", "secret_key", true, Class::Alnum, 24, 247),
    p("rk_live_", "stripe", "restricted_key", true, Class::Alnum, 24, 247),
    p("sk_test_", "stripe", "test_secret_key", true, Class::Alnum, 24, 247),
    p("sk-proj-", "openai", "project_key", true, Class::Url, 40, 200),
    p("sk-svcacct-", "openai", "service_account_key", true, Class::Url, 40, 200),
    p("sk-admin-", "openai", "admin_key", true, Class::Url, 40, 200),
    p("xoxb-", "slack", "bot_token", true, Class::Dashed, 20, 250),
    p("xoxp-", "slack", "user_token", true, Class::Dashed, 20, 250),
    p("xoxa-", "slack", "app_token", true, Class::Dashed, 20, 250),
    p("xoxr-", "slack", "refresh_token", true, Class::Dashed, 20, 250),
    p("xoxs-", "slack", "session_token", true, Class::Dashed, 20, 250),
    p("xapp-", "slack", "app_level_token", true, Class::Dashed, 20, 250),
    p("hooks.slack.com/services/", "slack", "webhook_url", true, Class::Path, 40, 80),
];

/// A format without a prefix, looked for near a context word.
struct Near {
    kind: &'static str,
    secret: bool,
    class: Class,
    len: usize,
    /// Text (lowercase) that must come shortly before the token on its line, where the format
    /// alone is too common (Atlas public keys are eight lowercase letters).
    after: Option<&'static str>,
}

/// Context words of one provider and what to look for around them.
struct Context {
    provider: &'static str,
    words: &'static [&'static str],
    near: &'static [Near],
}

const fn n(kind: &'static str, secret: bool, class: Class, len: usize) -> Near {
    Near { kind, secret, class, len, after: None }
}

static CONTEXTS: &[Context] = &[
    Context {
        provider: "datadog",
        words: &["datadog", "dd_api_key", "dd_app_key", "dd_application_key", "dd-api-key", "dd-application-key"],
        near: &[n("api_key", true, Class::Hex, 32), n("application_key", true, Class::Hex, 40)],
    },
    Context { provider: "fastly", words: &["fastly"], near: &[n("api_token", true, Class::Url, 32)] },
    Context {
        provider: "mongodb_atlas",
        words: &["atlas", "mongodb"],
        near: &[
            n("private_key", true, Class::Uuid, 36),
            Near { kind: "public_key", secret: false, class: Class::Lower, len: 8, after: Some("public") },
        ],
    },
    Context {
        provider: "newrelic",
        words: &["newrelic", "new_relic", "new-relic", "nr_license", "nria_license"],
        near: &[n("license_key", true, Class::Hex, 40)],
    },
    Context {
        provider: "aws",
        words: &["aws_secret", "secret_access_key", "secretaccesskey"],
        near: &[n("secret_access_key", true, Class::Base64, 40)],
    },
];

/// Index of the AWS context (an access key id also opens it: its secret is usually next to it).
const AWS_CONTEXT: usize = 4;

/// Anchors that need more than a prefix.
#[derive(Clone, Copy, Debug)]
enum Special {
    /// `-----BEGIN ... PRIVATE KEY-----`
    PrivateKey,
    /// New Relic license keys: 36 hex then `NRAL`.
    NewRelicLicense,
    /// OpenAI's older keys: `sk-` 20 alnum `T3BlbkFJ` 20 alnum.
    OpenAiLegacy,
}

static SPECIALS: &[(&str, Special)] =
    &[("-----BEGIN ", Special::PrivateKey), ("NRAL", Special::NewRelicLicense), ("T3BlbkFJ", Special::OpenAiLegacy)];

#[derive(Clone, Copy, Debug)]
enum Anchor {
    Prefix(usize),
    Context(usize),
    Special(Special),
}

/// The compiled set of formats. Build once, share across threads.
pub struct Detector {
    anchors: AhoCorasick,
    what: Vec<Anchor>,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    /// Compiles every format's anchors into one automaton.
    pub fn new() -> Self {
        let mut patterns: Vec<&str> = Vec::new();
        let mut what = Vec::new();
        for (i, pf) in PREFIXED.iter().enumerate() {
            patterns.push(pf.anchor);
            what.push(Anchor::Prefix(i));
        }
        for (i, c) in CONTEXTS.iter().enumerate() {
            for w in c.words {
                patterns.push(w);
                what.push(Anchor::Context(i));
            }
        }
        for (lit, s) in SPECIALS {
            patterns.push(lit);
            what.push(Anchor::Special(*s));
        }
        let anchors = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .expect("the anchor set is valid");
        Self { anchors, what }
    }

    /// Every key-shaped range in `buf` (replacing what `out` held), sorted by start, without
    /// duplicates.
    pub fn detect(&self, buf: &[u8], out: &mut Vec<Detection>) {
        out.clear();
        // Per context: where its last window ended, so overlapping windows are searched once.
        let mut searched_to = [0usize; CONTEXTS.len()];
        for m in self.anchors.find_iter(buf) {
            match self.what[m.pattern().as_usize()] {
                Anchor::Prefix(i) => {
                    let pf = &PREFIXED[i];
                    // Prefixes are case-sensitive; the automaton is not (for context words).
                    if &buf[m.start()..m.end()] != pf.anchor.as_bytes() {
                        continue;
                    }
                    // A URL's host follows `//`; every other prefix starts a word.
                    if pf.class != Class::Path && m.start() > 0 && wordish(buf[m.start() - 1]) {
                        continue;
                    }
                    let body_end = run_end(buf, m.end(), pf.class);
                    let len = body_end - m.end();
                    if len < pf.min || len > pf.max || (body_end < buf.len() && wordish(buf[body_end])) {
                        continue;
                    }
                    out.push(Detection {
                        start: m.start(),
                        end: body_end,
                        provider: pf.provider,
                        kind: pf.kind,
                        secret: pf.secret,
                        shown_prefix: pf.anchor.len(),
                        by_context: false,
                    });
                    if pf.provider == "aws" {
                        search_near(buf, m.start(), AWS_CONTEXT, &mut searched_to[AWS_CONTEXT], out);
                    }
                }
                Anchor::Context(i) => search_near(buf, m.start(), i, &mut searched_to[i], out),
                Anchor::Special(s) => special(buf, m.start(), m.end(), s, out),
            }
        }
        out.sort_unstable_by_key(|d| (d.start, d.end, d.by_context));
        out.dedup_by(|a, b| a.start == b.start && a.end == b.end);
    }
}

fn run_end(buf: &[u8], from: usize, class: Class) -> usize {
    let mut j = from;
    while j < buf.len() && in_class(class, buf[j]) {
        j += 1;
    }
    j
}

/// The window of [`NEAR_LINES`] lines around `at`.
fn window(buf: &[u8], at: usize) -> (usize, usize) {
    let mut start = at;
    for _ in 0..=NEAR_LINES {
        match memchr::memrchr(b'\n', &buf[..start]) {
            Some(nl) => start = nl,
            None => {
                start = 0;
                break;
            }
        }
    }
    if start > 0 {
        start += 1;
    }
    let mut end = at;
    for _ in 0..=NEAR_LINES {
        match memchr::memchr(b'\n', &buf[end..]) {
            Some(nl) => end += nl + 1,
            None => {
                end = buf.len();
                break;
            }
        }
    }
    (start, end.min(buf.len()))
}

fn search_near(buf: &[u8], at: usize, ctx: usize, searched_to: &mut usize, out: &mut Vec<Detection>) {
    let (mut start, end) = window(buf, at);
    start = start.max(*searched_to);
    if start >= end {
        return;
    }
    *searched_to = end;
    let c = &CONTEXTS[ctx];
    for near in c.near {
        let mut i = start;
        while i < end {
            if !in_class(near.class, buf[i]) {
                i += 1;
                continue;
            }
            let j = run_end(&buf[..end], i, near.class);
            let bounded = (i == 0 || !wordish(buf[i - 1])) && (j >= buf.len() || !wordish(buf[j]));
            if bounded && j - i == near.len && shaped(near.class, &buf[i..j]) && follows(buf, i, near.after) {
                out.push(Detection {
                    start: i,
                    end: j,
                    provider: c.provider,
                    kind: near.kind,
                    secret: near.secret,
                    shown_prefix: 0,
                    by_context: true,
                });
            }
            i = j;
        }
    }
}

/// Extra shape checks a class alone cannot express.
fn shaped(class: Class, token: &[u8]) -> bool {
    match class {
        Class::Uuid => token.iter().enumerate().all(|(i, &b)| (b == b'-') == matches!(i, 8 | 13 | 18 | 23)),
        // A 40-character path or word is not an AWS secret: real ones mix cases and digits.
        Class::Base64 => {
            token.iter().any(u8::is_ascii_uppercase)
                && token.iter().any(u8::is_ascii_lowercase)
                && token.iter().any(u8::is_ascii_digit)
        }
        Class::Url => token.iter().any(u8::is_ascii_digit) && token.iter().any(u8::is_ascii_alphabetic),
        _ => true,
    }
}

/// Whether `word` (lowercase) appears in the 40 bytes before `at` on the same line.
fn follows(buf: &[u8], at: usize, word: Option<&str>) -> bool {
    let Some(word) = word else { return true };
    let from = at.saturating_sub(40);
    let before = &buf[from..at];
    let line = match memchr::memrchr(b'\n', before) {
        Some(nl) => &before[nl + 1..],
        None => before,
    };
    line.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

fn special(buf: &[u8], start: usize, end: usize, s: Special, out: &mut Vec<Detection>) {
    match s {
        Special::PrivateKey => {
            if &buf[start..end] != b"-----BEGIN " {
                return;
            }
            let line_end = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |i| end + i);
            let header = &buf[end..line_end.min(end + 40)];
            let Some(pos) = find(header, b"PRIVATE KEY") else { return };
            let header_end = end + pos + b"PRIVATE KEY-----".len();
            if !buf[end + pos..].starts_with(b"PRIVATE KEY-----") {
                return;
            }
            // The secret is the block; a header without a body (documentation) is not a key.
            let body_end = find(&buf[header_end..buf.len().min(header_end + 16 * 1024)], b"-----END ")
                .map_or(header_end, |i| header_end + i);
            if body_end - header_end < 64 {
                return;
            }
            out.push(Detection {
                start,
                end: body_end,
                provider: "private_key",
                kind: "private_key",
                secret: true,
                shown_prefix: header_end - start,
                by_context: false,
            });
        }
        Special::NewRelicLicense => {
            if &buf[start..end] != b"NRAL" || start < 36 {
                return;
            }
            let from = start - 36;
            let ok = buf[from..start].iter().all(|&b| in_class(Class::Hex, b))
                && (from == 0 || !wordish(buf[from - 1]))
                && (end >= buf.len() || !wordish(buf[end]));
            if ok {
                out.push(Detection {
                    start: from,
                    end,
                    provider: "newrelic",
                    kind: "license_key",
                    secret: true,
                    shown_prefix: 0,
                    by_context: false,
                });
            }
        }
        Special::OpenAiLegacy => {
            if &buf[start..end] != b"T3BlbkFJ" || start < 23 || end + 20 > buf.len() {
                return;
            }
            let from = start - 23;
            let ok = &buf[from..from + 3] == b"sk-"
                && buf[from + 3..start].iter().all(u8::is_ascii_alphanumeric)
                && buf[end..end + 20].iter().all(u8::is_ascii_alphanumeric)
                && (from == 0 || !wordish(buf[from - 1]))
                && (end + 20 >= buf.len() || !wordish(buf[end + 20]));
            if ok {
                out.push(Detection {
                    start: from,
                    end: end + 20,
                    provider: "openai",
                    kind: "api_key",
                    secret: true,
                    shown_prefix: 3,
                    by_context: false,
                });
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        Detector::new().detect(text.as_bytes(), &mut out);
        out.iter().map(|d| (d.provider.to_owned(), d.kind.to_owned(), text[d.start..d.end].to_owned())).collect()
    }

    fn one(text: &str, provider: &str, kind: &str, token: &str) {
        let found = kinds(text);
        assert_eq!(found, vec![(provider.to_owned(), kind.to_owned(), token.to_owned())], "in {text:?}");
    }

    #[test]
    fn every_prefixed_format() {
        let cases = [
            ("aws", "access_key_id", "AKIAIOSFODNN7EXAMPLE"),
            ("datadog", "personal_access_token", "ddpat_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0cDe2f"),
            ("datadog", "service_access_token", "ddsat_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0cDe2f"),
            ("mongodb_atlas", "service_account_id", "mdb_sa_id_0123456789abcdef01234567"),
            ("mongodb_atlas", "service_account_secret", "mdb_sa_sk_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0c"),
            ("newrelic", "user_key", "NRAK-ABCDEFGHIJ0123456789KLMNOPQ"),
            ("newrelic", "insert_key", "NRII-Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z"),
            ("newrelic", "license_key", "0123456789abcdef0123456789abcdef0123NRAL"),
            ("linear", "api_key", "lin_api_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0cDe2f"),
            ("github", "personal_access_token", "ghp_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0c"),
            ("stripe", "secret_key", "sk_live_Ab3dEf7hIj9kLm1nOp2qRs4t"),
            ("openai", "project_key", "sk-proj-Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0cDe2f"),
            ("openai", "api_key", "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"),
            ("slack", "bot_token", "xoxb-123456789012-1234567890123-Ab3dEf7hIj9kLm1nOp2q"),
            ("slack", "webhook_url", "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
        ];
        for (provider, kind, token) in cases {
            one(&format!("export TOKEN=\"{token}\"\n"), provider, kind, token);
        }
        let hook = "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
        one(&format!("url: https://{hook}\n"), "slack", "webhook_url", hook);
    }

    #[test]
    fn prefixes_are_case_sensitive_and_bounded() {
        assert!(kinds("akiaiosfodnn7example").is_empty());
        assert!(kinds("xAKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(kinds("AKIAIOSFODNN7EXAMPLEX").is_empty());
        assert!(kinds("lin_api_short").is_empty());
    }

    #[test]
    fn datadog_keys_need_context_on_a_nearby_line() {
        let api = "0123456789abcdef0123456789abcdef";
        let app = "0123456789abcdef0123456789abcdef01234567";
        one(&format!("DD_API_KEY={api}\n"), "datadog", "api_key", api);
        // YAML: the context is the parent, two lines up.
        one(&format!("datadog:\n  site: datadoghq.eu\n  api_key: {api}\n"), "datadog", "api_key", api);
        one(&format!("dd_app_key = '{app}'"), "datadog", "application_key", app);
        // The same hex with no context is a hash.
        assert!(kinds(&format!("md5: {api}\nsha1: {app}\n")).is_empty());
        // Context too far away.
        assert!(kinds(&format!("datadog\n\n\n\n\n\nhash {api}\n")).is_empty());
    }

    #[test]
    fn other_context_formats() {
        one(
            "FASTLY_API_TOKEN=Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z\n",
            "fastly",
            "api_token",
            "Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z",
        );
        let found = kinds("atlas:\n  public_key: kwinvent\n  private_key: 1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].1, "public_key");
        assert_eq!(found[1].1, "private_key");
        one(
            "new_relic:\n  license: 0123456789abcdef0123456789abcdef01234567\n",
            "newrelic",
            "license_key",
            "0123456789abcdef0123456789abcdef01234567",
        );
        let pair = kinds(
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        );
        assert_eq!(pair.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(), ["access_key_id", "secret_access_key"]);
    }

    #[test]
    fn a_format_beats_a_context_guess_for_the_same_bytes() {
        one(
            "FASTLY_API_TOKEN=x\nNEW_RELIC_API_KEY=NRAK-ABCDEFGHIJ0123456789KLMNOPQ\n",
            "newrelic",
            "user_key",
            "NRAK-ABCDEFGHIJ0123456789KLMNOPQ",
        );
    }

    #[test]
    fn decoys_are_not_keys() {
        let decoys = "\
commit 9fceb02d0ae598e95dc970b74767f19372d61af8
sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
md5 d41d8cd98f00b204e9800998ecf8427e
id 1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b
blob SGVsbG8gV29ybGQhIFRoaXMgaXMgYSBiYXNlNjQgYmxvYiB0aGF0IGlzIGxvbmc=
wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
-----BEGIN RSA PRIVATE KEY-----
-----END RSA PRIVATE KEY-----
";
        assert_eq!(kinds(decoys), vec![]);
    }

    #[test]
    fn private_key_blocks_show_only_their_header() {
        let body = "MIIEowIBAAKCAQEA".repeat(8);
        let text = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n");
        let mut out = Vec::new();
        Detector::new().detect(text.as_bytes(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(&text[out[0].start..out[0].start + out[0].shown_prefix], "-----BEGIN OPENSSH PRIVATE KEY-----");
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let mut buf = vec![0xffu8; 10_000];
        buf.extend_from_slice(b"datadog AKIA NRAL T3BlbkFJ -----BEGIN ");
        let mut out = Vec::new();
        Detector::new().detect(&buf, &mut out);
        Detector::new().detect(b"NRAL", &mut out);
        Detector::new().detect(b"T3BlbkFJ", &mut out);
        Detector::new().detect(b"-----BEGIN ", &mut out);
        assert!(out.is_empty());
    }
}
