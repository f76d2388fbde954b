#!/usr/bin/env bash
# Issue 6's GPU fidelity run, in one sitting on one device:
#   1. converge's CUDA benchmarks at fidelity sizes (scripts/gpu/fidelity.yaml);
#   2. torch.matmul for the same sizes and dtypes, where PyTorch is installed;
#   3. the gpu test (tests/integration/gpu_benchmarks.sh): tiny sizes, every result verified,
#      and compute-sanitizer memcheck/racecheck/synccheck on each instance;
#   4. the checks and the README table (scripts/gpu/fidelity_check.py).
# usage: scripts/gpu/fidelity.sh [BUILD_DIR (build)] [OUT_DIR (gpu-fidelity-DATE)]
# Prints the table and leaves run.json, torch.jsonl, nvidia-smi.txt and fidelity.md in OUT_DIR.
# Never changes clocks or any device setting.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
OUT=${2:-gpu-fidelity-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
CONVERGE="$BUILD/bin/converge"
[ -x "$CONVERGE" ] && [ -x "$BUILD/bin/converge-worker-cuda" ] || { echo "build first: no $CONVERGE or converge-worker-cuda" >&2; exit 2; }
{ date -u; nvidia-smi -q 2>&1 | head -60 || echo "nvidia-smi not available"; } > "$OUT/nvidia-smi.txt"

echo "== converge (scripts/gpu/fidelity.yaml)"
export CONVERGE_DB="$OUT/results.db"
"$CONVERGE" run scripts/gpu/fidelity.yaml --out "$OUT/run.json" --energy auto

echo "== torch.matmul"
set +e
python3 scripts/gpu/torch_matmul.py 2048,4096,8192 > "$OUT/torch.jsonl" 2> "$OUT/torch.err"
torch_rc=$?
set -e
[ $torch_rc = 0 ] || echo "torch.matmul not run: $(cat "$OUT/torch.err")"

echo "== gpu test and compute-sanitizer"
sanitizer=pass
CONVERGE="$PWD/$CONVERGE" SRC="$PWD" bash tests/integration/gpu_benchmarks.sh > "$OUT/gpu_test.log" 2>&1 || sanitizer="FAIL (exit $?)"
tail -n 40 "$OUT/gpu_test.log"

echo "== checks"
set +e
GPU_TEST_RESULT=$sanitizer python3 scripts/gpu/fidelity_check.py "$OUT/run.json" "$OUT/torch.jsonl" > "$OUT/fidelity.md"
check_rc=$?
set -e
cat "$OUT/fidelity.md"
exit $check_rc
