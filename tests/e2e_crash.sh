#!/usr/bin/env bash
# Crash safety, measured: `hetnas train` is killed with SIGKILL at 20
# seeded random moments (every fourth one aimed at a checkpoint write: the
# kill lands while a *.tmp.PID file exists) and resumed each time.  After
# every kill the run directory must be readable (manifest and side files
# parse, every checkpoint's header and size agree, log lines parse but a
# partial last one), and the finished run must equal an uninterrupted run
# bit for bit (weights of the last and best checkpoints, results.json).
# Then a run whose newest checkpoint is truncated resumes from the previous
# one with a warning and still ends identical.  Prints the figures (kills,
# kills inside a write, resumes, seconds).  $1 = hetnas binary, $2 = source.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
SEED=${HN_CRASH_SEED:-20240611}
KILLS=${HN_CRASH_KILLS:-20}
tmp=$(mktemp -d)
pid=0
trap '[ $pid -gt 0 ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
t_start=$(date +%s.%N)

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 400 100 5
cat >"$tmp/exp.yaml" <<YAML
name: crash
seed: 11
model: {name: resnet8, width: 0.25}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 16, eval_batch_size: 80,
       augment: {crop_pad: 2, flip: true}}
config: [4, 4]
quant: {noise: 0.05}
optim: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
schedule: {name: cosine}
train: {epochs: 40, max_batches: 4, threads: 1, checkpoint_every: 1,
        keep_checkpoints: 2, log_every: 2}
YAML

t0=$(date +%s%N)
"$HN" train "$tmp/exp.yaml" --out "$tmp/ref" --no-progress --quiet >"$tmp/ref.out" 2>&1 \
  || { bad "uninterrupted reference run"; cat "$tmp/ref.out"; exit 1; }
t_ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "reference run: ${t_ref_ms} ms"

# The run directory as a reader finds it right after a kill.
check_readable() { # DIR
  "$PY" - "$1" <<'PYEOF'
import glob, json, os, struct, sys
d = sys.argv[1]
if os.path.exists(d + "/manifest.json"):
    m = json.load(open(d + "/manifest.json"))
    assert m["format"] == "hetnas-run/1", m
if os.path.exists(d + "/log.jsonl"):
    lines = open(d + "/log.jsonl", "rb").read().split(b"\n")
    for l in lines[:-1]:
        json.loads(l)           # complete lines always parse
    # lines[-1] is "" or a partial line, dropped on resume
for p in glob.glob(d + "/checkpoints/*.safetensors"):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    end = max(v["data_offsets"][1] for k, v in h.items() if k != "__metadata__")
    assert 8 + n + end == len(b), (p, 8 + n + end, len(b))
for p in glob.glob(d + "/checkpoints/*.json") + glob.glob(d + "/results.json"):
    json.load(open(p))
PYEOF
}

