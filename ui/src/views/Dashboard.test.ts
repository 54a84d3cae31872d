// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { answer, finding, key, reset } from "../test/shell";
import { data, place } from "../lib/app.svelte";
import { applyFilter, indexKeys } from "../lib/inventory";
import Dashboard from "./Dashboard.svelte";

const DAY = 86_400_000;
const iso = (days: number) => new Date(Date.now() + days * DAY).toISOString();

describe("Dashboard", () => {
  beforeEach(() => {
    reset();
    answer("health_history", [{ at: "2026-11-01T00:00:00Z", critical: 1, high: 2, medium: 0, low: 0, risk: 45 }]);
    data.keys = [
      key({ id: "a", provider: "aws", age_days: 10, expires_at: iso(3), last_used_at: iso(-1) }),
      key({ id: "b", provider: "aws", age_days: 400, usage_tracked: true, open_findings: 1, risk: 25, risk_parts: [{ rule_id: "root_access_key", severity: "critical", weight: 25 }] }),
      key({ id: "c", provider: "datadog", age_days: -1, last_used_at: iso(-200), open_findings: 1, risk: 5, risk_parts: [{ rule_id: "key_not_rotated", severity: "medium", weight: 5 }] }),
    ];
    data.findings = [finding({ id: 1, key_id: "b", severity: "critical" }), finding({ id: 2, key_id: "c", severity: "medium" })];
    data.shadows = [];
    data.exposures = [];
    place.filter = {};
    place.view = "dashboard";
  });

  it("counts and drills every number down to exactly the keys behind it", async () => {
    render(Dashboard);
    const bars = screen.getAllByTestId("chart-provider-bar");
    expect(bars.map((b) => b.textContent)).toEqual(["aws: 2", "datadog: 1"]);
    expect(screen.getByTestId("tile-at-risk").textContent).toContain("2");
    expect(screen.getByTestId("tile-critical").textContent).toContain("1");
    expect(screen.getByTestId("tile-expiring").textContent).toContain("1");
    // Each drill-down shows as many keys as its number says.
    const index = indexKeys(data.keys);
    for (const testid of ["chart-provider-bar", "chart-severity-bar", "chart-age-bar", "chart-expiring-bar", "chart-usage-bar"]) {
      for (const bar of screen.getAllByTestId(testid)) {
        await fireEvent.click(bar);
        expect(place.view).toBe("keys");
        const shown = applyFilter(index, place.filter, Date.now());
        expect(shown.length, `${testid} ${bar.dataset.label}`).toBe(Number(bar.querySelector("strong")!.textContent));
      }
    }
    await fireEvent.click(screen.getByTestId("tile-never"));
    expect(applyFilter(index, place.filter, Date.now()).map((r) => r.key.id)).toEqual(["b"]);
  });

  it("shows risk over time from the audits", async () => {
    render(Dashboard);
    expect((await screen.findByTestId("risk-over-time")).textContent!.replace(/\s+/g, " ")).toContain("risk 45, 1 critical and 2 high");
  });
});
