//! Provider formats: which byte ranges of a file look like a key, whose, and how sure that is.
//!
//! One Aho-Corasick pass finds every literal anchor at once — token prefixes (`AKIA`, `NRAK-`,
//! `glpat-`, `AIza`...), structures (`-----BEGIN `, `mongodb+srv://`) and context words
//! (`datadog`, `fastly`, `atlas`...). A prefix is checked in place: a character class and a
//! length, never a regex. Formats without a prefix — Datadog's 32/40 hex keys, Fastly tokens,
//! Atlas private keys, AWS secret keys, New Relic license keys, Twilio auth tokens — are what
//! make a sweep noisy: a hex id is everywhere. So such a token is a key only where it is the
//! value of a key-like field (`api_key: …`, `DD_API_KEY=…`, `--api-key …`, `"apiKey": "…"`,
//! `DD-API-KEY: …`) and the provider is named in that field's name, on its line, or as a parent
//! section of a structured file (`datadog:` → `api_key:`, `[datadog]`, `"datadog": {`). A hex
//! token in free text or in another field (`trace_id=`, `commit`, `sha256:`) beside a provider's
//! name is not a key. Each detection says how sure it is ([`Confidence`]). Nothing here
//! allocates per byte.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// How many lines around an AWS access key id its secret is looked for.
pub const NEAR_LINES: usize = 3;
/// A parent section is followed at most this far (lines), so a hostile file cannot make one
/// context word cost the whole file.
const SECTION_LINES: usize = 256;

/// How sure a detection is that the token is a key of that provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub enum Confidence {
    /// Its own format (a distinctive prefix or structure), or a secret Keyward holds.
    High,
    /// A provider's shape, as the value of a key-like field whose name or parent section names
    /// the provider.
    Medium,
    /// A guess: a provider's shape in a key-like field, the provider named only elsewhere on
    /// the line (or an access key id beside it).
    Low,
}

impl Confidence {
    /// `high`, `medium` or `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }

