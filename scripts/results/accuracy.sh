#!/bin/bash
# Issue 7's accuracy table: the FP32 ResNet-20 run on Fashion-MNIST, then
# every quantized configuration fine-tuned from it with seeds 1, 2, 3 (same
# held-out split, data.split_seed 1), under the quantization contract of
# docs/nn.md.  Settings are the configs' (fixed before the runs); the
# order (every config at seed 1 first) lets a partial run still give one
# checkpoint per configuration.  Each run goes to runs/<name>_s<seed>;
# a finished run (results.json present) is skipped, a killed one resumed.
#   scripts/results/accuracy.sh [build/hetnas] [threads]
set -u
HN=${1:-build/hetnas}
TH=${2:-2}
LOG=runs/accuracy.log
mkdir -p runs
run() { # config seed out [extra --set]...
    local cfg=$1 seed=$2 out=$3; shift 3
    if [ -f "$out/results.json" ]; then return 0; fi
    local res=()
    [ -d "$out" ] && res=(--resume)
    echo "$(date -u +%FT%TZ) start $cfg seed=$seed -> $out" >>"$LOG"
    "$HN" train "$cfg" --set seed="$seed" --set train.threads="$TH" "$@" \
        --out "$out" "${res[@]}" --no-progress >>"$LOG" 2>&1
    echo "$(date -u +%FT%TZ) end rc=$? $out" >>"$LOG"
}
run configs/fmnist_resnet20_fp32.yaml 1 runs/fmnist_resnet20_fp32
for seed in 1 2 3; do
    for c in q88 q44 q33 q24 q22 hetero hetero_w1; do
        run configs/fmnist_resnet20_$c.yaml "$seed" runs/fmnist_resnet20_${c}_s$seed
    done
done
