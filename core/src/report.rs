//! Reports of findings for the places they go: JSON and CSV for scripts and spreadsheets, SARIF
//! 2.1.0 for code-scanning UIs, OCSF Detection Findings (class 2004) for a SIEM, and a
//! self-contained HTML evidence report (no scripts, no external files) with a chart per provider
//! and per rule.
//!
//! Every format carries, per finding: the key (name and provider id), provider, account, owner,
//! rule, severity, state, remediation, and the practices and benchmark controls it breaks (see
//! [`crate::audit::practice`]); the HTML report adds, per practice, what passes and fails. Nothing here reads a secret; text from providers (key
//! names, details) is escaped for the format it lands in, and CSV cells that a spreadsheet would
//! run as a formula are neutralised.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::audit::Severity;
use crate::audit::practice::{self, PracticeSummary};
use crate::audit::rules::ALL_RULES;
use crate::findings::{FindingView, State};
use crate::time;

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of findings.
    Json,
    /// One row per finding.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
    /// A JSON array of OCSF Detection Finding events.
    Ocsf,
    /// One self-contained HTML page.
    Html,
}

impl Format {
    /// Parses `json`, `csv`, `sarif`, `ocsf` or `html`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "json" => Format::Json,
            "csv" => Format::Csv,
            "sarif" => Format::Sarif,
            "ocsf" => Format::Ocsf,
            "html" => Format::Html,
            _ => return None,
        })
    }
}

/// A finding with the name of its key, as reports show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportRow {
    /// The finding (its key's name included).
    #[serde(flatten)]
    pub finding: FindingView,
    /// Exposure findings: the files (and lines) where the key sits now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<ReportPlace>,
}

/// A file and line of an exposure finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReportPlace {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// The commit, for a key in git history.
    pub revision: Option<String>,
}

fn subject(r: &ReportRow) -> String {
    let f = &r.finding;
    match (&f.external_id, &f.resource, &f.owner) {
        (Some(id), _, _) => id.clone(),
        (None, Some(res), _) => res.clone(),
        (None, None, Some(o)) if f.key_id.is_none() => format!("owner {o}"),
        _ => r.finding.key_name.clone().unwrap_or_else(|| f.account.clone()),
    }
}

/// Renders `rows` (generated at `now`) in `format`; `practices` is the standing of each practice
/// (the HTML report's practice section).
pub fn render(format: Format, rows: &[ReportRow], practices: &[PracticeSummary], now: DateTime<Utc>) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(rows).expect("rows serialize") + "\n",
        Format::Csv => csv(rows),
        Format::Sarif => serde_json::to_string_pretty(&sarif(rows)).expect("sarif serializes") + "\n",
        Format::Ocsf => serde_json::to_string_pretty(&ocsf(rows, now)).expect("ocsf serializes") + "\n",
        Format::Html => html(rows, practices, now),
    }
}

// ---------------------------------------------------------------- CSV

const CSV_HEADER: [&str; 19] = [
    "id",
    "severity",
    "state",
    "rule_id",
    "title",
    "provider",
    "account",
    "key_name",
    "external_id",
    "resource",
    "owner",
    "detail",
    "remediation",
    "weight",
    "first_seen_at",
    "last_seen_at",
    "resolution",
    "practices",
    "controls",
];

