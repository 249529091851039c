#!/usr/bin/env bash
# hetnas grid under Open MPI on loopback (registered when HN_WITH_MPI is
# ON; a missing or broken mpirun FAILS it): `mpirun -np 2` trains a tiny
# real grid whose results equal a serial run's bit for bit (same seeds, one
# thread per job), and `mpirun -np 3` splits a grid over both worker ranks
# with rank 0 only coordinating and writing.  As root (CI) mpirun needs
# --allow-run-as-root.  $1 = hetnas binary, $2 = source dir.
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
command -v mpirun >/dev/null || { bad "mpirun not found (HN_WITH_MPI is ON)"; exit 1; }
# Under mpirun, Open MPI's dlopen'd components (frames of an "unknown
# module", so no LSan suppression can name them) and hwloc leak; the
# serial runs here and every other ASan test still check hetnas's leaks.
MPIRUN=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
        mpirun --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo -x OMP_NUM_THREADS -x HN_GRID_FAKE_MS)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
export OMP_NUM_THREADS=1

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 600 200 7
# the shipped tiny grid on the generated data (7 configurations x 2)
TINY=("$SRC/configs/grid_tiny.yaml" --set data.name=mnist --set "data.dir=$tmp/data")
"$HN" grid "${TINY[@]}" --out "$tmp/serial" --quiet >"$tmp/s.out" 2>&1 \
  && ok "serial real grid" || { bad "serial real grid"; cat "$tmp/s.out"; }
timeout 300 "${MPIRUN[@]}" -np 2 "$HN" grid "${TINY[@]}" --out "$tmp/mpi" >"$tmp/m.out" 2>&1; rc=$?
{ [ $rc -eq 0 ] && grep -q "distributed over MPI" "$tmp/m.out" && grep -q "1 worker ranks" "$tmp/m.out"; } \
  && ok "mpirun -np 2 real grid on loopback" || { bad "mpirun -np 2 (rc $rc)"; cat "$tmp/m.out"; }
"$PY" - "$tmp/serial" "$tmp/mpi" <<'PYEOF' && ok "MPI results == serial results (bit-identical accuracies), rank 1 ran every job" || bad "MPI vs serial"
import json, sys
def load(d):
    return {r["job"]: r for r in map(json.loads, open(d + "/grid.jsonl"))}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == 14 and a.keys() == b.keys()
for j in a:
    for k in ("id", "seed", "test_acc", "best_val_acc", "epochs", "best_epoch"):
        assert a[j][k] == b[j][k], (j, k, a[j][k], b[j][k])
    assert b[j]["rank"] == 1 and a[j]["rank"] == 0
PYEOF
cmp -s "$tmp/serial/grid_quant.csv" "$tmp/mpi/grid_quant.csv" && ok "same statistics" || bad "statistics differ"

HN_GRID_FAKE_MS=30 timeout 300 "${MPIRUN[@]}" -np 3 "$HN" grid "${TINY[@]}" --set grid.repeats=6 \
  --out "$tmp/split" --quiet >"$tmp/x.out" 2>&1; rc=$?
"$PY" - "$tmp/split" <<'PYEOF' && [ $rc -eq 0 ] && ok "mpirun -np 3: 42 jobs handed out to ranks 1 and 2, rank 0 only writes" || { bad "work split (rc $rc)"; cat "$tmp/x.out"; }
import collections, json, sys
res = [json.loads(l) for l in open(sys.argv[1] + "/grid.jsonl")]
assert sorted(r["job"] for r in res) == list(range(42))
c = collections.Counter(r["rank"] for r in res)
assert set(c) == {1, 2} and min(c.values()) >= 8, c
PYEOF
# bad input under mpirun: refused by every rank, said once (by rank 0)
timeout 120 "${MPIRUN[@]}" -np 3 "$HN" grid "${TINY[@]}" --set grid.repeats=0 --out "$tmp/bad" >"$tmp/b.out" 2>&1; rc=$?
{ [ $rc -eq 2 ] && [ "$(grep -c 'grid.repeats: 0 is out of range' "$tmp/b.out")" -eq 1 ] && [ ! -e "$tmp/bad" ]; } \
  && ok "bad grid under mpirun: exit 2, one message, nothing written" || { bad "bad grid under mpirun (rc $rc)"; cat "$tmp/b.out"; }
exit $fail
