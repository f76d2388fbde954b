#!/usr/bin/env bash
# Bad input: a clear message naming the nearest valid names, and exit status 2.
source "$(dirname "$0")/lib.sh"
expect_status 2 "$CONVERGE" run micro.stream.traid
expect_output "did you mean micro.stream.triad"
expect_status 2 "$CONVERGE" run micro.stream.triad --param nn=5
expect_output "did you mean n"
expect_status 2 "$CONVERGE" run micro.stream.triad --param n=lots
expect_output "parameter 'n'"
expect_status 2 "$CONVERGE" run micro.stream.triad --param n=0
expect_output "minimum"
expect_status 2 "$CONVERGE" run --bogus-flag
printf 'name: x\nbenchmarks:\n  - benchmark: micro.stream.triad\n  - benchmark: micro.strem.copy\n' >"$TMP/s.yaml"
expect_status 2 "$CONVERGE" run "$TMP/s.yaml"
expect_output "s.yaml:4: unknown benchmark 'micro.strem.copy' (did you mean micro.stream.copy"
printf 'name: x\nbenchmarks:\n  - benchmark: micro.stream.triad\n    params: {m: 5}\n' >"$TMP/p.yaml"
expect_status 2 "$CONVERGE" run "$TMP/p.yaml"
expect_output "p.yaml:3: micro.stream.triad: unknown parameter 'm'"
printf 'name: x\nbenchmarks: [\n' >"$TMP/y.yaml"
expect_status 2 "$CONVERGE" run "$TMP/y.yaml"
expect_output "y.yaml:"
printf 'name: x\nbenchmark:\n  - benchmark: micro.stream.triad\n' >"$TMP/k.yaml"
expect_status 2 "$CONVERGE" run "$TMP/k.yaml"
expect_output "did you mean 'benchmarks'"
echo "bad input ok"
