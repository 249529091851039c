#!/usr/bin/env bash
# hetnas import: PyTorch-style ResNet state_dicts (torchvision names, and
# option-A models with linear.* and no shortcut tensors) become hetnas
# checkpoints with the same values; wrong files are refused by name.
# $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

"$PY" "$SRC/tests/make_state_dict.py" "$tmp/tv.safetensors" 20 torchvision 1
"$PY" "$SRC/tests/make_state_dict.py" "$tmp/oa.safetensors" 20 optiona 2
"$PY" "$SRC/tests/make_state_dict.py" "$tmp/r32.safetensors" 32 torchvision 3

"$HN" import "$tmp/tv.safetensors" --out "$tmp/tv_hn.safetensors" >"$tmp/o1" 2>&1 && ok "import torchvision names" || { bad "import torchvision"; cat "$tmp/o1"; }
"$HN" import "$tmp/oa.safetensors" --out "$tmp/oa_hn.safetensors" >"$tmp/o2" 2>&1 && grep -q "option-A" "$tmp/o2" && ok "import option-A model" || { bad "import option-A"; cat "$tmp/o2"; }

"$PY" - "$tmp" <<'PYEOF' && ok "imported values equal the source; option A is an exact shifted identity" || bad "imported values"
import json, struct, sys
def read(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    out = {}
    for k, v in h.items():
        raw = b[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]
        out[k] = (v["shape"], struct.unpack(f"<{len(raw)//4}f", raw) if v["dtype"] == "F32" else raw)
    return out
d = sys.argv[1]
src, got = read(d + "/tv.safetensors"), read(d + "/tv_hn.safetensors")
for k, (shape, vals) in src.items():
    if "num_batches" in k: continue
    assert got[k][0] == shape and got[k][1] == vals, k
src, got = read(d + "/oa.safetensors"), read(d + "/oa_hn.safetensors")
assert got["fc.weight"][1] == src["linear.weight"][1]
shape, w = got["layer2.0.downsample.0.weight"]
assert shape == [32, 16, 1, 1]
for co in range(32):
    for ci in range(16):
        assert w[co * 16 + ci] == (1.0 if co == ci + 8 else 0.0), (co, ci)
shape, w = got["layer3.0.downsample.0.weight"]
assert w[(16 + 5) * 32 + 5] == 1.0 and sum(w) == 32.0
PYEOF

"$HN" import "$tmp/r32.safetensors" --out "$tmp/x.safetensors" >"$tmp/o3" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "unexpected tensor 'layer1.3" "$tmp/o3" && [ ! -e "$tmp/x.safetensors" ]; } && ok "resnet32 file refused for resnet20" || { bad "depth mismatch"; cat "$tmp/o3"; }
"$HN" import "$tmp/tv.safetensors" --model resnet32 --out "$tmp/x.safetensors" >"$tmp/o4" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "tensor 'layer1.3.conv1.weight' is missing" "$tmp/o4"; } && ok "missing tensor named" || { bad "missing tensor"; cat "$tmp/o4"; }
"$HN" import "$tmp/tv.safetensors" --classes 100 --out "$tmp/x.safetensors" >"$tmp/o5" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "fc.weight" "$tmp/o5"; } && ok "shape mismatch named" || { bad "shape mismatch"; cat "$tmp/o5"; }
head -c 100 "$tmp/tv.safetensors" >"$tmp/trunc.safetensors"
"$HN" import "$tmp/trunc.safetensors" --out "$tmp/x.safetensors" >"$tmp/o6" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "trunc.safetensors" "$tmp/o6"; } && ok "truncated file refused" || { bad "truncated"; cat "$tmp/o6"; }
# Training from an imported model: shared weights take the tensors as they
# are; per_op banks all start from the same FP tensors.  lr ~ 0 keeps the
# weights as imported through one step.
mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 300 100 3
"$PY" "$SRC/tests/make_state_dict.py" "$tmp/r8.safetensors" 8 torchvision 4 1
"$HN" import "$tmp/r8.safetensors" --model resnet8 --input 1x28x28 --out "$tmp/r8_hn.safetensors" >"$tmp/o7" 2>&1 || { bad "import resnet8"; cat "$tmp/o7"; }
for ws in shared per_op; do
  cat >"$tmp/init_$ws.yaml" <<YAML
name: init_$ws
seed: 1
init: $tmp/r8_hn.safetensors
model: {name: resnet8}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 16, augment: {crop_pad: 0, flip: false}}
config: {ops: [[4, 4], [2, 2]], layers: [[8, 8], [8, 8], [8, 8], [16, 16], [16, 16], [16, 16], [32, 32], [32, 32], [32, 32]]}
quant: {weight_sharing: $ws}
optim: {name: sgd, lr: 1.0e-12, momentum: 0.0, weight_decay: 0.0}
schedule: {name: constant}
train: {epochs: 1, max_batches: 1, threads: 1}
YAML
  if "$HN" train "$tmp/init_$ws.yaml" --out "$tmp/run_$ws" --no-progress >"$tmp/o_$ws" 2>&1 \
     && "$PY" - "$tmp/r8.safetensors" "$tmp/run_$ws/checkpoints/epoch_0000.safetensors" "$([ $ws = per_op ] && echo 2 || echo 1)" <<'PYEOF'
import json, struct, sys
def read(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return {k: (v["shape"], b[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]) for k, v in h.items()}
src, run = read(sys.argv[1]), read(sys.argv[2])
import struct as st
for name in ("conv1.weight", "layer2.0.conv1.weight", "layer3.0.downsample.0.weight", "fc.weight"):
    shape, data = src[name]
    rshape, rdata = run[name]
    banks = len(rdata) // len(data)
    assert banks == (1 if name.startswith("fc.") else int(sys.argv[3])), (name, banks)
    assert rshape[-len(shape):] == shape, (name, rshape, shape)
    for b in range(banks):
        got = rdata[b * len(data):(b + 1) * len(data)]
        if name == "conv1.weight":
            # the import saw normalized inputs: --init folds the data
            # normalization into the stem (docs/nn.md, 8-bit input), so the
            # stem is the source divided by one std (one input channel)
            s, g = st.unpack(f"<{len(data)//4}f", data), st.unpack(f"<{len(got)//4}f", got)
            r = [gi / si for si, gi in zip(s, g) if abs(si) > 1e-3]
            assert r and max(r) - min(r) < 1e-4 * max(r) and max(r) > 1, (name, b)
        else:
            assert got == data, (name, b)
PYEOF
  then ok "train --init from an import ($ws)"; else bad "train --init ($ws)"; cat "$tmp/o_$ws"; fi
done
exit $fail
