#!/usr/bin/env bash
# The IO benchmarks through the driver with 1, 2 and 4 ranks (mpirun --oversubscribe for
# several), on two storage tiers of a site (two directories of this machine's disk): every
# layout of the bandwidth benchmarks, IOPS and each metadata phase; every result verified, the
# tier recorded, nothing left in either tier. Then the test-only corruption switch: invalid,
# naming the file and offset.
source "$(dirname "$0")/lib.sh"
WORKER="$(dirname "$CONVERGE")/converge-worker-io"
[ -x "$WORKER" ] || { echo "SKIP: no converge-worker-io"; exit 77; }
cd "$TMP"
mkdir -p flash hdd
cat >site.yaml <<YAML
name: iotest
partitions:
  - name: local
    launcher: local
    storage:
      - {name: flash, path: $TMP/flash, kind: flash}
      - {name: hdd, path: $TMP/hdd, kind: hdd}
YAML
bw="transfer: 1MiB, block: 4MiB"
# MPI-IO where the worker has it (built with MPI)
mpiio=0
"$WORKER" --list >list.json && grep -q '"io.mpiio.write"' list.json && mpiio=1
{
  echo "name: io-ranks"
  echo "policy: {warmup: 1, min_reps: 2, min_time_s: 0, budget_s: 0.5}"
  echo "benchmarks:"
  for r in 1 2 4; do
    echo "  - {benchmark: io.posix.write, ranks: $r, params: {path: $TMP/flash, $bw, layout: [fpp, shared_segmented, shared_strided]}}"
    echo "  - {benchmark: io.posix.read, ranks: $r, params: {path: $TMP/flash, $bw, layout: [fpp, shared_strided]}}"
    if [ "$mpiio" = 1 ]; then
      echo "  - {benchmark: io.mpiio.write, ranks: $r, params: {path: $TMP/flash, $bw, layout: [fpp, shared_segmented, shared_strided], collective: [false, true]}}"
      echo "  - {benchmark: io.mpiio.read, ranks: $r, params: {path: $TMP/flash, $bw, layout: [fpp, shared_strided], collective: [false, true]}}"
    fi
    echo "  - {benchmark: io.posix.iops_read, ranks: $r, params: {path: $TMP/flash, file_size: 4MiB, ops: 200, threads: 2}}"
    echo "  - {benchmark: io.posix.iops_write, ranks: $r, params: {path: $TMP/flash, file_size: 4MiB, ops: 200}}"
    for phase in create stat open_close read remove; do
      echo "  - {benchmark: io.posix.md_$phase, ranks: $r, params: {path: $TMP/flash, files: 40, depth: [0, 2], shared_dir: [true, false]}}"
    done
  done
  # 4 KiB pages, and a transfer that is not a multiple of 512 bytes (the whole pattern per call)
  echo "  - {benchmark: io.posix.write, ranks: 2, params: {path: $TMP/flash, transfer: 4104, block: 410400, hugepages: false, layout: [fpp, shared_strided]}}"
  echo "  - {benchmark: io.posix.read, ranks: 2, params: {path: $TMP/flash, transfer: 4104, block: 410400, hugepages: false, layout: [fpp, shared_strided]}}"
  # no path: once per storage tier of the partition
  echo "  - {benchmark: io.posix.write, ranks: 2, params: {$bw, direct: true}}"
} > suite.yaml
expect_status 0 "$CONVERGE" run --site site.yaml --suite suite.yaml --out run.json --energy none
$VALIDATE run.json || fail "document"
MPIIO=$mpiio /usr/bin/python3 - run.json <<'PY' || fail "io results"
import json, os, sys
doc = json.load(open(sys.argv[1]))
planned = {p["instance"]: p for p in doc["plan"]}
results = {}
for r in doc["results"]:
    assert r["instance"] not in results, f'instance {r["instance"]}: two results (rank 0 alone reports)'
    results[r["instance"]] = r
assert set(results) == set(planned), "an instance has no result"
ranks = set()
for i, r in results.items():
    what = f'{r["benchmark"]} {r["params"]} ranks {planned[i]["ranks"]}'
    assert r["status"] == "ok" and r["verification"]["status"] == "passed", f'{what}: {r["status"]}: {r["reason"]}'
    assert r["metrics"] and r["metrics"][0]["value"] > 0, what
    assert "filesystem" in r["notes"], what
    if r["benchmark"].endswith((".write", ".read")):  # the IO buffer's pages, measured (huge pages by default)
        buf = r["notes"]["buffer"]
        if str(r["params"].get("hugepages")).lower() == "false":
            assert "madvise(MADV_NOHUGEPAGE); 0 KiB of 2 MiB in huge pages" in buf, buf
        else:
            assert "madvise(MADV_HUGEPAGE); " in buf and " in huge pages; thp=" in buf, buf
        if r["benchmark"].endswith(".write"):
            assert ("whole pattern is computed before each call" in buf) == (r["params"]["transfer"] == "4104"), buf
    ranks.add(planned[i]["ranks"])
assert ranks == {1, 2, 4}, ranks
backends = {r["backend"] for r in results.values()}
if os.environ["MPIIO"] == "1":
    assert backends == {"posix", "mpiio"}, backends
tiers = sorted(r["params"]["tier"] for r in results.values() if r["params"].get("tier"))
assert tiers == ["flash", "hdd"], tiers
print(len(results), "IO results verified; ranks", sorted(ranks), "; tiers", tiers, "; backends", sorted(backends))
PY
leftover=$(find flash hdd -mindepth 1 | head -5)
[ -z "$leftover" ] || fail "left behind in the tiers: $leftover"

cat >corrupt.yaml <<YAML
name: io-corrupt
policy: {warmup: 1, min_reps: 2, min_time_s: 0, budget_s: 0.5}
benchmarks:
  - {benchmark: io.posix.write, ranks: 2, params: {path: $TMP/flash, $bw}}
  - {benchmark: io.posix.read, ranks: 1, params: {path: $TMP/flash, $bw}}
YAML
[ "$mpiio" = 1 ] && cat >>corrupt.yaml <<YAML
  - {benchmark: io.mpiio.write, ranks: 2, params: {path: $TMP/flash, $bw, layout: shared_strided, collective: true}}
  - {benchmark: io.mpiio.read, ranks: 2, params: {path: $TMP/flash, $bw}}
YAML
CONVERGE_TEST_CORRUPT_IO=1 expect_status 1 "$CONVERGE" run --suite corrupt.yaml --out bad.json --energy none
/usr/bin/python3 - bad.json <<'PY' || fail "corruption not reported"
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    assert r["status"] == "invalid", (r["benchmark"], r["status"], r["reason"])
    assert "offset" in r["reason"] and "fault_injection" in r["notes"], r["reason"]
    print(r["benchmark"], "->", r["reason"])
PY
leftover=$(find flash hdd -mindepth 1 | head -5)
[ -z "$leftover" ] || fail "left behind after the corrupted runs: $leftover"
