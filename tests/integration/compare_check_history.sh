#!/usr/bin/env bash
# compare, check and history on documents with known answers: a run against itself is
# unchanged everywhere; a candidate whose DGEMM samples are 10% longer, with another kernel,
# is slower there (exit 1) with the change named on its line; a level shift in a series of
# stored runs is found at the right run; acceptance checks give pass, fail and missing, and
# JUnit XML that Jenkins' and Ant's schemas accept.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
cat >suite.yaml <<'YAML'
name: known
policy: {warmup: 1, min_reps: 30, max_reps: 30, min_time_s: 0, ci_target: 0, budget_s: 5}
benchmarks:
  - benchmark: micro.stream.triad
    params: {n: 64k}
  - benchmark: micro.gemm.dgemm
    params: {n: 128, threads: 1}
YAML
expect_status 0 "$CONVERGE" run suite.yaml --out base.json

expect_status 0 "$CONVERGE" compare base.json base.json
[ "$(grep -c ' unchanged ' "$TMP/out")" = 2 ] || { cat "$TMP/out"; fail "a run against itself: not unchanged everywhere"; }

# Known answers, whatever the machine's noise: DGEMM times drawn at 1 ms +- 0.5% in the
# baseline and 1.1 ms +- 0.5% in the candidate; triad samples identical; a new kernel.
/usr/bin/python3 - base.json known.json cand.json <<'PY'
import copy, json, random, sys
doc = json.load(open(sys.argv[1]))
rnd = random.Random(7)
def with_dgemm(d, scale):
    for r in d["results"]:
        if r["benchmark"] == "micro.gemm.dgemm":
            r["samples_s"] = [1e-3 * scale * (1 + rnd.gauss(0, 0.005)) for _ in r["samples_s"]]
    return d
json.dump(with_dgemm(copy.deepcopy(doc), 1.0), open(sys.argv[2], "w"))
cand = with_dgemm(copy.deepcopy(doc), 1.1)
cand["run_id"] = doc["run_id"][:-6] + "c0ffee"
cand["inventory"]["kernel"] = "6.99.0-test"
json.dump(cand, open(sys.argv[3], "w"))
PY
expect_status 1 "$CONVERGE" compare known.json cand.json
expect_output "kernel: "
grep -E '^micro.gemm.dgemm .* slower .*changed: kernel' "$TMP/out" >/dev/null || { cat "$TMP/out"; fail "dgemm not slower with its cause"; }
grep -E '^micro.stream.triad .* unchanged ' "$TMP/out" >/dev/null || { cat "$TMP/out"; fail "triad not unchanged"; }
expect_status 1 "$CONVERGE" compare known.json cand.json --json
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = {i["instance"].split()[0]: i["verdict"] for i in d["instances"]}
assert v == {"micro.stream.triad": "unchanged", "micro.gemm.dgemm": "slower"}, v
assert d["slower"] == 1 and any(c["key"] == "kernel" for c in d["changed"]), d' "$TMP/out" || fail "compare --json"

# History: twelve stored runs, the triad level moving up 10% from the seventh.
/usr/bin/python3 - base.json <<'PY'
import copy, json, sys
doc = json.load(open(sys.argv[1]))
for i in range(12):
    d = copy.deepcopy(doc)
    d["run_id"] = f"202611{10 + i:02d}T000000Z-{i:06x}"
    d["started_at"] = f"2026-11-{10 + i:02d}T00:00:00.000Z"
    for r in d["results"]:
        for m in r["metrics"]:
            m["value"] = (100e9 if i < 6 else 110e9) * (1 + 0.003 * ((i * 7) % 5 - 2))
    json.dump(d, open(f"h{i:02d}.json", "w"))
PY
export CONVERGE_DB="$TMP/history.db"  # these twelve runs only
expect_status 0 "$CONVERGE" results import h*.json
expect_status 0 "$CONVERGE" history micro.stream.triad
grep -q "20261116T000000Z-000006 .*level moved" "$TMP/out" || { cat "$TMP/out"; fail "the level shift is not at the seventh run"; }
[ "$(grep -c 'level moved' "$TMP/out")" = 1 ] || { cat "$TMP/out"; fail "expected exactly one change point"; }

# Partitions side by side: the same suite on "cpu" and on a "gpu" twice as fast.
export CONVERGE_DB="$TMP/partitions.db"
/usr/bin/python3 - known.json <<'PY'
import copy, json, sys
doc = json.load(open(sys.argv[1]))
for name, scale, tag in (("cpu", 1.0, "aaaaaa"), ("gpu", 2.0, "bbbbbb")):
    d = copy.deepcopy(doc)
    d["run_id"] = doc["run_id"][:-6] + tag
    d["partition"] = name
    for r in d["results"]:
        for m in r["metrics"]:
            m["value"] = 100e9 * scale
    json.dump(d, open(f"p-{name}.json", "w"))
PY
expect_status 0 "$CONVERGE" results import p-cpu.json p-gpu.json
expect_status 0 "$CONVERGE" compare --partitions cpu,gpu --suite known
grep -E '^micro.stream.triad n=64k .*100.0 GB/s \(1.00x\) .*200.0 GB/s \(2.00x\) .*not measured' "$TMP/out" >/dev/null \
  || { cat "$TMP/out"; fail "partition comparison"; }
expect_status 2 "$CONVERGE" compare --partitions cpu,accel --suite known
expect_output "no complete run of known on partition 'accel'"

# Acceptance: one reference met, one not, one for an instance the run does not have.
cat >site.yaml <<'YAML'
name: accept
partitions:
  - name: local
    reference:
      micro.stream.triad n=64k:
        bandwidth: [1, -0.5, null, MB/s]
      micro.gemm.dgemm threads=1:
        flop_rate: [1, -0.1, 0.1, PFLOP/s]
      micro.stream.copy:
        bandwidth: [1, -0.1, null, GB/s]
YAML
expect_status 1 "$CONVERGE" check base.json --site site.yaml --format junit --out junit.xml
expect_output "1 passed, 1 failed, 1 missing"
for xsd in "$SRC"/third_party/junit-schemas/jenkins-junit.xsd "$SRC"/third_party/junit-schemas/JUnit.xsd; do
  [ -f "$xsd" ] || fail "$xsd absent: scripts/install-deps.sh fetches it"
  xmllint --noout --schema "$xsd" junit.xml || fail "junit.xml does not validate against $xsd"
done
grep -q 'type="below_reference"' junit.xml || fail "no failure element"
expect_status 1 "$CONVERGE" check base.json --site site.yaml --format md
expect_output "| micro.stream.triad n=64k | bandwidth |"
echo "compare, history and check ok"
