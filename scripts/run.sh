#!/usr/bin/env bash
# Starts the desktop app. When nothing is configured (no KEYWARD_HOME, no vault in the default
# home), it opens a demo workspace instead: a vault in <data dir>/keyward-demo, passphrase
# "demo", built by `keyward demo` (built-in stand-ins for AWS, Datadog, MongoDB Atlas, Fastly,
# New Relic and Linear; no account, no network).
set -euo pipefail
bin="${1:?usage: scripts/run.sh TARGET_DIR/release}"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
if [ -z "${KEYWARD_HOME:-}" ] && [ ! -e "$data/keyward/vault.db" ]; then
  export KEYWARD_HOME="$data/keyward-demo"
  export KEYWARD_PASSPHRASE="${KEYWARD_PASSPHRASE:-demo}"
  echo "==> no Keyward vault yet: opening the demo workspace in $KEYWARD_HOME (passphrase: $KEYWARD_PASSPHRASE)"
  "$bin/keyward" demo
fi
exec "$bin/keyward-desktop"
