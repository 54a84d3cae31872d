// The one place the UI talks to the shell. Every command returns data or rejects with
// `{ code, message }` (src-tauri/src/error.rs); the UI branches on `code`, never on text.
import { invoke } from "@tauri-apps/api/core";
// The core's DTOs, generated from the Rust types (ts-rs; `cargo test -p keyward-core` writes
// them, and CI fails when they are stale): never typed by hand.
import type { Activity } from "../bindings/Activity";
import type { AuditReport } from "../bindings/AuditReport";
import type { ExposureView as Exposure } from "../bindings/ExposureView";
import type { FindingEvent } from "../bindings/FindingEvent";
import type { FindingView as Finding } from "../bindings/FindingView";
import type { FindingsListing } from "../bindings/FindingsListing";
import type { KeyRow as Key } from "../bindings/KeyRow";
import type { KeyView } from "../bindings/KeyView";
import type { KeyFilter } from "../bindings/KeyFilter";
import type { KeySort } from "../bindings/KeySort";
import type { KeyTablePage } from "../bindings/KeyTablePage";
import type { KeyTableSummary } from "../bindings/KeyTableSummary";
import type { LogCheck } from "../bindings/LogCheck";
import type { NotKeyView as NotKey } from "../bindings/NotKeyView";
import type { PolicyView } from "../bindings/PolicyView";
import type { PracticeSummary as Practice } from "../bindings/PracticeSummary";
import type { ProviderView as Provider } from "../bindings/ProviderView";
import type { RotationPlanView as RotationPlan } from "../bindings/RotationPlanView";
import type { RotationView as Rotation } from "../bindings/RotationView";
import type { ScanProgress } from "../bindings/ScanProgress";
import type { ScanSettings } from "../bindings/ScanSettings";
import type { ScanView } from "../bindings/ScanView";
import type { ShadowKeyView as ShadowKey } from "../bindings/ShadowKeyView";
import type { KeyDetailView as KeyDetail } from "../bindings/KeyDetailView";
import type { KeyChangeView as KeyChange } from "../bindings/KeyChangeView";
import type { HealthPoint } from "../bindings/HealthPoint";
import type { ConnectorView as Connector } from "../bindings/ConnectorView";
import type { CheckView as Check } from "../bindings/CheckView";
import type { JobView as Job } from "../bindings/JobView";
import type { Preferences } from "../bindings/Preferences";
import type { WebhookView as Webhook } from "../bindings/WebhookView";
import type { Delivery } from "../bindings/Delivery";
import type { DesktopSettings } from "../bindings/DesktopSettings";
import type { SavedFilter } from "../bindings/SavedFilter";
export type { RiskPart } from "../bindings/RiskPart";
export type { State as FindingState } from "../bindings/State";
export type {
  Activity,
  AuditReport,
  Exposure,
  Finding,
  FindingEvent,
  Key,
  KeyFilter,
  KeySort,
  KeyTablePage,
  KeyTableSummary,
  KeyView,
  LogCheck,
  NotKey,
  PolicyView,
  Practice,
  Provider,
  Rotation,
  RotationPlan,
  ScanProgress,
  ScanSettings,
  ScanView,
  ShadowKey,
  KeyDetail,
  KeyChange,
  HealthPoint,
  Connector,
  Check,
  Job,
  Preferences,
  Webhook,
  Delivery,
  DesktopSettings,
  SavedFilter,
};

export interface UiError {
  code: string;
  message: string;
}

export interface Status {
  home: string;
  initialized: boolean;
  unlocked: boolean;
  /** Why the vault is still locked (e.g. "vault_locked", "keychain_unavailable"), when it is. */
  locked_reason: UiError | null;
}








export interface SyncOutcome {
  connector: string;
  ok: boolean;
  seen: number;
  added: number;
  changed: number;
  removed: number;
  error: UiError | null;
}

/** The `sync-progress` event the shell emits during a sync. */
export interface SyncProgress {
  connector: string;
  phase: string;
  done: number;
  total: number | null;
}









