// Keyward's words for what the core reports in codes: scopes, rotations. Pure, unit-tested.
import type { Rotation, SyncOutcome } from "./ipc";

/** What a normalised scope lets a key do, in words. */
export function scopeWords(scope: string): string {
  if (scope === "admin" || scope === "*" || scope === "*:*") return "everything: full administrator access";
  const [area, ...rest] = scope.split(":");
  const what = rest.join(":");
  switch (area) {
    case "submit":
      return `send ${what || "data"} to the provider (write-only)`;
    case "remote_config":
      return `${what === "read" ? "read" : "use"} remote configuration`;
    case "services":
      return what === "*" ? "every service of the account" : `the service ${what}`;
    case "org":
      return `the whole organization, as ${what.replaceAll("_", " ")}`;
    case "project": {
      const [project, role] = what.split(":");
      return `project ${project}, as ${(role ?? "member").replaceAll("_", " ")}`;
    }
    case "ingest":
      return `send ${what} data (ingest only)`;
    case "user":
      return "everything its user may do";
    default:
      return what ? `${what.replaceAll("_", " ")} on ${area}` : area.replaceAll("_", " ");
  }
}

/** What a rotation came to, in words. */
export function rotationSummary(r: Rotation): string {
  const now = r.new_external_id ?? "—";
  switch (r.state) {
    case "grace":
      return `Rotated: ${now} is the new key; the old ${r.old_external_id} is deleted after ${r.grace_until}.`;
    case "done":
      return `Rotated: ${r.old_external_id} replaced by ${now}.`;
    case "rolled_back":
      return `Rolled back: ${r.error ?? ""}; the old key ${r.old_external_id} is kept.`;
    default:
      return `Rotation ${r.id} is ${r.state} at step ${r.step}${r.error ? `: ${r.error}` : ""}.`;
  }
}

/** "prod: 12 keys (1 new, 0 changed, 0 removed) · dev: failed". */
export function syncSummary(outcomes: SyncOutcome[]): string {
  if (outcomes.length === 0) return "No connectors yet: add one under Connectors.";
  return outcomes
    .map((o) => (o.ok ? `${o.connector}: ${o.seen} keys (${o.added} new, ${o.changed} changed, ${o.removed} removed)` : `${o.connector}: failed`))
    .join(" · ");
}
