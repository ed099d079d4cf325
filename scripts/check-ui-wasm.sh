#!/usr/bin/env bash
# Fails if the built screens' wasm (dist/fieldbook-client-*_bg.wasm) holds code of Automerge,
# autosurgeon or the sync engine: those belong to the engine worker (client/engine), so the
# page downloads and compiles less and its thread never runs them. Linked Rust code keeps its
# source paths for panic messages, even in a release build, so a crate that crept back into
# the page's wasm shows up by name. Also prints the brotli sizes of both wasm files.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
ui=(dist/fieldbook-client-*_bg.wasm)
engine=(dist/fieldbook-engine_bg.wasm)
if [ ${#ui[@]} -ne 1 ] || [ ${#engine[@]} -ne 1 ]; then
  echo "check-ui-wasm: build first (trunk build --release); found: ${ui[*]:-no UI wasm} ${engine[*]:-no engine wasm}" >&2
  exit 1
fi
failed=0
# Engine-only code, by the source paths its panics name.
for pattern in 'automerge-[0-9]' 'autosurgeon-[0-9]' 'shared/src/sync/client' 'shared/src/documents/' 'client/engine/src/'; do
  found=$(grep -aoE "${pattern}[[:alnum:]_./-]{0,60}" "${ui[0]}" | tr -d '\000' | sort -u | head -5 || true)
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
for (const f of process.argv.slice(1)) {
  const b = fs.readFileSync(f);
  const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`${f}: ${(b.length / 1024).toFixed(0)} KB, ${(br / 1024).toFixed(0)} KB brotli`);
}' "${ui[0]}" "${engine[0]}"
exit $failed
