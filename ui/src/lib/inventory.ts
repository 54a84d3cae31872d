// The inventory's filters, sort and export, as plain functions over the keys: the table, the
// dashboard's drill-downs and saved filters all speak `KeyFilter`, so "the keys behind this
// number" and "the keys this table shows" are the same computation. Built for 100,000 keys:
// one pass to index, one pass to filter, a numeric comparator to sort.
import type { Finding, Key } from "./ipc";

/** Age bands, as the dashboard's histogram draws them. */
export const AGE_BANDS = [
  { id: "0-30", label: "< 30 days", min: 0, max: 30 },
  { id: "30-90", label: "30–90 days", min: 30, max: 90 },
  { id: "90-180", label: "90–180 days", min: 90, max: 180 },
  { id: "180-365", label: "180–365 days", min: 180, max: 365 },
  { id: "365+", label: "over a year", min: 365, max: Infinity },
  { id: "unknown", label: "unknown", min: NaN, max: NaN },
] as const;
export type AgeBand = (typeof AGE_BANDS)[number]["id"];

/** Expiry windows: keys that expire within N days (expired ones included). */
export const EXPIRY_WINDOWS = [1, 7, 30] as const;

/** Risk bands over a key's risk score. */
export const RISK_BANDS = [
  { id: "none", label: "none", min: 0, max: 0 },
  { id: "low", label: "1–4", min: 1, max: 4 },
  { id: "medium", label: "5–9", min: 5, max: 9 },
  { id: "high", label: "10+", min: 10, max: Infinity },
] as const;
export type RiskBand = (typeof RISK_BANDS)[number]["id"];

/** Last use, as the dashboard counts it. */
export type Usage = "never" | "unused" | "used" | "unknown";
/** Days without use after which a key counts as unused. */
export const UNUSED_DAYS = 90;

export interface KeyFilter {
  query?: string;
  provider?: string;
  account?: string;
  owner?: string;
  status?: "active" | "inactive";
  risk?: RiskBand;
  age?: AgeBand;
  /** Expires within this many days (or has expired). */
  expiresWithin?: number;
  /** Has an open finding of this rule. */
  rule?: string;
  /** Has an open finding of this severity. */
  severity?: Finding["severity"];
  tag?: string;
  /** Managed: Keyward holds its secret (so it can hand a rotated one over). */
  managed?: boolean;
  usage?: Usage;
  /** Found in files by the scan. */
  exposed?: boolean;
  /** Has open findings (its own or its owner's). */
  risky?: boolean;
  /** Leave out keys whose findings are all acknowledged or snoozed, and expired keys. */
  hideSettled?: boolean;
  /** Exactly these keys (a drill-down from a list the filters above cannot say). */
  ids?: string[];
}

/** Human words for an active filter, for chips ("provider: aws"). */
export function filterChips(f: KeyFilter): { field: keyof KeyFilter; label: string }[] {
  const chips: { field: keyof KeyFilter; label: string }[] = [];
  const add = (field: keyof KeyFilter, label: string) => chips.push({ field, label });
  if (f.provider) add("provider", `provider: ${f.provider}`);
  if (f.account) add("account", `connector: ${f.account}`);
  if (f.owner) add("owner", `owner: ${f.owner}`);
  if (f.status) add("status", `status: ${f.status}`);
  if (f.risk) add("risk", `risk: ${RISK_BANDS.find((b) => b.id === f.risk)?.label}`);
  if (f.age) add("age", `age: ${AGE_BANDS.find((b) => b.id === f.age)?.label}`);
  if (f.expiresWithin !== undefined) add("expiresWithin", `expires within ${f.expiresWithin} d`);
  if (f.rule) add("rule", `finding: ${f.rule}`);
  if (f.severity) add("severity", `${f.severity} findings`);
  if (f.tag) add("tag", `tag: ${f.tag}`);
  if (f.managed !== undefined) add("managed", f.managed ? "managed" : "unmanaged");
  if (f.usage) add("usage", `use: ${f.usage}`);
  if (f.exposed) add("exposed", "found in files");
  if (f.risky) add("risky", "with open findings");
  if (f.ids) add("ids", `${f.ids.length} chosen keys`);
  return chips;
}