    /// The confidence a stored word names (an unknown word, from a vault edited by hand, is low).
    pub fn parse(word: &str) -> Self {
        match word {
            "high" => Confidence::High,
            "medium" => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

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
    /// How sure this is. When two detections claim the same bytes (`NRAK-…` is also 32
    /// URL-safe characters in a Fastly field), the surer one is kept.
    pub confidence: Confidence,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// `A-Za-z0-9`
    Alnum,
    /// `A-Za-z`
    Alpha,
    /// `A-Z0-9`
    Upper,
    /// `0-9a-f`
    Hex,
    /// `0-9a-fA-F`
    HexAny,
    /// `a-z0-9`
    Lower,
    /// `A-Za-z0-9+/`
    Base64,
    /// `A-Za-z0-9_-`
    Url,
    /// `A-Za-z0-9_=-`
    UrlPad,
    /// `0-9`
    Digit,
    /// `A-Za-z0-9+/=_-`: base64 of either alphabet, padded (Sentry org tokens, Fly macaroons)
    Any64,
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
        Class::Alpha => b.is_ascii_alphabetic(),
        Class::Upper => b.is_ascii_uppercase() || b.is_ascii_digit(),
        Class::Hex => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        Class::HexAny => b.is_ascii_hexdigit(),
        Class::Lower => b.is_ascii_lowercase() || b.is_ascii_digit(),
        Class::Base64 => b.is_ascii_alphanumeric() || b == b'+' || b == b'/',
        Class::Url => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
        Class::UrlPad => b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'=',
        Class::Digit => b.is_ascii_digit(),
        Class::Any64 => b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'),
        Class::Dashed => b.is_ascii_alphanumeric() || b == b'-',
        Class::Path => b.is_ascii_alphanumeric() || b == b'/',
        Class::Uuid => b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-',
    }
}

// Bytes that continue a word: a token next to one of these is part of something longer. The
// same bytes the held-secret pass reads as one token.
use super::index::is_token_byte as wordish;

/// A part of a token after its prefix's first run.
#[derive(Clone, Copy, Debug)]
enum Seg {
    /// These exact bytes.
    Lit(&'static str),
    /// A run of a class, of a length in a range.
    Run(Class, usize, usize),
    /// These parts, or nothing.
    Opt(&'static [Seg]),
}

/// A token that starts with a literal.
#[derive(Debug)]
struct Prefixed {
    anchor: &'static str,
    provider: &'static str,
    kind: &'static str,
    secret: bool,
    class: Class,
    min: usize,
    max: usize,
    /// What follows the first run (`SG.` 22 `.` 43; an Anthropic key's closing `AA`).
    tail: &'static [Seg],
    /// A last check of the whole body (after the prefix), where segments cannot say it.
    check: Option<fn(&[u8]) -> bool>,
}

#[allow(clippy::too_many_arguments)]
const fn p(
    anchor: &'static str,
    provider: &'static str,
    kind: &'static str,
    secret: bool,
    class: Class,
    min: usize,
    max: usize,
) -> Prefixed {
    Prefixed { anchor, provider, kind, secret, class, min, max, tail: &[], check: None }
}

impl Prefixed {
    const fn then(self, tail: &'static [Seg]) -> Self {
        Prefixed { tail, ..self }
    }

    const fn checked(self, check: fn(&[u8]) -> bool) -> Self {
        Prefixed { check: Some(check), ..self }
    }
}

use Class::*;
use Seg::{Lit, Opt, Run};

/// GitLab's routable tokens end `.01.` and nine base-36 characters (older ones without `01.`).
const GITLAB_ROUTABLE: &[Seg] = &[Opt(&[Lit("."), Opt(&[Lit("01.")]), Run(Lower, 9, 9)])];
/// Base64 padding.
const PADDING: &[Seg] = &[Opt(&[Lit("="), Opt(&[Lit("="), Opt(&[Lit("=")])])])];

/// Every format with a prefix. Shapes from the vendors' documentation and the public rule sets
/// of gitleaks, trufflehog and Kingfisher (read for the shapes; the patterns are our own).
static PREFIXED: &[Prefixed] = &[
    p("AKIA", "aws", "access_key_id", false, Upper, 16, 16),
    p("ASIA", "aws", "temporary_access_key_id", false, Upper, 16, 16),
    p("ddpat_", "datadog", "personal_access_token", true, Url, 32, 64),
    p("ddsat_", "datadog", "service_access_token", true, Url, 32, 64),
    p("mdb_sa_id_", "mongodb_atlas", "service_account_id", false, Hex, 24, 24),
    p("mdb_sa_sk_", "mongodb_atlas", "service_account_secret", true, Url, 32, 64),
    p("NRAK-", "newrelic", "user_key", true, Upper, 27, 27),
    p("NRII-", "newrelic", "insert_key", true, Url, 24, 40),
    p("lin_api_", "linear", "api_key", true, Alnum, 40, 40),
    p("ghp_", "github", "personal_access_token", true, Alnum, 36, 36),
    p("gho_", "github", "oauth_token", true, Alnum, 36, 36),
    p("ghu_", "github", "user_to_server_token", true, Alnum, 36, 36),
    p("ghs_", "github", "server_to_server_token", true, Alnum, 36, 36),
    p("ghr_", "github", "refresh_token", true, Alnum, 36, 36),
    p("github_pat_", "github", "fine_grained_token", true, Url, 82, 82),
    p("sk_live_", "stripe", "secret_key", true, Alnum, 24, 247),
    p("rk_live_", "stripe", "restricted_key", true, Alnum, 24, 247),
    p("sk_test_", "stripe", "test_secret_key", true, Alnum, 24, 247),
    p("whsec_", "stripe", "webhook_secret", true, Alnum, 32, 64),
    p("sk-proj-", "openai", "project_key", true, Url, 40, 200),
    p("sk-svcacct-", "openai", "service_account_key", true, Url, 40, 200),
    p("sk-admin-", "openai", "admin_key", true, Url, 40, 200),
    p("sk-ant-api03-", "anthropic", "api_key", true, Url, 93, 93).then(&[Lit("AA")]),
    p("sk-ant-admin01-", "anthropic", "admin_key", true, Url, 93, 93).then(&[Lit("AA")]),
    p("sk-ant-oat01-", "anthropic", "oauth_access_token", true, Url, 40, 400),
    p("sk-ant-ort01-", "anthropic", "oauth_refresh_token", true, Url, 40, 400),
    p("xoxb-", "slack", "bot_token", true, Dashed, 20, 250),
    p("xoxp-", "slack", "user_token", true, Dashed, 20, 250),
    p("xoxa-", "slack", "app_token", true, Dashed, 20, 250),
    p("xoxr-", "slack", "refresh_token", true, Dashed, 20, 250),
    p("xoxs-", "slack", "session_token", true, Dashed, 20, 250),
    p("xapp-", "slack", "app_level_token", true, Dashed, 20, 250),
    p("hooks.slack.com/services/", "slack", "webhook_url", true, Path, 40, 80),
    p("AIza", "google", "api_key", true, Url, 35, 35),
    p("GOCSPX-", "google", "oauth_client_secret", true, Url, 28, 28),
    p("SG.", "sendgrid", "api_key", true, Url, 20, 24).then(&[Lit("."), Run(Url, 39, 50)]),
    p("npm_", "npm", "access_token", true, Alnum, 36, 36),
    p("pypi-AgEIcHlwaS5vcmc", "pypi", "upload_token", true, Url, 50, 1000),
    p("rubygems_", "rubygems", "api_key", true, Hex, 48, 48),
    p("dckr_pat_", "docker", "personal_access_token", true, Url, 27, 32),
    p("dckr_oat_", "docker", "organization_access_token", true, Url, 27, 32),
    p("glpat-", "gitlab", "personal_access_token", true, Url, 20, 300).then(GITLAB_ROUTABLE),
    p("glptt-", "gitlab", "pipeline_trigger_token", true, Url, 20, 40),
    p("glrt-", "gitlab", "runner_token", true, Url, 20, 310).then(GITLAB_ROUTABLE),
    p("GR1348941", "gitlab", "runner_registration_token", true, Url, 20, 20),
    p("glcbt-", "gitlab", "ci_job_token", true, Url, 22, 26),
    p("gloas-", "gitlab", "oauth_app_secret", true, Url, 64, 64),
    p("glft-", "gitlab", "feed_token", true, Url, 20, 20),
    p("glimt-", "gitlab", "incoming_mail_token", true, Url, 25, 25),
    p("glagent-", "gitlab", "agent_token", true, Url, 50, 50),
    p("glsoat-", "gitlab", "scim_oauth_token", true, Url, 20, 20),
    p("glffct-", "gitlab", "feature_flags_client_token", true, Url, 20, 20),
    p("gldt-", "gitlab", "deploy_token", true, Url, 20, 20),
    p("hf_", "huggingface", "access_token", true, Alpha, 34, 34),
    p("api_org_", "huggingface", "org_token", true, Alpha, 34, 34),
    p("shpat_", "shopify", "access_token", true, HexAny, 32, 32),
    p("shpca_", "shopify", "custom_app_token", true, HexAny, 32, 32),
    p("shppa_", "shopify", "private_app_token", true, HexAny, 32, 32),
    p("shpss_", "shopify", "shared_secret", true, HexAny, 32, 32),
    p("AccountKey=", "azure", "storage_account_key", true, Base64, 86, 86).then(&[Lit("==")]),
    p("dop_v1_", "digitalocean", "personal_access_token", true, Hex, 64, 64),
    p("doo_v1_", "digitalocean", "oauth_token", true, Hex, 64, 64),
    p("dor_v1_", "digitalocean", "refresh_token", true, Hex, 64, 64),
    p("dp.pt.", "doppler", "personal_token", true, Alnum, 40, 44),
    p("dp.ct.", "doppler", "cli_token", true, Alnum, 40, 44),
    p("dp.sa.", "doppler", "service_account_token", true, Alnum, 40, 44),
    p("dp.scim.", "doppler", "scim_token", true, Alnum, 40, 44),
    p("dp.audit.", "doppler", "audit_token", true, Alnum, 40, 44),
    // `dp.st.` 40–44, or `dp.st.<environment slug>.` 40–44.
    p("dp.st.", "doppler", "service_token", true, Url, 2, 44)
        .then(&[Opt(&[Lit("."), Run(Alnum, 40, 44)])])
        .checked(doppler_service_token),
    p("PMAK-", "postman", "api_key", true, HexAny, 24, 24).then(&[Lit("-"), Run(HexAny, 34, 34)]),
    p("pul-", "pulumi", "access_token", true, Lower, 40, 40),
    p("glc_", "grafana", "cloud_token", true, Base64, 32, 400).then(PADDING),
    p("glsa_", "grafana", "service_account_token", true, Alnum, 32, 32).then(&[Lit("_"), Run(HexAny, 8, 8)]),
    p("sntryu_", "sentry", "user_token", true, Hex, 64, 64),
    p("sntrys_", "sentry", "org_token", true, Any64, 89, 471),
    p("ATATT3", "atlassian", "api_token", true, UrlPad, 186, 186),
    p("dapi", "databricks", "access_token", true, Hex, 32, 32).then(&[Opt(&[Lit("-"), Run(Digit, 1, 1)])]),
    p("HRKU-AA", "heroku", "api_key", true, Url, 58, 58),
    p("sq0atp-", "square", "access_token", true, Url, 22, 60),
    p("sq0csp-", "square", "oauth_secret", true, Url, 43, 43),
    p("AGE-SECRET-KEY-1", "age", "secret_key", true, Upper, 58, 58),
    p("hvs.", "vault", "service_token", true, Url, 90, 256),
    p("hvb.", "vault", "batch_token", true, Url, 138, 300),
    p("bkua_", "buildkite", "access_token", true, Lower, 40, 40),
    p("sbp_", "supabase", "access_token", true, Lower, 40, 40),
    p("ops_eyJ", "1password", "service_account_token", true, Base64, 50, 4096).then(PADDING),
    p("ntn_", "notion", "integration_token", true, Alnum, 46, 46),
    p("CFPAT-", "contentful", "personal_access_token", true, Url, 43, 43),
    p("dt0c01.", "dynatrace", "api_token", true, Upper, 24, 24).then(&[Lit("."), Run(Upper, 64, 64)]),
    p("pnu_", "prefect", "api_key", true, Alnum, 36, 36),
    p("r8_", "replicate", "api_token", true, Url, 37, 37),
    p("gsk_", "groq", "api_key", true, Alnum, 48, 52),
    p("pplx-", "perplexity", "api_key", true, Alnum, 48, 48),
    p("figd_", "figma", "personal_access_token", true, Url, 40, 40),
    p("figp_", "figma", "personal_access_token", true, UrlPad, 40, 54),
    p("pscale_tkn_", "planetscale", "service_token", true, Url, 32, 64),
    p("pscale_pw_", "planetscale", "password", true, Url, 32, 64),
    p("pscale_oauth_", "planetscale", "oauth_token", true, Url, 32, 64),
    p("shippo_live_", "shippo", "api_token", true, HexAny, 40, 40),
    p("shippo_test_", "shippo", "test_api_token", true, HexAny, 40, 40),
    p("CLOJARS_", "clojars", "deploy_token", true, Lower, 60, 60),
    p("AKCp", "artifactory", "api_key", true, Alnum, 69, 69),
    p("fo1_", "flyio", "access_token", true, Url, 43, 43),
    p("fm2_", "flyio", "macaroon", true, Any64, 100, 4096),
    p("fm1a_", "flyio", "macaroon", true, Any64, 100, 4096),
    p("fm1r_", "flyio", "macaroon", true, Any64, 100, 4096),
    p("sgp_", "sourcegraph", "access_token", true, Url, 40, 57),
    p("sk.eyJ", "mapbox", "secret_token", true, Url, 32, 237).then(&[Lit("."), Run(Url, 20, 30)]),
    p("v1.0-", "cloudflare", "origin_ca_key", true, Hex, 24, 24).then(&[Lit("-"), Run(Hex, 146, 146)]),
    p("tskey-api-", "tailscale", "api_key", true, Url, 20, 128),
    p("tskey-auth-", "tailscale", "auth_key", true, Url, 20, 128),
    p("tskey-client-", "tailscale", "oauth_client_secret", true, Url, 20, 128),
];

/// A format without a prefix, looked for in the fields of a provider's context.
struct Near {
    kind: &'static str,
    secret: bool,
    class: Class,
    len: usize,
    /// Text (lowercase) the field's name must hold, where the shape alone is too common
    /// (Atlas public keys are eight lowercase letters: `public_key`).
    name_has: Option<&'static str>,
}

/// Context words of one provider and what to look for in its fields.
struct Context {
    provider: &'static str,
    words: &'static [&'static str],
    /// Names (before the first `.`) of the provider's own config files, context throughout:
    /// `datadog.yaml`, `newrelic.yml`, `newrelic.js`.
    files: &'static [&'static str],
    near: &'static [Near],
}

const fn n(kind: &'static str, secret: bool, class: Class, len: usize) -> Near {
    Near { kind, secret, class, len, name_has: None }
}

static CONTEXTS: &[Context] = &[
    Context {
        provider: "datadog",
        files: &["datadog"],
        words: &["datadog", "dd_api_key", "dd_app_key", "dd_application_key", "dd-api-key", "dd-application-key"],
        near: &[n("api_key", true, Hex, 32), n("application_key", true, Hex, 40)],
    },
    Context { provider: "fastly", files: &["fastly"], words: &["fastly"], near: &[n("api_token", true, Url, 32)] },
    Context {
        provider: "mongodb_atlas",
        files: &[],
        words: &["atlas", "mongodb"],
        near: &[
            n("private_key", true, Uuid, 36),
            Near { kind: "public_key", secret: false, class: Lower, len: 8, name_has: Some("public") },
        ],
    },
    Context {
        provider: "newrelic",
        files: &["newrelic", "newrelic-infra"],
        words: &["newrelic", "new_relic", "new-relic", "nr_license", "nria_license"],
        near: &[n("license_key", true, Hex, 40)],
    },
    Context {
        provider: "aws",
        // s3cmd's `.s3cfg` writes its options alphabetically: `secret_key` lands far below
        // `access_key`.
        files: &["s3cfg"],
        words: &["aws_secret", "secret_access_key", "secretaccesskey", "aws-secret", "secret-access-key"],
        near: &[n("secret_access_key", true, Base64, 40)],
    },
    Context {
        provider: "twilio",
        files: &["twilio"],
        words: &["twilio"],
        near: &[
            Near { kind: "auth_token", secret: true, class: Hex, len: 32, name_has: Some("token") },
            Near { kind: "api_key_secret", secret: true, class: Alnum, len: 32, name_has: Some("secret") },
        ],
    },
];

/// Index of the AWS context (an access key id also opens it: its secret is usually next to it).
const AWS_CONTEXT: usize = 4;

/// Field names (lowercase, without `_`, `-`, `.`) whose value is a key: a name must end with
/// one of these. `trace_id`, `span`, `sha256`, `commit`, `etag`, `checksum` and `integrity` do
/// not, so a hex value there is never a key.
const KEY_NAMES: &[&str] = &[
    "apikey",
    "appkey",
    "applicationkey",
    "secretkey",
    "privatekey",
    "publickey",
    "licensekey",
    "licencekey",
    "accesskey",
    "authkey",
    "fastlykey",
    "insertkey",
    "ingestkey",
    "token",
    "secret",
    "license",
    "licence",
];

/// Anchors that need more than a prefix.
#[derive(Clone, Copy, Debug)]
enum Special {
    /// `-----BEGIN ... PRIVATE KEY-----` (a Google service account's, inside its JSON).
    PrivateKey,
    /// New Relic license keys: 36 hex then `NRAL`.
    NewRelicLicense,
    /// OpenAI's older keys: `sk-` 20 alnum `T3BlbkFJ` 20 alnum.
    OpenAiLegacy,
    /// Terraform Cloud / Enterprise tokens: 14 `.atlasv1.` 60–70.
    TerraformToken,
    /// A database URL with a password: `scheme://user:password@host`.
    ConnectionString,
}

static SPECIALS: &[(&str, Special)] = &[
    ("-----BEGIN ", Special::PrivateKey),
    ("NRAL", Special::NewRelicLicense),
    ("T3BlbkFJ", Special::OpenAiLegacy),
    ("mongodb+srv://", Special::ConnectionString),
    ("mongodb://", Special::ConnectionString),
    ("postgres://", Special::ConnectionString),
    ("postgresql://", Special::ConnectionString),
    ("mysql://", Special::ConnectionString),
    ("mariadb://", Special::ConnectionString),
    ("redis://", Special::ConnectionString),
    ("rediss://", Special::ConnectionString),
    ("amqp://", Special::ConnectionString),
    ("amqps://", Special::ConnectionString),
];

/// Terraform's infix, found apart from the automaton: an earlier anchor that starts before it
/// and overlaps it (`…sg.atlasv1.`, where `SG.` starts) would hide it there.
const TERRAFORM_INFIX: &[u8] = b".atlasv1.";

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
        // Structures and prefixes before context words: where two anchors start at the same
        // byte (`mongodb+srv://` and `mongodb`), the first listed is the one found.
        for (lit, s) in SPECIALS {
            patterns.push(lit);
            what.push(Anchor::Special(*s));
        }
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
        let anchors = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            // A DFA, although there are over a hundred anchors (where the crate would pick an
            // NFA by default): one table lookup per byte, about three times the NFA's speed on the
            // scan corpus (257 → 818 MiB/s, docs/benchmarks.md).
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("the anchor set is valid");
        Self { anchors, what }
    }

    /// Every key-shaped range in `buf` (replacing what `out` held), sorted by start, without
    /// duplicates.
    pub fn detect(&self, buf: &[u8], out: &mut Vec<Detection>) {
        self.detect_named(buf, None, out);
    }

    /// As [`Detector::detect`], for a file called `name`: a file named for a provider
    /// (`datadog.yaml`, `newrelic.yml`, `newrelic.js`) is that provider's context throughout,
    /// as a section is.
    pub fn detect_named(&self, buf: &[u8], name: Option<&str>, out: &mut Vec<Detection>) {
        out.clear();
        // Per context: how far its regions were searched, so overlapping ones are searched once;
        // and how far its nearby lines were (guesses, which never stop a surer search).
        let mut searched_to = [0usize; CONTEXTS.len()];
        let mut near_to = [0usize; CONTEXTS.len()];
        let mut ends = EndSearch::default();
        if let Some(stem) = name.and_then(|n| n.split('.').find(|part| !part.is_empty())) {
            for (i, c) in CONTEXTS.iter().enumerate() {
                if c.files.iter().any(|f| stem.eq_ignore_ascii_case(f)) {
                    search_region(buf, 0, buf.len(), i, Region::Section, out);
                    searched_to[i] = buf.len();
                }
            }
        }
        for at in memchr::memmem::find_iter(buf, TERRAFORM_INFIX) {
            special(buf, at, at + TERRAFORM_INFIX.len(), Special::TerraformToken, &mut ends, out);
        }
        for m in self.anchors.find_iter(buf) {
            match self.what[m.pattern().as_usize()] {
                Anchor::Prefix(i) => {
                    let pf = &PREFIXED[i];
                    if let Some(d) = prefixed(buf, m.start(), m.end(), pf) {
                        out.push(d);
                        if pf.provider == "aws" {
                            search_partner(buf, m.start(), &mut searched_to[AWS_CONTEXT], out);
                        }
                    }
                }
                Anchor::Context(i) => {
                    search_context(buf, m.start(), m.end(), i, &mut searched_to[i], &mut near_to[i], out)
                }
                Anchor::Special(s) => special(buf, m.start(), m.end(), s, &mut ends, out),
            }
        }
        out.sort_unstable_by_key(|d| (d.start, d.end, d.confidence));
        out.dedup_by(|a, b| a.start == b.start && a.end == b.end);
    }
}

