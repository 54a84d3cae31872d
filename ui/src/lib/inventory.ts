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

/** Expiry windows: keys that expire within N days (not those already expired). */
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
  /** Expires within this many days (and has not expired yet). */
  expiresWithin?: number;
  /** Has expired. */
  expired?: boolean;
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
  if (f.expired) add("expired", "expired");
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

/** A key with what the filters and sorts need, computed once per data change (a keystroke
 *  then costs one pass over plain fields: no map lookups, no date parsing). Kept small: there is
 *  one per key, 100,000 of them. */
export interface Row {
  key: Key;
  /** Lowercased text a search matches. */
  hay: string;
  /** Open findings' rules (its own and its owner's, from its risk parts), each between NULs;
   *  empty when none. */
  rules: string;
  /** Their severities, one bit each (`SEVERITY_BITS`). */
  severities: number;
  /** Dates as numbers (NaN: none). */
  lastUsed: number;
  expires: number;
  /** Its place in name order, so ties in other sorts cost an integer compare. */
  nameRank: number;
}

const SEVERITY_BITS: Record<string, number> = { low: 1, medium: 2, high: 4, critical: 8 };

export interface KeyIndex {
  rows: Row[];
}

export function indexKeys(keys: Key[]): KeyIndex {
  // Open findings come from each key's risk parts: its own and its owner's, as its risk score
  // and `open_findings` count them, so every filter and number agrees on what "open" covers.
  // Which keys were found in files is not in it: the scan's results arrive after the keys and
  // change on their own, and the index (100,000 rows) is not built again for them.
  const rows: Row[] = keys.map((k) => {
    let severities = 0;
    for (const p of k.risk_parts) severities |= SEVERITY_BITS[p.severity] ?? 0;
    return {
      key: k,
      hay: `${k.provider}\u0000${k.account}\u0000${k.name}\u0000${k.owner ?? ""}\u0000${k.external_id ?? ""}\u0000${k.status}\u0000${k.tags.join(" ")}`.toLowerCase(),
      rules: k.risk_parts.length ? `\u0000${k.risk_parts.map((p) => p.rule_id).join("\u0000")}\u0000` : "",
      severities,
      lastUsed: k.last_used_at ? Date.parse(k.last_used_at) : NaN,
      expires: k.expires_at ? Date.parse(k.expires_at) : NaN,
      nameRank: 0,
    };
  });
  const byName = rows.slice().sort((a, b) => (a.key.name < b.key.name ? -1 : a.key.name > b.key.name ? 1 : 0));
  byName.forEach((r, i) => (r.nameRank = i));
  return { rows };
}

/** The rules of the keys' open findings (their own and their owners'), for the filter's menu. */
export function openRules(keys: Key[]): string[] {
  const rules = new Set<string>();
  for (const k of keys) for (const p of k.risk_parts) rules.add(p.rule_id);
  return [...rules].sort();
}

export function ageBand(days: number | null): AgeBand {
  if (days === null) return "unknown";
  days = Math.max(0, days); // a provider's clock ahead of ours: created "in the future" is new
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

/** Whether `k` expires within `days` days of `now` (and has not expired yet). */
export function expiresWithin(k: Key, days: number, now: number): boolean {
  if (!k.expires_at) return false;
  const left = Date.parse(k.expires_at) - now;
  return left > 0 && left <= days * DAY;
}

/** Whether `k` has expired by `now`. */
export function hasExpired(k: Key, now: number): boolean {
  return k.expires_at !== null && Date.parse(k.expires_at) <= now;
}

/** The rows `f` keeps, in `order` (a permutation from [`sortRows`]; the index's order when
 *  absent); `exposed`: the ids of the keys the scan found in files. Two passes, for speed over
 *  100,000 keys: the tests run in the rows' own order (their strings lie together in memory),
 *  then the order picks the survivors from a byte mask. */
export function applyFilter(
  index: KeyIndex,
  filter: KeyFilter,
  now: number,
  { order, exposed }: { order?: Int32Array; exposed?: ReadonlySet<string> } = {},
): Row[] {
  const rows = index.rows;
  // Read once, before the loop: the page's filter is a reactive proxy, and a read of it per row
  // (a dozen fields × 100,000 rows) cost ten times the filtering itself in the window.
  const f: KeyFilter = { ...filter };
  const q = f.query?.trim().toLowerCase() ?? "";
  const ids = f.ids ? new Set(f.ids) : null;
  const band = f.age ? AGE_BANDS.find((b) => b.id === f.age) : null;
  const risk = f.risk ? RISK_BANDS.find((b) => b.id === f.risk) : null;
  const rule = f.rule ? `\u0000${f.rule}\u0000` : null;
  const severity = f.severity ? (SEVERITY_BITS[f.severity] ?? -1) : 0;
  const expiry = f.expiresWithin === undefined ? null : now + f.expiresWithin * DAY;
  const unusedBefore = now - UNUSED_DAYS * DAY;
  const keep = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const k = r.key;
    if (q && !r.hay.includes(q)) continue;
    if (ids && !ids.has(k.id)) continue;
    if (f.provider && k.provider !== f.provider) continue;
    if (f.account && k.account !== f.account) continue;
    if (f.owner && k.owner !== f.owner) continue;
    if (f.status && k.status !== f.status) continue;
    if (risk && (k.risk < risk.min || k.risk > risk.max)) continue;
    if (band && ageBand(k.age_days) !== band.id) continue;
    if (expiry !== null && !(r.expires > now && r.expires <= expiry)) continue;
    if (f.expired && !(r.expires <= now)) continue;
    if (rule && !r.rules.includes(rule)) continue;
    if (severity && !(severity > 0 && r.severities & severity)) continue;
    if (f.tag && !k.tags.includes(f.tag)) continue;
    if (f.managed !== undefined && k.has_secret !== f.managed) continue;
    if (f.usage) {
      const u = Number.isNaN(r.lastUsed) ? (k.usage_tracked ? "never" : "unknown") : r.lastUsed < unusedBefore ? "unused" : "used";
      if (u !== f.usage) continue;
    }
    if (f.exposed && !exposed?.has(k.id)) continue;
    if (f.risky && k.open_findings === 0) continue;
    if (f.hideSettled && (k.settled || r.expires < now)) continue;
    keep[i] = 1;
  }
  const out: Row[] = [];
  if (order) {
    for (let j = 0; j < order.length; j++) if (keep[order[j]]) out.push(rows[order[j]]);
  } else {
    for (let i = 0; i < rows.length; i++) if (keep[i]) out.push(rows[i]);
  }
  return out;
}

