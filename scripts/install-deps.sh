#!/usr/bin/env bash
# Installs everything Keyward needs to build, run and test on a fresh Debian 12 / Ubuntu machine.
# Idempotent: each step is skipped when what it installs is already there.
#   scripts/install-deps.sh          build + run deps (apt, npm packages for ui/)
#   scripts/install-deps.sh --test   also the test deps (Xvfb, keyring daemon, WebDriver, moto, cargo-deb)
#   scripts/install-deps.sh --package  also cargo-deb (`make package`)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_package=0
[ "${1:-}" = "--test" ] && want_test=1 && want_package=1
[ "${1:-}" = "--package" ] && want_package=1

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

build_pkgs=(libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev file curl nodejs npm python3 python3-venv)
test_pkgs=(xvfb xauth webkit2gtk-driver dbus-daemon dbus-bin gnome-keyring libsecret-tools
  dunst imagemagick x11-utils xdotool git)

pkgs=("${build_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # node/npm/python3 may come from elsewhere (nvm, pyenv): accept a working command.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    python3) command -v python3 >/dev/null && continue ;;
    python3-venv) python3 -c 'import venv, ensurepip' 2>/dev/null && continue ;;
    git) command -v git >/dev/null && continue ;;  # the scan's git-history tests
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "error: cargo not found; install Rust with rustup first" >&2
  exit 1
fi

echo "==> npm ci (ui/)"
(cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })

if [ "$want_test" = 1 ]; then
  echo "==> npm ci (tests/contract/)"
  (cd tests/contract && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; })
  venv="${MOTO_VENV:-.venv-moto}"
  if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s tests/moto/requirements.txt "$venv/requirements.txt"; then
    echo "==> python venv with moto[server] at $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r tests/moto/requirements.txt
    cp tests/moto/requirements.txt "$venv/requirements.txt"
  fi
  if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    echo "==> cargo install tauri-driver"
    cargo install tauri-driver --version 2.1.0 --locked -q
  fi
  # The supply-chain check (scripts/check-supply-chain.sh); ~7 minutes to build on 2 cores, once.
  if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0\.20\.'; then
    echo "==> cargo install cargo-deny"
    cargo install cargo-deny --version 0.20.2 --locked -q
  fi
fi

# The .deb (`make package`, and the test that installs it); ~1.5 minutes to build on 2 cores, once.
if [ "$want_package" = 1 ] && ! cargo deb --version 2>/dev/null | grep -q '^cargo-deb 3\.'; then
  echo "==> cargo install cargo-deb"
  cargo install cargo-deb --version 3.8.0 --locked -q
fi
