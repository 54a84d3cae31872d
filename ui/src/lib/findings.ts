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

/** The groups cut to their first `limit` findings in all (later groups left out), with how many
 *  findings that leaves out. The view draws a page of findings at a time: at 10,000 keys there
 *  are ~20,000 of them, and drawn at once they hold the window up for seconds. Each group keeps
 *  its full count for its heading. */
export function firstFindings(groups: FindingGroup[], limit: number): { groups: (FindingGroup & { total: number })[]; hidden: number } {
  const out: (FindingGroup & { total: number })[] = [];
  let left = Math.max(0, limit);
  let hidden = 0;
  for (const g of groups) {
    if (left === 0) {
      hidden += g.findings.length;
      continue;
    }
    const findings = g.findings.length <= left ? g.findings : g.findings.slice(0, left);
    left -= findings.length;
    hidden += g.findings.length - findings.length;
    out.push({ label: g.label, findings, total: g.findings.length });
  }
  return { groups: out, hidden };
}
