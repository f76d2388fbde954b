#!/usr/bin/env bash
# The mpirun launcher with 2 and 4 ranks on this machine: every rank runs its instance and
# reports its own result; the driver merges them into one valid run document.
source "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null || { echo "SKIP: no mpirun (Debian package openmpi-bin)"; exit 77; }
cd "$TMP"
cat >site.yaml <<'YAML'
name: t
partitions:
  - name: mp
    launcher: mpirun
    resources: {nodes: 1, tasks_per_node: 4}
    environment:
      variables: {CONVERGE_TEST_MARK: mpirun-var}
YAML
cat >suite.yaml <<'YAML'
name: ranks
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.2}
benchmarks:
  - benchmark: micro.stream.triad
    params: {n: 64k, threads: 1}
    ranks: 2
  - benchmark: micro.stream.copy
    params: {n: 64k, threads: 1}
    ranks: 4
  - benchmark: micro.stream.dot
    partitions: [gpu]
YAML
expect_status 0 "$CONVERGE" run --site site.yaml --suite suite.yaml --dry-run
expect_output "mpirun -np 2"
expect_output "mpirun -np 4"
expect_output "not planned: micro.stream.dot: the suite runs it on gpu only"
expect_status 0 "$CONVERGE" run --site site.yaml --suite suite.yaml --out run.json
$VALIDATE run.json --expect-status micro.stream.triad=ok --expect-status micro.stream.copy=ok || fail "document"
/usr/bin/python3 - run.json <<'PY' || fail "ranks"
import json, sys
doc = json.load(open(sys.argv[1]))
ranks = {}
for r in doc["results"]:
    ranks.setdefault(r["benchmark"], []).append(r["rank"])
assert sorted(ranks["micro.stream.triad"]) == [0, 1], ranks
assert sorted(ranks["micro.stream.copy"]) == [0, 1, 2, 3], ranks
assert doc["launch"]["launcher"] == "mpirun"
cmds = doc["launch"]["attempts"][0]["commands"]
assert any(c.startswith("mpirun -np 2 ") for c in cmds) and any(c.startswith("mpirun -np 4 ") for c in cmds), cmds
assert all("-x CONVERGE_TEST_MARK" in c for c in cmds), cmds
assert [p["ranks"] for p in doc["plan"]] == [2, 4]
assert doc["complete"] is True
print("mpirun launcher ok:", {k: len(v) for k, v in ranks.items()})
PY
