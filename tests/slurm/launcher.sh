#!/usr/bin/env bash
# The Slurm launcher against a real Slurm: the plan and sbatch script (--dry-run), a submitted
# job followed to its end and collected, a crashing and a timed-out benchmark failing their own
# step while the others run, and srun inside an existing allocation.
source "$(dirname "$0")/lib.sh"
cat >suite.yaml <<'YAML'
name: slurm-faults
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.3}
benchmarks:
  - benchmark: micro.stream.triad
    params: {n: 64k}
  - benchmark: test.crash.segv
  - benchmark: test.hang.sleep
  - benchmark: micro.gemm.dgemm
    params: {n: 128, threads: 1}
YAML
expect_status 0 "$CONVERGE" run --site site.yaml --partition debug --suite suite.yaml --timeout 4 --dry-run
for want in "launcher: slurm (sbatch)" "#SBATCH --nodes=4" "#SBATCH --ntasks-per-node=1" "#SBATCH --cpus-per-task=1" \
            "#SBATCH --partition=debug" "#SBATCH --time=10:00" "export CONVERGE_TEST_MARK=from-site" \
            "step 0 4 --nodes=1 --ntasks=1 --cpus-per-task=1" "--only 3"; do
  expect_output "$want"
done
[ -z "$(squeue -h)" ] || fail "--dry-run submitted a job"

expect_status 1 "$CONVERGE" run --site site.yaml --partition debug --suite suite.yaml --timeout 4 --out run.json
expect_output "submitted slurm job"
expect_output "COMPLETED on n[1-4]: 4/4 instances have results"
$VALIDATE run.json --expect-status micro.stream.triad=ok --expect-status test.crash.segv=failed \
  --expect-status test.hang.sleep=failed --expect-status micro.gemm.dgemm=ok || fail "document"
/usr/bin/python3 - run.json <<'PY' || fail "slurm document"
import json, sys
doc = json.load(open(sys.argv[1]))
r = {x["benchmark"]: x for x in doc["results"]}
assert "without a result" in r["test.crash.segv"]["reason"], r["test.crash.segv"]["reason"]
assert "timed out" in r["test.hang.sleep"]["reason"], r["test.hang.sleep"]["reason"]
assert r["micro.stream.triad"]["host"].startswith("n"), r["micro.stream.triad"]["host"]
a = doc["launch"]["attempts"][0]
assert a["mode"] == "sbatch" and a["job_id"] and a["job_state"] == "COMPLETED", a
assert a["nodelist"].startswith("n"), a
assert a["script"].endswith("job.sbatch") and a["commands"][0].startswith("sbatch --parsable"), a
assert not any("launching host" in w for w in doc["inventory"]["warnings"]), "the node's own inventory replaced it"
env = doc["inventory"]["environment"]   # the compute node's, from inside the job step
assert env.get("SLURM_JOB_ID") == a["job_id"], env
assert env.get("SLURMD_NODENAME", env.get("SLURM_NODELIST", "")).startswith("n"), env
assert doc["complete"] is True
print("sbatch ok: job", a["job_id"], "on", a["nodelist"])
PY

# Inside an allocation (SLURM_JOB_ID set), the driver uses srun directly.
expect_status 0 salloc -N 2 -p debug "$CONVERGE" run micro.stream.triad --site site.yaml --partition debug \
  --param n=64k --warmup 1 --min-reps 3 --min-time 0 --budget 0.3 --out alloc.json
$VALIDATE alloc.json --expect-status micro.stream.triad=ok || fail "allocation document"
/usr/bin/python3 - alloc.json <<'PY' || fail "srun document"
import json, sys
doc = json.load(open(sys.argv[1]))
a = doc["launch"]["attempts"][0]
assert a["mode"] == "srun" and a["job_id"], a
assert a["commands"][0].startswith("srun --nodes=1 --ntasks=1"), a["commands"]
assert a["nodelist"], a
print("srun in allocation ok:", a["commands"][0][:60])
PY
