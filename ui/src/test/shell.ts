// A fake of the Tauri shell for component tests: each command answers from a table the test
// fills, every call is recorded, and unknown commands fail loudly (a view calling a command the
// shell does not have is a bug the test should see).
import { vi } from "vitest";
import type { Finding, Key, KeyFilter, KeySort, KeyTableSummary, KeyView, Provider } from "../lib/ipc";

export type Handler = (args: Record<string, unknown>) => unknown;
export const calls: { command: string; args: Record<string, unknown> }[] = [];
export const handlers = new Map<string, Handler>();

vi.mock("@tauri-apps/api/core", () => ({
  invoke: async (command: string, args: Record<string, unknown> = {}) => {
    calls.push({ command, args });
    const h = handlers.get(command);
    if (!h) throw { code: "unknown_command", message: `the fake shell has no ${command}` };
    return h(args);
  },
}));
vi.mock("@tauri-apps/api/event", () => ({ listen: async () => () => {} }));

// jsdom lays nothing out: no ResizeObserver, and every element is 0 px high (so a virtualised
// list draws its overscan only).
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

export function reset() {
  calls.length = 0;
  handlers.clear();
  localStorage.clear();
}

export function answer(command: string, value: unknown | Handler) {
  handlers.set(command, typeof value === "function" ? (value as Handler) : () => structuredClone(value));
}

export function called(command: string) {
  return calls.filter((c) => c.command === command);
}

/** A key as the inventory lists it. */
export function key(over: Partial<Key> = {}): Key {
  return {
    id: "k1",
    provider: "aws",
    account: "prod",
    external_id: "AKIAEXAMPLE1",
    name: "AKIAEXAMPLE1",
    owner: "alice",
    status: "active",
    created_at: "2026-01-01T00:00:00Z",
    age_days: 200,
    last_used_at: null,
    last_used_service: null,
    last_used_region: null,
    usage_tracked: true,
    expires_at: null,
    has_secret: false,
    open_findings: 0,
    risk: 0,
    risk_parts: [],
    settled: false,
    tags: [],
    kind: "access_key",
    check_result: null,
    ...over,
  };
}

/** A key as its own page shows it (`key_detail`). */
export function keyView(over: Partial<KeyView> = {}): KeyView {
  return {
    ...key(),
    scopes: [],
    first_seen_at: "2026-01-02T00:00:00Z",
    last_seen_at: "2026-06-01T00:00:00Z",
    removed_at: null,
    risk_parts: [],
    secret_readable: false,
    details: {},
    checked_at: null,
    ...over,
  } as KeyView;
}

/** What the shell's `list_findings` answers for `findings`: each rule's words said once. */
export function listing(findings: Finding[]) {
  const words = new Map<string, { rule_id: string; provider: string; remediation: string; practices: string[]; controls: string[] }>();
  const lines = findings.map((f) => {
    const key = `${f.rule_id}\u0000${f.provider}`;
    if (!words.has(key)) words.set(key, { rule_id: f.rule_id, provider: f.provider, remediation: f.remediation, practices: f.practices, controls: f.controls });
    return { ...f, remediation: "", practices: [], controls: [] };
  });
  return { findings: lines, words: [...words.values()] };
}

export function finding(over: Partial<Finding> = {}): Finding {
  return {
    id: 1,
    rule_id: "key_not_rotated",
    severity: "medium",
    weight: 5,
    state: "open",
    key_id: "k1",
    provider: "aws",
    account: "prod",
    external_id: "AKIAEXAMPLE1",
    owner: "alice",
    resource: null,
    title: "Key not rotated within the policy period",
    detail: "200 days old",
    remediation: "Rotate it",
    first_seen_at: "2026-06-01T00:00:00Z",
    last_seen_at: "2026-06-01T00:00:00Z",
    snoozed_until: null,
    resolution: null,
    note: null,
    key_name: "AKIAEXAMPLE1",
    practices: [],
    controls: [],
    ...over,
  };
}

