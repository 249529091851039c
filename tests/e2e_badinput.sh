#!/usr/bin/env bash
# Bad input, end to end (docs/errors.md lists every case): each is refused
# with a non-zero exit (2 = bad input, 1 = failure while running; see
# docs/cli.md) and a message naming the file, key or option, before anything
# is trained or written.  Covers tampered checkpoints, non-finite weights,
# test images of another shape, unbounded reads, silent wrong results
# (batch larger than the split, truncated --out, BOPs overflow), changed
# experiments on --resume, damaged runs, stdout errors and stale temp files.
# $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

# expect NAME CODE NEEDLE -- command args...: exit code CODE, NEEDLE in
# stderr, nothing on stdout.
expect() {
  local name="$1" code="$2" needle="$3"; shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -- "$needle" "$tmp/err" || [ -s "$tmp/out" ]; then
    bad "$name: exit $rc (want $code), stderr: $(head -c 600 "$tmp/err"), stdout bytes: $(wc -c <"$tmp/out")"
  else
    ok "$name"
  fi
}

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 300 100 3
exp() { # NAME [extra yaml lines...]
  local name="$1"; shift
  {
    echo "name: $name"
    echo "seed: 3"
    echo "model: {name: resnet8, width: 0.25}"
    echo "data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 16, eval_batch_size: 50, augment: {crop_pad: 0, flip: false}}"
    echo "config: [4, 4]"
    echo "optim: {name: sgd, lr: 0.05, momentum: 0.9}"
    echo "schedule: {name: constant}"
    echo "train: {epochs: 3, max_batches: 2, threads: 1}"
    for l in "$@"; do echo "$l"; done
  } >"$tmp/$name.yaml"
}
exp base
"$HN" train "$tmp/base.yaml" --out "$tmp/run" --no-progress --quiet >"$tmp/o" 2>&1 \
  && ok "reference run trains" || { bad "reference run"; cat "$tmp/o"; }
last="$tmp/run/checkpoints/epoch_0002.safetensors"

