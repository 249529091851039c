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
exit $fail
