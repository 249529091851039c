#!/usr/bin/env bash
# hetnas grid end to end: bad grid files are refused before any work
# (exit 2, the entry named by file:line, no run directory); the statistics
# in grid_<family>.csv agree with an independent recomputation; the
# results file's damage is detected (torn last line dropped with a warning,
# a changed or broken middle line named by its line number); the plot
# falls back to data + script without gnuplot; and a real tiny grid trains
# (early stopping, seeds recorded, one job killed and resumed).
# $1 = hetnas binary, $2 = source dir.
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
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 600 200 7
head_yaml() {
cat <<YAML
name: $1
seed: 3
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 32, eval_batch_size: 100,
       augment: {crop_pad: 0, flip: false}}
optim: {lr: 0.05}
train: {epochs: 3, patience: 1, threads: 1}
YAML
}

# ---- bad grid files ----------------------------------------------------------
# expect_bad NAME PATTERN  (stdin: the grid section): exit 2, PATTERN on
# stderr, nothing on stdout, no run directory
expect_bad() {
  { head_yaml bad; cat; } >"$tmp/$1.yaml"
  "$HN" grid "$tmp/$1.yaml" --out "$tmp/bad_$1" >"$tmp/$1.stdout" 2>"$tmp/$1.out"; rc=$?
  if [ $rc -eq 2 ] && grep -qE -- "$2" "$tmp/$1.out" && [ ! -e "$tmp/bad_$1" ] && [ ! -s "$tmp/$1.stdout" ]; then
    ok "bad grid: $1"
  else
    bad "bad grid: $1 (rc $rc)"; cat "$tmp/$1.out"
  fi
}
expect_bad dup_split 'dup_split.yaml:14: grid.quant.splits\[2\]: duplicate of grid.quant.splits\[0\] \(line 12\)' <<'Y'
grid:
  quant:
    ops: [[2,2],[8,8]]
    splits:
      - [8, 0]
      - [0, 8]
      - [8, 0]
Y
expect_bad zero_repeats 'zero_repeats.yaml:9: .*grid.repeats' <<'Y'
grid:
  repeats: 0
  quant: {ops: [[2,2]], splits: [[8]]}
Y
expect_bad no_fit 'no_fit.yaml:13: grid.quant.splits\[1\]: the counts sum to 16, but the stem of resnet8 \(width 0.5\) has 8 filters' <<'Y'
grid:
  quant:
    ops: [[2,2],[8,8]]
    splits:
      - [8, 0]
      - [8, 8]
Y
expect_bad wide 'wide.yaml:12: grid.prune.widths\[1\]: stage 3 keeps 64 filters, but resnet8 \(width 0.5\) has 32' <<'Y'
grid:
  prune:
    widths:
      - [8, 16, 32]
      - [8, 16, 64]
Y
expect_bad dup_width 'dup_width.yaml:13: grid.prune.widths\[2\]: duplicate of grid.prune.widths\[0\]' <<'Y'
grid:
  prune:
    widths:
      - [8, 16, 32]
      - [4, 8, 16]
      - [8, 16, 32]
Y
expect_bad wrong_len 'wrong_len.yaml:13: grid.quant.splits\[1\]: 3 counts, but grid.quant.ops has 2 ops' <<'Y'
grid:
  quant:
    ops: [[2,2],[8,8]]
    splits:
      - [8, 0]
      - [4, 2, 2]
Y
expect_bad empty 'grid: no configurations' <<'Y'
grid:
  repeats: 3
Y
expect_bad missing_file 'missing_file.yaml:11: grid.quant.files\[0\]: configuration file .nope.yaml. not found' <<'Y'
grid:
  quant:
    files:
      - nope.yaml
Y
# a file that equals a split is the same configuration under another name
printf 'homogeneous: [8, 8]\n' >"$tmp/h88.yaml"
expect_bad same_as_file 'same_as_file.yaml:15: grid.quant.files\[0\]: the same configuration as .*same_as_file.yaml:13: grid.quant.splits\[1\] \(q01\)' <<'Y'
grid:
  quant:
    ops: [[2,2],[8,8]]
    splits:
      - [8, 0]
      - [0, 8]
    files:
      - h88.yaml
