// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
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
    data.keys = keys(5000);
    render(Inventory);
    const scroller = screen.getByTestId("keys-scroller");
    const first = () => screen.getAllByTestId("key-row")[0].dataset.keyId;
    expect(first()).toBe("k6"); // risk 6 first, then by name: k6, k13, k20…
    scroller.scrollTop = 34 * 10 + 5;
    await fireEvent.scroll(scroller);
    const tenth = first();
    expect(tenth).not.toBe("k6");
    // The rows' box shows the 5 px of its first row scrolled past.
    expect(screen.getAllByTestId("key-row")[0].closest(".rows")!.scrollTop).toBe(5);
    const wheel = new WheelEvent("wheel", { deltaY: 34 * 3, cancelable: true, bubbles: true });
    screen.getAllByTestId("key-row")[0].dispatchEvent(wheel);
    expect(wheel.defaultPrevented).toBe(true);
    expect(scroller.scrollTop).toBe(34 * 13 + 5);
    // End takes the cursor to the last key shown, and Home back to the first.
    await fireEvent.keyDown(window, { key: "End" });
    await fireEvent.keyDown(window, { key: "Enter" });
    expect(place.keyId).toBe(data.keys.reduce((a, k) => (k.risk < a.risk || (k.risk === a.risk && k.name > a.name) ? k : a)).id);
    place.keyId = null;
    await fireEvent.keyDown(window, { key: "Home" });
    await fireEvent.keyDown(window, { key: "PageDown" });
    await fireEvent.keyDown(window, { key: "Enter" });
    expect(place.keyId).not.toBe("k6");
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
