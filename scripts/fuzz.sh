#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, nightly): every target in fuzz/ runs for
# FUZZ_SECONDS (default 30) from its committed seed corpus (fuzz/corpus/TARGET). Any crash,
# panic, leak or timeout fails the script, and the input is left in fuzz/artifacts/TARGET/
# (replay it: cd fuzz && cargo +nightly fuzz run TARGET artifacts/TARGET/crash-…).
# New inputs go to a scratch dir, so the committed corpora stay small.
#
# Usage: scripts/fuzz.sh [TARGET...]     env: FUZZ_SECONDS=30
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${FUZZ_SECONDS:-30}
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz missing: scripts/setup.sh test installs it" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "fuzz: $t for ${secs}s"
  if ! cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$scratch/$t.log" 2>&1; then
    tail -n 40 "$scratch/$t.log" >&2
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units|^Done' "$scratch/$t.log" | sed "s/^/fuzz: $t: /" || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each, no crash"
