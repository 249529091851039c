#!/usr/bin/env bash
# The pruning searches over MPI ranks: a C.2 search (shared weights trained
# on rank 0 and broadcast, sampled configurations fine-tuned on all ranks)
# and a C.5 search (homogeneous points and samples trained on all ranks)
# under `mpirun -np 2` write exactly the alpha.csv, steps.csv and found.csv
# of one process and of `mpirun -np 1`.  Registered when the build has MPI
# (HN_WITH_MPI): then mpirun failing to run is a failure, not a skip.
# $1 = hetnas binary, $2 = source dir.
set -u
# Under mpirun, Open MPI's dlopen'd components (frames of an "unknown
# module", so no LSan suppression can name them) leak strdup'd strings;
# leaks of hetnas itself are checked by every other ASan test.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader)

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 1000 200 3
cat >"$tmp/exp.yaml" <<YAML
name: tinyprune_mpi
seed: 11
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2, batch_size: 32, eval_batch_size: 100,
       augment: {crop_pad: 0, flip: false}}
optim: {name: sgd, lr: 0.05, momentum: 0.9}
train: {threads: 1}
slim: {widths: [0.5, 1.0], recalib_batches: 3}
search: {algorithm: c2, distribution: binomial, metric: macs, iterations: 2, samples: 3,
         sample_epochs: 1, alpha_batches: 2, alpha_lr: 0.1, final_samples: 1,
         final_epochs: 1, interp_runs: 1}
YAML
for alg in c2 c5; do
  "$HN" search "$tmp/exp.yaml" --set search.algorithm=$alg --out "$tmp/${alg}_plain" \
    --no-progress >"$tmp/${alg}_plain.out" 2>&1 || { bad "$alg one process"; cat "$tmp/${alg}_plain.out"; }
  for np in 1 2; do
    if "${MPIRUN[@]}" -np $np "$HN" search "$tmp/exp.yaml" --set search.algorithm=$alg \
         --out "$tmp/${alg}_np$np" --no-progress >"$tmp/${alg}_np$np.out" 2>&1; then
      ok "$alg: mpirun -np $np runs"
    else
      bad "$alg: mpirun -np $np runs"; tail -20 "$tmp/${alg}_np$np.out"
    fi
  done
  grep -q "MPI: 2 ranks" "$tmp/${alg}_np2.out" && ok "$alg: 2 ranks shared the samples" \
    || bad "$alg: 2 ranks shared the samples"
  for f in alpha.csv steps.csv found.csv; do
    cmp -s "$tmp/${alg}_np1/$f" "$tmp/${alg}_np2/$f" && cmp -s "$tmp/${alg}_plain/$f" "$tmp/${alg}_np2/$f" \
      && ok "$alg: $f identical for one process, -np 1 and -np 2" \
      || { bad "$alg: $f identical for one process, -np 1 and -np 2"; diff "$tmp/${alg}_np1/$f" "$tmp/${alg}_np2/$f" | head -4; }
  done
done
[ $fail -eq 0 ] && echo "e2e_prune_mpi: all passed" || echo "e2e_prune_mpi: FAILED"
exit $fail
