#!/usr/bin/env bash
# bench/idle_spin: what hetnas' short OpenMP spin (GOMP_SPINCOUNT=10000, set
# by the CLI and the benchmarks unless the user chose a wait policy;
# threads.h) costs on an idle machine, against libgomp's own default
# (300,000 spins when OMP_WAIT_POLICY is unset).  Issue 11 item 1: the idle
# throughput must not fall by more than 5% for the sake of throughput under
# load.  Runs bench/train_throughput (2 threads, no peer) alternately with
# each setting, `rounds` times, keeps the best of each and prints
#   ours_<spin>_<mode>_img_s=...   ratio_idle_spin_<mode>=<10000> / <300000>
# The machine must otherwise be idle.  Usage: bench/idle_spin.sh BUILD_DIR [rounds]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-3}
TT="$BUILD/bench/train_throughput"
[ -x "$TT" ] || { echo "idle_spin: $TT not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
val() { grep -o "^$1=[0-9.]*" "$2" | tail -1 | cut -d= -f2; }

for r in $(seq "$ROUNDS"); do
  for spin in 10000 300000; do
    env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=$spin "$TT" --threads 2 --no-torch \
        --iters "${HN_BENCH_ITERS:-10}" --rounds 1 > "$tmp/$spin.$r.txt"
  done
done
for m in train_fp32 train_q22 infer_fp32; do
  best=()
  for spin in 10000 300000; do
    b=0
    for r in $(seq "$ROUNDS"); do
      v=$(val "ours_${m}_img_s" "$tmp/$spin.$r.txt")
      b=$(awk -v a="$b" -v v="$v" 'BEGIN { print (v > a ? v : a) }')
    done
    echo "ours_spin${spin}_${m}_img_s=$b"
    best+=("$b")
  done
  awk -v a="${best[0]}" -v b="${best[1]}" -v m="$m" \
      'BEGIN { printf "ratio_idle_spin_%s=%.3f\n", m, a / b }'
done
