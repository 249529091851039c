#!/usr/bin/env bash
# Runs the benchmarks of bench/ against their peers (called by `make bench`
# with the build directory as $1).  Prints each benchmark's lines, among them
# ratio_<mode>=ours/peer.
set -euo pipefail
BUILD=${1:-build}
THREADS=${HN_BENCH_THREADS:-2}
cmake --build "$BUILD" --target train_throughput infer_throughput sample_step -j "$(nproc)" >/dev/null
echo "== train_throughput (ResNet-20, 3x32x32, batch 128, $THREADS threads; peer: PyTorch)"
OMP_NUM_THREADS=$THREADS "$BUILD/bench/train_throughput" --threads "$THREADS" \
  --batch 128 --iters "${HN_BENCH_ITERS:-20}" --rounds "${HN_BENCH_ROUNDS:-2}"
echo "== infer_throughput (ResNet-20 integer inference on ${HN_BENCH_BACKEND:-cpuint}, q22/q44/q88/hetero, 3x32x32 and 1x28x28, batch 64, $THREADS threads; peers: PyTorch FP32, ONNX Runtime FP32)"
OMP_NUM_THREADS=$THREADS "$BUILD/bench/infer_throughput" --backend "${HN_BENCH_BACKEND:-cpuint}" \
  --threads "$THREADS" --batch 64 --rounds "${HN_BENCH_ROUNDS:-3}" || rc=1  # the rest still runs
echo "== sample_step (a training step under a configuration sampled every batch vs a fixed one; FP32, then (4,4))"
OMP_NUM_THREADS=$THREADS "$BUILD/bench/sample_step" --threads "$THREADS" || rc=1
OMP_NUM_THREADS=$THREADS "$BUILD/bench/sample_step" --threads "$THREADS" --quant || rc=1
echo "== under_load (one competing CPU-bound process; peer: PyTorch)"
bash "$(dirname "$0")/../bench/under_load.sh" "$BUILD"
exit "${rc:-0}"