# Rewrites a checkpoint: metadata key=value, or "nan:TENSOR" / "inf:TENSOR"
# to poison the first element of a tensor.
edit_ckpt() { # IN OUT EDIT...
  "$PY" - "$@" <<'PYEOF'
import json, struct, sys
src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
b = open(src, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = bytearray(b[8 + n:])
for e in edits:
    k, v = e.split("=", 1) if "=" in e else e.split(":", 1)
    if k in ("nan", "inf"):
        o = h[v]["data_offsets"][0]
        data[o:o + 4] = struct.pack("<f", float(k))
    else:
        h["__metadata__"][k] = v
hj = json.dumps(h).encode(); hj += b" " * (-len(hj) % 8)
open(dst, "wb").write(struct.pack("<Q", len(hj)) + hj + bytes(data))
PYEOF
}

# ---- tampered checkpoint metadata on --resume ------------------------------
resume_with() { # NAME NEEDLE EDIT...
  local name="$1" needle="$2"; shift 2
  rm -rf "$tmp/r"; cp -r "$tmp/run" "$tmp/r"
  rm -f "$tmp/r/checkpoints/epoch_0001.safetensors"
  edit_ckpt "$last" "$tmp/r/checkpoints/epoch_0002.safetensors" "$@"
  expect "$name" 2 "$needle" -- "$HN" train "$tmp/base.yaml" --out "$tmp/r" --resume --no-progress --quiet
  ls "$tmp/r/checkpoints" | grep -q -- "-0" && bad "$name: wrote a negative epoch file"
}
resume_with "resume: epoch -5 refused" "metadata 'epoch' = -5 is outside 1..3" epoch=-5
resume_with "resume: epoch INT_MIN refused" "metadata 'epoch' = -2147483648" epoch=-2147483648
resume_with "resume: epoch beyond train.epochs refused" "metadata 'epoch' = 7 is outside 1..3" epoch=7
resume_with "resume: negative best_epoch refused" "metadata 'best_epoch' = -1" best_epoch=-1
resume_with "resume: negative bad_epochs refused" "metadata 'bad_epochs' = -2" bad_epochs=-2
resume_with "resume: non-integer epoch refused" "metadata 'epoch' = 'two' is not an integer" epoch=two
resume_with "resume: history shorter than epoch refused" "metadata 'history' has 2 entries for 3 epochs" \
  'history=[{"epoch":1,"lr":0.05,"train_loss":1,"train_acc":0,"val_loss":1,"val_acc":0,"seconds":1,"img_s":1},{"epoch":2,"lr":0.05,"train_loss":1,"train_acc":0,"val_loss":1,"val_acc":0,"seconds":1,"img_s":1}]'
resume_with "resume: NaN weight refused, tensor named" "tensor 'conv1.weight' holds a non-finite value (nan" nan:conv1.weight
resume_with "resume: Inf optimizer state refused" "holds a non-finite value (inf" inf:optim.conv1.weight.momentum_buffer

# ---- damaged runs ------------------------------------------------------------
rm -rf "$tmp/r"; cp -r "$tmp/run" "$tmp/r"
for f in "$tmp"/r/checkpoints/epoch_*.safetensors; do head -c 50 "$f" >"$f.x"; mv "$f.x" "$f"; done
expect "resume: every checkpoint damaged fails (no silent restart)" 2 "all 2 epoch checkpoints are damaged" -- \
  "$HN" train "$tmp/base.yaml" --out "$tmp/r" --resume --no-progress --quiet
grep -q '"resumes": \[\]' "$tmp/r/manifest.json" && ok "refused resume leaves the manifest as it was" || bad "manifest touched by a refused resume"

# ---- changed experiment on --resume -------------------------------------------
expect "resume: changed optim.lr named" 2 "optim.lr" -- \
  "$HN" train "$tmp/base.yaml" --set optim.lr=0.1 --out "$tmp/run" --resume --no-progress --quiet
expect "resume: changed config named" 2 "config" -- \
  "$HN" train "$tmp/base.yaml" --set 'config=[2,2]' --out "$tmp/run" --resume --no-progress --quiet
expect "resume: changed train.epochs named" 2 "train.epochs" -- \
  "$HN" train "$tmp/base.yaml" --set train.epochs=4 --out "$tmp/run" --resume --no-progress --quiet

# ---- eval / import / --init with non-finite or damaged tensors ---------------
edit_ckpt "$last" "$tmp/nan.safetensors" nan:fc.weight
expect "eval: NaN weight refused" 2 "tensor 'fc.weight' holds a non-finite value" -- \
  "$HN" eval "$tmp/base.yaml" --checkpoint "$tmp/nan.safetensors" --json
# finite but overflowing weights: the loss is inf/nan, the JSON says null
"$PY" - "$last" "$tmp/big.safetensors" <<'PYEOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = bytearray(b[8 + n:])
o0, o1 = h["fc.weight"]["data_offsets"]
for i in range(o0, o1, 4): data[i:i + 4] = struct.pack("<f", 3e38)
open(sys.argv[2], "wb").write(b[:8 + n] + bytes(data))
PYEOF
"$HN" eval "$tmp/base.yaml" --checkpoint "$tmp/big.safetensors" --json >"$tmp/ev.json" 2>"$tmp/err" \
  && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["loss"] is None, d' "$tmp/ev.json" \
  && ! grep -qi nan "$tmp/ev.json" && ok "eval --json: a non-finite loss is null, never nan" || { bad "eval json nan"; cat "$tmp/ev.json" "$tmp/err"; }
head -c 300 "$last" >"$tmp/trunc.safetensors"
expect "eval: truncated checkpoint exits 2" 2 "trunc.safetensors" -- \
  "$HN" eval "$tmp/base.yaml" --checkpoint "$tmp/trunc.safetensors"
expect "eval: directory as checkpoint" 2 "$tmp: is a directory, expected a regular file" -- \
  "$HN" eval "$tmp/base.yaml" --checkpoint "$tmp"
truncate -s 3G "$tmp/huge.safetensors"
start=$(date +%s)
expect "eval: 3 GB sparse checkpoint refused from its header" 2 "huge.safetensors" -- \
  "$HN" eval "$tmp/base.yaml" --checkpoint "$tmp/huge.safetensors"
[ $(( $(date +%s) - start )) -le 5 ] && ok "3 GB checkpoint refused without reading it" || bad "3 GB checkpoint read slowly"
"$PY" "$SRC/tests/make_state_dict.py" "$tmp/sd.safetensors" 8 torchvision 4 1
edit_ckpt "$tmp/sd.safetensors" "$tmp/sd_nan.safetensors" inf:layer2.0.conv1.weight
expect "import: Inf weight refused, tensor named" 2 "tensor 'layer2.0.conv1.weight' holds a non-finite value (inf" -- \
  "$HN" import "$tmp/sd_nan.safetensors" --model resnet8 --input 1x28x28 --out "$tmp/x.safetensors"
cp "$tmp/sd.safetensors" "$tmp/self.safetensors"
expect "import: --out = input refused" 2 "is the input file" -- \
  "$HN" import "$tmp/self.safetensors" --model resnet8 --input 1x28x28 --out "$tmp/self.safetensors"
cmp -s "$tmp/sd.safetensors" "$tmp/self.safetensors" && ok "import input left intact" || bad "import overwrote its input"
"$HN" import "$tmp/sd.safetensors" --model resnet8 --input 1x28x28 --out "$tmp/init.safetensors" >/dev/null 2>&1
edit_ckpt "$tmp/init.safetensors" "$tmp/init_nan.safetensors" nan:layer1.0.bn1.weight
expect "train --init: NaN weight refused" 2 "tensor 'layer1.0.bn1.weight' holds a non-finite value" -- \
  "$HN" train "$tmp/base.yaml" --set model.width=1 --init "$tmp/init_nan.safetensors" --out "$tmp/i" --no-progress --quiet
[ ! -e "$tmp/i" ] && ok "failed --init leaves no run directory" || bad "failed --init left $tmp/i"
expect "train --init: missing file named" 2 "$tmp/nope.safetensors: cannot open" -- \
  "$HN" train "$tmp/base.yaml" --set model.width=1 --init "$tmp/nope.safetensors" --out "$tmp/i" --no-progress --quiet
"$HN" train "$tmp/base.yaml" --set model.width=1 --init "$tmp/init.safetensors" --out "$tmp/i" --no-progress --quiet >"$tmp/o" 2>&1 \
  && ok "retry after a failed --init works" || { bad "retry after failed --init"; cat "$tmp/o"; }

# ---- data ----------------------------------------------------------------------
mkdir -p "$tmp/d32"
cp "$tmp"/data/train-* "$tmp/d32/"
"$PY" - "$tmp/d32" <<'PYEOF'
import gzip, struct, sys
d = sys.argv[1]; n = 60
with gzip.open(d + "/t10k-images-idx3-ubyte.gz", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, n, 32, 32) + bytes(n * 32 * 32))
with gzip.open(d + "/t10k-labels-idx1-ubyte.gz", "wb") as f:
    f.write(struct.pack(">II", 0x801, n) + bytes(n))
