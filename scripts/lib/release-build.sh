# Sourced by scripts/bench.sh and scripts/profile.sh (from the repository root, with $root
# set): installs what is missing, puts the npm tools on PATH, and builds the release client
# (trunk, into dist/) and the release relay. FIELDBOOK_RELEASE_BUILT=1 (set by
# scripts/test.sh once it has built both) skips the build: a second `trunk build` rewrites
# dist/ even when nothing changed, and the relay, which embeds dist/, then recompiles with
# fat LTO (2-3 minutes each time on these machines).
scripts/install-tools.sh >/dev/null
export PATH="$root/.tools/node_modules/.bin:$PATH"
source scripts/lib/build.sh
if [[ -z "${FIELDBOOK_RELEASE_BUILT:-}" ]]; then
  build_client
  build_relay
fi
