#!/usr/bin/env bash
# End-to-end search (Algorithm C.1) on a tiny generated MNIST-format dataset:
# a search runs, writes its per-step logs and the found configurations; a
# search killed (SIGKILL) after its first iteration checkpoint and resumed
# with --resume ends with exactly the per-step alphas, losses and results of
# an uninterrupted one; a self-contradicting search section fails before
# any training, naming the key.  $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
bg=0
trap '[ "$bg" -gt 0 ] && kill -9 $bg 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 1200 300 7
cat >"$tmp/exp.yaml" <<YAML
name: tinysearch
seed: 5
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 32, eval_batch_size: 100,
       augment: {crop_pad: 0, flip: false}}
optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
schedule: {name: cosine}
train: {threads: 1}
search: {iterations: 3, samples: 4, alpha_lr: 0.01, baseline: ema, final_samples: 2, final_epochs: 1}
YAML

if "$HN" search "$tmp/exp.yaml" --out "$tmp/a" --no-progress >"$tmp/a.out" 2>&1; then
  ok "search runs"; else bad "search runs"; cat "$tmp/a.out"; fi
for f in manifest.json log.jsonl steps.csv alpha.csv found.csv found/expected.yaml found/sample_2.yaml; do
  [ -s "$tmp/a/$f" ] && ok "run dir has $f" || bad "run dir has $f"
done
"$PY" - "$tmp/a" <<'PYEOF' && ok "logs: 3 iterations, one alpha row per step, test once per found configuration" || bad "logs"
import csv, json, sys
d = sys.argv[1]
ev = [json.loads(l) for l in open(d + "/log.jsonl")]
its = [e for e in ev if e["event"] == "iteration"]
assert [e["iteration"] for e in its] == [1, 2, 3], its
steps = list(csv.DictReader(open(d + "/steps.csv")))
alpha = list(csv.DictReader(open(d + "/alpha.csv")))
assert len(steps) == len(alpha) == its[-1]["alpha_steps"] > 0, (len(steps), len(alpha))
assert [int(r["step"]) for r in steps] == list(range(len(steps)))
found = list(csv.DictReader(open(d + "/found.csv")))
assert [r["name"] for r in found] == ["expected", "sample_1", "sample_2", "homo_w2a2",
                                     "homo_w2a4", "homo_w3a3", "homo_w8a8"], found
for r in found:
    assert 0 <= float(r["test_acc"]) <= 1 and float(r["cost"]) > 0
# the alpha rate decays by 0.999 per step
lr = [float(r["alpha_lr"]) for r in steps]
assert abs(lr[1] / lr[0] - 0.999) < 1e-12
m = json.load(open(d + "/manifest.json"))
assert len(m["results"]) == 7
# the homogeneous target costs exactly the target
t = [r for r in found if r["name"] == "homo_w3a3"][0]
assert abs(float(t["cost_ratio"]) - 1) < 1e-12
PYEOF

# Kill after the first iteration's checkpoint, then resume.
"$HN" search "$tmp/exp.yaml" --out "$tmp/b" --no-progress >"$tmp/b.out" 2>&1 &
bg=$!
for _ in $(seq 1 600); do
  [ -e "$tmp/b/checkpoints/epoch_0000.safetensors" ] && break
  kill -0 $bg 2>/dev/null || break
  sleep 0.05
done
kill -9 $bg 2>/dev/null; wait $bg 2>/dev/null; bg=0
if "$HN" search "$tmp/exp.yaml" --out "$tmp/b" --resume --no-progress >"$tmp/b2.out" 2>&1; then
  ok "resume finishes"; else bad "resume finishes"; cat "$tmp/b2.out"; fi
grep -q "resumed from" "$tmp/b2.out" && ok "resumed from a checkpoint" || bad "resumed from a checkpoint"
for f in steps.csv alpha.csv found.csv found/expected.yaml; do
  cmp -s "$tmp/a/$f" "$tmp/b/$f" && ok "killed + resumed == uninterrupted: $f" \
    || { bad "killed + resumed == uninterrupted: $f"; diff "$tmp/a/$f" "$tmp/b/$f" | head -5; }
done

# A search section that contradicts itself fails before training, naming the key.
expect_fail() { # name, key, --set...
  local name="$1" key="$2"; shift 2
  "$HN" search "$tmp/exp.yaml" --out "$tmp/x_$name" --no-progress "$@" >"$tmp/x.out" 2>&1
  local rc=$?
  if [ $rc -eq 2 ] && grep -q "$key" "$tmp/x.out" && [ ! -e "$tmp/x_$name" ]; then
    ok "bad input: $name (exit 2, names $key, no run directory)"
  else
    bad "bad input: $name (rc $rc)"; cat "$tmp/x.out"
  fi
}
expect_fail target-not-in-ops search.target --set 'search.target=[4,4]'
expect_fail samples-zero search.samples --set search.samples=0
expect_fail lambda-negative search.lambda --set search.lambda=-1
expect_fail algorithm search.algorithm --set search.algorithm=c9
expect_fail sigma search.sigma --set search.sigma=cubic
expect_fail baseline search.baseline --set search.baseline=mean
expect_fail loo-one-sample search.samples --set search.baseline=loo --set search.samples=1
expect_fail duplicate-op search.ops --set 'search.ops=[[2,2],[2,2],[3,3]]'
expect_fail fp-op search.ops --set 'search.ops=[[32,32],[3,3]]'
expect_fail cost-backend-without-cycles search.cost_backend --set search.cost_backend=verilator
expect_fail cost-backend-no-clock search.cost_backend --set search.metric=cycles --set search.cost_backend=csim