PYEOF
expect "train: 32x32 test images vs 28x28 training images refused before training" 2 "the test images are 1x32x32" -- \
  "$HN" train "$tmp/base.yaml" --set data.dir="$tmp/d32" --out "$tmp/t32" --no-progress --quiet
[ ! -e "$tmp/t32" ] && ok "shape mismatch: no run directory" || bad "shape mismatch left a run directory"
expect "eval --split test: 32x32 test images refused" 2 "training images 1x28x28" -- \
  "$HN" eval "$tmp/base.yaml" --set data.dir="$tmp/d32" --checkpoint "$last" --split test
printf '\x00\x00\x08\x03garbage' | gzip >"$tmp/d32/t10k-images-idx3-ubyte.gz"
expect "train: corrupt test IDX exits 2 before training" 2 "t10k-images-idx3-ubyte.gz" -- \
  "$HN" train "$tmp/base.yaml" --set data.dir="$tmp/d32" --out "$tmp/t32" --no-progress --quiet
mkdir -p "$tmp/cifar"
"$PY" - "$tmp/cifar" <<'PYEOF'
import sys
for i in range(1, 6):
    open(f"{sys.argv[1]}/data_batch_{i}.bin", "wb").write(bytes([i % 10] + [7] * 3072) * 8)
PYEOF
expect "train: missing CIFAR test batch found before training" 2 "test_batch.bin: cannot open" -- \
  "$HN" train "$tmp/base.yaml" --set data.name=cifar10 --set data.dir="$tmp/cifar" --set data.batch_size=4 --out "$tmp/cf" --no-progress --quiet
