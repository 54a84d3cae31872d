// The health dashboard's numbers, each paired with the inventory filter that shows exactly the
// keys behind it: a number the user cannot open is a number they cannot act on.
import type { Key, ShadowKey } from "./ipc";
import { AGE_BANDS, type KeyFilter, ageBand, expiresWithin, hasExpired, usageOf, EXPIRY_WINDOWS } from "./inventory";

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

export function health(keys: Key[], shadows: ShadowKey[], now: number): Health {
  const providers = new Map<string, number>();
  const ages = new Map<string, number>();
  const severity = new Map<string, Set<string>>();
  let totalRisk = 0;
  let atRisk = 0;
  let never = 0;
  let unused = 0;
  const expiring = EXPIRY_WINDOWS.map(() => 0);
  let expired = 0;
  for (const k of keys) {
    providers.set(k.provider, (providers.get(k.provider) ?? 0) + 1);
    const band = ageBand(k.age_days);
    ages.set(band, (ages.get(band) ?? 0) + 1);
    totalRisk += k.risk;
    if (k.open_findings > 0) atRisk++;
    const u = usageOf(k, now);
    if (u === "never") never++;
    if (u === "unused") unused++;
    if (hasExpired(k, now)) expired++;
    EXPIRY_WINDOWS.forEach((d, i) => {
      if (expiresWithin(k, d, now)) expiring[i]++;
    });
  }
  // By the keys' risk parts: their own open findings and their owners', as the filter counts.
  for (const k of keys) {
    for (const p of k.risk_parts) {
      let s = severity.get(p.severity);
      if (!s) severity.set(p.severity, (s = new Set()));
      s.add(k.id);
    }
  }
  return {
    byProvider: [...providers].sort((a, b) => b[1] - a[1]).map(([p, n]) => ({ label: p, value: n, filter: { provider: p } })),
    bySeverity: SEVERITIES.map((s) => ({ label: s, value: severity.get(s)?.size ?? 0, filter: { severity: s } })),
    ages: AGE_BANDS.map((b) => ({ label: b.label, value: ages.get(b.id) ?? 0, filter: { age: b.id } })),
    expiring: [
      { label: "expired", value: expired, filter: { expired: true } },
      ...EXPIRY_WINDOWS.map((d, i) => ({ label: `within ${d} day${d === 1 ? "" : "s"}`, value: expiring[i], filter: { expiresWithin: d } })),
    ],
    usage: [
      { label: "unused 90+ days", value: unused, filter: { usage: "unused" } },
      { label: "never used", value: never, filter: { usage: "never" } },
    ],
    unmanaged: shadows.filter((s) => s.status === "unmanaged").length,
    atRisk: { label: "keys at risk", value: atRisk, filter: { risky: true } },
    totalRisk,
  };
}
