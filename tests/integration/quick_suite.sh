#!/usr/bin/env bash
# The quick suite end to end, with a short repetition policy: every benchmark appears, every
# ok result is verified, and the document validates against results/run.schema.json.
source "$(dirname "$0")/lib.sh"
ids=$("$CONVERGE" list --json | /usr/bin/python3 -c 'import json,sys; print(",".join(b["id"] for b in json.load(sys.stdin) if b["id"].startswith("micro.")))')
[ -n "$ids" ] || fail "converge list shows no micro benchmarks"
expect_status 0 "$CONVERGE" run quick --out "$TMP/run.json" --warmup 1 --min-reps 3 --min-time 0 --budget 0.3
expect_output "run document: $TMP/run.json"
expect_output "micro.stream.triad"
$VALIDATE "$TMP/run.json" --expect-benchmarks "$ids" || fail "run document invalid"
/usr/bin/python3 - "$TMP/run.json" <<'PY' || fail "document content"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["complete"] is True
assert doc["inventory"]["cpu"]["cores"] >= 1
assert "cpu.fp64" in doc["peaks"]
by = {}
for r in doc["results"]:
    by.setdefault(r["benchmark"], []).append(r)
for r in by["micro.peakflops.fp64"]:
    assert r["status"] == "ok", r["reason"]
    m = r["metrics"][0]
    assert m["unit"] == "FLOP/s" and m["value"] > 0 and m["fraction_of_peak"] > 0
for r in doc["results"]:
    if r["status"] == "skipped":
        assert r["reason"], r["benchmark"]
    else:
        assert r["status"] == "ok", (r["benchmark"], r["reason"])
print("quick suite ok:", len(doc["results"]), "results")
PY

# CUDA: where the CUDA worker is built, its benchmarks are in the run; without a device each is
# skipped with the reason, and everything else ran as above.
WORKER_CUDA="$(dirname "$CONVERGE")/converge-worker-cuda"
if [ -x "$WORKER_CUDA" ]; then
  /usr/bin/python3 - "$TMP/run.json" <<'PY' || fail "CUDA results"
import json, sys
doc = json.load(open(sys.argv[1]))
cuda = [r for r in doc["results"] if r["backend"] == "cuda"]
assert cuda, "the quick suite ran no CUDA benchmark although converge-worker-cuda is built"
assert doc["inventory"]["gpu_probe"].startswith("CUDA runtime"), doc["inventory"]["gpu_probe"]
if not doc["inventory"]["gpus"]:
    for r in cuda:
        assert r["status"] == "skipped", (r["benchmark"], r["status"], r["reason"])
        assert r["reason"].startswith("no CUDA device visible"), (r["benchmark"], r["reason"])
        assert "metrics" not in r or not r["metrics"], r["benchmark"]
    print(len(cuda), "CUDA results, all skipped:", cuda[0]["reason"])
PY
fi
# Without the CUDA worker (a build without the toolkit): the suite still runs, and says what
# it left out and why.
mkdir "$TMP/nocuda"
cp "$CONVERGE" "$(dirname "$CONVERGE")/converge-worker-cpu" "$TMP/nocuda/"
expect_status 0 "$TMP/nocuda/converge" run quick --dry-run
expect_output "not planned: micro.gpu_peakflops.*: skipped: built without cuda"
expect_output "micro.stream.triad"
