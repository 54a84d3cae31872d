// The app's shared state, one small store per concern: the session (lock state, what is busy,
// what went wrong), the vault's data the views read, and where the user is. Views import these
// and call their actions; only `ipc` talks to the shell.
import { ipc, isUiError, type DesktopSettings, type SavedFilter, type Exposure, type Finding, type KeyTableSummary, type LogCheck, type NotKey, type Practice, type Provider, type Rotation, type ShadowKey, type Status } from "./ipc";
import { tick } from "svelte";
import type { KeyFilter } from "./inventory";

export function explain(e: unknown): string {
  return isUiError(e) ? e.message : e instanceof Error ? e.message : String(e);
}

/** Lock state, the one busy label, the last error and notice. */
class Session {
  status = $state<Status | null>(null);
  busy = $state<string | null>(null);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  providers = $state<Provider[]>([]);

  get unlocked() {
    return this.status?.unlocked === true;
  }

  /** Runs one user action: shows it as busy, its failure as the error. */
  async act(label: string, f: () => Promise<void>): Promise<void> {
    this.busy = label;
    this.error = null;
    try {
      await f();
    } catch (e) {
      this.error = explain(e);
    } finally {
      this.busy = null;
    }
  }
}

/** Where saved filters lived before they moved into the vault. */
const STORED_FILTERS = "keyward.savedFilters";

/** What the views show from the vault; dropped whole on lock. */
class VaultData {
  /** The inventory's table as the shell holds it (its rows stay there: the inventory asks for
   * the ones in sight): which one, the menus' values and the dashboard's counts. */
  table = $state.raw<KeyTableSummary | null>(null);
  /** Names of the keys the other views name by id (exposures, found keys). */
  names = $state.raw<Record<string, string>>({});
  findings = $state.raw<Finding[]>([]);
  practices = $state.raw<Practice[]>([]);
  exposures = $state.raw<Exposure[]>([]);
  shadows = $state.raw<ShadowKey[]>([]);
  notKeys = $state.raw<NotKey[]>([]);
  logCheck = $state<LogCheck | null>(null);
  rotations = $state.raw<Rotation[]>([]);

  /** The desktop settings (idle lock, tray, saved filters) and whether there is a tray; null
   * until read after an unlock. */
  desktop = $state.raw<{ settings: DesktopSettings; has_tray: boolean } | null>(null);

  async loadDesktop() {
    this.desktop = await ipc.desktopSettings();
    await this.adoptStoredFilters();
  }

  /** Saves a change to the desktop settings; the ones in force come back. */
  async saveDesktop(change: Partial<DesktopSettings>) {
    const current = this.desktop ?? (await ipc.desktopSettings());
    const settings = await ipc.saveDesktopSettings({ ...current.settings, ...change });
    this.desktop = { ...current, settings };
  }

  /** Filters an earlier version saved in the page's own storage move into the vault, once: the
   * ones the vault would refuse (a name too long, a filter too large) are left behind, and the
   * page's copy is dropped whatever happens, so a bad one cannot fail every unlock. */
  private async adoptStoredFilters() {
    const stored = localStorage.getItem(STORED_FILTERS);
    if (stored === null || !this.desktop) return;
    try {
      let old: unknown = [];
      try {
        old = JSON.parse(stored);
      } catch {
        // unreadable: nothing to adopt
      }
      const kept = this.desktop.settings.saved_filters;
      const names = new Set(kept.map((f) => f.name));
      const adopted: SavedFilter[] = [];
      for (const f of Array.isArray(old) ? old : []) {
        const name = typeof f?.name === "string" ? f.name.trim() : "";
        const filter = JSON.stringify(f?.filter ?? {});
        if (!name || name.length > 80 || names.has(name) || filter.length > 4096 || !filter.startsWith("{")) continue;
        names.add(name);
        adopted.push({ name, filter });
      }
      const room = Math.max(0, 50 - kept.length);
      if (adopted.length > 0 && room > 0) await this.saveDesktop({ saved_filters: [...kept, ...adopted.slice(0, room)] });
    } finally {
      localStorage.removeItem(STORED_FILTERS);
    }
  }

  get unfinished() {
    return this.rotations.filter((r) => r.state === "running" || r.state === "failed");
  }

  /** Open findings, counted by the shell: the number beside Findings, without listing them. */
  openFindings = $state(0);
  /** Whether a view shows the findings (and practices) now: they are listed only then. At
   * 10,000 keys they are 15.6 MB of JSON, more than the keys, that the rest of the app does not
   * read (docs/benchmarks.md). */
  private findingsShown = false;
  /** Bumped whenever the findings shown change hands (the view opens or closes, the vault locks):
   * a listing that was asked for before is then dropped when it arrives, so it can neither bring
   * the findings back after a lock nor overwrite a newer one. */
  private findingsTurn = 0;