export type SortColumn = "risk" | "provider" | "account" | "name" | "owner" | "status" | "age" | "last_used" | "expires";
export interface Sort {
  column: SortColumn;
  descending: boolean;
}

/** Places of distinct texts in text order (few distinct values: providers, statuses). */
function textRanks(rows: Row[], get: (k: Key) => string | null): Float64Array {
  const distinct = [...new Set(rows.map((r) => get(r.key) ?? "\uffff"))].sort();
  const rank = new Map(distinct.map((t, i) => [t, i]));
  return Float64Array.from(rows, (r) => rank.get(get(r.key) ?? "\uffff")!);
}

/** The order of the index's rows for `sort`, as a permutation of their positions. Every column
 *  becomes a whole number per row (missing values last whichever the direction, ties by name),
 *  packed with the row's name rank into one float and sorted natively: no comparator calls. */
export function sortRows(index: KeyIndex, reactiveSort: Sort): Int32Array {
  // Read once (the page's sort is a reactive proxy: see applyFilter).
  const sort: Sort = { column: reactiveSort.column, descending: reactiveSort.descending };
  const rows = index.rows;
  const n = rows.length;
  const secs = (t: number) => (Number.isNaN(t) ? NaN : Math.floor(t / 1000));
  let primary: Float64Array;
  switch (sort.column) {
    case "risk":
      primary = Float64Array.from(rows, (r) => Math.min(r.key.risk, 2 ** 24) * 4096 + Math.min(r.key.open_findings, 4095));
      break;
    case "name":
      primary = new Float64Array(n);
      break;
    case "age":
      primary = Float64Array.from(rows, (r) => r.key.age_days ?? NaN);
      break;
    case "last_used":
      primary = Float64Array.from(rows, (r) => secs(r.lastUsed));
      break;
    case "expires":
      primary = Float64Array.from(rows, (r) => secs(r.expires));
      break;
    default: {
      const column = sort.column;
      primary = textRanks(rows, (k) => (column === "owner" ? k.owner : k[column]));
      // No owner sorts last either way, like every missing value.
      if (column === "owner") rows.forEach((r, i) => r.key.owner === null && (primary[i] = NaN));
    }
  }
  // Shifted to start at 0 (dates before 1970 and ages below zero are values too); missing ones
  // go past every value in either direction.
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (primary[i] < min) min = primary[i];
    if (primary[i] > max) max = primary[i];
  }
  if (min === Infinity) min = max = 0;
  for (let i = 0; i < n; i++) primary[i] -= min;
  const top = max - min + 1;
  if ((top + 1) * n >= Number.MAX_SAFE_INTEGER) {
    // Too wide to pack exactly (not seen with real keys): compare instead.
    const at = (i: number) => (Number.isNaN(primary[i]) ? top : sort.descending ? top - 1 - primary[i] : primary[i]);
    const name = (i: number) => (sort.column === "name" && sort.descending ? -rows[i].nameRank : rows[i].nameRank);
    return Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => at(a) - at(b) || name(a) - name(b)));
  }
  const packed = new Float64Array(n);
  const byRank = new Int32Array(n);
  const descendingName = sort.column === "name" && sort.descending;
  for (let i = 0; i < n; i++) {
    const v = primary[i];
    const p = Number.isNaN(v) ? top : sort.descending ? top - 1 - v : v;
    const rank = descendingName ? n - 1 - rows[i].nameRank : rows[i].nameRank;
    packed[i] = p * n + rank;
    byRank[rank] = i;
  }
  packed.sort();
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = byRank[packed[j] % n];
  return order;
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
