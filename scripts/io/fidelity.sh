#!/usr/bin/env bash
# Issue 8's IO fidelity run, in one sitting, on one directory, with the same parameters:
#   sequential write and read, 2 processes, 1 MiB transfers, 1 GiB each (2 GiB), O_DIRECT,
#   fsync at the end of the write: fio (`--numjobs=2 --bs=1M --size=1G --direct=1
#   --end_fsync=1 --fallocate=none`, psync) against io.posix.write/read (ranks 2, layout fpp,
#   transfer 1MiB, block 1GiB, direct, readback direct);
#   4 KiB random reads at queue depth 1 and 4 on a 256 MiB file, O_DIRECT: fio (randread,
#   psync, numjobs = depth on one file, 5 s) against io.posix.iops_read (threads = depth).
# usage: [ROUNDS=5] scripts/io/fidelity.sh [BUILD_DIR (build)] [DIR (a fresh directory under /var/tmp)] [OUT]
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
# The disk's rate moves by ±15% between passes a few seconds apart and drifts during sustained
# IO, so the two tools alternate: ROUNDS rounds, each a fio pass then a converge run of the
# same figure (write, read, random read at depth 1 and 4), and the comparison is the median of
# the rounds' ratios (each pair saw the disk in the same state) beside the ratio of the
# medians. Each fio write starts from files truncated to 0 bytes, as each io.posix.write
# repetition does, with --fallocate=none: by default fio first fallocate()s the file, and its
# O_DIRECT writes then convert unwritten extents, 15-25% slower on this ext4 than writing a
# growing file, which is what converge (and IOR) measure.
ROUNDS=${ROUNDS:-5}
suite() {  # NAME REPETITIONS ENTRY: a one-instance suite, 1 warm-up and REPETITIONS timed repetitions
  printf 'name: io-fidelity-%s\npolicy: {warmup: 1, budget_s: 60}\nbenchmarks:\n  - {repetitions: %s, %s}\n' \
    "$1" "$2" "$3" > "$OUT/$1.yaml"
}
suite write 3 "benchmark: io.posix.write, ranks: 2, params: {path: $DIR, layout: fpp, transfer: 1MiB, block: 1GiB, direct: true, fsync: true}"
suite read 3 "benchmark: io.posix.read, ranks: 2, params: {path: $DIR, layout: fpp, transfer: 1MiB, block: 1GiB, direct: true, readback: direct}"
suite rand1 5 "benchmark: io.posix.iops_read, ranks: 1, params: {path: $DIR, file_size: 256MiB, io_size: 4KiB, direct: true, threads: 1, ops: 10000}"
suite rand4 5 "benchmark: io.posix.iops_read, ranks: 1, params: {path: $DIR, file_size: 256MiB, io_size: 4KiB, direct: true, threads: 4, ops: 10000}"
conv_run() {  # NAME ROUND
  CONVERGE_DB="$OUT/results.db" "$BUILD/bin/converge" run "$OUT/$1.yaml" --out "$OUT/conv-$1-$2.json" --energy none \
    > "$OUT/conv-$1-$2.log" 2>&1 || { cat "$OUT/conv-$1-$2.log" >&2; exit 1; }
}
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS: write, read, random read depth 1 and 4 (fio, then converge)"
  rm -f "$DIR"/seq.*
  fio_run "fio-write-$round" --name=seq --rw=write --bs=1M --size=1G --numjobs=2 --end_fsync=1 --fallocate=none
  conv_run write "$round"
  fio_run "fio-read-$round" --name=seq --rw=read --bs=1M --size=1G --numjobs=2
  conv_run read "$round"
  for qd in 1 4; do
    fio_run "fio-rand$qd-$round" --name=rand --filename=rand.dat --rw=randread --bs=4k --size=256M --numjobs=$qd \
      --time_based --runtime=5
    conv_run "rand$qd" "$round"
  done
done
rm -f "$DIR"/seq.* "$DIR"/rand.dat
python3 - "$OUT" "$ROUNDS" <<'PY' | tee "$OUT/fidelity.md"
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
MiB = 2**20
def fio(name, key, field):
    j = json.load(open(f"{out}/{name}.json"))["jobs"][0][key]
    return j["bw_bytes"] / MiB if field == "bw" else j["iops"]
def conv(name, metric):
    (r,) = json.load(open(f"{out}/{name}.json"))["results"]
    assert r["status"] == "ok", (name, r["status"], r["reason"])
    return next(m for m in r["metrics"] if m["name"] == metric)["value"] / (MiB if metric == "bandwidth" else 1)
print(f"| figure ({rounds} rounds, fio then converge in each) | converge per round | fio per round | "
      "median of the rounds' ratios | ratio of the medians |")
print("| --- | --- | --- | --- | --- |")
for label, suite, key, field, metric, unit in (
        ("sequential write, 2 x 1 GiB, 1 MiB, O_DIRECT, fsync", "write", "write", "bw", "bandwidth", "MiB/s"),
        ("sequential read, 2 x 1 GiB, 1 MiB, O_DIRECT", "read", "read", "bw", "bandwidth", "MiB/s"),
        ("4 KiB random read, depth 1, O_DIRECT", "rand1", "read", "iops", "iops", "IOPS"),
        ("4 KiB random read, depth 4, O_DIRECT", "rand4", "read", "iops", "iops", "IOPS")):
    c = [conv(f"conv-{suite}-{i}", metric) for i in range(1, rounds + 1)]
    f = [fio(f"fio-{suite}-{i}", key, field) for i in range(1, rounds + 1)]
    ratios = [a / b for a, b in zip(c, f)]
    print(f"| {label} | " + ", ".join(f"{v:,.0f}" for v in c) + f" {unit} | " + ", ".join(f"{v:,.0f}" for v in f) +
          f" | {100 * statistics.median(ratios):.0f}% (rounds: " + ", ".join(f"{100 * r:.0f}" for r in ratios) +
          f") | {100 * statistics.median(c) / statistics.median(f):.0f}% |")
PY