/// The token a prefix anchor at `start..end` begins, if its body has the format's shape.
fn prefixed(buf: &[u8], start: usize, end: usize, pf: &Prefixed) -> Option<Detection> {
    // Prefixes are case-sensitive; the automaton is not (for context words).
    if &buf[start..end] != pf.anchor.as_bytes() {
        return None;
    }
    // A URL's host follows `//`; every other prefix starts a word.
    if pf.class != Path && start > 0 && wordish(buf[start - 1]) {
        return None;
    }
    let first = run_end_max(buf, end, pf.class, pf.max);
    if first - end < pf.min {
        return None;
    }
    let j = segments(buf, first, pf.tail)?;
    if pf.check.is_some_and(|check| !check(&buf[end..j])) {
        return None;
    }
    if j < buf.len() && wordish(buf[j]) {
        return None;
    }
    // Documentation's placeholders (`ghp_xxxx…`, `AIzaXXXX…`) are not keys.
    if pf.secret && !varied(&buf[end..j]) {
        return None;
    }
    Some(Detection {
        start,
        end: j,
        provider: pf.provider,
        kind: pf.kind,
        secret: pf.secret,
        shown_prefix: pf.anchor.len(),
        confidence: Confidence::High,
    })
}

/// `dp.st.`'s body: 40–44 letters and digits, or an environment slug, `.`, and those.
fn doppler_service_token(body: &[u8]) -> bool {
    match memchr::memchr(b'.', body) {
        Some(dot) => (2..=35).contains(&dot),
        None => (40..=44).contains(&body.len()) && body.iter().all(u8::is_ascii_alphanumeric),
    }
}

/// Where `segs` end when they match from `j`.
fn segments(buf: &[u8], mut j: usize, segs: &[Seg]) -> Option<usize> {
    for seg in segs {
        match *seg {
            Lit(lit) => {
                if !buf[j..].starts_with(lit.as_bytes()) {
                    return None;
                }
                j += lit.len();
            }
            Run(class, min, max) => {
                let e = run_end_max(buf, j, class, max);
                if e - j < min {
                    return None;
                }
                j = e;
            }
            Opt(inner) => {
                if let Some(e) = segments(buf, j, inner) {
                    j = e;
                }
            }
        }
    }
    Some(j)
}

/// Whether a secret's body varies as a random one does: at least eight distinct bytes in a
/// body of sixteen or more (a random one of 16 alphanumerics has about 13).
fn varied(body: &[u8]) -> bool {
    body.len() < 16 || distinct_at_least(body, 8)
}

/// Whether `body` holds at least `n` distinct bytes.
fn distinct_at_least(body: &[u8], n: usize) -> bool {
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
            if distinct >= n {
                return true;
            }
        }
    }
    false
}

/// Where a run of `class` from `from` ends, reading at most `max` bytes (a format's longest:
/// a run that goes on leaves a class byte next, which the word-boundary check refuses).
fn run_end_max(buf: &[u8], from: usize, class: Class, max: usize) -> usize {
    let limit = buf.len().min(from.saturating_add(max));
    let mut j = from;
    while j < limit && in_class(class, buf[j]) {
        j += 1;
    }
    j
}

/// The line holding `at`: its start and end (before the newline).
fn line_of(buf: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &buf[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |i| at + i);
    (start, end)
}

/// Where a region searched around a context word lies, which says how sure its hits are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    /// The context word's own line.
    Line,
    /// The body of a section the context word heads.
    Section,
    /// Lines around an AWS access key id.
    Partner,
    /// The line after a context word, when it holds a `value` field (its name is the word's).
    Sibling,
    /// Lines within [`NEAR_LINES`] of a context word: a key-like field there is a guess.
    Near,
}