/// RFC 4180 quoting; a cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR first) gets
/// a leading apostrophe (OWASP's CSV-injection advice).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn csv(rows: &[ReportRow]) -> String {
    let mut out = CSV_HEADER.join(",") + "\r\n";
    for r in rows {
        let f = &r.finding;
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            f.id.to_string(),
            f.severity.clone(),
            f.state.as_str().to_owned(),
            f.rule_id.clone(),
            f.title.clone(),
            f.provider.clone(),
            f.account.clone(),
            o(&r.finding.key_name),
            o(&f.external_id),
            o(&f.resource),
            o(&f.owner),
            f.detail.clone(),
            f.remediation.clone(),
            f.weight.to_string(),
            f.first_seen_at.clone(),
            f.last_seen_at.clone(),
            o(&f.resolution),
            f.practices.join(" "),
            f.controls.join(" "),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

// ---------------------------------------------------------------- SARIF

fn sarif_level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like, 0–10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn sarif(rows: &[ReportRow]) -> Value {
    let rules: Vec<Value> = ALL_RULES
        .iter()
        .map(|r| {
            let m = r.meta();
            // Code-scanning UIs filter by tag: the practices and controls are tags too.
            let tags: Vec<&str> = ["security", "secrets"]
                .into_iter()
                .chain(m.practice_ids())
                .chain(m.controls.iter().map(|c| c.control))
                .collect();
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": {"text": m.title},
                "fullDescription": {"text": m.rationale},
                "help": {"text": m.remediation, "markdown": format!("**What to do:** {}", m.remediation)},
                "helpUri": m.references.first().copied().unwrap_or("https://github.com/keyward"),
                "defaultConfiguration": {"level": sarif_level(m.severity.as_str())},
                "properties": {
                    "security-severity": security_severity(m.severity),
                    "tags": tags,
                    "practices": m.practice_ids(),
                    "controls": m.controls.iter().map(|c| c.control).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let results: Vec<Value> = rows
        .iter()
        .map(|r| {
            let f = &r.finding;
            let what = subject(r);
            let uri = format!("keyward/{}/{}/{}", f.provider, f.account, what.replace(['/', ' '], "_"));
            let logical = json!([{
                "name": what,
                "fullyQualifiedName": format!("{}/{}/{}", f.provider, f.account, what),
                "kind": if f.resource.is_some() { "resource" } else { "member" },
            }]);
            // A key found in files points at the files and lines; anything else at the key.
            let locations: Vec<Value> = if r.places.is_empty() {
                vec![json!({"physicalLocation": {"artifactLocation": {"uri": uri}}, "logicalLocations": logical})]
            } else {
                r.places
                    .iter()
                    .map(|p| {
                        let file = reqwest::Url::from_file_path(&p.path)
                            .map_or_else(|()| p.path.clone(), |u| u.to_string());
                        json!({
                            "physicalLocation": {"artifactLocation": {"uri": file}, "region": {"startLine": p.line}},
                            "logicalLocations": logical,
                        })
                    })
                    .collect()
            };
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(&f.severity),
                "message": {"text": format!("{}: {} ({} {}). {}", f.title, f.detail, f.provider, what, f.remediation)},
                "locations": locations,
                "partialFingerprints": {"keywardFinding/v1": format!("{}|{}|{}|{}", f.rule_id, f.provider, f.account, what)},
                "properties": {
                    "severity": f.severity,
                    "state": f.state.as_str(),
                    "provider": f.provider,
                    "account": f.account,
                    "owner": f.owner,
                    "keyName": r.finding.key_name,
                    "firstSeen": f.first_seen_at,
                    "lastSeen": f.last_seen_at,
                    "weight": f.weight,
                    "practices": f.practices,
                    "controls": f.controls,
                },
            });
            if let Some(i) = crate::audit::rules::position(&f.rule_id) {
                result["ruleIndex"] = json!(i);
            }
            if matches!(f.state, State::Acknowledged | State::Snoozed) {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": f.note.clone().unwrap_or_else(|| f.state.as_str().to_owned()),
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Keyward",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keyward/keyward",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

// ---------------------------------------------------------------- OCSF

fn ms(s: &str) -> Option<i64> {
    time::parse(s).map(|t| t.timestamp_millis())
}

fn ocsf(rows: &[ReportRow], now: DateTime<Utc>) -> Value {
    let events: Vec<Value> = rows
        .iter()
        .map(|r| {
            let f = &r.finding;
            let m = crate::audit::rules::meta_of(&f.rule_id);
            let (severity_id, severity) = match f.severity.as_str() {
                "critical" => (5, "Critical"),
                "high" => (4, "High"),
                "medium" => (3, "Medium"),
                _ => (2, "Low"),
            };
            let (status_id, status) = match f.state {
                State::Open => (1, "New"),
                State::Acknowledged => (2, "In Progress"),
                State::Snoozed => (3, "Suppressed"),
                State::Resolved => (4, "Resolved"),
            };
            let (activity_id, activity) = if f.state == State::Resolved {
                (3, "Close")
            } else if f.first_seen_at == f.last_seen_at {
                (1, "Create")
            } else {
                (2, "Update")
            };
            let what = subject(r);
            let mut resource = json!({
                "uid": what,
                "name": r.finding.key_name.clone().unwrap_or_else(|| what.clone()),
                "type": if f.resource.is_some() { "API Gateway resource" } else if f.key_id.is_some() { "API Key" } else { "Account" },
                "labels": [format!("provider:{}", f.provider), format!("account:{}", f.account)],
                "data": {"provider": f.provider, "account": f.account, "owner": f.owner, "keyward_key_id": f.key_id},
            });
            if let Some(partition) = keyward_connectors::providers::get(&f.provider).and_then(|p| p.cloud_partition) {
                resource["cloud_partition"] = json!(partition);
            }
            json!({
                "activity_id": activity_id,
                "activity_name": activity,
                "category_uid": 2,
                "category_name": "Findings",
                "class_uid": 2004,
                "class_name": "Detection Finding",
                "type_uid": 200400 + activity_id,
                "type_name": format!("Detection Finding: {activity}"),
                "severity_id": severity_id,
                "severity": severity,
                "status_id": status_id,
                "status": status,
                "time": ms(&f.last_seen_at).unwrap_or_else(|| now.timestamp_millis()),
                "message": format!("{}: {}", f.title, f.detail),
                "metadata": {
                    "product": {"name": "Keyward", "vendor_name": "Keyward", "version": env!("CARGO_PKG_VERSION"), "uid": "keyward"},
                    "version": "1.3.0",
                    "uid": format!("keyward-finding-{}", f.id),
                },
                "finding_info": {
                    "uid": format!("{}|{}|{}|{}", f.rule_id, f.provider, f.account, what),
                    "title": f.title,
                    "desc": f.detail,
                    "types": [f.rule_id],
                    "first_seen_time": ms(&f.first_seen_at),
                    "last_seen_time": ms(&f.last_seen_at),
                    "analytic": {"uid": f.rule_id, "name": f.rule_id, "type_id": 1, "type": "Rule", "desc": m.map(|m| m.rationale)},
                },
                "resources": [resource],
                "remediation": {"desc": f.remediation, "references": m.map(|m| m.references.to_vec()).unwrap_or_default()},
                "risk_score": f.weight,
                "comment": f.note,
                // OCSF's Detection Finding has no compliance object; like Prowler's output, the
                // mapping goes in `unmapped`: benchmark → control numbers.
                "unmapped": {
                    "keyward_state": f.state.as_str(),
                    "resolution": f.resolution,
                    "practices": f.practices,
                    "compliance": practice::controls_by_benchmark(&f.controls),
                },
            })
        })
        .collect();
    Value::Array(events)
}

// ---------------------------------------------------------------- HTML

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const SEVERITIES: [(&str, &str); 4] =
    [("critical", "#7f1d1d"), ("high", "#dc2626"), ("medium", "#f59e0b"), ("low", "#60a5fa")];

/// A horizontal stacked bar chart (one bar per label, stacked by severity), as inline SVG.
fn chart(title: &str, counts: &BTreeMap<String, BTreeMap<String, usize>>) -> String {
    let mut bars: Vec<(&String, &BTreeMap<String, usize>, usize)> =
        counts.iter().map(|(k, v)| (k, v, v.values().sum())).collect();
    bars.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let max = bars.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (230.0, 420.0, 22.0);
    let height = row_h * bars.len() as f64 + 10.0;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{height}\" \
         viewBox=\"0 0 {} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(title),
        esc(title),
        label_w + bar_w + 60.0,
        label_w + bar_w + 60.0
    );
    for (i, (label, by_sev, total)) in bars.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            label_w - 6.0,
            y + 13.0,
            esc(label)
        );
        let mut x = label_w;
        for (sev, color) in SEVERITIES {
            let n = by_sev.get(sev).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"><title>{} {sev}: {n}</title></rect>",
                esc(label)
            );
            x += w;
        }
        let _ = write!(svg, "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{total}</text>", x + 4.0, y + 13.0);
    }
    svg.push_str("</svg></figure>");
    svg
}

fn html(rows: &[ReportRow], practices: &[PracticeSummary], now: DateTime<Utc>) -> String {
    let mut by_provider: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_rule: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut by_severity: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        let f = &r.finding;
        *by_provider.entry(f.provider.clone()).or_default().entry(f.severity.clone()).or_default() += 1;
        *by_rule.entry(f.rule_id.clone()).or_default().entry(f.severity.clone()).or_default() += 1;
        *by_severity.entry(SEVERITIES.iter().find(|(s, _)| *s == f.severity).map_or("low", |(s, _)| s)).or_default() +=
            1;
    }
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Keyward findings report</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#111}}
h1{{font-size:1.4rem}} table{{border-collapse:collapse;width:100%;margin-top:1rem}}
th,td{{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}}
th{{background:#f4f4f5}} .sev{{font-weight:600;text-transform:uppercase;font-size:.75rem}}
.critical{{color:#7f1d1d}} .high{{color:#dc2626}} .medium{{color:#b45309}} .low{{color:#2563eb}}
.summary span{{display:inline-block;margin-right:1.5rem}} figure{{margin:1rem 0}} figcaption{{font-weight:600}}
.charts{{display:flex;flex-wrap:wrap;gap:2rem}} small{{color:#555}} h2{{font-size:1.15rem;margin-top:2rem}}
.fail{{color:#b91c1c;font-weight:600}} .pass{{color:#15803d}} td.num{{white-space:nowrap}}
</style></head><body>
<h1>Keyward findings report</h1>
<p><small>Generated {} by Keyward {} · {} findings</small></p>
<p class="summary">"#,
        esc(&time::to_string(now)),
        env!("CARGO_PKG_VERSION"),
        rows.len()
    );
    for (sev, _) in SEVERITIES {
        let _ = write!(out, "<span class=\"sev {sev}\">{sev}: {}</span>", by_severity.get(sev).copied().unwrap_or(0));
    }
    out.push_str("</p>\n<div class=\"charts\">");
    out.push_str(&chart("Findings per provider", &by_provider));
    out.push_str(&chart("Findings per rule", &by_rule));
    out.push_str("</div>\n");
    practice_section(&mut out, rows, practices);
    out.push_str(
        "<h2 id=\"findings\">Findings</h2>\n<table><thead><tr><th>Severity</th><th>State</th><th>Rule</th><th>Provider / account</th>\
<th>Key</th><th>Owner</th><th>Detail</th><th>What to do</th></tr></thead><tbody>\n",
    );
    for r in rows {
        let f = &r.finding;
        let key = match (&r.finding.key_name, &f.external_id) {
            (Some(n), Some(id)) if n != id => format!("{}<br><small>{}</small>", esc(n), esc(id)),
            _ => esc(&subject(r)),
        };
        let _ = writeln!(
            out,
            "<tr id=\"finding-{}\"><td class=\"sev {sev}\">{sev}</td><td>{}</td><td>{}<br><small>{}</small>{}</td><td>{} / {}</td>\
             <td>{key}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.id,
            esc(f.state.as_str()),
            esc(&f.title),
            esc(&f.rule_id),
            mapping(&f.practices, &f.controls),
            esc(&f.provider),
            esc(&f.account),
            esc(f.owner.as_deref().unwrap_or("—")),
            esc(&f.detail),
            esc(&f.remediation),
            sev = esc(&f.severity),
        );
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}

/// A finding's practices and controls, under its rule.
fn mapping(practices: &[String], controls: &[String]) -> String {
    let mut out = String::new();
    if !practices.is_empty() {
        let _ = write!(out, "<br><small>practice: {}</small>", esc(&practices.join(", ")));
    }
    if !controls.is_empty() {
        let names: Vec<String> = controls
            .iter()
            .map(|c| practice::control(c).map_or_else(|| c.clone(), |c| format!("{} {}", short_benchmark(c), c.number)))
            .collect();
        let _ = write!(out, "<br><small>breaks: {}</small>", esc(&names.join(", ")));
    }
    out
}

fn short_benchmark(c: &practice::Control) -> &'static str {
    if c.id.starts_with("cis-") { "CIS AWS" } else { "AWS FSBP" }
}

fn tally(t: &practice::Tally) -> String {
    if t.judged == 0 {
        return "—".to_owned();
    }
    let pass = t.judged - t.failing;
    let fail = if t.failing > 0 { format!("<span class=\"fail\">{} fail</span>", t.failing) } else { "0 fail".into() };
    format!("<span class=\"pass\">{pass} pass</span> · {fail}")
}

/// Per practice: how many keys, resources and accounts its rules judge, how many fail, the
/// controls behind it, and links down to the findings in this report that break it.
fn practice_section(out: &mut String, rows: &[ReportRow], practices: &[PracticeSummary]) {
    if practices.is_empty() {
        return;
    }
    let in_report = |p: &PracticeSummary| -> Vec<&ReportRow> {
        rows.iter().filter(|r| r.finding.practices.contains(&p.id)).collect()
    };
    out.push_str(
        "<h2 id=\"practices\">Practices</h2>\n<p><small>Counted over everything the rules judge now and every \
firing finding; the links go to the findings in this report.</small></p>\n<table><thead><tr><th>Practice</th><th>Keys</th><th>Resources</th>\
<th>Accounts</th><th>Benchmark controls</th><th>Rules</th></tr></thead><tbody>\n",
    );
    for p in practices {
        let in_report = in_report(p);
        let name = if in_report.is_empty() {
            esc(&p.title)
        } else {
            format!("<a href=\"#practice-{}\">{}</a>", esc(&p.id), esc(&p.title))
        };
        let rules = if p.rules.is_empty() { "no rule yet".to_owned() } else { esc(&p.rules.join(", ")) };
        let controls: Vec<String> = p
            .controls
            .iter()
            .filter_map(|c| practice::control(c))
            .map(|c| format!("{} {}", short_benchmark(c), c.number))
            .collect();
        let _ = writeln!(
            out,
            "<tr><td>{name}<br><small>{}</small></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td><td><small>{rules}</small></td></tr>",
            esc(&p.id),
            tally(&p.keys),
            tally(&p.resources),
            tally(&p.accounts),
            esc(&controls.join(", ")),
        );
    }
    out.push_str("</tbody></table>\n");
    for p in practices {
        let in_report = in_report(p);
        if in_report.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<h3 id=\"practice-{}\">{}: {} findings</h3><ul>",
            esc(&p.id),
            esc(&p.title),
            in_report.len()
        );
        for r in in_report {
            let f = &r.finding;
            let what = r.finding.key_name.clone().unwrap_or_else(|| subject(r));
            let _ = writeln!(
                out,
                "<li><a href=\"#finding-{}\">{}</a> <small>{} · {} / {}</small></li>",
                f.id,
                esc(&what),
                esc(&f.rule_id),
                esc(&f.provider),
                esc(&f.account)
            );
        }
        out.push_str("</ul>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rule: &str, name: &str, detail: &str) -> ReportRow {
        ReportRow {
            finding: FindingView {
                id: 1,
                rule_id: rule.into(),
                severity: "high".into(),
                weight: 10,
                state: State::Open,
                key_id: Some("kw-1".into()),
                provider: "datadog".into(),
                account: "prod".into(),
                external_id: Some("abc".into()),
                owner: Some("ada@example.com".into()),
                resource: None,
                title: "Title".into(),
                detail: detail.into(),
                remediation: "Fix it".into(),
                first_seen_at: "2026-06-01T12:00:00Z".into(),
                last_seen_at: "2026-06-01T12:00:00Z".into(),
                snoozed_until: None,
                resolution: None,
                note: None,
                key_name: Some(name.into()),
                practices: vec!["authentication".into()],
                controls: vec!["cis-aws-1.14".into()],
            },
            places: Vec::new(),
        }
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let out = csv(&[row("key_unused", "=HYPERLINK(\"http://x\")", "a, \"b\"\nc")]);
        let line = out.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{line}");
        assert!(out.contains("\"a, \"\"b\"\"\nc\""), "{out}");
        assert_eq!(out.lines().next().unwrap().split(',').count(), CSV_HEADER.len());
    }

    #[test]
    fn html_escapes_provider_text_and_has_no_script() {
        let rows = [row("key_unused", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>")];
        let practices = practice::summarise(&crate::audit::Snapshot::default(), &[]);
        let out = html(&rows, &practices, Utc::now());
        assert!(!out.contains("<script") && !out.contains("<img"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(out.contains("Findings per provider") && out.contains("Findings per rule"));
    }

    #[test]
    fn html_lists_every_practice_and_links_a_finding_from_the_practices_it_breaks() {
        let rows = [row("key_unused", "old-key", "unused for 90 days")];
        let practices = practice::summarise(&crate::audit::Snapshot::default(), &[]);
        let out = html(&rows, &practices, Utc::now());
        for p in crate::audit::practice::ALL_PRACTICES {
            assert!(out.contains(p.title()), "{} missing", p.id());
        }
        // The row says authentication (see `row`): the practice links down to the finding.
        assert!(out.contains("<a href=\"#practice-authentication\">"), "{out}");
        assert!(out.contains("<h3 id=\"practice-authentication\">"));
        assert!(out.contains("<a href=\"#finding-1\">old-key</a>"));
        assert!(out.contains("<tr id=\"finding-1\">"));
        assert!(out.contains("CIS AWS 1.14"), "the control is named under the rule");
        assert!(!out.contains("<a href=\"#practice-encryption\">"), "no link to a practice without findings here");
    }
}