export const providers: Provider[] = [
  {
    id: "datadog",
    name: "Datadog",
    connectable: true,
    not_connectable_why: null,
    verify_found: "GET /api/v1/validate",
    credentials: [[{ field: "api_key", label: "API key", env: "DD_API_KEY" }, { field: "app_key", label: "Application key", env: "DD_APP_KEY" }]],
    settings: [
      { key: "site", flag: "--site", help: "the Datadog site", kind: "text" },
      { key: "endpoint", flag: "--endpoint", help: "a stand-in", kind: "text" },
    ],
    reads: "API and application keys (GET /api/v2/api_keys, /api/v2/application_keys)",
    rotation: ["create: POST /api/v2/api_keys", "disable: not possible (Datadog keys cannot be disabled)", "delete: DELETE /api/v2/api_keys/{id}"],
  },
  {
    id: "aws",
    name: "AWS",
    connectable: true,
    not_connectable_why: null,
    verify_found: null,
    credentials: [],
    settings: [
      { key: "profile", flag: "--profile", help: "the named profile", kind: "text" },
      { key: "organization", flag: "--organization", help: "every account", kind: "flag" },
      { key: "accounts", flag: "--accounts", help: "only these", kind: "list" },
    ],
    reads: "IAM users' access keys",
    rotation: [],
  },
  {
    id: "linear",
    name: "Linear",
    connectable: false,
    not_connectable_why: "Linear's API cannot list keys.",
    verify_found: "viewer { id }",
    credentials: [],
    settings: [],
    reads: null,
    rotation: [],
  },
];

/** A fake of the shell's key table over `keys`, with the few filters and orders the component
 * tests use (the real ones are the shell's, tested in core/src/api/table.rs): answers
 * `load_key_table`, `key_table_rows` and `key_names`, and returns the summary the window holds.
 * An unfaked filter or order fails loudly. */
export function keyTable(keys: Key[]): KeyTableSummary {
  const sorted = (s: Set<string>) => [...s].sort();
  const summary: KeyTableSummary = {
    generation: 1,
    facets: {
      providers: sorted(new Set(keys.map((k) => k.provider))),
      accounts: sorted(new Set(keys.map((k) => k.account))),
      owners: sorted(new Set(keys.flatMap((k) => (k.owner ? [k.owner] : [])))),
      tags: sorted(new Set(keys.flatMap((k) => k.tags))),
      rules: sorted(new Set(keys.flatMap((k) => k.risk_parts.map((p) => p.rule_id)))),
    },
    counts: { total: keys.length, by_provider: [], by_severity: [], by_age: [], expired: 0, expiring: [], unused: 0, never_used: 0, at_risk: 0, total_risk: 0 },
  };
  answer("load_key_table", summary);
  answer("key_names", (a: Record<string, unknown>) => Object.fromEntries(keys.filter((k) => (a.ids as string[]).includes(k.id)).map((k) => [k.id, k.name])));
  answer("key_table_rows", (a: Record<string, unknown>) => {
    const f = a.filter as KeyFilter;
    const sort = a.sort as KeySort;
    const faked = new Set(["query", "provider", "rule", "hideSettled"]);
    for (const field of Object.keys(f)) if (!faked.has(field)) throw new Error(`the fake table has no ${field} filter`);
    const q = f.query?.trim().toLowerCase() ?? "";
    const kept = keys.filter(
      (k) =>
        (!q || `${k.provider} ${k.name} ${k.owner ?? ""} ${k.id}`.toLowerCase().includes(q)) &&
        (!f.provider || k.provider === f.provider) &&
        (!f.rule || k.risk_parts.some((p) => p.rule_id === f.rule)) &&
        (!f.hideSettled || !k.settled),
    );
    const byName = (x: Key, y: Key) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
    if (sort.column === "risk") kept.sort((x, y) => (sort.descending ? y.risk - x.risk : x.risk - y.risk) || byName(x, y));
    else if (sort.column === "name") kept.sort((x, y) => (sort.descending ? byName(y, x) : byName(x, y)));
    else throw new Error(`the fake table has no ${sort.column} order`);
    const first = Math.min(a.first as number, kept.length);
    return structuredClone({ generation: 1, shown: kept.length, total: keys.length, first, rows: kept.slice(first, first + (a.count as number)) });
  });
  return summary;
}
