#!/usr/bin/env bash
# bench/under_load: training and inference throughput of hetnas and of
# PyTorch with one competing CPU-bound process on the machine, as a share of
# their idle throughput, measured in the same run (issue: "throughput that
# degrades gracefully under load").  Prints
#   ratio_under_load_<side>_<mode>=<img/s under load> / <img/s idle>
# for side = hetnas_t2 (2 threads, as configured), hetnas_auto (train.threads:
# 0, which picks its count from the load), torch (2 threads), and modes
# train_fp32, train_q22, infer_fp32.  Goal: >= 0.45 for hetnas.
# The machine must otherwise be idle.  Usage: bench/under_load.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
TT="$BUILD/bench/train_throughput"
ITERS=${HN_BENCH_ITERS:-10}
ROUNDS=${HN_BENCH_ROUNDS:-2}
[ -x "$TT" ] || { echo "under_load: $TT not built" >&2; exit 2; }
tmp=$(mktemp -d); busy=0
cleanup() { [ "$busy" -gt 0 ] && kill "$busy" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

val() { grep -o "^$1=[0-9.]*" "$2" | tail -1 | cut -d= -f2; }

echo "== idle (threads 2, iters $ITERS, rounds $ROUNDS)"
"$TT" --threads 2 --iters "$ITERS" --rounds "$ROUNDS" > "$tmp/idle.txt"
grep -E '^(ours|torch)_' "$tmp/idle.txt"

# One competing process: a plain CPU-bound loop at normal priority.
bash -c 'while :; do :; done' &
busy=$!
sleep 1
echo "== under load (one busy process, pid $busy)"
"$TT" --threads 2 --iters "$ITERS" --rounds "$ROUNDS" > "$tmp/load.txt"
grep -E '^(ours|torch)_' "$tmp/load.txt"
"$TT" --threads 0 --no-torch --iters "$ITERS" --rounds "$ROUNDS" > "$tmp/auto.txt"
sed 's/^ours_/ours_auto_/' "$tmp/auto.txt" | grep -E '^ours_auto_' || true
kill "$busy"; busy=0

for m in train_fp32 train_q22 infer_fp32; do
  i=$(val "ours_${m}_img_s" "$tmp/idle.txt"); l=$(val "ours_${m}_img_s" "$tmp/load.txt")
  a=$(val "ours_${m}_img_s" "$tmp/auto.txt")
  ti=$(val "torch_${m}_img_s" "$tmp/idle.txt"); tl=$(val "torch_${m}_img_s" "$tmp/load.txt")
  awk -v m="$m" -v i="$i" -v l="$l" -v a="$a" -v ti="$ti" -v tl="$tl" 'BEGIN {
    printf "ratio_under_load_hetnas_t2_%s=%.2f\n", m, l / i
    printf "ratio_under_load_hetnas_auto_%s=%.2f\n", m, a / i
    if (ti > 0) printf "ratio_under_load_torch_%s=%.2f\n", m, tl / ti }'
done
