#!/usr/bin/env bash
# Fault tolerance of hetnas grid: a grid (cheap deterministic runner, the
# hidden HN_GRID_FAKE_MS hook) is killed with SIGKILL at random points -
# the whole serial process, the whole mpirun, or one worker rank under
# mpirun (which takes the MPI job down) - and continued with --resume until
# it finishes.  After every kill the results file holds only valid lines,
# no finished job is lost or duplicated; at the end the results and the
# statistics equal an uninterrupted run's.  At least 10 kills.
# $1 = hetnas binary, $2 = source dir, $3 = HN_WITH_MPI (ON: the MPI kill
# modes are required; no mpirun then fails the test).
set -u
HN="$1"; SRC="$2"
PY=$(command -v /usr/bin/python3 || command -v python3)
tmp=$(mktemp -d)
trap '[ "$bg" -gt 0 ] && kill -9 $bg 2>/dev/null; rm -rf "$tmp"' EXIT
bg=0
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
MPIRUN=(mpirun --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo -x HN_GRID_FAKE_MS -x OMP_NUM_THREADS)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
have_mpi=0
if [ "${3:-OFF}" = ON ]; then
  command -v mpirun >/dev/null && have_mpi=1 || bad "HN_WITH_MPI is ON but mpirun is not on PATH"
fi

mkdir -p "$tmp/data"
"$PY" "$SRC/tests/make_tiny_idx.py" "$tmp/data" 300 100 7
cat >"$tmp/k.yaml" <<YAML
name: k
seed: 11
model: {name: resnet8, width: 0.5}
data: {name: mnist, dir: $tmp/data, val_fraction: 0.2}
grid:
  repeats: 6
  quant:
    ops: [[2,2],[4,4],[8,8]]
    splits: [[8,0,0],[0,8,0],[0,0,8],[4,4,0],[4,0,4],[2,4,2],[6,1,1],[1,6,1],[1,1,6],[3,3,2]]
  prune:
    widths: [[8,16,32],[4,8,16],[2,4,8],[8,8,16],[4,16,32],[6,12,24],[2,8,32],[8,4,8],[4,4,4],[1,2,4]]
YAML
export OMP_NUM_THREADS=1
HN_GRID_FAKE_MS=0 "$HN" grid "$tmp/k.yaml" --out "$tmp/ref" --quiet >"$tmp/ref.out" 2>&1 \
  && ok "reference run (120 jobs)" || { bad "reference run"; cat "$tmp/ref.out"; }

check_file() { # the results file after a kill: valid lines only, none lost
  "$PY" - "$tmp/run/grid.jsonl" "$1" <<'PYEOF'
import json, sys, zlib
p, before = sys.argv[1], int(sys.argv[2])
b = open(p, "rb").read()
lines = b.split(b"\n")
tail = lines.pop()  # after the last newline: empty, or a torn write
jobs = set()
for l in lines:
    k = l.rfind(b',"crc32":"')
    assert zlib.crc32(l[:k]) == int(l[k + 10:k + 18], 16), l
    j = json.loads(l)["job"]
    assert j not in jobs, "duplicate job %d" % j
    jobs.add(j)
assert len(jobs) >= before, (len(jobs), before)
print(len(jobs), "torn" if tail else "")
PYEOF
}

