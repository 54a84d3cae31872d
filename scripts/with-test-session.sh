#!/usr/bin/env bash
# Runs a command inside what Keyward's tests need from a desktop: a private D-Bus session with
# gnome-keyring's Secret Service unlocked, and an Xvfb display. Nothing touches the user's own
# keyring or display: the keyring lives in a temp XDG_DATA_HOME that is removed afterwards.
#   scripts/with-test-session.sh CMD [ARGS...]
set -euo pipefail

if [ -z "${KEYWARD_IN_TEST_SESSION:-}" ]; then
  export KEYWARD_IN_TEST_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi

scratch=$(mktemp -d)
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

printf 'keyward-test-keyring' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$scratch/keyring.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break
  sleep 0.1
done

# A free display number.
display=57
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$scratch/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=":$display"
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
# Services the bus starts on demand (dunst, the notification server) need the display too.
dbus-update-activation-environment DISPLAY XDG_RUNTIME_DIR XDG_DATA_HOME

export KEYWARD_REQUIRE_KEYCHAIN=1 KEYWARD_REQUIRE_E2E=1
"$@"
