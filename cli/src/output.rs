//! Printing: tables for people, JSON for scripts, a progress line on terminals, and the log file.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use keyward_core::api::SyncProgress;
use keyward_core::api::{
    CheckView, ConnectorView, ExposureView, FindingEvent, FindingView, Home, KeyView, NotKeyView, ResourceView,
    ShadowKeyView,
};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Logs go to `<home>/keyward.log` (info and up, or `KEYWARD_LOG`; private to the user) and
/// errors to stderr. The log is written only in a home that holds a vault, or that `creating`
/// commands (`init`, `demo`) make: a mistyped `--home` leaves nothing behind.
/// Nothing logged carries a secret: secrets are `Secret`s, which print `<redacted>`.
pub fn init_logging(home: &Home, creating: bool) {
    let file = (creating || home.is_initialized())
        .then(|| keyward_core::api::files::open_append(&home.dir().join("keyward.log")).ok())
        .flatten();
    let filter = || tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").unwrap_or_else(|_| "info".into());
    let file_layer = file
        .map(|f| tracing_subscriber::fmt::layer().with_ansi(false).with_writer(Mutex::new(f)).with_filter(filter()));
    let stderr_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::LevelFilter::ERROR);
    let _ = tracing_subscriber::registry().with(file_layer).with(stderr_layer).try_init();
}

fn dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The widest a table cell is shown; the full text is in `--json` and the `show` commands.
const MAX_CELL: usize = 80;

/// Text a provider or a file chose, made safe for a terminal: control characters (escape
/// sequences that recolour, move the cursor or rewrite the title), and the Unicode controls
/// that reorder text, are shown as `\u{..}` escapes instead of acting.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let acts = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars().map(|c| if acts(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect(),
    )
}

/// A table cell: terminal-safe, on one line, at most [`MAX_CELL`] characters.
fn cell(text: &str) -> String {
    let safe = terminal_safe(text).replace(['\n', '\t'], " ");
    if safe.chars().count() <= MAX_CELL {
        return safe;
    }
    let mut short: String = safe.chars().take(MAX_CELL - 1).collect();
    short.push('…');
    short
}

fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.iter().map(|c| cell(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |out: &mut std::io::StdoutLock<'_>, cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&mut out, header.iter().map(|s| s.to_string()).collect());
    for row in rows {
        line(&mut out, row);
    }
}

pub fn keys(keys: &[KeyView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(keys)?);
        return Ok(());
    }
    if keys.is_empty() {
        println!("No keys yet. Add a connector and run `keyward sync`, or register one with `keyward keys add`.");
        return Ok(());
    }
    table(
        &["ID", "PROVIDER", "ACCOUNT", "NAME", "OWNER", "STATUS", "AGE", "LAST USED", "FINDINGS", "RISK"],
        keys.iter()
            .map(|k| {
                vec![
                    k.id.clone(),
                    k.provider.clone(),
                    k.account.clone(),
                    k.name.clone(),
                    dash(&k.owner).to_owned(),
                    k.status.to_owned(),
                    k.age_days.map(|d| format!("{d}d")).unwrap_or_else(|| "-".into()),
                    match (&k.last_used_at, k.usage_tracked) {
                        (Some(t), _) => t[..10].to_owned(),
                        (None, true) => "never".into(),
                        (None, false) => "unknown".into(),
                    },
                    k.open_findings.to_string(),
                    k.risk.to_string(),
                ]
            })
            .collect(),
    );
    Ok(())
}

pub fn findings(findings: &[FindingView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(findings)?);
        return Ok(());
    }
    if findings.is_empty() {
        println!("No findings.");
        return Ok(());
    }
    table(
        &["ID", "SEVERITY", "STATE", "RULE", "PROVIDER", "ACCOUNT", "KEY", "OWNER", "DETAIL"],
        findings
            .iter()
            .map(|f| {
                vec![
                    f.id.to_string(),
                    f.severity.clone(),
                    f.state.as_str().to_owned(),
                    f.rule_id.clone(),
                    f.provider.clone(),
                    f.account.clone(),
                    match (&f.key_name, &f.external_id) {
                        (Some(name), Some(id)) if name != id => format!("{name} ({id})"),
                        (Some(name), _) => name.clone(),
                        (None, _) => f.external_id.clone().or_else(|| f.resource.clone()).unwrap_or_else(|| "-".into()),
                    },
                    dash(&f.owner).to_owned(),
                    f.detail.clone(),
                ]
            })
            .collect(),
    );
    println!("\n{} findings.", findings.len());
    Ok(())
}

