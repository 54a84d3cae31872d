//! The inventory's table: every key's row, held by the desktop shell, filtered, sorted, counted
//! and exported here, so the window is sent only the rows in sight. A window that held every row
//! kept ~21 MiB of them at 10,000 keys and parsed 64 MB of JSON at 100,000 (docs/benchmarks.md);
//! and "the keys behind this number" (the dashboard's counts) and "the keys this table shows"
//! (its filters) are one computation, in one place.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{KeyRow, RiskMark, Vault};
use crate::audit::Severity;
use crate::{Error, time};

const DAY_MS: i64 = 86_400_000;
/// Days without use after which a key counts as unused.
pub const UNUSED_DAYS: i64 = 90;
/// The expiry windows the dashboard counts, in days.
pub const EXPIRY_WINDOWS: [u32; 3] = [1, 7, 30];

/// Which keys the inventory shows: every field set must hold (all keys when none is). The
/// window's filters, saved filters and the dashboard's drill-downs all speak it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export, optional_fields))]
pub struct KeyFilter {
    /// Text found (ignoring case) in its provider, connector, name, owner, id, status or tags.
    pub query: Option<String>,
    /// Provider id.
    pub provider: Option<String>,
    /// Connector name.
    pub account: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// `active` or `inactive`.
    pub status: Option<String>,
    /// Risk band.
    pub risk: Option<RiskBand>,
    /// Age band.
    pub age: Option<AgeBand>,
    /// Expires within this many days (and has not expired yet).
    pub expires_within: Option<u32>,
    /// Has expired.
    pub expired: Option<bool>,
    /// Has an open finding (its own or its owner's) of this rule.
    pub rule: Option<String>,
    /// Has an open finding of this severity.
    pub severity: Option<String>,
    /// Carries this tag.
    pub tag: Option<String>,
    /// Keyward holds its secret (true) or does not (false).
    pub managed: Option<bool>,
    /// Last use.
    pub usage: Option<Usage>,
    /// Found in files by the scan.
    pub exposed: Option<bool>,
    /// Has open findings.
    pub risky: Option<bool>,
    /// Leave out keys whose findings are all acknowledged or snoozed, and expired keys.
    pub hide_settled: Option<bool>,
    /// Exactly these keys (a drill-down the fields above cannot say).
    pub ids: Option<Vec<String>>,
}

/// Key age bands, as the dashboard's histogram draws them: [min, max) days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub enum AgeBand {
    /// Under 30 days.
    #[serde(rename = "0-30")]
    Under30,
    /// 30 to 90 days.
    #[serde(rename = "30-90")]
    Under90,
    /// 90 to 180 days.
    #[serde(rename = "90-180")]
    Under180,
    /// 180 to 365 days.
    #[serde(rename = "180-365")]
    Under365,
    /// A year or more.
    #[serde(rename = "365+")]
    Older,
    /// The provider gave no creation time.
    #[serde(rename = "unknown")]
    Unknown,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 6] =
        [AgeBand::Under30, AgeBand::Under90, AgeBand::Under180, AgeBand::Under365, AgeBand::Older, AgeBand::Unknown];

    /// The band of a key `days` old (a provider's clock ahead of ours makes a key new).
    pub fn of(days: Option<i64>) -> AgeBand {
        match days.map(|d| d.max(0)) {
            None => AgeBand::Unknown,
            Some(0..30) => AgeBand::Under30,
            Some(30..90) => AgeBand::Under90,
            Some(90..180) => AgeBand::Under180,
            Some(180..365) => AgeBand::Under365,
            Some(_) => AgeBand::Older,
        }
    }
}

/// Risk bands over a key's risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub enum RiskBand {
    /// 0.
    None,
    /// 1–4.
    Low,
    /// 5–9.
    Medium,
    /// 10 and over.
    High,
}

impl RiskBand {
    fn holds(self, risk: u32) -> bool {
        match self {
            RiskBand::None => risk == 0,
            RiskBand::Low => (1..=4).contains(&risk),
            RiskBand::Medium => (5..=9).contains(&risk),
            RiskBand::High => risk >= 10,
        }
    }
}

/// Last use, as the dashboard counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub enum Usage {
    /// The provider tracks use and saw none.
    Never,
    /// Not used for [`UNUSED_DAYS`] days.
    Unused,
    /// Used within them.
    Used,
    /// The provider does not report use.
    Unknown,
}

/// A column the inventory sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub enum SortColumn {
    /// Risk score, then open findings.
    Risk,
    /// Provider id.
    Provider,
    /// Connector.
    Account,
    /// Name.
    Name,
    /// Owner.
    Owner,
    /// Status.
    Status,
    /// Age.
    Age,
    /// Last use.
    LastUsed,
    /// Expiry.
    Expires,
}

/// The inventory's order: a column and a direction. Missing values go last either way; ties go
/// by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export, rename = "KeySort"))]
pub struct KeySort {
    /// The column.
    pub column: SortColumn,
    /// Largest first.
    pub descending: bool,
}

impl Default for KeySort {
    fn default() -> Self {
        KeySort { column: SortColumn::Risk, descending: true }
    }
}

/// What filtering and sorting a row needs, computed once per table: texts by their place among
/// the table's distinct ones ([`Words`], in text order, so a place sorts as its text does).
struct Facts {
    provider: u32,
    account: u32,
    /// `NONE` when it has none.
    owner: u32,
    active: bool,
    risk: u32,
    open_findings: u32,
    age_days: Option<i64>,
    last_used: Option<i64>,
    expires: Option<i64>,
    /// Its place in name order.
    name_rank: u32,
    /// Open findings' severities, one bit each ([`severity_bit`]).
    severities: u8,
    has_secret: bool,
    usage_tracked: bool,
    settled: bool,
    /// Found in files by the scan.
    exposed: bool,
    /// Which optional texts it has, one bit per place in `TEXTS`.
    present: u8,
    /// Its tags (places in `Words`) and its risk's parts: these ranges of `KeyTable::tags` and
    /// `KeyTable::parts`.
    tags: (u32, u32),
    parts: (u32, u32),
    /// Its kind, where it was last used (service, region) and what a check said: places in
    /// `Words::others`.
    kind: u32,
    service: u32,
    region: u32,
    check: u32,
}

