#!/usr/bin/env bash
# Bad site and suite files: a message naming the file, the line and the problem, exit status
# 2, and nothing launched (no run document, no worker process).
source "$(dirname "$0")/lib.sh"
cd "$TMP"
good_site() { cat <<'YAML'
name: t
partitions:
  - name: cpu
    launcher: local
    resources: {nodes: 1, tasks_per_node: 1}
YAML
}
good_site >site.yaml
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.triad\n    params: {n: 64k}\n' >suite.yaml
# expect_bad FILE_SHOWN TEXT ARGS...: exit 2, message has FILE_SHOWN and TEXT, nothing written
expect_bad() {
  local shown=$1 text=$2; shift 2
  expect_status 2 "$CONVERGE" run "$@" --out "$TMP/never.json"
  expect_output "$shown"
  expect_output "$text"
  [ ! -e "$TMP/never.json" ] || fail "a run document was written for bad input: $*"
  [ -z "$(ls -A "$TMP" | grep -v -e '\.yaml$' -e '^out$')" ] || fail "files left behind: $(ls -A "$TMP")"
}
# sites
printf 'name: t\npartitions:\n  - name: cpu\n    launcher: [local\n' >syntax.yaml
expect_bad "syntax.yaml:5" "YAML syntax error" --site syntax.yaml --suite suite.yaml
good_site | sed 's/    launcher: local/    launchr: local/' >key.yaml
expect_bad "key.yaml:4: unknown key 'launchr' in a partition (did you mean 'launcher'?)" "" --site key.yaml --suite suite.yaml
good_site | sed 's/launcher: local/launcher: pbs/' >launcher.yaml
expect_bad "launcher.yaml:4: unknown launcher 'pbs'" "local, mpirun, slurm" --site launcher.yaml --suite suite.yaml
expect_bad "site 't' (site.yaml) has no partition 'gpu'" "partitions: cpu" --site site.yaml --partition gpu --suite suite.yaml
expect_bad "has no partition 'cpus' (did you mean cpu?)" "" --site site.yaml --partition cpus --suite suite.yaml
good_site | sed 's/nodes: 1,/nodes: 0,/' >nodes.yaml
expect_bad "nodes.yaml:5: nodes must be an integer > 0" "" --site nodes.yaml --suite suite.yaml
cat >ref.yaml <<'YAML'
name: t
partitions:
  - name: cpu
    reference:
      micro.stream.triadd:
        bandwidth: [1e9, -0.1, null, B/s]
YAML
expect_bad "ref.yaml:5: partition 'cpu': reference for unknown benchmark 'micro.stream.triadd'" "did you mean micro.stream.triad" --site ref.yaml --suite suite.yaml
sed 's/triadd/triad/; s/bandwidth:/bandwith:/' ref.yaml >metric.yaml
expect_bad "metric.yaml:6: micro.stream.triad has no metric 'bandwith'" "bandwidth" --site metric.yaml --suite suite.yaml
sed 's/triadd/triad/; s#B/s#GFLOP/s#' ref.yaml >unit.yaml
expect_bad "unit.yaml:6: micro.stream.triad bandwidth: unit 'GFLOP/s' is not B/s" "" --site unit.yaml --suite suite.yaml
expect_bad "no site 'clustr'" "did you mean cluster" --site clustr --suite suite.yaml
# suites
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.triad\n    params: {n: 12QB}\n' >size.yaml
expect_bad "size.yaml:3: micro.stream.triad:" "'12QB'" --suite size.yaml
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.triad\n    rank: 2\n' >ekey.yaml
expect_bad "ekey.yaml:4: unknown key 'rank' in a suite entry (did you mean 'ranks'?)" "" --suite ekey.yaml
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.trial\n' >bench.yaml
expect_bad "bench.yaml:3: unknown benchmark 'micro.stream.trial'" "did you mean micro.stream.triad" --suite bench.yaml
printf 'name: s\npolicy: {budget: 3}\nbenchmarks:\n  - benchmark: micro.stream.triad\n' >policy.yaml
expect_bad "policy.yaml:2: unknown key 'budget' in a policy (did you mean 'budget_s'?)" "" --suite policy.yaml
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.triad\n    ranks: none\n' >ranks.yaml
expect_bad "ranks.yaml:4: ranks is a positive integer or 'all'" "" --suite ranks.yaml
printf 'name: s\nbenchmarks:\n  - benchmark: micro.stream.triad\n    params: {n: {from: 1M, to: 1K, factor: 0.5}}\n' >sweep.yaml
expect_bad "sweep.yaml:4: parameter 'n'" "factor" --suite sweep.yaml
# a good pair plans and launches nothing with --dry-run either
expect_status 0 "$CONVERGE" run --site site.yaml --suite suite.yaml --dry-run --out "$TMP/never.json"
expect_output "[0] micro.stream.triad n=64k"
[ ! -e "$TMP/never.json" ] || fail "--dry-run wrote a run document"
echo "bad config ok"