/// The line after the one ending at `le`, when it starts with a `value` field.
fn value_line_after(buf: &[u8], le: usize) -> Option<(usize, usize)> {
    let ns = le + 1;
    if ns >= buf.len() {
        return None;
    }
    let ne = memchr::memchr(b'\n', &buf[ns..]).map_or(buf.len(), |i| ns + i);
    let t = buf[ns..ne].iter().position(|b| !matches!(b, b' ' | b'\t' | b'-' | b'"' | b'\'')).map_or(ne, |p| ns + p);
    (buf[t..ne].len() >= 5 && buf[t..t + 5].eq_ignore_ascii_case(b"value")).then_some((ns, ne))
}

/// A context word at `at..word_end`: its line, and the section it heads if it heads one.
fn search_context(
    buf: &[u8],
    at: usize,
    word_end: usize,
    ctx: usize,
    searched_to: &mut usize,
    near_to: &mut usize,
    out: &mut Vec<Detection>,
) {
    // Regions end at a line's end: a word before `searched_to` is on a line already searched
    // (and any section it heads lies in the one searched), so many words on one long line cost
    // one pass.
    if at < *searched_to {
        return;
    }
    let (ls, le) = line_of(buf, at);
    // Key-like fields a few lines away (`from datadog import initialize` above `"api_key": …`,
    // a `## datadog` comment above `api_key:`): guesses, searched once, never in the way of a
    // surer search of the same lines (the surer hit wins the same bytes).
    // Only a word standing alone: `atlas` in `Atlassian` names nothing.
    let alone = (at == 0 || !buf[at - 1].is_ascii_alphabetic())
        && (word_end >= buf.len() || !buf[word_end].is_ascii_alphabetic());
    let (ws, we) = window(buf, at);
    let ws = ws.max(*near_to);
    if alone && ws < we {
        search_region(buf, ws, we, ctx, Region::Near, out);
        *near_to = we;
    }
    if ls >= *searched_to {
        search_region(buf, ls, le, ctx, Region::Line, out);
        *searched_to = le;
        // `- name: DD_API_KEY` then `value: …` (Kubernetes, ECS): the value's line.
        if let Some((ns, ne)) = value_line_after(buf, le) {
            search_region(buf, ns, ne, ctx, Region::Sibling, out);
            *searched_to = ne;
        }
    }
    if let Some((s, e)) = section(buf, at, word_end, ls, le) {
        let s = s.max(*searched_to);
        if s < e {
            search_region(buf, s, e, ctx, Region::Section, out);
            *searched_to = e;
        }
    }
}

/// The AWS secret of an access key id at `at`: on its line, or in a key-like field within
/// [`NEAR_LINES`] lines.
fn search_partner(buf: &[u8], at: usize, searched_to: &mut usize, out: &mut Vec<Detection>) {
    if at < *searched_to {
        return;
    }
    let (mut start, end) = window(buf, at);
    start = start.max(*searched_to);
    if start >= end {
        return;
    }
    *searched_to = end;
    search_region(buf, start, end, AWS_CONTEXT, Region::Partner, out);
}

/// The lines a section headed at `at` spans after its header line `ls..le`: YAML
/// (`datadog:` and the lines indented under it), INI/TOML (`[datadog]` to the next `[`), and
/// braces (`"datadog": {`, `provider "datadog" {` to the matching `}`). `None` when the line
/// heads nothing or the word is not in the header's name.
fn section(buf: &[u8], at: usize, word_end: usize, ls: usize, le: usize) -> Option<(usize, usize)> {
    let line = &buf[ls..le];
    // Cut a trailing comment (` # …`) and blanks.
    let mut t = line.len();
    if let Some(h) = memchr::memmem::find(line, b" #") {
        t = h;
    }
    while t > 0 && line[t - 1].is_ascii_whitespace() {
        t -= 1;
    }
    let lead = line.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    if t <= lead {
        return None;
    }
    let (first, last) = (line[lead], line[t - 1]);
    let word_at = at - ls;
    let body_start = (le + 1).min(buf.len());
    enum Kind {
        Indent(usize),
        Ini,
        Braces,
    }
    let kind = if last == b':' && word_at < t {
        Kind::Indent(lead)
    } else if first == b'[' && last == b']' && word_end - ls < t {
        Kind::Ini
    } else if last == b'{' && word_end - ls < t {
        Kind::Braces
    } else {
        return None;
    };
    let mut depth = 1i64;
    let mut pos = body_start;
    let mut lines = 0;
    while pos < buf.len() && lines < SECTION_LINES {
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let l = &buf[pos..end];
        let indent = l.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let blank = indent == l.len() || l[indent..].iter().all(u8::is_ascii_whitespace);
        match kind {
            Kind::Indent(parent) => {
                // A comment at any indentation does not end the section.
                if !blank && indent <= parent && l[indent] != b'#' {
                    break;
                }
            }
            Kind::Ini => {
                if !blank && l[indent] == b'[' {
                    break;
                }
            }
            Kind::Braces => {
                for &b in l {
                    match b {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                }
                if depth <= 0 {
                    pos = end;
                    break;
                }
            }
        }
        pos = (end + 1).min(buf.len());
        lines += 1;
    }
    (pos > body_start).then_some((body_start, pos.min(buf.len())))
}

/// The [`NEAR_LINES`] lines around `at`.
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

/// Every token of a context's shapes in `start..end` that is the value of a key-like field.
fn search_region(buf: &[u8], start: usize, end: usize, ctx: usize, region: Region, out: &mut Vec<Detection>) {
    let c = &CONTEXTS[ctx];
    for near in c.near {
        // Regions start at a line's start; the line of each candidate is followed forward, so a
        // long line is read once, not once per candidate on it.
        let mut line = LineCursor::new(buf, start);
        let mut i = start;
        while i < end {
            if !in_class(near.class, buf[i]) {
                i += 1;
                continue;
            }
            let j = run_end_max(&buf[..end], i, near.class, usize::MAX);
            let bounded = (i == 0 || !wordish(buf[i - 1])) && (j >= buf.len() || !wordish(buf[j]));
            if bounded
                && j - i == near.len
                && shaped(near.class, &buf[i..j])
                && let Some(confidence) = judged(buf, i, j, line.at(i), c, near, region)
            {
                out.push(Detection {
                    start: i,
                    end: j,
                    provider: c.provider,
                    kind: near.kind,
                    secret: near.secret,
                    shown_prefix: 0,
                    confidence,
                });
            }
            i = j;
        }
    }
}

/// The line of increasing offsets in a buffer, and whether an AWS access key id is on it.
struct LineCursor<'b> {
    buf: &'b [u8],
    start: usize,
    end: usize,
    aws_id: Option<bool>,
}

/// One line as [`LineCursor`] sees it.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    aws_id: bool,
}

impl<'b> LineCursor<'b> {
    fn new(buf: &'b [u8], start: usize) -> Self {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p);
        Self { buf, start, end, aws_id: None }
    }

    /// The line holding `i` (never before the last one asked for).
    fn at(&mut self, i: usize) -> Line {
        while i > self.end && self.end < self.buf.len() {
            self.start = self.end + 1;
            self.end = memchr::memchr(b'\n', &self.buf[self.start..]).map_or(self.buf.len(), |p| self.start + p);
            self.aws_id = None;
        }
        let (start, end, buf) = (self.start, self.end, self.buf);
        let aws_id = *self.aws_id.get_or_insert_with(|| {
            let l = &buf[start..end];
            memchr::memmem::find(l, b"AKIA").is_some() || memchr::memmem::find(l, b"ASIA").is_some()
        });
        Line { start, end, aws_id }
    }
}

/// Whether the token `i..j` of a context's shape is a key, and how sure that is: the value of
/// a key-like field, the provider named in the field's name or by the region.
fn judged(buf: &[u8], i: usize, j: usize, line: Line, c: &Context, near: &Near, region: Region) -> Option<Confidence> {
    let field = field_before(buf, line.start, i);
    let named = field.as_ref().is_some_and(|f| names_provider(&buf[f.start..f.end], c));
    // An AWS secret on its access key id's own line needs no name (the console's
    // `Access key ID,Secret access key` CSV).
    if region == Region::Partner && field.is_none() {
        debug_assert!(line.end >= j);
        return (line.aws_id && matches!(buf.get(j), None | Some(b',' | b'\n' | b'\r' | b' ' | b'\t' | b'"')))
            .then_some(Confidence::Medium);
    }
    let field = field?;
    let name = &buf[field.start..field.end];
    if !key_like(name) {
        return None;
    }
    if let Some(has) = near.name_has
        && !contains_ci(name, has)
    {
        return None;
    }
    // A value after a space only (`--api-key v`, `DD_API_KEY v`) needs a flag or a named field:
    // `token abc` in prose is not an assignment.
    if field.spaced && !(name.starts_with(b"-") || named) {
        return None;
    }
    if named {
        return Some(Confidence::Medium);
    }
    match region {
        Region::Sibling => None,
        // An access key id within a few lines: its secret.
        Region::Section | Region::Partner => Some(Confidence::Medium),
        // On the word's line: sure when the field is a flag of that command, or the word is in
        // the same run of text as the field (`https://api.datadoghq.com/…?api_key=…`, minified
        // `{"datadog":{"apiKey":"…"}}`).
        Region::Line if name.starts_with(b"-") || same_run_names(buf, field.start, j, line, c) => {
            Some(Confidence::Medium)
        }
        Region::Line | Region::Near => Some(Confidence::Low),
    }
}

