#!/usr/bin/env bash
# Measures Fieldbook against BRIEF.md's targets and writes BENCHMARKS.md (with date, commit
# and machine). FIELDBOOK_BENCH_SMOKE=1 runs a small version (used by the test command so the
# benchmark code cannot rot) and writes to a temporary file instead.
#
# Two parts: the relay's sync figures (a Rust harness driving the real relay binary over
# loopback: server/tests/it/measure.rs) and the client figures in headless Chromium
# (e2e/bench/client.bench.ts), which also writes the report including the relay's rows.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-tools.sh >/dev/null
export PATH="$root/.tools/node_modules/.bin:$PATH"
trunk build --release
cargo build --release -p fieldbook-server
if [[ -z "${FIELDBOOK_BENCH_SMOKE:-}" ]]; then
  # (The smoke run skips it: the harness is compiled by the test command's cargo test.)
  relay_out="$root/target/relay-measure.txt"
  cargo test --release -p fieldbook-server --test it measure -- --ignored --nocapture | tee "$relay_out"
  export FIELDBOOK_RELAY_MEASURE="$relay_out"
fi
cd e2e && npx playwright test -c bench.config.ts
