import { describe, expect, it } from "vitest";
import { ageBand, applyFilter, exportKeys, indexKeys, riskBand, sortRows, usageOf, expiresWithin, hasExpired } from "./inventory";
import { readThreshold, writeThreshold } from "./policy";
import { firstFindings, groupFindings } from "./findings";
import { scopeWords } from "./words";
import type { Finding, Key } from "./ipc";

const DAY = 86_400_000;
const now = Date.parse("2026-12-01T00:00:00Z");

function key(over: Partial<Key>): Key {
  return {
    id: "k", provider: "aws", account: "prod", external_id: null, name: "n", owner: null, status: "active", created_at: null,
    age_days: null, last_used_at: null, last_used_service: null, last_used_region: null, usage_tracked: false, expires_at: null,
    has_secret: false, open_findings: 0, risk: 0, risk_parts: [], settled: false,
    tags: [], kind: null, check_result: null, ...over,
  };
}

describe("bands", () => {
  it("puts every age, risk and use in exactly one band, at the edges too", () => {
    expect([0, 29, 30, 89, 90, 364, 365, null].map(ageBand)).toEqual(["0-30", "0-30", "30-90", "30-90", "90-180", "180-365", "365+", "unknown"]);
    expect([0, 1, 4, 5, 9, 10, 500].map(riskBand)).toEqual(["none", "low", "low", "medium", "medium", "high", "high"]);
    expect(usageOf(key({ usage_tracked: true }), now)).toBe("never");
    expect(usageOf(key({ usage_tracked: false }), now)).toBe("unknown");
    expect(usageOf(key({ last_used_at: new Date(now - 91 * DAY).toISOString() }), now)).toBe("unused");
    expect(usageOf(key({ last_used_at: new Date(now - 89 * DAY).toISOString() }), now)).toBe("used");
    expect(expiresWithin(key({ expires_at: new Date(now - DAY).toISOString() }), 1, now)).toBe(false);
    expect(hasExpired(key({ expires_at: new Date(now - DAY).toISOString() }), now)).toBe(true);
    expect(expiresWithin(key({ expires_at: new Date(now + DAY / 2).toISOString() }), 1, now)).toBe(true);
    expect(expiresWithin(key({ expires_at: new Date(now + 8 * DAY).toISOString() }), 7, now)).toBe(false);
  });
});

describe("applyFilter", () => {
  const keys = [
    key({ id: "a", tags: ["prod"], has_secret: true, owner: "alice", settled: true }),
    key({ id: "b", provider: "datadog", status: "inactive", expires_at: new Date(now - DAY).toISOString() }),
    key({ id: "c", name: "Deploy-Bot", open_findings: 1, risk: 10, risk_parts: [{ rule_id: "key_not_rotated", severity: "high", weight: 10 }] }),
  ];
  const index = indexKeys(keys);
  const ids = (f: Parameters<typeof applyFilter>[1]) => applyFilter(index, f, now, { exposed: new Set(["b"]) }).map((r) => r.key.id);

  it("keeps what each filter says and nothing else", () => {
    expect(ids({})).toEqual(["a", "b", "c"]);
    expect(ids({ query: "deploy" })).toEqual(["c"]);
    expect(ids({ query: "PROD" })).toEqual(["a", "b", "c"]); // account prod
    expect(ids({ query: "ALICE" })).toEqual(["a"]); // owner, any case
    expect(ids({ query: "  " })).toEqual(["a", "b", "c"]);
    expect(ids({ tag: "prod" })).toEqual(["a"]);
    expect(ids({ managed: true })).toEqual(["a"]);
    expect(ids({ managed: false })).toEqual(["b", "c"]);
    expect(ids({ status: "inactive" })).toEqual(["b"]);
    expect(ids({ rule: "key_not_rotated" })).toEqual(["c"]);
    expect(ids({ rule: "key_unused" })).toEqual([]); // acknowledged is not open
    expect(ids({ severity: "high" })).toEqual(["c"]);
    expect(ids({ exposed: true })).toEqual(["b"]);
    expect(ids({ risky: true })).toEqual(["c"]);
    expect(ids({ owner: "alice", provider: "aws" })).toEqual(["a"]);
    expect(ids({ hideSettled: true })).toEqual(["c"]); // a: only acknowledged findings; b: expired
    expect(ids({ ids: ["b", "zz"] })).toEqual(["b"]);
  });
});

describe("reading the filter and the sort", () => {
  it("reads each once, not once per row (the page's are reactive proxies)", () => {
    const keys = Array.from({ length: 500 }, (_, i) => key({ id: `k${i}`, name: `n${i}`, risk: i % 9 }));
    const index = indexKeys(keys);
    let reads = 0;
    const counted = <T extends object>(o: T) => new Proxy(o, { get: (t, p, r) => { reads++; return Reflect.get(t, p, r); } });
    applyFilter(index, counted({ query: "n1", provider: "aws", hideSettled: true }), now);
    expect(reads).toBeLessThan(50);
    reads = 0;
    sortRows(index, counted({ column: "risk", descending: true }));
    expect(reads).toBeLessThan(10);
  });
});

