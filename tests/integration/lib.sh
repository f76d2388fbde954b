# Helpers for the integration tests (sourced). Each test gets a fresh scratch directory.
set -euo pipefail
CONVERGE=${CONVERGE:?path of the converge driver}
SRC=${SRC:?source directory}
VALIDATE="/usr/bin/python3 $SRC/tests/tools/validate_run.py $SRC/results/run.schema.json"
TMP=$(mktemp -d)
export CONVERGE_DB="$TMP/results.db"  # each test its own results store
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_status WANT CMD...: runs CMD, keeps stdout+stderr in $TMP/out, checks the exit status.
expect_status() {
  local want=$1; shift
  set +e; "$@" >"$TMP/out" 2>&1; local got=$?; set -e
  [ "$got" = "$want" ] || { cat "$TMP/out" >&2; fail "exit status $got, expected $want: $*"; }
}
expect_output() { grep -qF -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; fail "output lacks: $1"; }; }
