#!/usr/bin/env bash
# Runs every test: format check, clippy -D warnings (native and wasm32, inside the builds),
# native unit and integration tests (SQLite and a throwaway PostgreSQL cluster), the release
# build of client and relay, and the Playwright end-to-end suite in Debian's Chromium
# against the real server. Installs whatever is missing first.
#
# Two cores, so a cold run overlaps work that needs nothing of each other: the tools install
# (minutes of `cargo install` on a new machine) while the native tests' build compiles and
# lints the code, and the fuzz targets build at the lowest priority during the release
# builds and the browser tests (taking only the CPU time those leave idle). Each step
# prints the seconds since the start.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

started=$(date +%s)
# Each step says how long the run has taken so far, so a slow CI run shows where it went.
step() { printf '\n\033[1;32m[test +%ss]\033[0m %s\n' "$(( $(date +%s) - started ))" "$*"; }

export PATH="$root/.tools/node_modules/.bin:$PATH"
source scripts/lib/build.sh
# A fresh clone (CI's) builds in the machine's shared target directory (a symlink `target`
# to it, so every path below stays the same): a second run from another fresh clone then
# compiles only the workspace's own crates, whose artifacts keep their names wherever the
# clone is (cargo hashes a workspace member's path relative to the workspace), not every
# dependency again. A checkout with its own `target` keeps it.
if [ ! -e target ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  shared_target="${FIELDBOOK_SHARED_TARGET:-${XDG_CACHE_HOME:-$HOME/.cache}/fieldbook/target}"
  mkdir -p "$shared_target"
  ln -s "$shared_target" target
  echo "building in the shared target directory $shared_target"
fi
mkdir -p target
# Waits for a background job; on failure shows its log and stops the run.
await_job() {
  local pid="$1" log="$2" what="$3"
  if ! wait "$pid"; then
    cat "$log"
    echo "$what failed (log above: $log)" >&2
    exit 1
  fi
}
# Background jobs run in sessions of their own (setsid), so stopping one stops its cargo
# and rustc too; a run that stops early stops them.
background_jobs=()
stop_background_jobs() {
  for job in "${background_jobs[@]}"; do kill -- "-$job" 2>/dev/null || true; done
}
trap stop_background_jobs EXIT

step "installing missing tools in the background (log: target/install-tools.log)"
# The wasm target first: the wasm32 dependency check below reads its target.
FIELDBOOK_INSTALL_ONLY=wasm-target scripts/install-tools.sh test
setsid -w scripts/install-tools.sh test > target/install-tools.log 2>&1 &
install_pid=$!
background_jobs+=("$install_pid")

step "scripts/start.sh installs only what building and running need"
build_plan="$(FIELDBOOK_INSTALL_PLAN=1 scripts/install-tools.sh build)"
test_plan="$(FIELDBOOK_INSTALL_PLAN=1 scripts/install-tools.sh test)"
for tool in chromium postgresql cargo-fuzz e2e-npm-packages; do
  if grep -qx "plan: $tool" <<<"$build_plan" || ! grep -qx "plan: $tool" <<<"$test_plan"; then
    echo "install-tools.sh: $tool must be installed for tests only" >&2
    exit 1
  fi
done
grep -q "scripts/install-tools.sh build" scripts/start.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "the crates (install-tools.sh's crates step), for the checks below that read them offline"
# A new machine has no crate downloaded yet, and the tools install in the background fetches
# them only at its end; it holds the package cache's lock while it downloads its own tools,
# so this may wait for it briefly.
FIELDBOOK_INSTALL_ONLY=crates scripts/install-tools.sh test

step "the two wasm builds compile each dependency they share once"
scripts/check-wasm-features.sh

# Clippy runs inside the builds that compile the code anyway, natively (the tests' build)
# and for wasm32 (the client's release build): the workspace's crates are compiled by
# clippy-driver (rustc with clippy's lints, which is what `cargo clippy` does, for a check
# only), the dependencies by rustc. Every target `cargo clippy --all-targets` would check
# natively (libraries, binaries, their tests, the integration tests), and every wasm crate
# of the client (screens, engine, common, codec, shared), is linted with `-D warnings`, and
# the dependencies are compiled once instead of checked, then built: a separate `cargo
# clippy --target wasm32-unknown-unknown` checked ~300 wasm dependencies first on a new
# machine, and the workspace's wasm crates in every run. `CLIPPY_ARGS` is how cargo-clippy
# hands its `-- …` arguments to clippy-driver (joined by `__CLIPPY_HACKERY__`); clippy.toml
# files are found as under `cargo clippy`.
with_clippy() {
  RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}
native_packages=(-p fieldbook-shared -p fieldbook-client-codec -p fieldbook-server)
clippy_test() {
  with_clippy cargo test "${native_packages[@]}" "$@"
}
step "clippy (native: shared, snapshot decoders, server), in the native tests' build"
clippy_test --no-run

step "waiting for the tools install"
await_job "$install_pid" target/install-tools.log "scripts/install-tools.sh test"
grep -a '\[install' target/install-tools.log || true

# A real PostgreSQL for the tests of several relays sharing one database: a throwaway
# cluster in a temporary directory on a loopback port, stopped and removed on exit.
source scripts/lib/pg-cluster.sh
pg_port="${FIELDBOOK_TEST_PG_PORT:-55439}"
step "PostgreSQL test cluster on 127.0.0.1:$pg_port"
start_pg_cluster "$pg_port"
trap 'stop_background_jobs; stop_pg_cluster' EXIT

step "native tests (shared, snapshot decoders, server)"
clippy_test

fuzz_targets=(protocol_decode blob_validate relay_session csv_import vcard_import history)
step "fuzz targets build in the background at the lowest priority (log: target/fuzz-build.log)"
# Nightly, in target/fuzz: shares no lock with the builds below. It gets the CPU they and
# the browser tests leave idle (the release builds' single-threaded link and wasm-opt).
# A new session is also a scheduling group of its own under Linux's autogroup scheduling
# (on by default, /proc/sys/kernel/sched_autogroup_enabled), and `nice` ranks a process only
# within its group: without the group's own niceness (/proc/self/autogroup), this build took
# an equal share of both cores from the release builds.
FIELDBOOK_FUZZ_ONLY_BUILD=1 setsid -w bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null || true
  exec nice -n 19 scripts/fuzz.sh 0 "$@"' fuzz-build "${fuzz_targets[@]}" > target/fuzz-build.log 2>&1 &
fuzz_build_pid=$!
background_jobs+=("$fuzz_build_pid")

step "release build: client (trunk; clippy -D warnings on its wasm crates, see above) and relay"
with_clippy build_client
build_relay
# The benchmark and profile smokes below use this build instead of building again.
export FIELDBOOK_RELEASE_BUILT=1

step "the relay binary carries the client: started without --static-dir, it serves the app"
embedded_data="$(mktemp -d)"
target/release/fieldbook-server --listen 127.0.0.1:8097 --data-dir "$embedded_data" --log warn &
embedded_pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:8097/healthz >/dev/null && break; sleep 0.1; done
served_index="$(curl -sf http://127.0.0.1:8097/)"
kill "$embedded_pid" && wait "$embedded_pid" || true
rm -rf "$embedded_data"
# The page names this build's hashed files.
grep -qF "$(grep -o 'fieldbook-client-[0-9a-f]*\.js' dist/index.html | head -1)" <<<"$served_index"

step "the screens' wasm holds no Automerge, autosurgeon or sync code"
scripts/check-ui-wasm.sh

step "end-to-end tests (Playwright, Chromium)"
(cd e2e && npx playwright test)

# The profiled phases (warm start, search, bootstrap, CSV import, dashboard) run once, in
# the profile smoke; every other benchmark spec in the benchmark smoke.
profiled="warm start to an interactive list|search-as-you-type and edit|sync between two browser devices|CSV import of|dashboards over large"
step "benchmark smoke run (small book, so the benchmark code cannot rot)"
FIELDBOOK_BENCH_SMOKE=1 FIELDBOOK_BENCH_SKIP="$profiled" scripts/bench.sh
step "profile smoke run (the benchmark's profiled phases, named wasm frames)"
FIELDBOOK_BENCH_SMOKE=1 scripts/profile.sh -g "$profiled"

step "waiting for the fuzz targets' build"
await_job "$fuzz_build_pid" target/fuzz-build.log "the fuzz targets' build"

step "fuzz smoke (each target for a few seconds from its seed corpus; scripts/fuzz.sh)"
# `history` joined once findings 8-11 were fixed (RELIABILITY.md: 303,477 executions in
# 600 s, 0 crashes); longer runs: `scripts/fuzz.sh 600 history`.
scripts/fuzz.sh "${FIELDBOOK_FUZZ_SMOKE_SECONDS:-5}" "${fuzz_targets[@]}"

step "all tests passed in $(( $(date +%s) - started )) s"
