#!/bin/bash
# Issue 7's accuracy table under the quantization contract of docs/nn.md:
# the FP32 ResNet-20 on Fashion-MNIST at seeds 1, 2, 3, and every quantized
# configuration fine-tuned from the FP32 run of the same seed.  Every run
# holds out the same validation split (data.split_seed 1; the fine-tune
# configs carry it, the FP32 seeds 2 and 3 get it here), so a fine-tune's
# validation images were never trained on by its FP32 parent.  Settings
# are the configs' (fixed before the runs).  Order: the whole seed 1 first
# (one checkpoint per configuration for the agreement checks), then the
# other FP32 seeds, then their fine-tunes.  Run dirs:
#   runs/fmnist_resnet20_fp32 (seed 1), runs/fmnist_resnet20_fp32_s{2,3},
#   runs/fmnist_resnet20_<config>_s<seed>.
# A finished run (results.json present) is skipped, a killed one resumed.
#   scripts/results/accuracy.sh [build/hetnas] [threads]
set -u
HN=${1:-build/hetnas}
TH=${2:-2}
LOG=runs/accuracy.log
. "$(dirname "$0")/lib.sh"
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
finetune() { # seed config...
    local seed=$1 c; shift
    for c in "$@"; do
        run configs/fmnist_resnet20_$c.yaml "$seed" runs/fmnist_resnet20_${c}_s$seed \
            --set init="$(fp32 "$seed")/checkpoints/best.safetensors"
    done
}
run configs/fmnist_resnet20_fp32.yaml 1 "$(fp32 1)"
finetune 1 q44 q33 q24 hetero_w1 hetero q22 q88
for seed in 2 3; do
    run configs/fmnist_resnet20_fp32.yaml "$seed" "$(fp32 "$seed")" --set data.split_seed=1
done
# The configurations the table needs three seeds of first, the rest after.
for seed in 2 3; do
    finetune "$seed" q44 q33 q24 q22
done
for seed in 2 3; do
    finetune "$seed" q88 hetero hetero_w1
done
