# Sourced by scripts/start.sh, scripts/test.sh and scripts/lib/release-build.sh (from the
# repository root, with the npm tools on PATH): the release build of the client and of the
# relay, written once.

# The client into dist/: the engine's wasm and the screens' (split into chunks), the page,
# the service worker. Extra arguments go to Trunk.
#
# Trunk alone works one step after the other, each on one core: the engine's crate (one
# codegen unit, ~85 s on these machines), its wasm-bindgen and wasm-opt (~30 s), then in its
# post-build hook (scripts/build-screens.mjs) the screens' crate (~70 s), their split,
# wasm-bindgen and wasm-opt (~35 s). Here the two crates compile in one cargo run, side by
# side on two cores (Trunk's and the hook's cargo runs then find them built: the two compile
# every shared dependency with the same features, scripts/check-wasm-features.sh, so this
# run builds exactly the units those two would), and the screens are split and optimised
# (`build-screens.mjs --prepare`) while Trunk optimises the engine; the hook waits for that.
build_client() {
  cargo build --offline --release --target wasm32-unknown-unknown \
    -p fieldbook-engine --bin fieldbook-engine -p fieldbook-client --bin fieldbook-client
  local split="${CARGO_TARGET_DIR:-target}/screens-split" prepare status=0
  mkdir -p "$split"
  node scripts/build-screens.mjs --prepare > "$split/prepare.log" 2>&1 &
  prepare=$!
  echo "$prepare" > "$split/release.preparing"
  trunk build --release "$@" || status=$?
  # The hook waited for it (or, had it failed, did its work itself).
  wait "$prepare" || echo "build_client: preparing the screens failed (the hook built them; $split/prepare.log)" >&2
  return "$status"
}

# The relay, which embeds dist/ (build the client first).
build_relay() {
  cargo build --release -p fieldbook-server
}
