#!/usr/bin/env bash
# End-to-end pruning searches (Algorithms C.2-C.5) on a tiny generated
# MNIST-format dataset: each algorithm runs and writes its per-step logs and
# the found configurations (expected, sampled, homogeneous widths) with
# their MACs; c2, c3 and c5 searches killed after their first iteration
# checkpoint and resumed end bit-identical to uninterrupted ones; bad sections fail
# before any training, naming the key.  $1 = hetnas binary, $2 = source dir.
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
name: tinyprune
seed: 5
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 32, eval_batch_size: 100,
       augment: {crop_pad: 0, flip: false}}
optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
schedule: {name: cosine}
train: {threads: 1}
slim: {recalib_batches: 5}
search: {algorithm: c2, distribution: binomial, metric: macs, sigma: square, lambda: 1,
         iterations: 2, samples: 3, sample_epochs: 1, alpha_batches: 2, alpha_lr: 0.1,
         baseline: ema, final_samples: 1, final_epochs: 1, target_width: 0.5,
         interp_runs: 1}
YAML

# check DIR ALG ITERS STEPS_PER_ITER: logs and found configurations
check() {
  "$PY" - "$@" <<'PYEOF'
import csv, json, sys
d, alg, iters, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ev = [json.loads(l) for l in open(d + "/log.jsonl")]
its = [e for e in ev if e["event"] == "iteration"]
assert [e["iteration"] for e in its] == list(range(1, iters + 1)), its
steps = list(csv.DictReader(open(d + "/steps.csv")))
alpha = list(csv.DictReader(open(d + "/alpha.csv")))
assert len(steps) == len(alpha) == iters * per == its[-1]["alpha_steps"], (len(steps), len(alpha))
assert [int(r["step"]) for r in steps] == list(range(len(steps)))
for r in steps:
    assert float(r["loss"]) == float(r["loss"])  # not nan
found = list(csv.DictReader(open(d + "/found.csv")))
names = [r["name"] for r in found]
assert names[:2] == ["expected", "sample_1"] and names[2:] == [n for n in names[2:] if n.startswith("width_")], names
for r in found:
    assert 0 <= float(r["test_acc"]) <= 1 and float(r["cost"]) > 0
t = [r for r in found if r["name"] == "width_0.5"]
assert not t or abs(float(t[0]["cost_ratio"]) - 1) < 1e-12
w = [e for e in ev if e["event"] == "weights_epoch"]
if alg == "c2": assert len(w) == iters, w
if alg == "c3": assert [e["iteration"] for e in w] == [0], w   # reset_every 2
if alg in ("c4", "c5"): assert not w, w
if alg == "c4": assert len(alpha[0]) == 4, alpha[0]   # step + 3 stages
m = json.load(open(d + "/manifest.json"))
assert len(m["results"]) == len(found)
PYEOF
}

run() { # name, extra args...
  local name="$1"; shift
  if "$HN" search "$tmp/exp.yaml" --out "$tmp/$name" --no-progress "$@" >"$tmp/$name.out" 2>&1; then
    ok "$name runs"; else bad "$name runs"; cat "$tmp/$name.out"; fi
}

run c2
check "$tmp/c2" c2 2 2 && ok "c2: logs, found configurations with MACs" || bad "c2 logs"
run c3 --set search.algorithm=c3 --set search.reset_every=2
check "$tmp/c3" c3 2 2 && ok "c3: weights reset once in 2 iterations, a step per batch" || bad "c3 logs"
run c4 --set search.algorithm=c4 --set search.share=stage
check "$tmp/c4" c4 2 2 && ok "c4: samples from scratch, per-stage widths" || bad "c4 logs"
run c5 --set search.algorithm=c5 --set 'slim.widths=[0.5, 1.0]'
check "$tmp/c5" c5 2 2 && ok "c5: interpolation loss" || bad "c5 logs"
"$PY" - "$tmp/c5" <<'PYEOF' && ok "c5: homogeneous points trained first, expected CE logged" || bad "c5 points"
import csv, sys
d = sys.argv[1]
p = list(csv.DictReader(open(d + "/interp_points.csv")))
assert [float(r["width"]) for r in p] == [0.5, 1.0] and all(float(r["ce"]) > 0 for r in p), p
assert float(p[0]["macs"]) < float(p[1]["macs"])
s = list(csv.DictReader(open(d + "/steps.csv")))
assert all(float(r["expected_ce"]) > 0 for r in s)
PYEOF
printf 'width,ce\n0.25,1.9\n0.5,1.2\n1.0,0.8\n' >"$tmp/points.csv"
run c5file --set search.algorithm=c5 --set "search.interp_points=$tmp/points.csv"
[ ! -e "$tmp/c5file/interp_points.csv" ] && grep -q "nan" "$tmp/c5file/steps.csv" \
  && ok "c5: points from a file (nothing trained for them)" || bad "c5 points file"

