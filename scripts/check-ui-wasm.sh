#!/usr/bin/env bash
# Fails if the built screens' wasm (dist/fieldbook-client-*_bg.wasm, and the chunks of the
# lazily loaded screens split from it: every other .wasm of dist/) holds code of Automerge,
# autosurgeon or the sync engine: those belong to the engine worker (client/engine), so the
# page downloads and compiles less and its thread never runs them. Linked Rust code keeps its
# source paths for panic messages, even in a release build, so a crate that crept back into
# the page's wasm shows up by name. Also prints the brotli sizes of the wasm files.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
ui=(dist/fieldbook-client-*_bg.wasm)
engine=(dist/fieldbook-engine_bg.wasm)
if [ ${#ui[@]} -ne 1 ] || [ ${#engine[@]} -ne 1 ]; then
  echo "check-ui-wasm: build first (trunk build --release); found: ${ui[*]:-no UI wasm} ${engine[*]:-no engine wasm}" >&2
  exit 1
fi
chunks=()
for wasm in dist/*.wasm; do
  case "$wasm" in "${ui[0]}" | "${engine[0]}") ;; *) chunks+=("$wasm") ;; esac
done
if [ ${#chunks[@]} -eq 0 ]; then
  echo "check-ui-wasm: no chunks of lazily loaded screens in dist/ (scripts/build-screens.mjs splits them)" >&2
  exit 1
fi
failed=0
# Engine-only code, by the source paths its panics name.
for pattern in 'automerge-[0-9]' 'autosurgeon-[0-9]' 'shared/src/sync/client' 'shared/src/documents/' 'client/engine/src/'; do
  found=$(grep -aoE "${pattern}[[:alnum:]_./-]{0,60}" "${ui[0]}" "${chunks[@]}" | tr -d '\000' | sort -u | head -5 || true)
  if [ -n "$found" ]; then
    echo "check-ui-wasm: the screens' wasm holds engine code ($pattern):" >&2
    echo "$found" | sed 's/^/  /' >&2
    failed=1
  fi
done
# The check itself must be able to fail: the engine's wasm does hold Automerge.
if ! grep -aqE 'automerge-[0-9]' "${engine[0]}"; then
  echo "check-ui-wasm: no Automerge found in the engine's wasm either: the check is broken" >&2
  failed=1
fi
node -e '
const zlib = require("zlib"), fs = require("fs");
const size = (f) => {
  const b = fs.readFileSync(f);
  return [b.length, zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length];
};
const [ui, engine, ...chunks] = process.argv.slice(1);
const kb = (n) => (n / 1024).toFixed(0);
for (const f of [ui, engine]) {
  const [raw, br] = size(f);
  console.log(`${f}: ${kb(raw)} KB, ${kb(br)} KB brotli`);
}
const sum = chunks.map(size).reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);
console.log(`${chunks.length} chunks of lazily loaded screens: ${kb(sum[0])} KB, ${kb(sum[1])} KB brotli`);
' "${ui[0]}" "${engine[0]}" "${chunks[@]}"
exit $failed