Y
printf 'model: resnet20\nhomogeneous: [4, 4]\n' >"$tmp/r20.yaml"
expect_bad other_model 'other_model.yaml:11: grid.quant.files\[0\]: does not fit resnet8' <<'Y'
grid:
  quant:
    files:
      - r20.yaml
Y
{ head_yaml bad; printf 'config: h88.yaml\ngrid:\n  prune: {widths: [[8,16,32]]}\n'; } >"$tmp/prune_cfg.yaml"
"$HN" grid "$tmp/prune_cfg.yaml" --out "$tmp/bad_pc" >"$tmp/pc.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "grid.prune: the pruned networks use the experiment's config" "$tmp/pc.out"; } \
  && ok "bad grid: pruning on a configuration file" || { bad "pruning on a file config (rc $rc)"; cat "$tmp/pc.out"; }

# ---- statistics, recomputed independently (cheap deterministic runner) -----
{ head_yaml st; cat <<'Y'; } >"$tmp/st.yaml"
grid:
  repeats: 4
  level: 0.6827
  alpha: 0.05
  quant:
    ops: [[2,2],[4,4],[8,8]]
    splits: [[8,0,0], [0,8,0], [0,0,8], [4,4,0], [4,0,4], [2,4,2], [1,1,6]]
  prune:
    widths: [[8,16,32], [4,8,16], [8,8,16], [2,4,8], [1,1,1]]
Y
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --set seed=0 --out "$tmp/s0" >"$tmp/s0.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "seed 0 with a grid: set data.split_seed" "$tmp/s0.out" && [ ! -e "$tmp/s0" ]; } \
  && ok "bad grid: seed 0 without data.split_seed" || { bad "seed 0 (rc $rc)"; cat "$tmp/s0.out"; }
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/st" >"$tmp/st.out" 2>&1 \
  && ok "fake grid runs" || { bad "fake grid runs"; cat "$tmp/st.out"; }
"$PY" - "$tmp/st" <<'PYEOF' && ok "CSV statistics == independent recomputation (mean, sd, CI, line, Welch t and df, Holm order)" || bad "statistics recomputation"
import csv, json, math, sys
d = sys.argv[1]
res = [json.loads(l) for l in open(d + "/grid.jsonl")]
man = json.load(open(d + "/manifest.json"))
seeds = {j["id"]: j["seed"] for j in man["grid"]["jobs"]}
assert all(seeds[r["id"]] == r["seed"] for r in res) and len(res) == 48
tq = {3: 1.1969}  # t_{0.84135, 3}: one-sigma factor for 4 samples (GUM G.2: 1.20)
for fam in ("quant", "prune"):
    rows = list(csv.DictReader(open(f"{d}/grid_{fam}.csv")))
    acc = {}
    for r in res:
        if r["family"] == fam: acc.setdefault(r["config"], []).append(r["test_acc"])
    st = {}
    for c, xs in acc.items():
        m = sum(xs) / len(xs); s = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
        st[c] = (m, s, len(xs))
    homo = sorted((float(r["cost"]), r["config"]) for r in rows if r["homogeneous"] == "1")
    for r in rows:
        m, s, n = st[r["config"]]
        assert abs(float(r["mean_acc"]) - m) < 1e-9 and abs(float(r["sd"]) - s) < 1e-9
        assert abs(float(r["ci_half"]) - tq[3] * s / 2) < 2e-4 * s
        c = float(r["cost"])
        if r["homogeneous"] == "1" or not (homo[0][0] <= c <= homo[-1][0]):
            assert r["t"] == "" and r["p"] == "", r
            continue
        lo = max(h for h in homo if h[0] <= c); hi = min(h for h in homo if h[0] >= c)
        lam = 0 if hi[0] == lo[0] else (c - lo[0]) / (hi[0] - lo[0])
        ml, sl, nl = st[lo[1]]; mh, sh, nh = st[hi[1]]
        line = (1 - lam) * ml + lam * mh
        nL = (1 - lam) * nl + lam * nh
        v = [s * s / n, (1 - lam) * sl * sl / nL, lam * sh * sh / nL]
        df = [n - 1, nl - 1, nh - 1]
        t = (m - line) / math.sqrt(sum(v))
        ws = sum(v) ** 2 / sum(a * a / b for a, b in zip(v, df))
        assert r["line_lo"] == lo[1] and r["line_hi"] == hi[1], r
        assert abs(float(r["line_mean"]) - line) < 1e-9
        assert abs(float(r["t"]) - t) < 1e-6 * max(1, abs(t)), (r["t"], t)
        assert abs(float(r["df"]) - ws) < 1e-6 * ws, (r["df"], ws)
    tested = [r for r in rows if r["p"] != ""]
    # Holm: adjusted p-values are monotone in the raw p-values, >= raw
    srt = sorted(tested, key=lambda r: float(r["p"]))
    for a, b in zip(srt, srt[1:]):
        assert float(a["p_holm"]) <= float(b["p_holm"])
    for k, r in enumerate(srt):
        assert float(r["p_holm"]) >= min(1, float(r["p"]) * (len(srt) - k)) - 1e-12
        assert (r["significant"] == "1") == (float(r["p_holm"]) <= 0.05)
    assert any(r["note"].startswith("outside") for r in rows) or fam == "quant"
