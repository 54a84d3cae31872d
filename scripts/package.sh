#!/usr/bin/env bash
# Builds Keyward's .deb (the desktop app and the CLI, the desktop entry and the icon) with
# cargo-deb from binaries already built: `make package` builds them in release first.
#   scripts/package.sh [--profile release|dev] [--output DIR]
# Prints the path of the .deb. No AppImage: the bundler's AppImage tools are downloaded at build
# time, and this project builds offline.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
output="${CARGO_TARGET_DIR:-$PWD/target}/debian"
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "usage: $0 [--profile release|dev] [--output DIR]" >&2; exit 2 ;;
  esac
done
if ! cargo deb --version >/dev/null 2>&1; then
  echo "error: cargo-deb is missing: scripts/install-deps.sh --package installs it" >&2
  exit 1
fi
mkdir -p "$output"
# Dev builds (the test's): no stripping and fast compression, which take longer than they save.
quick=()
[ "$profile" = dev ] && quick=(--no-strip --fast)
cargo deb -p keyward-desktop --no-build --profile "$profile" "${quick[@]}" --output "$output" -q >&2
ls -t "$output"/keyward_*.deb | head -1
