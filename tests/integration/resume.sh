#!/usr/bin/env bash
# A run killed with SIGINT keeps every result it had, marked incomplete; --resume runs only the
# missing instances and leaves the earlier results untouched.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >suite.yaml <<'YAML'
name: resumable
policy: {warmup: 1, min_reps: 5, min_time_s: 0.5, ci_target: 0, budget_s: 0.8}
benchmarks:
  - benchmark: micro.stream.copy
    params: {n: 2M}
  - benchmark: micro.stream.scale
    params: {n: 2M}
  - benchmark: micro.stream.add
    params: {n: 2M}
  - benchmark: micro.stream.triad
    params: {n: 2M}
  - benchmark: micro.stream.dot
    params: {n: 2M}
YAML
"$CONVERGE" run suite.yaml --out run.json >out 2>&1 &
pid=$!
count() { /usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' run.json 2>/dev/null || echo 0; }
for _ in $(seq 200); do [ "$(count)" -ge 1 ] && break; sleep 0.05; done
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 130 ] || { cat out; fail "interrupted run: exit status $rc, expected 130"; }
grep -q -- "--resume run.json" out || { cat out; fail "no hint to resume"; }
$VALIDATE run.json || fail "interrupted document invalid"
cp run.json before.json
/usr/bin/python3 - before.json <<'PY' || fail "interrupted document"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["complete"] is False
n = len(doc["results"])
assert 1 <= n < 5, n
assert all(r["status"] == "ok" for r in doc["results"]), [r["reason"] for r in doc["results"]]
PY
expect_status 2 "$CONVERGE" run --resume run.json --param n=1M
expect_output "--resume runs the rest of a run with that run's own settings; --param cannot be given with it"
expect_status 0 "$CONVERGE" run --resume run.json --dry-run
expect_output "instance(s):"
/usr/bin/python3 - before.json "$TMP/out" <<'PY' || fail "dry run of a resume"
import json, sys
doc = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
done = {r["instance"] for r in doc["results"]}
for p in doc["plan"]:
    planned = f"[{p['instance']}] {p['benchmark']}" in out
    assert planned == (p["instance"] not in done), (p, out)
PY
cmp -s run.json before.json || fail "--dry-run changed the run document"
expect_status 0 "$CONVERGE" run --resume run.json
expect_output "resuming run"
$VALIDATE run.json || fail "resumed document invalid"
/usr/bin/python3 - before.json run.json <<'PY' || fail "resumed document"
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
assert after["complete"] is True
assert after["run_id"] == before["run_id"]
n = len(before["results"])
assert after["results"][:n] == before["results"], "a result written before was rewritten"
assert sorted(r["instance"] for r in after["results"]) == [0, 1, 2, 3, 4]
assert len(after["launch"]["attempts"]) == 2
print("resume ok:", n, "results kept,", len(after["results"]) - n, "added")
PY
expect_status 0 "$CONVERGE" run --resume run.json
expect_output "nothing to resume"
# --work-dir: the run works in its own RUN_ID subdirectory and removes only that.
mkdir wd && touch wd/mine
expect_status 0 "$CONVERGE" run micro.stream.triad --param n=64k --budget 0.2 --min-time 0 --work-dir wd --out wd.json
[ "$(ls -A wd)" = mine ] || fail "--work-dir: left $(ls -A wd) (expected only the user's file)"
