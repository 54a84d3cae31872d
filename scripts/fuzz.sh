#!/usr/bin/env bash
# Runs every fuzz target for a fixed budget (issue 11). Not part of `make test`: it needs nightly
# and `cargo install cargo-fuzz`, and takes its budget × 6 plus one build (~15 min on 2 cores).
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
# Safe Rust: what is looked for is panics (failed assertions included), hangs and runaway
# memory, so the targets are built without a sanitizer (`-s none`), which also builds faster.
# A crash leaves its input in fuzz/artifacts/<target>/: fix the cause, then keep the input as a
# regression test next to the code it broke. Seeds in fuzz/seeds/<target>/ start the corpus.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
budget="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && mapfile -t targets < <(cargo +nightly fuzz list)
export CARGO_TARGET_DIR="${KEYWARD_FUZZ_TARGET_DIR:-$HOME/.cache/keyward/fuzz-target}"
cargo +nightly fuzz build -s none -O
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  log=$(mktemp)
  if cargo +nightly fuzz run -s none -O "$t" "corpus/$t" -- -max_total_time="$budget" -timeout=20 -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see fuzz/artifacts/$t/)"
    status=1
  fi
  runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' || true)
  [ -z "$runs" ] && runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  echo "fuzz: $t: ${runs:-?} executions in ${budget} s, coverage $cov edges, $result"
  [ "$status" = 1 ] && tail -40 "$log" >&2
  rm -f "$log"
done
exit "$status"
