// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from "vitest";
import { tick } from "svelte";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, key, keyTable, reset } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import Inventory from "./Inventory.svelte";

/** The rows drawn once the shell's answer has arrived. */
const drawn = () => waitFor(() => expect(screen.getByTestId("keys-table").getAttribute("aria-busy")).toBe("false"));
const count = async (text: string) => waitFor(() => expect(screen.getByTestId("key-count").textContent).toBe(text));

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

  it("draws only the rows in sight, however many keys there are", async () => {
    data.table = keyTable(keys(5000));
    render(Inventory);
    await drawn();
    const rows = screen.getAllByTestId("key-row");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
    expect(screen.getByTestId("key-count").textContent).toBe("5000 keys");
    // The shell was asked for the rows in sight and a margin, not for every key.
    const [ask] = called("key_table_rows");
    expect(ask.args).toMatchObject({ filter: {}, sort: { column: "risk", descending: true }, first: 0 });
    expect(ask.args.count as number).toBeLessThan(200);
  });

  it("sorts by risk first and by a clicked column after", async () => {
    data.table = keyTable(keys(20));
    render(Inventory);
    await drawn();
    const risks = () => screen.getAllByTestId("risk").map((c) => Number(c.textContent));
    expect(risks()).toEqual([...risks()].sort((a, b) => b - a));
    await fireEvent.click(screen.getByTestId("sort-name"));
    await drawn();
    expect(called("key_table_rows").at(-1)!.args.sort).toEqual({ column: "name", descending: false });
    const names = screen.getAllByTestId("key-row").map((r) => r.querySelector(".name")!.textContent!.slice(0, 9));
    expect(names).toEqual([...names].sort());
  });

  it("searches and filters, counts what it shows and clears", async () => {
    data.table = keyTable(keys(30));
    render(Inventory);
    await count("30 keys");
    await fireEvent.input(screen.getByTestId("filter"), { target: { value: "key-0001" } });
    await count("10 of 30 keys");
    await fireEvent.change(screen.getByTestId("filter-provider"), { target: { value: "aws" } });
    await count("5 of 30 keys");
    expect(called("key_table_rows").at(-1)!.args.filter).toEqual({ query: "key-0001", provider: "aws" });
    expect(screen.getAllByTestId("filter-chip").map((c) => c.textContent)).toEqual(["provider: aws ✕"]);
    await fireEvent.click(screen.getByTestId("clear-filters"));
    await count("30 keys");
  });

  it("filters by an open finding's rule and hides settled keys", async () => {
    const three = keys(3);
    three[0] = { ...three[0], open_findings: 1, risk_parts: [{ rule_id: "key_unused", severity: "medium", weight: 5 }] };
    three[1] = { ...three[1], settled: true };
    data.table = keyTable(three);
    render(Inventory);
    await drawn();
    await fireEvent.change(screen.getByTestId("filter-rule"), { target: { value: "key_unused" } });
    await drawn();
    expect(screen.getAllByTestId("key-row").map((r) => r.dataset.keyId)).toEqual(["k0"]);
    place.filter = {};
    await fireEvent.click(screen.getByTestId("hide-settled"));
    await drawn();
    expect(called("key_table_rows").at(-1)!.args.filter).toEqual({ hideSettled: true });
    expect(screen.getAllByTestId("key-row").map((r) => r.dataset.keyId).sort()).toEqual(["k0", "k2"]);
  });

  it("opens a key on click and with the keyboard", async () => {
    data.table = keyTable(keys(3));
    render(Inventory);
    await drawn();
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
      const all = keys(5000);
      data.table = keyTable(all);
      render(Inventory);
      await drawn();
      const byRisk = [...all].sort((a, b) => b.risk - a.risk || (a.name < b.name ? -1 : 1)).map((k) => k.id);
      const scroller = screen.getByTestId("keys-scroller");
      const rows = () => screen.getAllByTestId("key-row");
      const opened = async (key: string) => {
        await fireEvent.keyDown(window, { key });
        // A long jump asks the shell for the rows there: Enter opens the key once it has come.
        await waitFor(() => expect(rows().some((r) => r.classList.contains("cursor"))).toBe(true));
        await fireEvent.keyDown(window, { key: "Enter" });
        const id = place.keyId;
        place.keyId = null;
        return id;
      };
      expect(rows().map((r) => r.dataset.keyId)).toEqual(byRisk.slice(0, 11));

      scroller.scrollTop = 34 * 10 + 5;
      await fireEvent.scroll(scroller);
      await drawn();
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
      await drawn();
      expect(scroller.scrollTop).toBe(0);
      expect(rows().map((r) => r.dataset.keyId).sort()).toEqual(["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"]);
      await fireEvent.keyDown(window, { key: "Enter" });
      expect(place.keyId).toBe(rows()[0].dataset.keyId);
    } finally {
      tall.mockRestore();
    }
  });

  it("says so when the shell cannot use a filter, and draws no rows of another", async () => {
    data.table = keyTable(keys(3));
    render(Inventory);
    await drawn();
    expect(screen.getAllByTestId("key-row")).toHaveLength(3);
    answer("key_table_rows", () => {
      throw { code: "invalid", message: "unknown field `colour`" };
    });
    place.filter = { query: "x" };
    await drawn();
    expect(screen.getByTestId("filter-failed").textContent).toContain("unknown field `colour`");
    expect(screen.queryAllByTestId("key-row")).toHaveLength(0);
    expect(screen.getByTestId("key-count").textContent).toBe("0 of 3 keys");
  });

  it("hides a column from the chooser and remembers it", async () => {
    data.table = keyTable(keys(2));
    const { unmount } = render(Inventory);
    expect(screen.queryByTestId("sort-owner")).not.toBeNull();
    await fireEvent.click(screen.getByLabelText("Owner", { selector: "input" }));
    expect(screen.queryByTestId("sort-owner")).toBeNull();
    unmount();
    render(Inventory);
    expect(screen.queryByTestId("sort-owner")).toBeNull();
  });

  it("exports exactly the rows shown, never a secret, through the shell's save dialog", async () => {
    data.table = keyTable(keys(4));
    // The shell says how many keys it wrote.
    answer("export_view", { path: "/home/u/keys.csv", keys: 2 });
    render(Inventory);
    await fireEvent.change(screen.getByTestId("filter-provider"), { target: { value: "datadog" } });
    await count("2 of 4 keys");
    await fireEvent.click(screen.getByTestId("sort-name"));
    await fireEvent.click(screen.getByTestId("export-csv"));
    await waitFor(() => expect(session.notice).toBe("Exported 2 keys to /home/u/keys.csv."));
    // The shell writes the rows of this filter in this order (core/src/api/table.rs).
    expect(called("export_view")[0].args).toEqual({ format: "csv", filter: { provider: "datadog" }, sort: { column: "name", descending: false } });
  });

  it("saves a filter in the vault, applies it, forgets it, and adopts the ones the page kept before", async () => {
    data.table = keyTable(keys(6));
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
    await count("3 of 6 keys");
    await fireEvent.click(screen.getByLabelText("Forget old aws"));
    await new Promise((r) => setTimeout(r, 0));
    expect(vault.settings.saved_filters.map((f) => f.name)).toEqual(["dd only"]);
    expect(screen.queryByText("old aws")).toBeNull();
    data.desktop = null;
  });
});