export HN_GRID_FAKE_MS=200
kills=0; n=0; round=0; torn=0; self_exit=0
declare -A km=([serial]=0 [mpirun]=0 [rank]=0)
RANDOM=4242
KILLS=15   # 5 per mode with MPI; then one last --resume runs to the end
while :; do
  round=$((round + 1))
  [ $round -gt 40 ] && { bad "no end after 40 rounds"; break; }
  resume=(); [ -e "$tmp/run/manifest.json" ] && resume=(--resume)
  # the run has started once its "start"/"resume" event is in log.jsonl
  events=0; [ -e "$tmp/run/log.jsonl" ] && events=$(wc -l <"$tmp/run/log.jsonl")
  if [ $have_mpi = 1 ] && [ $((round % 3)) -ne 1 ]; then
    mode=$([ $((round % 3)) -eq 2 ] && echo mpirun || echo rank)
    "${MPIRUN[@]}" -np 3 "$HN" grid "$tmp/k.yaml" --out "$tmp/run" --quiet "${resume[@]}" >"$tmp/r$round.out" 2>&1 &
  else
    mode=serial
    "$HN" grid "$tmp/k.yaml" --out "$tmp/run" --quiet "${resume[@]}" >"$tmp/r$round.out" 2>&1 &
  fi
  bg=$!
  if [ $kills -ge $KILLS ]; then
    wait $bg; rc=$?; bg=0
    [ $rc -eq 0 ] && ok "last --resume ($mode) finishes the grid" || { bad "last round ended with $rc"; cat "$tmp/r$round.out"; }
    break
  fi
  for _ in $(seq 1 1000); do
    [ -e "$tmp/run/log.jsonl" ] && [ "$(wc -l <"$tmp/run/log.jsonl")" -gt "$events" ] && break
    kill -0 $bg 2>/dev/null || break; sleep 0.02
  done
  sleep "0.$((RANDOM % 40 + 5))"
  if ! kill -0 $bg 2>/dev/null; then wait $bg; rc=$?; bg=0
    [ $rc -eq 0 ] && { ok "grid finished before kill $((kills + 1))"; break; }
    bad "round $round ended with $rc"; cat "$tmp/r$round.out"; break
  fi
  ranks=$(pgrep -P $bg 2>/dev/null | sort -n)  # mpirun's children: the ranks
  if [ $mode = rank ]; then
    # one worker rank (the newest child; rank 0 is started first)
    victim=$(echo "$ranks" | tail -1)
    [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
    # Open MPI then aborts the job: every rank ends (mpirun itself was
    # seen to linger over its reaped children here, so it is not waited on)
    down=0
    for _ in $(seq 1 600); do
      alive=0
      for p in $ranks; do
        st=$(ps -o stat= -p "$p" 2>/dev/null)
        [ -n "$st" ] && [ "${st#Z}" = "$st" ] && alive=1
      done
      [ $alive = 0 ] && { down=1; break; }
      sleep 0.05
    done
    if [ $down = 1 ]; then self_exit=$((self_exit + 1)); else
      echo "ranks alive 30 s after rank pid $victim was killed:"; ps -o pid,stat,args --ppid $bg; cat "$tmp/r$round.out"
    fi
  fi
  kill -9 $bg 2>/dev/null
  for p in $ranks; do kill -9 "$p" 2>/dev/null; done  # orphans of a killed mpirun
  wait $bg 2>/dev/null; bg=0
  kills=$((kills + 1)); km[$mode]=$((km[$mode] + 1))
  out=$(check_file $n) || { bad "results file after kill $kills ($mode)"; echo "$out"; break; }
  n=${out% *}; case "$out" in *torn) torn=$((torn + 1));; esac
  echo "kill $kills ($mode): $n jobs recorded"
done
echo "kills: $kills (serial ${km[serial]}, mpirun ${km[mpirun]}, worker rank ${km[rank]}), torn last lines seen: $torn"
[ $kills -ge 10 ] && ok "$kills kills at random points" || bad "only $kills kills"
if [ $have_mpi = 1 ]; then
  [ ${km[rank]} -ge 2 ] && [ ${km[mpirun]} -ge 2 ] && ok "kills of one worker rank and of mpirun included" || bad "MPI kill modes"
  [ $self_exit -eq ${km[rank]} ] && ok "a killed worker rank takes every rank down ($self_exit of ${km[rank]})" || bad "ranks survived a killed rank ($self_exit of ${km[rank]})"
fi
"$PY" - "$tmp/ref" "$tmp/run" <<'PYEOF' && ok "after the kills: every job once, results == uninterrupted run" || bad "results after kills"
import json, sys
a, b = sys.argv[1], sys.argv[2]
def load(d):
    return {r["job"]: (r["id"], r["seed"], r["test_acc"]) for r in map(json.loads, open(d + "/grid.jsonl"))}
ra, rb = load(a), load(b)
assert len(rb) == 120 and ra == rb
PYEOF
for f in grid_quant.csv grid_prune.csv; do
  # the source column names the same file; everything else must agree
  cmp -s "$tmp/ref/$f" "$tmp/run/$f" && ok "$f identical to the uninterrupted run's" || bad "$f differs"
done
exit $fail
