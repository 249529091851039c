#!/usr/bin/env bash
# hls/run_hls.tcl hands Vitis HLS the testbench and a list of host sources
# it links with; Vitis is not installed here, so gcc builds and runs the
# testbench from exactly that list: a moved or new dependency fails this
# test instead of the first Vitis run.  $1 = hetnas binary (unused), $2 = source dir.
set -u
SRC="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
files=$(python3 - "$SRC/hls/run_hls.tcl" <<'PY'
import re, sys
m = re.search(r'foreach f \{(.*?)\}', open(sys.argv[1]).read(), re.S)
print(' '.join(m.group(1).split()) if m else '')
PY
)
[ -n "$files" ] || { echo "FAIL: no 'foreach f {...}' source list in run_hls.tcl"; exit 1; }
srcs=()
for f in $files; do srcs+=("$SRC/$f"); done
if ! cc -std=gnu11 -O1 -I"$SRC/hls" -I"$SRC/include" -I"$SRC/host" "$SRC/hls/tb/tb_bsconv.c" \
     "$SRC/hls/hn_bsconv.c" "${srcs[@]}" -lyaml -lm -o "$tmp/tb" >"$tmp/log" 2>&1; then
  echo "FAIL: the testbench does not link from run_hls.tcl's list:"; grep -E "undefined|error" "$tmp/log" | head
  exit 1
fi
"$tmp/tb" 20 | tail -1 | tee "$tmp/out"
grep -q " 0 mismatching" "$tmp/out" || { echo "FAIL: testbench mismatches"; exit 1; }
echo "ok   run_hls.tcl's testbench sources link and pass"