PYEOF
for f in grid_quant.csv grid_quant.txt grid_prune.csv grid_prune.txt plots/grid_quant.gp plots/grid_quant.dat; do
  [ -s "$tmp/st/$f" ] || bad "run dir has $f"
done
if command -v gnuplot >/dev/null; then
  { [ -s "$tmp/st/plots/grid_quant.svg" ] && [ -s "$tmp/st/plots/grid_prune.png" ]; } \
    && ok "plots drawn (SVG, PNG)" || bad "plots drawn"
fi
grep -q "Welch" "$tmp/st.out" && grep -q "p_holm" "$tmp/st/grid_quant.txt" && ok "readable table printed and written" || bad "readable table"

# without gnuplot: data + script and a message
HN_GRID_FAKE_MS=0 HN_GNUPLOT=/nonexistent "$HN" grid "$tmp/st.yaml" --out "$tmp/st2" --quiet >"$tmp/st2.out" 2>&1
{ grep -q "gnuplot not found" "$tmp/st2.out" && [ -s "$tmp/st2/plots/grid_prune.gp" ] && [ ! -e "$tmp/st2/plots/grid_prune.svg" ]; } \
  && ok "no gnuplot: says so, writes .dat and .gp" || { bad "no gnuplot fallback"; cat "$tmp/st2.out"; }

# ---- results file damage ------------------------------------------------------
cp -r "$tmp/st" "$tmp/dm"
head -c 90 "$tmp/st/grid.jsonl" >>"$tmp/dm/grid.jsonl" # a torn write at the end
# drop two finished lines so that --resume has work
"$PY" - "$tmp/dm/grid.jsonl" <<'PYEOF'
import sys
p = sys.argv[1]; b = open(p, "rb").read().split(b"\n")
open(p, "wb").write(b"\n".join(b[:5] + b[7:]))
PYEOF
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/dm" --resume --quiet >"$tmp/dm.out" 2>&1; rc=$?
{ [ $rc -eq 0 ] && grep -q "grid.jsonl:47: incomplete last line" "$tmp/dm.out" && [ "$(wc -l <"$tmp/dm/grid.jsonl")" -eq 48 ] \
  && cmp -s "$tmp/st/grid_quant.csv" "$tmp/dm/grid_quant.csv"; } \
  && ok "torn last line dropped with a warning; missing jobs rerun; same statistics" || { bad "torn last line (rc $rc)"; cat "$tmp/dm.out"; }
cp "$tmp/dm/grid.jsonl" "$tmp/before"
sed -i '20s/"test_acc":0\./"test_acc":1./' "$tmp/dm/grid.jsonl"
cp "$tmp/dm/grid.jsonl" "$tmp/edited"
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/dm" --resume --quiet >"$tmp/dm2.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "grid.jsonl:20: crc32 mismatch" "$tmp/dm2.out" && cmp -s "$tmp/edited" "$tmp/dm/grid.jsonl"; } \
  && ok "a value edited by hand: error naming line 20, file untouched" || { bad "edited line (rc $rc)"; cat "$tmp/dm2.out"; }
