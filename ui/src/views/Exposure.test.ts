// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, key, keyTable, providers, reset } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import Exposure from "./Exposure.svelte";
import Unlock from "./Unlock.svelte";

const exposure = {
  id: 1, path: "/srv/app/.env", path_hex: null, line: 3, revision: null, provider: "linear", kind: "api_key", secret: true,
  inventory_key_id: "k1", connector: null, evidence: null, held_as: null, shadow_key_id: null, redacted: "lin_…abcd",
  excerpt: "LINEAR_API_KEY=lin_…abcd", confidence: "high" as const, first_seen_at: "2026-11-01T00:00:00Z", last_seen_at: "2026-11-01T00:00:00Z", gone_at: null,
};
const shadow = {
  id: "s1", provider: "github", kind: "personal_access_token", redacted: "ghp_…wxyz", status: "unmanaged", confidence: "high",
  exposures: 1, first_place: "/srv/app/.env:4", linked_key_id: null, checkable: false, verify_result: null, verified_at: null, check: "",
};

describe("Exposure", () => {
  beforeEach(() => {
    reset();
    session.providers = providers;
    for (const c of ["list_not_keys", "list_rotations"]) answer(c, []);
    answer("count_open_findings", 0);
    data.table = keyTable([key({ id: "k1", name: "release-bot", provider: "linear" })]);
    answer("list_exposures", [exposure]);
    answer("list_shadow_keys", [shadow]);
    answer("verify_activity_log", { intact: true, entries: 0, head: "ok", problem: null });
    answer("get_scan_settings", { folders: ["/srv/app"], excludes: ["node_modules"], git_history: false, verify: [] });
    place.keyId = null;
  });

  it("lists where keys were found, names the held key and opens it", async () => {
    render(Exposure);
    await waitFor(() => expect(screen.getAllByTestId("exposure-row")).toHaveLength(1));
    expect(screen.getByTestId("exposure-key").textContent).toContain("release-bot");
    await fireEvent.click(screen.getByText("release-bot"));
    expect(place.keyId).toBe("k1");
    expect(screen.getAllByTestId("shadow-row")).toHaveLength(1);
    expect((screen.getByTestId("excludes") as HTMLTextAreaElement).value).toBe("node_modules");
  });

  it("dismisses an unmanaged key and offers Cancel while a scan runs", async () => {
    answer("dismiss_shadow_key", null);
    let finish: (v: unknown) => void = () => {};
    answer("run_scan", () => new Promise((r) => (finish = r)));
    answer("cancel_scan", true);
    render(Exposure);
    await fireEvent.click(await screen.findByTestId("dismiss"));
    await waitFor(() => expect(called("dismiss_shadow_key")[0]?.args).toEqual({ id: "s1" }));
    await fireEvent.click(screen.getByTestId("scan"));
    await fireEvent.click(await screen.findByTestId("cancel-scan"));
    expect(called("cancel_scan")).toHaveLength(1);
    finish({ files: 3, bytes: 10, elapsed_ms: 5, new: 0, gone: 0, new_shadow_keys: 0, binary: 0, too_large: 0, cancelled: true, hits: [] });
    await waitFor(() => expect(session.notice).toContain("cancelled: what was read is kept"));
    expect(screen.queryByTestId("cancel-scan")).toBeNull();
  });
});

describe("Unlock", () => {
  it("clears the passphrase whatever the outcome, and says why it failed", async () => {
    reset();
    session.status = { home: "/h", initialized: true, unlocked: false, locked_reason: null };
    answer("unlock_vault", () => {
      throw { code: "wrong_passphrase", message: "wrong passphrase" };
    });
    render(Unlock);
    const field = screen.getByTestId("passphrase") as HTMLInputElement;
    await fireEvent.input(field, { target: { value: "guess" } });
    await fireEvent.submit(screen.getByTestId("unlock-form"));
    await waitFor(() => expect(session.error).toBe("wrong passphrase"));
    expect(field.value).toBe("");
    expect(called("unlock_vault")[0].args).toEqual({ passphrase: "guess" });
    void data;
  });
});
