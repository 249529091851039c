#!/usr/bin/env bash
# Runs the configuration/YAML fuzzer for a fixed time on a copy of the seed
# corpus.  Fails (non-zero) on any crash or sanitizer report.
# usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build="$1"; secs="$2"
src="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$src"/tests/fuzz_corpus/* "$work/"
echo "fuzz: fuzz_config for ${secs}s (seed corpus tests/fuzz_corpus)"
if "$build/fuzz_config" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
     -artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
  grep -E "stat::number_of_executed_units|cov:" "$work/log" | tail -2
  echo "fuzz: 1 passed, 0 failed"
else
  tail -40 "$work/log"
  mkdir -p "$src/build-fuzz/crashes"
  cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$src/build-fuzz/crashes/" 2>/dev/null || true
  echo "fuzz: 0 passed, 1 failed (inputs saved in build-fuzz/crashes/)"
  exit 1
fi
