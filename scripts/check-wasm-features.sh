#!/usr/bin/env bash
# Fails when the screens' wasm (client/app) and the engine's (client/engine) would compile a
# dependency they share with different features. Trunk builds the two modules one after the
# other, and cargo compiles a crate once per distinct feature set: one web-sys feature more
# on one side made web-sys and every crate above it (Leptos, gloo, idb, Automerge, shared,
# ~35 crates) compile twice in every cold release build. `client/common` enables every web-sys
# feature of both; this keeps it so.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
  cargo tree --offline -p "$1" --target wasm32-unknown-unknown -e normal \
    -f '{p} [{f}]' --prefix none --no-dedupe | sort -u
}
screens="$(features fieldbook-client)"
engine="$(features fieldbook-engine)"
# A package in both trees with other features shows up once per side among the lines only
# one side has.
one_side="$(comm -3 <(echo "$screens") <(echo "$engine") | sed 's/^\t//')"
split="$(awk '{ print $1 " " $2 }' <<<"$one_side" | sort | uniq -d)"
if [[ -n "$split" ]]; then
  echo "these dependencies would be compiled twice, with other features for the screens than for the engine:" >&2
  grep -F -f <(echo "$split") <<<"$one_side" >&2
  echo "enable web-sys features in client/common/Cargo.toml only (see the comment there)" >&2
  exit 1
fi
echo "the screens' and the engine's wasm builds share every dependency's build"
