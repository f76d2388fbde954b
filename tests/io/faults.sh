#!/bin/bash
# IO fault tests on small tmpfs tiers (issue 8, "What it must show"): a tier that fills up
# gives ENOSPC by name and nothing left behind; a Scratch that would not fit is refused before
# anything is written; a read-only tier gives EROFS, an unwritable one EACCES; SIGINT and
# SIGTERM in the middle of a write leave nothing; a planted symbolic link is not followed.
# Needs root (mount -t tmpfs); exits 77 with the reason otherwise.
# Environment: TOOL (tests/io/scratch_tool.cpp); CONVERGE, WORKER and SRC for the worker-driven
# checks that follow the benchmarks.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: the io fault tests mount tmpfs tiers: needs root"; exit 77; }
: "${TOOL:?TOOL must name the scratch_tool executable}"

base=$(mktemp -d "${TMPDIR:-/tmp}/converge-faults-XXXXXX")
tier=$base/tier
outside=$base/outside
mkdir -p "$tier" "$outside"
chmod 0711 "$base"  # another user reaches the tier (the EACCES check), lists nothing
cleanup() {
  mountpoint -q "$tier" && { umount "$tier" || umount -l "$tier"; }
  rm -rf "$base"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=4m,mode=0755 converge-faults "$tier" 2>"$base/mount.err"; then
  echo "SKIP: cannot mount a tmpfs tier: $(cat "$base/mount.err")"
  exit 77
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
# The tier must hold nothing after each scenario.
empty_tier() {
  local left
  left=$(ls -A "$tier")
  [ -z "$left" ] && pass "$1: nothing left on the tier" || fail "$1: left on the tier: $left"
}
expect_in() {  # FILE TEXT SCENARIO
  grep -qF -- "$2" "$1" && pass "$3: says '$2'" || fail "$3: '$2' not in: $(cat "$1")"
}

# (1a) A Scratch needing 64 MiB on a 4 MiB tier is refused, and nothing is created.
"$TOOL" write "$tier" 64M 0 >"$base/out" 2>"$base/err"
[ $? = 1 ] || fail "refusal: exit status"
expect_in "$base/err" "not enough space on $tier (tmpfs): needs 64 MiB (+10% margin), 4 MiB available" refusal
empty_tier refusal

# (1b) The check passes (1 MiB asked) but 8 MiB are written: ENOSPC, named, with the file.
"$TOOL" write "$tier" 1M 8M >"$base/out" 2>"$base/err"
[ $? = 1 ] || fail "ENOSPC: exit status"
expect_in "$base/err" "ENOSPC: No space left on device: writing $tier/converge-io-" ENOSPC
expect_in "$base/err" "/f.0 at offset " ENOSPC
empty_tier ENOSPC

# (2) Read-only tier: EROFS; a tier this user may not write: EACCES.
mount -o remount,ro "$tier"
"$TOOL" write "$tier" 1M 1M >"$base/out" 2>"$base/err"
[ $? = 1 ] || fail "EROFS: exit status"
expect_in "$base/err" "EROFS: Read-only file system: creating the scratch directory $tier/converge-io-" EROFS
mount -o remount,rw "$tier"
empty_tier EROFS
if command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$TOOL"; then
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$TOOL" write "$tier" 1M 1M >"$base/out" 2>"$base/err"
  [ $? = 1 ] || fail "EACCES: exit status"
  expect_in "$base/err" "EACCES: Permission denied: creating the scratch directory $tier/converge-io-" EACCES
  empty_tier EACCES
else
  echo "note: EACCES not checked (user nobody cannot run $TOOL)"
fi

# (3) A signal in the middle of a write phase: the tool rewrites 2 MiB in a loop; it is killed
# 0.2 s in, dies by that signal, and leaves nothing. A background job of a non-interactive
# shell starts with SIGINT ignored (and an ignored signal is left ignored): env resets it.
for sig in INT TERM; do
  env --default-signal=INT "$TOOL" write "$tier" 2M 2M loop >"$base/out" 2>"$base/err" &
  pid=$!
  for _ in $(seq 50); do grep -q writing "$base/out" && break; sleep 0.1; done
  sleep 0.2
  [ -n "$(ls -A "$tier")" ] || fail "SIG$sig: the tool was not writing yet"
  kill -s "$sig" "$pid"
  wait "$pid"
  status=$?
  want=$((128 + $(kill -l "$sig")))
  [ "$status" = "$want" ] && pass "SIG$sig: killed by SIG$sig (status $status)" \
    || fail "SIG$sig: exit status $status, wanted $want: $(cat "$base/err")"
  empty_tier "SIG$sig"
done

# (4) A link planted under the name about to be created is neither followed nor removed.
echo "precious data" >"$outside/precious"
"$TOOL" symlink "$tier" "$outside/precious" >"$base/out" 2>"$base/err"
[ $? = 0 ] || fail "symlink: $(cat "$base/out" "$base/err")"
expect_in "$base/out" "EEXIST: File exists: creating $tier/converge-io-" symlink
expect_in "$base/out" "ELOOP: Too many levels of symbolic links: opening $tier/converge-io-" symlink
[ "$(cat "$outside/precious")" = "precious data" ] && pass "symlink: the target is untouched" \
  || fail "symlink: the target changed"
# The link is not the tool's to remove: its scratch directory stays, holding only the link.
left=$(cd "$tier" && ls -A)
case "$left" in
  converge-io-*) [ "$(ls -A "$tier/$left")" = f.0 ] && [ -L "$tier/$left/f.0" ] \
      && pass "symlink: only the planted link is left, not removed" || fail "symlink: left: $(ls -lAR "$tier")"
    rm -f "$tier/$left/f.0" && rmdir "$tier/$left" ;;
  *) fail "symlink: expected the scratch directory with the link, found: $left" ;;
