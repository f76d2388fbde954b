#!/usr/bin/env bash
# Energy end to end through the worker: on this machine, without readable meters, every result
# says "not measured" with each meter's reason; with a GPU (the test's fake NVML, loaded by the
# real worker), figures appear with no configuration; a throttled GPU is flagged and the
# acceptance check fails the figure.
source "$(dirname "$0")/lib.sh"
cd "$TMP"
quick="--warmup 1 --min-reps 3 --min-time 0 --budget 2"
if [ ! -d /sys/class/powercap ] && ! ldconfig -p | grep -q libnvidia-ml.so.1; then
  expect_status 0 "$CONVERGE" run micro.stream.triad --param n=64k $quick --out none.json
  $VALIDATE none.json || fail "document"
  /usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["results"][0]["energy"]
assert e["measured"] is False and e["joules"] is None, e
assert "rapl: no powercap directory /sys/class/powercap" in e["reason"], e["reason"]
assert "nvml: NVML not found: cannot load libnvidia-ml.so.1" in e["reason"], e["reason"]' none.json || fail "not measured reason"
fi
# A GPU at 250 W with an energy counter: the fake NVML stands in for libnvidia-ml.
echo "gpus=1 energy_mj=- power_mw=250000 throttle=0 ecc=0" >state
export FAKE_NVML_STATE=$TMP/state CONVERGE_NVML_LIBRARY=${FAKE_NVML:?path of the test fake NVML}
expect_status 0 "$CONVERGE" run micro.stream.triad --param n=1M $quick --energy nvml --out gpu.json
$VALIDATE gpu.json || fail "document"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
e = r["energy"]
assert e["measured"] is True, e
d = e["domains"][0]
assert d["meter"] == "nvml" and d["domain"] == "gpu-0" and d["method"] == "power" and d["level"] == 1, d
assert e["total_of"] == "gpu-0" and abs(e["avg_watts"] - 250) < 2.5, e
assert e["domains"][0]["region_s"] >= 1.0, "the region spans 10 updates of the 0.1 s sensor"
assert any(x["metric"] == "bandwidth_per_watt" for x in e["efficiency"]), e["efficiency"]
assert e["flags"] == [], e["flags"]
run = json.load(open(sys.argv[1]))["energy"]
assert run["measured"] and abs(run["joules"] - e["joules"]) < 1e-9 and run["results_measured"] == 1, run
assert list(run["by_host"].values()) == [e["joules"]] and run["by_instance"] == {"0": e["joules"]}, run' gpu.json \
  || fail "measured energy"
# The same with the GPU throttled for power: flagged, and the acceptance check fails it.
echo "gpus=1 energy_mj=- power_mw=250000 throttle=0x4 ecc=0" >state
expect_status 0 "$CONVERGE" run micro.stream.triad --param n=64k $quick --energy nvml --out throttled.json
/usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["results"][0]["energy"]
assert e["flags"] == ["gpu-0 throttled: power cap"], e["flags"]' throttled.json || fail "throttle flag"
cat >site.yaml <<'YAML'
name: s
partitions:
  - name: local
    reference:
      micro.stream.triad: {bandwidth: [1, -0.99, null, kB/s]}
YAML
expect_status 0 "$CONVERGE" check gpu.json --site site.yaml
expect_status 1 "$CONVERGE" check throttled.json --site site.yaml
expect_output "flagged during the measurement: gpu-0 throttled: power cap"
# A GPU whose clock ended at 1400 of 1980 MHz, on a partition that flags below 90%.
echo "gpus=1 energy_mj=- power_mw=250000 throttle=0 ecc=0 sm_mhz=1400 sm_max_mhz=1980" >state
cat >clock.yaml <<'YAML'
name: s
partitions:
  - name: local
    energy: [nvml]
    min_clock_fraction: 0.9
YAML
expect_status 0 "$CONVERGE" run micro.stream.triad --site clock.yaml --param n=64k $quick --out clock.json
/usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["results"][0]["energy"]
assert e["flags"] == ["gpu-0 clock 1400 MHz at the end, below 90% of its 1980 MHz maximum"], e["flags"]' clock.json \
  || fail "clock flag"
echo "energy ok"
