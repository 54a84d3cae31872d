// The health dashboard's numbers, each paired with the inventory filter that shows exactly the
// keys behind it: a number the user cannot open is a number they cannot act on.
import type { ShadowKey } from "./ipc";
import type { KeyCounts } from "../bindings/KeyCounts";
import type { KeyTally } from "../bindings/KeyTally";
import { AGE_BANDS, type KeyFilter, EXPIRY_WINDOWS } from "./inventory";

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;

export interface Bar {
  label: string;
  value: number;
  filter: KeyFilter;
}

export interface Health {
  /** Keys per provider. */
  byProvider: Bar[];
  /** Keys with an open finding of each severity. */
  bySeverity: Bar[];
  /** Keys per age band. */
  ages: Bar[];
  /** Keys expired, and expiring within 30, 7 and 1 days. */
  expiring: Bar[];
  /** Unused (over 90 days) and never used keys. */
  usage: Bar[];
  /** Unmanaged keys the scan found in files (not in the inventory: they open the Exposure view). */
  unmanaged: number;
  /** Keys with any open finding, and the total risk. */
  atRisk: Bar;
  totalRisk: number;
}

/** The dashboard from the shell's counts (`KeyCounts`: each the number of keys its filter here
 * shows, checked in core/src/api/table.rs) and the keys the scan found. */
export function health(counts: KeyCounts | null, shadows: ShadowKey[]): Health {
  const c = counts ?? { total: 0, by_provider: [], by_severity: [], by_age: [], expired: 0, expiring: [], unused: 0, never_used: 0, at_risk: 0, total_risk: 0 };
  const of = (tallies: KeyTally[], name: string) => tallies.find((t) => t.name === name)?.keys ?? 0;
  return {
    byProvider: c.by_provider.map((p) => ({ label: p.name, value: p.keys, filter: { provider: p.name } })),
    bySeverity: SEVERITIES.map((s) => ({ label: s, value: of(c.by_severity, s), filter: { severity: s } })),
    ages: AGE_BANDS.map((b) => ({ label: b.label, value: of(c.by_age, b.id), filter: { age: b.id } })),
    expiring: [
      { label: "expired", value: c.expired, filter: { expired: true } },
      ...EXPIRY_WINDOWS.map((d) => ({ label: `within ${d} day${d === 1 ? "" : "s"}`, value: of(c.expiring, String(d)), filter: { expiresWithin: d } })),
    ],
    usage: [
      { label: "unused 90+ days", value: c.unused, filter: { usage: "unused" } },
      { label: "never used", value: c.never_used, filter: { usage: "never" } },
    ],
    unmanaged: shadows.filter((s) => s.status === "unmanaged").length,
    atRisk: { label: "keys at risk", value: c.at_risk, filter: { risky: true } },
    totalRisk: c.total_risk,
  };
}
