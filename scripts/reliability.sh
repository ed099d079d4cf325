#!/usr/bin/env bash
# The reliability measurements of RELIABILITY.md: kill -9 rounds against the real relay
# binary (FIELDBOOK_KILL_ROUNDS, default 100), the fault suite (disk full, damaged file,
# hostile clients, quota; server/tests/it/faults.rs), SIGTERM time with a client that never
# reads, and the fuzz targets for FUZZ_SECONDS each (default 600; scripts/fuzz.sh).
#   scripts/reliability.sh [kill|faults|fuzz]...   (default: all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
parts=("$@")
[[ ${#parts[@]} -eq 0 ]] && parts=(kill faults fuzz)
for part in "${parts[@]}"; do
  case "$part" in
    kill)
      cargo test -p fieldbook-server --test it sigkill_rounds -- --ignored --nocapture \
        | grep -E "RELIABILITY-ROW|test result" ;;
    faults)
      cargo test -p fieldbook-server --test it faults -- --nocapture \
        | grep -E "RELIABILITY-ROW|test result|^test " ;;
    fuzz)
      scripts/fuzz.sh "${FUZZ_SECONDS:-600}" ;;
    *) echo "unknown part $part (kill, faults, fuzz)" >&2; exit 2 ;;
  esac
done
