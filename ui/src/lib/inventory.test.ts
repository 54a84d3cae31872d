import { describe, expect, it } from "vitest";
import { filterChips } from "./inventory";
import { readThreshold, writeThreshold } from "./policy";
import { firstFindings, groupFindings } from "./findings";
import { scopeWords } from "./words";
import type { Finding } from "./ipc";

// The filters, sorts, counts and export are the shell's, tested with it (core/src/api/table.rs).
describe("filter chips", () => {
  it("says every active filter in words, and none when there is none", () => {
    expect(filterChips({})).toEqual([]);
    expect(filterChips({ provider: "aws", risk: "high", age: "365+", expiresWithin: 7, managed: false, ids: ["a", "b"] }).map((c) => c.label)).toEqual([
      "provider: aws",
      "risk: 10+",
      "age: over a year",
      "expires within 7 d",
      "unmanaged",
      "2 chosen keys",
    ]);
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
