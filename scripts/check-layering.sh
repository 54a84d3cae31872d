#!/usr/bin/env bash
# The dependency rule (ARCHITECTURE.md): core and connectors know nothing of Tauri or clap,
# and connectors do not depend on core.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for pkg in keyward-core keyward-connectors; do
  for banned in tauri wry clap; do
    if cargo tree -p "$pkg" -i "$banned" -e normal,build 2>/dev/null | grep -q "^$banned v"; then
      echo "layering: $pkg depends on $banned" >&2
      fail=1
    fi
  done
done
if cargo tree -p keyward-connectors -i keyward-core -e normal 2>/dev/null | grep -q "^keyward-core v"; then
  echo "layering: keyward-connectors depends on keyward-core" >&2
  fail=1
fi
# Make sure the check can fail: the desktop shell does depend on tauri.
cargo tree -p keyward-desktop -i tauri -e normal 2>/dev/null | grep -q "^tauri v" || { echo "layering: check is broken (tauri not found under keyward-desktop)" >&2; fail=1; }
[ "$fail" = 0 ] && echo "layering: ok (core and connectors free of tauri, wry and clap)"
exit "$fail"
