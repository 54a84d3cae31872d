// The one place the UI talks to the shell. Every command returns data or rejects with
// `{ code, message }` (src-tauri/src/error.rs); the UI branches on `code`, never on text.
import { invoke } from "@tauri-apps/api/core";

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

export interface Key {
  id: string;
  provider: string;
  account: string;
  external_id: string | null;
  name: string;
  owner: string | null;
  status: "active" | "inactive";
  created_at: string | null;
  age_days: number | null;
  last_used_at: string | null;
  last_used_service: string | null;
  last_used_region: string | null;
  usage_tracked: boolean;
  expires_at: string | null;
  scopes: string[];
  has_secret: boolean;
  removed_at: string | null;
  open_findings: number;
  /** Sum of the weights of the key's open findings (its own and its owner's). */
  risk: number;
  /** The parts of `risk`, heaviest first. */
  risk_parts: RiskPart[];
  tags: string[];
  /** `access_key`, `api_key`, `user_token`…; null for keys registered by hand. */
  kind: string | null;
  secret_readable: boolean;
  details: Record<string, unknown>;
  checked_at: string | null;
  /** Keys registered by hand (Linear): what the last liveness check said. */
  check_result: string | null;
}

export interface RiskPart {
  finding_id: number;
  rule_id: string;
  severity: string;
  weight: number;
  detail: string;
}

export type FindingState = "open" | "acknowledged" | "snoozed" | "resolved";

export interface Finding {
  id: number;
  rule_id: string;
  severity: "low" | "medium" | "high" | "critical";
  weight: number;
  state: FindingState;
  resource: string | null;
  first_seen_at: string;
  last_seen_at: string;
  snoozed_until: string | null;
  resolution: string | null;
  note: string | null;
  key_id: string | null;
  provider: string;
  account: string;
  external_id: string | null;
  owner: string | null;
  title: string;
  detail: string;
  remediation: string;
  key_name: string | null;
}

export interface AuditReport {
  findings: Finding[];
  opened: number;
  escalated: number;
  resolved: number;
  policy_problem: string | null;
}

export interface FindingEvent {
  at: string;
  event: string;
  severity: string | null;
  detail: string | null;
  reason: string | null;
}

export interface PolicyView {
  path: string;
  text: string;
  digest: string;
  adopted_at: string | null;
  /** The file's error (with its line) while the previous policy stays in force. */
  problem: string | null;
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

export interface Exposure {
  id: number;
  path: string;
  line: number;
  revision: string | null;
  provider: string;
  kind: string;
  secret: boolean;
  inventory_key_id: string | null;
  connector: string | null;
  evidence: string | null;
  held_as: string | null;
  shadow_key_id: string | null;
  redacted: string;
  excerpt: string;
  first_seen_at: string;
  last_seen_at: string;
  gone_at: string | null;
}

/** One activity log entry (`keyward log`). */
export interface Activity {
  id: number;
  at: string;
  action: string;
  provider: string | null;
  subject: string | null;
  outcome: string;
  detail: string | null;
}

/** `keyward log verify`: whether the chain of entries is whole. */
export interface LogCheck {
  entries: number;
  intact: boolean;
  first_bad: number | null;
  problem: string | null;
  head: string;
}

export interface ShadowKey {
  id: string;
  provider: string;
  kind: string;
  redacted: string;
  status: "unmanaged" | "linked" | "dismissed";
  managed: boolean;
  linked_key_id: string | null;
  exposures: number;
  first_place: string | null;
  check: string;
  checkable: boolean;
  verified_at: string | null;
  verify_result: string | null;
  first_seen_at: string;
  last_seen_at: string;
}

export interface ScanSettings {
  folders: string[];
  excludes: string[];
  git_history: boolean;
  verify: string[];
}

/** A provider, from the shell's registry (`api::ProviderView`). */
export interface Provider {
  id: string;
  name: string;
  connectable: boolean;
  not_connectable_why: string | null;
  /** The harmless read that checks a found key of it; null when none can. */
  verify_found: string | null;
  credentials: { field: string; label: string; env: string }[][];
  settings: { key: string; flag: string; help: string }[];
}

export interface ScanView {
  run: number;
  roots: string[];
  files: number;
  bytes: number;
  new: number;
  gone: number;
  new_shadow_keys: number;
  binary: number;
  too_large: number;
  symlinks_out: number;
  special: number;
  error_count: number;
  elapsed_ms: number;
}

export interface ScanProgress {
  files: number;
  bytes: number;
  hits: number;
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
  keys: () => invoke<Key[]>("list_keys"),
  findings: () => invoke<Finding[]>("list_findings"),
  sync: () => invoke<SyncOutcome[]>("run_sync"),
  cancelSync: () => invoke<void>("cancel_sync"),
  audit: () => invoke<AuditReport>("run_audit"),
  history: (id: number) => invoke<FindingEvent[]>("finding_history", { id }),
  acknowledge: (id: number, note: string | null) => invoke<Finding>("acknowledge_finding", { id, note }),
  snooze: (id: number, until: string, note: string | null) => invoke<Finding>("snooze_finding", { id, until, note }),
  reopen: (id: number) => invoke<Finding>("reopen_finding", { id }),
  policy: () => invoke<PolicyView>("get_policy"),
  savePolicy: (text: string) => invoke<PolicyView>("save_policy", { text }),
  reveal: (id: string) => invoke<string>("reveal_key", { id }),
  exposures: () => invoke<Exposure[]>("list_exposures"),
  shadowKeys: () => invoke<ShadowKey[]>("list_shadow_keys"),
  linkShadow: (id: string, key: string) => invoke<void>("link_shadow_key", { id, key }),
  dismissShadow: (id: string) => invoke<void>("dismiss_shadow_key", { id }),
  providers: () => invoke<Provider[]>("list_providers"),
  scanSettings: () => invoke<ScanSettings>("get_scan_settings"),
  saveScanSettings: (settings: ScanSettings) => invoke<ScanSettings>("save_scan_settings", { settings }),
  scan: () => invoke<ScanView>("run_scan"),
  verifyShadow: (id: string) => invoke<ShadowKey>("verify_shadow_key", { id }),
  activity: () => invoke<Activity[]>("activity_log"),
  verifyActivity: () => invoke<LogCheck>("verify_activity_log"),
};
