// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, finding, key, keyView, providers, reset, keyTable } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import KeyDetail from "./KeyDetail.svelte";

const SECRET = "dd-secret-0123456789abcdef";

function detail(over = {}) {
  return {
    key: keyView({ id: "k1", provider: "datadog", name: "ci-key", has_secret: true, scopes: ["submit:data"], risk: 5, risk_parts: [{ finding_id: 7, rule_id: "key_not_rotated", severity: "medium", weight: 5, detail: "200 days old" }], details: { last_ip: "10.0.0.1" } }),
    raw_scopes: ["api_keys_write"],
    owner_exists: false,
    findings: [finding({ id: 7, key_id: "k1" })],
    history: [
      { at: "2026-01-02T00:00:00Z", change: "added", field: null, old_value: null, new_value: null },
      { at: "2026-03-01T00:00:00Z", change: "changed", field: "status", old_value: "active", new_value: "inactive" },
    ],
    consumers: [
      {
        id: 1, path: "/srv/app/.env", path_hex: null, line: 3, revision: null, provider: "datadog", kind: "api_key", secret: true,
        inventory_key_id: "k1", connector: "dd", evidence: null, held_as: null, shadow_key_id: null, redacted: "dd…cdef",
        excerpt: "DD_API_KEY=…", confidence: "high" as const, first_seen_at: "2026-05-01T00:00:00Z", last_seen_at: "2026-05-01T00:00:00Z", gone_at: null,
      },
    ],
    rotations: [],
    ...over,
  };
}

describe("KeyDetail", () => {
  beforeEach(() => {
    reset();
    session.providers = providers;
    session.notice = null;
    place.keyId = "k1";
    answer("key_detail", detail());
    keyTable([]);
    answer("count_open_findings", 0);
    answer("list_exposures", []);
    answer("list_shadow_keys", []);
    answer("list_not_keys", []);
    answer("verify_activity_log", { intact: true, entries: 0, head: "ok", problem: null });
    answer("list_rotations", []);
  });

  it("tells the key's whole story without its secret", async () => {
    render(KeyDetail, { id: "k1" });
    await screen.findByText("ci-key");
    expect(screen.getByTestId("owner").textContent).toContain("no longer exists at datadog");
    expect(screen.getByTestId("scopes").textContent).toContain("send data to the provider (write-only)");
    expect(screen.getByTestId("raw").textContent).toContain("api_keys_write");
    expect(screen.getByTestId("raw").textContent).toContain("10.0.0.1");
    expect(screen.getByTestId("risk-parts").textContent).toContain("key_not_rotated +5");
    expect(screen.getByTestId("history").textContent).toContain("status active → inactive");
    expect(screen.getByTestId("consumers").textContent).toContain("/srv/app/.env:3");
    expect(document.body.textContent).not.toContain(SECRET);
    expect(screen.queryByTestId("secret")).toBeNull();
  });

  it("reveals only when asked, and hides again", async () => {
    answer("reveal_key", SECRET);
    render(KeyDetail, { id: "k1" });
    await fireEvent.click(await screen.findByTestId("reveal"));
    expect((await screen.findByTestId("secret")).textContent).toBe(SECRET);
    await fireEvent.click(screen.getByTestId("reveal"));
    expect(screen.queryByTestId("secret")).toBeNull();
    expect(called("reveal_key")).toHaveLength(1);
  });

  it("copies through the shell: the secret never reaches the page", async () => {
    answer("copy_key", null);
    render(KeyDetail, { id: "k1" });
    await fireEvent.click(await screen.findByTestId("copy"));
    await waitFor(() => expect(session.notice).toContain("30 seconds"));
    expect(called("copy_key")[0].args).toEqual({ id: "k1" });
    expect(document.body.textContent).not.toContain(SECRET);
  });

  it("snoozes a finding and reloads the key", async () => {
    answer("snooze_finding", finding({ id: 7, state: "snoozed" }));
    render(KeyDetail, { id: "k1" });
    await fireEvent.click(await screen.findByTestId("detail-snooze"));
    await waitFor(() => expect(called("snooze_finding")).toHaveLength(1));
    expect(called("snooze_finding")[0].args.id).toBe(7);
    await waitFor(() => expect(called("key_detail").length).toBe(2));
  });

  it("closes on Escape", async () => {
    render(KeyDetail, { id: "k1" });
    await screen.findByText("ci-key");
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(place.keyId).toBeNull();
  });
});
