// @vitest-environment jsdom
// The smaller pages: keys by hand, schedules, notifications, reports, policy, activity log.
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, key, providers, reset, keyTable } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import AddKey from "./AddKey.svelte";
import Schedules from "./Schedules.svelte";
import Notifications from "./Notifications.svelte";
import Reports from "./Reports.svelte";
import Policy from "./Policy.svelte";
import ActivityLog from "./ActivityLog.svelte";

beforeEach(() => {
  reset();
  session.providers = providers;
  session.notice = null;
  session.error = null;
  for (const c of ["list_exposures", "list_shadow_keys", "list_not_keys", "list_rotations"]) answer(c, []);
  keyTable([]);
  answer("count_open_findings", 0);
  answer("verify_activity_log", { intact: true, entries: 2, head: "ok", problem: null });
});

describe("AddKey", () => {
  it("registers a key, clears its secret and checks it where the provider can tell", async () => {
    answer("add_key", key({ id: "n1", provider: "linear", name: "release bot" }));
    answer("check_key", key({ id: "n1", provider: "linear", name: "release bot", check_result: "live" }));
    render(AddKey);
    await fireEvent.change(screen.getByTestId("key-provider"), { target: { value: "linear" } });
    await fireEvent.input(screen.getByTestId("key-name"), { target: { value: "release bot" } });
    await fireEvent.input(screen.getByTestId("key-tags"), { target: { value: "prod, ci" } });
    await fireEvent.input(screen.getByTestId("key-expires"), { target: { value: "2027-03-01" } });
    await fireEvent.input(screen.getByTestId("key-secret"), { target: { value: "lin_api_SECRET" } });
    await fireEvent.submit(screen.getByTestId("add-key-form"));
    await waitFor(() => expect(session.notice).toContain("Linear says: live"));
    expect(called("add_key")[0].args).toEqual({ provider: "linear", name: "release bot", owner: null, expiresAt: "2027-03-01", tags: ["prod", "ci"], secret: "lin_api_SECRET" });
    expect((screen.getByTestId("key-secret") as HTMLInputElement).value).toBe("");
    expect(place.keyId).toBe("n1");
  });
});

