#!/usr/bin/env bash
# End-to-end training on a tiny generated MNIST-format dataset: a run
# learns, writes its run directory, and a run killed (SIGKILL) after its
# first checkpoint and resumed with --resume ends with exactly the weights
# and test result of an uninterrupted run.  Bad experiment input fails
# cleanly.  $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap '[ "$bg" -gt 0 ] && kill -9 $bg 2>/dev/null; rm -rf "$tmp"' EXIT
bg=0
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
config: [4, 4]
optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
schedule: {name: cosine}
train: {epochs: 4, threads: 2, log_every: 10}
YAML

if "$HN" train "$tmp/exp.yaml" --out "$tmp/a" --no-progress >"$tmp/a.out" 2>&1; then ok "train runs"; else bad "train runs"; cat "$tmp/a.out"; fi
for f in manifest.json log.jsonl epochs.csv results.json config.yaml checkpoints/best.safetensors; do
  [ -s "$tmp/a/$f" ] && ok "run dir has $f" || bad "run dir has $f"
done
"$PY" - "$tmp/a" <<'PYEOF' && ok "learns (val acc > 50%) and reports test once" || bad "learns and reports"
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/results.json"))
ev = [json.loads(l) for l in open(d + "/log.jsonl")]
assert r["best_val_acc"] > 0.5, r
assert sum(1 for e in ev if e["event"] == "test") == 1
assert [e["epoch"] for e in ev if e["event"] == "epoch"] == [1, 2, 3, 4]
PYEOF

# Kill after the first epoch checkpoint, then resume.
"$HN" train "$tmp/exp.yaml" --out "$tmp/b" --no-progress >"$tmp/b1.out" 2>&1 &
bg=$!
for _ in $(seq 1 600); do
  [ -e "$tmp/b/checkpoints/epoch_0000.safetensors" ] && break
  sleep 0.05
done
kill -9 $bg 2>/dev/null; wait $bg 2>/dev/null
[ -e "$tmp/b/checkpoints/epoch_0000.safetensors" ] && ok "killed after a checkpoint" || bad "no checkpoint before kill"
if "$HN" train "$tmp/exp.yaml" --out "$tmp/b" --resume --no-progress >"$tmp/b2.out" 2>&1; then ok "resume runs"; else bad "resume runs"; cat "$tmp/b2.out"; fi
"$PY" - "$tmp/a" "$tmp/b" <<'PYEOF' && ok "resumed run == uninterrupted run (weights bit-identical)" || bad "resume equality"
import json, struct, sys
def tensors(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return {k: b[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]] for k, v in h.items()}
a, b = sys.argv[1], sys.argv[2]
ta = tensors(a + "/checkpoints/epoch_0003.safetensors")
tb = tensors(b + "/checkpoints/epoch_0003.safetensors")
assert ta.keys() == tb.keys() and len(ta) > 10
diff = [k for k in ta if ta[k] != tb[k]]
assert not diff, diff[:5]
ra, rb = json.load(open(a + "/results.json")), json.load(open(b + "/results.json"))
assert ra["test_acc"] == rb["test_acc"] and ra["test_loss"] == rb["test_loss"], (ra, rb)
PYEOF

# Gradual quantization (NICE staging): only the fully quantized epochs (4th
# on) compete for the best checkpoint.
"$HN" train "$tmp/exp.yaml" --set quant.gradual=true --set quant.noise=0.05 --set config=[2,2] --set train.max_batches=8 \
  --out "$tmp/g" --no-progress >"$tmp/g.out" 2>&1 \
  && "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["best_epoch"]==4, r' "$tmp/g/results.json" \
  && ok "gradual staging + NICE noise: best only from the target configuration" || { bad "gradual"; cat "$tmp/g.out"; }

# Bad input: nothing is trained, a clear message, exit 2.
printf 'name: x\noptim: {lr: fast}\n' >"$tmp/bad.yaml"
"$HN" train "$tmp/bad.yaml" --out "$tmp/c" >"$tmp/c.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "bad.yaml:2" "$tmp/c.out" && [ ! -e "$tmp/c" ]; } && ok "bad experiment rejected" || { bad "bad experiment rejected (rc $rc)"; cat "$tmp/c.out"; }
"$HN" train "$tmp/exp.yaml" --out "$tmp/a" --no-progress >"$tmp/d.out" 2>&1; rc=$?
[ $rc -ne 0 ] && ok "existing run not overwritten without --resume" || bad "existing run overwritten"
"$HN" train "$tmp/exp.yaml" --set data.dir=/nonexistent --out "$tmp/e" >"$tmp/e.out" 2>&1; rc=$?
{ [ $rc -ne 0 ] && grep -q "/nonexistent" "$tmp/e.out"; } && ok "missing data dir named" || { bad "missing data dir"; cat "$tmp/e.out"; }
"$HN" eval "$tmp/exp.yaml" --checkpoint "$tmp/a/checkpoints/best.safetensors" --split val --json >"$tmp/ev.json" 2>&1 \
  && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["samples"]==240 and d["acc"]>0.5' "$tmp/ev.json" \
  && ok "eval of the best checkpoint" || { bad "eval"; cat "$tmp/ev.json"; }
exit $fail