[ ! -e "$tmp/cf" ] && ok "missing CIFAR test batch: no run directory" || bad "missing CIFAR test left a run directory"
expect "train: batch_size larger than the training split" 2 "data.batch_size 512 is larger than the training split (240 samples" -- \
  "$HN" train "$tmp/base.yaml" --set data.batch_size=512 --out "$tmp/bs" --no-progress --quiet
[ ! -e "$tmp/bs" ] && ok "oversized batch: no run directory" || bad "oversized batch left a run directory"
long=$(printf "$tmp/%01100d" 0)
expect "train: --out longer than 1023 characters refused" 2 "--out: the path has" -- \
  "$HN" train "$tmp/base.yaml" --out "$long" --no-progress --quiet

# ---- unbounded reads and non-regular files --------------------------------------
expect "bops --config /dev/zero refused" 2 "/dev/zero: is a character device, expected a regular file" -- \
  "$HN" bops --config /dev/zero
truncate -s 3G "$tmp/huge.yaml"
expect "bops: 3 GB config refused by size" 2 "huge.yaml: 3221225472 bytes is larger than" -- "$HN" bops --config "$tmp/huge.yaml"
expect "bops: directory as config" 2 "$tmp: is a directory, expected a regular file" -- "$HN" bops --config "$tmp"
expect "train: directory as experiment" 2 "$tmp/data: is a directory" -- "$HN" train "$tmp/data"
mkfifo "$tmp/fifo"
expect "train: FIFO as experiment refused (no hang)" 2 "fifo: is a pipe, expected a regular file" -- "$HN" train "$tmp/fifo"
cp "$tmp/huge.yaml" "$tmp/huge_exp.yaml" 2>/dev/null || truncate -s 3G "$tmp/huge_exp.yaml"
expect "train: 3 GB experiment refused by size" 2 "huge_exp.yaml: 3221225472 bytes" -- "$HN" train "$tmp/huge_exp.yaml"
rm -f "$tmp/huge.yaml" "$tmp/huge_exp.yaml" "$tmp/huge.safetensors"

# ---- BOPs overflow, stdout errors, exit codes -------------------------------------
expect "bops: 64-bit overflow refused naming the layer" 2 "layer s3.b12.conv2: the network total exceeds 2^64-1" -- \
  "$HN" bops --model resnet --depth 110 --width 64 --input 3x8192x8192 --homogeneous 16,16
"$HN" layers >/dev/full 2>"$tmp/err"; rc=$?
{ [ $rc -eq 1 ] && grep -q "cannot write to standard output" "$tmp/err"; } && ok "layers > /dev/full fails (exit 1)" || bad "layers > /dev/full: exit $rc"
"$HN" bops --homogeneous 3,3 --json >/dev/full 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "bops --json > /dev/full fails" || bad "bops > /dev/full: exit $rc"

# ---- stale temp files of killed writers ---------------------------------------------
rm -rf "$tmp/r"; cp -r "$tmp/run" "$tmp/r"
sh -c 'exit 0' & dead=$!; wait $dead
touch "$tmp/r/checkpoints/epoch_0009.safetensors.tmp.$dead" "$tmp/r/manifest.json.tmp.$dead"
"$HN" train "$tmp/base.yaml" --out "$tmp/r" --resume --no-progress --quiet >"$tmp/o" 2>&1
{ [ ! -e "$tmp/r/checkpoints/epoch_0009.safetensors.tmp.$dead" ] && [ ! -e "$tmp/r/manifest.json.tmp.$dead" ] \
  && grep -q "temporary file left by killed process" "$tmp/o"; } && ok "stale temp files of dead writers removed on resume" \
  || { bad "stale temp files"; cat "$tmp/o"; }
exit $fail
