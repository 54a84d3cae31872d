// Pure presentation helpers, unit-tested without a webview.
import type { Finding, Key, SyncProgress } from "./ipc";

const DAY = 86_400_000;

/** Whole days between an RFC 3339 instant and `now` (floored), or null. */
export function daysSince(iso: string | null, now: Date): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.floor((now.getTime() - t) / DAY);
}

/** "3d", "5mo", "2y": compact ages for table cells. */
export function formatAge(days: number | null): string {
  if (days === null) return "—";
  if (days < 0) return "future";
  if (days < 60) return `${days}d`;
  if (days < 730) return `${Math.floor(days / 30)}mo`;
  return `${Math.floor(days / 365)}y`;
}

/** The "last used" cell: a relative age, "never" when the provider says so, "unknown" otherwise. */
export function formatLastUsed(key: Pick<Key, "last_used_at" | "usage_tracked">, now: Date): string {
  if (key.last_used_at) {
    const d = daysSince(key.last_used_at, now);
    return d === 0 ? "today" : `${formatAge(d)} ago`;
  }
  return key.usage_tracked ? "never" : "unknown";
}

const SEVERITY_RANK: Record<Finding["severity"], number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Findings ordered most severe first, then by rule and key, stable for equal entries. Texts
 *  compare by code unit, not `localeCompare`: over 300,000 findings (100,000 keys) the locale's
 *  collation made the sort most of the seconds Findings took to open. */
export function sortFindings(findings: Finding[]): Finding[] {
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      text(a.rule_id, b.rule_id) ||
      text(a.external_id ?? a.owner ?? "", b.external_id ?? b.owner ?? ""),
  );
}

/** The findings of one practice (all of them when none is chosen). */
export function findingsOfPractice(findings: Finding[], practice: string | null): Finding[] {
  return practice === null ? findings : findings.filter((f) => f.practices.includes(practice));
}

/** "3 of 40 fail" for what a practice judges, "—" when it judges none of them. */
export function practiceTally(t: { judged: number; failing: number }): string {
  return t.judged === 0 ? "—" : `${t.failing} of ${t.judged} fail`;
}

/** "key_not_rotated +5 · secret_readable_after_creation +2": what a risk score is made of. */
export function riskParts(key: Key): string {
  return key.risk_parts.map((p) => `${p.rule_id} +${p.weight}`).join(" · ");
}

/** "Syncing prod: users 120/2000 (6%)". */
export function progressLabel(p: SyncProgress): string {
  const count = p.total === null ? `${p.done}` : `${p.done}/${p.total}`;
  const pct = p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : "";
  return `Syncing ${p.connector}: ${p.phase} ${count}${pct}`;
}

/** "12 files, 3.4 MiB, 2 hits" for the scan's progress line. */
export function scanProgressLabel(p: { files: number; bytes: number; hits: number }): string {
  const mib = (p.bytes / 1048576).toFixed(1);
  return `Scanning: ${p.files} files, ${mib} MiB, ${p.hits} ${p.hits === 1 ? "hit" : "hits"}`;
}

/** Where an exposure is: `path:line`, with the commit for git history. */
export function exposurePlace(e: { path: string; line: number; revision: string | null }): string {
  return e.revision ? `${e.path}:${e.line} @ ${e.revision.slice(0, 10)}` : `${e.path}:${e.line}`;
}
