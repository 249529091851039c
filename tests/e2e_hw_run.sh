#!/usr/bin/env bash
# End-to-end test of `hetnas hw run`: fixture jobs on the ref and csim
# backends (and verilator when the build has it) against accumulators
# computed independently (by hand for small.json, by a Python direct
# convolution for mixed.json), plus bad job files: non-zero exit and an
# error naming the field.
# Usage: e2e_hw_run.sh <hetnas CLI> <source dir>
set -u
CLI=$1
SRC=$2
D="$SRC/tests/data/hw"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
acc_of() { grep -o '"acc":\[[^]]*\]' "$1"; }

# small.json: filter 0 = Sobel-like 3-bit kernel over 1..9 (hand computed),
# filter 1 = binary: box sum of channel 0 (4 bits) minus 8 x box sum of
# channel 1 (1 bit: MSB-aligned codes count code << (4 - 1)).
SMALL_ACC='"acc":[-9,-6,9,-20,-8,20,-21,-6,21,-4,-3,0,3,5,9,8,15,12]'
for b in ref csim; do
  if ! "$CLI" hw run --job "$D/small.json" --backend "$b" --json >"$T/small_$b.json" 2>"$T/err"; then
    fail "small.json on $b exited non-zero: $(cat "$T/err")"
    continue
  fi
  [ "$(acc_of "$T/small_$b.json")" = "$SMALL_ACC" ] || fail "small.json on $b: $(cat "$T/small_$b.json")"
  grep -q '"out_h":3,"out_w":3' "$T/small_$b.json" || fail "small.json on $b: out_h/out_w"
done
grep -q '"cycles"' "$T/small_ref.json" 2>/dev/null && fail "ref must not report cycles"
grep -q '"passes":980' "$T/small_csim.json" 2>/dev/null || fail "csim passes != 980 (49 valid taps * (4+1) act planes * (3+1) weight planes)"

# mixed.json: 3 input groups (70 ch x 3 b, 5 x 8 b, 1 x 1 b), 4 filter
# groups (2, 8, 1 (binary), 5 bits), stride 2, 7x6 input.
WANT=$(acc_of "$D/mixed.expected.json")
for b in ref csim; do
  "$CLI" hw run --job "$D/mixed.json" --backend "$b" --json >"$T/mixed_$b.json" 2>"$T/err" ||
    fail "mixed.json on $b exited non-zero: $(cat "$T/err")"
  [ "$(acc_of "$T/mixed_$b.json")" = "$WANT" ] || fail "mixed.json on $b: accumulators differ from the expected file"
done

# Human summary.
"$CLI" hw run --job "$D/small.json" >"$T/sum.txt" 2>&1 || fail "summary run failed"
grep -q "18 accumulators" "$T/sum.txt" || fail "summary: $(cat "$T/sum.txt")"

# multibit.json: no binary weights (the RTL does b_w 2..8), 2 input groups,
# 3 filter groups; every backend must give the expected accumulators.
WANT2=$(acc_of "$D/multibit.expected.json")
for b in ref csim; do
  "$CLI" hw run --job "$D/multibit.json" --backend "$b" --json >"$T/mb_$b.json" 2>"$T/err" ||
    fail "multibit.json on $b exited non-zero: $(cat "$T/err")"
  [ "$(acc_of "$T/mb_$b.json")" = "$WANT2" ] || fail "multibit.json on $b: accumulators differ"
done

# Verilator: the RTL when the build has it, else a clear error and exit 1.
if "$CLI" hw run --job "$D/multibit.json" --backend verilator --json >"$T/mb_v.json" 2>"$T/err"; then
  [ "$(acc_of "$T/mb_v.json")" = "$WANT2" ] || fail "multibit.json on verilator: accumulators differ"
  grep -q '"cycles":[1-9]' "$T/mb_v.json" || fail "verilator: no cycle count"
  grep -q '"model_cycles":[1-9]' "$T/mb_v.json" || fail "verilator: no model cycle count"
  # Binary (1-bit) weights run as two rows; mixed act bits are MSB-aligned.
  if "$CLI" hw run --job "$D/small.json" --backend verilator --json >"$T/out" 2>"$T/err"; then
    [ "$(acc_of "$T/out")" = "$SMALL_ACC" ] || fail "small.json on verilator: $(cat "$T/out")"
  else
    fail "small.json on verilator: $(cat "$T/err")"
  fi
  "$CLI" hw run --job "$D/mixed.json" --backend verilator --json >"$T/mx_v.json" 2>"$T/err" ||
    fail "mixed.json on verilator exited non-zero: $(cat "$T/err")"
  [ "$(acc_of "$T/mx_v.json")" = "$WANT" ] || fail "mixed.json on verilator: accumulators differ"
else
  rc=$?
  if grep -q "not in this build" "$T/err"; then
    [ $rc -eq 1 ] || fail "verilator unavailable: exit $rc, expected 1"
    echo "note: verilator backend not in this build ($(cat "$T/err"))"
  else
    fail "verilator backend failed: $(cat "$T/err")"
  fi
