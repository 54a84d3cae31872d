# Keyward's entry points. On a fresh Debian/Ubuntu machine:
#   make run    install what is missing, build the desktop app (release), start it (on the demo
#               workspace when nothing is configured)
#   make test   install what the tests need, then run every test (CI calls this)
#   make desktop  release build of keyward-desktop at $(CARGO_TARGET_DIR or target)/release/
#   make cli    release build of the `keyward` CLI alone (no web UI build)
#   make package  the .deb (desktop app, CLI, desktop entry, icon) in $(CARGO_TARGET_DIR or target)/debian/

TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
MOTO_VENV ?= $(HOME)/.cache/keyward/venv-moto
export MOTO_VENV
export KEYWARD_MOTO_PYTHON := $(MOTO_VENV)/bin/python
export TZ := UTC

.PHONY: run test desktop package deps test-deps ui cli check-layering check-provider-literals check-supply-chain

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

ui:
	cd ui && npm run build --silent

cli: deps
	cargo build --release -p keyward-cli

desktop: deps ui
	cargo build --release -p keyward-cli -p keyward-desktop

package: desktop
	scripts/install-deps.sh --package
	scripts/package.sh

run: desktop
	scripts/run.sh $(TARGET_DIR)/release

check-layering:
	scripts/check-layering.sh

check-provider-literals:
	scripts/check-provider-literals.py

check-supply-chain:
	scripts/check-supply-chain.sh

test: test-deps ui check-layering check-provider-literals check-supply-chain
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	cd ui && npm test --silent
	cargo build --workspace --bins
	scripts/with-test-session.sh cargo test --workspace
	@# The UI's types are generated from the core's DTOs by that test run: committed ones must match.
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  if ! git diff --quiet -- ui/src/bindings || [ -n "$$(git status --porcelain -- ui/src/bindings)" ]; then \
	    git status --short -- ui/src/bindings; \
	    echo "ui/src/bindings is stale: run cargo test -p keyward-core and commit what it wrote" >&2; exit 1; \
	  fi; \
	fi
