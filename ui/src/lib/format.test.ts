import { describe, expect, it } from "vitest";
import {
  findingsOfPractice,
  practiceTally,
  daysSince,
  exposurePlace,
  formatAge,
  formatLastUsed,
  progressLabel,
  riskParts,
  scanProgressLabel,
  sortFindings,
} from "./format";
import type { Finding, Key } from "./ipc";

const now = new Date("2026-06-01T12:00:00Z");

function key(over: Partial<Key>): Key {
  return {
    id: "k",
    provider: "aws",
    account: "prod",
    external_id: "AKIA1",
    name: "AKIA1",
    owner: "alice",
    status: "active",
    created_at: null,
    age_days: null,
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

function finding(over: Partial<Finding>): Finding {
  return {
    rule_id: "key_unused",
    severity: "medium",
    key_id: null,
    provider: "aws",
    account: "prod",
    external_id: null,
    owner: null,
    title: "",
    detail: "",
    remediation: "",
    id: 1,
    weight: 2,
    state: "open",
    resource: null,
    first_seen_at: "2026-06-01T00:00:00Z",
    last_seen_at: "2026-06-01T00:00:00Z",
    practices: [],
    controls: [],
    snoozed_until: null,
    resolution: null,
    note: null,
    key_name: null,
    ...over,
  };
}

describe("ages", () => {
  it("floors whole days", () => {
    expect(daysSince("2026-05-31T12:00:01Z", now)).toBe(0);
    expect(daysSince("2026-05-31T12:00:00Z", now)).toBe(1);
    expect(daysSince(null, now)).toBeNull();
    expect(daysSince("garbage", now)).toBeNull();
  });

  it("formats compactly", () => {
    expect(formatAge(null)).toBe("—");
    expect(formatAge(59)).toBe("59d");
    expect(formatAge(91)).toBe("3mo");
    expect(formatAge(800)).toBe("2y");
    expect(formatAge(-1)).toBe("future");
  });

  it("tells never-used from unknown", () => {
    expect(formatLastUsed(key({ usage_tracked: true }), now)).toBe("never");
    expect(formatLastUsed(key({ usage_tracked: false }), now)).toBe("unknown");
    expect(formatLastUsed(key({ last_used_at: "2026-06-01T01:00:00Z" }), now)).toBe("today");
    expect(formatLastUsed(key({ last_used_at: "2026-05-01T12:00:00Z" }), now)).toBe("31d ago");
  });
});

describe("ordering and filtering", () => {
  it("puts critical findings first", () => {
    const sorted = sortFindings([
      finding({ severity: "low", rule_id: "key_never_used" }),
      finding({ severity: "critical", rule_id: "root_access_key" }),
      finding({ severity: "high", rule_id: "owner_admin_access" }),
    ]);
    expect(sorted.map((f) => f.severity)).toEqual(["critical", "high", "low"]);
    const ties = sortFindings([
      finding({ id: 1, severity: "high", rule_id: "key_unused", external_id: "b" }),
      finding({ id: 2, severity: "high", rule_id: "key_expiring", external_id: "c" }),
      finding({ id: 3, severity: "high", rule_id: "key_unused", external_id: null, owner: "a" }),
    ]);
    expect(ties.map((f) => f.id)).toEqual([2, 3, 1]);
  });

  it("says what a risk score is made of", () => {
    const parts = [{ rule_id: "root_access_key", severity: "critical" as const, weight: 25 }];
    expect(riskParts(key({ risk: 25, risk_parts: parts }))).toBe("root_access_key +25");
  });
});

describe("progress", () => {
  it("shows counts and a percentage when the total is known", () => {
    expect(progressLabel({ connector: "prod", phase: "users", done: 120, total: 2000 })).toBe("Syncing prod: users 120/2000 (6%)");
    expect(progressLabel({ connector: "prod", phase: "users", done: 7, total: null })).toBe("Syncing prod: users 7");
    expect(progressLabel({ connector: "prod", phase: "users", done: 0, total: 0 })).toBe("Syncing prod: users 0/0");
  });
});

describe("scan labels", () => {
  it("counts files, MiB and hits", () => {
    expect(scanProgressLabel({ files: 12, bytes: 3 * 1048576 + 400_000, hits: 1 })).toBe("Scanning: 12 files, 3.4 MiB, 1 hit");
    expect(scanProgressLabel({ files: 0, bytes: 0, hits: 2 })).toBe("Scanning: 0 files, 0.0 MiB, 2 hits");
  });
  it("places history hits at their commit", () => {
    expect(exposurePlace({ path: "/p/.env", line: 3, revision: null })).toBe("/p/.env:3");
    expect(exposurePlace({ path: "/r/a.py", line: 1, revision: "0123456789abcdef" })).toBe("/r/a.py:1 @ 0123456789");
  });
});

describe("practices", () => {
  it("keeps the findings of the chosen practice, or all", () => {
    const list = [
      finding({ id: 1, practices: ["authentication", "regular-audits"] }),
      finding({ id: 2, practices: ["rate-limiting"] }),
    ];
    expect(findingsOfPractice(list, null).map((f) => f.id)).toEqual([1, 2]);
    expect(findingsOfPractice(list, "rate-limiting").map((f) => f.id)).toEqual([2]);
    expect(findingsOfPractice(list, "encryption")).toEqual([]);
  });
  it("says what fails out of what is judged", () => {
    expect(practiceTally({ judged: 40, failing: 3 })).toBe("3 of 40 fail");
    expect(practiceTally({ judged: 0, failing: 0 })).toBe("—");
  });
});