fi

# Bad input: expect exit 1 and the given text in stderr.
expect_err() { # name backend pattern
  local rc
  "$CLI" hw run --job "$T/$1" --backend "$2" >"$T/out" 2>"$T/err"
  rc=$?
  [ $rc -ne 0 ] || { fail "$1 ($2): exit 0"; return; }
  grep -q -- "$3" "$T/err" || fail "$1 ($2): error '$(cat "$T/err")' lacks '$3'"
}
S="$D/small.json"
sed 's/"stride": 1,//' "$S" >"$T/nokey.json"
expect_err nokey.json ref "missing required key 'stride'"
sed 's/"in_w": 3,/"in_w": 3, "strid": 2,/' "$S" >"$T/unknown.json"
expect_err unknown.json ref "unknown key 'strid'"
sed 's/"acts": \[1, 2, 3/"acts": [1, 16, 3/' "$S" >"$T/actrange.json"
expect_err actrange.json ref "actrange.json:10: acts\[1\]: 16 is out of range"
sed 's/"weights": \[1, 0, -1/"weights": [4, 0, -1/' "$S" >"$T/wrange.json"
expect_err wrange.json csim "weights\[0\]: 4 is out of range"
sed 's/"weights": \[1, 0, -1, 2, 0, -2, 1, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1/&X/; s/1X/0/' "$S" >"$T/wzero.json"
expect_err wzero.json ref "weights\[18\]: 0 is out of range"
sed 's/{"channels": 1, "bits": 1}/{"channels": 2, "bits": 1}/' "$S" >"$T/groups.json"
expect_err groups.json ref "weights: 36 values, expected"
sed 's/"bits": 4}/"bits": 17}/' "$S" >"$T/bits17.json"
expect_err bits17.json ref "in_groups\[0\].bits: 17 is out of range"
sed 's/"bits": 4}/"bits": 9}/' "$S" >"$T/bits9.json"
expect_err bits9.json csim "in_groups\[0\].bits: 9 is out of range \[1, 8\]"
sed 's/"pad": 1/"pad": 3/' "$S" >"$T/pad.json"
expect_err pad.json ref "pad: 3"
printf '{"k": 3, "stride": 1,, }' >"$T/malformed.json"
expect_err malformed.json ref "malformed.json:1"
head -c 100 "$S" >"$T/trunc.json"
expect_err trunc.json csim "trunc.json"
: >"$T/empty.json"
expect_err empty.json ref "empty"
expect_err does_not_exist.json ref "does_not_exist.json"

# Usage errors: exit 2.
"$CLI" hw run --backend ref >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing --job: exit != 2"
"$CLI" hw run --job "$S" --backend fpga >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown backend: exit != 2"
"$CLI" hw frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown subcommand: exit != 2"
"$CLI" hw run --job "$S" --backend ref --cycle-cap 10 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--cycle-cap with ref: exit != 2"

# hw report: kernel time (DMA) column on request; a bad --dma is a usage error.
"$CLI" hw report --homogeneous 3,3 --no-sim --dma 1,1 --json >"$T/rep.json" 2>"$T/err" ||
  fail "hw report --dma: $(cat "$T/err")"
grep -q '"kernel_cycles":[1-9]' "$T/rep.json" || fail "hw report --dma: no kernel_cycles"
grep -q '"utilization":0\.99' "$T/rep.json" || fail "hw report (3,3): utilization not 0.99x"
"$CLI" hw report --homogeneous 3,3 --no-sim --dma 0,1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--dma 0,1: exit != 2"
grep -q '"dma_data_w":512' "$T/rep.json" || fail "hw report --dma: default width not 512"
grep -q '"kernel_load":[1-9]' "$T/rep.json" || fail "hw report --dma: no kernel_load"
# the port width and outstanding reads: 32 bits with one read in flight is
# slower than the default 512-bit port at the same latencies
"$CLI" hw report --homogeneous 3,3 --no-sim --dma 40,40,32,1 --json >"$T/rep32.json" 2>"$T/err" ||
  fail "hw report --dma 40,40,32,1: $(cat "$T/err")"
"$CLI" hw report --homogeneous 3,3 --no-sim --dma 40,40 --json >"$T/rep512.json" 2>"$T/err" ||
  fail "hw report --dma 40,40: $(cat "$T/err")"
python3 - "$T/rep32.json" "$T/rep512.json" <<'PY' || fail "hw report: 32-bit port not slower than 512-bit"
import json, sys
a, b = (json.load(open(f))["total"]["kernel_cycles"] for f in sys.argv[1:3])
sys.exit(0 if a > b else 1)
PY
for bad in 1,1,48 1,1,512,0 1,1,512,4,9; do
  "$CLI" hw report --homogeneous 3,3 --no-sim --dma $bad >/dev/null 2>&1; [ $? -eq 2 ] || fail "--dma $bad: exit != 2"
done

if [ $fails -ne 0 ]; then
  echo "e2e_hw_run: $fails failure(s)"
  exit 1
fi
echo "e2e_hw_run: ok"
