#!/usr/bin/env bash
# FPGA resources of the bit-serial array from Yosys' generic Xilinx flow
# (synth_xilinx, 7-series/UltraScale LUT6 + CARRY4 primitives; no vendor
# place & route, so these are synthesis estimates).
#
#   scripts/synth.sh [OUT.md]        # default: print the table to stdout
#
# For every (module, parameters) row it runs
#   yosys -p "read_verilog -sv rtl/...; chparam ...; synth_xilinx -top M -flatten -nowidelut; stat"
# and reports LUT (LUT1..LUT6), FF, CARRY4, DSP48 and MUXF7/8 counts and LUTs
# per binary lane (lanes = DM*DN*DK; a DPU has DK lanes).
# -nowidelut keeps wide functions in LUTs instead of MUXF7/MUXF8, so the LUT
# column is the whole logic cost.  Set SYNTH_FLAGS to override.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rtl="$here/rtl"
flags="${SYNTH_FLAGS:--flatten -nowidelut}"
out="${1:-/dev/stdout}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# name | top | files | chparam list | lanes
rows=(
  "dpu Dk=16|hn_dpu|hn_dpu.sv|-set DK 16|16"
  "dpu Dk=32|hn_dpu|hn_dpu.sv|-set DK 32|32"
  "dpu Dk=64|hn_dpu|hn_dpu.sv|-set DK 64|64"
  "array 2x8x16|hn_array|hn_dpu.sv hn_array.sv|-set DM 2 -set DN 8 -set DK 16|256"
  "array 4x16x16 (default)|hn_array|hn_dpu.sv hn_array.sv|-set DM 4 -set DN 16 -set DK 16|1024"
  "array 4x16x16 ACC_W=18|hn_array|hn_dpu.sv hn_array.sv|-set DM 4 -set DN 16 -set DK 16 -set ACC_W 18|1024"
  "array 4x16x32|hn_array|hn_dpu.sv hn_array.sv|-set DM 4 -set DN 16 -set DK 32|2048"
  "array 8x8x32|hn_array|hn_dpu.sv hn_array.sv|-set DM 8 -set DN 8 -set DK 32|2048"
  "drain 4x16|hn_drain|hn_drain.sv|-set DM 4 -set DN 16|1024"
  "drain 8x8|hn_drain|hn_drain.sv|-set DM 8 -set DN 8|2048"
  "ctrl|hn_ctrl|hn_ctrl.sv|-set DM 4|1024"
)

printf '| block | LUT | FF | CARRY4 | DSP | MUXF7/8 | lanes | LUT/lane |\n' >"$tmp/table"
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n' >>"$tmp/table"
for row in "${rows[@]}"; do
  IFS='|' read -r name top files params lanes <<<"$row"
  srcs=""
  for f in $files; do srcs="$srcs $rtl/$f"; done
  yosys -q -p "read_verilog -sv $srcs; chparam $params $top; synth_xilinx -top $top $flags; tee -q -o $tmp/stat.txt stat" \
    >"$tmp/log.txt" 2>&1 || { echo "synth.sh: yosys failed for $name (see below)" >&2; tail -20 "$tmp/log.txt" >&2; exit 1; }
  count() { awk -v pat="$1" '$1 ~ pat {s += $2} END {print s + 0}' "$tmp/stat.txt"; }
  lut=$(count '^LUT[1-6]$')
  ff=$(count '^FD')
  carry=$(count '^CARRY')
  dsp=$(count '^DSP')
  muxf=$(count '^MUXF')
  lpl=$(awk -v l="$lut" -v n="$lanes" 'BEGIN {printf "%.2f", l / n}')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$lut" "$ff" "$carry" "$dsp" "$muxf" "$lanes" "$lpl" >>"$tmp/table"
done
printf '\nyosys %s, synth_xilinx %s\n' "$(yosys -V | awk '{print $2}')" "$flags" >>"$tmp/table"
cat "$tmp/table" >"$out"
