#!/usr/bin/env bash
# End-to-end checks of `hetnas layers` and `hetnas bops`: JSON shape, exact
# values against an independent Python oracle, and bad input (clear message,
# non-zero exit, nothing on stdout).  $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"
SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, command...
  local name="$1"; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}

# expect_err NAME EXPECTED_EXIT NEEDLE -- args...
expect_err() {
  local name="$1" code="$2" needle="$3"; shift 4
  "$HN" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -- "$needle" "$tmp/err" || [ -s "$tmp/out" ]; then
    echo "FAIL $name: exit $rc (want $code), stderr: $(cat "$tmp/err"), stdout bytes: $(wc -c <"$tmp/out")"
    fail=1
  else
    echo "ok   $name"
  fi
}

"$HN" layers --model resnet20 --input 3x32x32 --json >"$tmp/layers.json"
check "layers --json" "$PY" -c '
import json,sys
d=json.load(open(sys.argv[1]))
L=d["layers"]
assert d["model"]=="resnet20" and d["input"]==[3,32,32] and len(L)==21
assert [l["name"] for l in L][:4]==["stem","s1.b0.conv1","s1.b0.conv2","s1.b1.conv1"]
assert L[9]["name"]=="s2.b0.down" and L[9]["k"]==1 and L[9]["stride"]==2 and L[9]["out_h"]==16
' "$tmp/layers.json"
check "layers resnet56 has 57 rows" bash -c "\"$HN\" layers --model resnet56 | grep -c '^ *[0-9]' | grep -qx 57"
check "layers --depth 14" bash -c "\"$HN\" layers --model resnet --depth 14 --json | \"$PY\" -c 'import json,sys; assert len(json.load(sys.stdin)[\"layers\"])==15'"

"$HN" bops --model resnet20 --input 3x32x32 --homogeneous 3,3 --json >"$tmp/h33.json"
check "bops homogeneous = eq. 27 per layer + memory" "$PY" -c '
import json,math,sys
d=json.load(open(sys.argv[1]))
assert set(d)=={"model","input","layers","total"}
tot={"macs":0,"bops_compute":0,"bops_memory":0,"bops":0}
for l in d["layers"]:
    for k in tot: tot[k]+=l[k]
    assert l["bops"]==l["bops_compute"]+l["bops_memory"]
assert d["total"]==tot
# eq. 27 with the integer accumulator, by hand for the stem (n=3, m=16, k=3,
# 8-bit input, 3-bit weights, 32x32) and s3.b2.conv2 (n=m=64, b=3, 8x8)
stem=d["layers"][0]; last=d["layers"][20]
assert stem["bops_compute"]==32*32*16*3*9*(8*3+math.ceil(8+3+math.log2(27)))
assert last["bops_compute"]==8*8*64*64*9*(3*3+math.ceil(3+3+math.log2(576)))
assert d["total"]["macs"]==40812544
' "$tmp/h33.json"

check "bops exact on random heterogeneous configs" "$PY" "$SRC/tests/bops_oracle.py" "$HN" 25 1

"$HN" bops --homogeneous 3,3 --target 3,3 >"$tmp/t.txt"
check "bops --target ratio 1" grep -q "ratio 1.0000" "$tmp/t.txt"
"$HN" bops --homogeneous 2,2 --no-memory --json >"$tmp/nm.json"
check "bops --no-memory" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["total"]["bops"]==d["total"]["bops_compute"]' "$tmp/nm.json"
"$HN" bops --homogeneous 2,2 --include-fc --json >"$tmp/fc.json"
check "bops --include-fc adds fc" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["layers"][-1]["name"]=="fc" and d["layers"][-1]["macs"]==640' "$tmp/fc.json"
check "bops example config" bash -c "\"$HN\" bops --config \"$SRC/configs/resnet20_hetero.yaml\" --target 3,3 | grep -q \"ratio 1.4796\""

printf 'ops: [[2,2],[8,8]]\nlayers:\n  - [8, 7]\n' >"$tmp/bad.yaml"
expect_err "bad config: row count" 2 "bad.yaml:3: layers: 1 rows, but resnet20 has 21" -- bops --config "$tmp/bad.yaml"
expect_err "missing config file" 2 "/nonexistent.yaml: cannot open" -- bops --config /nonexistent.yaml
expect_err "bits out of range" 2 "--homogeneous: 17 is out of range 1..16" -- bops --homogeneous 3,17
expect_err "bad pair" 2 "expected two numbers" -- bops --homogeneous 3
expect_err "no config given" 2 "give --config FILE" -- bops
expect_err "unknown option" 2 "unknown option '--frobnicate'" -- bops --homogeneous 3,3 --frobnicate
expect_err "bad model" 2 "unknown model 'resnet18'" -- bops --model resnet18 --homogeneous 3,3
expect_err "bad input shape" 2 "expected CxHxW" -- layers --input 32x32
expect_err "bad depth" 2 "must be 6n+2" -- layers --model resnet --depth 21
expect_err "missing value" 2 "--config needs a value" -- bops --config
expect_err "width-mult range" 2 "--width-mult: 0 is out of range" -- bops --width-mult 0
expect_err "unknown command" 2 "unknown command 'frob'" -- frob

exit $fail