/// Whether a field's name holds one of the provider's words, ignoring `_`, `-` and `.`
/// (`aws-secret-access-key` is `aws_secret_access_key`).
fn names_provider(name: &[u8], c: &Context) -> bool {
    let mut norm = [0u8; 128];
    let n = normalize(name, &mut norm);
    c.words.iter().any(|w| {
        let mut wn = [0u8; 64];
        let k = normalize(w.as_bytes(), &mut wn);
        k > 0 && norm[..n].windows(k).any(|x| x == &wn[..k])
    })
}

/// `name` lowercased without `_`, `-` and `.` into `out` (its last `out.len()` bytes at most);
/// returns the length.
fn normalize(name: &[u8], out: &mut [u8]) -> usize {
    let mut n = 0;
    for &b in name.iter().rev() {
        if matches!(b, b'_' | b'-' | b'.') {
            continue;
        }
        if n == out.len() {
            break;
        }
        out[n] = b.to_ascii_lowercase();
        n += 1;
    }
    out[..n].reverse();
    n
}

/// Whether a provider's word is in the run of non-blank text (at most 256 bytes either way)
/// that holds the field at `from` and its value ending at `to`.
fn same_run_names(buf: &[u8], from: usize, to: usize, line: Line, c: &Context) -> bool {
    // A `value`'s name may be its sibling's, on the line above: the run is on the value's line.
    let from = from.max(line.start);
    let lo = line.start.max(from.saturating_sub(256));
    let hi = line.end.min(to + 256);
    let start = buf[lo..from].iter().rposition(u8::is_ascii_whitespace).map_or(lo, |p| lo + p + 1);
    let end = buf[to..hi].iter().position(u8::is_ascii_whitespace).map_or(hi, |p| to + p);
    c.words.iter().any(|w| contains_ci(&buf[start..end], w))
}

/// A field's name in a buffer.
struct Field {
    start: usize,
    end: usize,
    /// Separated from its value by blanks only (a flag, `KEY value`).
    spaced: bool,
}

fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// The name of the field whose value starts at `at` on a line starting at `ls`: `name = v`,
/// `name: v`, `"name": "v"`, `name := v`, `name => v`, `config["name"] = v`, `--name=v`,
/// `--name v`, `<name>v`, a header `Name: v`; for a `value` field, its sibling's name
/// (`- name: DD_API_KEY` / `value: …`, `{"name": "DD_API_KEY", "value": …}`). `None` when the
/// value is free text.
fn field_before(buf: &[u8], ls: usize, at: usize) -> Option<Field> {
    let mut i = at;
    if i > ls && matches!(buf[i - 1], b'"' | b'\'' | b'`') {
        i -= 1;
    }
    let value_from = i;
    while i > ls && matches!(buf[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let spaced;
    if i > ls && buf[i - 1] == b'>' && !(i >= ls + 2 && buf[i - 2] == b'=') {
        // <name>value
        let end = i - 1;
        let mut s = end;
        while s > ls && name_byte(buf[s - 1]) {
            s -= 1;
        }
        return (s < end && s > ls && buf[s - 1] == b'<').then_some(Field { start: s, end, spaced: false });
    } else if i > ls && matches!(buf[i - 1], b'=' | b':' | b'>') {
        // `=`, `:`, `=>`, `:=`, `==`, and Make's `?=` / `+=`.
        i -= 1;
        if i > ls && matches!(buf[i - 1], b'=' | b':' | b'?' | b'+') {
            i -= 1;
        }
        spaced = false;
    } else if i < value_from {
        spaced = true;
    } else {
        return None;
    }
    while i > ls && matches!(buf[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i > ls && buf[i - 1] == b']' {
        i -= 1;
    }
    if i > ls && matches!(buf[i - 1], b'"' | b'\'' | b'`') {
        i -= 1;
    }
    let end = i;
    // Names are short; a run of 128 name bytes is read as its last 128.
    while i > ls && end - i < 128 && name_byte(buf[i - 1]) {
        i -= 1;
    }
    if i == end {
        return None;
    }
    let field = Field { start: i, end, spaced };
    if !spaced && buf[i..end].eq_ignore_ascii_case(b"value") {
        // The sibling's name: on this line before it, or on the line above.
        // The sibling is close by: at most 256 bytes back (this line and the one above), so long
        // lines of `value`s stay linear.
        let lo = i.saturating_sub(256);
        let above = if ls > lo { memchr::memrchr(b'\n', &buf[lo..ls - 1]).map_or(lo, |p| lo + p + 1) } else { lo };
        return sibling_name(buf, above, i).or(Some(field));
    }
    Some(field)
}

/// The value of the last `name`/`key` field in `from..to` (the name of a `value` field).
fn sibling_name(buf: &[u8], from: usize, to: usize) -> Option<Field> {
    let hay = &buf[from..to];
    let mut best = None;
    for word in [&b"name"[..], b"Name", b"NAME", b"key", b"Key", b"KEY"] {
        for p in memchr::memmem::find_iter(hay, word) {
            let mut k = from + p + word.len();
            if from + p > 0 && name_byte(buf[from + p - 1]) || k < to && name_byte(buf[k]) {
                continue;
            }
            while k < to && matches!(buf[k], b'"' | b'\'' | b' ' | b'\t') {
                k += 1;
            }
            if k >= to || !matches!(buf[k], b':' | b'=') {
                continue;
            }
            k += 1;
            while k < to && matches!(buf[k], b'"' | b'\'' | b' ' | b'\t') {
                k += 1;
            }
            let s = k;
            while k < to && name_byte(buf[k]) {
                k += 1;
            }
            if k > s && best.as_ref().is_none_or(|b: &Field| s > b.start) {
                best = Some(Field { start: s, end: k, spaced: false });
            }
        }
    }
    best
}

/// Whether a field's name says its value is a key (see [`KEY_NAMES`]).
fn key_like(name: &[u8]) -> bool {
    // The last 64 name bytes are enough: names end with what they hold.
    let mut buf = [0u8; 64];
    let n = normalize(name, &mut buf);
    let mut norm = &buf[..n];
    // `DD_API_KEY_2`, `DATADOG_API_KEY_PROD`, `api_keys`: a qualifier after the key word.
    while let [rest @ .., d] = norm
        && d.is_ascii_digit()
    {
        norm = rest;
    }
    for q in QUALIFIERS {
        if let Some(mut rest) = norm.strip_suffix(q.as_bytes()) {
            // `api_key_2_prod`: digits before the qualifier too.
            while let [r @ .., d] = rest
                && d.is_ascii_digit()
            {
                rest = r;
            }
            if KEY_NAMES.iter().any(|k| rest.ends_with(k.as_bytes())) {
                return true;
            }
        }
    }
    KEY_NAMES.iter().any(|k| norm.ends_with(k.as_bytes()))
}

/// What may follow a key word in a field's name (after digits are dropped): environments,
/// regions, generations, plurals.
const QUALIFIERS: &[&str] = &[
    "s", "prod", "production", "staging", "stage", "stg", "dev", "development", "test", "qa", "uat", "eu", "us",
    "old", "new", "next", "prev", "previous", "primary", "secondary", "backup", "local", "live", "v",
];

fn contains_ci(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Extra shape checks a class alone cannot express.
fn shaped(class: Class, token: &[u8]) -> bool {
    match class {
        Uuid => token.iter().enumerate().all(|(i, &b)| (b == b'-') == matches!(i, 8 | 13 | 18 | 23)),
        // A 40-character path or word is not an AWS secret: real ones mix cases and digits.
        Base64 => {
            token.iter().any(u8::is_ascii_uppercase)
                && token.iter().any(u8::is_ascii_lowercase)
                && token.iter().any(u8::is_ascii_digit)
        }
        Url | Alnum => {
            token.iter().any(u8::is_ascii_digit) && token.iter().any(u8::is_ascii_alphabetic) && varied(token)
        }
        Hex => varied(token),
        // Atlas public keys: eight random lowercase letters, not `changeme` or `xxxxxxxx`.
        Lower => {
            distinct_at_least(token, 5)
                && !["changeme", "disabled", "password", "username", "required"]
                    .iter()
                    .any(|w| token.eq_ignore_ascii_case(w.as_bytes()))
        }
        _ => true,
    }
}

/// Passwords in documentation's connection strings: not a leak.
const PLACEHOLDER_PASSWORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "changeme",
    "example",
    "test",
    "user",
    "username",
    "your_password",
    "yourpassword",
    "mypassword",
    "db_password",
    "dbpassword",
    // Images' and tutorials' defaults (RabbitMQ's `guest`, the Postgres image's example).
    "guest",
    "postgres",
    "root",
    "admin",
    "mysecretpassword",
];

fn placeholder_password(p: &[u8]) -> bool {
    p.len() < 3
        || matches!(p[0], b'$' | b'{' | b'<' | b'%' | b'[' | b'(')
        || p.iter().all(|&b| b == b'*' || b == b'x' || b == b'X' || b == b'.')
        || PLACEHOLDER_PASSWORDS.iter().any(|w| p.eq_ignore_ascii_case(w.as_bytes()))
}

/// Where the next `-----END ` is, remembered across the headers of one buffer: a file of a
/// million `-----BEGIN PRIVATE KEY-----` lines and no end is read once, not once per header.
#[derive(Default)]
struct EndSearch {
    /// The next end found, at or after `clear_to`.
    next: Option<usize>,
    /// Up to here there is no end (other than `next`).
    clear_to: usize,
}

impl EndSearch {
    const END: &'static [u8] = b"-----END ";

    /// The first end wholly in `from..limit`.
    fn find(&mut self, buf: &[u8], from: usize, limit: usize) -> Option<usize> {
        if let Some(e) = self.next
            && e >= from
        {
            return (e + Self::END.len() <= limit).then_some(e);
        }
        let s = from.max(self.clear_to);
        if s >= limit {
            return None;
        }
        match find(&buf[s..limit], Self::END) {
            Some(p) => {
                self.next = Some(s + p);
                self.clear_to = s + p;
                Some(s + p)
            }
            None => {
                self.next = None;
                // An end may start in the last bytes and finish past the limit.
                self.clear_to = self.clear_to.max(limit.saturating_sub(Self::END.len() - 1));
                None
            }
        }
    }
}

fn special(buf: &[u8], start: usize, end: usize, s: Special, ends: &mut EndSearch, out: &mut Vec<Detection>) {
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
            let body_end = ends.find(buf, header_end, buf.len().min(header_end + 16 * 1024)).unwrap_or(header_end);
            if body_end - header_end < 64 {
                return;
            }
            // Inside a Google service account's JSON key file, it is that account's key.
            let before = &buf[start.saturating_sub(24)..start];
            let around = &buf[start.saturating_sub(4096)..buf.len().min(body_end + 4096)];
            let gcp = find(before, b"\"private_key\"").is_some()
                && (find(around, b"\"service_account\"").is_some() || find(around, b"gserviceaccount.com").is_some());
            let (provider, kind) = if gcp { ("gcp", "service_account_key") } else { ("private_key", "private_key") };
            out.push(Detection {
                start,
                end: body_end,
                provider,
                kind,
                secret: true,
                shown_prefix: header_end - start,
                confidence: Confidence::High,
            });
        }
        Special::NewRelicLicense => {
            // 40 characters ending `NRAL`: 36 hex (`…FFFFNRAL` today, lowercase in older keys),
            // or `eu01xx` and 30 hex for the EU region.
            if &buf[start..end] != b"NRAL" || start < 36 {
                return;
            }
            let from = start - 36;
            let body = &buf[from..start];
            let hex = |b: &[u8]| b.iter().all(u8::is_ascii_hexdigit);
            let ok = (hex(body) || body.starts_with(b"eu01xx") && hex(&body[6..]))
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
                    confidence: Confidence::High,
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
                    confidence: Confidence::High,
                });
            }
        }
        Special::TerraformToken => {
            // 14 letters and digits, `.atlasv1.`, then 60–70 of `A-Za-z0-9_=-`.
            if &buf[start..end] != b".atlasv1." || start < 14 {
                return;
            }
            let from = start - 14;
            let mut j = end;
            while j < buf.len() && j - end <= 70 && (in_class(Url, buf[j]) || buf[j] == b'=') {
                j += 1;
            }
            let ok = buf[from..start].iter().all(|&b| in_class(Alnum, b))
                && (from == 0 || !wordish(buf[from - 1]))
                && (60..=70).contains(&(j - end))
                && (j >= buf.len() || !wordish(buf[j]))
                && varied(&buf[end..j]);
            if ok {
                out.push(Detection {
                    start: from,
                    end: j,
                    provider: "terraform",
                    kind: "api_token",
                    secret: true,
                    shown_prefix: 0,
                    confidence: Confidence::High,
                });
            }
        }
        Special::ConnectionString => connection_string(buf, start, end, out),
    }
}

