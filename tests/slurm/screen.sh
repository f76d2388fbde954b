#!/usr/bin/env bash
# Node screening on the four-node test cluster: one job, one task per node, all at once; node
# n3 is made slow on purpose (its worker gets OpenBLAS's generic Prescott kernels, as a node
# with a wrong OPENBLAS_CORETYPE would) and must be named, and no other node.
source "$(dirname "$0")/lib.sh"
mkdir workers
cat >workers/converge-worker-cpu <<WRAP
#!/bin/bash
if [ "\${SLURMD_NODENAME:-}" = n3 ]; then export OPENBLAS_CORETYPE=Prescott; fi
exec "$(dirname "$CONVERGE")/converge-worker-cpu" "\$@"
WRAP
chmod +x workers/converge-worker-cpu
cat >suite.yaml <<'YAML'
name: screen
policy: {warmup: 1, min_reps: 5, min_time_s: 2, ci_target: 0, budget_s: 3}
benchmarks:
  - benchmark: micro.gemm.dgemm
    params: {n: 1024, threads: 1}
YAML
CONVERGE_WORKERS=$TMP/workers expect_status 1 "$CONVERGE" screen --site site.yaml --partition debug --suite suite.yaml --out screen.json
expect_output "node screening: 4 node(s) of partition 'debug': n1 n2 n3 n4"
expect_output "OUTLIER n3: micro.gemm.dgemm n=1024 threads=1: flop_rate"
[ "$(grep -c '^OUTLIER' "$TMP/out")" = 1 ] || { cat "$TMP/out"; fail "expected exactly one outlier"; }
# ... and what sets it apart, from the four nodes' inventories
expect_output "n3 differs from most nodes in: "
expect_output "blas.corename = Prescott (most nodes: "
expect_output "environment.OPENBLAS_CORETYPE = Prescott (most nodes: (unset))"
$VALIDATE screen.json --expect-status micro.gemm.dgemm=ok || fail "screening document"
/usr/bin/python3 - screen.json <<'PY' || fail "screening document content"
import json, sys
doc = json.load(open(sys.argv[1]))
hosts = sorted(r["host"] for r in doc["results"])
assert hosts == ["n1", "n2", "n3", "n4"], hosts
assert doc["plan"][0]["placement"] == "per_node" and doc["plan"][0]["ranks"] == 4
assert len(doc["launch"]["attempts"]) == 1, "one job for all nodes"
assert sorted(doc["node_inventories"]) == ["n1", "n2", "n3", "n4"], list(doc["node_inventories"])
assert doc["node_inventories"]["n3"]["blas"]["corename"] == "Prescott"
print("screening ok")
PY
# Without the slow node, nobody is an outlier.
expect_status 0 "$CONVERGE" screen --site site.yaml --partition debug --suite suite.yaml --out clean.json
expect_output "no outlier node"