const DAY = 86_400_000;

/** What the filters need per key beyond the key itself, computed once per data change. */
export interface KeyIndex {
  /** Lowercased text a search matches. */
  haystack: Map<string, string>;
  /** Open finding rules and severities per key. */
  open: Map<string, { rules: Set<string>; severities: Set<string> }>;
  /** Keys with findings that are only acknowledged or snoozed (none open). */
  settled: Set<string>;
  /** Keys the scan found in files. */
  exposed: Set<string>;
}

export function indexKeys(keys: Key[], findings: Finding[], exposedKeys: Iterable<string> = []): KeyIndex {
  const haystack = new Map<string, string>();
  for (const k of keys) {
    haystack.set(
      k.id,
      `${k.provider}\u0000${k.account}\u0000${k.name}\u0000${k.owner ?? ""}\u0000${k.external_id ?? ""}\u0000${k.status}\u0000${k.tags.join(" ")}`.toLowerCase(),
    );
  }
  const open = new Map<string, { rules: Set<string>; severities: Set<string> }>();
  const quiet = new Set<string>();
  for (const f of findings) {
    if (!f.key_id) continue;
    if (f.state === "open") {
      let o = open.get(f.key_id);
      if (!o) open.set(f.key_id, (o = { rules: new Set(), severities: new Set() }));
      o.rules.add(f.rule_id);
      o.severities.add(f.severity);
    } else if (f.state === "acknowledged" || f.state === "snoozed") {
      quiet.add(f.key_id);
    }
  }
  const settled = new Set([...quiet].filter((id) => !open.has(id)));
  return { haystack, open, settled, exposed: new Set(exposedKeys) };
}

export function ageBand(days: number | null): AgeBand {
  if (days === null) return "unknown";
  return AGE_BANDS.find((b) => days >= b.min && days < b.max)?.id ?? "unknown";
}

export function riskBand(risk: number): RiskBand {
  return RISK_BANDS.find((b) => risk >= b.min && risk <= b.max)?.id ?? "high";
}

export function usageOf(k: Key, now: number): Usage {
  if (k.last_used_at) {
    const t = Date.parse(k.last_used_at);
    return now - t > UNUSED_DAYS * DAY ? "unused" : "used";
  }
  return k.usage_tracked ? "never" : "unknown";
}

/** Whether `k` expires within `days` days of `now` (or has expired already). */
export function expiresWithin(k: Key, days: number, now: number): boolean {
  if (!k.expires_at) return false;
  return Date.parse(k.expires_at) - now <= days * DAY;
}

/** The keys `f` keeps, in their given order. */
export function applyFilter(keys: Key[], f: KeyFilter, index: KeyIndex, now: number): Key[] {
  const q = f.query?.trim().toLowerCase() ?? "";
  const ids = f.ids ? new Set(f.ids) : null;
  const out: Key[] = [];
  for (const k of keys) {
    if (ids && !ids.has(k.id)) continue;
    if (q && !index.haystack.get(k.id)?.includes(q)) continue;
    if (f.provider && k.provider !== f.provider) continue;
    if (f.account && k.account !== f.account) continue;
    if (f.owner && k.owner !== f.owner) continue;
    if (f.status && k.status !== f.status) continue;
    if (f.risk && riskBand(k.risk) !== f.risk) continue;
    if (f.age && ageBand(k.age_days) !== f.age) continue;
    if (f.expiresWithin !== undefined && !expiresWithin(k, f.expiresWithin, now)) continue;
    if (f.rule && !index.open.get(k.id)?.rules.has(f.rule)) continue;
    if (f.severity && !index.open.get(k.id)?.severities.has(f.severity)) continue;
    if (f.tag && !k.tags.includes(f.tag)) continue;
    if (f.managed !== undefined && k.has_secret !== f.managed) continue;
    if (f.usage && usageOf(k, now) !== f.usage) continue;
    if (f.exposed && !index.exposed.has(k.id)) continue;
    if (f.risky && k.open_findings === 0) continue;
    if (f.hideSettled && (index.settled.has(k.id) || (k.expires_at !== null && Date.parse(k.expires_at) < now))) continue;
    out.push(k);
  }
  return out;
}