/// `scheme://user:password@host…`: the token is the URL up to the end of its password, shown
/// up to the password. A MongoDB URL to `*.mongodb.net` is an Atlas database user's.
fn connection_string(buf: &[u8], start: usize, end: usize, out: &mut Vec<Detection>) {
    let scheme = &buf[start..end];
    // Schemes are lowercase here (the automaton is not case-sensitive); `xmongodb://` is
    // something else.
    if scheme.iter().any(u8::is_ascii_uppercase) || (start > 0 && buf[start - 1].is_ascii_alphanumeric()) {
        return;
    }
    // The authority ends at a slash, a blank, a quote or a bracket; at most 512 bytes.
    let limit = buf.len().min(end + 512);
    let auth_end = buf[end..limit]
        .iter()
        .position(|&c| {
            c.is_ascii_whitespace() || matches!(c, b'/' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'?' | b'#' | b'\\')
        })
        .map_or(limit, |p| end + p);
    let authority = &buf[end..auth_end];
    let Some(at) = memchr::memrchr(b'@', authority) else { return };
    let Some(colon) = memchr::memchr(b':', &authority[..at]) else { return };
    let user = &authority[..colon];
    let password = &authority[colon + 1..at];
    // A password that is its user's name (`postgres:postgres`) is a default, not a leak.
    if placeholder_password(password) || password.eq_ignore_ascii_case(user) {
        return;
    }
    let host = &authority[at + 1..];
    // On this machine only (`localhost`, loopback): a developer's local database, a guess.
    let host_name = host.split(|&b| b == b':' || b == b',').next().unwrap_or_default();
    let local = host.starts_with(b"[::1]")
        || [&b"localhost"[..], b"127.0.0.1", b"0.0.0.0"].iter().any(|l| host_name.eq_ignore_ascii_case(l));
    let family = match scheme {
        b"mongodb+srv://" | b"mongodb://" => "mongodb",
        b"postgres://" | b"postgresql://" => "postgres",
        b"mysql://" | b"mariadb://" => "mysql",
        b"redis://" | b"rediss://" => "redis",
        _ => "amqp",
    };
    let atlas = family == "mongodb" && host.split(|&b| b == b',').any(|h| {
        let h = h.split(|&b| b == b':').next().unwrap_or_default();
        h.len() > 12 && h[h.len() - 12..].eq_ignore_ascii_case(b".mongodb.net")
    });
    out.push(Detection {
        start,
        end: end + at,
        provider: if atlas { "mongodb_atlas" } else { family },
        kind: if atlas { "database_user_password" } else { "connection_string" },
        secret: true,
        shown_prefix: colon + 1 + (end - start),
        confidence: if local { Confidence::Low } else { Confidence::High },
    });
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<Detection> {
        let mut out = Vec::new();
        Detector::new().detect(text.as_bytes(), &mut out);
        out
    }

    fn kinds(text: &str) -> Vec<(String, String, String)> {
        found(text).iter().map(|d| (d.provider.to_owned(), d.kind.to_owned(), text[d.start..d.end].to_owned())).collect()
    }

    fn one(text: &str, provider: &str, kind: &str, token: &str) {
        let found = kinds(text);
        assert_eq!(found, vec![(provider.to_owned(), kind.to_owned(), token.to_owned())], "in {text:?}");
    }

    fn confidence(text: &str) -> Vec<Confidence> {
        found(text).iter().map(|d| d.confidence).collect()
    }

    fn charset(class: Class) -> &'static str {
        match class {
            Alnum => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            Alpha => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            Upper => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            Hex => "0123456789abcdef",
            HexAny => "0123456789abcdefABCDEF",
            Lower => "abcdefghijklmnopqrstuvwxyz0123456789",
            Base64 => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            Url => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            UrlPad => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=",
            Digit => "0123456789",
            Any64 => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-",
            Dashed => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-",
            Path => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/",
            Uuid => "0123456789abcdef",
        }
    }

    /// `n` characters of a class, varied as a random token is (a stride through its set).
    fn body(class: Class, n: usize, seed: usize) -> String {
        let set = charset(class).as_bytes();
        (0..n).map(|i| set[(i * 5 + seed) % set.len()] as char).collect()
    }

    /// A token of the format, its first run `len` long, later runs at their shortest or longest,
    /// optional parts left out.
    fn sample(pf: &Prefixed, len: usize, longest: bool) -> String {
        let mut s = format!("{}{}", pf.anchor, body(pf.class, len, 3));
        for (k, seg) in pf.tail.iter().enumerate() {
            match *seg {
                Lit(l) => s.push_str(l),
                Run(class, min, max) => s.push_str(&body(class, if longest { max } else { min }, 11 + k)),
                Opt(_) => {}
            }
        }
        s
    }

    #[test]
    fn every_prefixed_format_is_found_bounded_and_not_a_placeholder() {
        for pf in PREFIXED {
            // A format with a check of its own has its own test (`second_review_shapes`).
            if pf.check.is_some() {
                continue;
            }
            let what = format!("{} {}", pf.provider, pf.kind);
            for (len, longest) in [(pf.min, false), (pf.max, true)] {
                let token = sample(pf, len, longest);
                one(&format!("export TOKEN=\"{token}\"\n"), pf.provider, pf.kind, &token);
                // Inside a longer word on either side: not this format.
                if pf.class != Path {
                    let glued = format!("x{token}");
                    assert!(!kinds(&glued).iter().any(|k| k.1 == pf.kind), "{what}: {glued}");
                }
                if longest {
                    let longer = format!("{token}x");
                    assert!(!kinds(&longer).iter().any(|k| k.1 == pf.kind), "{what}: {longer}");
                }
            }
            let short = sample(pf, pf.min - 1, false);
            assert!(!kinds(&format!("t = {short}\n")).iter().any(|k| k.1 == pf.kind), "{what}: {short}");
            if pf.secret && pf.min >= 16 {
                let fill = if in_class(pf.class, b'x') { "x" } else { &charset(pf.class)[..1] };
                let mut placeholder = format!("{}{}", pf.anchor, fill.repeat(pf.min));
                for seg in pf.tail {
                    match *seg {
                        Lit(l) => placeholder.push_str(l),
                        Run(class, min, _) => placeholder.push_str(&charset(class)[..1].repeat(min)),
                        Opt(_) => {}
                    }
                }
                assert!(kinds(&format!("TOKEN={placeholder}\n")).is_empty(), "{what}: {placeholder}");
            }
        }
    }

    #[test]
    fn prefixes_are_case_sensitive_and_bounded() {
        assert!(kinds("akiaiosfodnn7example").is_empty());
        assert!(kinds("xAKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(kinds("AKIAIOSFODNN7EXAMPLEX").is_empty());
        assert!(kinds("lin_api_short").is_empty());
    }

    #[test]
    fn documented_shapes_of_the_named_formats() {
        // Shapes as the vendors document them (bodies made up).
        let cases = [
            ("google", "api_key", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
            ("sendgrid", "api_key", "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"),
            ("npm", "access_token", "npm_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0c"),
            ("gitlab", "personal_access_token", "glpat-Ab3dEf7hIj9kLm1nOp2q"),
            ("gitlab", "personal_access_token", "glpat-Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zCw.01.1203afake"),
            ("databricks", "access_token", "dapi0123456789abcdef0123456789abcdef-2"),
            ("huggingface", "access_token", "hf_AbcdEfghIjklMnopQrstUvwxYzabCdefGh"),
            ("shopify", "access_token", "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"),
            ("docker", "personal_access_token", "dckr_pat_Ab3dEf7hIj9kLm1nOp2qRs4tUv6"),
            ("digitalocean", "personal_access_token", &format!("dop_v1_{}", body(Hex, 64, 1))),
            ("postman", "api_key", "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01"),
        ];
        for (provider, kind, token) in cases {
            one(&format!("KEY={token}\n"), provider, kind, token);
        }
        let age = format!("AGE-SECRET-KEY-1{}", body(Upper, 58, 7));
        one(&format!("{age}\n"), "age", "secret_key", &age);
        let anthropic = format!("sk-ant-api03-{}AA", body(Url, 93, 4));
        one(&format!("ANTHROPIC_API_KEY={anthropic}\n"), "anthropic", "api_key", &anthropic);
        let azure = format!("AccountKey={}==", body(Base64, 86, 2));
        let conn = format!("DefaultEndpointsProtocol=https;AccountName=acme;{azure};EndpointSuffix=core.windows.net");
        one(&conn, "azure", "storage_account_key", &azure);
        let tf = format!("token = \"abcdefgh012345.atlasv1.{}\"", body(Url, 67, 5));
        assert_eq!(kinds(&tf)[0].0, "terraform");
    }

    #[test]
    fn a_google_service_account_key_file_is_that_account_s_key() {
        let pem = format!("-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n", body(Base64, 120, 1));
        let json = format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{pem}\",\n  \"client_email\": \"ci@acme.iam.gserviceaccount.com\"\n}}\n",
            body(Hex, 40, 2)
        );
        let got = kinds(&json);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("gcp", "service_account_key"));
        // The same block anywhere else is a private key.
        let bare = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", body(Base64, 120, 1));
        assert_eq!(kinds(&bare)[0].0, "private_key");
    }

    #[test]
    fn connection_strings_with_passwords_are_found_and_shown_without_them() {
        let text = "MONGODB_URI=mongodb+srv://app:S3cr3tPw0rd@cluster0.ab1cd.mongodb.net/prod?retryWrites=true\n";
        one(text, "mongodb_atlas", "database_user_password", "mongodb+srv://app:S3cr3tPw0rd");
        let d = &found(text)[0];
        assert_eq!(&text[d.start..d.start + d.shown_prefix], "mongodb+srv://app:");
        one("DATABASE_URL=postgres://billing:hunter2x@db.internal:5432/app", "postgres", "connection_string", "postgres://billing:hunter2x");
        one("url: redis://:Pa55w0rd@cache:6379/0", "redis", "connection_string", "redis://:Pa55w0rd");
        one("amqps://svc:Zq9xPw@mq.example.com", "amqp", "connection_string", "amqps://svc:Zq9xPw");
        // A developer's local database: a guess.
        assert_eq!(confidence("postgres://app:Zq9xPw77@localhost:5432/app"), [Confidence::Low]);
        // Not leaks: placeholders, templates, no password, someone's word `xpostgres://`.
        for decoy in [
            "postgres://user:password@localhost/db",
            "postgresql://app:${DB_PASSWORD}@db/app",
            "mongodb://admin:<password>@host",
            "mysql://root:****@127.0.0.1",
            "postgres://db.example.com/app",
            "mongodb://host1,host2/?replicaSet=rs0",
            "redis://cache:6379",
            "see xpostgres://a:b1c2d3@h",
            "amqp://guest:guest@localhost:5672/",
            "postgres://postgres:postgres@db:5432/app",
            "postgres://postgres:mysecretpassword@db",
            "mysql://root:root@127.0.0.1",
        ] {
            assert!(kinds(decoy).is_empty(), "{decoy}");
        }
    }

    const API: &str = "9f86d081884c7d659a2feaa0c55ad015";
    const APP: &str = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12";

    #[test]
    fn datadog_keys_are_the_values_of_key_fields_where_datadog_is_named() {
        one(&format!("DD_API_KEY={API}\n"), "datadog", "api_key", API);
        // YAML: the provider is the parent, two lines up.
        one(&format!("datadog:\n  site: datadoghq.eu\n  api_key: {API}\n"), "datadog", "api_key", API);
        one(&format!("dd_app_key = '{APP}'"), "datadog", "application_key", APP);
        one(&format!("[datadog]\napi_host = \"https://api.datadoghq.com\"\napp_key = \"{APP}\"\n"), "datadog", "application_key", APP);
        one(&format!("{{\n  \"datadog\": {{\n    \"site\": \"datadoghq.com\",\n    \"apiKey\": \"{API}\"\n  }}\n}}\n"), "datadog", "api_key", API);
        one(&format!("provider \"datadog\" {{\n  api_key = \"{API}\"\n  app_key = var.app\n}}\n"), "datadog", "api_key", API);
        one(&format!("curl -H \"DD-API-KEY: {API}\" https://api.datadoghq.com/api/v1/validate"), "datadog", "api_key", API);
        one(&format!("datadog-agent run --api-key {API}"), "datadog", "api_key", API);
        one(&format!("<datadog><apiKey>{API}</apiKey></datadog>"), "datadog", "api_key", API);
        // Kubernetes and ECS: the field is `value`, its name is a sibling.
        one(&format!("env:\n  - name: DD_API_KEY\n    value: \"{API}\"\n"), "datadog", "api_key", API);
        one(&format!("{{\"name\": \"DD_API_KEY\", \"value\": \"{API}\"}}"), "datadog", "api_key", API);
        // Nested deeper under the section, and a comment after the header.
        one(&format!("integrations:\n  datadog:  # prod\n    keys:\n      api_key: {API}\nother: 1\n"), "datadog", "api_key", API);
    }

    #[test]
    fn hex_ids_beside_a_provider_s_name_are_not_keys() {
        let decoys = [
            // Log lines around a pasted block: trace and span ids.
            format!("2026-11-30T10:00:00Z INFO datadog trace_id={API} span_id=1234\n"),
            format!("level=info msg=\"sent to datadog\" dd.trace_id={API}\n"),
            // Commit hashes near a comment naming the provider.
            format!("# datadog credentials rotated\nSee commit {APP} for the change.\n"),
            format!("datadog: bumped the agent (commit {APP})\n"),
            // Checksums, digests, etags, lockfile integrity, request ids.
            format!("datadog-agent.tar.gz sha256:{API}{API}\n"),
            format!("datadog:\n  image_digest: {APP}\n  etag: \"{API}\"\n  checksum: {API}\n"),
            format!("\"node_modules/dd-trace\": {{ \"integrity\": \"sha1-{APP}\", \"resolved\": \"https://r/datadog\" }}\n"),
            format!("newrelic request_id={APP}\n"),
            format!("fastly: purged surrogate key {API}\n"),
            "atlas cluster id 5f1b2c3d4e5f60718293a4b5 uuid 1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b\n".to_owned(),
            // Prose: `token` followed by a hex word is not an assignment.
            format!("The datadog token {API} was revoked.\n"),
        ];
        for text in decoys {
            assert_eq!(kinds(&text), vec![], "{text}");
        }
    }

    #[test]
    fn key_fields_a_few_lines_from_a_provider_s_name_are_guesses() {
        for text in [
            // The section ends where the indentation does: `cache`'s key only stands near.
            format!("datadog:\n  site: eu\ncache:\n  api_key: {API}\n"),
            // A comment is not a parent section.
            format!("# datadog\n\napi_key = {API}\n"),
            // Datadog's own snippet: the import names it, the dict holds the key.
            format!("from datadog import initialize\n\noptions = {{\"api_key\": \"{API}\"}}\n"),
        ] {
            assert_eq!(confidence(&text), [Confidence::Low], "{text}");
        }
        // Further than three lines: nothing.
        assert!(kinds(&format!("# datadog\n\n\n\n\napi_key = {API}\n")).is_empty());
    }

    #[test]
    fn a_file_named_for_a_provider_is_its_context() {
        // /etc/datadog-agent/datadog.yaml: the key at the top level, Datadog named in comments
        // far above it; newrelic.yml's `license_key` under an anchor.
        let agent = format!("{}api_key: {API}\n", "## @param site\n#\n# site: datadoghq.com\n\n".repeat(3));
        let mut out = Vec::new();
        Detector::new().detect_named(agent.as_bytes(), Some("datadog.yaml"), &mut out);
        assert_eq!(out.iter().map(|d| (d.kind, d.confidence)).collect::<Vec<_>>(), [("api_key", Confidence::Medium)]);
        // Without its name: nothing (`datadoghq.com` in a comment is no word of its own).
        Detector::new().detect(agent.as_bytes(), &mut out);
        assert!(out.is_empty(), "{out:?}");
        let nr = format!("common: &default_settings\n  license_key: '{APP}'\n  app_name: shop\n");
        Detector::new().detect_named(nr.as_bytes(), Some("newrelic.yml"), &mut out);
        assert_eq!(out.iter().map(|d| d.kind).collect::<Vec<_>>(), ["license_key"]);
    }

    #[test]
    fn names_with_qualifiers_flags_urls_and_other_syntaxes() {
        for text in [
            format!("DATADOG_API_KEY_PROD={API}"),
            format!("DD_API_KEY_2={API}"),
            format!("DD_API_KEY ?= {API}"),
            format!("datadog:\n  api_keys: {API}"),
            format!("Environment:\n  - Name: DD_API_KEY\n    Value: {API}\n"),
            format!("curl \"https://api.datadoghq.com/api/v1/validate?api_key={API}\""),
            format!("{{\"datadog\":{{\"apiKey\":\"{API}\"}}}}"),
            format!("datadog-agent run --api-key {API}"),
            format!("datadog:\n# the key\n  api_key: {API}\n"),
        ] {
            assert_eq!(confidence(&text), [Confidence::Medium], "{text}");
        }
        // GitHub Actions' inputs, hyphenated.
        let gha = "aws-secret-access-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(confidence(gha), [Confidence::Medium]);
        // Terraform's AWS provider: the secret next to its access key id.
        let tf = "provider \"aws\" {\n  access_key = \"AKIAIOSFODNN7EXAMPLE\"\n  secret_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n}\n";
        assert_eq!(confidence(tf), [Confidence::High, Confidence::Medium]);
    }

    #[test]
    fn second_review_shapes() {
        // Doppler: a slug and its token, or nothing (a method call, a host name).
        for st in [format!("dp.st.prd.{}", body(Alnum, 42, 3)), format!("dp.st.{}", body(Alnum, 40, 5))] {
            one(&format!("DOPPLER_TOKEN={st}"), "doppler", "service_token", &st);
        }
        assert!(kinds("x = dp.st.mean()\nurl: https://dp.st.example.com/\n").is_empty());
        // `atlas` inside `Atlassian` names nothing nearby; a file named for another tool is no context.
        let uuid = "6f1c2a9e-1b4d-4c8e-9f3a-2d5b7e8c1a04";
        assert!(kinds(&format!("# Atlassian\nwebhook_token = {uuid}\n")).is_empty());
        let mut out = Vec::new();
        Detector::new().detect_named(format!("webhook_token: {uuid}\n").as_bytes(), Some("atlassian-connect.json"), &mut out);
        assert!(out.is_empty());
        assert_eq!(confidence("postgres://app:Zq9xPw77@[::1]:5432/app"), [Confidence::Low]);
        assert_eq!(confidence(&format!("DD_API_KEY_2_PROD={API}")), [Confidence::Medium]);
    }

    #[test]
    fn an_s3cfg_file_is_aws_context() {
        let cfg = format!(
            "[default]\naccess_key = AKIAIOSFODNN7EXAMPLE\n{}secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "bucket_location = US\nhost_base = s3.amazonaws.com\n".repeat(4)
        );
        let mut out = Vec::new();
        Detector::new().detect_named(cfg.as_bytes(), Some(".s3cfg"), &mut out);
        assert_eq!(
            out.iter().map(|d| (d.kind, d.confidence)).collect::<Vec<_>>(),
            [("access_key_id", Confidence::High), ("secret_access_key", Confidence::Medium)]
        );
    }

    #[test]
    fn new_relic_license_keys_of_today() {
        for key in ["521e73ff57f3f750e78e265f181c750aFFFFNRAL", "eu01xx3dcd5aa75093308dc1fc2bcb59FFFFNRAL"] {
            one(&format!("NEW_RELIC_LICENSE_KEY={key}\n"), "newrelic", "license_key", key);
        }
    }

    #[test]
    fn terraform_tokens_are_found_whatever_stands_before_their_infix() {
        // `…Sg.atlasv1.`: `SG.` starts first, and is no SendGrid key.
        let tf = format!("Ab3dEf7hIj9kSg.atlasv1.{}", body(Url, 67, 5));
        assert_eq!(kinds(&format!("token = \"{tf}\"")), vec![("terraform".into(), "api_token".into(), tf)]);
    }

    #[test]
    fn confidence_says_how_the_provider_was_named() {
        assert_eq!(confidence("GITHUB_TOKEN=ghp_Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8zAb0c"), [Confidence::High]);
        assert_eq!(confidence(&format!("DD_API_KEY={API}")), [Confidence::Medium]);
        assert_eq!(confidence(&format!("datadog:\n  api_key: {API}")), [Confidence::Medium]);
        // The provider only elsewhere on the line: a guess.
        assert_eq!(confidence(&format!("datadog: api_key={API} env=prod")), [Confidence::Low]);
    }

    #[test]
    fn other_context_formats() {
        one("FASTLY_API_TOKEN=Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z\n", "fastly", "api_token", "Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z");
        one("fastly:\n  service: www\n  token: Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z\n", "fastly", "api_token", "Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z");
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
        // The console's CSV: no names, the id on the same line.
        let csv = kinds("Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        assert_eq!(csv.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(), ["access_key_id", "secret_access_key"]);
        one("TWILIO_AUTH_TOKEN=9f86d081884c7d659a2feaa0c55ad015\n", "twilio", "auth_token", "9f86d081884c7d659a2feaa0c55ad015");
        one("twilio:\n  api_secret: Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z\n", "twilio", "api_key_secret", "Ab3dEf7hIj9kLm1nOp2qRs4tUv6wXy8z");
    }

    #[test]
    fn a_format_beats_a_context_guess_for_the_same_bytes() {
        one(
            "FASTLY_API_TOKEN=NRAK-ABCDEFGHIJ0123456789KLMNOPQ\n",
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
GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
key: AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
webhook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
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
    fn a_section_is_followed_only_so_far() {
        // A hostile file: one header, then more lines than a section is followed.
        let mut text = String::from("datadog:\n");
        for _ in 0..SECTION_LINES + 10 {
            text.push_str("  filler: 1\n");
        }
        text.push_str(&format!("  api_key: {API}\n"));
        assert!(kinds(&text).is_empty());
        // Unbalanced braces end at the bound too.
        let braces = format!("\"datadog\": {{\n{}", "{\n".repeat(10_000));
        assert!(kinds(&braces).is_empty());
    }

    /// Inputs whose cost would grow with the square of their size if any per-candidate or
    /// per-anchor step read its whole line or searched ahead again: each is read about once
    /// (a quadratic pass over these would not finish in the test's lifetime).
    #[test]
    fn long_lines_and_repeated_anchors_stay_linear() {
        let n = 100_000;
        let mut line = String::with_capacity(n * 60);
        for k in 0..n {
            // Varied hex, so each token is a candidate that gets judged (and is no key: `value`
            // has no named sibling).
            let h = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            line.push_str(&format!("datadog value={h:016x}{:016x} AKIA{k:016} ", h.rotate_left(17)));
        }
        let mut out = Vec::new();
        Detector::new().detect(line.as_bytes(), &mut out);
        assert!(out.iter().all(|d| d.kind == "access_key_id"));
        let headers = "-----BEGIN PRIVATE KEY-----\n".repeat(n);
        Detector::new().detect(headers.as_bytes(), &mut out);
        assert!(out.is_empty());
        let sections = "datadog:\n".repeat(n);
        Detector::new().detect(sections.as_bytes(), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        let mut buf = vec![0xffu8; 10_000];
        buf.extend_from_slice(b"datadog AKIA NRAL T3BlbkFJ -----BEGIN .atlasv1. mongodb://a:b@ datadog:\n[");
        let mut out = Vec::new();
        Detector::new().detect(&buf, &mut out);
        for edge in [
            &b"NRAL"[..],
            b"T3BlbkFJ",
            b"-----BEGIN ",
            b".atlasv1.",
            b"mongodb+srv://",
            b"mongodb://u:p@",
            b"datadog:",
            b"datadog {",
            b"[datadog]",
            b"=value datadog",
            b"value: datadog",
            b"AKIAIOSFODNN7EXAMPLE",
            b"AccountKey=",
            b"SG.",
            // A `value` named by its sibling on the line above, the provider on its own line.
            b"name: API_KEY\nvalue: 9f86d081884c7d659a2feaa0c55ad015 datadog",
            b"- name: API_KEY\n  value: \"9f86d081884c7d659a2feaa0c55ad015\"  # datadog",
        ] {
            Detector::new().detect(edge, &mut out);
        }
    }
}
