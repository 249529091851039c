#!/usr/bin/env bash
# Writes the SystemVerilog package of the array build and register map from
# include/hetnas/hwparams.h (the one source) to stdout:
#   scripts/gen_rtl_params.sh > rtl/pkg/hn_params_pkg.sv
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
hdr="${1:-$here/include/hetnas/hwparams.h}"
[ -r "$hdr" ] || { echo "gen_rtl_params.sh: cannot read $hdr" >&2; exit 2; }
echo "// Generated from include/hetnas/hwparams.h by scripts/gen_rtl_params.sh."
echo "// Do not edit: change the header and regenerate (a test compares them)."
echo "package hn_params_pkg;"
awk '
  $1 == "#define" && $2 ~ /^HN_HW_/ && $3 ~ /^[0-9]+$/ {
    printf "  localparam int unsigned %s = %s;\n", $2, $3; n++ }
  $1 == "#define" && $2 ~ /^HN_REG_/ && $3 ~ /^0x[0-9A-Fa-f]+$/ {
    printf "  localparam logic [7:0] %s = 8%sh%s;\n", $2, "\047", toupper(substr($3, 3)); n++ }
  END { if (n == 0) { print "gen_rtl_params.sh: no definitions found" > "/dev/stderr"; exit 1 } }
' "$hdr"
echo "endpackage"
