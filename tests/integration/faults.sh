#!/usr/bin/env bash
# A wrong kernel is reported invalid, never as a figure; a crashing and a hanging benchmark
# fail their own instance and the run goes on to the next.
source "$(dirname "$0")/lib.sh"
cat >"$TMP/suite.yaml" <<'YAML'
name: faults
policy: {warmup: 1, min_reps: 3, min_time_s: 0, budget_s: 0.3}
benchmarks:
  - benchmark: test.broken.triad
  - benchmark: test.crash.segv
  - benchmark: test.hang.sleep
  - benchmark: micro.stream.triad
    params: {n: 64k}
YAML
expect_status 1 "$CONVERGE" run "$TMP/suite.yaml" --out "$TMP/run.json" --timeout 3
expect_output "invalid"
$VALIDATE "$TMP/run.json" --expect-status test.broken.triad=invalid --expect-status test.crash.segv=failed \
  --expect-status test.hang.sleep=failed --expect-status micro.stream.triad=ok || fail "document"
/usr/bin/python3 - "$TMP/run.json" <<'PY' || fail "fault details"
import json, sys
doc = json.load(open(sys.argv[1]))
r = {x["benchmark"]: x for x in doc["results"]}
b = r["test.broken.triad"]
assert b["metrics"] == [], "an invalid result must carry no figure"
assert "element 512" in b["reason"], b["reason"]
assert b["verification"]["status"] == "failed"
assert "signal 11" in r["test.crash.segv"]["reason"], r["test.crash.segv"]["reason"]
assert "timed out" in r["test.hang.sleep"]["reason"], r["test.hang.sleep"]["reason"]
assert r["micro.stream.triad"]["metrics"][0]["value"] > 0
assert doc["complete"] is True
print("faults ok")
PY