cp "$tmp/before" "$tmp/dm/grid.jsonl"
sed -i '7s/.*/{"job": broken/' "$tmp/dm/grid.jsonl"
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/dm" --resume --quiet >"$tmp/dm3.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "grid.jsonl:7: " "$tmp/dm3.out"; } \
  && ok "a broken middle line: error naming line 7" || { bad "broken middle line (rc $rc)"; cat "$tmp/dm3.out"; }
cp "$tmp/before" "$tmp/dm/grid.jsonl"
sed -n 3p "$tmp/before" >>"$tmp/dm/grid.jsonl"
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/dm" --resume --quiet >"$tmp/dm4.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "grid.jsonl:49: job 2 (q00_r2) appears a second time" "$tmp/dm4.out"; } \
  && ok "a duplicated line: error naming line 49" || { bad "duplicate line (rc $rc)"; cat "$tmp/dm4.out"; }
cp "$tmp/before" "$tmp/dm/grid.jsonl"
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --set grid.repeats=3 --out "$tmp/dm" --resume --quiet >"$tmp/dm5.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && grep -q "changed experiment" "$tmp/dm5.out"; } \
  && ok "--resume with a changed experiment refused" || { bad "changed experiment (rc $rc)"; cat "$tmp/dm5.out"; }
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/st.yaml" --out "$tmp/dm" --quiet >"$tmp/dm6.out" 2>&1; rc=$?
[ $rc -eq 2 ] && ok "an existing grid run is not overwritten without --resume" || { bad "overwrite (rc $rc)"; cat "$tmp/dm6.out"; }

# ---- real training: a tiny grid, one job killed mid-training and resumed ----
{ head_yaml real; cat <<'Y'; } >"$tmp/real.yaml"
grid:
  repeats: 2
  quant:
    ops: [[2,2],[8,8]]
    splits: [[8,0],[0,8],[4,4]]
Y
OMP_NUM_THREADS=1 "$HN" grid "$tmp/real.yaml" --out "$tmp/real" >"$tmp/real.out" 2>&1 &
bg=$!
for _ in $(seq 1 600); do
  [ -e "$tmp/real/jobs/q01_r0/checkpoints/epoch_0000.safetensors" ] && break
  sleep 0.05
done
kill -9 $bg 2>/dev/null; wait $bg 2>/dev/null
n1=$(wc -l <"$tmp/real/grid.jsonl")
[ "$n1" -ge 2 ] && [ "$n1" -lt 6 ] && ok "killed mid-grid after $n1 finished jobs" || bad "kill point ($n1 lines)"
OMP_NUM_THREADS=1 "$HN" grid "$tmp/real.yaml" --out "$tmp/real" --resume >"$tmp/real2.out" 2>&1 \
  && ok "resumed real grid finishes" || { bad "resume real grid"; cat "$tmp/real2.out"; }
"$PY" - "$tmp/real" "$n1" <<'PYEOF' && ok "real grid: 6 jobs once each, seeds recorded, early stopping honoured, killed job continued from its checkpoint" || bad "real grid results"
import json, sys
d, n1 = sys.argv[1], int(sys.argv[2])
res = [json.loads(l) for l in open(d + "/grid.jsonl")]
assert sorted(r["job"] for r in res) == list(range(6)), res
man = json.load(open(d + "/manifest.json"))
assert {j["id"]: j["seed"] for j in man["grid"]["jobs"]} == {r["id"]: r["seed"] for r in res}
assert len(set(r["seed"] for r in res)) == 6
for r in res:
    assert 0 < r["test_acc"] <= 1 and 1 <= r["best_epoch"] <= r["epochs"] <= 3
    je = json.load(open(f"{d}/jobs/{r['id']}/manifest.json"))["experiment"]
    # the job's own seed, the experiment's validation split (seed 3)
    assert je["seed"] == r["seed"] and je["data"]["split_seed"] == 3, je
    rj = json.load(open(f"{d}/jobs/{r['id']}/results.json"))
    assert rj["test_acc"] == r["test_acc"]
    if r["early_stopped"]: assert r["epochs"] - r["best_epoch"] >= 1
ev = [json.loads(l) for l in open(d + "/jobs/q01_r0/log.jsonl")]
assert any(e["event"] == "resume" for e in ev), "the killed job was not resumed"
assert man["status"] == "finished"
PYEOF
exit $fail