/// A part of a key's risk: its rule (a place in `Words::rules`), severity and weight.
struct Part {
    rule: u32,
    severity: Option<Severity>,
    weight: u32,
}

/// The texts kept per row in `KeyTable::texts`, in this order (`None` is kept as an empty text
/// and a missing bit in `Facts::present`).
const TEXTS: usize = 6;
const ID: usize = 0;
const NAME: usize = 1;
const EXTERNAL_ID: usize = 2;
const CREATED_AT: usize = 3;
const LAST_USED_AT: usize = 4;
const EXPIRES_AT: usize = 5;

const NONE: u32 = u32::MAX;

/// Severities, worst first, as the dashboard lists them.
const SEVERITIES: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// A severity's bit in `Facts::severities`.
fn bit(severity: Severity) -> u8 {
    1 << severity as u8
}

/// The bit of a severity's text; 0 for a text that names none.
fn severity_bit(severity: &str) -> u8 {
    Severity::parse(severity).map_or(0, bit)
}

/// The table's distinct texts, each list in text order.
#[derive(Default)]
struct Words {
    providers: Vec<String>,
    accounts: Vec<String>,
    owners: Vec<String>,
    tags: Vec<String>,
    rules: Vec<String>,
    /// Kinds, services, regions and check results, in the order first met.
    others: Vec<String>,
}

/// The place of `word` in `words` (sorted); `NONE` when absent, which no row has.
fn place(words: &[String], word: &str) -> u32 {
    words.binary_search_by(|w| w.as_str().cmp(word)).map_or(NONE, |i| i as u32)
}

/// Texts one after another in one allocation, the `i`th ending at `ends[i]`: a table of 100,000
/// keys is a few large blocks, given back whole when the table goes, not 2 million small ones
/// that leave the shell's heap in pieces.
#[derive(Default)]
struct Texts {
    text: String,
    ends: Vec<u32>,
}

impl Texts {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(u32::try_from(self.text.len()).expect("a table under 4 GiB"));
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// The rows a filter and an order picked, kept for the next page of them (a scroll asks for
/// another slice of the same selection).
struct Selection {
    filter: KeyFilter,
    sort: KeySort,
    rows: Vec<u32>,
}

/// Every key's row, as [`super::list_key_rows`] lists them at `now`, with what filtering them
/// needs. Filters that depend on the time (expiry windows, last use) are judged at `now`, so the
/// counts and the rows they open agree. A row is kept in pieces (its own texts side by side, the
/// texts many rows share once) and put together again when sent: at 10,000 keys it added 4 MiB to
/// the shell, where the rows kept as structs added 23 (docs/benchmarks.md).
pub struct KeyTable {
    /// Each row's own texts, `TEXTS` of them per row.
    texts: Texts,
    /// Each row's lowercased text a search matches.
    hay: Texts,
    facts: Vec<Facts>,
    words: Words,
    /// The rows' tags, as places in `words`, and their risk's parts (see [`Facts::tags`]).
    tags: Vec<u32>,
    parts: Vec<Part>,
    now: i64,
    /// The last order asked for, and the last selection.
    order: Option<(KeySort, Vec<u32>)>,
    selection: Option<Selection>,
}

/// Distinct values of the rows' fields, for the filter menus.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyFacets {
    /// Providers.
    pub providers: Vec<String>,
    /// Connectors.
    pub accounts: Vec<String>,
    /// Owners.
    pub owners: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Rules of open findings (the keys' own and their owners').
    pub rules: Vec<String>,
}

/// A count of keys under a name.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyTally {
    /// What is counted: a provider, a severity, an age band, a window in days.
    pub name: String,
    /// How many keys.
    pub keys: usize,
}

/// The health dashboard's numbers. Each is the number of rows a [`KeyFilter`] shows (the test
/// below checks every one), so every number opens to exactly its keys.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyCounts {
    /// Every key.
    pub total: usize,
    /// Per provider, most keys first.
    pub by_provider: Vec<KeyTally>,
    /// Keys with an open finding of each severity, critical first (`severity`).
    pub by_severity: Vec<KeyTally>,
    /// Per age band, youngest first, by the band's id (`age`).
    pub by_age: Vec<KeyTally>,
    /// Expired keys (`expired`).
    pub expired: usize,
    /// Expiring within 1, 7 and 30 days, by the days (`expiresWithin`).
    pub expiring: Vec<KeyTally>,
    /// Unused for 90 days (`usage: unused`).
    pub unused: usize,
    /// Never used (`usage: never`).
    pub never_used: usize,
    /// With any open finding (`risky`).
    pub at_risk: usize,
    /// Their risk scores summed.
    pub total_risk: u64,
}

/// What the window shows of a table when it is built: the menus and the dashboard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyTableSummary {
    /// Which table this is: a page of rows says which table it came from.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub generation: u64,
    /// Distinct values, for the filter menus.
    pub facets: KeyFacets,
    /// The dashboard's numbers.
    pub counts: KeyCounts,
}

/// A slice of the rows a filter and order pick.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(export))]
pub struct KeyTablePage {
    /// The table they came from.
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub generation: u64,
    /// How many rows the filter keeps.
    pub shown: usize,
    /// How many keys there are.
    pub total: usize,
    /// The place of the first row sent among those kept.
    pub first: usize,
    /// The rows from `first` on.
    pub rows: Vec<KeyRow>,
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// RFC 4180, one line per key.
    Csv,
    /// An array of objects.
    Json,
}

