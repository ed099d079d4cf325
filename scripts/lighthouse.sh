#!/usr/bin/env bash
# Lighthouse (mobile preset: simulated slow 4G and a 4x slower CPU) on the list page of a
# first visit, against the release build served by a release relay on loopback, in Debian's
# Chromium. Three runs; prints each score with its paint and blocking-time figures and the
# median score. `scripts/lighthouse.sh --screens` instead scores accessibility and best
# practices on the list, a customer's page, quick capture and the dashboard, with a sample
# book in the browser. Build first (scripts/test.sh or trunk build --release and cargo build
# --release -p fieldbook-server); Lighthouse is an npm devDependency of e2e/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port="${FIELDBOOK_LIGHTHOUSE_PORT:-8097}"
data="$(mktemp -d)"
target/release/fieldbook-server --listen "127.0.0.1:$port" --data-dir "$data" --static-dir dist \
  > "$data/relay.log" 2>&1 &
relay=$!
trap 'kill "$relay" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.2; done
cd e2e
if [ "${1:-}" = "--screens" ]; then
  # Accessibility and best practices on the list, a customer, capture and the dashboard,
  # with a book in the browser (e2e/bench/lighthouse_screens.mjs); exits 1 below 100.
  node bench/lighthouse_screens.mjs "http://127.0.0.1:$port"
  exit $?
fi
scores=()
for run in 1 2 3; do
  CHROME_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" npx lighthouse "http://127.0.0.1:$port/" \
    --only-categories=performance --form-factor=mobile \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" \
    --output=json --output-path="$data/run$run.json" --quiet
  score=$(node -e '
    const r = require(process.argv[1]), a = r.audits;
    const s = Math.round(r.categories.performance.score * 100);
    console.error(`run: score ${s}; ` + ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "speed-index", "cumulative-layout-shift"].map((k) => `${k} ${a[k].displayValue}`).join(", "));
    console.log(s);' "$data/run$run.json")
  scores+=("$score")
done
printf '%s\n' "${scores[@]}" | sort -n | sed -n 2p | xargs printf 'Lighthouse mobile performance, median of 3: %s\n'
