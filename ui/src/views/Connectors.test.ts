// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, providers, reset } from "../test/shell";
import { session } from "../lib/app.svelte";
import Connectors from "./Connectors.svelte";

const connector = {
  name: "dd", provider: "datadog", profile: null, region: null, settings: { site: "datadoghq.eu" }, credential_fields: ["api_key", "app_key"],
  account_id: null, last_sync_at: null, facts: {}, settings_intact: true,
  last_run: { started_at: "2026-12-01T10:00:00Z", status: "failed", error: "403 Forbidden: the application key lacks api_keys_read", keys_seen: 0, api_calls: null },
};

describe("Connectors", () => {
  beforeEach(() => {
    reset();
    session.providers = providers;
    session.error = null;
    answer("list_connectors", [connector]);
  });

  it("lists connectors with their last sync in words", async () => {
    render(Connectors);
    expect((await screen.findByTestId("last-run")).textContent!.replace(/\s+/g, " ")).toContain("failed — 403 Forbidden: the application key lacks api_keys_read");
    expect(screen.getByTestId("connector-row").textContent).toContain("credentials: api_key, app_key (sealed)");
  });

  it("generates each provider's form from the registry and sends what was typed once", async () => {
    answer("add_connector", connector);
    render(Connectors);
    await fireEvent.click(screen.getByTestId("provider-datadog"));
    expect(screen.getByTestId("credential-api_key").getAttribute("type")).toBe("password");
    expect(screen.getByTestId("credential-app_key").getAttribute("type")).toBe("password");
    expect(screen.getByTestId("connector-reads").textContent).toContain("GET /api/v2/api_keys");
    expect(screen.getByTestId("connector-rotation").textContent).toContain("disable: not possible");
    await fireEvent.input(screen.getByTestId("setting-site"), { target: { value: "datadoghq.eu" } });
    await fireEvent.input(screen.getByTestId("credential-api_key"), { target: { value: "API-SECRET" } });
    await fireEvent.input(screen.getByTestId("credential-app_key"), { target: { value: "APP-SECRET" } });
    await fireEvent.submit(screen.getByTestId("connector-form"));
    await waitFor(() => expect(called("add_connector")).toHaveLength(1));
    expect(called("add_connector")[0].args).toEqual({
      name: "datadog", provider: "datadog", settings: { site: "datadoghq.eu" }, credentials: { api_key: "API-SECRET", app_key: "APP-SECRET" },
    });
    expect(document.body.innerHTML).not.toContain("API-SECRET");
  });

  it("shows a flag as a checkbox and a list as text, and no credential fields where the SDK signs in", async () => {
    render(Connectors);
    await fireEvent.click(screen.getByTestId("provider-aws"));
    expect(screen.getByTestId("setting-organization").getAttribute("type")).toBe("checkbox");
    expect(screen.getByTestId("setting-accounts").getAttribute("placeholder")).toBe("comma-separated");
    expect(screen.queryByTestId("credential-api_key")).toBeNull();
    expect(screen.queryByTestId("provider-linear")).toBeNull(); // no list API: registered by hand
  });

  it("tests a connector and shows each check", async () => {
    answer("test_connector", [{ what: "credentials", ok: true, detail: "valid" }, { what: "api_keys_read", ok: false, detail: "grant it" }]);
    render(Connectors);
    await fireEvent.click(await screen.findByTestId("test-connector"));
    expect((await screen.findByTestId("connector-checks")).textContent).toContain("✗ api_keys_read: grant it");
  });

  it("edits a connector's settings from what is stored, keeping its sealed credentials unless new ones are typed", async () => {
    answer("edit_connector", (args: Record<string, unknown>) => ({ ...connector, settings: args.settings }));
    render(Connectors);
    await fireEvent.click(await screen.findByTestId("edit-connector"));
    expect((screen.getByTestId("connector-name") as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByTestId("setting-site") as HTMLInputElement).value).toBe("datadoghq.eu");
    expect((screen.getByTestId("credential-api_key") as HTMLInputElement).value).toBe("");
    expect(screen.getByTestId("keep-credentials").textContent).toContain("Leave these fields");
    await fireEvent.input(screen.getByTestId("setting-site"), { target: { value: "us5.datadoghq.com" } });
    await fireEvent.submit(screen.getByTestId("connector-form"));
    await waitFor(() => expect(called("edit_connector")).toHaveLength(1));
    expect(called("edit_connector")[0].args).toEqual({ name: "dd", settings: { site: "us5.datadoghq.com" }, credentials: {} });
    expect(screen.queryByTestId("connector-form")).toBeNull();

    await fireEvent.click(screen.getByTestId("edit-connector"));
    await fireEvent.input(screen.getByTestId("credential-api_key"), { target: { value: "NEW-API" } });
    await fireEvent.input(screen.getByTestId("credential-app_key"), { target: { value: "NEW-APP" } });
    await fireEvent.submit(screen.getByTestId("connector-form"));
    await waitFor(() => expect(called("edit_connector")).toHaveLength(2));
    expect(called("edit_connector")[1].args.credentials).toEqual({ api_key: "NEW-API", app_key: "NEW-APP" });
    expect(document.body.innerHTML).not.toContain("NEW-API");
  });

  it("offers no edit of a demo connector", async () => {
    answer("list_connectors", [{ ...connector, settings: { demo: true } }]);
    render(Connectors);
    await screen.findByTestId("test-connector");
    expect(screen.queryByTestId("edit-connector")).toBeNull();
  });
});