/// The exported columns: what the table shows, never a secret.
#[derive(Serialize)]
struct ExportRow {
    id: String,
    provider: String,
    account: String,
    external_id: Option<String>,
    name: String,
    owner: Option<String>,
    status: String,
    kind: Option<String>,
    created_at: Option<String>,
    age_days: Option<i64>,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    risk: u32,
    open_findings: usize,
    tags: Vec<String>,
}

impl From<KeyRow> for ExportRow {
    fn from(k: KeyRow) -> Self {
        ExportRow {
            id: k.id,
            provider: k.provider,
            account: k.account,
            external_id: k.external_id,
            name: k.name,
            owner: k.owner,
            status: k.status.to_owned(),
            kind: k.kind,
            created_at: k.created_at,
            age_days: k.age_days,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            risk: k.risk,
            open_findings: k.open_findings,
            tags: k.tags,
        }
    }
}

const EXPORT_COLUMNS: &str = "id,provider,account,external_id,name,owner,status,kind,created_at,age_days,last_used_at,expires_at,risk,open_findings,tags";

impl KeyTable {
    /// The table of the vault's keys at `now`: [`super::list_key_rows`], and which of them the
    /// scan found in files.
    pub fn read(vault: &Vault, now: DateTime<Utc>) -> Result<KeyTable, Error> {
        let exposed = super::list_exposures(vault, false)?.into_iter().filter_map(|e| e.inventory_key_id).collect();
        Ok(KeyTable::new(super::list_key_rows(vault, now)?, exposed, now))
    }

