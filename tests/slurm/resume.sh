#!/usr/bin/env bash
# A Slurm job killed mid-run (scancel, as a node failure or an operator would) leaves a run
# document with what was measured, marked incomplete; --resume submits only the rest. A
# resume interrupted by SIGINT cancels its job and keeps its results; a last resume finishes.
source "$(dirname "$0")/lib.sh"
cat >suite.yaml <<'YAML'
name: slurm-resume
policy: {warmup: 1, min_reps: 5, min_time_s: 1.0, ci_target: 0, budget_s: 1.2}
benchmarks:
  - benchmark: micro.stream.*
    backends: [cpu]
    params: {n: 1M}
YAML
results() { /usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' run.json 2>/dev/null || echo 0; }
wait_results() { for _ in $(seq 300); do [ "$(results)" -ge "$1" ] && return 0; sleep 0.1; done; fail "no result $1 after 30 s"; }
last_job() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["launch"]["attempts"][-1]["job_id"])' run.json; }

# 1. The job is cancelled from outside.
"$CONVERGE" run --site site.yaml --partition debug --suite suite.yaml --out run.json >out1 2>&1 &
pid=$!
wait_results 1
job=$(last_job)
[ -n "$job" ] || fail "no job id in the run document"
scancel "$job"
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 130 ] || { cat out1; fail "cancelled job: exit status $rc, expected 130"; }
grep -q "CANCELLED" out1 || { cat out1; fail "the job's end state is not shown"; }
cp run.json first.json
$VALIDATE run.json || fail "incomplete document invalid"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["complete"] is False and 1 <= len(d["results"]) < 5, (d["complete"], len(d["results"]))
assert d["launch"]["attempts"][0]["job_state"] == "CANCELLED"' run.json || fail "incomplete document"

# 2. A resume interrupted by SIGINT cancels its own job.
n1=$(results)
"$CONVERGE" run --resume run.json >out2 2>&1 &
pid=$!
wait_results $((n1 + 1))
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 130 ] || { cat out2; fail "interrupted resume: exit status $rc, expected 130"; }
job2=$(last_job)
[ "$(job_state "$job2")" = CANCELLED ] || fail "SIGINT left job $job2 $(job_state "$job2")"
cp run.json second.json
$VALIDATE run.json || fail "document after the interrupted resume invalid"

# 3. The last resume runs only what is missing.
expect_status 0 "$CONVERGE" run --resume run.json
expect_output "resuming run"
$VALIDATE run.json || fail "resumed document invalid"
/usr/bin/python3 - first.json second.json run.json <<'PY' || fail "resumed document"
import json, sys
first, second, after = (json.load(open(p)) for p in sys.argv[1:4])
for earlier in (first, second):
    n = len(earlier["results"])
    assert after["results"][:n] == earlier["results"], "a result written before was rewritten"
assert after["complete"] is True
assert sorted(r["instance"] for r in after["results"]) == list(range(len(after["plan"]))), "each instance once"
jobs = [a["job_id"] for a in after["launch"]["attempts"]]
assert len(jobs) == 3 and len(set(jobs)) == 3, jobs
print("slurm resume ok:", len(first["results"]), "+", len(second["results"]) - len(first["results"]), "+",
      len(after["results"]) - len(second["results"]), "results by jobs", jobs)
PY
