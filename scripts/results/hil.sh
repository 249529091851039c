#!/bin/bash
# Issue 10 item 6: the same C.1 search (configs/hil_fmnist_resnet8.yaml) with
# BOPs or with the array's cycles measured on the RTL as the complexity cost,
# seeds 1 and 2; then every configuration found (expected and samples) is
# measured on the Verilator array (hw report: cycles per image, BOPs,
# utilization) and tabulated by scripts/results/hil_table.py.
# A finished run (manifest status "finished") is skipped, a killed one resumed.
#   scripts/results/hil.sh [build/hetnas] [seeds...]
set -u
HN=${1:-build/hetnas}
shift || true
SEEDS=${*:-1 2}
OUT=runs/hil
LOG=$OUT/hil.log
. "$(dirname "$0")/lib.sh"
mkdir -p "$OUT"
run() { # metric seed
    local m=$1 s=$2 d=$OUT/${1}_s$2 extra=()
    [ "$m" = cycles ] && extra=(--set search.metric=cycles --set search.cost_backend=verilator)
    if ! finished "$d"; then
        local res=()
        [ -d "$d" ] && res=(--resume)
        echo "$(date -u +%FT%TZ) start $m seed=$s -> $d" >>"$LOG"
        "$HN" search configs/hil_fmnist_resnet8.yaml --set seed="$s" "${extra[@]}" \
            --out "$d" "${res[@]}" --no-progress >>"$LOG" 2>&1
        echo "$(date -u +%FT%TZ) end rc=$? $d" >>"$LOG"
    fi
    # every configuration found, on the RTL (random data: cycles do not
    # depend on it, tests/test_closs.c), once
    local f
    for f in "$d"/found/*.yaml; do
        [ -f "${f%.yaml}.hw.json" ] && continue
        "$HN" hw report --model resnet8 --input 1x28x28 --config "$f" --json \
            >"${f%.yaml}.hw.json.tmp" 2>>"$LOG" && mv "${f%.yaml}.hw.json.tmp" "${f%.yaml}.hw.json"
    done
}
for s in $SEEDS; do
    for m in bops cycles; do run "$m" "$s"; done
done