describe("sortRows", () => {
  const ids = (keys: Key[], sort: Parameters<typeof sortRows>[1]) => {
    const index = indexKeys(keys);
    return Array.from(sortRows(index, sort), (i) => index.rows[i].key.id);
  };
  it("sorts every column both ways, ties by name", () => {
    const keys = [
      key({ id: "a", name: "b", provider: "fastly", owner: null, age_days: 3 }),
      key({ id: "b", name: "a", provider: "aws", owner: "zed", age_days: null }),
      key({ id: "c", name: "c", provider: "aws", owner: "amy", age_days: 3 }),
    ];
    expect(ids(keys, { column: "provider", descending: false })).toEqual(["b", "c", "a"]);
    expect(ids(keys, { column: "provider", descending: true })).toEqual(["a", "b", "c"]);
    expect(ids(keys, { column: "owner", descending: false })).toEqual(["c", "b", "a"]);
    expect(ids(keys, { column: "name", descending: true })).toEqual(["c", "a", "b"]);
    expect(ids(keys, { column: "age", descending: false })).toEqual(["a", "c", "b"]);
    expect(ids(keys, { column: "age", descending: true })).toEqual(["a", "c", "b"]);
  });
  it("keeps every row when values are below zero (a provider's clock ahead, a date before 1970)", () => {
    const keys = [
      key({ id: "a", name: "a", age_days: 3, last_used_at: "1969-07-20T20:17:00Z" }),
      key({ id: "b", name: "b", age_days: -1, last_used_at: "2026-01-01T00:00:00Z" }),
      key({ id: "c", name: "c", age_days: null }),
    ];
    expect(ids(keys, { column: "age", descending: false })).toEqual(["b", "a", "c"]);
    expect(ids(keys, { column: "last_used", descending: false })).toEqual(["a", "b", "c"]);
    expect(ids(keys, { column: "owner", descending: true })).toEqual(["a", "b", "c"]);
    expect(ageBand(-1)).toBe("0-30");
  });

  it("sorts risk numerically, and puts missing values last either way", () => {
    const keys = [key({ id: "a", risk: 2 }), key({ id: "b", risk: 10 }), key({ id: "c", risk: 2, open_findings: 3 })];
    expect(ids(keys, { column: "risk", descending: true })).toEqual(["b", "c", "a"]);
    const dated = [key({ id: "x" }), key({ id: "y", last_used_at: "2026-01-01T00:00:00Z" }), key({ id: "z", last_used_at: "2026-06-01T00:00:00Z" })];
    expect(ids(dated, { column: "last_used", descending: true })).toEqual(["z", "y", "x"]);
    expect(ids(dated, { column: "last_used", descending: false })).toEqual(["y", "z", "x"]);
  });
});

describe("exportKeys", () => {
  it("quotes CSV, keeps formulas as text and carries no secret field", () => {
    const csv = exportKeys([key({ id: "a", name: '=HYPERLINK("x"), "b"', tags: ["t1", "t2"] })], "csv");
    const [header, row] = csv.trim().split("\r\n");
    expect(header).not.toMatch(/secret/);
    expect(row).toContain(`"'=HYPERLINK(""x""), ""b"""`);
    expect(row).toContain("t1;t2");
    expect(JSON.parse(exportKeys([key({ id: "a" })], "json"))[0]).not.toHaveProperty("details");
  });
});

describe("policy form", () => {
  const text = "# top\n[defaults]\nnot_rotated_days = 90   # key_not_rotated\nunused_days = 45\n\n[provider.datadog]\nnot_rotated_days = 180\n";
  it("reads and writes [defaults] only, keeping comments and other sections", () => {
    expect(readThreshold(text, "not_rotated_days")).toBe(90);
    expect(readThreshold(text, "disabled_days")).toBeNull();
    const changed = writeThreshold(text, "not_rotated_days", "30");
    expect(changed).toContain("not_rotated_days = 30   # key_not_rotated");
    expect(changed).toContain("[provider.datadog]\nnot_rotated_days = 180");
    expect(readThreshold(writeThreshold(text, "disabled_days", "10"), "disabled_days")).toBe(10);
    expect(writeThreshold(text, "unused_days", "")).not.toContain("unused_days");
    expect(writeThreshold(text, "unused_days", "4x")).toBe(text);
    expect(readThreshold(writeThreshold("", "unused_days", "5"), "unused_days")).toBe(5);
  });
});

describe("words", () => {
  it("says what scopes allow", () => {
    expect(scopeWords("admin")).toContain("full administrator");
    expect(scopeWords("project:abc:GROUP_OWNER")).toBe("project abc, as GROUP OWNER");
    expect(scopeWords("remote_config:read")).toBe("read remote configuration");
  });
  it("groups findings in the order they come", () => {
    const f = (id: number, rule: string) => ({ id, rule_id: rule, title: rule, key_id: null, resource: null, owner: null, account: "a", provider: "p" }) as unknown as Finding;
    expect(groupFindings([f(1, "b"), f(2, "a"), f(3, "b")], "rule").map((g) => [g.label, g.findings.length])).toEqual([["b (b)", 2], ["a (a)", 1]]);
  });
});

describe("firstFindings", () => {
  const f = (id: number, rule: string) => ({ id, rule_id: rule, title: rule, key_id: null, resource: null, owner: null, account: "a", provider: "p" }) as unknown as Finding;
  const groups = groupFindings([f(1, "a"), f(2, "a"), f(3, "b"), f(4, "b"), f(5, "c")], "rule");

  it("draws the first findings across groups, keeps each group's count, and says how many it left out", () => {
    const cut = firstFindings(groups, 3);
    expect(cut.groups.map((g) => [g.findings.map((x) => x.id), g.total])).toEqual([[[1, 2], 2], [[3], 2]]);
    expect(cut.hidden).toBe(2);
    expect(firstFindings(groups, 5).hidden).toBe(0);
    expect(firstFindings(groups, 0)).toEqual({ groups: [], hidden: 5 });
  });
});