    /// The table of `rows` at `now`; `exposed`: the ids of keys the scan found in files.
    pub fn new(rows: Vec<KeyRow>, exposed: HashSet<String>, now: DateTime<Utc>) -> KeyTable {
        let sorted = |s: BTreeSet<&String>| s.into_iter().cloned().collect::<Vec<String>>();
        let words = Words {
            providers: sorted(rows.iter().map(|k| &k.provider).collect()),
            accounts: sorted(rows.iter().map(|k| &k.account).collect()),
            owners: sorted(rows.iter().filter_map(|k| k.owner.as_ref()).collect()),
            tags: sorted(rows.iter().flat_map(|k| &k.tags).collect()),
            rules: sorted(rows.iter().flat_map(|k| k.risk_parts.iter().map(|p| &p.rule_id)).collect()),
            others: Vec::new(),
        };
        let millis = |t: &Option<String>| t.as_deref().and_then(time::parse).map(|t| t.timestamp_millis());
        let mut by_name: Vec<u32> = (0..rows.len() as u32).collect();
        by_name.sort_by(|&a, &b| rows[a as usize].name.cmp(&rows[b as usize].name));
        let mut name_rank = vec![0u32; rows.len()];
        for (rank, i) in by_name.into_iter().enumerate() {
            name_rank[i as usize] = rank as u32;
        }
        let mut others: HashMap<&str, u32> = HashMap::new();
        fn intern<'a>(others: &mut HashMap<&'a str, u32>, text: &'a Option<String>) -> u32 {
            match text.as_deref() {
                None => NONE,
                Some(t) => {
                    let next = others.len() as u32;
                    *others.entry(t).or_insert(next)
                }
            }
        }
        let mut table = KeyTable {
            texts: Texts::default(),
            hay: Texts::default(),
            facts: Vec::with_capacity(rows.len()),
            tags: Vec::new(),
            parts: Vec::new(),
            words: Words::default(),
            now: now.timestamp_millis(),
            order: None,
            selection: None,
        };
        for (k, name_rank) in rows.iter().zip(name_rank) {
            let mut present = 0u8;
            for (n, text) in [
                Some(&k.id),
                Some(&k.name),
                k.external_id.as_ref(),
                k.created_at.as_ref(),
                k.last_used_at.as_ref(),
                k.expires_at.as_ref(),
            ]
            .into_iter()
            .enumerate()
            {
                present |= u8::from(text.is_some()) << n;
                table.texts.push(text.map_or("", String::as_str));
            }
            let mut hay = String::with_capacity(k.name.len() + k.account.len() + 64);
            for part in [
                k.provider.as_str(),
                &k.account,
                &k.name,
                k.owner.as_deref().unwrap_or(""),
                k.external_id.as_deref().unwrap_or(""),
                k.status,
            ] {
                hay.push_str(part);
                hay.push('\0');
            }
            hay.push_str(&k.tags.join(" "));
            table.hay.push(&hay.to_lowercase());
            let tags = table.tags.len() as u32;
            table.tags.extend(k.tags.iter().map(|t| place(&words.tags, t)));
            let parts = table.parts.len() as u32;
            table.parts.extend(k.risk_parts.iter().map(|p| Part {
                rule: place(&words.rules, &p.rule_id),
                severity: Severity::parse(&p.severity),
                weight: p.weight,
            }));
            table.facts.push(Facts {
                provider: place(&words.providers, &k.provider),
                account: place(&words.accounts, &k.account),
                owner: k.owner.as_deref().map_or(NONE, |o| place(&words.owners, o)),
                active: k.status == "active",
                risk: k.risk,
                open_findings: u32::try_from(k.open_findings).unwrap_or(u32::MAX),
                age_days: k.age_days,
                last_used: millis(&k.last_used_at),
                expires: millis(&k.expires_at),
                name_rank,
                severities: k.risk_parts.iter().fold(0, |bits, p| bits | severity_bit(&p.severity)),
                has_secret: k.has_secret,
                usage_tracked: k.usage_tracked,
                settled: k.settled,
                exposed: exposed.contains(&k.id),
                present,
                tags: (tags, table.tags.len() as u32),
                parts: (parts, table.parts.len() as u32),
                kind: intern(&mut others, &k.kind),
                service: intern(&mut others, &k.last_used_service),
                region: intern(&mut others, &k.last_used_region),
                check: intern(&mut others, &k.check_result),
            });
        }
        let mut others: Vec<(&str, u32)> = others.into_iter().collect();
        others.sort_by_key(|(_, n)| *n);
        let others = others.into_iter().map(|(t, _)| t.to_owned()).collect();
        drop(rows);
        table.texts.shrink();
        table.hay.shrink();
        table.facts.shrink_to_fit();
        table.tags.shrink_to_fit();
        table.parts.shrink_to_fit();
        table.words = Words { others, ..words };
        table
    }

    /// Row `i` put together again.
    fn row(&self, i: usize) -> KeyRow {
        let (x, w) = (&self.facts[i], &self.words);
        let text = |n: usize| self.texts.get(i * TEXTS + n).to_owned();
        let optional = |n: usize| (x.present & (1 << n) != 0).then(|| text(n));
        let word = |words: &[String], at: u32| (at != NONE).then(|| words[at as usize].clone());
        let (tags, parts) =
            (&self.tags[x.tags.0 as usize..x.tags.1 as usize], &self.parts[x.parts.0 as usize..x.parts.1 as usize]);
        KeyRow {
            id: text(ID),
            provider: w.providers[x.provider as usize].clone(),
            account: w.accounts[x.account as usize].clone(),
            external_id: optional(EXTERNAL_ID),
            name: text(NAME),
            owner: word(&w.owners, x.owner),
            status: if x.active { "active" } else { "inactive" },
            created_at: optional(CREATED_AT),
            age_days: x.age_days,
            last_used_at: optional(LAST_USED_AT),
            last_used_service: word(&w.others, x.service),
            last_used_region: word(&w.others, x.region),
            usage_tracked: x.usage_tracked,
            expires_at: optional(EXPIRES_AT),
            has_secret: x.has_secret,
            open_findings: x.open_findings as usize,
            risk: x.risk,
            risk_parts: parts
                .iter()
                .map(|p| RiskMark {
                    rule_id: w.rules[p.rule as usize].clone(),
                    severity: p.severity.map_or("", Severity::as_str).to_owned(),
                    weight: p.weight,
                })
                .collect(),
            settled: x.settled,
            tags: tags.iter().map(|&t| w.tags[t as usize].clone()).collect(),
            kind: word(&w.others, x.kind),
            check_result: word(&w.others, x.check),
        }
    }

    /// Row `i`'s id.
    fn id(&self, i: usize) -> &str {
        self.texts.get(i * TEXTS + ID)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    fn usage(&self, x: &Facts) -> Usage {
        match x.last_used {
            None if x.usage_tracked => Usage::Never,
            None => Usage::Unknown,
            Some(t) if t < self.now - UNUSED_DAYS * DAY_MS => Usage::Unused,
            Some(_) => Usage::Used,
        }
    }

    /// The filter's texts as places in the table's words, and its query lowercased, once per
    /// selection rather than once per row.
    fn compile<'f>(&self, f: &'f KeyFilter) -> Compiled<'f> {
        let w = &self.words;
        let query = f.query.as_deref().unwrap_or("").trim().to_lowercase();
        Compiled {
            finder: memchr::memmem::Finder::new(&query).into_owned(),
            query,
            ids: f.ids.as_ref().map(|ids| ids.iter().map(String::as_str).collect()),
            provider: f.provider.as_deref().map(|p| place(&w.providers, p)),
            account: f.account.as_deref().map(|a| place(&w.accounts, a)),
            owner: f.owner.as_deref().map(|o| place(&w.owners, o)),
            tag: f.tag.as_deref().map(|t| place(&w.tags, t)),
            rule: f.rule.as_deref().map(|r| place(&w.rules, r)),
            severity: f.severity.as_deref().map(severity_bit),
            filter: f,
        }
    }

    /// Whether row `i` passes the filter.
    fn keeps(&self, i: usize, c: &Compiled) -> bool {
        let (f, x, now) = (c.filter, &self.facts[i], self.now);
        let expires_in = |days: u32| x.expires.is_some_and(|t| t > now && t <= now + i64::from(days) * DAY_MS);
        let has =
            |list: &[u32], (start, end): (u32, u32), word: u32| list[start as usize..end as usize].contains(&word);
        (c.query.is_empty() || c.finder.find(self.hay.get(i).as_bytes()).is_some())
            && c.ids.as_ref().is_none_or(|ids| ids.contains(self.id(i)))
            && c.provider.is_none_or(|p| p == x.provider)
            && c.account.is_none_or(|a| a == x.account)
            && c.owner.is_none_or(|o| o == x.owner && o != NONE)
            && f.status.as_deref().is_none_or(|s| s == if x.active { "active" } else { "inactive" })
            && f.risk.is_none_or(|b| b.holds(x.risk))
            && f.age.is_none_or(|b| b == AgeBand::of(x.age_days))
            && f.expires_within.is_none_or(expires_in)
            && (f.expired != Some(true) || x.expires.is_some_and(|t| t <= now))
            && c.rule.is_none_or(|r| self.parts[x.parts.0 as usize..x.parts.1 as usize].iter().any(|p| p.rule == r))
            && c.severity.is_none_or(|s| x.severities & s != 0)
            && c.tag.is_none_or(|t| has(&self.tags, x.tags, t))
            && f.managed.is_none_or(|m| m == x.has_secret)
            && f.usage.is_none_or(|u| u == self.usage(x))
            && (f.exposed != Some(true) || x.exposed)
            && (f.risky != Some(true) || x.open_findings > 0)
            && (f.hide_settled != Some(true) || !(x.settled || x.expires.is_some_and(|t| t < now)))
    }

    /// The rows' places in `sort`'s order. Each row's place is found from a key made once per
    /// row (missing values last, then the column's value, then the name's rank), so the sort
    /// compares plain numbers side by side (9 ms at 100,000 rows, `benches/table.rs`).
    fn order(&mut self, sort: KeySort) -> &[u32] {
        if self.order.as_ref().is_none_or(|(s, _)| *s != sort) {
            // An order-keeping map of a value to an unsigned number, turned round when descending.
            let value = |v: i64| {
                let v = (v as u64) ^ (1 << 63);
                if sort.descending { !v } else { v }
            };
            let mut keyed: Vec<(bool, u64, u32, u32)> = self
                .facts
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let primary: Option<i64> = match sort.column {
                        SortColumn::Risk => Some(i64::from(x.risk) << 32 | i64::from(x.open_findings)),
                        SortColumn::Provider => Some(i64::from(x.provider)),
                        SortColumn::Account => Some(i64::from(x.account)),
                        SortColumn::Owner => (x.owner != NONE).then_some(i64::from(x.owner)),
                        // "active" before "inactive".
                        SortColumn::Status => Some(i64::from(!x.active)),
                        SortColumn::Age => x.age_days,
                        SortColumn::LastUsed => x.last_used,
                        SortColumn::Expires => x.expires,
                        SortColumn::Name => Some(0),
                    };
                    let name = if sort.column == SortColumn::Name && sort.descending {
                        u32::MAX - x.name_rank
                    } else {
                        x.name_rank
                    };
                    (primary.is_none(), primary.map_or(0, value), name, i as u32)
                })
                .collect();
            keyed.sort_unstable();
            self.order = Some((sort, keyed.into_iter().map(|(_, _, _, i)| i).collect()));
        }
        &self.order.as_ref().expect("set above").1
    }

    /// The rows `filter` keeps, in `sort`'s order, as places in the table. A search typed further
    /// (the same filter otherwise, its text longer and containing the last one) looks only among
    /// the rows the last one kept.
    fn select(&mut self, filter: &KeyFilter, sort: KeySort) -> &[u32] {
        let last = self.selection.take();
        let query = |f: &KeyFilter| f.query.as_deref().unwrap_or("").trim().to_lowercase();
        let narrows = |s: &Selection| {
            s.sort == sort
                && KeyFilter { query: None, ..s.filter.clone() } == KeyFilter { query: None, ..filter.clone() }
                && query(filter).contains(&query(&s.filter))
        };
        let rows = match last {
            Some(s) if s.sort == sort && s.filter == *filter => s.rows,
            Some(s) if narrows(&s) => {
                let compiled = self.compile(filter);
                s.rows.into_iter().filter(|&i| self.keeps(i as usize, &compiled)).collect()
            }
            _ => {
                self.order(sort);
                let compiled = self.compile(filter);
                // The tests run in the rows' own order (their texts lie together in memory), then
                // the order picks the rows kept.
                let keep: Vec<bool> = (0..self.len()).map(|i| self.keeps(i, &compiled)).collect();
                let order = &self.order.as_ref().expect("set by order").1;
                order.iter().copied().filter(|&i| keep[i as usize]).collect()
            }
        };
        &self.selection.insert(Selection { filter: filter.clone(), sort, rows }).rows
    }

    /// Up to `count` of the rows `filter` keeps in `sort`'s order, from the `first`.
    pub fn page(&mut self, filter: &KeyFilter, sort: KeySort, first: usize, count: usize) -> KeyTablePage {
        let total = self.len();
        let selected = self.select(filter, sort);
        let shown = selected.len();
        let first = first.min(shown);
        let end = first.saturating_add(count).min(shown);
        let places = selected[first..end].to_vec();
        KeyTablePage {
            generation: 0,
            shown,
            total,
            first,
            rows: places.into_iter().map(|i| self.row(i as usize)).collect(),
        }
    }

    /// The names of the keys among `ids` (the others are not in the table).
    pub fn names(&self, ids: &[String]) -> BTreeMap<String, String> {
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        (0..self.len())
            .filter(|&i| wanted.contains(self.id(i)))
            .map(|i| (self.id(i).to_owned(), self.texts.get(i * TEXTS + NAME).to_owned()))
            .collect()
    }

    /// The distinct values of the rows' fields.
    pub fn facets(&self) -> KeyFacets {
        let w = &self.words;
        KeyFacets {
            providers: w.providers.clone(),
            accounts: w.accounts.clone(),
            owners: w.owners.clone(),
            tags: w.tags.clone(),
            rules: w.rules.clone(),
        }
    }

    /// The dashboard's numbers.
    pub fn counts(&self) -> KeyCounts {
        let now = self.now;
        let mut providers = vec![0usize; self.words.providers.len()];
        let mut ages = [0usize; 6];
        let mut severities = [0usize; 4];
        let mut expiring = [0usize; EXPIRY_WINDOWS.len()];
        let (mut expired, mut unused, mut never_used, mut at_risk, mut total_risk) = (0, 0, 0, 0, 0u64);
        for x in &self.facts {
            providers[x.provider as usize] += 1;
            let band = AgeBand::of(x.age_days);
            ages[AgeBand::ALL.iter().position(|b| *b == band).expect("every band is listed")] += 1;
            for (n, severity) in severities.iter_mut().zip(SEVERITIES) {
                *n += usize::from(x.severities & bit(severity) != 0);
            }
            total_risk += u64::from(x.risk);
            at_risk += usize::from(x.open_findings > 0);
            match self.usage(x) {
                Usage::Never => never_used += 1,
                Usage::Unused => unused += 1,
                _ => {}
            }
            if let Some(t) = x.expires {
                expired += usize::from(t <= now);
                for (n, days) in expiring.iter_mut().zip(EXPIRY_WINDOWS) {
                    *n += usize::from(t > now && t <= now + i64::from(days) * DAY_MS);
                }
            }
        }
        let tally = |name: String, keys: usize| KeyTally { name, keys };
        let mut by_provider: Vec<KeyTally> =
            self.words.providers.iter().zip(providers).map(|(p, n)| tally(p.clone(), n)).collect();
        by_provider.sort_by_key(|t| std::cmp::Reverse(t.keys));
        let band_id =
            |b: AgeBand| serde_json::to_value(b).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        KeyCounts {
            total: self.len(),
            by_provider,
            by_severity: SEVERITIES.into_iter().zip(severities).map(|(s, n)| tally(s.as_str().to_owned(), n)).collect(),
            by_age: AgeBand::ALL.into_iter().zip(ages).map(|(b, n)| tally(band_id(b), n)).collect(),
            expired,
            expiring: EXPIRY_WINDOWS.into_iter().zip(expiring).map(|(d, n)| tally(d.to_string(), n)).collect(),
            unused,
            never_used,
            at_risk,
            total_risk,
        }
    }

    /// The rows `filter` keeps in `sort`'s order as CSV (RFC 4180; a cell a spreadsheet would
    /// run as a formula is kept as text) or JSON, with the columns the table shows, and how many.
    pub fn export(
        &mut self,
        filter: &KeyFilter,
        sort: KeySort,
        format: ExportFormat,
    ) -> Result<(String, usize), Error> {
        let places = self.select(filter, sort).to_vec();
        let unreadable = |e: serde_json::Error| Error::Invalid { field: "export", reason: e.to_string() };
        let rows: Vec<ExportRow> = places.iter().map(|&i| ExportRow::from(self.row(i as usize))).collect();
        let text = match format {
            ExportFormat::Json => serde_json::to_string_pretty(&rows).map_err(unreadable)?,
            ExportFormat::Csv => {
                let mut out = String::with_capacity(places.len() * 160);
                out.push_str(EXPORT_COLUMNS);
                out.push_str("\r\n");
                for r in &rows {
                    let text = |s: &Option<String>| s.clone().unwrap_or_default();
                    let cells = [
                        r.id.clone(),
                        r.provider.clone(),
                        r.account.clone(),
                        text(&r.external_id),
                        r.name.clone(),
                        text(&r.owner),
                        r.status.clone(),
                        text(&r.kind),
                        text(&r.created_at),
                        r.age_days.map(|d| d.to_string()).unwrap_or_default(),
                        text(&r.last_used_at),
                        text(&r.expires_at),
                        r.risk.to_string(),
                        r.open_findings.to_string(),
                        r.tags.join(";"),
                    ];
                    for (n, cell) in cells.iter().enumerate() {
                        if n > 0 {
                            out.push(',');
                        }
                        csv_cell(&mut out, cell);
                    }
                    out.push_str("\r\n");
                }
                out
            }
        };
        Ok((text, places.len()))
    }
}

