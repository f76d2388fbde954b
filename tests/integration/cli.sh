#!/usr/bin/env bash
# list, info, suites and --help answer; info shows the inventory with the peak model.
source "$(dirname "$0")/lib.sh"
expect_status 0 "$CONVERGE" list
expect_output "micro.stream.triad"
expect_output "micro.gemm.dgemm"
expect_status 0 "$CONVERGE" info
expect_output "peak model:"
expect_output "cpu.fp64"
expect_output "blas"
expect_status 0 "$CONVERGE" info --json
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["inventory"]["memory"]["total_bytes"]>0 and d["inventory"]["blas"]["corename"]' "$TMP/out" || fail "info --json"
expect_status 0 "$CONVERGE" suites
for s in quick node acceptance regression procurement storage; do expect_output "$s "; done
expect_status 0 "$CONVERGE" sites
expect_output "local "
expect_output "cluster "
expect_output "laptop "
expect_status 0 "$CONVERGE" sites --site cluster
expect_output "launcher slurm, 4 node(s) x 1 task(s), 40 CPUs/task"
# every built-in suite plans against the workers this build has
for s in quick node acceptance regression procurement storage; do expect_status 0 "$CONVERGE" run "$s" --dry-run; done
expect_status 0 "$CONVERGE" run --help
expect_output "--param"
echo "cli ok"
# Default threads: one per core, but no more than the task may use (affinity, Slurm's CPUs).
worker="$(dirname "$CONVERGE")/converge-worker-cpu"
threads_of() { "$@" -b micro.stream.triad -p n=64k --warmup 0 --min-reps 2 --budget 0.1 2>/dev/null | tail -1 |
  /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["result"]["params"]["threads"])'; }
[ "$(SLURM_CPUS_PER_TASK=1 threads_of "$worker")" = 1 ] || fail "SLURM_CPUS_PER_TASK=1 not honoured"
[ "$(threads_of taskset -c 0 "$worker")" = 1 ] || fail "a one-CPU affinity mask not honoured"
echo "worker thread defaults ok"
