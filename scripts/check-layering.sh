#!/usr/bin/env bash
# The dependency rule (ARCHITECTURE.md): core, connectors and fakes know nothing of Tauri or
# clap, connectors do not depend on core, and fakes depend on none of Keyward's crates.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for pkg in keyward-core keyward-connectors keyward-fakes; do
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
for ours in keyward-core keyward-connectors; do
  if cargo tree -p keyward-fakes -i "$ours" -e normal 2>/dev/null | grep -q "^$ours v"; then
    echo "layering: keyward-fakes depends on $ours" >&2
    fail=1
  fi
done
# The demo's stand-ins (an HTTP server, seeded estates) are linked only with core's `demo`
# feature, which the CLI and the app turn on: core alone builds without them.
if cargo tree -p keyward-core -e normal -i keyward-fakes 2>/dev/null | grep -q "^keyward-fakes v"; then
  echo "layering: keyward-core links keyward-fakes without its demo feature" >&2
  fail=1
fi
cargo tree -p keyward-cli -e normal -i keyward-fakes 2>/dev/null | grep -q "^keyward-fakes v" \
  || { echo "layering: check is broken (the CLI does not link the demo)" >&2; fail=1; }
cargo check -q -p keyward-core || { echo "layering: keyward-core does not build without its demo feature" >&2; fail=1; }
# `api` is the only door: the CLI and the app name nothing of keyward_core but `api`, `Error`
# and `Secret`, and never turn on `internals` (the feature that opens the other modules).
if grep -rn "keyward_core::" cli/src src-tauri/src \
    | grep -vE 'keyward_core::(api|Error|Secret)\b|use keyward_core::\{((api|Error|Secret)(, )?)+\}'; then
  echo "layering: the CLI or the app reaches past keyward_core::api (above)" >&2
  fail=1
fi
if grep -n "internals" cli/Cargo.toml src-tauri/Cargo.toml tests/Cargo.toml; then
  echo "layering: a front end turns on keyward-core's internals (above)" >&2
  fail=1
fi
# SQL lives in the store layer (core/src/store/) and vault/ (the SQLite file itself: migrations,
# MACs). A module's own `#[cfg(test)]` tests may write rows by hand (a vault edited by an attacker).
sql='\.(execute|execute_batch|prepare|prepare_cached|prepare_with_flags|query_row|query_row_and_then|query_one|query_map|query_and_then|pragma_update|pragma_query)\(|last_insert_rowid|Connection::(execute|prepare|query)'
for f in $(grep -rlE "$sql" core/src --include=*.rs | sort); do
  rel=${f#core/src/}
  case "$rel" in store/*|vault/*) continue ;; esac
  # Drop each `#[cfg(test)]` + `mod NAME {` block (to its closing brace in column 0); scan the rest.
  awk '
    skipping { if ($0 ~ /^}/) skipping = 0; next }
    pending && /^mod [A-Za-z_0-9]+ *\{/ { skipping = 1; pending = 0; next }
    /^#\[cfg\(test\)\]/ { pending = 1; next }
    { pending = 0; print }' "$f" | grep -qE "$sql" || continue
  echo "layering: SQL outside the store layer in $f (move it to core/src/store/)" >&2
  fail=1
done
# The store reads columns by name (`r.get("name")`), never by position: a column added to a
# SELECT cannot shift what another field reads.
if grep -rnE '\.get(_ref|_unwrap)?(::<.*>)?\( *[0-9]+ *\)' core/src/store; then
  echo "layering: a column read by position in the store layer (above)" >&2
  fail=1
fi
# Every write transaction is `Vault::write` (BEGIN IMMEDIATE): a deferred one fails with
# "database is locked" when it upgrades while another process writes (ARCHITECTURE.md).
if grep -rnE '\.(unchecked_)?transaction\(|transaction_with_behavior|Transaction::new' core/src cli/src src-tauri/src \
    | grep -v '^core/src/vault/mod.rs:'; then
  echo "layering: a transaction begun outside Vault::write (above)" >&2
  fail=1
fi
# Make sure the check can fail: the desktop shell does depend on tauri.
cargo tree -p keyward-desktop -i tauri -e normal 2>/dev/null | grep -q "^tauri v" || { echo "layering: check is broken (tauri not found under keyward-desktop)" >&2; fail=1; }
[ "$fail" = 0 ] && echo "layering: ok (core, connectors and fakes free of tauri, wry and clap; fakes free of our crates; core builds without the demo; front ends only through api; SQL only in the store layer, columns by name; writes through Vault::write)"
exit "$fail"
