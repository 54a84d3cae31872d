// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { reset } from "../test/shell";
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
});
