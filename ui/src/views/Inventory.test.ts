// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from "vitest";
import { tick } from "svelte";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { answer, called, key, reset } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import Inventory from "./Inventory.svelte";

function keys(n: number) {
  return Array.from({ length: n }, (_, i) =>
    key({ id: `k${i}`, name: `key-${String(i).padStart(5, "0")}`, risk: i % 7, provider: i % 2 ? "aws" : "datadog", owner: `owner-${i % 3}` }),
  );
}

describe("Inventory", () => {
  beforeEach(() => {
    reset();
    place.filter = {};
    place.keyId = null;
    session.providers = [];
    data.findings = [];
    data.exposures = [];
  });

  it("draws only the rows in sight, however many keys there are", () => {
    data.keys = keys(5000);
    render(Inventory);
    const rows = screen.getAllByTestId("key-row");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    expect(screen.getByTestId("key-count").textContent).toBe("5000 keys");
  });

  it("sorts by risk first and by a clicked column after", async () => {
    data.keys = keys(20);
    render(Inventory);
    const risks = () => screen.getAllByTestId("risk").map((c) => Number(c.textContent));
    expect(risks()).toEqual([...risks()].sort((a, b) => b - a));
    await fireEvent.click(screen.getByTestId("sort-name"));
    const names = screen.getAllByTestId("key-row").map((r) => r.querySelector(".name")!.textContent!.slice(0, 9));
    expect(names).toEqual([...names].sort());
  });

  it("searches and filters, counts what it shows and clears", async () => {
    data.keys = keys(30);
    render(Inventory);
    await fireEvent.input(screen.getByTestId("filter"), { target: { value: "key-0001" } });
    expect(screen.getByTestId("key-count").textContent).toBe("10 of 30 keys");
    await fireEvent.change(screen.getByTestId("filter-provider"), { target: { value: "aws" } });
    expect(screen.getByTestId("key-count").textContent).toBe("5 of 30 keys");
    expect(screen.getAllByTestId("filter-chip").map((c) => c.textContent)).toEqual(["provider: aws ✕"]);
    await fireEvent.click(screen.getByTestId("clear-filters"));
    expect(screen.getByTestId("key-count").textContent).toBe("30 keys");
  });

  it("filters by an open finding's rule and hides settled keys", async () => {
    data.keys = keys(3);
    data.keys = [
      { ...data.keys[0], open_findings: 1, risk_parts: [{ rule_id: "key_unused", severity: "medium", weight: 5 }] },
      ...data.keys.slice(1),
    ];
    data.keys = [data.keys[0], { ...data.keys[1], settled: true }, data.keys[2]];
    render(Inventory);
    await fireEvent.change(screen.getByTestId("filter-rule"), { target: { value: "key_unused" } });
    expect(screen.getAllByTestId("key-row").map((r) => r.dataset.keyId)).toEqual(["k0"]);
    place.filter = {};
    await fireEvent.click(screen.getByTestId("hide-settled"));
    expect(screen.getAllByTestId("key-row").map((r) => r.dataset.keyId).sort()).toEqual(["k0", "k2"]);
  });

  it("opens a key on click and with the keyboard", async () => {
    data.keys = keys(3);
    render(Inventory);
    await fireEvent.click(screen.getAllByTestId("key-row")[1]);
    expect(place.keyId).toBe(screen.getAllByTestId("key-row")[1].dataset.keyId);
    place.keyId = null;
    await fireEvent.keyDown(window, { key: "ArrowDown" });
    await fireEvent.keyDown(window, { key: "ArrowDown" });
    await fireEvent.keyDown(window, { key: "Enter" });
    expect(place.keyId).toBe(screen.getAllByTestId("key-row")[2].dataset.keyId);
  });

  it("scrolls the rows by the scrollbar beside them, the wheel over them and the page keys", async () => {
    // jsdom lays nothing out: the rows' box is given the height of ten rows.
    const tall = vi.spyOn(HTMLElement.prototype, "clientHeight", "get").mockReturnValue(340);
    try {
      data.keys = keys(5000);
      render(Inventory);
      await tick();
      const byRisk = [...data.keys].sort((a, b) => b.risk - a.risk || (a.name < b.name ? -1 : 1)).map((k) => k.id);
      const scroller = screen.getByTestId("keys-scroller");
      const rows = () => screen.getAllByTestId("key-row");
      const opened = async (key: string) => {
        await fireEvent.keyDown(window, { key });
        await fireEvent.keyDown(window, { key: "Enter" });
        const id = place.keyId;
        place.keyId = null;
        return id;
      };
      expect(rows().map((r) => r.dataset.keyId)).toEqual(byRisk.slice(0, 11));

      scroller.scrollTop = 34 * 10 + 5;
      await fireEvent.scroll(scroller);
      expect(rows().map((r) => r.dataset.keyId)).toEqual(byRisk.slice(10, 21));
      expect(rows()[0].getAttribute("aria-rowindex")).toBe("12");
      // The rows' box shows the 5 px of its first row scrolled past.
      expect(rows()[0].closest(".rows")!.scrollTop).toBe(5);

      const wheel = new WheelEvent("wheel", { deltaY: 34 * 3, cancelable: true, bubbles: true });
      rows()[0].dispatchEvent(wheel);
      expect(wheel.defaultPrevented).toBe(true);
      expect(scroller.scrollTop).toBe(34 * 13 + 5);
      const zoom = new WheelEvent("wheel", { deltaY: 34, ctrlKey: true, cancelable: true, bubbles: true });
      rows()[0].dispatchEvent(zoom);
      expect(zoom.defaultPrevented).toBe(false);
      expect(scroller.scrollTop).toBe(34 * 13 + 5);

      // End: the last key, kept in sight; Home: the first; PageDown: a page (9 rows) on.
      expect(await opened("End")).toBe(byRisk[4999]);
      expect(scroller.scrollTop).toBe(5000 * 34 - 340);
      expect(await opened("Home")).toBe(byRisk[0]);
      expect(scroller.scrollTop).toBe(0);
      expect(await opened("PageDown")).toBe(byRisk[9]);
      expect(await opened("PageDown")).toBe(byRisk[18]);
      expect(scroller.scrollTop).toBe(19 * 34 - 340);

      // A key's page open over the table keeps the page keys for itself.
      place.keyId = "k1";
      const down = new KeyboardEvent("keydown", { key: "PageDown", cancelable: true });
      window.dispatchEvent(down);
      expect(down.defaultPrevented).toBe(false);
      place.keyId = null;

      // Another filter while far down: back to the top, the cursor on its first key.
      scroller.scrollTop = 34 * 300;
      await fireEvent.scroll(scroller);
      place.filter = { query: "key-0000" };
      await tick();
      expect(scroller.scrollTop).toBe(0);
      expect(rows().map((r) => r.dataset.keyId).sort()).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"]);
      await fireEvent.keyDown(window, { key: "Enter" });
      expect(place.keyId).toBe(rows()[0].dataset.keyId);
    } finally {
      tall.mockRestore();
    }
  });

  it("hides a column from the chooser and remembers it", async () => {
    data.keys = keys(2);
    const { unmount } = render(Inventory);
    expect(screen.queryByTestId("sort-owner")).not.toBeNull();
    await fireEvent.click(screen.getByLabelText("Owner", { selector: "input" }));
    expect(screen.queryByTestId("sort-owner")).toBeNull();
    unmount();
    render(Inventory);
    expect(screen.queryByTestId("sort-owner")).toBeNull();
  });

  it("exports exactly the rows shown, never a secret, through the shell's save dialog", async () => {
    data.keys = keys(4);
    answer("export_view", "/home/u/keys.csv");
    render(Inventory);
    await fireEvent.change(screen.getByTestId("filter-provider"), { target: { value: "datadog" } });
    await fireEvent.click(screen.getByTestId("export-csv"));
    await new Promise((r) => setTimeout(r, 0));
    const [call] = called("export_view");
    expect(call.args.format).toBe("csv");
    const lines = (call.args.text as string).trim().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).not.toContain("secret");
    expect(session.notice).toBe("Exported 2 keys to /home/u/keys.csv.");
  });

  it("saves a filter in the vault, applies it, forgets it, and adopts the ones the page kept before", async () => {
    data.keys = keys(6);
    const vault = { settings: { lock_after_minutes: 15, start_in_tray: false, saved_filters: [] as { name: string; filter: string }[] }, has_tray: true };
    answer("desktop_settings", () => structuredClone(vault));
    answer("save_desktop_settings", (args: Record<string, unknown>) => {
      vault.settings = structuredClone(args.settings) as typeof vault.settings;
      return structuredClone(vault.settings);
    });
    // An earlier version kept saved filters in the page's storage: they move into the vault.
    localStorage.setItem("keyward.savedFilters", JSON.stringify([{ name: "old aws", filter: { provider: "aws" } }]));
    await data.loadDesktop();
    expect(vault.settings.saved_filters).toEqual([{ name: "old aws", filter: '{"provider":"aws"}' }]);
    expect(localStorage.getItem("keyward.savedFilters")).toBeNull();

    render(Inventory);
    await fireEvent.change(screen.getByTestId("filter-provider"), { target: { value: "datadog" } });
    const asked = window.prompt;
    window.prompt = () => "  dd only ";
    try {
      await fireEvent.click(screen.getByTestId("save-filter"));
      await new Promise((r) => setTimeout(r, 0));
    } finally {
      window.prompt = asked;
    }
    expect(vault.settings.saved_filters.map((f) => f.name)).toEqual(["old aws", "dd only"]);
    expect(JSON.parse(vault.settings.saved_filters[1].filter)).toEqual({ provider: "datadog" });

    await fireEvent.click(await screen.findByText("old aws"));
    expect(place.filter).toEqual({ provider: "aws" });
    expect(screen.getByTestId("key-count").textContent).toBe("3 of 6 keys");
    await fireEvent.click(screen.getByLabelText("Forget old aws"));
    await new Promise((r) => setTimeout(r, 0));
    expect(vault.settings.saved_filters.map((f) => f.name)).toEqual(["dd only"]);
    expect(screen.queryByText("old aws")).toBeNull();
    data.desktop = null;
  });
});