/// Per practice: what its rules judge and what fails.
pub fn practices(practices: &[keyward_core::api::PracticeSummary], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(practices)?);
        return Ok(());
    }
    let tally = |t: &keyward_core::api::Tally| {
        if t.judged == 0 { "-".to_owned() } else { format!("{} of {} fail", t.failing, t.judged) }
    };
    table(
        &["PRACTICE", "KEYS", "RESOURCES", "ACCOUNTS", "CONTROLS", "RULES"],
        practices
            .iter()
            .map(|p| {
                vec![
                    p.id.clone(),
                    tally(&p.keys),
                    tally(&p.resources),
                    tally(&p.accounts),
                    if p.controls.is_empty() { "-".into() } else { p.controls.join(" ") },
                    if p.rules.is_empty() { "no rule yet".into() } else { p.rules.len().to_string() },
                ]
            })
            .collect(),
    );
    Ok(())
}

/// Scheduled jobs.
pub fn jobs(jobs: &[keyward_core::api::jobs::JobView]) {
    table(
        &["JOB", "CRON", "ON", "LAST RUN", "STATUS", "NEXT", "MESSAGE"],
        jobs.iter()
            .map(|j| {
                vec![
                    j.id.clone(),
                    j.cron.clone(),
                    if j.enabled { "yes" } else { "no" }.into(),
                    dash(&j.last_started_at).into(),
                    match &j.running_in {
                        Some(holder) => format!("running in {holder}"),
                        None => dash(&j.last_status).into(),
                    },
                    if j.enabled { dash(&j.next_fire_at).into() } else { "-".into() },
                    dash(&j.last_message).into(),
                ]
            })
            .collect(),
    );
}

/// One finding and its history.
pub fn finding(f: &FindingView, history: &[FindingEvent], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"finding": f, "history": history}))?);
        return Ok(());
    }
    let safe = |s: &str| terminal_safe(s).into_owned();
    println!("Finding {}: {} ({})", f.id, safe(&f.title), f.rule_id);
    println!("  severity   {} (adds {} to the key's risk while open)", f.severity, f.weight);
    println!(
        "  state      {}{}",
        f.state.as_str(),
        f.resolution.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
    );
    println!(
        "  subject    {} {} {}{}",
        f.provider,
        safe(&f.account),
        f.key_name.as_deref().map(|n| format!("key {} ", safe(n))).unwrap_or_default(),
        safe(f.external_id.as_deref().or(f.resource.as_deref()).unwrap_or(""))
    );
    println!("  owner      {}", safe(dash(&f.owner)));
    println!("  detail     {}", safe(&f.detail));
    println!("  first seen {}, last seen {}", f.first_seen_at, f.last_seen_at);
    println!("  what to do {}", f.remediation);
    println!("History:");
    for e in history {
        let extra = [e.severity.as_deref(), e.reason.as_deref(), e.detail.as_deref()];
        let extra: Vec<&str> = extra.into_iter().flatten().collect();
        println!("  {}  {:<12} {}", e.at, e.event, safe(&extra.join(" · ")));
    }
    Ok(())
}

pub fn connectors(connectors: &[ConnectorView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(connectors)?);
        return Ok(());
    }
    if connectors.is_empty() {
        println!(
            "No connectors. Add one with `keyward connector add PROVIDER --name NAME` (see --help), or try `keyward demo`."
        );
        return Ok(());
    }
    table(
        &["NAME", "PROVIDER", "PROFILE", "REGION", "ACCOUNT ID", "LAST SYNC"],
        connectors
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.provider.clone(),
                    dash(&c.profile).into(),
                    dash(&c.region).into(),
                    dash(&c.account_id).into(),
                    if c.settings_intact {
                        dash(&c.last_sync_at).into()
                    } else {
                        "settings changed outside Keyward: not used".into()
                    },
                ]
            })
            .collect(),
    );
    Ok(())
}

/// Posture resources.
pub fn resources(resources: &[ResourceView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(resources)?);
        return Ok(());
    }
    if resources.is_empty() {
        println!("No resources yet: API Gateway connectors list their APIs and stages after a sync.");
        return Ok(());
    }
    table(
        &["ACCOUNT", "KIND", "REGION", "NAME", "FACTS"],
        resources
            .iter()
            .map(|r| vec![r.account.clone(), r.kind.clone(), dash(&r.region).into(), r.name.clone(), facts(&r.details)])
            .collect(),
    );
    Ok(())
}

/// A resource's facts as `name=value` words (the JSON is in `--json`): lists as `a|b`, nested
/// objects as `(name=value …)`.
fn facts(details: &serde_json::Value) -> String {
    match details {
        serde_json::Value::Object(map) if !map.is_empty() => {
            map.iter().map(|(k, v)| format!("{k}={}", words(v))).collect::<Vec<_>>().join(", ")
        }
        serde_json::Value::Object(_) | serde_json::Value::Null => "-".into(),
        other => words(other),
    }
}

fn words(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        serde_json::Value::Array(items) if items.is_empty() => "none".into(),
        serde_json::Value::Array(items) => items.iter().map(words).collect::<Vec<_>>().join("|"),
        serde_json::Value::Object(map) => {
            format!("({})", map.iter().map(|(k, v)| format!("{k}={}", words(v))).collect::<Vec<_>>().join(" "))
        }
        other => other.to_string(),
    }
}