esac

# (5) The benchmarks' own fault paths, through the worker on the 4 MiB tier. A result line:
result_of() { /usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "result": r = e["result"]; print(r["status"] + ": " + r["reason"])' "$1"; }
if [ -n "${WORKER:-}" ] && [ -x "$WORKER" ]; then
  # Refused before writing: 2 x 4 MiB does not fit.
  "$WORKER" -b io.posix.write -p path="$tier" -p block=4MiB -p transfer=1MiB --energy none -o "$base/w1.jsonl" \
    >/dev/null 2>&1
  expect_in <(result_of "$base/w1.jsonl") "failed: setup: not enough space on $tier (tmpfs)" "worker, too big"
  empty_tier "worker, too big"
  # The tier fills up while the benchmark writes (CONVERGE_TEST_FILL_TIER=1: after the space
  # check, rank 0 fills all but 1 MiB of the tier from inside its scratch directory, as
  # another writer would): ENOSPC by name, with the file and offset, and nothing left.
  CONVERGE_TEST_FILL_TIER=1 "$WORKER" -b io.posix.write -p path="$tier" -p block=2MiB -p transfer=512KiB \
    --energy none -o "$base/w2.jsonl" >/dev/null 2>&1
  expect_in <(result_of "$base/w2.jsonl") "failed: " "worker, tier fills up"
  expect_in <(result_of "$base/w2.jsonl") "ENOSPC: No space left on device: writing $tier/converge-io-" \
    "worker, tier fills up"
  expect_in <(result_of "$base/w2.jsonl") "/f.0 at offset " "worker, tier fills up"
  empty_tier "worker, tier fills up"
  "$WORKER" --list >"$base/list.json" 2>/dev/null
  if grep -q '"io.mpiio.write"' "$base/list.json" && command -v mpirun >/dev/null; then
    # The same through MPI-IO with two ranks: ENOSPC named, from the library's error class
    # (ROMIO) or from a short write with the tier full (Open MPI's OMPIO reports no error).
    CONVERGE_TEST_FILL_TIER=1 mpirun --allow-run-as-root --oversubscribe -x CONVERGE_TEST_FILL_TIER -np 2 \
      "$WORKER" -b io.mpiio.write -p path="$tier" -p block=1MiB -p transfer=256KiB --energy none \
      -o "$base/w3.jsonl" >/dev/null 2>&1
    expect_in <(result_of "$base/w3.jsonl") "failed: " "worker, MPI-IO, tier fills up"
    expect_in <(result_of "$base/w3.jsonl") "ENOSPC: " "worker, MPI-IO, tier fills up"
    expect_in <(result_of "$base/w3.jsonl") "): writing $tier/converge-io-" "worker, MPI-IO, tier fills up"
    empty_tier "worker, MPI-IO, tier fills up"
  else
    echo "skip: MPI-IO worker check (no io.mpiio.write or no mpirun)"
  fi
else
  echo "skip: worker checks (no WORKER)"
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all io fault checks passed"