# Kill a search after the first iteration's checkpoint, then resume: the
# same rows as the uninterrupted run (c2: the expected widths' BN set; c3:
# an iteration without a weight phase on restored weights; c5: the
# homogeneous points from the checkpoint).
resume_check() { # reference run name, --set...
  local ref="$1"; shift
  local d="$tmp/r_$ref"
  "$HN" search "$tmp/exp.yaml" --out "$d" --no-progress "$@" >"$d.out" 2>&1 &
  bg=$!
  for _ in $(seq 1 1200); do
    [ -e "$d/checkpoints/epoch_0000.safetensors" ] && break
    kill -0 $bg 2>/dev/null || break
    sleep 0.05
  done
  kill -9 $bg 2>/dev/null; wait $bg 2>/dev/null; bg=0
  if "$HN" search "$tmp/exp.yaml" --out "$d" --resume --no-progress "$@" >"$d.2.out" 2>&1; then
    ok "$ref resume finishes"; else bad "$ref resume finishes"; cat "$d.2.out"; fi
  grep -q "resumed from" "$d.2.out" && ok "$ref resumed from a checkpoint" || bad "$ref resumed from a checkpoint"
  for f in steps.csv alpha.csv found.csv found/expected.yaml; do
    cmp -s "$tmp/$ref/$f" "$d/$f" && ok "$ref killed + resumed == uninterrupted: $f" \
      || { bad "$ref killed + resumed == uninterrupted: $f"; diff "$tmp/$ref/$f" "$d/$f" | head -5; }
  done
}
resume_check c2
resume_check c3 --set search.algorithm=c3 --set search.reset_every=2
resume_check c5 --set search.algorithm=c5 --set 'slim.widths=[0.5, 1.0]'

# Bad sections fail before training (exit 2, no run directory), naming the key.
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
printf 'width,ce\n0.5,1.2\n1.5,0.8\n' >"$tmp/wide.csv"
printf 'width,ce\n0.5,1.2\n' >"$tmp/one.csv"
expect_fail reset-every-zero search.reset_every --set search.algorithm=c3 --set search.reset_every=0
expect_fail width-below-a-filter slim.widths --set 'slim.widths=[0.01, 1.0]'
expect_fail width-beyond-a-layer search.interp_points --set search.algorithm=c5 --set "search.interp_points=$tmp/wide.csv"
expect_fail c5-no-points search.interp_points --set search.algorithm=c5 --set 'slim.widths=[1.0]'
expect_fail c5-one-point search.interp_points --set search.algorithm=c5 --set "search.interp_points=$tmp/one.csv"
expect_fail multinomial search.distribution --set search.distribution=multinomial
expect_fail bops search.metric --set search.metric=bops
expect_fail integer-eval search.eval_backend --set search.eval_backend=ref
expect_fail too-many-found search.final_samples --set search.final_samples=60
expect_fail cycles-backend search.cost_backend --set search.cost_backend=verilator
expect_fail c4-no-epochs search.sample_epochs --set search.algorithm=c4 --set search.sample_epochs=0
expect_fail interp-sigma search.interp_sigma --set search.algorithm=c5 --set search.interp_sigma=cubic

[ $fail -eq 0 ] && echo "e2e_prune: all passed" || echo "e2e_prune: FAILED"
exit $fail