/// The checks of `connector test`.
pub fn checks(checks: &[CheckView], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(checks)?);
        return Ok(());
    }
    table(
        &["CHECK", "OK", "DETAIL"],
        checks.iter().map(|c| vec![c.what.clone(), if c.ok { "yes" } else { "NO" }.into(), c.detail.clone()]).collect(),
    );
    Ok(())
}

/// A one-line progress display on terminals, redrawn at most ten times a second.
pub struct Progress {
    enabled: bool,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Self { enabled, last: Mutex::new(None) }
    }

    pub fn update(&self, p: &SyncProgress) {
        if !self.enabled {
            return;
        }
        let mut last = self.last.lock().expect("progress lock");
        let finished = p.total == Some(p.done);
        if !finished && last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        let total = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        eprint!("\r\x1b[2K{}: {} {}{}", p.connector, p.phase, p.done, total);
    }

    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

fn place(path: &str, line: u64, revision: &Option<String>) -> String {
    match revision {
        Some(r) => format!("{path}:{line} @{}", &r[..r.len().min(10)]),
        None => format!("{path}:{line}"),
    }
}

pub fn hits(hits: &[ExposureView]) {
    if hits.is_empty() {
        println!("No keys found.");
        return;
    }
    table(
        &["PLACE", "PROVIDER", "KIND", "KEY", "MATCH", "SURE", "EXCERPT"],
        hits.iter()
            .map(|h| {
                vec![
                    place(&h.path, h.line, &h.revision),
                    h.provider.clone(),
                    h.kind.clone(),
                    h.inventory_key_id.clone().or(h.held_as.clone()).unwrap_or_else(|| "unknown".into()),
                    dash(&h.evidence).to_owned(),
                    h.confidence.as_str().to_owned(),
                    h.excerpt.clone(),
                ]
            })
            .collect(),
    );
}

pub fn exposures(list: &[ExposureView]) {
    table(
        &["ID", "PLACE", "PROVIDER", "KIND", "KEY", "SEEN", "EXCERPT"],
        list.iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    place(&e.path, e.line, &e.revision),
                    e.provider.clone(),
                    e.kind.clone(),
                    e.inventory_key_id
                        .clone()
                        .or(e.held_as.clone())
                        .or(e.shadow_key_id.clone().map(|s| format!("shadow {s}")))
                        .unwrap_or_default(),
                    e.gone_at.as_ref().map_or_else(|| e.last_seen_at.clone(), |g| format!("gone {g}")),
                    e.excerpt.clone(),
                ]
            })
            .collect(),
    );
}

pub fn not_keys(list: &[NotKeyView]) {
    if list.is_empty() {
        println!("No tokens marked not a key: `keyward shadow not-a-key ID` marks one.");
        return;
    }
    table(
        &["ID", "PROVIDER", "KIND", "TOKEN", "WHERE", "MARKED"],
        list.iter()
            .map(|n| {
                vec![
                    n.id.to_string(),
                    n.provider.clone(),
                    n.kind.clone(),
                    n.redacted.clone(),
                    dash(&n.place).to_owned(),
                    n.marked_at.clone(),
                ]
            })
            .collect(),
    );
}

pub fn shadow_keys(list: &[ShadowKeyView]) {
    if list.is_empty() {
        println!("No unknown keys found: `keyward scan` looks for them.");
        return;
    }
    table(
        &["ID", "PROVIDER", "KIND", "TOKEN", "SURE", "STATUS", "PLACES", "FIRST PLACE", "CHECKED"],
        list.iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.provider.clone(),
                    s.kind.clone(),
                    s.redacted.clone(),
                    s.confidence.map_or("-", |c| c.as_str()).to_owned(),
                    s.linked_key_id.as_ref().map_or_else(|| s.status.clone(), |k| format!("linked to {k}")),
                    s.exposures.to_string(),
                    dash(&s.first_place).to_owned(),
                    s.verify_result
                        .clone()
                        .unwrap_or_else(|| if s.checkable { "-".into() } else { "unsupported".into() }),
                ]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_cannot_drive_the_terminal() {
        assert_eq!(terminal_safe("plain name"), "plain name");
        let shown = terminal_safe("o\u{1b}[31mred\u{1b}[0m\u{7}\u{202e}gnp.exe");
        assert!(!shown.chars().any(|c| c.is_control() || c == '\u{202e}'), "{shown}");
        assert_eq!(shown, "o\\u{1b}[31mred\\u{1b}[0m\\u{7}\\u{202e}gnp.exe");
        let long = "x".repeat(5_000);
        assert_eq!(cell(&long).chars().count(), MAX_CELL);
        assert!(cell(&long).ends_with('…'));
        assert_eq!(cell("a\nb"), "a b");
    }
}
