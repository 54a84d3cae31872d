// The inventory's filter and sort over 100,000 keys, as the table runs them on each keystroke and
// header click: `npm run bench` (figures in docs/benchmarks.md). The window's own cost (drawing
// the ~40 rows in sight) comes on top and is measured in the window.
import { bench, describe } from "vitest";
import { applyFilter, indexKeys, sortRows } from "../src/lib/inventory";
import type { Key } from "../src/lib/ipc";

const N = 100_000;
const now = Date.now();
const providers = ["aws", "datadog", "mongodb_atlas", "fastly", "newrelic", "linear"];
const keys: Key[] = Array.from({ length: N }, (_, i) => ({
  id: `0190${i.toString(16).padStart(12, "0")}`,
  provider: providers[i % providers.length],
  account: `account-${i % 40}`,
  external_id: `AKIA${i.toString(36).toUpperCase().padStart(16, "0")}`,
  name: `service-${i % 997}-key-${i}`,
  owner: `owner-${i % 5000}@example.com`,
  status: i % 9 === 0 ? "inactive" : "active",
  created_at: new Date(now - (i % 900) * 86_400_000).toISOString(),
  age_days: i % 900,
  last_used_at: i % 4 === 0 ? null : new Date(now - (i % 300) * 86_400_000).toISOString(),
  last_used_service: null,
  last_used_region: null,
  usage_tracked: true,
  expires_at: i % 10 === 0 ? new Date(now + (i % 60) * 86_400_000).toISOString() : null,
  scopes: [],
  has_secret: i % 3 === 0,
  first_seen_at: "2026-01-01T00:00:00Z",
  last_seen_at: "2026-12-01T00:00:00Z",
  removed_at: null,
  open_findings: i % 5,
  risk: (i * 7919) % 60,
  risk_parts: [],
  tags: i % 11 === 0 ? ["production"] : [],
  kind: "access_key",
  secret_readable: false,
  details: {},
  checked_at: null,
  check_result: null,
}));
const index = indexKeys(keys);
const order = sortRows(index, { column: "risk", descending: true });

describe("100,000 keys", () => {
  bench("index (once per data change)", () => {
    indexKeys(keys);
  });
  bench("filter: a keystroke of search", () => {
    applyFilter(index, { query: "service-42" }, now, { order });
  });
  bench("filter: search + provider + finding", () => {
    applyFilter(index, { query: "owner-1", provider: "aws", rule: "key_unused" }, now, { order });
  });
  bench("sort by risk", () => {
    sortRows(index, { column: "risk", descending: true });
  });
  bench("sort by last use", () => {
    sortRows(index, { column: "last_used", descending: true });
  });
});
