// The policy form: the common `[defaults]` thresholds read from and written into the policy's
// text, line by line, so comments and every other section stay as the user wrote them.

export const THRESHOLDS = [
  { key: "not_rotated_days", label: "Rotate keys older than (days)" },
  { key: "unused_days", label: "Unused after (days)" },
  { key: "never_used_days", label: "Grace for a new, never used key (days)" },
  { key: "disabled_days", label: "Delete disabled keys after (days)" },
  { key: "rotation_grace_hours", label: "Keep the old key after a rotation (hours)" },
] as const;

/** The `[defaults]` section's line range: [first line after the header, end) — or null. */
function defaults(lines: string[]): [number, number] | null {
  const start = lines.findIndex((l) => l.trim() === "[defaults]");
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end])) end++;
  return [start + 1, end];
}

const lineOf = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(\\d+)`);

/** The threshold set in `[defaults]`, or null when the default applies. */
export function readThreshold(text: string, key: string): number | null {
  const lines = text.split("\n");
  const range = defaults(lines);
  if (!range) return null;
  for (let i = range[0]; i < range[1]; i++) {
    const m = lines[i].match(lineOf(key));
    if (m) return Number(m[1]);
  }
  return null;
}

/** The text with `key` set to `value` in `[defaults]` (added when missing, its comment kept);
 *  an empty value removes the line, so the built-in default applies. */
export function writeThreshold(text: string, key: string, value: string): string {
  const v = value.trim();
  if (v !== "" && !/^\d+$/.test(v)) return text;
  const lines = text.split("\n");
  let range = defaults(lines);
  if (!range) {
    lines.unshift("[defaults]", "");
    range = [1, 1];
  }
  for (let i = range[0]; i < range[1]; i++) {
    const m = lines[i].match(/^(\s*)([a-z_]+)(\s*=\s*)(\d+)(.*)$/);
    if (m && m[2] === key) {
      if (v === "") lines.splice(i, 1);
      else lines[i] = `${m[1]}${key}${m[3]}${v}${m[5]}`;
      return lines.join("\n");
    }
  }
  if (v !== "") lines.splice(range[0], 0, `${key} = ${v}`);
  return lines.join("\n");
}