  /** The Findings view opens: its findings and practices load, and follow every refresh until
   * it closes, when they are dropped. */
  async showFindings(shown: boolean) {
    this.findingsShown = shown;
    this.findingsTurn++;
    if (shown) {
      await this.loadFindings();
    } else {
      this.findings = [];
      this.practices = [];
    }
  }

  private async loadFindings() {
    const turn = this.findingsTurn;
    const findings = await ipc.findings();
    if (turn !== this.findingsTurn) return;
    this.findings = findings;
    // After the findings, and not waited for: the shell judges every practice to answer (2.6 s
    // at 100,000 keys), and only the practices table above the findings reads them.
    ipc.practices().then(
      (practices) => {
        if (turn === this.findingsTurn) this.practices = practices;
      },
      (e) => {
        if (turn === this.findingsTurn) session.error = explain(e);
      },
    );
  }

  /** How many keys there are. */
  get keyCount(): number {
    return this.table?.counts.total ?? 0;
  }

  /** Reads everything the views show. `keysFirst` (at start and unlock): the inventory's table
   * is read first, so the inventory draws while the rest loads. */
  async refresh(keysFirst = false) {
    // The table is taken as soon as it comes (the shell already pages from it), unless a later
    // refresh has brought a newer one.
    const table = ipc.loadKeyTable().then((t) => {
      if (!this.table || t.generation >= this.table.generation) this.table = t;
    });
    if (keysFirst) {
      await table;
      // The inventory asks for its rows now, before the listings below: WebKit sends six
      // requests at a time to the shell, and a seventh waits for one of them.
      await tick();
    }
    [, this.openFindings, this.exposures, this.shadows, this.notKeys, this.logCheck, this.rotations] = await Promise.all([
      table,
      ipc.countOpenFindings(),
      ipc.exposures(),
      ipc.shadowKeys(),
      ipc.notKeys(),
      ipc.verifyActivity(),
      ipc.rotations(),
    ]);
    const named = [...this.exposures.map((e) => e.inventory_key_id), ...this.shadows.map((s) => s.linked_key_id)];
    const ids = [...new Set(named.filter((id): id is string => id !== null))];
    this.names = ids.length > 0 ? await ipc.keyNames(ids) : {};
    if (this.findingsShown) await this.loadFindings();
  }

  keyName(id: string | null): string | null {
    return id ? (this.names[id] ?? id) : null;
  }

  forget() {
    this.findingsShown = false;
    this.findingsTurn++;
    this.desktop = null;
    this.table = null;
    this.names = {};
    this.findings = [];
    this.practices = [];
    this.openFindings = 0;
    this.exposures = [];
    this.shadows = [];
    this.notKeys = [];
    this.logCheck = null;
    this.rotations = [];
  }
}

/** Marks a step of the start for a profiler's timeline and tells the shell, which logs it
 * (`keyward_desktop::startup`; `tests/benches/window.rs` times starts from that line). */
export function markStart(step: "rows" | "loaded") {
  const mark = performance.mark(step === "rows" ? "keyward:ready" : "keyward:data");
  const began = performance.timeOrigin;
  ipc.windowStarted(step, began, began + mark.startTime).catch(() => {
    // only a log line: a start is not failed for it
  });
}

export type View =
  | "dashboard"
  | "keys"
  | "findings"
  | "exposure"
  | "connectors"
  | "add-key"
  | "schedules"
  | "notifications"
  | "reports"
  | "policy"
  | "log"
  | "settings";

/** Where the user is: the view, the inventory's filter, the key open in detail. */
class Place {
  view = $state<View>("keys");
  filter = $state<KeyFilter>({});
  /** The key whose detail is open, over the current view. */
  keyId = $state<string | null>(null);
  /** A scan runs: its Cancel shows. */
  scanning = $state(false);

  /** Opens the inventory showing exactly what `filter` keeps (a drill-down). */
  drill(filter: KeyFilter) {
    this.filter = { ...filter };
    this.view = "keys";
  }
}

export const session = new Session();
export const data = new VaultData();
export const place = new Place();

/** Scans this machine now (the Exposure view's button and the tray's "Scan now"). */
export async function scanNow(): Promise<void> {
  place.scanning = true;
  try {
    await session.act("Scanning", async () => {
      const v = await ipc.scan();
      await data.refresh();
      session.notice = `Scanned ${v.files} files (${(v.bytes / 1048576).toFixed(1)} MiB) in ${(v.elapsed_ms / 1000).toFixed(1)} s${v.cancelled ? " (cancelled: what was read is kept)" : ""}: ${v.new} new, ${v.gone} gone, ${v.new_shadow_keys} unknown keys. Skipped ${v.binary} binary and ${v.too_large} large files.`;
    });
  } finally {
    place.scanning = false;
  }
}
