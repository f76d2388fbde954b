#!/usr/bin/env bash
# The MPI worker under the Slurm launcher: sbatch with one srun step per instance, the
# partition's `slurm: {mpi: pmix}` giving the ranks their PMI; 2 ranks on one node (the
# multiple-slurmd nodes of the test cluster share /tmp, where the pmix plugin keeps per-step
# directories that two nodes of one host cannot both create). One result per instance, from
# rank 0, verified, with both ranks' placement on the Slurm node.
source "$(dirname "$0")/lib.sh"
[ -x "$(dirname "$CONVERGE")/converge-worker-mpi" ] || { echo "SKIP: built without MPI (no converge-worker-mpi)"; exit 77; }
srun --mpi=list 2>&1 | grep -qw pmix || { echo "SKIP: this Slurm has no mpi/pmix plugin"; exit 77; }
cat >mpisite.yaml <<'YAML'
name: testcluster-mpi
partitions:
  - name: debug
    launcher: slurm
    slurm: {partition: debug, time: "10:00", mpi: pmix}
    resources: {nodes: 1, tasks_per_node: 2, cpus_per_task: 1}
YAML
cat >suite.yaml <<'YAML'
name: slurm-mpi
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.5}
benchmarks:
  - benchmark: collectives.mpi.allreduce
    params: {size: [8, 64KiB], iterations: 20}
  - benchmark: collectives.mpi.latency
    params: {size: 8, iterations: 100}
YAML
expect_status 0 "$CONVERGE" run --site mpisite.yaml --suite suite.yaml --dry-run
expect_output "--ntasks=2 --cpus-per-task=1 --mpi=pmix"
expect_status 0 "$CONVERGE" run --site mpisite.yaml --suite suite.yaml --out run.json --energy none
expect_output "COMPLETED on n1"
$VALIDATE run.json || fail "document"
/usr/bin/python3 - run.json <<'PY' || fail "MPI results under Slurm"
import json, sys
doc = json.load(open(sys.argv[1]))
assert len(doc["results"]) == 3, [r["benchmark"] for r in doc["results"]]
for r in doc["results"]:
    what = f'{r["benchmark"]} {r["params"]}'
    assert r["status"] == "ok" and r["verification"]["status"] == "passed", (what, r["reason"])
    assert r["rank"] == 0 and r["host"] == "n1", (what, r["rank"], r["host"])
    assert r["ranks"]["count"] == 2, what
    assert r["notes"]["rank_placement"].startswith("0: n1 ") and "; 1: n1 " in r["notes"]["rank_placement"], r["notes"]
print("MPI under Slurm ok:", [(r["benchmark"], r["params"]["size"]) for r in doc["results"]])
PY