/// A filter made ready for a pass over the rows (see [`KeyTable::compile`]).
struct Compiled<'f> {
    filter: &'f KeyFilter,
    query: String,
    /// The query's searcher, made once.
    finder: memchr::memmem::Finder<'static>,
    ids: Option<HashSet<&'f str>>,
    provider: Option<u32>,
    account: Option<u32>,
    owner: Option<u32>,
    tag: Option<u32>,
    rule: Option<u32>,
    /// 0 for a severity no finding has: nothing matches.
    severity: Option<u8>,
}

/// One CSV cell: quoted when it holds a quote, comma or line break; prefixed with `'` when a
/// spreadsheet would run it as a formula.
fn csv_cell(out: &mut String, cell: &str) {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = cell.contains(['"', ',', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quoted {
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn at(days_from_now: i64) -> Option<String> {
        Some((now() + chrono::Duration::days(days_from_now)).to_rfc3339())
    }

    fn row(id: &str) -> KeyRow {
        KeyRow {
            id: id.to_owned(),
            provider: "aws".into(),
            account: "prod".into(),
            external_id: Some(format!("AKIA{id}")),
            name: format!("key-{id}"),
            owner: Some("alice".into()),
            status: "active",
            created_at: at(-200),
            age_days: Some(200),
            last_used_at: None,
            last_used_service: None,
            last_used_region: None,
            usage_tracked: true,
            expires_at: None,
            has_secret: false,
            open_findings: 0,
            risk: 0,
            risk_parts: vec![],
            settled: false,
            tags: vec![],
            kind: Some("access_key".into()),
            check_result: None,
        }
    }

    fn part(rule: &str, severity: &str, weight: u32) -> RiskMark {
        RiskMark { rule_id: rule.into(), severity: severity.into(), weight }
    }

    /// Keys that differ in every field a filter reads.
    fn keys() -> Vec<KeyRow> {
        let mut k: Vec<KeyRow> = (0..8).map(|i| row(&format!("k{i}"))).collect();
        k[0].risk = 12;
        k[0].open_findings = 2;
        k[0].risk_parts = vec![part("key_unused", "medium", 5), part("admin_scope", "critical", 7)];
        k[1].provider = "datadog".into();
        k[1].account = "dd-eu".into();
        k[1].owner = None;
        k[1].age_days = None;
        k[1].usage_tracked = false;
        k[2].status = "inactive";
        k[2].expires_at = at(-1);
        k[2].risk = 3;
        k[2].open_findings = 1;
        k[2].risk_parts = vec![part("key_expired", "low", 3)];
        k[3].expires_at = at(5);
        k[3].tags = vec!["team:payments".into(), "prod".into()];
        k[3].age_days = Some(10);
        k[4].last_used_at = at(-100);
        k[4].has_secret = true;
        k[4].settled = true;
        k[5].last_used_at = at(-3);
        k[5].name = "Payments Webhook".into();
        k[5].expires_at = at(20);
        k[5].last_used_service = Some("s3".into());
        k[5].last_used_region = Some("eu-west-1".into());
        k[1].kind = None;
        k[1].external_id = None;
        k[2].check_result = Some("valid".into());
        k[2].kind = Some("s3".into());
        k[6].age_days = Some(-3);
        k[6].owner = Some("bob".into());
        k[7].age_days = Some(400);
        k[7].expires_at = Some("not a date".into());
        k
    }

    fn table() -> KeyTable {
        KeyTable::new(keys(), HashSet::from(["k5".to_owned()]), now())
    }

    /// The ids of a page's rows, in order.
    fn ids_of(page: &KeyTablePage) -> Vec<String> {
        page.rows.iter().map(|r| r.id.clone()).collect()
    }

    fn ids(t: &mut KeyTable, f: KeyFilter) -> Vec<String> {
        let sort = KeySort { column: SortColumn::Name, descending: false };
        let mut got = ids_of(&t.page(&f, sort, 0, usize::MAX));
        got.sort();
        got
    }

    #[test]
    fn every_filter_keeps_exactly_its_keys() {
        let mut t = table();
        let f = KeyFilter::default;
        let cases: Vec<(KeyFilter, &[&str])> = vec![
            (KeyFilter { query: Some("  PAYMENTS ".into()), ..f() }, &["k3", "k5"]),
            (KeyFilter { query: Some("akiak6".into()), ..f() }, &["k6"]),
            (KeyFilter { provider: Some("datadog".into()), ..f() }, &["k1"]),
            (KeyFilter { account: Some("dd-eu".into()), ..f() }, &["k1"]),
            (KeyFilter { owner: Some("bob".into()), ..f() }, &["k6"]),
            (KeyFilter { status: Some("inactive".into()), ..f() }, &["k2"]),
            (KeyFilter { risk: Some(RiskBand::High), ..f() }, &["k0"]),
            (KeyFilter { risk: Some(RiskBand::Low), ..f() }, &["k2"]),
            (KeyFilter { age: Some(AgeBand::Under30), ..f() }, &["k3", "k6"]),
            (KeyFilter { age: Some(AgeBand::Unknown), ..f() }, &["k1"]),
            (KeyFilter { age: Some(AgeBand::Older), ..f() }, &["k7"]),
            (KeyFilter { expires_within: Some(7), ..f() }, &["k3"]),
            (KeyFilter { expires_within: Some(30), ..f() }, &["k3", "k5"]),
            (KeyFilter { expired: Some(true), ..f() }, &["k2"]),
            (KeyFilter { rule: Some("admin_scope".into()), ..f() }, &["k0"]),
            (KeyFilter { severity: Some("low".into()), ..f() }, &["k2"]),
            (KeyFilter { severity: Some("no such".into()), ..f() }, &[]),
            (KeyFilter { tag: Some("prod".into()), ..f() }, &["k3"]),
            (KeyFilter { managed: Some(true), ..f() }, &["k4"]),
            (KeyFilter { usage: Some(Usage::Unused), ..f() }, &["k4"]),
            (KeyFilter { usage: Some(Usage::Used), ..f() }, &["k5"]),
            (KeyFilter { usage: Some(Usage::Unknown), ..f() }, &["k1"]),
            (KeyFilter { exposed: Some(true), ..f() }, &["k5"]),
            (KeyFilter { risky: Some(true), ..f() }, &["k0", "k2"]),
            (KeyFilter { hide_settled: Some(true), ..f() }, &["k0", "k1", "k3", "k5", "k6", "k7"]),
            (KeyFilter { ids: Some(vec!["k7".into(), "gone".into()]), ..f() }, &["k7"]),
            (KeyFilter { provider: Some("aws".into()), tag: Some("prod".into()), ..f() }, &["k3"]),
        ];
        for (filter, want) in cases {
            assert_eq!(ids(&mut t, filter.clone()), want.to_vec(), "{filter:?}");
        }
        assert_eq!(ids(&mut t, f()).len(), 8);
    }

    #[test]
    fn every_count_is_the_number_of_keys_its_filter_shows() {
        let mut t = table();
        let c = t.counts();
        let f = KeyFilter::default;
        let mut n = |filter: KeyFilter| ids(&mut t, filter).len();
        assert_eq!(c.total, n(f()));
        for p in &c.by_provider {
            assert_eq!(p.keys, n(KeyFilter { provider: Some(p.name.clone()), ..f() }), "{p:?}");
        }
        for s in &c.by_severity {
            assert_eq!(s.keys, n(KeyFilter { severity: Some(s.name.clone()), ..f() }), "{s:?}");
        }
        for a in &c.by_age {
            let band: AgeBand = serde_json::from_value(serde_json::json!(a.name)).unwrap();
            assert_eq!(a.keys, n(KeyFilter { age: Some(band), ..f() }), "{a:?}");
        }
        for e in &c.expiring {
            assert_eq!(e.keys, n(KeyFilter { expires_within: Some(e.name.parse().unwrap()), ..f() }), "{e:?}");
        }
        assert_eq!(c.expired, n(KeyFilter { expired: Some(true), ..f() }));
        assert_eq!(c.unused, n(KeyFilter { usage: Some(Usage::Unused), ..f() }));
        assert_eq!(c.never_used, n(KeyFilter { usage: Some(Usage::Never), ..f() }));
        assert_eq!(c.at_risk, n(KeyFilter { risky: Some(true), ..f() }));
        assert_eq!(c.total_risk, 15);
        assert_eq!(c.by_provider[0], KeyTally { name: "aws".into(), keys: 7 });
        assert_eq!(c.by_severity.iter().map(|s| s.keys).collect::<Vec<_>>(), [1, 0, 1, 1]);
    }

    fn order(t: &mut KeyTable, column: SortColumn, descending: bool) -> Vec<String> {
        ids_of(&t.page(&KeyFilter::default(), KeySort { column, descending }, 0, usize::MAX))
    }

    #[test]
    fn sorts_with_missing_values_last_and_ties_by_name() {
        let mut t = table();
        let risk = order(&mut t, SortColumn::Risk, true);
        assert_eq!(&risk[..2], ["k0", "k2"]);
        // The rest have no risk: by name.
        let rest: Vec<String> = keys().iter().filter(|k| k.risk == 0).map(|k| k.name.clone()).collect();
        let mut by_name = rest.clone();
        by_name.sort();
        let names: Vec<String> =
            risk[2..].iter().map(|id| keys().into_iter().find(|k| k.id == *id).unwrap().name).collect();
        assert_eq!(names, by_name);
        assert_eq!(order(&mut t, SortColumn::Risk, false)[..6].last().unwrap(), "k7");
        // Expiry: k7's date does not parse and k0's is absent: last both ways.
        let up = order(&mut t, SortColumn::Expires, false);
        assert_eq!(&up[..3], ["k2", "k3", "k5"]);
        let down = order(&mut t, SortColumn::Expires, true);
        assert_eq!(&down[..3], ["k5", "k3", "k2"]);
        assert!(!down[..3].contains(&"k7".to_owned()));
        // No owner last whichever the direction.
        assert_eq!(order(&mut t, SortColumn::Owner, false).last().unwrap(), "k1");
        assert_eq!(order(&mut t, SortColumn::Owner, true).last().unwrap(), "k1");
        assert_eq!(order(&mut t, SortColumn::Owner, true)[0], "k6");
        let names = order(&mut t, SortColumn::Name, true);
        assert_eq!(names[0], "k7");
        assert_eq!(names.last().unwrap(), "k5", "'P' sorts before 'k'");
        assert_eq!(order(&mut t, SortColumn::Age, true)[0], "k7");
        assert_eq!(order(&mut t, SortColumn::LastUsed, true)[..2], ["k5", "k4"]);
    }

    #[test]
    fn pages_slice_the_selection_and_follow_a_new_filter() {
        let mut t = table();
        let sort = KeySort { column: SortColumn::Name, descending: false };
        let all = t.page(&KeyFilter::default(), sort, 0, 100);
        let page = t.page(&KeyFilter::default(), sort, 2, 3);
        assert_eq!((page.shown, page.total, page.first), (8, 8, 2));
        assert_eq!(ids_of(&page), ids_of(&all)[2..5]);
        let past = t.page(&KeyFilter::default(), sort, 50, 3);
        assert_eq!((past.first, past.rows.len()), (8, 0));
        let datadog = KeyFilter { provider: Some("datadog".into()), ..KeyFilter::default() };
        let page = t.page(&datadog, sort, 0, 10);
        assert_eq!((page.shown, ids_of(&page)), (1, vec!["k1".to_owned()]));
        // Every row comes back whole, as it went in.
        let all = t.page(&KeyFilter::default(), sort, 0, 100);
        for (row, key) in all.rows.iter().zip({
            let mut k = keys();
            k.sort_by(|a, b| a.name.cmp(&b.name));
            k
        }) {
            assert_eq!(serde_json::to_value(row).unwrap(), serde_json::to_value(&key).unwrap());
        }
        let nobody = KeyFilter { provider: Some("github".into()), ..KeyFilter::default() };
        assert_eq!(t.page(&nobody, sort, 0, 10).shown, 0);
    }

    #[test]
    fn a_search_typed_and_erased_keeps_what_a_fresh_table_keeps() {
        let mut typed = table();
        let sort = KeySort::default();
        for text in ["k", "ke", "key-k", "key-k5", "key-k", "p", "pa", "PAY", "pay", "", "akia", "akiak6", "webhook"] {
            for provider in [None, Some("aws")] {
                let filter =
                    KeyFilter { query: Some(text.into()), provider: provider.map(Into::into), ..KeyFilter::default() };
                let fresh = ids_of(&table().page(&filter, sort, 0, 100));
                assert_eq!(ids_of(&typed.page(&filter, sort, 0, 100)), fresh, "{text:?} {provider:?}");
            }
        }
    }

    #[test]
    fn a_filter_reads_as_the_window_writes_it() {
        let f: KeyFilter = serde_json::from_str(
            r#"{"query":"x","expiresWithin":7,"hideSettled":true,"age":"365+","risk":"none","usage":"never","ids":["a"]}"#,
        )
        .unwrap();
        assert_eq!(f.expires_within, Some(7));
        assert_eq!(f.hide_settled, Some(true));
        assert_eq!(f.age, Some(AgeBand::Older));
        assert_eq!(f.risk, Some(RiskBand::None));
        assert!(serde_json::from_str::<KeyFilter>(r#"{"colour":"red"}"#).is_err(), "an unknown field is refused");
        assert!(serde_json::from_str::<KeyFilter>(r#"{"age":"old"}"#).is_err());
    }

    #[test]
    fn exports_the_shown_rows_without_running_formulas() {
        let mut k = keys();
        k[0].name = "=HYPERLINK(\"http://x\")".into();
        k[1].name = "a,b".into();
        k[1].tags = vec!["t1".into(), "t2".into()];
        let mut t = KeyTable::new(k, HashSet::new(), now());
        let sort = KeySort { column: SortColumn::Name, descending: false };
        let both = KeyFilter { ids: Some(vec!["k0".into(), "k1".into()]), ..KeyFilter::default() };
        let (csv, n) = t.export(&both, sort, ExportFormat::Csv).unwrap();
        assert_eq!(n, 2);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], EXPORT_COLUMNS);
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{}", lines[1]);
        assert!(lines[2].contains(",\"a,b\","), "{}", lines[2]);
        assert!(lines[2].ends_with(",0,0,t1;t2"), "{}", lines[2]);
        let (json, _) = t.export(&both, sort, ExportFormat::Json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[1]["tags"], serde_json::json!(["t1", "t2"]));
        assert_eq!(v[1]["age_days"], serde_json::Value::Null);
        assert_eq!(v[0].as_object().unwrap().keys().count(), 15);
    }

    #[test]
    fn facets_and_names() {
        let t = table();
        let f = t.facets();
        assert_eq!(f.providers, ["aws", "datadog"]);
        assert_eq!(f.owners, ["alice", "bob"]);
        assert_eq!(f.tags, ["prod", "team:payments"]);
        assert_eq!(f.rules, ["admin_scope", "key_expired", "key_unused"]);
        let names = t.names(&["k5".into(), "nope".into()]);
        assert_eq!(names.into_iter().collect::<Vec<_>>(), [("k5".to_owned(), "Payments Webhook".to_owned())]);
    }
}