# 20 kills at seeded random moments.
RANDOM=$SEED
max_ms=$(( t_ref_ms / 40 + 20 ))   # about one epoch of the reference run
kills=0; in_write=0; resumes=0; finished_early=0
for k in $(seq 1 "$KILLS"); do
  args=()
  if [ -e "$tmp/run/manifest.json" ]; then args=(--resume); resumes=$((resumes + 1)); fi
  "$HN" train "$tmp/exp.yaml" --out "$tmp/run" "${args[@]}" --no-progress --quiet >>"$tmp/run.out" 2>&1 &
  pid=$!
  if [ $((k % 4)) -eq 0 ]; then
    # aimed at a checkpoint write: wait for a temp file, then kill at once
    # (after a random number of epochs' worth of writes)
    skip=$((RANDOM % 3))
    while kill -0 $pid 2>/dev/null; do
      if compgen -G "$tmp/run/checkpoints/*.tmp.*" >/dev/null; then
        if [ $skip -eq 0 ]; then kill -9 $pid 2>/dev/null; break; fi
        skip=$((skip - 1))
        while compgen -G "$tmp/run/checkpoints/*.tmp.*" >/dev/null; do :; done
      fi
    done
  else
    # let the run finish one more epoch first (so the kills spread over the
    # run even when a loaded machine makes start-up slow), then kill at a
    # random moment within about an epoch's time

    last=$(ls "$tmp/run/checkpoints" 2>/dev/null | grep '^epoch_.*safetensors$' | tail -1 || true)
    while kill -0 $pid 2>/dev/null; do
      now=$(ls "$tmp/run/checkpoints" 2>/dev/null | grep '^epoch_.*safetensors$' | tail -1 || true)
      [ -n "$now" ] && [ "$now" != "$last" ] && break
      sleep 0.005
    done

    ms=$(( RANDOM % max_ms ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 $pid 2>/dev/null
  fi
  if wait $pid 2>/dev/null; then finished_early=$((finished_early + 1)); fi
  pid=0
  kills=$((kills + 1))
  compgen -G "$tmp/run/checkpoints/*.tmp.*" >/dev/null && in_write=$((in_write + 1))
  check_readable "$tmp/run" || bad "run directory unreadable after kill $k"
done
done_before=$(grep -o "resumed from [^ ]* ([0-9]* epochs done)" "$tmp/run.out" | tail -1 | grep -o "([0-9]*" | tr -d '(')
echo "epochs done when the last kill landed: ${done_before:-0} of 40"
[ "${done_before:-0}" -ge 10 ] && ok "the kills spread over the run (${done_before:-0} epochs before the final resume)" \
  || bad "the kills did not spread over the run"
# Resume to the end.
"$HN" train "$tmp/exp.yaml" --out "$tmp/run" --resume --no-progress --quiet >>"$tmp/run.out" 2>&1 \
  && ok "final resume completes" || { bad "final resume"; tail -20 "$tmp/run.out"; }
resumes=$((resumes + 1))
echo "kills: $kills (inside a checkpoint write: $in_write, after the run had finished: $finished_early), resumes: $resumes"
[ "$in_write" -ge 1 ] && ok "at least one kill landed inside a checkpoint write" || bad "no kill inside a write"
compgen -G "$tmp/run/checkpoints/*.tmp.*" >/dev/null && bad "temp files left after the final resume" || ok "no temp files left"

same_as_ref() { # DIR
  "$PY" - "$tmp/ref" "$1" <<'PYEOF'
import json, struct, sys
def tensors(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return {k: b[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]] for k, v in h.items()}
a, b = sys.argv[1], sys.argv[2]
for f in ("epoch_0039.safetensors", "best.safetensors"):
    ta, tb = tensors(f"{a}/checkpoints/{f}"), tensors(f"{b}/checkpoints/{f}")
    assert ta.keys() == tb.keys() and len(ta) > 10, f
    diff = [k for k in ta if ta[k] != tb[k]]
    assert not diff, (f, diff[:5])
ra, rb = json.load(open(a + "/results.json")), json.load(open(b + "/results.json"))
for k in ("epochs", "best_epoch", "best_val_acc", "test_acc", "test_loss", "test_samples"):
    assert ra[k] == rb[k], (k, ra[k], rb[k])
PYEOF
}
same_as_ref "$tmp/run" && ok "killed $kills times and resumed: bit-identical to the uninterrupted run" \
  || bad "crash-resumed run differs from the uninterrupted run"

# A truncated newest checkpoint: resume falls back to the previous one.
cp -r "$tmp/ref" "$tmp/trunc"
rm -f "$tmp/trunc/results.json"
head -c 1000 "$tmp/trunc/checkpoints/epoch_0039.safetensors" >"$tmp/x" && mv "$tmp/x" "$tmp/trunc/checkpoints/epoch_0039.safetensors"
"$HN" train "$tmp/exp.yaml" --out "$tmp/trunc" --resume --no-progress --quiet >"$tmp/trunc.out" 2>&1 \
  && grep -q "warning: skipping damaged checkpoint: .*epoch_0039.safetensors" "$tmp/trunc.out" \
  && grep -q "resumed from .*epoch_0038.safetensors" "$tmp/trunc.out" \
  && same_as_ref "$tmp/trunc" \
  && ok "truncated newest checkpoint: warning, resume from the previous one, identical result" \
  || { bad "truncated checkpoint fallback"; cat "$tmp/trunc.out"; }

t_total=$("$PY" -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t_start" "$(date +%s.%N)")
echo "crash test: $kills kills, $in_write inside checkpoint writes, $resumes resumes, ${t_total} s"
exit $fail
