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
source scripts/lib/release-build.sh
relay_out="$root/target/relay-measure.txt"
: > "$relay_out"
if [[ -z "${FIELDBOOK_BENCH_SMOKE:-}" ]]; then
  # (The smoke run skips it: the harness is compiled by the test command's cargo test.)
  # Several relays on PostgreSQL are measured against a throwaway cluster.
  source scripts/lib/pg-cluster.sh
  start_pg_cluster "${FIELDBOOK_BENCH_PG_PORT:-55438}"
  cargo test --release -p fieldbook-server --test it measure -- --ignored --nocapture --test-threads 1 | tee "$relay_out"
fi

# The relay under load: simulated devices (real WebSockets, one token each) from the load
# generator against the release relay, a separate process with its own SQLite file.
# Arguments: devices, changes per second, seconds, then extra loadgen flags. (Every
# simulated device connects from 127.0.0.1: the per-address cap is lifted.)
load() {
  local dir port pid
  dir="$(mktemp -d)"
  port="${FIELDBOOK_LOAD_PORT:-8094}"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  target/release/fieldbook-server --listen "127.0.0.1:$port" --data-dir "$dir" \
    --static-dir /nonexistent --log warn --signin-attempts 1000000 \
    --max-connections-per-address 100000 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  target/release/fieldbook-loadgen --relay "http://127.0.0.1:$port" --devices "$1" \
    --rate "$2" --seconds "$3" --relay-pid "$pid" "${@:4}" | tee -a "$relay_out" || status=$?
  kill "$pid" && wait "$pid" || true
  rm -rf "$dir"
  return "${status:-0}"
}
if [[ -n "${FIELDBOOK_BENCH_SMOKE:-}" ]]; then
  load 20 100 2
  load 20 100 2 --teams
else
  load 1000 2000 20
  # Teams (issue 21): 100 teams of 10 members, each member her own account, all in her
  # team's territory (every session's access goes through the team's membership).
  load 1000 2000 20 --teams
  # The soak: 1,000 devices for 5 minutes, the relay's memory over time must stay flat
  # (FIELDBOOK_SOAK_SECONDS=3600 for the hour of RELIABILITY.md).
  load 1000 500 "${FIELDBOOK_SOAK_SECONDS:-300}" --edit-while-pushing
  # 10,000 sign-ins would take minutes of argon2: two tokens per account of ten devices.
  load 10000 2000 20 --tokens-per-account 2
fi
export FIELDBOOK_RELAY_MEASURE="$relay_out"
# FIELDBOOK_BENCH_SKIP: a pattern of benchmark titles not to run (the test command's smoke
# leaves out those its profile smoke runs anyway).
cd e2e && npx playwright test -c bench.config.ts ${FIELDBOOK_BENCH_SKIP:+--grep-invert "$FIELDBOOK_BENCH_SKIP"}
