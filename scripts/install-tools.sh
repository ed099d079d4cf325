#!/usr/bin/env bash
# Installs the tools Fieldbook needs, from the package registries only (crates.io, npm,
# Debian). Idempotent: each step checks what is already present at the right version and
# skips it, so a warm run costs seconds.
#   scripts/install-tools.sh [build|test]   (default: test)
# `build`: only what building and running the app needs (the wasm target, trunk,
# wasm-bindgen, wasm-opt, crates) — what scripts/start.sh uses, so a newcomer starting a
# server waits for no browser or database. `test`: also cargo-fuzz, Chromium, PostgreSQL
# and the e2e npm packages. FIELDBOOK_INSTALL_PLAN=1 lists the steps of a mode and installs
# nothing (scripts/test.sh checks the `build` plan holds no test tool);
# FIELDBOOK_INSTALL_ONLY=STEP runs that one step (scripts/test.sh adds the wasm target and
# fetches the crates first).
set -euo pipefail

mode="${1:-test}"
case "$mode" in
  build | test) ;;
  *) echo "usage: scripts/install-tools.sh [build|test]" >&2; exit 2 ;;
esac

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_NPM_VERSION=132.0.0
CARGO_FUZZ_VERSION=0.13.2
WASM_SPLIT_VERSION=0.2.4

root="$(cd "$(dirname "$0")/.." && pwd)"
tools_dir="$root/.tools"
mkdir -p "$tools_dir"

log() { printf '\033[1;34m[install %s]\033[0m %s\n' "$(date +%T)" "$*"; }
# step NAME [test]: whether to run the step NAME in this mode (a `test` step only when
# testing); with FIELDBOOK_INSTALL_PLAN=1, prints it instead and says no.
step() {
  if [ "${2:-}" = test ] && [ "$mode" != test ]; then return 1; fi
  if [ -n "${FIELDBOOK_INSTALL_ONLY:-}" ] && [ "$FIELDBOOK_INSTALL_ONLY" != "$1" ]; then return 1; fi
  if [ -n "${FIELDBOOK_INSTALL_PLAN:-}" ]; then echo "plan: $1"; return 1; fi
  return 0
}

# Tools built from crates.io are build-time helpers whose own speed hardly matters: built
# without link-time optimisation and with parallel codegen (their release profiles ask for
# fat LTO and one codegen unit, which serialises minutes of a cold run on two cores).
install_tool() {
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

# 1. The wasm target.
if ! step wasm-target; then :
elif ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
else
  log "wasm32-unknown-unknown present"
fi

# 2. trunk, at the version Trunk.toml expects.
if ! step trunk; then :
elif command -v trunk >/dev/null 2>&1 && trunk --version | grep -q " $TRUNK_VERSION"; then
  log "trunk $TRUNK_VERSION present"
else
  log "installing trunk $TRUNK_VERSION (several minutes on a cold machine)"
  # Without its default features (TLS for downloads, the update check): it never downloads
  # here (Trunk.toml `offline = true`), and rustls with its crypto is ~1 min of a cold build.
  install_tool trunk --version "$TRUNK_VERSION" --locked --no-default-features
fi

# 2b. cargo-fuzz, for the fuzz smoke (scripts/fuzz.sh; the nightly toolchain it needs is
#     preinstalled on these machines, TOOLCHAIN.md).
if ! step cargo-fuzz test; then :
elif cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION"; then
  log "cargo-fuzz $CARGO_FUZZ_VERSION present"
else
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  install_tool cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# 3. wasm-bindgen-cli, at the wasm-bindgen version Cargo.lock pins. Without --locked:
#    its own lockfile pins a crate the registry mirror lacks (TOOLCHAIN.md).
if ! step wasm-bindgen; then :
elif command -v wasm-bindgen >/dev/null 2>&1 && wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION"; then
  log "wasm-bindgen $WASM_BINDGEN_VERSION present"
else
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  install_tool wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# 3b. wasm-split-cli (crate wasm_split_cli_support), which splits the screens' wasm into
#     lazily loaded chunks (scripts/build-screens.mjs). It prints no version, so the installed
#     crate's version is read from cargo's record of installs.
if ! step wasm-split-cli; then :
elif command -v wasm-split-cli >/dev/null 2>&1 \
  && cargo install --list | grep -q "^wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  log "wasm-split-cli $WASM_SPLIT_VERSION present"
else
  log "installing wasm-split-cli $WASM_SPLIT_VERSION"
  install_tool wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --locked --features build-binary
fi

# 4. wasm-opt from npm's binaryen (never Debian's binaryen 108, whose output fails at runtime).
#    Installed into .tools/ and put first on PATH by the scripts that build.
if ! step wasm-opt; then :
elif [ -x "$tools_dir/node_modules/.bin/wasm-opt" ] \
  && "$tools_dir/node_modules/.bin/wasm-opt" --version | grep -q "version ${BINARYEN_NPM_VERSION%%.*}"; then
  log "wasm-opt (binaryen ${BINARYEN_NPM_VERSION%%.*}) present"
else
  log "installing binaryen $BINARYEN_NPM_VERSION from npm"
  (cd "$tools_dir" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --no-audit --no-fund --save-exact "binaryen@$BINARYEN_NPM_VERSION")
fi

# 5. Debian's Chromium for the browser tests.
if ! step chromium test; then :
elif [ -x /usr/bin/chromium ]; then
  log "chromium present: $(/usr/bin/chromium --version 2>/dev/null || true)"
else
  log "installing chromium from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 5b. Debian's PostgreSQL for the several-relays tests (a throwaway cluster per test run).
if ! step postgresql test; then :
elif ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "postgresql present: $(ls -d /usr/lib/postgresql/*/ | xargs -n1 basename | tr '\n' ' ')"
else
  log "installing postgresql from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

# 6. npm packages of the e2e suite, exactly as package-lock.json pins them.
if ! step e2e-npm-packages test; then :
elif [ -f "$root/e2e/package-lock.json" ]; then
  if [ -d "$root/e2e/node_modules/@playwright/test" ] \
    && cmp -s "$root/e2e/package-lock.json" "$root/e2e/node_modules/.package-lock.json.installed" 2>/dev/null; then
    log "e2e npm packages present"
  else
    log "installing e2e npm packages (npm ci)"
    (cd "$root/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
      && cp package-lock.json node_modules/.package-lock.json.installed)
  fi
fi

# 7. Crates for an offline trunk build (and scripts/test.sh's offline dependency check).
if step crates; then
  log "fetching crates"
  (cd "$root" && [ -f Cargo.toml ] && cargo fetch --quiet) || true
fi
if [ -z "${FIELDBOOK_INSTALL_ONLY:-}" ] && [ -z "${FIELDBOOK_INSTALL_PLAN:-}" ]; then
  log "tools ready ($mode)"
fi
