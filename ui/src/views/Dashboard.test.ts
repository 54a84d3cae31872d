// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { answer, reset } from "../test/shell";
import { data, place } from "../lib/app.svelte";
import Dashboard from "./Dashboard.svelte";


describe("Dashboard", () => {
  beforeEach(() => {
    reset();
    answer("health_history", [{ at: "2026-11-01T00:00:00Z", critical: 1, high: 2, medium: 0, low: 0, risk: 45 }]);
    // The shell's counts (each the number of keys its filter shows: core/src/api/table.rs).
    data.table = {
      generation: 1,
      facets: { providers: ["aws", "datadog"], accounts: [], owners: [], tags: [], rules: [] },
      counts: {
        total: 3,
        by_provider: [{ name: "aws", keys: 2 }, { name: "datadog", keys: 1 }],
        by_severity: [{ name: "critical", keys: 1 }, { name: "high", keys: 0 }, { name: "medium", keys: 1 }, { name: "low", keys: 0 }],
        by_age: [{ name: "0-30", keys: 2 }, { name: "365+", keys: 1 }],
        expired: 0,
        expiring: [{ name: "1", keys: 0 }, { name: "7", keys: 1 }, { name: "30", keys: 1 }],
        unused: 1,
        never_used: 1,
        at_risk: 2,
        total_risk: 30,
      },
    };
    data.shadows = [];
    data.exposures = [];
    place.filter = {};
    place.view = "dashboard";
  });

  it("shows the shell's counts and drills each down to the filter that shows exactly its keys", async () => {
    render(Dashboard);
    expect(screen.getAllByTestId("chart-provider-bar").map((b) => b.textContent)).toEqual(["aws: 2", "datadog: 1"]);
    expect(screen.getByTestId("tile-keys").textContent).toContain("3");
    expect(screen.getByTestId("tile-at-risk").textContent).toContain("2");
    expect(screen.getByTestId("tile-critical").textContent).toContain("1");
    expect(screen.getByTestId("tile-expiring").textContent).toContain("1");
    const drilled = async (testid: string, label: string) => {
      const bar = screen.getAllByTestId(testid).find((b) => b.dataset.label === label)!;
      await fireEvent.click(bar);
      expect(place.view).toBe("keys");
      const filter = { ...place.filter };
      place.view = "dashboard";
      return filter;
    };
    expect(await drilled("chart-provider-bar", "datadog")).toEqual({ provider: "datadog" });
    expect(await drilled("chart-severity-bar", "medium")).toEqual({ severity: "medium" });
    expect(await drilled("chart-age-bar", "over a year")).toEqual({ age: "365+" });
    expect(await drilled("chart-expiring-bar", "within 7 days")).toEqual({ expiresWithin: 7 });
    expect(await drilled("chart-usage-bar", "unused 90+ days")).toEqual({ usage: "unused" });
    expect(screen.getAllByTestId("chart-age-bar").map((b) => b.textContent)).toContain("over a year: 1");
    await fireEvent.click(screen.getByTestId("tile-never"));
    expect({ ...place.filter }).toEqual({ usage: "never" });
  });

  it("shows risk over time from the audits", async () => {
    render(Dashboard);
    expect((await screen.findByTestId("risk-over-time")).textContent!.replace(/\s+/g, " ")).toContain("risk 45, 1 critical and 2 high");
  });
});
