// The inventory's filter words: the bands and windows its menus offer, and the chips that say
// an active filter. The filtering, sorting, counting and export themselves are the shell's
// (`core/src/api/table.rs`): it holds every key's row and sends the window the rows in sight.
import type { KeyFilter, KeySort } from "./ipc";

export type { KeyFilter };
export type Sort = KeySort;
export type SortColumn = KeySort["column"];

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
