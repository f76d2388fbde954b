#!/usr/bin/env bash
# list, info, suites and --help answer; info shows the inventory with the peak model.
source "$(dirname "$0")/lib.sh"
expect_status 0 "$CONVERGE" list
expect_output "micro.stream.triad"
expect_output "micro.gemm.dgemm"
expect_status 0 "$CONVERGE" info
expect_output "peak model:"
expect_output "cpu.fp64"
expect_output "blas"
expect_status 0 "$CONVERGE" info --json
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["inventory"]["memory"]["total_bytes"]>0 and d["inventory"]["blas"]["corename"]' "$TMP/out" || fail "info --json"
expect_status 0 "$CONVERGE" suites
expect_output "quick"
expect_output "node"
expect_status 0 "$CONVERGE" run --help
expect_output "--param"
echo "cli ok"
