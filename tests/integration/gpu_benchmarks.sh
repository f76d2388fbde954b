#!/usr/bin/env bash
# gpu: every CUDA benchmark at tiny sizes on a real device (tests/integration/gpu_tiny.yaml):
# each result is ok and verified, or skipped for a reason other than the absence of a device
# (a precision the device lacks). Then the same instances under compute-sanitizer (memcheck,
# racecheck, synccheck) when it is installed. Without a visible device: exit 77 (skipped) with
# the reason, never a pass.
source "$(dirname "$0")/lib.sh"
WORKER="$(dirname "$CONVERGE")/converge-worker-cuda"
[ -x "$WORKER" ] || { echo "skipped: built without CUDA (no $WORKER)"; exit 77; }
probe=$("$WORKER" --inventory | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["gpus"]), d["gpu_probe"])')
[ "${probe%% *}" != 0 ] || { echo "skipped: ${probe#* }"; exit 77; }
echo "devices: $probe"

expect_status 0 "$CONVERGE" run "$SRC/tests/integration/gpu_tiny.yaml" --out "$TMP/run.json" --energy none
$VALIDATE "$TMP/run.json" || fail "run document invalid"
/usr/bin/python3 - "$TMP/run.json" <<'PY' || fail "gpu results"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["inventory"]["gpus"], "the run's inventory lists no GPU"
cuda = [r for r in doc["results"] if r["backend"] == "cuda"]
assert cuda, "no CUDA result"
bad = []
for r in cuda:
    what = f'{r["benchmark"]} {r["params"]}'
    if r["status"] == "skipped":
        assert "no CUDA device" not in r["reason"], what
        print("skipped:", what, r["reason"])
        continue
    if r["status"] != "ok" or r["verification"]["status"] != "passed":
        bad.append(f'{what}: {r["status"]}: {r["reason"]} {r["verification"]}')
        continue
    assert r["timer"] in ("cuda_event", "host_steady_clock"), what
    m = r["metrics"][0]
    print(f'ok: {what}: {m["value"]:.4g} {m["unit"]}', f'({100 * m["fraction_of_peak"]:.1f}% of peak)' if m.get("fraction_of_peak") else "")
assert not bad, "\n".join(bad)
PY

SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ -z "$SANITIZER" ]; then
  echo "compute-sanitizer not installed: sanitizer checks not run"
  exit 0
fi
# The worker runs one instance per call; the plan's instances come from the run document.
/usr/bin/python3 - "$TMP/run.json" > "$TMP/instances" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["backend"] == "cuda" and r["status"] == "ok":
        print(r["benchmark"], " ".join(f"--param {k}={v}" for k, v in r["params"].items()))
PY
while read -r id params; do
  for tool in memcheck racecheck synccheck; do
    # shellcheck disable=SC2086
    "$SANITIZER" --tool "$tool" --error-exitcode 99 "$WORKER" --benchmark "$id" $params \
      --warmup 0 --min-reps 1 --max-reps 1 --min-time 0 --energy none > "$TMP/san.out" 2>&1 \
      || { cat "$TMP/san.out" >&2; fail "compute-sanitizer $tool: $id $params"; }
  done
  echo "compute-sanitizer memcheck/racecheck/synccheck clean: $id $params"
done < "$TMP/instances"
