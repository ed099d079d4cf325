#!/usr/bin/env bash
# Runs every fuzz target (shared/fuzz: protocol decoding, blob validation, the relay's
# session fed frames, CSV and vCard import) for SECONDS each (default 60), with the seed
# corpus in shared/fuzz/corpus/<target> (found inputs are added to a scratch copy under
# target/fuzz-corpus, not to the repository). Prints executions and crashes per target; a
# crash fails the run and leaves its input in shared/fuzz/artifacts/<target>/.
# Needs the nightly toolchain and cargo-fuzz (scripts/install-tools.sh installs cargo-fuzz;
# nightly is preinstalled on these machines, see TOOLCHAIN.md).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# FIELDBOOK_FUZZ_ONLY_BUILD=1 builds the targets and runs none (the test command builds them
# at low priority while the browser tests run, then runs the smoke).
# FIELDBOOK_FUZZ_SANITIZER=none builds without AddressSanitizer (the default, `address`,
# catches memory errors in unsafe code, e.g. Automerge's; for the import parsers, safe Rust
# over the csv crate, `none` runs about twice as many inputs per second). Each sanitizer
# builds into its own directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
shift || true
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly); cannot fuzz" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing (cargo install cargo-fuzz --locked --version 0.13.2)" >&2
  exit 1
fi
cd "$root/shared/fuzz"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
sanitizer="${FIELDBOOK_FUZZ_SANITIZER:-address}"
if [[ "$sanitizer" == address ]]; then
  export CARGO_TARGET_DIR="$root/target/fuzz"
else
  export CARGO_TARGET_DIR="$root/target/fuzz-$sanitizer"
fi
for target in "${targets[@]}"; do
  cargo +nightly fuzz build -O -s "$sanitizer" "$target"
done
if [[ -n "${FIELDBOOK_FUZZ_ONLY_BUILD:-}" ]]; then
  exit 0
fi
status=0
for target in "${targets[@]}"; do
  scratch="$root/target/fuzz-corpus/$target"
  mkdir -p "$scratch" "corpus/$target"
  cp -n corpus/"$target"/* "$scratch"/ 2>/dev/null || true
  # One log per target and sanitizer: a long run beside the test command's smoke never
  # shares its file.
  log="$root/target/fuzz-$target-$sanitizer.log"
  if cargo +nightly fuzz run -O -s "$sanitizer" "$target" "$scratch" -- -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 > "$log" 2>&1; then
    result="0 crashes"
  else
    result="CRASH (see $log and shared/fuzz/artifacts/$target/)"
    status=1
  fi
  execs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  if [[ -z "$execs" ]]; then
    execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  echo "fuzz: $target: ${execs:-?} executions in ${seconds} s (sanitizer: $sanitizer), $result"
done
exit $status
