// Findings grouped by rule or by key, for the Findings view.
import type { Finding } from "./ipc";

export type FindingGroupBy = "none" | "rule" | "key";

export interface FindingGroup {
  label: string;
  findings: Finding[];
}

/** Groups in the order their first finding appears (so a severity sort carries over). */
export function groupFindings(findings: Finding[], by: FindingGroupBy): FindingGroup[] {
  if (by === "none") return [{ label: "all", findings }];
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const label =
      by === "rule"
        ? `${f.title} (${f.rule_id})`
        : f.key_id
          ? `${f.key_name ?? f.key_id} · ${f.provider} · ${f.account}`
          : `${f.resource ?? f.owner ?? f.account} · ${f.provider}`;
    let g = groups.get(label);
    if (!g) groups.set(label, (g = { label, findings: [] }));
    g.findings.push(f);
  }
  return [...groups.values()];
}
