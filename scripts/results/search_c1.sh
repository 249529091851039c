#!/bin/bash
# Issue 8 item 8: a full C.1 search on ResNet-20 / Fashion-MNIST
# (configs/search_fmnist_resnet20_ops4.yaml, starting from the FP32 run of
# seed 1), then the expected configuration it found retrained with seeds
# 1, 2, 3 by exactly the recipe of the homogeneous line of issue 7
# (configs/fmnist_resnet20_q44.yaml: fine-tune 6 epochs from the FP32 run
# of the same seed, same held-out split), so that
# scripts/results/search_c1_table.py can set it against that line at equal
# BOPs.  Finished runs are skipped, killed ones resumed.
#   scripts/results/search_c1.sh [build/hetnas] [threads]
set -u
HN=${1:-build/hetnas}
TH=${2:-2}
S=runs/search_c1_ops4
LOG=runs/search_c1.log
mkdir -p runs
. "$(dirname "$0")/lib.sh"
if ! finished "$S"; then
    res=()
    [ -d "$S" ] && res=(--resume)
    echo "$(date -u +%FT%TZ) start search -> $S" >>"$LOG"
    "$HN" search configs/search_fmnist_resnet20_ops4.yaml --set train.threads="$TH" \
        --out "$S" "${res[@]}" --no-progress >>"$LOG" 2>&1
    echo "$(date -u +%FT%TZ) end rc=$? $S" >>"$LOG"
fi
finished "$S" || { echo "search_c1.sh: the search did not finish (see $LOG)" >&2; exit 1; }
for seed in 1 2 3; do
    out=${S}_expected_s$seed
    [ -f "$out/results.json" ] && continue
    res=()
    [ -d "$out" ] && res=(--resume)
    echo "$(date -u +%FT%TZ) start retrain seed=$seed -> $out" >>"$LOG"
    "$HN" train configs/fmnist_resnet20_q44.yaml --set name=search_c1_ops4_expected \
        --set config="$PWD/$S/found/expected.yaml" --set seed="$seed" \
        --set init="$(fp32 "$seed")/checkpoints/best.safetensors" \
        --set train.threads="$TH" --out "$out" "${res[@]}" --no-progress >>"$LOG" 2>&1
    echo "$(date -u +%FT%TZ) end rc=$? $out" >>"$LOG"
done
