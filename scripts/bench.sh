#!/usr/bin/env bash
# Measures Fieldbook against BRIEF.md's targets and writes BENCHMARKS.md (with date, commit
# and machine). FIELDBOOK_BENCH_SMOKE=1 runs a small version (used by the test command so the
# benchmark code cannot rot) and writes to a temporary file instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/install-tools.sh >/dev/null
export PATH="$root/.tools/node_modules/.bin:$PATH"
trunk build --release
cargo build --release -p fieldbook-server
cd e2e && npx playwright test -c bench.config.ts