export type SortColumn = "risk" | "provider" | "account" | "name" | "owner" | "status" | "age" | "last_used" | "expires";
export interface Sort {
  column: SortColumn;
  descending: boolean;
}

/** Sorted copy. Risk sorts numerically (ties: findings, then name); the rest by text or date. */
export function sortKeysBy(keys: Key[], sort: Sort): Key[] {
  const dir = sort.descending ? -1 : 1;
  const out = keys.slice();
  const text = (get: (k: Key) => string) => (a: Key, b: Key) => dir * (get(a) < get(b) ? -1 : get(a) > get(b) ? 1 : 0);
  // Missing values sort last whichever the direction.
  const num = (get: (k: Key) => number | null) => (a: Key, b: Key) => {
    const x = get(a);
    const y = get(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return dir * (x - y);
  };
  const time = (iso: string | null) => (iso ? Date.parse(iso) : null);
  const cmp: Record<SortColumn, (a: Key, b: Key) => number> = {
    risk: (a, b) => dir * (a.risk - b.risk) || dir * (a.open_findings - b.open_findings) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    provider: text((k) => k.provider),
    account: text((k) => k.account),
    name: text((k) => k.name.toLowerCase()),
    owner: text((k) => k.owner ?? "\uffff"),
    status: text((k) => k.status),
    age: num((k) => k.age_days),
    last_used: num((k) => time(k.last_used_at)),
    expires: num((k) => time(k.expires_at)),
  };
  if (sort.column === "last_used" || sort.column === "expires") {
    // Precompute the dates once: Date.parse in a comparator is O(n log n) parses.
    const at = new Map(out.map((k) => [k.id, time(sort.column === "expires" ? k.expires_at : k.last_used_at)]));
    return out.sort(num((k) => at.get(k.id) ?? null));
  }
  return out.sort(cmp[sort.column]);
}

/** The distinct values of a field, for the filter menus. */
export function facets(keys: Key[]): { providers: string[]; accounts: string[]; owners: string[]; tags: string[] } {
  const p = new Set<string>();
  const a = new Set<string>();
  const o = new Set<string>();
  const t = new Set<string>();
  for (const k of keys) {
    p.add(k.provider);
    a.add(k.account);
    if (k.owner) o.add(k.owner);
    for (const tag of k.tags) t.add(tag);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { providers: sorted(p), accounts: sorted(a), owners: sorted(o), tags: sorted(t) };
}

/** The exported columns: what the table shows, never a secret. */
const EXPORT_COLUMNS = [
  "id",
  "provider",
  "account",
  "external_id",
  "name",
  "owner",
  "status",
  "kind",
  "created_at",
  "age_days",
  "last_used_at",
  "expires_at",
  "risk",
  "open_findings",
  "tags",
] as const;

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? "" : Array.isArray(v) ? v.join(";") : String(v);
  // A cell a spreadsheet would run as a formula is kept as text.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The keys as CSV (RFC 4180) or JSON, the columns of `EXPORT_COLUMNS`. */
export function exportKeys(keys: Key[], format: "csv" | "json"): string {
  const rows = keys.map((k) => Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, k[c]])));
  if (format === "json") return JSON.stringify(rows, null, 2);
  const lines = [EXPORT_COLUMNS.join(",")];
  for (const r of rows) lines.push(EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(","));
  return lines.join("\r\n") + "\r\n";
}
