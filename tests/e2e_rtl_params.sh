#!/usr/bin/env bash
# The RTL package is generated from include/hetnas/hwparams.h, the one
# source of the array build and register map: the committed copy must match.
set -euo pipefail
src="$2"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
bash "$src/scripts/gen_rtl_params.sh" "$src/include/hetnas/hwparams.h" > "$tmp"
if ! diff -u "$src/rtl/pkg/hn_params_pkg.sv" "$tmp"; then
  echo "FAIL: rtl/pkg/hn_params_pkg.sv is stale; run scripts/gen_rtl_params.sh > rtl/pkg/hn_params_pkg.sv" >&2
  exit 1
fi
# and the generator refuses a header without definitions
if bash "$src/scripts/gen_rtl_params.sh" /dev/null > /dev/null 2>&1; then
  echo "FAIL: generator accepted an empty header" >&2; exit 1
fi
echo "1 passed, 0 failed"