# Hardware in the loop: array cycles as the cost, measured on the RTL when
# the build has Verilator (the model otherwise): the found configurations'
# costs are the cycle model's (exact for the RTL).
cb=model
"$HN" hw backends | grep -q '^verilator ' && cb=verilator
if "$HN" search "$tmp/exp.yaml" --set search.iterations=1 --set search.metric=cycles \
     --set search.cost_backend=$cb --out "$tmp/cyc" --no-progress >"$tmp/cyc.out" 2>&1; then
  "$PY" - "$tmp/cyc" "$HN" <<'PYEOF' && ok "search with cycles as the cost ($cb)" || bad "cycles search ($cb)"
import csv, subprocess, sys
d, hn = sys.argv[1], sys.argv[2]
found = list(csv.DictReader(open(d + "/found.csv")))
t = [r for r in found if r["name"] == "homo_w3a3"][0]
assert abs(float(t["cost_ratio"]) - 1) < 1e-12
# the target's cost is the model's cycles of the (3,3) network
out = subprocess.run([hn, "hw", "report", "--model", "resnet8", "--width", "0.5", "--input",
                      "1x28x28", "--homogeneous", "3,3", "--no-sim", "--json"],
                     capture_output=True, text=True, check=True).stdout
import json
assert float(t["cost"]) == json.loads(out)["total"]["model_cycles"], (t["cost"], out[:200])
PYEOF
else
  bad "cycles search ($cb)"; cat "$tmp/cyc.out"
fi

expect_fail eval-backend-unknown search.eval_backend --set search.eval_backend=fpga9
expect_fail too-many-found search.final_samples --set search.final_samples=61

# The found configurations evaluated as integer networks (search.eval_backend):
# the float columns equal a float-evaluated run's accuracies (same seed, same
# search), the integer ones are ref's network, and the RTL's network gives
# ref's accuracies exactly (Verilator when the build has it: it must run).
ev() { # name backend [--set ...]
  local n=$1 b=$2; shift 2
  "$HN" search "$tmp/exp.yaml" --set search.iterations=1 --set search.eval_limit=40 \
    --set search.eval_backend=$b "$@" --out "$tmp/$n" --no-progress >"$tmp/$n.out" 2>&1 \
    || { bad "search with eval_backend $b"; cat "$tmp/$n.out"; }
}
ev evcpu cpu; ev evref ref
one=(--set search.final_samples=0 --set search.final_homogeneous=false)
rtl=ref
"$HN" hw backends | grep -q '^verilator ' && rtl=verilator
ev evrtl $rtl "${one[@]}"
"$PY" - "$tmp" $rtl <<'PYEOF' && ok "found configurations on ref and $rtl: integer accuracies, float ones equal a float run's" || bad "eval_backend"
import csv, math, sys
t, rtl = sys.argv[1], sys.argv[2]
rd = lambda n: list(csv.DictReader(open(f"{t}/{n}/found.csv")))
cpu, ref, hw = rd("evcpu"), rd("evref"), rd("evrtl")
assert len(cpu) == len(ref) == 7 and len(hw) == 1, (len(cpu), len(ref), len(hw))
for c, r in zip(cpu, ref):
    assert c["name"] == r["name"] and c["eval_backend"] == "cpu" and r["eval_backend"] == "ref"
    assert math.isnan(float(c["val_agree"])) and c["val_acc"] == c["float_val_acc"]
    # the float model on the same 40 images of each split
    assert r["float_val_acc"] == c["val_acc"] and r["float_test_acc"] == c["test_acc"], (c, r)
    for s in ("val", "test"):
        acc, agree = float(r[s + "_acc"]), float(r[s + "_agree"])
        assert 0 <= acc <= 1 and 0.9 <= agree <= 1, r
        # accuracies of 40 images
        assert abs(acc * 40 - round(acc * 40)) < 1e-9, r
h = hw[0]
assert h["name"] == "expected" and h["eval_backend"] == rtl, h
assert h["val_acc"] == ref[0]["val_acc"] and h["test_acc"] == ref[0]["test_acc"], (h, ref[0])
assert h["val_agree"] == ref[0]["val_agree"], (h, ref[0])
PYEOF

[ $fail -eq 0 ] && echo "e2e_search: all passed" || echo "e2e_search: FAILED"
exit $fail