/** The findings of a listing with their rules' words put back. */
export function withWords(listing: FindingsListing): Finding[] {
  const words = new Map(listing.words.map((w) => [`${w.rule_id}\u0000${w.provider}`, w]));
  for (const f of listing.findings) {
    const w = words.get(`${f.rule_id}\u0000${f.provider}`);
    if (!w) continue;
    f.remediation = w.remediation;
    f.practices = w.practices;
    f.controls = w.controls;
  }
  return listing.findings;
}

export function isUiError(e: unknown): e is UiError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export const ipc = {
  status: () => invoke<Status>("vault_status"),
  unlock: (passphrase: string | null) => invoke<Status>("unlock_vault", { passphrase }),
  lock: () => invoke<Status>("lock_vault"),
  create: (passphrase: string | null) => invoke<Status>("create_vault", { passphrase }),
  demo: (passphrase: string | null) => invoke<Status>("explore_demo", { passphrase }),
  /** The shell reads and keeps the inventory's table; the window asks for pages of its rows. */
  loadKeyTable: () => invoke<KeyTableSummary>("load_key_table"),
  keyTableRows: (filter: KeyFilter, sort: KeySort, first: number, count: number) =>
    invoke<KeyTablePage>("key_table_rows", { filter, sort, first, count }),
  keyNames: (ids: string[]) => invoke<Record<string, string>>("key_names", { ids }),
  /** The shell says each rule's words once (`FindingsListing`); each finding gets them back here,
   * shared, not copied. */
  findings: () => invoke<FindingsListing>("list_findings").then(withWords),
  countOpenFindings: () => invoke<number>("count_open_findings"),
  practices: () => invoke<Practice[]>("list_practices"),
  /** `ticket` names this sync, so its Cancel reaches it and no other. */
  /** `connector`: that one only (all when absent). */
  sync: (ticket: number, connector?: string) => invoke<SyncOutcome[]>("run_sync", { ticket, connector: connector ?? null }),
  cancelSync: (ticket: number) => invoke<void>("cancel_sync", { ticket }),
  audit: () => invoke<AuditReport>("run_audit"),
  history: (id: number) => invoke<FindingEvent[]>("finding_history", { id }),
  acknowledge: (id: number, note: string | null) => invoke<Finding>("acknowledge_finding", { id, note }),
  snooze: (id: number, until: string, note: string | null) => invoke<Finding>("snooze_finding", { id, until, note }),
  reopen: (id: number) => invoke<Finding>("reopen_finding", { id }),
  policy: () => invoke<PolicyView>("get_policy"),
  savePolicy: (text: string) => invoke<PolicyView>("save_policy", { text }),
  reveal: (id: string) => invoke<string>("reveal_key", { id }),
  /** The shell copies it to the clipboard itself (and clears it after 30 s): it never reaches the page. */
  copyKey: (id: string) => invoke<void>("copy_key", { id }),
  exposures: () => invoke<Exposure[]>("list_exposures"),
  shadowKeys: () => invoke<ShadowKey[]>("list_shadow_keys"),
  linkShadow: (id: string, key: string) => invoke<void>("link_shadow_key", { id, key }),
  dismissShadow: (id: string) => invoke<void>("dismiss_shadow_key", { id }),
  markNotAKey: (id: string) => invoke<void>("mark_not_a_key", { id }),
  notKeys: () => invoke<NotKey[]>("list_not_keys"),
  unmarkNotAKey: (id: number) => invoke<void>("unmark_not_a_key", { id }),
  providers: () => invoke<Provider[]>("list_providers"),
  scanSettings: () => invoke<ScanSettings>("get_scan_settings"),
  saveScanSettings: (settings: ScanSettings) => invoke<ScanSettings>("save_scan_settings", { settings }),
  scan: () => invoke<ScanView>("run_scan"),
  /** Stops the running scan at its next file; what it read is kept. */
  cancelScan: () => invoke<boolean>("cancel_scan"),
  verifyShadow: (id: string) => invoke<ShadowKey>("verify_shadow_key", { id }),
  activity: () => invoke<Activity[]>("activity_log"),
  verifyActivity: () => invoke<LogCheck>("verify_activity_log"),
  planRotation: (keyId: string) => invoke<RotationPlan>("plan_rotation", { keyId }),
  rotate: (keyId: string) => invoke<Rotation>("rotate_key", { keyId }),
  rotations: () => invoke<Rotation[]>("list_rotations"),
  resumeRotation: (id: string) => invoke<Rotation>("resume_rotation", { id }),
  abortRotation: (id: string) => invoke<Rotation>("abort_rotation", { id }),
  keyDetail: (id: string) => invoke<KeyDetail>("key_detail", { id }),
  healthHistory: () => invoke<HealthPoint[]>("health_history"),
  tagKey: (id: string, add: string[], remove: string[]) => invoke<KeyView>("tag_key", { id, add, remove }),
  connectors: () => invoke<Connector[]>("list_connectors"),
  addConnector: (name: string, provider: string, settings: Record<string, string>, credentials: Record<string, string>) =>
    invoke<Connector>("add_connector", { name, provider, settings, credentials }),
  /** Empty `credentials` keep the sealed ones; a changed endpoint is confirmed natively. */
  editConnector: (name: string, settings: Record<string, string>, credentials: Record<string, string>) =>
    invoke<Connector>("edit_connector", { name, settings, credentials }),
  testConnector: (name: string) => invoke<Check[]>("test_connector", { name }),
  removeConnector: (name: string) => invoke<{ keys: number; findings: number }>("remove_connector", { name }),
  addKey: (k: { provider: string; name: string; owner: string | null; expiresAt: string | null; tags: string[]; secret: string }) =>
    invoke<KeyView>("add_key", k),
  checkKey: (id: string) => invoke<KeyView>("check_key", { id }),
  jobs: () => invoke<Job[]>("list_jobs"),
  setJob: (id: string, cron: string | null, enabled: boolean | null) => invoke<void>("set_job", { id, cron, enabled }),
  nextFires: (cron: string) => invoke<string[]>("next_fires", { cron }),
  preferences: () => invoke<Preferences>("notification_preferences"),
  changePreferences: (changes: { min_severity?: string; quiet_hours?: string; digest?: string; desktop?: string }) =>
    invoke<Preferences>("change_notification_preferences", { changes }),
  webhooks: () => invoke<Webhook[]>("list_webhooks"),
  addWebhook: (name: string, kind: string, url: string) =>
    invoke<{ webhook: Webhook; signing_key: string | null }>("add_webhook", { name, kind, url }),
  removeWebhook: (name: string) => invoke<void>("remove_webhook", { name }),
  testWebhook: (name: string) => invoke<Delivery>("test_webhook", { name }),
  deliveries: () => invoke<Delivery[]>("list_deliveries"),
  /** Both ask where to save in a native dialog; null when the user cancelled. */
  exportReport: (format: string) => invoke<string | null>("export_report", { format }),
  /** The shell writes the rows of `filter` in `sort`'s order; where, and how many. */
  exportView: (format: "csv" | "json", filter: KeyFilter, sort: KeySort) =>
    invoke<{ path: string; keys: number } | null>("export_view", { format, filter, sort }),
  /** The tray's tooltip: the shell counts the findings itself; `progress` is what runs. */
  trayStatus: (progress: string | null) => invoke<void>("tray_status", { progress }),
  /** A click or key in the window: the idle lock counts from now. */
  userActive: () => invoke<void>("user_active"),
  /** How the start went, for the shell's log (`keyward_desktop::startup`) and the window bench. */
  windowStarted: (step: "rows" | "loaded", began: number, at: number) => invoke<void>("window_started", { step, began, at }),
  desktopSettings: () => invoke<{ settings: DesktopSettings; has_tray: boolean }>("desktop_settings"),
  /** A later idle lock, or none, is confirmed in a native dialog first. */
  saveDesktopSettings: (settings: DesktopSettings) => invoke<DesktopSettings>("save_desktop_settings", { settings }),
};
