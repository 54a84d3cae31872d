// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { answer, called, reset } from "../test/shell";
import { data, session } from "../lib/app.svelte";
import Settings from "./Settings.svelte";

describe("Settings", () => {
  it("pins a theme and goes back to the system's", async () => {
    reset();
    render(Settings);
    await fireEvent.change(screen.getByTestId("theme"), { target: { value: "dark" } });
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("keyward.theme")).toBe("dark");
    await fireEvent.change(screen.getByTestId("theme"), { target: { value: "system" } });
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("sets the idle lock in the vault, and shows what is in force when the shell declines", async () => {
    reset();
    data.desktop = { settings: { lock_after_minutes: 15, start_in_tray: false, saved_filters: [] }, has_tray: true };
    let decline = false;
    answer("save_desktop_settings", (args: Record<string, unknown>) => {
      if (decline) throw { code: "declined", message: "not confirmed: change the idle lock" };
      return structuredClone(args.settings);
    });
    render(Settings);
    const lock = screen.getByTestId("lock-after") as HTMLSelectElement;
    expect(lock.value).toBe("15");
    await fireEvent.change(lock, { target: { value: "5" } });
    await new Promise((r) => setTimeout(r, 0));
    expect(called("save_desktop_settings")[0].args.settings).toMatchObject({ lock_after_minutes: 5 });
    expect(data.desktop?.settings.lock_after_minutes).toBe(5);

    decline = true;
    await fireEvent.change(lock, { target: { value: "0" } });
    await new Promise((r) => setTimeout(r, 0));
    expect(session.error).toContain("not confirmed");
    expect(data.desktop?.settings.lock_after_minutes).toBe(5);
    expect(lock.value).toBe("5");
    data.desktop = null;
  });

  it("starts in the tray only where there is one", async () => {
    reset();
    answer("save_desktop_settings", (args: Record<string, unknown>) => structuredClone(args.settings));
    data.desktop = { settings: { lock_after_minutes: 15, start_in_tray: false, saved_filters: [] }, has_tray: false };
    const { unmount } = render(Settings);
    expect((screen.getByTestId("start-in-tray") as HTMLInputElement).disabled).toBe(true);
    unmount();
    data.desktop = { ...data.desktop, has_tray: true };
    render(Settings);
    await fireEvent.click(screen.getByTestId("start-in-tray"));
    await new Promise((r) => setTimeout(r, 0));
    expect(data.desktop?.settings.start_in_tray).toBe(true);
    data.desktop = null;
  });
});
