#!/usr/bin/env bash
# gpu: every NCCL benchmark through `mpirun -np 2` on the NCCL worker at tiny sizes, several
# dtypes, in place and not: each result ok and verified with finite figures, or skipped for a
# stated reason other than the absence of a device (no in-place form). On a node with one GPU,
# two ranks must skip ("NCCL needs one GPU per rank") and one rank runs everything instead.
# Then the test-only fault switch: the corrupting rank is named and the result is invalid.
# Without a visible device: exit 77 (skipped) with the reason, never a pass.
source "$(dirname "$0")/lib.sh"
WORKER="$(dirname "$CONVERGE")/converge-worker-nccl"
[ -x "$WORKER" ] || { echo "skipped: built without NCCL (no $WORKER)"; exit 77; }
command -v mpirun >/dev/null || { echo "skipped: no mpirun (Debian package openmpi-bin)"; exit 77; }
cd "$TMP"
IDS="allreduce allgather reduce_scatter broadcast reduce alltoall sendrecv"
POLICY=(--warmup 1 --min-reps 3 --max-reps 5 --min-time 0 --budget 5 --energy none)

# run NP ID PARAMS...: one instance on NP ranks; rank 0's result event goes to result.json.
run() {
  local np=$1 id=$2; shift 2
  local params=()
  for p in "$@"; do params+=(-p "$p"); done
  mpirun --allow-run-as-root --oversubscribe -np "$np" ${CORRUPT:+-x CONVERGE_TEST_CORRUPT_RANK} \
    "$WORKER" -b "collectives.nccl.$id" "${params[@]}" "${POLICY[@]}" > events.jsonl 2> stderr.txt \
    || { cat events.jsonl stderr.txt >&2; fail "mpirun -np $np $id $*: exit status $?"; }
  /usr/bin/python3 -c '
import json, sys
r = [json.loads(l)["result"] for l in open("events.jsonl") if l.startswith("{") and "\"result\"" in l]
assert len(r) == 1, f"{len(r)} result events"
json.dump(r[0], open("result.json", "w"))' || { cat events.jsonl stderr.txt >&2; fail "no result: $id $*"; }
}
field() { /usr/bin/python3 -c 'import json,sys; r=json.load(open("result.json")); print(eval(sys.argv[1]))' "$1"; }

run 1 allreduce size=8
if [ "$(field 'r["status"]')" = skipped ] && field 'r["reason"]' | grep -q "no CUDA device visible"; then
  echo "skipped: $(field 'r["reason"]')"
  exit 77
fi

# ok and verified with figures, or skipped for a reason that is not the device's absence.
check_ok() {
  /usr/bin/python3 - <<'PY' || { cat result.json >&2; echo >&2; fail "result"; }
import json, math, sys
r = json.load(open("result.json"))
what = f'{r["benchmark"]} {r["params"]} ranks {r.get("ranks", {}).get("count", 1)}'
if r["status"] == "skipped":
    assert "no CUDA device" not in r["reason"], what
    assert r["params"]["in_place"] == "true" and "no in-place form" in r["reason"], (what, r["reason"])
    print("skipped:", what, r["reason"])
    sys.exit(0)
assert r["status"] == "ok", (what, r["status"], r["reason"])
assert r["verification"]["status"] == "passed", (what, r["verification"])
assert r["timer"]["name"] == "cuda_event", what
names = [m["name"] for m in r["metrics"]]
assert names == ["latency", "algbw", "busbw"], (what, names)
for m in r["metrics"]:
    assert m["value"] is not None and math.isfinite(m["value"]) and m["value"] >= 0, (what, m)
assert r["metrics"][0]["value"] > 0 and r["metrics"][1]["value"] > 0, what
for k in ("operation", "rank_placement", "nccl_version", "bus_factor", "transport"):
    assert k in r["notes"], (what, k)
print(f'ok: {what}: latency {r["metrics"][0]["value"] * 1e6:.2f} us, busbw {r["metrics"][2]["value"] / 1e9:.3f} GB/s')
PY
}

run 2 allreduce size=8
if [ "$(field 'r["status"]')" = skipped ]; then
  reason=$(field 'r["reason"]')
  echo "$reason" | grep -q "NCCL needs one GPU per rank" || fail "2 ranks skipped for another reason: $reason"
  echo "2 ranks: $reason; running on 1 rank"
  NP=1
else
  NP=2
fi
for id in $IDS; do
  run "$NP" "$id" size=1KiB && check_ok
  run "$NP" "$id" size=64KiB dtype=bfloat16 in_place=true check_every=2 && check_ok
  run "$NP" "$id" size=1MiB dtype=half iterations=5 && check_ok
  run "$NP" "$id" size=100 dtype=double in_place=true && check_ok
  run "$NP" "$id" size=12KiB dtype=int && check_ok
done

# The fault switch: the last rank corrupts one element it received; the result names it.
bad=$((NP - 1))
export CONVERGE_TEST_CORRUPT_RANK=$bad
CORRUPT=1
for id in allreduce allgather alltoall sendrecv; do
  run "$NP" "$id" size=4KiB check_every=1
  /usr/bin/python3 - "$bad" "$NP" <<'PY' || { cat result.json >&2; fail "corruption on rank $bad not reported: $id"; }
import json, sys
bad, np = sys.argv[1], int(sys.argv[2])
r = json.load(open("result.json"))
assert r["status"] == "invalid", (r["status"], r["reason"])
prefix = f"verification failed: rank {bad}: element " if np > 1 else "verification failed: element "
assert r["reason"].startswith(prefix), r["reason"]
assert "fault_injection" in r["notes"] and not r["metrics"], r
print(r["benchmark"], "->", r["reason"])
PY
done
