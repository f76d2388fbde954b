#!/usr/bin/env bash
# The MPI benchmarks through the driver with 2 and 4 ranks (the local site launches them with
# `mpirun --oversubscribe`): one result per instance, from rank 0, with every rank's time in
# it; every figure present, finite and verified. Then the test-only fault switch: one rank
# corrupts what it received, and the result is invalid naming that rank.
source "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null || { echo "SKIP: no mpirun (Debian package openmpi-bin)"; exit 77; }
[ -x "$(dirname "$CONVERGE")/converge-worker-mpi" ] || { echo "SKIP: built without MPI (no converge-worker-mpi)"; exit 77; }
cd "$TMP"
expect_status 0 "$CONVERGE" run "$SRC/tests/integration/mpi_tiny.yaml" --out run.json --energy none
$VALIDATE run.json || fail "document"
/usr/bin/python3 - run.json <<'PY' || fail "figures"
import json, math, sys
doc = json.load(open(sys.argv[1]))
planned = {p["instance"]: p for p in doc["plan"]}
by_instance = {}
for r in doc["results"]:
    by_instance.setdefault(r["instance"], []).append(r)
assert set(by_instance) == set(planned), "an instance has no result"
for i, rs in by_instance.items():
    assert len(rs) == 1, f"instance {i}: {len(rs)} results (rank 0 alone reports)"
    r, p = rs[0], planned[i]
    what = f'{r["benchmark"]} {r["params"]} ranks {p["ranks"]}'
    assert r["rank"] == 0, what
    assert r["status"] == "ok", f'{what}: {r["status"]}: {r["reason"]}'
    assert r["verification"]["status"] == "passed", what
    assert r["ranks"]["count"] == p["ranks"], what
    assert 0 < r["ranks"]["min_s"] <= r["ranks"]["avg_s"] <= r["ranks"]["max_s"], what
    for m in r["metrics"]:
        assert m["value"] is not None and math.isfinite(m["value"]) and m["value"] > 0, (what, m)
    names = [m["name"] for m in r["metrics"]]
    assert names[0] in ("latency", "bandwidth"), (what, names)
    if r["benchmark"].split(".")[-1] in ("allreduce", "reduce", "bcast", "allgather", "alltoall", "reduce_scatter", "gather", "scatter"):
        assert names == ["latency", "algbw", "busbw"], (what, names)
        assert r["work"]["bus_bytes"] > 0, what
        assert "rank_placement" in r["notes"] and r["notes"]["ranks"] == str(p["ranks"]), what
print(len(doc["results"]), "MPI results, all verified; ranks 2 and 4")
PY
cat > corrupt.yaml <<'YAML'
name: corrupt
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 1}
benchmarks:
  - benchmark: collectives.mpi.allreduce
    params: {size: 64KiB, iterations: 10}
    ranks: 4
  - benchmark: collectives.mpi.allgather
    params: {size: 64KiB, iterations: 10}
    ranks: 2
YAML
export CONVERGE_TEST_CORRUPT_RANK=1
expect_status 1 "$CONVERGE" run corrupt.yaml --out bad.json --energy none
unset CONVERGE_TEST_CORRUPT_RANK
$VALIDATE bad.json --expect-status collectives.mpi.allreduce=invalid --expect-status collectives.mpi.allgather=invalid || fail "corrupted document"
/usr/bin/python3 - bad.json <<'PY' || fail "corruption not named"
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    assert r["status"] == "invalid", r
    assert r["reason"].startswith("verification failed: rank 1: element "), r["reason"]
    assert "fault_injection" in r["notes"], r["notes"]
    assert not r["metrics"], "an invalid result carries no figure"
    print(r["benchmark"], "->", r["reason"])
PY
