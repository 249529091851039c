#!/usr/bin/env bash
# End-to-end integer inference: a tiny quantized ResNet-8 trained on a
# generated MNIST-format dataset, evaluated by the integer network (ref and
# csim) next to the fake-quant float model: top-1 agreement >= 99.5% and a
# small logit difference; csim's and the RTL's (Verilator, when the build
# has it) logits equal ref's bit for bit (--crosscheck).  Bad input fails before any inference with a
# message naming the cause.  $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 1200 300 7
cat >"$tmp/exp.yaml" <<YAML
name: tiny
seed: 5
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 32, eval_batch_size: 100,
       augment: {crop_pad: 0, flip: false}}
config: $tmp/het.yaml
optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
schedule: {name: cosine}
train: {epochs: 2, threads: 1}
YAML
# mixed ops (b_a 2/3/4, b_w 1..4); resnet8 has 9 layers (pruning: test_intnet)
cat >"$tmp/het.yaml" <<YAML
ops: [[2,2],[4,4],[3,3],[1,2]]
layers:
  - [2,2,2,2]
  - [2,2,2,2]
  - [2,2,2,2]
  - [4,4,4,4]
  - [4,4,4,4]
  - [4,4,4,4]
  - [8,8,8,8]
  - [8,8,8,8]
  - [8,8,8,8]
YAML
"$HN" train "$tmp/exp.yaml" --out "$tmp/a" --no-progress >"$tmp/a.out" 2>&1 && ok "quantized training runs" || { bad "training"; cat "$tmp/a.out"; }
CK="$tmp/a/checkpoints/best.safetensors"
for be in ref csim; do
  "$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --backend $be --json >"$tmp/$be.json" 2>&1 \
    && "$PY" - "$tmp/$be.json" <<'PYEOF' && ok "integer network ($be) agrees with the fake-quant model" || { bad "integer network ($be)"; cat "$tmp/$be.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
print("   ", d)
assert d["samples"] == 240 and d["agreement"] >= 0.995, d
assert d["max_logit_diff"] < 0.05 * 20, d
assert abs(d["int_acc"] - d["acc"]) <= 0.005 + 1e-9, d
PYEOF
done
# bit-exact backends: csim on every image, the RTL on a few
"$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --backend csim --crosscheck >"$tmp/x.out" 2>&1 \
  && grep -q "csim logits equal ref's bit for bit on 240/240 images" "$tmp/x.out" \
  && ok "csim logits == ref logits (240 images)" || { bad "csim crosscheck"; cat "$tmp/x.out"; }
if "$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --backend verilator --crosscheck --limit 6 \
     >"$tmp/v.out" 2>"$tmp/v.err"; then
  { grep -q "verilator logits equal ref's bit for bit on 6/6 images" "$tmp/v.out" \
      && grep -q "array cycles per image" "$tmp/v.out"; } \
    && ok "verilator logits == ref logits (6 images)" || { bad "verilator crosscheck"; cat "$tmp/v.out"; }
  cat "$tmp/v.out"
  # the trained network, image by image, in the hardware report
  "$HN" hw report --checkpoint "$CK" --experiment "$tmp/exp.yaml" --images 3 --dma 1,1 --json \
      >"$tmp/r.json" 2>&1 && "$PY" - "$tmp/r.json" <<'PYEOF' && ok "hw report --checkpoint on the RTL" || { bad "hw report --checkpoint"; cat "$tmp/r.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["measured"] and d["checkpoint"]["images"] == 3, d
assert len(d["layers"]) == 9, d
for l in d["layers"]:
    assert l["matches_reference"] and l["cycles"] == l["model_cycles"] > 0, l
    assert l["kernel_cycles"] > l["cycles"], l
t = d["total"]
assert t["cycles"] == sum(l["cycles"] for l in d["layers"]), t
print("    cycles/image", t["cycles"], "kernel", t["kernel_cycles"], "util", round(t["utilization"], 3))
PYEOF
  "$HN" hw report --checkpoint "$CK" >"$tmp/r2" 2>&1; rc=$?
  { [ $rc -eq 2 ] && grep -q "needs --experiment" "$tmp/r2"; } && ok "hw report --checkpoint without --experiment refused" \
    || { bad "hw report --checkpoint alone"; cat "$tmp/r2"; }
elif grep -q "not in this build" "$tmp/v.err"; then
  echo "note: verilator backend not in this build"
else
  bad "verilator backend: $(cat "$tmp/v.out" "$tmp/v.err")"
fi
"$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --backend ref --limit 50 --json >"$tmp/l.json" 2>&1 \
  && grep -q '"samples":50' "$tmp/l.json" && ok "--limit" || { bad "--limit"; cat "$tmp/l.json"; }
# a configuration of another network
printf 'ops: [[4,4]]\nlayers:\n  - [8]\n' >"$tmp/other.yaml"
"$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --config "$tmp/other.yaml" --backend ref >"$tmp/b1" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "other.yaml" "$tmp/b1"; } && ok "configuration of another model refused" || { bad "other configuration"; cat "$tmp/b1"; }
# beyond the array's limits (12-bit weights)
printf 'homogeneous: [12, 4]\n' >"$tmp/wide.yaml"
"$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --config "$tmp/wide.yaml" --backend ref >"$tmp/b2" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "layer stem: filter 0 has 12-bit weights" "$tmp/b2"; } && ok "configuration beyond the array refused" || { bad "beyond the array"; cat "$tmp/b2"; }
# full-precision op (a widths-only configuration)
printf 'width_mult: 1.0\n' >"$tmp/fp.yaml"  # widths only: full-precision ops
"$HN" eval "$tmp/exp.yaml" --checkpoint "$CK" --config "$tmp/fp.yaml" --backend ref >"$tmp/b3" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "layer stem: filter 0 has full-precision" "$tmp/b3"; } && ok "full-precision op refused" || { bad "full-precision op"; cat "$tmp/b3"; }
# a full-precision run: its activation clamps were never calibrated
"$HN" train "$tmp/exp.yaml" --set config=fp32 --set train.epochs=1 --out "$tmp/f" --no-progress >"$tmp/f.out" 2>&1 || { bad "fp training"; cat "$tmp/f.out"; }
"$HN" eval "$tmp/exp.yaml" --checkpoint "$tmp/f/checkpoints/best.safetensors" --backend ref >"$tmp/b4" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "not calibrated" "$tmp/b4"; } && ok "uncalibrated checkpoint refused" || { bad "uncalibrated"; cat "$tmp/b4"; }
exit $fail
