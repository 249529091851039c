#!/usr/bin/env bash
# Runs every libFuzzer target (BUILD_DIR/fuzz_<parser>) for SECONDS each, one
# after the other, on a copy of its seed corpus (tests/fuzz/corpus/<parser>/)
# plus its past crashes (tests/fuzz/regress/<parser>/).  Prints executions and
# coverage per target; fails (non-zero) on any crash, leak, timeout or
# sanitizer report and saves the inputs in BUILD_DIR/crashes/<parser>/.
# FUZZ_LOG_DIR=dir keeps each target's libFuzzer log as dir/<parser>.log.
# usage: scripts/fuzz.sh BUILD_DIR SECONDS [PARSER...]
set -uo pipefail
build="$1"; secs="$2"; shift 2
src="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$src"/tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c); targets+=("${n#fuzz_}")
  done
fi
# Largest input per target: a few records / tensors / layers.
max_len() {
  case "$1" in
    cifar10) echo 12292 ;;        # 4 records of 3073 bytes
    hwjob) echo 20000 ;;          # the multibit fixture (17 kB)
    *) echo 8192 ;;
  esac
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
for t in "${targets[@]}"; do
  exe="$build/fuzz_$t"
  if [ ! -x "$exe" ]; then
    echo "fuzz: $exe missing (make fuzz builds it)"; failed=$((failed + 1)); continue
  fi
  c="$work/$t"; mkdir -p "$c/corpus" "$c/art"
  cp "$src/tests/fuzz/corpus/$t"/* "$c/corpus/" 2>/dev/null || true
  cp "$src/tests/fuzz/regress/$t"/* "$c/corpus/" 2>/dev/null || true
  start=$(date +%s)
  # -rss_limit_mb: ASan + a model; -timeout: one input may not take 10 s.
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}" \
  "$exe" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$c/art/" \
      "$c/corpus" >"$c/log" 2>&1
  rc=$?
  [ -n "${FUZZ_LOG_DIR:-}" ] && mkdir -p "$FUZZ_LOG_DIR" && cp "$c/log" "$FUZZ_LOG_DIR/$t.log"
  el=$(( $(date +%s) - start ))
  execs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$c/log" | grep -oE "[0-9]+$" | tail -1)
  last=$(grep -E "^#[0-9]+.*(cov|ft):" "$c/log" | tail -1)
  cov=$(echo "$last" | grep -oE "cov: [0-9]+" | grep -oE "[0-9]+")
  ft=$(echo "$last" | grep -oE "ft: [0-9]+" | grep -oE "[0-9]+")
  corp=$(echo "$last" | grep -oE "corp: [0-9]+/[0-9]+[a-zA-Z]*" | cut -d' ' -f2)
  if [ $rc -eq 0 ] && ! ls "$c/art"/* >/dev/null 2>&1; then
    printf 'fuzz: %-12s ok    %5ss execs %-10s cov %-6s ft %-6s corpus %s\n' \
      "$t" "$el" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
    passed=$((passed + 1))
  else
    tail -40 "$c/log"
    mkdir -p "$build/crashes/$t"
    cp "$c/art"/* "$build/crashes/$t/" 2>/dev/null || true
    printf 'fuzz: %-12s FAIL  %5ss execs %-10s (inputs saved in %s/crashes/%s/)\n' \
      "$t" "$el" "${execs:-?}" "$build" "$t"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
