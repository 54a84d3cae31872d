#!/usr/bin/env bash
# The CLI's outputs on the demo workspace, compared between two builds (issue 12: a change of
# structure must leave them byte-for-byte the same). Instants, durations, ids and the homes'
# paths are masked (sub-second digits too: a change of an instant's precision is not seen);
# everything else must match. Not in `make test`: it needs the old build.
#   scripts/cli-compare.sh OLD_KEYWARD NEW_KEYWARD
set -uo pipefail
old=$1 new=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KEYWARD_PASSPHRASE=compare TZ=UTC NO_COLOR=1

# Each line: a command after `keyward --home H`.
commands=(
  "keys list"
  "keys list --json"
  "keys list --by-risk"
  "findings list"
  "findings list --state all --json"
  "findings show 1"
  "connector list"
  "resources --json"
  "schedule list"
  "exposures"
  "shadow list"
  "policy show"
  "notify prefs"
  "log"
  "audit"
  "audit --json"
  "report --format json"
  "report --format csv"
  "report --format sarif"
  "report --format ocsf"
  # Writes, then what they changed.
  "findings ack 1 --note 'rotating Friday'"
  "findings snooze 2 --until 2030-01-01"
  "findings reopen 1"
  "findings show 1"
  "findings show 2"
  "schedule set audit --cron '0 8 * * *'"
  "schedule list"
  "notify prefs --min-severity high --quiet-hours 22-7"
  "notify prefs"
  "audit --json"
  "findings list --state all"
)

run() { # bin home out
  local bin=$1 home=$2 out=$3
  "$bin" --home "$home" demo > "$out" 2>&1
  echo "exit=$?" >> "$out"
  for c in "${commands[@]}"; do
    echo "### keyward $c" >> "$out"
    eval "\"\$bin\" --home \"\$home\" $c" >> "$out" 2>&1
    echo "exit=$?" >> "$out"
  done
  sed -E -e "s#$home#HOME#g" \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?/INSTANT/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
    -e 's/[0-9]+(\.[0-9]+)? ?(ms|s)\b/DURATION/g' \
    -e 's/"elapsed_ms": ?[0-9]+/"elapsed_ms":N/g' \
    -e 's/\b1[0-9]{12}\b/EPOCH_MS/g' \
    -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
    -e 's/pid [0-9]+/pid N/g' \
    "$out" > "$out.masked"
}

run "$old" "$work/old" "$work/old.out"
run "$new" "$work/new" "$work/new.out"
if diff -u "$work/old.out.masked" "$work/new.out.masked"; then
  echo "cli-compare: the same ($(grep -c '^### ' "$work/new.out.masked") commands, $(wc -l < "$work/new.out.masked") lines)"
else
  echo "cli-compare: the outputs differ (above)" >&2
  exit 1
fi
