#!/usr/bin/env bash
# Issue 7's MPI fidelity run, in one sitting on one node, 2 ranks (Open MPI from Debian, shared
# memory, mpirun's default binding: one core per rank):
#   1. hpcc's b_eff ping-pong (Debian package hpcc; N=1000, P x Q = 1 x 2 so the rest of hpcc
#      is short), three runs;
#   2. converge: collectives.mpi.latency at 8 B (latency) and 2,000,000 B (b_eff's ping-pong
#      bandwidth message), collectives.mpi.allreduce at 8 B, 64 KiB and 1 MiB
#      (scripts/mpi/fidelity.yaml);
#   3. the table: converge's median beside hpcc's figures and OSU's reference figures for this
#      kind of machine (osu_latency 0.41 us; osu_allreduce 0.59 us, 18.3 us, 235 us).
# usage: scripts/mpi/fidelity.sh [BUILD_DIR (build)] [OUT_DIR (mpi-fidelity-DATE)]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OUT=${2:-mpi-fidelity-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
command -v hpcc >/dev/null || { echo "hpcc not installed: CONVERGE_INSTALL_REFERENCE_TOOLS=1 ./scripts/install-deps.sh" >&2; exit 2; }
SRC=$PWD
(cd "$OUT" &&
 sed -e '6s/^[0-9]* /1000 /' -e '11s/^[0-9]* /1 /' -e '12s/^[0-9]* /2 /' /usr/share/doc/hpcc/examples/_hpccinf.txt > hpccinf.txt &&
 for i in 1 2 3; do
   rm -f hpccoutf.txt
   mpirun -np 2 hpcc > /dev/null
   grep -E "^(Min|Avg|Max)PingPong(Latency_usec|Bandwidth_GBytes)=" hpccoutf.txt | sed "s/^/run$i /"
   mv hpccoutf.txt "hpccoutf-$i.txt"
 done > hpcc.txt)
echo "== hpcc b_eff"; cat "$OUT/hpcc.txt"
echo "== converge"
CONVERGE_DB="$OUT/results.db" "$BUILD/bin/converge" run scripts/mpi/fidelity.yaml --out "$OUT/run.json" --energy none
python3 - "$OUT/run.json" "$OUT/hpcc.txt" <<'PY' | tee "$OUT/fidelity.md"
import json, statistics, sys
doc = json.load(open(sys.argv[1]))
hpcc = {}
for line in open(sys.argv[2]):
    run, kv = line.split()
    k, v = kv.split("=")
    hpcc.setdefault(k, []).append(float(v))
def result(bench, size):
    for r in doc["results"]:
        if r["benchmark"] == bench and r["params"]["size"] == str(size) and r["status"] == "ok":
            return {m["name"]: m for m in r["metrics"]}
    raise SystemExit(f"no ok result for {bench} size={size}")
lat = result("collectives.mpi.latency", 8)["latency"]["value"] * 1e6
bw = result("collectives.mpi.latency", 2000000)["bandwidth"]["value"] / 1e9
h_lat = hpcc["MaxPingPongLatency_usec"]
h_bw = hpcc["MaxPingPongBandwidth_GBytes"]
rows = [("8-byte ping-pong latency (half round trip)", f"{lat:.3f} us",
         "hpcc b_eff MaxPingPongLatency_usec: " + ", ".join(f"{v:.3f}" for v in h_lat) + " us",
         f"{100 * lat / statistics.median(h_lat):.0f}% of b_eff's median", "within 10%" if abs(lat / statistics.median(h_lat) - 1) <= 0.10 else "NOT within 10%"),
        ("ping-pong bandwidth, 2,000,000 B", f"{bw:.2f} GB/s",
         "hpcc b_eff MaxPingPongBandwidth_GBytes: " + ", ".join(f"{v:.2f}" for v in h_bw) + " GB/s",
         f"{100 * bw / statistics.median(h_bw):.0f}% of b_eff's median", "within 10%" if abs(bw / statistics.median(h_bw) - 1) <= 0.10 else "NOT within 10%")]
for size, label, osu in ((8, "8 B", 0.59), (65536, "64 KiB", 18.3), (1048576, "1 MiB", 235.0)):
    v = result("collectives.mpi.allreduce", size)["latency"]["value"] * 1e6
    rows.append((f"allreduce {label} latency", f"{v:.2f} us", f"OSU osu_allreduce on this kind of machine: {osu} us",
                 f"{100 * v / osu:.0f}% of OSU's", "no worse than OSU + 10%" if v <= 1.10 * osu else "WORSE than OSU + 10%"))
print("| figure | converge median | reference | ratio | verdict |")
print("| --- | --- | --- | --- | --- |")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
