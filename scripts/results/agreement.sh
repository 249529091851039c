#!/bin/bash
# Issue 7 item 4: for every fine-tuned configuration of seed 1
# (scripts/results/accuracy.sh), the integer network against the
# fake-quant float model on the whole Fashion-MNIST test set (cpuint: exact,
# == ref, tests/test_backend_ops.c), then csim and the RTL (Verilator)
# against ref, bit for bit, on the first N test images (--crosscheck).
# Reporting, not selection: the checkpoints are fixed before this runs.
# Writes runs/agreement/<config>_{int,csim,verilator}.json and a log.
#   scripts/results/agreement.sh [build/hetnas] [N=100]
set -u
HN=${1:-build/hetnas}
N=${2:-100}
OUT=runs/agreement
mkdir -p "$OUT"
LOG=$OUT/agreement.log
for c in q88 q44 q33 q24 q22 hetero hetero_w1; do
    run=runs/fmnist_resnet20_${c}_s1
    ck=$run/checkpoints/best.safetensors
    [ -f "$run/results.json" ] || { echo "$c: $run not finished, skipped" | tee -a "$LOG"; continue; }
    for be in cpuint csim verilator; do
        f=$OUT/${c}_${be}.json
        [ -s "$f" ] && continue
        extra=(--crosscheck --limit "$N")
        [ "$be" = cpuint ] && extra=()
        echo "$(date -u +%FT%TZ) $c $be" >>"$LOG"
        if "$HN" eval configs/fmnist_resnet20_$c.yaml --checkpoint "$ck" --split test \
               --backend "$be" "${extra[@]}" --json >"$f.tmp" 2>>"$LOG"; then
            mv "$f.tmp" "$f"
        else
            echo "$c $be: FAILED (exit $?)" | tee -a "$LOG"
            mv "$f.tmp" "$f.failed"
        fi
        cat "$f" 2>/dev/null >>"$LOG"
    done
done
