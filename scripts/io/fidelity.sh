#!/usr/bin/env bash
# Issue 8's IO fidelity run, in one sitting, on one directory, with the same parameters:
#   sequential write and read, 2 processes, 1 MiB transfers, 1 GiB each (2 GiB), O_DIRECT,
#   fsync at the end of the write: fio (`--numjobs=2 --bs=1M --size=1G --direct=1
#   --end_fsync=1 --fallocate=none`, psync; and fio's default, which fallocates first) against io.posix.write/read (ranks 2, layout fpp, transfer 1MiB,
#   block 1GiB, direct, readback direct);
#   4 KiB random reads at queue depth 1 and 4 on a 256 MiB file, O_DIRECT: fio (randread,
#   psync, numjobs = depth on one file, 15 s) against io.posix.iops_read (threads = depth).
# usage: scripts/io/fidelity.sh [BUILD_DIR (build)] [DIR (a fresh directory under /var/tmp)] [OUT]
# The directory is created and removed here; fio's files are removed too.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
DIR=${2:-/var/tmp/converge-io-fidelity-$$}
OUT=${3:-io-fidelity-$(date -u +%Y%m%dT%H%M%SZ)}
command -v fio >/dev/null || { echo "fio not installed: CONVERGE_INSTALL_REFERENCE_TOOLS=1 ./scripts/install-deps.sh" >&2; exit 2; }
mkdir -p "$OUT" "$DIR"
trap 'rm -rf "$DIR"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fio_run() {  # NAME ARGS...: fio's JSON into $OUT/NAME.json
  local name=$1; shift
  fio --directory="$DIR" --ioengine=psync --direct=1 --group_reporting --output-format=json "$@" > "$OUT/$name.json"
}
cat > "$OUT/suite.yaml" <<YAML
name: io-fidelity
policy: {warmup: 1, min_reps: 5, min_time_s: 5, ci_target: 0.05, budget_s: 40}
benchmarks:
  - {benchmark: io.posix.write, ranks: 2, params: {path: $DIR, layout: fpp, transfer: 1MiB, block: 1GiB, direct: true, fsync: true}}
  - {benchmark: io.posix.read, ranks: 2, params: {path: $DIR, layout: fpp, transfer: 1MiB, block: 1GiB, direct: true, readback: direct}}
  - {benchmark: io.posix.iops_read, ranks: 1, params: {path: $DIR, file_size: 256MiB, io_size: 4KiB, direct: true, threads: [1, 4], ops: 5000}}
YAML
# fio runs five times per figure and the median is compared with converge's median. Each write
# starts from files truncated to 0 bytes, as each io.posix.write repetition does, and with
# --fallocate=none: by default fio first fallocate()s the file, and its O_DIRECT writes then
# convert unwritten extents, 15-25% slower on this ext4 than writing a growing file, which is
# what converge (and IOR) measure. The default's figure is shown beside it (3 runs).
echo "== fio: sequential write, then read (2 jobs x 1 GiB, 1 MiB, direct), 5 runs each"
for i in 1 2 3 4 5; do
  rm -f "$DIR"/seq.*
  fio_run "fio-write-$i" --name=seq --rw=write --bs=1M --size=1G --numjobs=2 --end_fsync=1 --fallocate=none
done
for i in 1 2 3; do
  rm -f "$DIR"/seq.*
  fio_run "fio-write-fallocate-$i" --name=seq --rw=write --bs=1M --size=1G --numjobs=2 --end_fsync=1
done
for i in 1 2 3 4 5; do fio_run "fio-read-$i" --name=seq --rw=read --bs=1M --size=1G --numjobs=2; done
# The disk's rate drifts during sustained IO: also read for 25 s, about as long as converge's run.
fio_run "fio-read-timed-1" --name=seq --rw=read --bs=1M --size=1G --numjobs=2 --time_based --runtime=25
rm -f "$DIR"/seq.*
for qd in 1 4; do
  echo "== fio: 4 KiB random read, depth $qd, 3 runs of 10 s"
  for i in 1 2 3; do
    fio_run "fio-randread-$qd-$i" --name=rand --filename=rand.dat --rw=randread --bs=4k --size=256M --numjobs=$qd \
      --time_based --runtime=10
  done
done
rm -f "$DIR"/rand.dat
echo "== converge"
CONVERGE_DB="$OUT/results.db" "$BUILD/bin/converge" run "$OUT/suite.yaml" --out "$OUT/run.json" --energy none
python3 - "$OUT" <<'PY' | tee "$OUT/fidelity.md"
import json, sys
out = sys.argv[1]
import statistics
fio_runs = lambda n, k: [json.load(open(f"{out}/{n}-{i}.json"))["jobs"][0] for i in range(1, k + 1)]
doc = json.load(open(f"{out}/run.json"))
def conv(bench, **params):
    for r in doc["results"]:
        if r["benchmark"] == bench and all(r["params"].get(k) == str(v) for k, v in params.items()):
            assert r["status"] == "ok", (bench, r["reason"])
            return r
    raise SystemExit(f"no result for {bench} {params}")
MiB = 2**20
rows = []
w, r = conv("io.posix.write"), conv("io.posix.read")
for label, c, name, key, k in (
        ("sequential write, 2 x 1 GiB, 1 MiB, O_DIRECT, fsync (fio --fallocate=none)", w, "fio-write", "write", 5),
        ("the same, fio's default (fallocate first)", w, "fio-write-fallocate", "write", 3),
        ("sequential read, 2 x 1 GiB, 1 MiB, O_DIRECT", r, "fio-read", "read", 5),
        ("the same, fio time-based over 25 s", r, "fio-read-timed", "read", 1)):
    cv = c["metrics"][0]["value"] / MiB
    runs = [f[key]["bw_bytes"] / MiB for f in fio_runs(name, k)]
    fv = statistics.median(runs)
    rows.append((label, f"{cv:,.0f} MiB/s (CV {100 * c['time']['cv']:.0f}%)",
                 f"median {fv:,.0f} MiB/s of " + ", ".join(f"{v:,.0f}" for v in runs), f"{100 * cv / fv:.0f}%"))
for qd in (1, 4):
    c = conv("io.posix.iops_read", threads=qd)
    runs = fio_runs(f"fio-randread-{qd}", 3)
    cv = next(m for m in c["metrics"] if m["name"] == "iops")["value"]
    fv = statistics.median(f["read"]["iops"] for f in runs)
    p99 = statistics.median(f["read"]["clat_ns"]["percentile"]["99.000000"] / 1000 for f in runs)
    rows.append((f"4 KiB random read, depth {qd}, O_DIRECT",
                 f"{cv:,.0f} IOPS (p99 {float(c['notes'].get('latency_p99_s', 'nan')) * 1e6:.0f} us)",
                 f"median {fv:,.0f} IOPS of " + ", ".join(f"{f['read']['iops']:,.0f}" for f in runs) + f" (p99 {p99:.0f} us)",
                 f"{100 * cv / fv:.0f}%"))
print("| figure | converge (median) | fio | converge / fio |")
print("| --- | --- | --- | --- |")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
