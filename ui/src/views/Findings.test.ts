// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { answer, called, finding, listing, reset, keyTable } from "../test/shell";
import { data, place, session } from "../lib/app.svelte";
import Findings from "./Findings.svelte";

describe("Findings", () => {
  beforeEach(() => {
    reset();
    for (const c of ["list_findings", "list_practices", "list_exposures", "list_shadow_keys", "list_not_keys", "list_rotations"]) answer(c, []);
    keyTable([]);
    answer("count_open_findings", 0);
    answer("verify_activity_log", { intact: true, entries: 0, head: "ok", problem: null });
    answer("list_findings", listing([
      finding({ id: 1, key_id: "0190-uuid", key_name: "deploy-bot", severity: "high", rule_id: "key_unused", title: "Unused" }),
      finding({ id: 2, key_id: "0190-uuid", key_name: "deploy-bot", severity: "low" }),
      finding({ id: 3, key_id: "k3", key_name: "ci", severity: "medium", state: "acknowledged" }),
      finding({ id: 4, key_id: null, key_name: null, owner: "root", rule_id: "root_access_key", severity: "critical", state: "resolved", remediation: "Delete the root user's key", controls: ["cis-aws-1.4"] }),
    ]));
    place.keyId = null;
  });

  it("lists the findings while it is open, and drops them when it closes", async () => {
    const view = render(Findings);
    await screen.findAllByTestId("finding-row");
    expect(called("list_findings")).toHaveLength(1);
    expect(data.findings).toHaveLength(4);
    // Each rule's words, said once by the shell, are every finding's again.
    expect(data.findings.find((f) => f.id === 4)?.remediation).toBe("Delete the root user's key");
    expect(data.findings.find((f) => f.id === 4)?.controls).toEqual(["cis-aws-1.4"]);
    expect(data.findings.find((f) => f.id === 2)?.remediation).toBe("Rotate it");
    view.unmount();
    expect(data.findings).toHaveLength(0);
    await data.refresh();
    expect(called("list_findings")).toHaveLength(1);
  });

  it("leaves the session's busy label and error alone while it loads", async () => {
    session.busy = "Syncing prod";
    session.error = "the policy file has an error; the previous policy stays in force";
    render(Findings);
    await screen.findAllByTestId("finding-row");
    expect(session.busy).toBe("Syncing prod");
    expect(session.error).toContain("previous policy");
    session.busy = null;
    session.error = null;
  });

  it("drops a listing that arrives after the vault locked", async () => {
    let arrive: (v: unknown) => void = () => {};
    answer("list_findings", () => new Promise((r) => (arrive = r)));
    render(Findings);
    await waitFor(() => expect(called("list_findings")).toHaveLength(1));
    data.forget(); // what the app does on `vault-locked`
    arrive(listing([finding({ id: 9 })]));
    await new Promise((r) => setTimeout(r, 0));
    expect(data.findings).toHaveLength(0);
    expect(called("list_practices")).toHaveLength(0);
  });

  it("draws a page of findings at a time, and a new filter starts from the first page", async () => {
    const many = Array.from({ length: 450 }, (_, i) => finding({ id: i + 1, severity: i % 2 ? "low" : "high" }));
    answer("list_findings", listing(many));
    render(Findings);
    expect(await screen.findAllByTestId("finding-row")).toHaveLength(200);
    await fireEvent.click(screen.getByTestId("findings-more"));
    expect(screen.getAllByTestId("finding-row")).toHaveLength(450);
    expect(screen.queryByTestId("findings-more")).toBeNull();
    await fireEvent.change(screen.getByTestId("severity-filter"), { target: { value: "high" } });
    expect(screen.getAllByTestId("finding-row")).toHaveLength(200);
    expect(screen.getByTestId("findings-more").textContent).toBe("Show 25 more");
    // Choosing every open finding takes those the filters keep, drawn or not.
    await fireEvent.click(screen.getByTestId("choose-all"));
    expect(document.body.textContent).toContain("225 chosen");
    // Back to the first filter: its first page again, and the choice made under "high" dropped,
    // so a bulk action cannot reach findings the filters no longer show.
    await fireEvent.click(screen.getByTestId("findings-more"));
    await fireEvent.change(screen.getByTestId("severity-filter"), { target: { value: "" } });
    expect(screen.getAllByTestId("finding-row")).toHaveLength(200);
    expect(document.body.textContent).not.toContain("chosen");
    expect(screen.queryByTestId("bulk-ack")).toBeNull();
  });

  it("names each key and opens it", async () => {
    render(Findings);
    const keys = await screen.findAllByTestId("finding-key");
    expect(keys[0].textContent).toBe("deploy-bot");
    expect(document.body.textContent).not.toContain("0190-uuid");
    await fireEvent.click(keys[0]);
    expect(place.keyId).toBe("0190-uuid");
  });

  it("filters by state and severity, and groups by rule or key", async () => {
    render(Findings);
    expect(await screen.findAllByTestId("finding-row")).toHaveLength(3); // resolved left out by default
    await fireEvent.click(screen.getByTestId("state-resolved"));
    expect(screen.getAllByTestId("finding-row")).toHaveLength(4);
    await fireEvent.change(screen.getByTestId("severity-filter"), { target: { value: "high" } });
    expect(screen.getAllByTestId("finding-row")).toHaveLength(1);
    await fireEvent.change(screen.getByTestId("severity-filter"), { target: { value: "" } });
    await fireEvent.change(screen.getByTestId("group-by"), { target: { value: "key" } });
    expect(screen.getAllByTestId("finding-group").map((g) => g.textContent)).toEqual([
      "root · aws (1)",
      "deploy-bot · aws · prod (2)",
      "ci · aws · prod (1)",
    ]);
  });

  it("acknowledges the chosen findings in bulk", async () => {
    answer("acknowledge_finding", (a: Record<string, unknown>) => finding({ id: a.id as number, state: "acknowledged" }));
    render(Findings);
    await fireEvent.click(await screen.findByTestId("choose-all"));
    await fireEvent.click(screen.getByTestId("bulk-ack"));
    await waitFor(() => expect(called("acknowledge_finding").map((c) => c.args.id).sort()).toEqual([1, 2]));
  });
});