describe("Schedules", () => {
  it("shows the next fire times as a cron is typed, and refuses to save a bad one", async () => {
    answer("list_jobs", [{ id: "audit", cron: "0 6 * * *", enabled: true, last_fire_at: null, last_started_at: null, last_finished_at: null, last_status: null, last_message: null, next_fire_at: null }]);
    answer("next_fires", (a: Record<string, unknown>) => {
      if (a.cron === "nope") throw { code: "invalid", message: "cron: nope is not a schedule" };
      return ["2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z", "2026-12-05T06:00:00Z", "2026-12-06T06:00:00Z", "2026-12-07T06:00:00Z"];
    });
    answer("set_job", null);
    render(Schedules);
    await waitFor(() => expect(screen.getByTestId("job-next").querySelectorAll("small")).toHaveLength(5));
    await fireEvent.input(screen.getByTestId("job-cron"), { target: { value: "nope" } });
    await waitFor(() => expect(screen.getByTestId("job-next").textContent).toContain("not a schedule"));
    expect((screen.getByTestId("job-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(screen.getByTestId("job-cron"), { target: { value: "0 */6 * * *" } });
    await waitFor(() => expect((screen.getByTestId("job-save") as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId("job-save"));
    await waitFor(() => expect(called("set_job")[0]?.args).toEqual({ id: "audit", cron: "0 */6 * * *", enabled: null }));
  });
});

describe("Notifications", () => {
  it("changes preferences, adds a webhook and sends it a test", async () => {
    answer("notification_preferences", { min_severity: "medium", quiet_hours: [22, 7], digest_hour: null, desktop: true, utc_offset_minutes: null });
    answer("change_notification_preferences", { min_severity: "high", quiet_hours: [22, 7], digest_hour: null, desktop: true, utc_offset_minutes: null });
    answer("list_webhooks", [{ name: "ops", kind: "json", url: "https://hooks.example.com", enabled: true }]);
    answer("list_deliveries", []);
    answer("add_webhook", { webhook: { name: "ops", kind: "json", url: "https://hooks.example.com", enabled: true }, signing_key: "abcd" });
    answer("test_webhook", { channel: "webhook:ops", event: "test", subject: "test", at: "2026-12-02T00:00:00Z", attempts: 1, status: "delivered", http_status: 200, error: null });
    render(Notifications);
    expect(((await screen.findByTestId("quiet-hours")) as HTMLInputElement).value).toBe("22-7");
    await fireEvent.change(screen.getByTestId("min-severity"), { target: { value: "high" } });
    await waitFor(() => expect(called("change_notification_preferences")[0]?.args).toEqual({ changes: { min_severity: "high" } }));
    await fireEvent.input(screen.getByTestId("webhook-name"), { target: { value: "ops" } });
    await fireEvent.change(screen.getByTestId("webhook-kind"), { target: { value: "json" } });
    await fireEvent.input(screen.getByTestId("webhook-url"), { target: { value: "https://hooks.example.com/T/secret-path" } });
    await fireEvent.submit(screen.getByTestId("webhook-url").closest("form")!);
    expect((await screen.findByTestId("signing-key")).textContent).toContain("abcd");
    expect((screen.getByTestId("webhook-url") as HTMLInputElement).value).toBe("");
    await fireEvent.click(screen.getByTestId("test-webhook"));
    await waitFor(() => expect(session.notice).toBe("ops: delivered (HTTP 200)"));
  });
});

describe("Reports", () => {
  it("writes each format through the shell's save dialog", async () => {
    answer("export_report", (a: Record<string, unknown>) => `/home/u/keyward-findings.${a.format}`);
    render(Reports);
    await fireEvent.click(screen.getByTestId("report-sarif"));
    await waitFor(() => expect(session.notice).toBe("Report written to /home/u/keyward-findings.sarif."));
  });
});

describe("Policy", () => {
  it("edits a threshold in the text and saves the text", async () => {
    const text = "[defaults]\nnot_rotated_days = 90          # key_not_rotated\n\n[provider.datadog]\nnot_rotated_days = 180\n";
    answer("get_policy", { path: "/h/policy.toml", text, digest: "d", adopted_at: null, problem: null });
    answer("save_policy", (a: Record<string, unknown>) => ({ path: "/h/policy.toml", text: a.text, digest: "e", adopted_at: null, problem: null }));
    render(Policy);
    const field = (await screen.findByTestId("policy-not_rotated_days")) as HTMLInputElement;
    expect(field.value).toBe("90");
    await fireEvent.input(field, { target: { value: "30" } });
    await fireEvent.click(screen.getByTestId("save-policy"));
    await waitFor(() => expect(called("save_policy")).toHaveLength(1));
    expect(called("save_policy")[0].args.text).toBe(text.replace("= 90 ", "= 30 "));
  });
});

describe("ActivityLog", () => {
  it("lists entries and filters by action", async () => {
    answer("activity_log", [
      { id: 1, at: "2026-12-01T00:00:00Z", action: "key.reveal", provider: null, subject: "k1", outcome: "ok", detail: null },
      { id: 2, at: "2026-12-01T00:01:00Z", action: "key.copy", provider: null, subject: "k1", outcome: "ok", detail: null },
    ]);
    render(ActivityLog);
    await waitFor(() => expect(screen.getAllByTestId("log-row")).toHaveLength(2));
    expect(screen.getByTestId("log-intact").textContent).toContain("2 entries");
    await fireEvent.change(screen.getByTestId("log-action"), { target: { value: "key.copy" } });
    expect(screen.getAllByTestId("log-row")).toHaveLength(1);
    void data;
  });
});
