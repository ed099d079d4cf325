#!/usr/bin/env bash
# Builds the client and the relay, then starts Fieldbook at http://127.0.0.1:8080 on the
# embedded default (one SQLite file under ./data). Extra arguments go to the server
# (e.g. --listen 0.0.0.0:8080); see `target/release/fieldbook-server --help`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Only what building and running need: no browser, database or test packages.
scripts/install-tools.sh build
export PATH="$root/.tools/node_modules/.bin:$PATH"
source scripts/lib/build.sh

echo "[start] building the client (trunk, release)"
build_client
echo "[start] building the relay (release)"
build_relay
echo "[start] Fieldbook at http://127.0.0.1:8080 (Ctrl-C to stop)"
exec target/release/fieldbook-server "$@"
