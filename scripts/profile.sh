#!/usr/bin/env bash
# Profiles where the time goes in the phases behind BRIEF.md's targets (a profile, not a
# guess): runs the client benchmark (e2e/bench/client.bench.ts) against a copy of the release
# build whose wasm keeps its function names, with FIELDBOOK_BENCH_PROFILE set, so that warm
# start, search, bootstrap, CSV import and the dashboard's first open are each run once more
# under V8's sampling profiler. Writes target/profile/NAME.cpuprofile (open in Chromium's
# DevTools, Performance panel) and target/profile/report.md, whose "Profile" lines summarise
# each profile by crate and by function. Extra arguments go to Playwright, e.g.
#   scripts/profile.sh -g "search-as-you-type"
# The figures in that report are disturbed by the profiler; BENCHMARKS.md comes from
# scripts/bench.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib/release-build.sh

out="$root/target/profile"
rm -rf "$out"
mkdir -p "$out/dist"
cp -r dist/. "$out/dist/"
# The server prefers precompressed siblings: drop them, they hold the stripped build.
find "$out/dist" \( -name '*.br' -o -name '*.gz' \) -delete
# The same screens' wasm as the release build before wasm-opt (which drops the name
# section): scripts/build-screens.mjs keeps the split, bound modules under the build's file
# names in target/screens-split/release.
js="$(cd dist && ls fieldbook-client-*.js)"
if [ ! -f "target/screens-split/release/$js" ]; then
  echo "profile.sh: target/screens-split/release does not hold this build's screens ($js): build again" >&2
  exit 1
fi
cp target/screens-split/release/* "$out/dist/"
# Subresource integrity hashes name the stripped files.
sed -i 's/ integrity="[^"]*"//g' "$out/dist/index.html"

cd e2e
FIELDBOOK_STATIC_DIR="$out/dist" FIELDBOOK_BENCH_PROFILE="$out" FIELDBOOK_BENCH_OUT="$out/report.md" \
  npx playwright test -c bench.config.ts "$@"
grep '^Profile "' "$out/report.md"
# The wasm's frames must carry their names (else the build lost its name section): at least
# one profile of the page's main thread must charge time to a named Rust crate. (The engine
# worker's work, such as a bootstrap's Automerge loads, runs off the main thread: Playwright
# profiles pages only.)
# (One grep, no pipe: with pipefail, `grep | grep -q` fails when -q stops reading early and
# the first grep dies of SIGPIPE — a race that failed a run whose profiles were named.)
if grep -q '^Profile "' "$out/report.md" &&
  ! grep -qE '^Profile ".*By crate: .*\b(shared|client|leptos|reactive_graph|tachys|serde_json|automerge|alloc|core)\b' "$out/report.md"; then
  echo "profile.sh: no named wasm frames in any profile" >&2
  exit 1
fi
